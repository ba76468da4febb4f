"""Tests of the output registry and the atomic build (msme_stats.build, msme_stats._atomic)."""

from __future__ import annotations

import hashlib
import json
import os
import sys
import threading
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd
import pytest

import msme_stats
from msme_stats import _commit as commit_mod
from msme_stats import build as b
from msme_stats._atomic import atomic_dir, atomic_write_bytes, atomic_write_text, sha256_file
from msme_stats._lock import BuildLock
from msme_stats.errors import (
    AmbiguousInputError,
    BuildError,
    BuildLockedError,
    OptionError,
    OutputClashError,
)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _snapshot(directory):
    """{relative path: bytes} of every file below a directory."""
    return {
        p.relative_to(directory).as_posix(): p.read_bytes()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture
def data_dir(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    (d / "exports.csv").write_text("size_class,estimate\nlarge,14.1\nsmall,4.2\nmedium,8.8\n")
    return d


@pytest.fixture
def registry():
    reg = b.Registry()
    calls = {"loads": 0}

    def load_csv(paths):
        calls["loads"] += 1
        return pd.read_csv(paths[0])

    reg.register_input("exports", pattern="exports.csv", loader=load_csv)

    @reg.register_output("tab_exports", kind="table", title="Exports by size", inputs=("exports",))
    def _table(ctx):
        df = ctx.load("exports")
        return df.assign(share=df["estimate"] / df["estimate"].sum() * 100,
                         scale=ctx.params.get("scale", 1))

    def _figure(ctx):
        import msme_stats.plots as mp

        return mp.bars_by_size(ctx.load("exports"), ylabel="% of sales", source="test data").figure

    reg.register_output("fig_exports", kind="figure", title="Exports figure", inputs=("exports",),
                        func=_figure)
    reg.calls = calls  # type: ignore[attr-defined]
    return reg


# --------------------------------------------------------------------------- registry
def test_registry_decorator_direct_and_duplicates(registry):
    assert [o.id for o in registry.outputs()] == ["fig_exports", "tab_exports"]
    spec = registry.output("tab_exports")
    assert (spec.kind, spec.title, spec.inputs) == ("table", "Exports by size", ("exports",))
    with pytest.raises(BuildError, match="registered twice"):
        registry.register_output("tab_exports", kind="table", title="x", func=lambda ctx: None)
    with pytest.raises(OptionError, match="kind="):
        registry.register_output("x", kind="chart", title="x", func=lambda ctx: None)
    with pytest.raises(OptionError, match="not allowed"):
        registry.register_output("bad id/..", title="x", func=lambda ctx: None)
    with pytest.raises(OptionError, match="not registered"):
        registry.output("nope")


def test_package_registry_imports_output_modules():
    outs = b.registered_outputs()
    assert isinstance(outs, list)
    assert "msme_stats.outputs.wbes" in sys.modules
    assert "msme_stats.outputs.tec" in sys.modules
    assert "msme_stats.outputs.dynamics" in sys.modules


def test_failing_output_module_makes_the_build_fail_clearly(monkeypatch):
    # a None entry in sys.modules makes `import msme_stats.outputs.tec` raise ImportError
    monkeypatch.delitem(sys.modules, "msme_stats.outputs", raising=False)
    monkeypatch.setitem(sys.modules, "msme_stats.outputs.tec", None)
    with pytest.raises(BuildError, match=r"msme_stats\.outputs\.tec failed to import"):
        b.load_output_modules()


# --------------------------------------------------------------------------- build
def test_build_writes_files_and_manifest(registry, data_dir, tmp_path):
    out = tmp_path / "figures"
    manifest = b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False,
                       params={"scale": 2})
    names = sorted(p.name for p in out.iterdir())
    assert names == ["fig_exports.png", "fig_exports.svg", "manifest.json", "tab_exports.csv",
                     "tab_exports.md", "tab_exports.tex"]
    on_disk = json.loads((out / "manifest.json").read_text())
    assert on_disk == json.loads(json.dumps(dict(manifest.data)))
    assert on_disk["package"] == {"name": "msme_stats", "version": msme_stats.__version__}
    assert on_disk["python"].count(".") == 2
    assert on_disk["libraries"]["matplotlib"] == matplotlib.__version__
    assert on_disk["libraries"]["pandas"] == pd.__version__
    assert on_disk["params"] == {"scale": 2}
    assert on_disk["inputs"] == [{"name": "exports", "folder": ".", "files": [
        {"path": "exports.csv", "sha256": _sha(data_dir / "exports.csv"),
         "bytes": (data_dir / "exports.csv").stat().st_size}]}]
    by_id = {o["id"]: o for o in on_disk["outputs"]}
    assert by_id["tab_exports"]["kind"] == "table"
    assert by_id["tab_exports"]["title"] == "Exports by size"
    for entry in on_disk["outputs"]:
        for f in entry["files"]:
            assert f["sha256"] == _sha(out / f["name"])
    # the input was loaded once although two outputs use it
    assert registry.calls["loads"] == 1
    # table content: shares 14.1/27.1*100 = 52.03, 4.2/27.1*100 = 15.50, 8.8/27.1*100 = 32.47
    table = pd.read_csv(out / "tab_exports.csv")
    assert table["share"].round(2).tolist() == [52.03, 15.5, 32.47]
    assert table["scale"].tolist() == [2, 2, 2]
    md = (out / "tab_exports.md").read_text()
    assert md.splitlines()[:3] == ["**Exports by size**", "", "| size_class | estimate | share | scale |"]
    assert "| large | 14.10 | 52.03 | 2 |" in md
    tex = (out / "tab_exports.tex").read_text()
    assert "size\\_class & estimate & share & scale \\\\" in tex
    assert (out / "fig_exports.png").read_bytes()[:4] == b"\x89PNG"
    svg = (out / "fig_exports.svg").read_text()
    assert "<dc:date>" not in svg
    # no temporary directory left next to out_dir
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "figures"]


