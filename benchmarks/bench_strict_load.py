"""Benchmark: the cost of the stricter WBES loader (issues 10 and 11) against the loader before.

Times ``load_wbes`` on the 45 bundled SYNTHETIC WBES files (15,310 firms), first load
(``cache=False``: read, recode, classify, validate, outlier screen), the cached reload
(Parquet cache in a temporary folder) and ``estimate`` of TR5 by
survey x size on the loaded frame, for this installation and for another checkout of the
package (``--baseline-src DIR``, e.g. a ``git worktree`` of the commit before the change), each
in a child process, alternating one baseline round and one round of this checkout so that both
see the same machine load. The peer inside every round is ``pandas.read_stata`` of the same
files (all columns), the parse alone.

Run: ``.venv/bin/python -m benchmarks.bench_strict_load --baseline-src /tmp/old [--repeats N]``
(writes nothing; prints a Markdown table). A third column times this checkout with its load-time
outlier screen replaced by no-op flags, to separate the cost of the checks from the new screen.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "wbes_synthetic"

_CHILD = r"""
import glob, json, sys, time, warnings
warnings.simplefilter("ignore")
import os
import pandas as pd
import msme_stats as ms
if os.environ.get("BENCH_NO_SCREEN"):  # the new loader with its outlier screen replaced by no-op flags
    import msme_stats.sources.wbes as w
    w.screen_outliers = lambda f, screens=w.DEFAULT_SCREENS, **kw: f.assign(
        **{f"outlier_{q}": False for q in screens}, outlier_any=False)
files = sorted(glob.glob(sys.argv[1] + "/*.dta"))
best = {}
def clock(name, fn, n=3):
    t = []
    for _ in range(n):
        t0 = time.perf_counter(); out = fn(); t.append(time.perf_counter() - t0)
    best[name] = min(t)
    return out
clock("read_stata", lambda: [pd.read_stata(f) for f in files])
firms = clock("load_wbes", lambda: ms.load_wbes(files, cache=False))
import tempfile
cache = tempfile.mkdtemp()
ms.load_wbes(files, cache_dir=cache)
clock("cached reload", lambda: ms.load_wbes(files, cache_dir=cache), n=5)
clock("estimate", lambda: ms.estimate(firms, "IC.FRM.TRD.TR5", by=["survey_id", "size_class"]), n=7)
best["module"] = ms.__file__
print(json.dumps(best))
"""


def _round(src: Path | None, *, no_screen: bool = False) -> dict:
    env_path = [str(src)] if src else []
    code = f"import sys; sys.path[:0] = {env_path!r}\n" + _CHILD
    env = {**os.environ, **({"BENCH_NO_SCREEN": "1"} if no_screen else {})}
    out = subprocess.run([sys.executable, "-c", code, str(DATA)], capture_output=True, text=True, check=True,
                         env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-src", type=Path, required=True, help="checkout of the package before the change")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    rows: dict[str, list[dict]] = {"before": [], "after": [], "after, screen off": []}
    for _ in range(args.repeats):
        rows["before"].append(_round(args.baseline_src))
        rows["after"].append(_round(None))
        rows["after, screen off"].append(_round(None, no_screen=True))
    assert all(str(args.baseline_src) in r["module"] for r in rows["before"]), "baseline did not import"
    print("| step (best of 3 per round; median over rounds) | before | after | after / before "
          "| after without the outlier screen | / before |")
    print("|---|---:|---:|---:|---:|---:|")
    for key in ("read_stata", "load_wbes", "cached reload", "estimate"):
        b, a, n = (statistics.median(r[key] for r in rows[k]) for k in rows)
        print(f"| {key} | {b:.3f} s | {a:.3f} s | {a / b:.2f} | {n:.3f} s | {n / b:.2f} |")
    ratio_b = statistics.median(r["load_wbes"] / r["read_stata"] for r in rows["before"])
    ratio_a = statistics.median(r["load_wbes"] / r["read_stata"] for r in rows["after"])
    print(f"\nload_wbes / read_stata of the same files: before {ratio_b:.2f}, after {ratio_a:.2f}")


if __name__ == "__main__":
    main()
