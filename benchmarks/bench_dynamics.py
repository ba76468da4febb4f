"""Benchmark: transactions -> trader-period tables (EDD reduction), engines side by side.

Run ``.venv/bin/python -m benchmarks.bench_dynamics --rows 10_000_000``. The synthetic panel
(:func:`msme_stats.samples.transactions.write_transactions_parquet`) is written once to
``--data-dir`` (hive-partitioned Parquet, written in chunks) and reused. Every method runs in
its own child process, so wall time and peak resident memory (``VmHWM`` of the child,
which includes the interpreter and imports) are measured alike; the timer starts after the
method's modules are imported (pandas, pyarrow, msme_stats, dask or duckdb):

* ``pandas_engine`` / ``dask_engine``: ``msme_stats.engines`` reduction (Parquet -> trader x
  period x product and trader x period x partner sums, with validation);
* ``full_pandas`` / ``full_dask``: the whole ``exporter_dynamics`` call (reduction + the 98
  series);
* ``plain_pandas``: a straightforward ``pd.read_parquet`` + two ``groupby().sum()``;
* ``plain_pyarrow``: a pyarrow dataset read + two ``Table.group_by().aggregate()`` (C++,
  multithreaded) converted to pandas;
* ``duckdb``: the same two aggregations in DuckDB SQL over the same files.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._machine import peak_kb

METHODS = ("pandas_engine", "dask_engine", "full_pandas", "full_dask", "plain_pandas", "plain_pyarrow", "duckdb")


def _imports(method: str) -> None:
    """Import what ``method`` needs, so that the timed region excludes imports for every method."""
    import pandas  # noqa: F401
    import pyarrow.dataset
    import pyarrow.parquet  # noqa: F401

    if method in ("pandas_engine", "full_pandas"):
        import msme_stats.engines.pandas_engine
        import msme_stats.indicators.dynamics
    elif method in ("dask_engine", "full_dask"):
        import dask.dataframe  # noqa: F401

        import msme_stats.engines.dask_engine
        import msme_stats.indicators.dynamics  # noqa: F401
    elif method == "duckdb":
        import duckdb  # noqa: F401


def _child(method: str, path: str) -> dict:
    _imports(method)
    t0 = time.perf_counter()
    if method in ("pandas_engine", "dask_engine"):
        from msme_stats.engines import ReduceOptions, get_engine

        red = get_engine(method.split("_")[0]).reduce(path, ReduceOptions())
        out = (len(red.firm_product), len(red.firm_partner))
    elif method in ("full_pandas", "full_dask"):
        from msme_stats.indicators.dynamics import exporter_dynamics

        res = exporter_dynamics(path, engine=method.split("_")[1])
        out = (len(res), int(res.query("edd_code == 'A1'")["value"].sum()))
    elif method == "plain_pandas":
        import pandas as pd

        df = pd.read_parquet(path)
        a = df.groupby(["trader", "period", "product"])["value"].sum()
        b = df.groupby(["trader", "period", "partner"])["value"].sum()
        out = (len(a), len(b))
    elif method == "plain_pyarrow":
        import pyarrow.dataset as ds

        table = ds.dataset(path, format="parquet", partitioning="hive").to_table()
        a = table.group_by(["trader", "period", "product"]).aggregate([("value", "sum")]).to_pandas()
        b = table.group_by(["trader", "period", "partner"]).aggregate([("value", "sum")]).to_pandas()
        out = (len(a), len(b))
    elif method == "duckdb":
        import duckdb

        con = duckdb.connect()
        src = f"read_parquet('{path}/**/*.parquet', hive_partitioning = true)"
        a = con.sql(f"SELECT trader, period, product, SUM(value) AS value FROM {src} GROUP BY ALL").df()
        b = con.sql(f"SELECT trader, period, partner, SUM(value) AS value FROM {src} GROUP BY ALL").df()
        out = (len(a), len(b))
    else:
        raise SystemExit(f"unknown method {method}")
    wall = time.perf_counter() - t0
    return {"method": method, "wall_s": wall, "peak_mb": peak_kb() / 1024, "out": out}


def _machine() -> str:
    import dask
    import duckdb
    import numpy
    import pandas
    import pyarrow

    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("Model name")), "?")
        cpus = next((ln.split(":", 1)[1].strip() for ln in lscpu.splitlines() if ln.startswith("CPU(s)")), "?")
    except (OSError, subprocess.CalledProcessError):
        model, cpus = "?", "?"
    mem_gb = "?"
    try:
        with open("/proc/meminfo") as fh:
            mem_gb = f"{int(fh.readline().split()[1]) / 1024**2:.1f}"
    except OSError:
        pass
    return (
        f"{model}, {cpus} CPUs, {mem_gb} GB RAM; Python {platform.python_version()}, pandas "
        f"{pandas.__version__}, numpy {numpy.__version__}, pyarrow {pyarrow.__version__}, dask "
        f"{dask.__version__}, duckdb {duckdb.__version__}"
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=10_000_000)
    ap.add_argument("--traders", type=int, default=None, help="default: rows/100 capped to 200,000")
    ap.add_argument("--data-dir", default="/tmp/msme_bench")
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", nargs=2, metavar=("METHOD", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    traders = args.traders or min(200_000, max(1_000, args.rows // 100))
    path = Path(args.data_dir) / f"tx_{args.rows}_{traders}"
    if not path.exists():
        from msme_stats.samples.transactions import write_transactions_parquet

        t0 = time.perf_counter()
        write_transactions_parquet(path, args.rows, n_traders=traders, seed=args.rows % 9973)
        print(f"generated {args.rows:,} rows in {time.perf_counter() - t0:.1f} s -> {path}", flush=True)
    print(f"machine: {_machine()}")
    print(f"rows: {args.rows:,}; traders: {traders:,}; data: {path}")
    print("| method | wall time (s) | peak RSS (MB) | output rows |")
    print("|---|---:|---:|---|")
    for method in args.methods.split(","):
        for _ in range(args.repeat):
            proc = subprocess.run(
                [sys.executable, "-m", "benchmarks.bench_dynamics", "--child", method, str(path)],
                capture_output=True, text=True,
            )
            if proc.returncode != 0:
                print(f"| {method} | failed | | {proc.stderr.strip().splitlines()[-1:]} |", flush=True)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            print(f"| {method} | {r['wall_s']:.2f} | {r['peak_mb']:.0f} | {r['out']} |", flush=True)


if __name__ == "__main__":
    main()