def test_same_inputs_give_byte_identical_outputs(registry, data_dir, tmp_path):
    m1 = b.build(data_dir=data_dir, out_dir=tmp_path / "a", registry=registry, progress=False)
    m2 = b.build(data_dir=data_dir, out_dir=tmp_path / "b", registry=registry, progress=False)
    d1, d2 = b.digest_dir(tmp_path / "a"), b.digest_dir(tmp_path / "b")
    assert set(d1) == {"fig_exports.png", "fig_exports.svg", "manifest.json", "tab_exports.csv",
                       "tab_exports.md", "tab_exports.tex"}
    assert d1 == d2  # every file, tables and figures, byte for byte
    assert m1.data == m2.data


def test_failed_build_leaves_out_dir_untouched(registry, data_dir, tmp_path):
    out = tmp_path / "figures"
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    (out / "keep.txt").write_text("not ours\n")
    before = _snapshot(out)

    @registry.register_output("zz_broken", kind="table", title="Broken")
    def _broken(ctx):
        raise ZeroDivisionError("boom")

    with pytest.raises(BuildError, match=r"'zz_broken'.*ZeroDivisionError: boom"):
        b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "figures"]


def test_keyboard_interrupt_during_outputs_leaves_out_dir_untouched(registry, data_dir, tmp_path):
    out = tmp_path / "figures"
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    before = _snapshot(out)

    @registry.register_output("zz_interrupt", kind="table", title="Interrupted")
    def _interrupt(ctx):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "figures"]


@pytest.mark.parametrize("fail_at", [1, 2, 4, 6])
def test_interrupt_while_moving_files_rolls_back(registry, data_dir, tmp_path, monkeypatch, fail_at):
    out = tmp_path / "figures"
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    (out / "keep.txt").write_text("mine\n")
    (data_dir / "exports.csv").write_text("size_class,estimate\nlarge,20.0\nsmall,1.0\n")
    before = _snapshot(out)
    real_replace = os.replace
    calls = {"n": 0}

    def flaky_replace(src, dst):
        if str(dst).startswith(str(out)) and str(src).startswith(str(tmp_path / ".figures.msme-build" / "new")):
            calls["n"] += 1
            if calls["n"] == fail_at:
                raise KeyboardInterrupt
        return real_replace(src, dst)

    # the commit makes 6 renames (5 output files, then manifest.json)
    monkeypatch.setattr(commit_mod.os, "replace", flaky_replace)
    with pytest.raises(KeyboardInterrupt):
        b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    monkeypatch.setattr(commit_mod.os, "replace", real_replace)
    assert calls["n"] == fail_at  # the interruption happened inside the commit
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "figures"]


