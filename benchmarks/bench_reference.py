"""Benchmark: country matching and year-aware group lookup on a WBES-pool-sized column.

Run: ``.venv/bin/python -m benchmarks.bench_reference`` (a few seconds). Builds a column of
180,000 WBES comprehensive-file country labels (``"Kenya2018"``, ``"Congo, Dem. Rep.2013"``,
...; 150 distinct survey labels) and times, in the same run:

* peer: plain pandas, strip the year with ``str.extract`` and ``map`` a ready-made
  name -> ISO 3 dict (exact names only, no normalisation, no alias patterns, no errors);
* msme_stats ``to_iso3`` (cold: first call in the process, builds its lookup index; warm);
* msme_stats ``country_groups(iso3, year, group_type="income")`` for the same rows, with the
  peer a pandas interval merge written by hand.

Reports the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from msme_stats import reference
from msme_stats.reference import countries, country_groups, group_table, to_iso3

from ._machine import best_of, describe


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=180_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    rng = np.random.default_rng(1)
    c = countries()
    names = c["name"].sample(75, random_state=1).tolist()
    labels = [f"{n}{y}" for n in names for y in (2009, 2019)]
    rows = pd.Series(rng.choice(labels, size=args.rows))
    years = rows.str[-4:].astype(int).to_numpy()
    print(describe())
    print(f"{args.rows:,} rows, {rows.nunique()} distinct labels")

    # cold call: clear caches so the index is rebuilt
    reference._index.cache_clear()
    reference._countries.cache_clear()
    reference._read_cached.cache_clear()
    t0 = time.perf_counter()
    out = to_iso3(rows)
    cold = time.perf_counter() - t0
    warm = best_of(lambda: to_iso3(rows), args.repeat)

    lookup = dict(zip(c["name"], c["iso3"], strict=True))

    def peer():
        base = rows.str.extract(r"^(.*?)\s*((?:19|20)\d{2})$")[0]
        return base.map(lookup)

    peer_t = best_of(peer, args.repeat)
    assert (peer().to_numpy() == out.to_numpy()).all()
    print(f"to_iso3            cold {cold * 1e3:8.1f} ms   warm {warm * 1e3:8.1f} ms")
    print(f"peer pandas map         {peer_t * 1e3:8.1f} ms   (exact names only)")

    g = group_table()
    inc = g[g["group_type"] == "income"]

    def groups():
        return country_groups(out, years, group_type="income")

    def peer_groups():
        f = pd.DataFrame({"iso3": out.to_numpy(), "year": years})
        m = f.reset_index().merge(inc, on="iso3", how="left")
        ok = (m["valid_from"] <= m["year"]) & (m["valid_to"].fillna(9999) >= m["year"])
        return m[ok.fillna(False)].set_index("index")["group"].reindex(f.index)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        g_t = best_of(groups, args.repeat)
        same = groups().fillna("").to_numpy() == peer_groups().fillna("").to_numpy()
    assert same.all()
    pg_t = best_of(peer_groups, args.repeat)
    print(f"country_groups          {g_t * 1e3:8.1f} ms")
    print(f"peer pandas merge       {pg_t * 1e3:8.1f} ms")


if __name__ == "__main__":
    main()
