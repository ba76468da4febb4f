"""Benchmark: the whole Enterprise Surveys catalogue on a 160,000-firm pooled file.

Run: ``.venv/bin/python -m benchmarks.bench_catalogue``. Builds a SYNTHETIC pooled frame of
about 160,000 firms in 150 surveys, then times in the same run:

* msme_stats ``estimate`` of every Enterprise Surveys indicator by survey x size class x
  sector, with design-based standard errors (target: under 2 s in all);
* peer: plain pandas ``groupby`` weighted means of the same firm-level variables (point
  estimates only, no standard errors).
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

import msme_stats as ms
from msme_stats.indicators.es import DERIVATIONS, Conventions
from msme_stats.samples.wbes import synthetic_wbes_pool

from ._machine import describe


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--surveys", type=int, default=150)
    ap.add_argument("--firms", type=int, default=1067)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args(argv)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        firms = ms.load_wbes(synthetic_wbes_pool(args.surveys, args.firms), cache=False)
    ids = list(ms.list_indicators("es")["id"])
    by = ["survey_id", "size_class", "sector"]

    def ours():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ms.estimate(firms, ids, by=by)

    def peer():
        conv = Conventions()
        keys = [firms[c] for c in by]
        out = []
        for ind in ids:
            fv = DERIVATIONS[ind](firms, conv)
            y = fv.y.to_numpy()
            ok = ~np.isnan(y)
            w = firms["weight"].to_numpy()
            num = (firms.assign(_wy=np.where(ok, w * np.nan_to_num(y), 0.0), _w=np.where(ok, w, 0.0))
                   .groupby(keys, observed=True)[["_wy", "_w"]].sum())
            out.append(num["_wy"] / num["_w"])
        return out

    t_ours, t_peer = [], []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        table = ours()
        t_ours.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        peer()
        t_peer.append(time.perf_counter() - t0)
    print(f"Machine: {describe()}")
    print(f"Frame: {len(firms):,} firms, {firms['survey_id'].nunique()} surveys; {len(ids)} indicators; "
          f"{len(table):,} estimates (indicator x survey x size class x sector)\n")
    print(f"| step | best of {args.repeat} (s) |")
    print("|---|---:|")
    print(f"| msme_stats estimate, all indicators, with SE and CI | {min(t_ours):.3f} |")
    print(f"| peer: pandas groupby weighted means, point estimates only | {min(t_peer):.3f} |")


if __name__ == "__main__":
    main()
