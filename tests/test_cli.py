"""Tests of the msme-stats command line (msme_stats.cli.main)."""

from __future__ import annotations

import json

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

import msme_stats
from msme_stats import build as b
from msme_stats.cli import main


@pytest.fixture
def registry(monkeypatch):
    """A fresh package registry holding one table and one figure."""
    # import the package's output modules first: imported later, they would register their
    # outputs into this test registry (the CLI imports them before listing or building)
    b.load_output_modules()
    reg = b.Registry()

    @reg.register_output("tab_demo", kind="table", title="Demo table")
    def _tab(ctx):
        return pd.DataFrame({"size_class": ["SME", "large"], "estimate": [7.6, 14.1]})

    @reg.register_output("fig_demo", kind="figure", title="Demo figure")
    def _fig(ctx):
        import msme_stats.plots as mp

        data = pd.DataFrame({"size_class": ["SME", "large"], "estimate": [7.6, 14.1]})
        return mp.bars_by_size(data, ylabel="% of sales", source="demo").figure

    monkeypatch.setattr(b, "REGISTRY", reg)
    return reg


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"msme-stats {msme_stats.__version__}"


def test_list(registry, capsys):
    assert main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["id", "kind", "title"]
    assert lines[2].split() == ["fig_demo", "figure", "Demo", "figure"]
    assert lines[3].split() == ["tab_demo", "table", "Demo", "table"]


def test_build_all_and_only(registry, tmp_path, capsys):
    out = tmp_path / "figures"
    assert main(["build", "--out", str(out), "--quiet", "--param", "digits=2"]) == 0
    assert capsys.readouterr() == ("", "")  # --quiet: nothing on either stream
    assert sorted(p.name for p in out.iterdir()) == [
        "fig_demo.png", "fig_demo.svg", "manifest.json", "tab_demo.csv", "tab_demo.md",
        "tab_demo.tex",
    ]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["params"] == {"digits": 2}
    out2 = tmp_path / "only"
    assert main(["build", "--out", str(out2), "--only", "tab_demo"]) == 0
    captured = capsys.readouterr()
    assert "built 1 output(s), 3 file(s)" in captured.out
    assert "msme-stats build [" in captured.err  # progress bar on stderr
    assert sorted(p.name for p in out2.iterdir()) == [
        "manifest.json", "tab_demo.csv", "tab_demo.md", "tab_demo.tex",
    ]


def test_errors_are_one_clean_line(registry, tmp_path, capsys):
    assert main(["build", "--out", str(tmp_path / "o"), "--only", "nope"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("msme-stats: error: output 'nope' is not registered")
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "o").exists()

    @registry.register_output("zz_fail", kind="table", title="Fails")
    def _fail(ctx):
        raise ValueError("bad cell")

    assert main(["build", "--out", str(tmp_path / "o"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "msme-stats: error: output 'zz_fail'" in err and "bad cell" in err
    assert not (tmp_path / "o").exists()
    # --debug shows the exception itself
    with pytest.raises(msme_stats.BuildError):
        main(["--debug", "build", "--out", str(tmp_path / "o"), "--quiet"])


def test_indicators_table(capsys):
    assert main(["indicators", "--family", "es"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:2] == ["id", "family"]
    assert any(line.startswith("es_direct_export_intensity ") for line in out[2:])


def test_make_samples_writes_each_family_into_its_bundled_folder(monkeypatch, tmp_path, capsys):
    import msme_stats.samples.tec as tec
    import msme_stats.samples.wbes as wbes

    calls = []
    monkeypatch.setattr(wbes, "write_wbes_samples",
                        lambda out_dir: calls.append(("wbes", out_dir)) or [out_dir / "A.dta", out_dir / "B.dta"])
    monkeypatch.setattr(tec, "write_tec_samples",
                        lambda out_dir: calls.append(("tec", out_dir)) or {"x": out_dir / "t.csv"})
    assert main(["make-samples", "--out", str(tmp_path)]) == 0
    # the folders the build reads: data/wbes_synthetic/ and data/tec_samples/
    assert calls == [("wbes", tmp_path / "wbes_synthetic"), ("tec", tmp_path / "tec_samples")]
    out = capsys.readouterr().out
    assert "WBES samples: 2 file(s)" in out and "TEC samples: 1 file(s)" in out


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage: msme-stats" in capsys.readouterr().err


def test_build_surveys_table_applies_or_raises(tmp_path, capsys):
    """Issue 10 item 7: --surveys FILE.csv names the survey of a file whose name says nothing."""
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    data = tmp_path / "data"
    (data / "wbes").mkdir(parents=True)
    shutil.copy(root / "tests/fixtures/wbes_twins/Kenya-2018-full-data.dta", data / "wbes" / "firms_a.dta")
    shutil.copytree(root / "data/worldbank_tr5", data / "worldbank_tr5")
    ok = tmp_path / "ok.csv"
    ok.write_text("file,iso3,year\nfirms_a.dta,KEN,2018\n")
    bad = tmp_path / "bad.csv"
    bad.write_text("file,iso3,year\nfirms_a.dta,BOL,2017\n")
    out_id = "wbes_tr5_published_vs_recomputed"
    assert main(["build", "--data", str(data), "--out", str(tmp_path / "o1"), "--only", out_id,
                 "--surveys", str(ok), "--quiet"]) == 0
    table = pd.read_csv(tmp_path / "o1" / f"{out_id}.csv")
    assert table["survey_id"].tolist() == ["KEN_2018"]
    manifest = json.loads((tmp_path / "o1" / "manifest.json").read_text())
    assert manifest["params"]["wbes_surveys"].endswith("ok.csv")
    capsys.readouterr()
    assert main(["build", "--data", str(data), "--out", str(tmp_path / "o2"), "--only", out_id,
                 "--surveys", str(bad), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "BOL" in err and "KEN" in err and "firms_a.dta" in err
    assert not (tmp_path / "o2" / f"{out_id}.csv").exists()
    assert main(["build", "--data", str(data), "--out", str(tmp_path / "o3"), "--only", out_id,
                 "--surveys", str(tmp_path / "none.csv")]) == 2  # a usage error
    assert "none.csv" in capsys.readouterr().err