def test_stale_files_of_an_id_are_replaced_others_kept(registry, data_dir, tmp_path):
    out = tmp_path / "figures"
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    (out / "other.csv").write_text("someone else's\n")
    # tab_exports becomes a figure: its table files (listed in the manifest) go, the
    # user's file stays
    reg = b.Registry()
    reg.register_output("tab_exports", kind="figure", title="now a figure",
                        func=lambda ctx: plt.subplots()[0])
    m = b.build(data_dir=data_dir, out_dir=out, registry=reg, progress=False)
    assert sorted(p.name for p in out.iterdir()) == [
        "fig_exports.png", "fig_exports.svg", "manifest.json", "other.csv", "tab_exports.png",
        "tab_exports.svg"]
    assert (out / "other.csv").read_text() == "someone else's\n"
    assert sorted(f.name for f in m.files()) == sorted(
        p.name for p in out.iterdir() if p.name not in ("manifest.json", "other.csv"))


def test_only_builds_selected_ids_and_keeps_manifest_entries(registry, data_dir, tmp_path):
    out = tmp_path / "figures"
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    png_before = (out / "fig_exports.png").read_bytes()
    (data_dir / "exports.csv").write_text("size_class,estimate\nlarge,20.0\nsmall,1.0\n")
    manifest = b.build(data_dir=data_dir, out_dir=out, only=["tab_exports"], registry=registry,
                       progress=False)
    assert manifest.built == ["tab_exports"]
    assert (out / "fig_exports.png").read_bytes() == png_before
    assert pd.read_csv(out / "tab_exports.csv")["estimate"].tolist() == [20.0, 1.0]
    ids = [o["id"] for o in manifest.outputs]
    assert ids == ["fig_exports", "tab_exports"]  # the figure's entry is kept
    for f in manifest.files():
        assert f.exists()
    with pytest.raises(OptionError, match="not registered"):
        b.build(data_dir=data_dir, out_dir=out, only=["nope"], registry=registry, progress=False)


