"""Benchmark matrix: input form x size x engine for load_transactions + exporter_dynamics.

Run ``.venv/bin/python -m benchmarks.bench_dynamics_matrix --rows 10_000_000 --repeat 3``.
Every cell is the user path, ``tx = load_transactions(src, roles=...)`` then
``exporter_dynamics(tx)`` (``engine="dask"``: both with ``engine="dask"``; ``ms_duckdb``:
``exporter_dynamics(src, roles=..., engine="duckdb")``, the optional DuckDB engine reading the
source itself), timed beside a
DuckDB peer that computes the core indicators (:data:`CORE_SQL`) from the same input in the
same command. Each method runs in its own child process; the timer starts after imports and,
for the DataFrame forms, after the frame has been built (the frame is the user's input);
peak memory is the child's own ``VmHWM`` (:func:`benchmarks._machine.peak_kb`).

``--alloc quiet`` runs every child (DuckDB's too) with ``NUMPY_MADVISE_HUGEPAGE=0`` and
``ARROW_DEFAULT_MEMORY_POOL=jemalloc``. On a machine whose transparent huge pages are set to
``defrag=madvise`` (``/sys/kernel/mm/transparent_hugepage/defrag``), numpy's huge-page advice
on large arrays and pyarrow's default mimalloc pool made fresh allocations stall for seconds
when memory was fragmented by other processes (measured: the 10M-row Parquet cell at 9.4-20.8 s
by default, 3.4-5.5 s with ``quiet``; DuckDB 1.3-1.4 s either way). The default (``--alloc
default``) leaves the environment as it is; report which one was used.

Input forms (all from :mod:`msme_stats.samples.transactions`, same panel for a given size):

* ``parquet_file``: one Parquet file with integer codes (integer trader ids, HS6 codes stored
  as integers that lost their leading zero, integer partner codes), row groups of 1M rows;
* ``hive``: the hive-partitioned folder of string codes (``period=YYYY/part-*.parquet``);
* ``csv``: one CSV file with integer codes (DuckDB reads the same CSV);
* ``frame_int``: a pandas DataFrame with integer codes (numpy int64);
* ``frame_str``: a pandas DataFrame with string codes.

The DuckDB peer reads the same file (or scans the same DataFrame), groups on the codes as
they are (no string conversion, no leading-zero repair: faster than an equal-work peer) and
computes per period: A1 exporters, A2 entrants, A3 exiters (convention A), A6 mean / median /
sd of exports per exporter, B1 Herfindahl index, B3 / B4 mean products / partners per
exporter and C1 entry rate (the ten series :data:`CORE`). msme_stats computes all 98 EDD
series; ``ms_duckdb_core`` and ``ms_pandas_core`` are the user paths with
``exporter_dynamics(..., series=CORE)``, the same work as the peer. In every run the ten
series of each msme_stats method are compared with the peer's (relative difference at most
1e-9; ``core_equal``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._machine import peak_kb

FORMS = ("parquet_file", "hive", "csv", "frame_int", "frame_str")
METHODS = ("ms_pandas", "ms_dask", "ms_duckdb", "ms_duckdb_core", "duckdb")
#: the EDD series the DuckDB peer computes (its columns, in this order)
CORE = ("A1", "A2", "A3", "A6i", "A6ii", "A6iii", "B1", "B3i", "B4i", "C1")
_PEER_COLUMNS = ("a1", "a2", "a3", "a6i", "a6ii", "a6iii", "b1", "b3i", "b4i", "c1")
ROLES = {c: c for c in ("trader", "period", "product", "partner", "value")}

#: the two reduced tables of the peer, from the transactions ``{src}``
_REDUCE_CTES = """fp AS (SELECT trader, period, product, SUM(value) AS value FROM {src} GROUP BY ALL),
fd AS (SELECT trader, period, partner, SUM(value) AS value FROM {src} GROUP BY ALL),"""
_CORE_FROM_TABLES = """tp AS (SELECT trader, period, SUM(value) AS x, COUNT(*) AS n_prod FROM fp WHERE value > 0 GROUP BY ALL),
tq AS (SELECT trader, period, COUNT(*) AS n_part FROM fd WHERE value > 0 GROUP BY ALL),
tot AS (SELECT period, SUM(x) AS tev FROM tp GROUP BY ALL),
ent AS (SELECT a.period, COUNT(*) AS a2 FROM tp a ANTI JOIN tp b ON a.trader = b.trader
        AND b.period = a.period - 1 WHERE a.period > (SELECT MIN(period) FROM tp) GROUP BY ALL),
