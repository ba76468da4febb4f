"""Benchmark: msme_stats.load_tec on the real Eurostat ext_tec10 download vs plain pandas.

Peer: ``pandas.read_csv`` of the same gzip file (all columns as strings), i.e. the parse
alone without layout detection, code validation, ISO3 mapping, unit scaling, flags and the
duplicate-cell check. Also times ``tec_indicators`` (all ids) on the loaded frame.

Run: ``.venv/bin/python -m benchmarks.bench_tec`` (writes nothing; prints a Markdown table).
"""

from __future__ import annotations

import os
import platform
import statistics
import time
from pathlib import Path

import pandas as pd

from msme_stats.indicators.tec import tec_indicators
from msme_stats.sources.tec import load_tec

FILE = Path(__file__).resolve().parent.parent / "data" / "eurostat_ext_tec10" / "ext_tec10.csv.gz"
REPEATS = 5


def _time(fn) -> tuple[float, float, object]:
    out = fn()  # warm-up (imports, reference CSVs)
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), out


def main(argv: list[str] | None = None) -> None:
    del argv  # no options
    med_p, min_p, raw = _time(lambda: pd.read_csv(FILE, dtype=str, keep_default_na=False))
    med_l, min_l, tec = _time(lambda: load_tec(FILE))
    med_i, min_i, est = _time(lambda: tec_indicators(tec))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, pandas {pd.__version__}")
    print(f"file: {FILE.name} ({FILE.stat().st_size:,} bytes, {len(raw):,} rows)")
    print("| task | median s | min s | rows out |")
    print("|---|---|---|---|")
    print(f"| pandas.read_csv (peer, parse only) | {med_p:.3f} | {min_p:.3f} | {len(raw):,} |")
    print(f"| msme_stats.load_tec | {med_l:.3f} | {min_l:.3f} | {len(tec):,} |")
    print(f"| msme_stats.tec_indicators (all ids) | {med_i:.3f} | {min_i:.3f} | {len(est):,} |")


if __name__ == "__main__":
    main()