def test_missing_input_fails_before_anything_runs(registry, tmp_path, monkeypatch):
    # without data_dir the build reads $MSME_STATS_DATA_DIR, else the bundled data/ folder;
    # point the variable at a folder that does not exist so that neither is available
    monkeypatch.setenv("MSME_STATS_DATA_DIR", str(tmp_path / "nowhere"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(BuildError, match="no file matches"):
        b.build(data_dir=empty, out_dir=tmp_path / "figures", registry=registry, progress=False)
    assert not (tmp_path / "figures").exists()
    with pytest.raises(BuildError, match="needs a data directory"):
        b.build(out_dir=tmp_path / "figures", registry=registry, progress=False)


def test_wrong_return_type_and_undeclared_input(data_dir, tmp_path):
    reg = b.Registry()
    reg.register_input("exports", pattern="exports.csv", loader=lambda p: pd.read_csv(p[0]))
    reg.register_output("fig_wrong", kind="figure", title="x", func=lambda ctx: pd.DataFrame())
    with pytest.raises(BuildError, match="returned DataFrame"):
        b.build(data_dir=data_dir, out_dir=tmp_path / "o", registry=reg, progress=False)
    reg.unregister("fig_wrong")
    reg.register_output("tab_sneaky", kind="table", title="x", func=lambda ctx: ctx.load("exports"))
    with pytest.raises(BuildError, match="without declaring it"):
        b.build(data_dir=data_dir, out_dir=tmp_path / "o", registry=reg, progress=False)


def test_params_must_be_json(registry, data_dir, tmp_path):
    with pytest.raises(OptionError, match="JSON"):
        b.build(data_dir=data_dir, out_dir=tmp_path / "o", registry=registry, progress=False,
                params={"x": object()})


def test_progress_bar_on_stderr(registry, data_dir, tmp_path, capsys):
    b.build(data_dir=data_dir, out_dir=tmp_path / "o", registry=registry, progress=True)
    err = capsys.readouterr().err
    assert "msme-stats build [" in err and "fig_exports" in err and "2 output(s) written" in err
    b.build(data_dir=data_dir, out_dir=tmp_path / "o", registry=registry, progress=False)
    assert capsys.readouterr().err == ""


def test_figures_are_closed_after_build(registry, data_dir, tmp_path):
    plt.close("all")
    b.build(data_dir=data_dir, out_dir=tmp_path / "o", registry=registry, progress=False)
    assert plt.get_fignums() == []


# --------------------------------------------------------------------------- _atomic
def test_atomic_writes(tmp_path):
    p = tmp_path / "a.txt"
    atomic_write_text(p, "x\r\ny\n")
    assert p.read_bytes() == b"x\r\ny\n"  # no newline translation
    atomic_write_bytes(p, b"new")
    assert p.read_bytes() == b"new"
    assert sha256_file(p) == hashlib.sha256(b"new").hexdigest()
    assert [q.name for q in tmp_path.iterdir()] == ["a.txt"]


def test_atomic_dir_success_and_failure(tmp_path):
    target = tmp_path / "tables"
    target.mkdir()
    (target / "old.csv").write_text("old\n")
    with pytest.raises(RuntimeError), atomic_dir(target) as tmp:
        (tmp / "new.csv").write_text("new\n")
        raise RuntimeError("fail")
    assert [p.name for p in target.iterdir()] == ["old.csv"]
    with atomic_dir(target) as tmp:
        (tmp / "new.csv").write_text("new\n")
    assert [p.name for p in target.iterdir()] == ["new.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tables"]
    with pytest.raises(FileExistsError), atomic_dir(target, replace=False) as tmp:
        pass
    assert [p.name for p in target.iterdir()] == ["new.csv"]


# --------------------------------------------------------------------------- ownership
def test_a_users_folder_named_like_an_output_is_an_error_and_kept(registry, data_dir, tmp_path):
    out = tmp_path / "o"
    (out / "tab_exports.png").mkdir(parents=True)  # not even an extension the table writes
    (out / "tab_exports.csv").mkdir()
    (out / "tab_exports.csv" / "notes.txt").write_text("x\n")
    before = _snapshot(out)
    with pytest.raises(OutputClashError, match=r"tab_exports\.csv is a folder"):
        b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    assert _snapshot(out) == before
    assert (out / "tab_exports.csv" / "notes.txt").read_text() == "x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "o"]


def test_only_files_of_the_previous_manifest_are_replaced(registry, data_dir, tmp_path):
    out = tmp_path / "o"
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    # a file the manifest does not list, named like an output of another kind
    (out / "tab_exports.png").write_bytes(b"the user's picture")
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    assert (out / "tab_exports.png").read_bytes() == b"the user's picture"
    # once the manifest is gone, the build owns nothing: its own old files are clashes
    (out / "manifest.json").unlink()
    with pytest.raises(OutputClashError, match="fig_exports.png"):
        b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)


def test_second_build_is_kept_out_by_the_lock(registry, data_dir, tmp_path):
    out = tmp_path / "o"
    lock = BuildLock(tmp_path / ".o.msme-build.lock")
    lock.acquire()
    try:
        with pytest.raises(BuildLockedError, match=rf"locked by process {os.getpid()}.*--wait"):
            b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
        with pytest.raises(BuildLockedError, match="after waiting 0.2 s"):
            b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False,
                    lock_timeout=0.2)
        threading.Timer(0.3, lock.release).start()  # the other build ends: this one goes on
        b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False, lock_timeout=20)
    finally:
        lock.release()
    assert (out / "manifest.json").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "o"]


