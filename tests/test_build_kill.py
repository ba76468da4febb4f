"""Kill test of the build's commit: SIGINT, SIGTERM and SIGKILL at the first rename.

A build runs in a child process with the test hook ``MSME_STATS_TEST_PAUSE_AT_FIRST_RENAME``
(:mod:`msme_stats._commit`): right after the first rename of its commit it writes a ready
file and waits. A second child process (the watcher) polls the ready file and the output
folder; once exactly one file of the folder has changed (the first rename happened), it
sends the signal. Then:

* SIGINT / SIGTERM: the build undoes the rename and exits 130 / 143; the folder must be
  all-old at once, with no work folder or lock file left;
* SIGKILL: the folder is mixed until the next ``msme-stats build --recover`` (or the next
  build), which must leave it all-old or all-new, consistent with its manifest;

and in every case the next build must leave the folder byte-identical to a clean build
into an empty folder, with a matching manifest and nothing else left over.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

REPO = Path(__file__).resolve().parents[1]
HOOK = "MSME_STATS_TEST_PAUSE_AT_FIRST_RENAME"

#: a registry of tiny outputs whose content depends on --param v=...
RUNNER = textwrap.dedent('''
    import sys
    import types
    import matplotlib
    matplotlib.use("Agg")
    import pandas as pd
    from msme_stats import build as b
    from msme_stats.cli import main

    # the package's outputs are not needed: stand in for them (imports in seconds less)
    sys.modules["msme_stats.outputs"] = types.ModuleType("msme_stats.outputs")
    reg = b.Registry()
    for i in range(4):
        reg.register_output(
            f"tab_{i}", kind="table", title=f"table {i}",
            func=lambda ctx, i=i: pd.DataFrame({"x": [i, ctx.params.get("v", 0)]}))

    def fig(ctx):
        import matplotlib.pyplot as plt
        f, ax = plt.subplots(figsize=(2, 2))
        ax.plot([0, 1], [0, ctx.params.get("v", 0)])
        return f

    reg.register_output("fig_a", kind="figure", title="figure", func=fig)
    b.REGISTRY = reg
    sys.exit(main(sys.argv[1:]))
''')

#: the watcher: waits for the ready file and for exactly one changed file, then signals
WATCHER = textwrap.dedent('''
    import hashlib, json, os, sys, time
    ready, out, pid, signum, old = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    old = json.loads(open(old).read())

    def changed():
        names = set(os.listdir(out)) | set(old)
        n = 0
        for name in names:
            p = os.path.join(out, name)
            cur = hashlib.sha256(open(p, "rb").read()).hexdigest() if os.path.isfile(p) else None
            n += cur != old.get(name)
        return n

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if os.path.exists(ready):
            n = changed()
            if n:
                os.kill(pid, signum)
                print(n)
                sys.exit(0)
        time.sleep(0.005)
    print("timeout")
    sys.exit(1)
''')


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _consistent(folder: Path) -> None:
    """Every file of ``folder`` is listed in its manifest with the right sha256, and back."""
    manifest = json.loads((folder / "manifest.json").read_text())
    listed = {f["name"]: f["sha256"] for o in manifest["outputs"] for f in o["files"]}
    on_disk = _digest(folder)
    on_disk.pop("manifest.json")
    assert on_disk == listed


def _no_leftovers(folder: Path) -> None:
    assert sorted(p.name for p in folder.parent.iterdir() if p.name.startswith(f".{folder.name}")) == []


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    base = tmp_path_factory.mktemp("kill")
    runner = base / "runner.py"
    runner.write_text(RUNNER)
    watcher = base / "watcher.py"
    watcher.write_text(WATCHER)
    environ = {**os.environ, "MPLBACKEND": "Agg"}
    environ.pop(HOOK, None)
    refs = {}
    for v in (1, 2):  # clean builds into empty folders: the references
        ref = base / f"ref_v{v}" / "o"
        ref.parent.mkdir()
        _run([sys.executable, str(runner), "build", "--out", str(ref), "--quiet", "--param",
              f"v={v}"], environ)
        refs[v] = _digest(ref)
    assert refs[1]["tab_0.csv"] != refs[2]["tab_0.csv"]
    return {"base": base, "runner": runner, "watcher": watcher, "env": environ, "refs": refs}


def _run(cmd, environ, expect=0):
    proc = subprocess.run(cmd, env=environ, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == expect, (proc.returncode, proc.stderr)
    return proc


def _kill_at_first_rename(cmd, environ, out: Path, ready: Path, sig: int, watcher: Path,
                          old: dict[str, str]) -> tuple[int, str, str]:
    old_file = ready.with_suffix(".old.json")
    old_file.write_text(json.dumps(old))
    if ready.exists():
        ready.unlink()
    build = subprocess.Popen(cmd, env={**environ, HOOK: str(ready)}, cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    watch = subprocess.run([sys.executable, str(watcher), str(ready), str(out), str(build.pid),
                            str(int(sig)), str(old_file)], capture_output=True, text=True,
                           timeout=300)
    _, err = build.communicate(timeout=300)
    assert watch.returncode == 0, watch.stdout + watch.stderr
    return build.returncode, watch.stdout.strip(), err


SIGNALS = [signal.SIGINT, signal.SIGTERM, signal.SIGKILL]


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_kill_at_first_rename(env, sig, reps=3):
    """``reps`` kills in a row into one folder, alternating between two parameter values."""
    base, runner, refs = env["base"], env["runner"], env["refs"]
    out = base / signal.Signals(sig).name / "o"
    out.parent.mkdir()
    py = [sys.executable, str(runner), "build", "--out", str(out), "--quiet"]
    _run([*py, "--param", "v=1"], env["env"])
    assert _digest(out) == refs[1]
    for rep in range(reps):
        old_v, new_v = (1, 2) if rep % 2 == 0 else (2, 1)
        code, changed, err = _kill_at_first_rename(
            [*py, "--param", f"v={new_v}"], env["env"], out, base / f"ready_{sig}_{rep}", sig,
            env["watcher"], refs[old_v])
        assert changed == "1"  # the signal came when exactly one file had been replaced
        if sig == signal.SIGKILL:
            assert code == -signal.SIGKILL
            assert _digest(out) not in (refs[1], refs[2])  # mixed until recovered
            assert (out.parent / ".o.msme-build" / "journal.json").exists()
            if rep != 1:  # rep 1: the next build recovers by itself
                proc = _run([sys.executable, str(runner), "build", "--recover", "--out", str(out)],
                            env["env"])
                assert "completed the interrupted commit" in proc.stdout
                assert _digest(out) == refs[new_v]  # rolled forward: all-new
                _consistent(out)
                _no_leftovers(out)
        else:
            assert code == 128 + sig, err
            assert "interrupted" in err and err.count("\n") == 1
            assert _digest(out) == refs[old_v]  # rolled back: all-old
            _consistent(out)
            _no_leftovers(out)
        # the next build (recovering first if needed) leaves exactly a clean build's files
        _run([*py, "--param", f"v={new_v}"], env["env"])
        assert _digest(out) == refs[new_v]
        _consistent(out)
        _no_leftovers(out)


def test_kill_real_outputs(env, tmp_path):
    """SIGKILL at the first rename of a build of two real outputs (table and figure)."""
    only = ["--only", "tec_msme_shares_by_country", "tec_size_shares"]
    cli = [sys.executable, "-m", "msme_stats.cli", "build", "--data", str(REPO / "data"), "--quiet",
           *only]
    ref = tmp_path / "ref"
    _run([*cli, "--out", str(ref)], env["env"])
    new = _digest(ref)
    out = tmp_path / "o"
    _run([*cli, "--out", str(out)], env["env"])
    # make it an older build: change every output file, and its manifest accordingly
    manifest = json.loads((out / "manifest.json").read_text())
    for o in manifest["outputs"]:
        for f in o["files"]:
            p = out / f["name"]
            p.write_bytes(p.read_bytes() + b"\n")
            f["sha256"], f["bytes"] = hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (out / "notes.txt").write_text("the user's notes\n")
    old = _digest(out)
    _consistent_except = {k: v for k, v in old.items() if k != "notes.txt"}
    assert set(_consistent_except) == set(new)
    code, changed, _ = _kill_at_first_rename(
        [*cli, "--out", str(out)], env["env"], out, tmp_path / "ready", signal.SIGKILL,
        env["watcher"], old)
    assert code == -signal.SIGKILL and changed == "1"
    assert (tmp_path / ".o.msme-build" / "journal.json").exists()
    _run([*cli, "--out", str(out)], env["env"])  # recovers, then builds
    after = _digest(out)
    assert after.pop("notes.txt") == old["notes.txt"]
    assert after == new
    (out / "notes.txt").unlink()
    _consistent(out)
    _no_leftovers(out)
