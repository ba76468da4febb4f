"""Benchmark: msme_stats.load_tec on the real Eurostat ext_tec10 download vs plain pandas.

Peer: ``pandas.read_csv`` of the same gzip file (all columns as strings), i.e. the parse
alone without layout detection, code validation, ISO3 mapping, unit scaling, flags and the
duplicate-cell check. Also times ``tec_indicators`` (all ids) on the loaded frame.

Old vs new (issue 11, strict loaders): with ``--baseline-python PATH`` the same timings are
taken with another installation of msme_stats (e.g. the ``main`` branch before the stricter
checks: ``--baseline-python ../main/.venv/bin/python``) in a child process, alternating one
baseline run and one run of this installation per repeat so that both see the same machine
load.

Run: ``.venv/bin/python -m benchmarks.bench_tec [--baseline-python PATH] [--repeats N]``
(writes nothing; prints a Markdown table).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from msme_stats.indicators.tec import tec_indicators
from msme_stats.sources.tec import load_tec

FILE = Path(__file__).resolve().parent.parent / "data" / "eurostat_ext_tec10" / "ext_tec10.csv.gz"
REPEATS = 5

# child process: times one call per command read on stdin, answers with the seconds
_CHILD = r"""
import sys, time, warnings
warnings.simplefilter("ignore")
import msme_stats
from msme_stats.sources.tec import load_tec
from msme_stats.indicators.tec import tec_indicators
path = sys.argv[1]
tec = load_tec(path)
tec_indicators(tec)
print("ready", msme_stats.__file__, len(tec), flush=True)
for line in sys.stdin:
    t0 = time.perf_counter()
    if line.strip() == "load":
        tec = load_tec(path)
    else:
        tec_indicators(tec)
    print(time.perf_counter() - t0, flush=True)