def _crash_in_commit(monkeypatch, after_renames):
    """Make the next commit stop dead after ``after_renames`` renames, as SIGKILL would."""
    real_replace = os.replace
    state = {"n": 0}

    class Killed(BaseException):
        pass

    def replace(src, dst):
        if "/new/" in str(src) and "/new/" not in str(dst):  # a rename of the commit
            if state["n"] == after_renames:
                raise Killed
            state["n"] += 1
        return real_replace(src, dst)

    monkeypatch.setattr(commit_mod.os, "replace", replace)
    monkeypatch.setattr(commit_mod, "_roll_back", lambda *a: None)  # a dead process undoes nothing
    return Killed


@pytest.mark.parametrize("damage", [False, True])
def test_recovery_rolls_forward_or_back(registry, data_dir, tmp_path, monkeypatch, damage):
    out = tmp_path / "o"
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    old = _snapshot(out)
    (data_dir / "exports.csv").write_text("size_class,estimate\nlarge,20.0\nsmall,1.0\n")
    clean = tmp_path / "clean"
    b.build(data_dir=data_dir, out_dir=clean, registry=registry, progress=False)
    new = _snapshot(clean)
    killed = _crash_in_commit(monkeypatch, after_renames=2)
    with pytest.raises(killed):
        b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    monkeypatch.undo()
    work = tmp_path / ".o.msme-build"
    assert (work / "journal.json").exists()
    assert _snapshot(out) not in (old, new)  # mixed: 2 of 6 files are new
    if damage:  # a staged file is lost: the commit cannot go forward, so it goes back
        next(p for p in (work / "new").iterdir() if p.name != "manifest.json").unlink()
    assert b.recover(out) == ("back" if damage else "forward")
    assert _snapshot(out) == (old if damage else new)
    assert not work.exists() and sorted(p.name for p in tmp_path.iterdir()) == ["clean", "data", "o"]
    assert b.recover(out) is None


def test_next_build_recovers_then_builds(registry, data_dir, tmp_path, monkeypatch):
    out = tmp_path / "o"
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    killed = _crash_in_commit(monkeypatch, after_renames=1)
    with pytest.raises(killed):
        b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False, params={"scale": 3})
    monkeypatch.undo()
    m = b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    assert m.recovered == "forward"
    clean = b.build(data_dir=data_dir, out_dir=tmp_path / "clean", registry=registry, progress=False)
    assert b.digest_dir(out) == b.digest_dir(tmp_path / "clean") and m.data == clean.data


def test_work_folder_of_a_build_killed_before_its_commit_is_removed(registry, data_dir, tmp_path):
    out = tmp_path / "o"
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    work = tmp_path / ".o.msme-build"
    (work / "new").mkdir(parents=True)
    (work / "MSME_STATS_BUILD").write_text("")
    (work / "new" / "tab_exports.csv").write_text("half written")
    before = _snapshot(out)
    assert b.recover(out) == "removed"
    assert not work.exists() and _snapshot(out) == before


# --------------------------------------------------------------------------- inputs
def test_input_reads_one_named_folder(tmp_path):
    reg = b.Registry()
    reg.register_input("firms", pattern="firms/*.csv", alternatives=("firms_synthetic/*.csv",),
                       loader=lambda paths: pd.concat([pd.read_csv(p) for p in paths]))
    reg.register_output("tab", kind="table", title="t", inputs=("firms",),
                        func=lambda ctx: ctx.load("firms"))
    d = tmp_path / "data"
    (d / "firms_synthetic").mkdir(parents=True)
    (d / "firms_synthetic" / "s.csv").write_text("x\n1\n")
    m = b.build(data_dir=d, out_dir=tmp_path / "o", registry=reg, progress=False)
    assert m["inputs"][0]["folder"] == "firms_synthetic"
    assert [f["path"] for f in m["inputs"][0]["files"]] == ["firms_synthetic/s.csv"]
    (d / "firms").mkdir()
    (d / "firms" / "a.csv").write_text("x\n2\n")
    (d / "firms" / "b.csv").write_text("x\n3\n")
    with pytest.raises(AmbiguousInputError, match=r"firms and .*firms_synthetic both exist"):
        b.build(data_dir=d, out_dir=tmp_path / "o", registry=reg, progress=False)
    (d / "firms_synthetic" / "s.csv").unlink()
    (d / "firms_synthetic").rmdir()
    m = b.build(data_dir=d, out_dir=tmp_path / "o", registry=reg, progress=False)
    assert m["inputs"][0]["folder"] == "firms"
    assert [f["path"] for f in m["inputs"][0]["files"]] == ["firms/a.csv", "firms/b.csv"]
    assert pd.read_csv(tmp_path / "o" / "tab.csv")["x"].tolist() == [2, 3]
    with pytest.raises(OptionError, match="one named folder"):
        reg.register_input("pooled", pattern="wbes*/*.dta")


