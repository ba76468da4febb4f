"""The notebooks run top to bottom on the bundled data and on a user's WBES folder, open with
findings computed from the data, and take their source lines from the data loaded."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
WBES_NOTEBOOKS = [p for p in NOTEBOOKS if "MSME_STATS_WBES_DIR" in p.read_text()]


def _code(path: Path) -> list[str]:
    nb = json.loads(path.read_text())
    return ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]


def test_notebooks_are_committed_without_outputs():
    assert len(NOTEBOOKS) >= 4
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, path.name


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_hard_coded_source_lines(path):
    for src in _code(path):
        # chart and table sources come from the data loaded (notebooks/_notes.provenance)
        assert not re.search(r"source\s*=\s*[\"']", src), (path.name, src[:200])
        for phrase in ("PARTLY SYNTHETIC specimen", "Synthetic KCS declarations", "SYNTHETIC panel"):
            assert phrase not in src, (path.name, phrase)
    first = json.loads(path.read_text())["cells"][0]
    assert first["cell_type"] == "markdown" and "**Question.**" in "".join(first["source"])


def _execute(path: Path, monkeypatch, tmp_path, wbes_dir: str | None) -> nbformat.NotebookNode:
    if wbes_dir is None:
        monkeypatch.delenv("MSME_STATS_WBES_DIR", raising=False)
    else:
        monkeypatch.setenv("MSME_STATS_WBES_DIR", wbes_dir)
    monkeypatch.setenv("MSME_STATS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors[:1]
    return nb


def _findings(nb: nbformat.NotebookNode) -> str:
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("data", {}).get("text/markdown", "")
            if "Key findings" in text:
                return text
    return ""


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_on_bundled_data(path, monkeypatch, tmp_path):
    nb = _execute(path, monkeypatch, tmp_path, None)
    findings = _findings(nb)
    assert re.search(r"\*\*\d[\d,]*(\.\d)?%?\*\*", findings), "findings rendered with computed numbers"


@pytest.mark.parametrize("path", WBES_NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes_on_a_user_wbes_folder(path, monkeypatch, tmp_path):
    # a user's folder: three surveys, no README; the findings must state the small sample
    folder = tmp_path / "my_wbes"
    folder.mkdir()
    for name in ("KEN_2013_synthetic.dta", "BOL_2017_synthetic.dta", "VNM_2015_synthetic.dta"):
        shutil.copy(ROOT / "data" / "wbes_synthetic" / name, folder / name)
    nb = _execute(path, monkeypatch, tmp_path, str(folder))
    findings = _findings(nb)
    assert "3 economies" in findings
    assert "not comparable" in findings
    assert "SYNTHETIC" in findings or "synthetic" in findings  # file names say so; the notebook reads them