"""


class _Baseline:
    """Another msme_stats installation, driven one call at a time."""

    def __init__(self, python: str, path: Path):
        self.proc = subprocess.Popen(
            [python, "-c", _CHILD, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, cwd=str(Path(python).resolve().parent.parent.parent))
        ready = self.proc.stdout.readline().split()
        if not ready or ready[0] != "ready":
            raise SystemExit(f"baseline interpreter {python} did not start: {ready}")
        self.package, self.rows = ready[1], int(ready[2])

    def time(self, what: str) -> float:
        self.proc.stdin.write(what + "\n")
        self.proc.stdin.flush()
        return float(self.proc.stdout.readline())

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _time(fn, repeats: int) -> tuple[float, float, object]:
    out = fn()  # warm-up (imports, reference CSVs)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), out


def _checks_alone(repeats: int) -> tuple[float, float]:
    """Seconds spent by the checks added for issue 11 alone, on the parsed real file:
    float-formatted codes, TIME_PERIOD format and range, partner codes, negative/infinite
    OBS_VALUE (the field-count check comes free with the pyarrow parse)."""
    import numpy as np

    from msme_stats.sources import tec as t

    data = t._read_bytes(FILE)
    text = t._decode(data, FILE)
    raw, dims = t._read_sdmx(text, FILE, "eurostat", data)
    years = t.plausible_range("tec_year")

    values = t._numeric(raw["OBS_VALUE"], FILE, raw, "OBS_VALUE")

    def run():
        t._check_float_codes(raw, [d for d in dims if d in raw.columns], FILE)
        t._years(raw, FILE, years)  # replaces a pd.to_numeric of TIME_PERIOD
        t._check_partners(raw["partner"], "eurostat", "partner", FILE, raw)
        with np.errstate(invalid="ignore"):
            return int((np.isinf(values) | (values < 0)).sum())

    med, mn, _ = _time(run, repeats)
    return med, mn


def _indicator_checks_alone(tec, est, repeats: int) -> tuple[float, float]:
    """Seconds spent by the input checks added to tec_indicators for issue 11 (values,
    years, keys and codes of the frame; partner/activity/breakdown options; the [0, 100]
    bound on the output)."""
    from msme_stats.indicators import tec as ind

    captured = {}
    real = ind._bounds
    ind._bounds = lambda out, mode: captured.setdefault("out", out)
    try:  # the output before the bound check, with its out-of-range shares
        tec_indicators(tec)
    finally:
        ind._bounds = real

    def run():
        ind._check_tec_frame(tec)
        for col, code in (("partner", "WORLD"), ("activity", "TOTAL"), ("breakdown", "")):
            ind._check_present(tec, col, [code], code)
        return ind._bounds(captured["out"].copy(deep=False), "flag")

    med, mn, _ = _time(run, repeats)
    return med, mn


def _paired(fn, baseline: _Baseline, what: str, repeats: int):
    """Alternate baseline and this installation; return (new times, old times, output)."""
    out = fn()
    new, old = [], []
    for _ in range(repeats):
        old.append(baseline.time(what))
        t0 = time.perf_counter()
        out = fn()
        new.append(time.perf_counter() - t0)
    return new, old, out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--baseline-python", help="python of another msme_stats installation")
    ap.add_argument("--repeats", type=int, default=REPEATS)
    args = ap.parse_args(argv)
    med_p, min_p, raw = _time(lambda: pd.read_csv(FILE, dtype=str, keep_default_na=False),
                              args.repeats)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, pandas {pd.__version__}")
    print(f"file: {FILE.name} ({FILE.stat().st_size:,} bytes, {len(raw):,} rows)")
    if not args.baseline_python:
        med_l, min_l, tec = _time(lambda: load_tec(FILE), args.repeats)
        med_i, min_i, est = _time(lambda: tec_indicators(tec), args.repeats)
        print("| task | median s | min s | rows out |")
        print("|---|---|---|---|")
        print(f"| pandas.read_csv (peer, parse only) | {med_p:.3f} | {min_p:.3f} | {len(raw):,} |")
        print(f"| msme_stats.load_tec | {med_l:.3f} | {min_l:.3f} | {len(tec):,} |")
        print(f"| msme_stats.tec_indicators (all ids) | {med_i:.3f} | {min_i:.3f} | "
              f"{len(est):,} |")
        return
    import warnings

    import msme_stats

    warnings.simplefilter("ignore")
    base = _Baseline(args.baseline_python, FILE)
    try:
        new_l, old_l, tec = _paired(lambda: load_tec(FILE), base, "load", args.repeats)
        new_i, old_i, est = _paired(lambda: tec_indicators(tec), base, "ind", args.repeats)
    finally:
        base.close()
    print(f"baseline package: {base.package}; this package: {msme_stats.__file__}; "
          f"{args.repeats} alternating repeats")
    print("| task | baseline median s | this median s | change (median) | baseline min s | "
          "this min s | change (min) |")
    print("|---|---|---|---|---|---|---|")
    print(f"| pandas.read_csv (peer, parse only) | | {med_p:.3f} | | | {min_p:.3f} | |")
    for name, new, old in (("load_tec", new_l, old_l), ("tec_indicators (all ids)", new_i,
                                                        old_i)):
        mo, mn = statistics.median(old), statistics.median(new)
        lo, ln = min(old), min(new)
        print(f"| {name} | {mo:.3f} | {mn:.3f} | {100 * (mn / mo - 1):+.1f}% | {lo:.3f} | "
              f"{ln:.3f} | {100 * (ln / lo - 1):+.1f}% |")
    med_c, min_c = _checks_alone(args.repeats)
    print(f"| new checks alone (float codes, years, partners, negative/inf values) | | "
          f"{med_c:.3f} | {100 * med_c / statistics.median(old_l):.1f}% of baseline load | | "
          f"{min_c:.3f} | {100 * min_c / min(old_l):.1f}% of baseline load |")
    med_k, min_k = _indicator_checks_alone(tec, est, args.repeats)
    print(f"| new tec_indicators checks alone (frame, options, [0, 100] bound) | | "
          f"{med_k:.3f} | {100 * med_k / statistics.median(old_i):.1f}% of baseline | | "
          f"{min_k:.3f} | {100 * min_k / min(old_i):.1f}% of baseline |")
    print(f"rows: load_tec {len(tec):,} (baseline {base.rows:,}); tec_indicators {len(est):,}")
    if sys.flags.dev_mode:
        print("(dev mode on: timings inflated)")


if __name__ == "__main__":
    main()