def test_wbes_input_never_pools_user_files_with_the_samples(tmp_path):
    d = tmp_path / "data"
    (d / "wbes").mkdir(parents=True)
    (d / "wbes_synthetic").mkdir()
    (d / "wbes" / "KEN_2013.dta").write_bytes(b"user's")
    (d / "wbes_synthetic" / "KEN_2013_synthetic.dta").write_bytes(b"sample")
    with pytest.raises(AmbiguousInputError, match=r"data/wbes and .*data/wbes_synthetic both"):
        b.build(data_dir=d, out_dir=tmp_path / "o", only=["wbes_headline_sme_vs_large"],
                progress=False)
    assert not (tmp_path / "o").exists()


# --------------------------------------------------------------------------- data report
def test_recodes_and_exclusions_go_to_the_manifest_and_summary(data_dir, tmp_path):
    from msme_stats.errors import ExclusionWarning, RecodeWarning

    def load(paths):
        df = pd.read_csv(paths[0])
        warnings.warn("load: negative codes set to missing: estimate 2", RecodeWarning, stacklevel=1)
        df.attrs["recodes"] = ({"file": "x", "variable": "estimate", "code": -9, "n": 2},
                               {"file": "y", "variable": "estimate", "code": -7, "n": 1})
        return df

    def table(ctx):
        warnings.warn("1 row(s) with a zero weight were left out", ExclusionWarning, stacklevel=1)
        return ctx.load("exports")

    reg = b.Registry()
    reg.register_input("exports", pattern="exports.csv", loader=load)
    reg.register_output("tab", kind="table", title="t", inputs=("exports",), func=table)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing escapes as a warning: all is recorded
        m = b.build(data_dir=data_dir, out_dir=tmp_path / "o", registry=reg, progress=False)
    rep = json.loads((tmp_path / "o" / "manifest.json").read_text())["report"]
    assert rep["inputs"]["exports"]["recodes"]["cells"] == 3
    assert rep["inputs"]["exports"]["recodes"]["by_variable"] == {"estimate": 3}
    assert rep["inputs"]["exports"]["warnings"][0]["category"] == "RecodeWarning"
    assert rep["outputs"]["tab"]["warnings"] == [
        {"category": "ExclusionWarning", "message": "1 row(s) with a zero weight were left out"}]
    lines = b.report_summary(m)
    assert "input exports: 3 cell(s) set to missing in 1 variable(s)" in lines[1]
    assert "output tab: 1 row(s) with a zero weight were left out" in lines[2]
    # a second build gives the same manifest, byte for byte
    first = (tmp_path / "o" / "manifest.json").read_bytes()
    b.build(data_dir=data_dir, out_dir=tmp_path / "o", registry=reg, progress=False)
    assert (tmp_path / "o" / "manifest.json").read_bytes() == first


