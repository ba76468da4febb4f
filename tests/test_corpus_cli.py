"""A corpus of bad inputs for ``msme-stats build``: typed error, one line naming the culprit,
exit status (1 for failures, 2 for usage errors), and nothing of the user's touched."""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd
import pytest

import msme_stats.errors as E
from msme_stats import build as b
from msme_stats._lock import BuildLock
from msme_stats.cli import main

REPO = Path(__file__).resolve().parents[1]
WBES_SAMPLES = REPO / "data" / "wbes_synthetic"


@pytest.fixture
def registry(monkeypatch):
    b.load_output_modules()  # imported later, they would register into this registry
    reg = b.Registry()

    def load_exports(paths):
        return pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)

    def load_wbes(paths):
        from msme_stats.sources.wbes import load_wbes as lw

        return lw(paths, cache=False)

    reg.register_input("exports", pattern="exports/*.csv", alternatives=("exports_synthetic/*.csv",),
                       loader=load_exports)
    reg.register_input("wbes", pattern="wbes/*.dta", loader=load_wbes)
    reg.register_output("tab_exports", kind="table", title="Exports", inputs=("exports",),
                        func=lambda ctx: ctx.load("exports"))
    reg.register_output("tab_wbes", kind="table", title="WBES firms", inputs=("wbes",),
                        func=lambda ctx: pd.DataFrame({"n": [len(ctx.load("wbes"))]}))

    @reg.register_output("tab_fails", kind="table", title="Fails")
    def _fails(ctx):
        raise ZeroDivisionError("no firms in the denominator")

    monkeypatch.setattr(b, "REGISTRY", reg)
    return reg


def _data(tmp: Path) -> Path:
    d = tmp / "data"
    (d / "exports").mkdir(parents=True)
    (d / "exports" / "a.csv").write_text("size_class,estimate\nSME,7.6\nlarge,14.1\n")
    return d


def _wbes(tmp: Path, extra: Callable[[Path], Path]) -> tuple[Path, Path]:
    d = _data(tmp)
    (d / "wbes").mkdir()
    shutil.copy(WBES_SAMPLES / "KEN_2013_synthetic.dta", d / "wbes" / "KEN_2013.dta")
    return d, extra(d / "wbes")


def _truncated(folder: Path) -> Path:
    p = folder / "GHA_2013.dta"
    p.write_bytes((WBES_SAMPLES / "GHA_2013_synthetic.dta").read_bytes()[:5000])
    return p


def _truncated_header(folder: Path) -> Path:
    p = folder / "GHA_2013.dta"
    p.write_bytes((WBES_SAMPLES / "GHA_2013_synthetic.dta").read_bytes()[:100])
    return p


def _text_as_dta(folder: Path) -> Path:
    p = folder / "AAA_notes.dta"
    p.write_text("these are my notes, not a Stata file\n")
    return p


def _build(d: Path, out: Path, *ids: str) -> list[str]:
    return ["build", "--data", str(d), "--out", str(out), "--quiet", "--only", *(ids or ["tab_exports"])]


@dataclass
class Case:
    id: str
    setup: Callable[[Path], tuple[list[str], str]]  # tmp -> (argv, text naming the culprit)
    error: type[BaseException]
    status: int = 1


def _out_is_file(t):
    (t / "o").write_text("my file\n")
    return _build(_data(t), t / "o"), str(t / "o")


def _out_parent_is_file(t):
    (t / "f").write_text("my file\n")
    return _build(_data(t), t / "f" / "o"), str(t / "f")


def _symlink_loop(t):
    os.symlink(t / "loop", t / "loop")
    return _build(_data(t), t / "loop"), str(t / "loop")


def _dangling(t):
    os.symlink(t / "nowhere", t / "o")
    return _build(_data(t), t / "o"), str(t / "nowhere")


def _dir_named_like_output(t):
    (t / "o" / "tab_exports.csv").mkdir(parents=True)
    (t / "o" / "tab_exports.csv" / "notes.txt").write_text("mine\n")
    return _build(_data(t), t / "o"), str(t / "o" / "tab_exports.csv")


def _file_named_like_output(t):
    (t / "o").mkdir()
    (t / "o" / "tab_exports.md").write_text("my own table\n")
    return _build(_data(t), t / "o"), str(t / "o" / "tab_exports.md")


def _symlink_named_like_output(t):
    d = _data(t)
    main(_build(d, t / "o"))
    (t / "o" / "tab_exports.tex").unlink()
    (t / "target.tex").write_text("mine\n")
    os.symlink(t / "target.tex", t / "o" / "tab_exports.tex")
    return _build(d, t / "o"), str(t / "o" / "tab_exports.tex")


def _foreign_manifest(t):
    (t / "o").mkdir()
    (t / "o" / "manifest.json").write_text('{"my": "project manifest"}\n')
    return _build(_data(t), t / "o"), str(t / "o" / "manifest.json")


def _manifest_is_dir(t):
    (t / "o" / "manifest.json").mkdir(parents=True)
    return _build(_data(t), t / "o"), str(t / "o" / "manifest.json")


def _work_dir_taken(t):
    (t / ".o.msme-build").mkdir()
    (t / ".o.msme-build" / "mine.txt").write_text("mine\n")
    return _build(_data(t), t / "o"), str(t / ".o.msme-build")


def _damaged_journal(t):
    w = t / ".o.msme-build"
    w.mkdir()
    (w / "MSME_STATS_BUILD").write_text("")
    (w / "journal.json").write_text("{not json")
    return _build(_data(t), t / "o"), str(w / "journal.json")


def _ambiguous(t):
    d = _data(t)
    (d / "exports_synthetic").mkdir()
    (d / "exports_synthetic" / "s.csv").write_text("size_class,estimate\nSME,1\n")
    return _build(d, t / "o"), "exports_synthetic"


