"""Benchmark: first load and cached reload of a WBES-comprehensive-size pooled .dta file.

Run: ``.venv/bin/python -m benchmarks.bench_load`` (about 3 minutes). Writes a SYNTHETIC
pooled Stata file of about 180,000 firms and a few hundred variables under
``benchmarks/_work/`` (ignored by git) and times, in the same run:

* peer: ``pandas.read_stata`` of the columns the loader needs (no cleaning);
* msme_stats ``load_wbes`` on first load (read + clean + write the Parquet cache);
* msme_stats ``load_wbes`` cached reload (Parquet).

Reports the best of ``--repeat`` runs for each and the ratio peer / cached reload
(target: at least 20).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import pandas as pd

import msme_stats as ms
from msme_stats.samples.wbes import synthetic_wbes_pool
from msme_stats.sources.wbes import _needed_raw

from ._machine import best_of, describe

WORK = Path(__file__).resolve().parent / "_work"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--surveys", type=int, default=120)
    ap.add_argument("--firms", type=int, default=1500)
    ap.add_argument("--extra-vars", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    WORK.mkdir(exist_ok=True)
    path = WORK / f"pooled_{args.surveys}x{args.firms}_{args.extra_vars}_synthetic.dta"
    if not path.exists():
        t0 = time.perf_counter()
        pool = synthetic_wbes_pool(args.surveys, args.firms, extra_vars=args.extra_vars)
        pool.to_stata(path, version=118, write_index=False)
        print(f"wrote {path.name}: {len(pool):,} firms x {pool.shape[1]} variables, "
              f"{path.stat().st_size / 1e6:.0f} MB in {time.perf_counter() - t0:.0f} s")
    reader = pd.io.stata.StataReader(path)
    with reader:
        varlist = list(reader.variable_labels())
    cols = [v for v in varlist if v.lower() in set(_needed_raw([c.lower() for c in varlist], None))]
    n_rows = None

    def peer():
        nonlocal n_rows
        n_rows = len(pd.read_stata(path, columns=cols, convert_categoricals=True))

    cache = Path(tempfile.mkdtemp(prefix="msme_bench_cache_"))

    def first_load():
        shutil.rmtree(cache, ignore_errors=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ms.load_wbes(path, cache_dir=cache)

    def reload():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ms.load_wbes(path, cache_dir=cache)

    t_peer = best_of(peer, args.repeat)
    t_first = best_of(first_load, args.repeat)
    t_reload = best_of(reload, args.repeat)
    shutil.rmtree(cache, ignore_errors=True)
    print(f"\nMachine: {describe()}")
    print(f"File: {n_rows:,} firms, {len(varlist)} variables, {path.stat().st_size / 1e6:.0f} MB; {len(cols)} columns needed\n")
    print(f"| step | best of {args.repeat} (s) |")
    print("|---|---:|")
    print(f"| peer: pandas.read_stata, needed columns only | {t_peer:.3f} |")
    print(f"| msme_stats load_wbes, first load (read + clean + write cache) | {t_first:.3f} |")
    print(f"| msme_stats load_wbes, cached reload | {t_reload:.3f} |")
    print(f"\nCached reload is {t_peer / t_reload:.1f}x faster than pandas.read_stata of the same columns (target >= 20x).")


if __name__ == "__main__":
    main()