def test_cli_prints_the_summary_unless_quiet(data_dir, tmp_path, monkeypatch, capsys):
    from msme_stats.cli import main
    from msme_stats.errors import RecodeWarning

    def load(paths):
        warnings.warn("5 cells recoded", RecodeWarning, stacklevel=1)
        return pd.read_csv(paths[0])

    b.load_output_modules()
    reg = b.Registry()
    reg.register_input("exports", pattern="exports.csv", loader=load)
    reg.register_output("tab", kind="table", title="t", inputs=("exports",),
                        func=lambda ctx: ctx.load("exports"))
    monkeypatch.setattr(b, "REGISTRY", reg)
    assert main(["build", "--data", str(data_dir), "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "input exports: 5 cells recoded" in err and "manifest.json" in err
    assert main(["build", "--data", str(data_dir), "--out", str(tmp_path / "o"), "--quiet"]) == 0
    assert capsys.readouterr() == ("", "")
    rep = json.loads((tmp_path / "o" / "manifest.json").read_text())["report"]
    assert rep["inputs"]["exports"]["warnings"][0]["message"] == "5 cells recoded"


def test_sigterm_while_computing_outputs_leaves_the_folder_and_exits_143(
        registry, data_dir, tmp_path, monkeypatch, capsys):
    import signal

    from msme_stats._commit import BuildInterrupted
    from msme_stats.cli import main

    out = tmp_path / "o"
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    before = _snapshot(out)

    @registry.register_output("zz_term", kind="table", title="SIGTERM")
    def _term(ctx):
        os.kill(os.getpid(), signal.SIGTERM)
        return pd.DataFrame({"x": [1]})

    previous = signal.getsignal(signal.SIGTERM)
    with pytest.raises(BuildInterrupted) as exc:
        b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    assert exc.value.signum == signal.SIGTERM and not exc.value.completed
    assert signal.getsignal(signal.SIGTERM) == previous  # the handler is restored
    assert _snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "o"]
    b.load_output_modules()
    monkeypatch.setattr(b, "REGISTRY", registry)
    assert main(["build", "--data", str(data_dir), "--out", str(out), "--quiet"]) == 143
    assert capsys.readouterr().err == (
        "msme-stats: interrupted (SIGTERM); the output folder was left as it was\n")
    assert _snapshot(out) == before


def test_cli_recover_reports_what_it_did(registry, data_dir, tmp_path, monkeypatch, capsys):
    from msme_stats.cli import main

    out = tmp_path / "o"
    b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False)
    killed = _crash_in_commit(monkeypatch, after_renames=3)
    with pytest.raises(killed):
        b.build(data_dir=data_dir, out_dir=out, registry=registry, progress=False, params={"scale": 5})
    monkeypatch.undo()
    assert main(["build", "--recover", "--out", str(out)]) == 0
    assert "completed the interrupted commit" in capsys.readouterr().out
    assert json.loads((out / "manifest.json").read_text())["params"] == {"scale": 5}
    assert main(["build", "--recover", "--out", str(out)]) == 0
    assert "nothing to recover" in capsys.readouterr().out


def test_loader_errors_name_the_input_and_its_file(data_dir, tmp_path):
    from msme_stats.errors import InputLoadError, MissingColumnsError

    (data_dir / "parts").mkdir()
    for name in ("a.csv", "b.csv", "c.csv"):
        (data_dir / "parts" / name).write_text("x\n1\n")
    (data_dir / "parts" / "b.csv").write_bytes(b"\x00\x01 not a csv")

    def strict(paths):  # fails on a file, without saying which (as a reader's bug would)
        for p in paths:
            if p.read_bytes().startswith(b"\x00"):
                raise ValueError("unexpected byte 0x00")
        return pd.DataFrame({"x": [1]})

    def pooled_check(paths):  # a deliberate error about the pooled data, naming no file
        raise MissingColumnsError("the pooled data has no column 'weight'; add it")

    for loader, pattern in ((strict, r"input 'parts': cannot read .*parts/b\.csv \(ValueError: "
                                     r"unexpected byte 0x00\)"),
                            (pooled_check, r"input 'parts' \(3 file\(s\) in .*parts\): the pooled "
                                           r"data has no column 'weight'")):
        reg = b.Registry()
        reg.register_input("parts", pattern="parts/*.csv", loader=loader)
        reg.register_output("tab", kind="table", title="t", inputs=("parts",),
                            func=lambda ctx: ctx.load("parts"))
        with pytest.raises(InputLoadError, match=pattern):
            b.build(data_dir=data_dir, out_dir=tmp_path / "o", registry=reg, progress=False)
        assert not (tmp_path / "o").exists()