def _no_data_dir(t):
    return _build(t / "missing", t / "o"), str(t / "missing")


def _data_dir_is_file(t):
    (t / "data.csv").write_text("x\n")
    return _build(t / "data.csv", t / "o"), str(t / "data.csv")


def _no_input_files(t):
    d = t / "data"
    (d / "exports").mkdir(parents=True)
    return _build(d, t / "o"), str(d / "exports")


def _empty_csv_among_several(t):
    d = _data(t)
    (d / "exports" / "b.csv").write_text("")
    (d / "exports" / "c.csv").write_text("size_class,estimate\nSME,1\n")
    return _build(d, t / "o"), str(d / "exports" / "b.csv")


def _truncated_dta(t):
    d, culprit = _wbes(t, _truncated)
    return _build(d, t / "o", "tab_wbes"), str(culprit)


def _truncated_dta_header(t):
    d, culprit = _wbes(t, _truncated_header)
    return _build(d, t / "o", "tab_wbes"), str(culprit)


def _text_dta(t):
    d, culprit = _wbes(t, _text_as_dta)
    return _build(d, t / "o", "tab_wbes"), str(culprit)


def _locked(t):
    lock = BuildLock(t / ".o.msme-build.lock")
    lock.acquire()
    t.joinpath("held").write_text("")  # keep a reference for the test's duration
    _HELD.append(lock)
    return _build(_data(t), t / "o"), f"process {os.getpid()}"


_HELD: list[BuildLock] = []


def _output_fails(t):
    return _build(_data(t), t / "o", "tab_fails"), "'tab_fails'"


CASES = [
    Case("out-is-a-file", _out_is_file, E.OutputDirError),
    Case("out-under-a-file", _out_parent_is_file, E.OutputDirError),
    Case("out-under-proc", lambda t: (_build(_data(t), Path("/proc/msme_stats_test/o")),
                                      "/proc/msme_stats_test"), E.OutputDirError),
    Case("out-name-too-long", lambda t: (_build(_data(t), t / ("o" * 300)), "o" * 300),
         E.OutputDirError),
    Case("out-symlink-loop", _symlink_loop, E.OutputDirError),
    Case("out-dangling-symlink", _dangling, E.OutputDirError),
    Case("folder-named-like-output", _dir_named_like_output, E.OutputClashError),
    Case("user-file-named-like-output", _file_named_like_output, E.OutputClashError),
    Case("symlink-named-like-output", _symlink_named_like_output, E.OutputClashError),
    Case("foreign-manifest", _foreign_manifest, E.OutputClashError),
    Case("manifest-is-a-folder", _manifest_is_dir, E.OutputClashError),
    Case("work-folder-name-taken", _work_dir_taken, E.OutputClashError),
    Case("damaged-journal", _damaged_journal, E.RecoveryError),
    Case("ambiguous-input-folders", _ambiguous, E.AmbiguousInputError),
    Case("data-dir-missing", _no_data_dir, E.BuildError),
    Case("data-dir-is-a-file", _data_dir_is_file, E.BuildError),
    Case("no-input-files", _no_input_files, E.BuildError),
    Case("empty-csv-among-several", _empty_csv_among_several, E.InputLoadError),
    Case("truncated-dta", _truncated_dta, E.InputLoadError),
    Case("truncated-dta-header", _truncated_dta_header, E.InputLoadError),
    Case("text-file-named-dta", _text_dta, E.InputLoadError),
    Case("locked-by-another-build", _locked, E.BuildLockedError),
    Case("output-function-fails", _output_fails, E.BuildError),
    Case("unknown-output-id", lambda t: (_build(_data(t), t / "o", "nope"), "'nope'"),
         E.OptionError, 2),
    Case("param-without-value", lambda t: ([*_build(_data(t), t / "o"), "--param", "digits"],
                                           "'digits'"), E.OptionError, 2),
    Case("negative-wait", lambda t: ([*_build(_data(t), t / "o"), "--wait", "-1"], "--wait -1"),
         E.OptionError, 2),
    Case("recover-with-only", lambda t: (["build", "--recover", "--out", str(t / "o"), "--only",
                                          "tab_exports"], "--recover"), E.OptionError, 2),
    Case("unknown-option", lambda t: (["build", "--colour", "red"], "--colour"), SystemExit, 2),
]


def _tree(tmp: Path) -> dict[str, str]:
    out = {}
    for root, dirs, files in os.walk(tmp, followlinks=False):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(root, d))]:
            p = Path(root) / name
            rel = p.relative_to(tmp).as_posix()
            if p.is_symlink():
                out[rel] = "-> " + os.readlink(p)
            else:
                out[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
        for d in dirs:
            out.setdefault(Path(root, d).relative_to(tmp).as_posix() + "/", "dir")
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case, registry, tmp_path, capsys):
    argv, culprit = case.setup(tmp_path)
    capsys.readouterr()
    before = _tree(tmp_path)
    try:
        if case.error is SystemExit:
            with pytest.raises(SystemExit) as exc:
                main(argv)
            status = exc.value.code
        else:
            status = main(argv)
        err = capsys.readouterr().err
        assert status == case.status, err
        lines = err.splitlines()
        assert len(lines) == 1 or case.error is SystemExit, err  # argparse adds its usage line
        assert culprit in err, err
        assert "Traceback" not in err
        assert _tree(tmp_path) == before  # nothing of the user's touched, nothing left over
        # --debug: the typed error itself (with its traceback)
        if case.error is not SystemExit:
            with pytest.raises(case.error):
                main(["--debug", *argv])
    finally:
        while _HELD:
            _HELD.pop().release()


def test_corpus_has_at_least_20_cases():
    assert len(CASES) >= 20
