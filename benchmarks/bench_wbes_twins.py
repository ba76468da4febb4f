"""Benchmark: loading the WBES format twins (real-file layout) and the cost of the Parquet cache.

Run: ``.venv/bin/python -m benchmarks.bench_wbes_twins`` (about 30 s). For each twin in
``tests/fixtures/wbes_twins/`` (Stata 115, 311-433 variables, 364-1663 firms), in the
same run:

* peer: ``pandas.read_stata(convert_categoricals=False)`` of the whole file;
* ``load_wbes(cache=False)``: read the header, the needed columns, the value labels, clean;
* ``load_wbes`` first load with the cache: the same plus SHA-256 of the file and the
  Parquet write (the cost of caching is the difference with the line above);
* cached reload (stat signature unchanged: no hash);
* cached reload of a touched file (new mtime/ctime, same bytes: SHA-256 of the file,
  then the entry's signature is refreshed);
* SHA-256 of the file alone.

``--legacy`` passes ``country=``/``year=`` (the only way the loader before issue 10 could
read these files at all), so the same command runs on an older checkout for a before/after.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pandas as pd

import msme_stats as ms

from ._machine import best_of, describe

TWINS = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "wbes_twins"
FILES = {"Bolivia-2017-full-data.dta": ("BOL", 2017), "Kenya-2018-full-data.dta": ("KEN", 2018),
         "Turkey-2019-full-data.dta": ("TUR", 2019)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--legacy", action="store_true", help="pass country=/year= (loader before issue 10)")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="msme_bench_twins_"))
    rows = []
    try:
        for name, (iso, year) in FILES.items():
            src = work / name
            shutil.copy(TWINS / name, src)
            cache = work / "cache"
            kw = {"country": iso, "year": year} if args.legacy else {}

            def load(cache_on: bool, src=src, kw=kw, cache=cache):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return ms.load_wbes(src, cache=cache_on, cache_dir=cache, **kw)

            def first(cache=cache):
                shutil.rmtree(cache, ignore_errors=True)
                load(True)

            def touched(src=src):
                os.utime(src)
                load(True)

            def sha(src=src):
                with open(src, "rb") as fh:
                    hashlib.file_digest(fh, "sha256").hexdigest()

            t_peer = best_of(lambda src=src: pd.read_stata(src, convert_categoricals=False), args.repeat)
            t_nocache = best_of(lambda: load(False), args.repeat)
            t_first = best_of(first, args.repeat)
            load(True)
            t_reload = best_of(lambda: load(True), args.repeat)
            t_touched = best_of(touched, args.repeat) if not args.legacy else float("nan")
            t_sha = best_of(sha, args.repeat)
            rows.append((name, src.stat().st_size / 1e6, t_peer, t_nocache, t_first, t_reload, t_touched, t_sha))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nMachine: {describe()}")
    print(f"Loader: {'legacy options country=/year=' if args.legacy else 'no options'}; best of {args.repeat} (s)\n")
    print("| file | MB | peer read_stata (all columns) | load_wbes, no cache | first load + cache write | cached reload | reload after touch (hash) | SHA-256 alone |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:.1f} | {r[2]:.3f} | {r[3]:.3f} | {r[4]:.3f} | {r[5]:.4f} | {r[6]:.4f} | {r[7]:.4f} |")


if __name__ == "__main__":
    main()