ex AS (SELECT b.period + 1 AS period, COUNT(*) AS a3 FROM tp b ANTI JOIN tp a ON a.trader = b.trader
       AND a.period = b.period + 1 WHERE b.period < (SELECT MAX(period) FROM tp) GROUP BY ALL)
SELECT tp.period, COUNT(*) AS a1, AVG(x) AS a6i, MEDIAN(x) AS a6ii, STDDEV_SAMP(x) AS a6iii,
       SUM((x / tev) * (x / tev)) AS b1, AVG(n_prod) AS b3i, AVG(n_part) AS b4i,
       ANY_VALUE(ent.a2) AS a2, ANY_VALUE(ex.a3) AS a3, ANY_VALUE(ent.a2) / COUNT(*) AS c1
FROM tp JOIN tot USING (period) LEFT JOIN tq USING (trader, period)
LEFT JOIN ent USING (period) LEFT JOIN ex USING (period)
GROUP BY tp.period ORDER BY tp.period
"""
#: the core indicators from transactions ``{src}`` (the peer of the matrix)
CORE_SQL = "WITH " + _REDUCE_CTES + "\n" + _CORE_FROM_TABLES
#: the same from the reduced tables ``fp`` and ``fd`` (trader, period, product / partner, value)
CORE_FROM_TABLES_SQL = "WITH " + _CORE_FROM_TABLES


def inputs(rows: int, data_dir: Path, forms: list[str]) -> dict[str, Path]:
    """Write (once) the files each form needs; return the path per form."""
    from msme_stats.samples.transactions import write_transactions_csv, write_transactions_parquet

    traders = min(200_000, max(1_000, rows // 100))
    kw = {"n_traders": traders, "seed": rows % 9973}
    base = data_dir / f"tx_{rows}_{traders}"
    paths = {
        "parquet_file": base.with_name(base.name + "_int.parquet"),
        "hive": base.with_name(base.name + "_hive"),
        "csv": base.with_name(base.name + "_int.csv"),
    }
    paths["frame_int"] = paths["parquet_file"]
    paths["frame_str"] = paths["hive"]
    need = {paths[f] for f in forms}
    data_dir.mkdir(parents=True, exist_ok=True)
    for form, path in (("parquet_file", paths["parquet_file"]), ("hive", paths["hive"]), ("csv", paths["csv"])):
        if path in need and not path.exists():
            t0 = time.perf_counter()
            if form == "parquet_file":
                write_transactions_parquet(path, rows, codes="int", layout="file", **kw)
            elif form == "hive":
                write_transactions_parquet(path, rows, **kw)
            else:
                write_transactions_csv(path, rows, codes="int", **kw)
            print(f"generated {form}: {rows:,} rows in {time.perf_counter() - t0:.1f} s -> {path}", flush=True)
    return {f: paths[f] for f in forms}


def _frame(form: str, path: str):
    import pandas as pd

    if form == "frame_int":
        return pd.read_parquet(path)
    import pyarrow.dataset as ds

    table = ds.dataset(path, format="parquet", partitioning="hive").to_table()
    frame = table.to_pandas()
    return frame.astype({"trader": "str", "product": "str", "partner": "str"})


def _child(method: str, form: str, path: str) -> dict:
    import warnings

    import pandas  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    warnings.simplefilter("ignore")
    if method == "duckdb":
        import duckdb
    else:
        import msme_stats.engines.pandas_engine
        from msme_stats.indicators.dynamics import exporter_dynamics
        from msme_stats.sources.customs import load_transactions
        if method == "ms_dask":
            import dask.dataframe  # noqa: F401

            import msme_stats.engines.dask_engine
        if method.startswith("ms_duckdb"):
            import duckdb

            import msme_stats.engines.duckdb_engine  # noqa: F401
    src = _frame(form, path) if form.startswith("frame") else path
    t0 = time.perf_counter()
    if method == "duckdb":
        con = duckdb.connect()
        if form.startswith("frame"):
            con.register("tx_frame", src)
            rel = "tx_frame"
        elif form == "hive":
            rel = f"read_parquet('{path}/**/*.parquet', hive_partitioning = true)"
        elif form == "csv":
            rel = f"read_csv('{path}')"
        else:
            rel = f"read_parquet('{path}')"
        res = con.sql(CORE_SQL.format(src=rel)).df()
        core = {f"{code}/{int(per)}": float(v) for code, col in zip(CORE, _PEER_COLUMNS, strict=True)
                for per, v in zip(res["period"], res[col].to_numpy(dtype=float, na_value=float("nan")), strict=True)}
    else:
        series = list(CORE) if method.endswith("_core") else None
        if method.startswith("ms_duckdb"):
            out = exporter_dynamics(src, roles=ROLES, engine="duckdb", series=series)
        else:
            engine = "dask" if method == "ms_dask" else "pandas"
            tx = load_transactions(src, roles=ROLES, engine=engine)
            out = exporter_dynamics(tx, engine=engine, series=series)
        sel = out[out["edd_code"].isin(CORE)]
        core = {f"{code}/{int(per)}": float(v) for code, per, v in zip(sel["edd_code"], sel["period"], sel["value"],
                                                                        strict=True)}
    wall = time.perf_counter() - t0
    return {"method": method, "form": form, "wall_s": wall, "peak_mb": peak_kb() / 1024, "core": core}


def _core_equal(got: dict[str, float], peer: dict[str, float]) -> bool:
    """The ten core series equal the peer's: same (series, period) cells, NaN where the peer
    has none (first and last periods), relative difference at most 1e-9."""
    import math

    for key, v in got.items():
        w = peer.get(key)
        if w is None or (isinstance(w, float) and math.isnan(w)):
            if not math.isnan(v):
                return False
        elif math.isnan(v) or abs(v - w) > 1e-9 * max(1.0, abs(w)):
            return False
    return True


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=lambda s: int(s.replace("_", "")), default=1_000_000)
    ap.add_argument("--big", action="store_true",
                    help="also run 100M rows out of core (Parquet file of integer codes; ms_dask, ms_duckdb_core, "
                         "ms_duckdb and the DuckDB peer; about 4 GB of input under --data-dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated inputs (default: delete them)")
    ap.add_argument("--data-dir", default="/tmp/msme_bench_matrix")
    ap.add_argument("--forms", default=",".join(FORMS))
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--alloc", choices=("default", "quiet"), default="default",
                    help="'quiet': children run with NUMPY_MADVISE_HUGEPAGE=0 and "
                         "ARROW_DEFAULT_MEMORY_POOL=jemalloc (see the module docstring)")
    ap.add_argument("--json", default=None, help="append every run as one JSON line to this file")
    ap.add_argument("--child", nargs=3, metavar=("METHOD", "FORM", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return
    from benchmarks.bench_dynamics import _machine

    runs = [(args.rows, args.forms.split(","), args.methods.split(","))]
    if args.big:
        runs.append((100_000_000, ["parquet_file"], ["ms_dask", "ms_duckdb", "ms_duckdb_core", "duckdb"]))
    print(f"machine: {_machine()}")
    try:
        for rows, forms, methods in runs:
            _run(args, rows, forms, methods)
    finally:
        if not args.keep:
            import shutil

            shutil.rmtree(args.data_dir, ignore_errors=True)


def _child_env(alloc: str) -> dict[str, str]:
    import os

    env = dict(os.environ)
    if alloc == "quiet":
        env.update({"NUMPY_MADVISE_HUGEPAGE": "0", "ARROW_DEFAULT_MEMORY_POOL": "jemalloc"})
    return env


def _run(args: argparse.Namespace, rows: int, forms: list[str], methods: list[str]) -> None:
    paths = inputs(rows, Path(args.data_dir), forms)
    with open("/proc/loadavg") as fh:
        print(f"load average at start: {fh.read().split()[:3]}")
    print(f"rows: {rows:,}; allocation settings: {args.alloc}")
    print("| form | method | wall time (s) | peak RSS (MB) | core series equal to DuckDB's |")
    print("|---|---|---:|---:|---|")
    for form in forms:
        for _ in range(args.repeat):  # methods alternate within a repeat; each is compared with its repeat's peer
            runs = []
            for method in methods:
                proc = subprocess.run(
                    [sys.executable, "-m", "benchmarks.bench_dynamics_matrix", "--child", method, form,
                     str(paths[form])], capture_output=True, text=True, env=_child_env(args.alloc),
                )
                if proc.returncode != 0:
                    tail = proc.stderr.strip().splitlines()[-1:] or ["?"]
                    print(f"| {form} | {method} | failed | | {tail} |", flush=True)
                    continue
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            peer = next((r["core"] for r in runs if r["method"] == "duckdb"), None)
            for r in runs:
                same = "" if peer is None or r["method"] == "duckdb" else ("yes" if _core_equal(r["core"], peer) else "NO")
                print(f"| {form} | {r['method']} | {r['wall_s']:.2f} | {r['peak_mb']:.0f} | {same} |", flush=True)
                if args.json:
                    with open(args.json, "a") as fh:
                        fh.write(json.dumps({**r, "rows": rows, "alloc": args.alloc}) + "\n")
    with open("/proc/loadavg") as fh:
        print(f"load average at end: {fh.read().split()[:3]}")


if __name__ == "__main__":
    main()
