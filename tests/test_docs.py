"""The documentation site builds without warnings, and every cross-document reference resolves.

* ``test_docs_build``: Sphinx (MyST) builds ``docs/`` into a temporary folder with warnings as
  errors; the API reference shows ``load_wbes`` and ``estimate``.
* ``test_references_resolve``: every tracked text file that cites "METHODS §x", "INDICATORS x",
  "DATA_SOURCES §x" (or "INDICATORS.md section x") cites a section that exists in the docs
  (``docs/methodology.md``, ``docs/indicators.md``, ``docs/data_sources.md``, anchors
  ``(methods-2-9)=`` ...), and every relative Markdown link points at a file that exists.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

#: document name used in the code -> (docs page, anchor prefix)
DOCUMENTS = {
    "METHODS": ("methodology.md", "methods"),
    "INDICATORS": ("indicators.md", "indicators"),
    "DATA_SOURCES": ("data_sources.md", "data-sources"),
}
REFERENCE = re.compile(
    r"\b(METHODS|INDICATORS|DATA_SOURCES)(?:\.md)?(?:\s*§\s*|\s+section\s+|\s+|§)(\d+(?:\.\d+)*)"
)
MD_LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def _tracked_text_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    files = []
    for name in out.decode().split("\0"):
        if not name or name.startswith("figures/"):
            continue
        if name.endswith((".py", ".md", ".csv", ".txt", ".toml", ".R", ".ipynb", ".cfg", ".yml", ".yaml")) or name == "Makefile":
            files.append(ROOT / name)
    return files


def _anchors(page: str) -> set[str]:
    text = (DOCS / page).read_text(encoding="utf-8")
    return set(re.findall(r"^\(([a-z0-9-]+)\)=\s*$", text, flags=re.M))


def _references(text: str) -> list[tuple[str, str]]:
    refs = []
    for m in REFERENCE.finditer(text):
        number = m.group(2).rstrip(".")
        refs.append((m.group(1), number))
    return refs


def test_reference_pattern_reads_the_forms_used_in_the_code():
    text = "see METHODS §2.9.2, INDICATORS 4.5. and DATA_SOURCES §6.3; ids: INDICATORS.md section 7"
    assert _references(text) == [("METHODS", "2.9.2"), ("INDICATORS", "4.5"), ("DATA_SOURCES", "6.3"),
                                 ("INDICATORS", "7")]


def test_references_resolve():
    anchors = {doc: _anchors(page) for doc, (page, _) in DOCUMENTS.items()}
    bad: list[str] = []
    n = 0
    for path in _tracked_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        for doc, number in _references(text):
            n += 1
            anchor = f"{DOCUMENTS[doc][1]}-{number.replace('.', '-')}"
            if anchor not in anchors[doc]:
                bad.append(f"{path.relative_to(ROOT)}: {doc} {number} (no anchor {anchor} in docs/{DOCUMENTS[doc][0]})")
    assert n > 100, "the scan found the code's references"
    assert not bad, "references to sections that do not exist:\n" + "\n".join(sorted(set(bad)))


def test_anchors_are_not_broken_in_the_docs_themselves():
    # a missing anchor in the docs is caught by this check, not by the build
    anchors = {page: _anchors(page) for page, _ in DOCUMENTS.values()}
    bad = []
    for page in DOCS.rglob("*.md"):
        for target in MD_LINK.findall(page.read_text(encoding="utf-8")):
            if "#" in target and not target.startswith(("http://", "https://")):
                file, frag = target.split("#", 1)
                name = Path(file).name if file else page.name
                if name in anchors and frag not in anchors[name]:
                    bad.append(f"{page.relative_to(ROOT)}: {target}")
    assert not bad, bad


def test_relative_markdown_links_exist():
    bad = []
    for path in _tracked_text_files():
        if path.suffix != ".md":
            continue
        for target in MD_LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"^[a-z][a-z0-9+.-]*:", target) or target.startswith("#"):
                continue
            file = target.split("#", 1)[0]
            if file and not (path.parent / file).exists():
                bad.append(f"{path.relative_to(ROOT)}: {target}")
    assert not bad, "relative links to files that do not exist:\n" + "\n".join(bad)


#: the developers' folder beside a clone (absent from a user's clone), written in pieces so
#: that this file does not match itself
_OUTSIDE = re.compile(r"\.\./" + "shared" + "|" + "shared" + "/domain")


def test_no_tracked_file_points_outside_the_repository_to_the_domain_notes():
    bad = [str(p.relative_to(ROOT)) for p in _tracked_text_files()
           if _OUTSIDE.search(p.read_text(encoding="utf-8", errors="replace"))]
    assert not bad, bad


def test_docs_build(tmp_path):
    sphinx_build = pytest.importorskip("sphinx.cmd.build")
    pytest.importorskip("myst_parser")
    out = tmp_path / "html"
    warnings = tmp_path / "warnings.txt"
    code = sphinx_build.build_main(["-b", "html", "-W", "--keep-going", "-q", "-E", "-w", str(warnings),
                                    "-d", str(tmp_path / "doctrees"), str(DOCS), str(out)])
    assert code == 0, warnings.read_text()
    assert warnings.read_text().strip() == ""
    api = (out / "api.html").read_text(encoding="utf-8")
    assert 'id="msme_stats.load_wbes"' in api and 'id="msme_stats.estimate"' in api
    methods = (out / "methodology.html").read_text(encoding="utf-8")
    assert 'id="methods-2-9-2"' in methods and 'id="methods-3-5"' in methods
    indicators = (out / "indicators.html").read_text(encoding="utf-8")
    import csv

    for name in ("indicators.csv", "tec_indicators.csv", "edd_codes.csv"):  # generated from the catalogue
        with (ROOT / "msme_stats" / "reference" / name).open(encoding="utf-8") as fh:
            ids = [r["id"] for r in csv.DictReader(fh)]
        missing = [i for i in ids if i not in indicators]
        assert not missing, (name, missing[:5])
    gallery = (out / "gallery.html").read_text(encoding="utf-8")
    assert gallery.count("<img") >= 10


def _api_objects() -> set[int]:
    """ids of every object the API reference page renders (autofunction, autoclass and members)."""
    import importlib

    text = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    targets = re.findall(r"^\.\. auto(?:function|class):: ([\w.]+)", text, flags=re.M)
    for cls, members in re.findall(r"^\.\. autoclass:: ([\w.]+)\n\s+:members: ([\w, ]+)", text, flags=re.M):
        targets += [f"{cls}.{m.strip()}" for m in members.split(",")]
    found: set[int] = set()
    for target in targets:
        parts = target.split(".")
        for cut in range(len(parts), 0, -1):
            try:
                obj = importlib.import_module(".".join(parts[:cut]))
            except ImportError:
                continue
            for attr in parts[cut:]:
                obj = getattr(obj, attr)
            found.add(id(obj))
            break
    return found


def test_api_reference_lists_every_public_function():
    # every function the docstring test holds to the numpydoc sections has a place on the API page
    import sys

    sys.path.insert(0, str(ROOT / "tests"))
    from test_docstrings import FUNCTIONS

    listed = _api_objects()
    missing = [key for key, func in FUNCTIONS.items() if id(func) not in listed]
    assert not missing, f"add to docs/api.md: {missing}"
