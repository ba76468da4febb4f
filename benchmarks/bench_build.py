"""Benchmark: the full ``msme-stats build`` of the bundled data, and what its commit costs.

Run: ``.venv/bin/python -m benchmarks.bench_build [--before PYTHON] [--repeat 3]``.

* Whole builds, timed from outside (``python -m msme_stats.cli build --data data --out DIR
  --quiet``; wall clock and CPU time (user + sys) of the process; the minimum over the runs
  is the estimate least affected by other jobs on the machine): a first build into an empty folder and a rebuild
  over the previous one (what ``make figures`` does). With ``--before PYTHON`` (the Python of
  a virtual environment where msme_stats is an earlier version, e.g. the commit before the
  journaled commit protocol) the same two builds run with it too, alternating with this
  version, in the same command, so both see the same machine load.
* The phases of this version's build, measured inside (:attr:`msme_stats.build.Manifest.timings`):
  computing the outputs, and the commit (fsync of the new files, backups, journal with
  fsync, renames, fsync of the folder, clean-up).

The protocol's budget: at most 10% of the full build time.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ._machine import describe

REPO = Path(__file__).resolve().parents[1]


def _build(python: str, out: Path) -> tuple[float, float]:
    """(wall clock, CPU time user+sys) of one build in a child process."""
    cmd = [python, "-m", "msme_stats.cli", "build", "--data", str(REPO / "data"), "--out", str(out),
           "--quiet"]
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=False,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    elapsed = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return elapsed, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", metavar="PYTHON",
                    help="Python of an environment with an earlier msme_stats (compared side by side)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    print(describe())
    work = Path(tempfile.mkdtemp(prefix="msme_bench_build_"))
    versions = {"after (this version)": sys.executable}
    if args.before:
        versions = {"before": args.before, **versions}
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    loads = []
    try:
        for rep in range(args.repeat):
            for label, python in versions.items():
                out = work / f"{label.split()[0]}_{rep}"
                loads.append(_load())
                times.setdefault((label, "first build (empty folder)"), []).append(_build(python, out))
                times.setdefault((label, "rebuild over the previous"), []).append(_build(python, out))
                shutil.rmtree(out)
        # this version's phases, in-process
        import matplotlib

        matplotlib.use("Agg")
        from msme_stats.build import build

        phases: dict[str, list[float]] = {}
        out = work / "phases"
        build(data_dir=REPO / "data", out_dir=out, progress=False)  # warm: imports, first build
        for _ in range(args.repeat):
            m = build(data_dir=REPO / "data", out_dir=out, progress=False)
            for k, v in m.timings.items():
                phases.setdefault(k, []).append(v)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nload average (1 min) at the start of each build pair: {', '.join(loads)}")
    print("\n| version | build | wall s: min / median | CPU s: min / median | runs, wall (CPU) s |\n"
          "|---|---|---:|---:|---|")
    for (label, kind), ts in times.items():
        wall, cpu = [t[0] for t in ts], [t[1] for t in ts]
        print(f"| {label} | {kind} | {min(wall):.2f} / {statistics.median(wall):.2f} | "
              f"{min(cpu):.2f} / {statistics.median(cpu):.2f} | "
              f"{', '.join(f'{w:.1f} ({c:.1f})' for w, c in ts)} |")
    if args.before:
        for kind in ("first build (empty folder)", "rebuild over the previous"):
            for i, what in ((0, "wall"), (1, "CPU")):
                b = min(t[i] for t in times[("before", kind)])
                a = min(t[i] for t in times[("after (this version)", kind)])
                print(f"{kind}, {what} (min): after / before = {a / b:.3f} ({100 * (a / b - 1):+.1f}%)")
    print("\nphases of this version's rebuild, in-process (median of "
          f"{args.repeat}):\n\n| phase | median s | share of total |\n|---|---:|---:|")
    total = statistics.median(phases["total"])
    for k in ("outputs", "commit", "commit_prepare", "commit_renames", "commit_cleanup", "total"):
        v = statistics.median(phases[k])
        print(f"| {k} | {v:.4f} | {100 * v / total:.2f}% |")


if __name__ == "__main__":
    main(sys.argv[1:])
