"""Benchmark of the shared second stage of exporter_dynamics: reduced tables -> 98 EDD series.

Run ``NUMPY_MADVISE_HUGEPAGE=0 .venv/bin/python -m benchmarks.bench_second_stage --repeat 7``
(10M-row integer-coded Parquet file of ``benchmarks.bench_dynamics_matrix`` if it exists,
else, or with ``--source synthetic``, ``--rows`` synthetic transactions generated in memory).

The engine's reduction (``get_engine("pandas").reduce``: trader x period x product and trader x
period x partner tables) is built once and not timed. Then, alternating in the same process,
``--repeat`` rounds of:

* ``msme_stats``: :func:`msme_stats.indicators.dynamics.dynamics_from_reduction` (zero cells,
  ``min_value``, the trader-period panel and all 98 series, default options);
* ``duckdb``: DuckDB SQL computing the core indicators of ``bench_dynamics_matrix`` (A1, A2,
  A3, A6 mean / median / sd, B1, B3 / B4 means, C1) from the same two reduced tables (pandas
  frames scanned in place). A1 of both is compared in every round.

Wall time (``perf_counter``) and the minor page faults of each call (``ru_minflt``; on this
VM a fault costs about 3 microseconds, and numpy's temporaries are faulted in again on every
call once glibc has trimmed the heap) are printed, with the load average before and after
(the machine may be shared: compare only figures from the same command).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import warnings
from pathlib import Path
from typing import Any

from benchmarks.bench_dynamics_matrix import CORE_FROM_TABLES_SQL as CORE_SQL

DEFAULT_SOURCE = Path("/tmp/msme_bench_matrix/tx_10000000_100000_int.parquet")


def _reduction(source: str | None, rows: int) -> tuple[Any, dict[str, Any], str]:
    """The pandas engine's reduction of the input, the default parameters and a label."""
    from msme_stats.engines import ReduceOptions, get_engine
    from msme_stats.indicators.dynamics import exporter_dynamics

    if source is None:
        source = str(DEFAULT_SOURCE) if DEFAULT_SOURCE.exists() else "synthetic"
    if source != "synthetic":
        from msme_stats.sources.customs import load_transactions

        roles = {c: c for c in ("trader", "period", "product", "partner", "value")}
        tx = load_transactions(source, roles=roles)
        label = source
    else:
        from msme_stats.samples.transactions import synthetic_transactions

        tx = synthetic_transactions(rows, n_traders=max(rows // 100, 100), seed=10)
        label = f"synthetic_transactions({rows}, n_traders={max(rows // 100, 100)}, seed=10)"
    red = get_engine("pandas").reduce(tx, ReduceOptions())
    params = exporter_dynamics(tx.head(1000)).attrs["params"]
    return red, params, label


def _timed(fn: Any) -> tuple[float, int, Any]:
    """Wall seconds, minor page faults and result of one call."""
    f0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t0 = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t0
    return seconds, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f0, out


def main(argv: list[str] | None = None) -> None:
    """Time the second stage beside the DuckDB peer, alternating, and print a table."""
    import duckdb

    from benchmarks._machine import describe
    from msme_stats.indicators.dynamics import dynamics_from_reduction

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", default=None, help="transactions file, or 'synthetic' (default: the 10M-row matrix input)")
    ap.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=1_000_000,
                    help="synthetic rows when there is no source file")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    red, params, label = _reduction(args.source, args.rows)
    fp, fd = red.firm_product, red.firm_partner
    con = duckdb.connect()
    con.register("fp", fp)
    con.register("fd", fd)
    with open("/proc/loadavg") as fh:
        load_before = " ".join(fh.read().split()[:3])
    runs: dict[str, list[tuple[float, int]]] = {"msme_stats": [], "duckdb": []}
    for _ in range(args.repeat):
        t, faults, out = _timed(lambda: dynamics_from_reduction(red, params=params))
        runs["msme_stats"].append((t, faults))
        t, faults, core = _timed(lambda: con.execute(CORE_SQL).df())
        runs["duckdb"].append((t, faults))
        a1 = out.loc[out["edd_code"] == "A1", "value"].to_numpy()
        if a1.tolist() != core["a1"].astype(float).tolist():
            raise RuntimeError("A1 differs between msme_stats and the DuckDB peer")
    with open("/proc/loadavg") as fh:
        load_after = " ".join(fh.read().split()[:3])
    print(f"machine: {describe()}; duckdb {duckdb.__version__}")
    print(f"input: {label}; {len(fp):,} trader-period-product and {len(fd):,} trader-period-partner cells")
    print(f"load average before {load_before}, after {load_after}; A1 equal in every round")
    print("| method | runs | best (s) | median (s) | worst (s) | minor faults (median) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, rs in runs.items():
        ts = [t for t, _ in rs]
        print(f"| {name} | {len(ts)} | {min(ts):.3f} | {statistics.median(ts):.3f} | {max(ts):.3f} "
              f"| {int(statistics.median(f for _, f in rs)):,} |")


if __name__ == "__main__":
    main()
