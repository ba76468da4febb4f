"""Benchmark: ``msme_stats.estimate`` against its survey core, the previous version and R ``svyby``.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_estimate [--surveys 150] [--firms 902] [--repeat 15]
        [--old-python /path/to/old/.venv/bin/python]

Builds a SYNTHETIC pooled WBES frame (``synthetic_wbes_pool``, seeded; 150 surveys x 902 firms
= 135,300 firms, survey x size class = 450 domains), writes it to Parquet and CSV, then times
in the same run:

* ``estimate(firms, "IC.FRM.TRD.TR5", by=["survey_id", "size_class"])`` (median of
  ``--repeat`` calls), and the same with five indicators;
* the survey core for the same numbers: ``svy_mean`` (and ``svy_proportion``/``svy_ratio``)
  on a frame holding only the design columns and the firm-level variable, and the design
  object's methods on a declared design (``svyset`` once);
* the first ``estimate`` call of a fresh Python session (child processes: import, read the
  Parquet frame, then time the first call only);
* the previous version of the package (``--old-python``: a Python whose ``msme_stats`` is the
  code before the stricter checks), per call and first call, on the same Parquet file;
* the stricter checks alone (duplicate firm ids, variable checks, the where query);
* R ``svyby(~d3c, ~survey_id + size_class, des, svymean, na.rm = TRUE)`` with
  ``options(survey.lonely.psu = "average")``, timed with ``system.time`` around ``svyby`` only,
  and the largest relative difference of estimates and SEs from ``estimate``.

Writes ``benchmarks/RESULTS_estimate.md`` (``--no-write`` to skip).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import msme_stats as ms
from msme_stats.samples.wbes import synthetic_wbes_pool

from ._machine import describe

HERE = Path(__file__).resolve().parent
BY = ["survey_id", "size_class"]
FIVE = ["IC.FRM.TRD.TR5", "IC.FRM.TRD.TR16", "es_export_sales_ratio", "IC.FRM.TRD.TR1", "IC.FRM.INNOV.T5"]

CHILD = r"""
import json, sys, time, warnings
import numpy as np
import pandas as pd
warnings.simplefilter("ignore")
f = pd.read_parquet(sys.argv[1])
mode = sys.argv[2]
import msme_stats as ms
by = ["survey_id", "size_class"]
if mode == "first":
    t0 = time.perf_counter()
    ms.estimate(f, "IC.FRM.TRD.TR5", by=by)
    print(json.dumps({"first": time.perf_counter() - t0}))
else:
    repeat = int(sys.argv[3])
    ms.estimate(f, "IC.FRM.TRD.TR5", by=by)
    one, five = [], []
    inds = json.loads(sys.argv[4])
    for _ in range(repeat):
        t0 = time.perf_counter(); ms.estimate(f, "IC.FRM.TRD.TR5", by=by); one.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); ms.estimate(f, inds, by=by); five.append(time.perf_counter() - t0)
    print(json.dumps({"one": float(np.median(one)), "five": float(np.median(five))}))
"""

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
options(survey.lonely.psu = "average")
des <- svydesign(ids = ~1, strata = ~interaction(survey_id, strata, drop = TRUE), weights = ~weight, data = d)
t <- system.time(b <- svyby(~d3c, ~survey_id + size_class, des, svymean, na.rm = TRUE))
cat("TIME", t[["elapsed"]], "\n")
write.csv(data.frame(survey_id = b$survey_id, size_class = b$size_class, estimate = format(coef(b), digits = 17),
                     se = format(SE(b), digits = 17)), args[2], row.names = FALSE)
"""


def _median_time(fn, repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _paired(fa, fb, repeat: int) -> tuple[float, float]:
    """Median times of two functions timed alternately (so load changes on a shared machine hit
    both alike)."""
    fa()
    fb()
    ta, tb = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fa()
        ta.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        fb()
        tb.append(time.perf_counter() - t0)
    return float(np.median(ta)), float(np.median(tb))


def _child(python: str, path: Path, mode: str, repeat: int = 0, bytecode: bool = True) -> dict:
    """Run CHILD in a fresh interpreter. ``bytecode=True`` lets Python use (and write) .pyc
    files as a normal install does; False sets PYTHONDONTWRITEBYTECODE=1, so every module is
    compiled from source in each session."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if bytecode:  # .pyc files in a cache folder outside the source trees (never the old checkout)
        env["PYTHONPYCACHEPREFIX"] = str(Path(tempfile.gettempdir()) / "msme_stats_bench_pycache")
    else:  # no cache folder to read from and none written: every module compiled from source
        env.pop("PYTHONPYCACHEPREFIX", None)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = subprocess.run(
        [python, "-c", CHILD, str(path), mode, str(repeat), json.dumps(FIVE)],
        capture_output=True, text=True, check=True, cwd=tempfile.gettempdir(), env=env,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--surveys", type=int, default=150)
    ap.add_argument("--firms", type=int, default=902)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--first-runs", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5, help="alternating child rounds, this vs previous version")
    ap.add_argument("--old-python", default="/work/main/.venv/bin/python")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        firms = ms.load_wbes(synthetic_wbes_pool(args.surveys, args.firms), cache=False)
    n_dom = firms.groupby(BY, observed=True).ngroups
    tmp = Path(tempfile.mkdtemp(prefix="bench_estimate_"))
    try:
        pq = tmp / "firms.parquet"
        firms.to_parquet(pq)
        lines = [f"Frame: {len(firms):,} firms, {firms['survey_id'].nunique()} surveys, {n_dom} domains "
                 f"(survey x size class). {describe()}"]

        def est1():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ms.estimate(firms, "IC.FRM.TRD.TR5", by=BY)

        def est5():
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return ms.estimate(firms, FIVE, by=BY)

        # the survey core on the same numbers: a frame with the design columns and the variable
        core = firms[["survey_id", "strata", "weight", "size_class"]].copy()
        core["y"] = firms["direct_export_pct"]
        fv5 = {}
        from msme_stats.indicators import DERIVATIONS, resolve_indicator
        from msme_stats.indicators.es import Conventions

        for ind in FIVE:
            v = DERIVATIONS[resolve_indicator(ind)](firms, Conventions())
            fv5[ind] = v
        manuf = (firms["sector"] == "manufacturing").to_numpy()

        # same intervals as estimate: logit for proportions and percentages (bounds), Wald for days
        def core1():
            return ms.svy_mean(core, "y", by=BY, bounds=(0, 100))

        frames5 = {}
        for ind in FIVE:
            c = core.assign(y=fv5[ind].y.to_numpy())
            if fv5[ind].x is not None:
                c["x"] = fv5[ind].x.to_numpy()
            frames5[ind] = c

        def core5():
            out = []
            for ind in FIVE:
                rid = resolve_indicator(ind)
                c = frames5[ind]
                if fv5[ind].x is not None:
                    out.append(ms.svy_ratio(c, "y", "x", by=BY, bounds=(0, 1), scale=100))
                elif rid in ("es_direct_exporter_share_10", "es_website_share"):
                    out.append(ms.svy_proportion(c, "y", by=BY, scale=100))
                elif rid == "es_days_clear_exports":
                    out.append(ms.svy_mean(c, "y", by=BY))
                else:
                    out.append(ms.svy_mean(c, "y", by=BY, bounds=(0, 100)))
            return out

        design = ms.svyset(core)

        def engine1():
            return design.mean("y", by=BY, bounds=(0, 100))

        t_est1, t_core1 = _paired(est1, core1, 2 * args.repeat)
        t_eng1 = _median_time(engine1, args.repeat)
        t_est5, t_core5 = _paired(est5, core5, args.repeat)
        del manuf

        # the stricter checks alone
        from msme_stats.indicators import _numeric_columns
        from msme_stats.survey import _resolve_where

        fdesign = ms.svyset(firms, firm_id="firm_id")
        t_dup = _median_time(lambda: fdesign._check_unique("bench"), args.repeat)
        t_vars = _median_time(lambda: _numeric_columns(firms, ["direct_export_pct"], who="bench"), args.repeat)
        t_where = _median_time(lambda: _resolve_where(firms, "sector == 'manufacturing'", who="bench"), args.repeat)

        _child(sys.executable, pq, "first")  # writes the .pyc files, as a first import would
        firsts = [_child(sys.executable, pq, "first")["first"] for _ in range(args.first_runs)]
        firsts_src = [_child(sys.executable, pq, "first", bytecode=False)["first"] for _ in range(args.first_runs)]
        old = None
        have_old = bool(args.old_python) and Path(args.old_python).exists()
        # per-call times of both versions in child processes, in alternating rounds (the machine
        # is shared: load changes would otherwise favour whichever version ran at a quiet moment)
        rounds: dict[str, list[dict]] = {"new": [], "old": []}
        for _ in range(args.rounds):
            rounds["new"].append(_child(sys.executable, pq, "calls", args.repeat))
            if have_old:
                rounds["old"].append(_child(args.old_python, pq, "calls", args.repeat))

        def _med(runs: list[dict]) -> dict:
            return {k: float(np.median([r[k] for r in runs])) for k in ("one", "five")}

        new_calls = _med(rounds["new"])
        if have_old:
            _child(args.old_python, pq, "first")
            old_firsts = [_child(args.old_python, pq, "first")["first"] for _ in range(args.first_runs)]
            old = (_med(rounds["old"]), old_firsts)

        # R svyby on the same data
        r_time, r_diff = None, None
        if shutil.which("Rscript"):
            csv = tmp / "firms.csv"
            pd.DataFrame({
                "survey_id": firms["survey_id"].astype(str), "strata": firms["strata"].astype(str),
                "weight": firms["weight"], "size_class": firms["size_class"].astype(str),
                "d3c": firms["direct_export_pct"],
            }).to_csv(csv, index=False)
            rfile, rout = tmp / "bench.R", tmp / "r_out.csv"
            rfile.write_text(R_SCRIPT)
            res = subprocess.run(["Rscript", str(rfile), str(csv), str(rout)], capture_output=True, text=True,
                                 check=True)
            r_time = float(next(ln.split()[1] for ln in res.stdout.splitlines() if ln.startswith("TIME")))
            r = pd.read_csv(rout)
            ours = est1()
            ours = ours.assign(survey_id=ours["survey_id"].astype(str), size_class=ours["size_class"].astype(str))
            m = ours.merge(r, on=BY, suffixes=("", "_r"))
            r_diff = float(max(np.max(np.abs(m["estimate"] / m["estimate_r"] - 1)),
                               np.nanmax(np.abs(m["se"] / m["se_r"] - 1))))
            r_n = len(m)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    rows = [
        ("`estimate`, TR5 by survey x size (this version)", f"{1000 * t_est1:.1f} ms"),
        ("core: `svy_mean` on the design columns + variable", f"{1000 * t_core1:.1f} ms"),
        ("core: `svyset` once, then `design.mean`", f"{1000 * t_eng1:.1f} ms"),
        ("overhead of `estimate` over `svy_mean`", f"{100 * (t_est1 / t_core1 - 1):+.1f}%"),
        ("`estimate`, 5 indicators", f"{1000 * t_est5:.1f} ms"),
        ("core: the 5 matching `svy_*` calls", f"{1000 * t_core5:.1f} ms"),
        ("overhead of `estimate` over the 5 core calls", f"{100 * (t_est5 / t_core5 - 1):+.1f}%"),
        ("first `estimate` call of a fresh session, .pyc files present (median of "
         f"{len(firsts)}; min-max)", f"{np.median(firsts):.3f} s ({min(firsts):.3f}-{max(firsts):.3f})"),
        ("first call, every module compiled from source (PYTHONDONTWRITEBYTECODE=1; median; min-max)",
         f"{np.median(firsts_src):.3f} s ({min(firsts_src):.3f}-{max(firsts_src):.3f})"),
        (f"child process, per call, TR5 / 5 indicators (this version; median of {args.rounds} alternating rounds)",
         f"{1000 * new_calls['one']:.1f} ms / {1000 * new_calls['five']:.1f} ms"),
        ("stricter checks alone: duplicate (survey_id, firm_id)", f"{1000 * t_dup:.2f} ms"),
        ("stricter checks alone: indicator variables (text, raw WBES codes), TR5", f"{1000 * t_vars:.2f} ms"),
        ("stricter checks alone: where query string", f"{1000 * t_where:.2f} ms"),
    ]
    if old is not None:
        oc, of = old
        rows += [
            (f"previous version, per call, TR5 / 5 indicators (child process; same {args.rounds} rounds)",
             f"{1000 * oc['one']:.1f} ms / {1000 * oc['five']:.1f} ms"),
            ("previous version, first call (median; min-max)",
             f"{np.median(of):.3f} s ({min(of):.3f}-{max(of):.3f})"),
            ("this version vs previous, per call TR5 / 5 indicators",
             f"{100 * (new_calls['one'] / oc['one'] - 1):+.1f}% / {100 * (new_calls['five'] / oc['five'] - 1):+.1f}%"),
            ("stricter checks (sum of the three above) as % of the previous per-call TR5 time",
             f"{100 * (t_dup + t_vars) / oc['one']:.1f}% (+{100 * t_where / oc['one']:.1f}% with a where string)"),
        ]
    if r_time is not None:
        rows += [
            ("R `svyby(~d3c, ~survey_id + size_class, svymean)`", f"{r_time:.2f} s"),
            ("R time / `estimate` time", f"{r_time / t_est1:.0f}x"),
            (f"max relative difference of estimates and SEs vs R ({r_n} domains)", f"{r_diff:.1e}"),
        ]
    table = "\n".join(["| measure | value |", "|---|---:|", *[f"| {a} | {b} |" for a, b in rows]])
    text = "\n\n".join(["# estimate vs survey core, previous version and R svyby", *lines, table]) + "\n"
    print(text)
    if not args.no_write:
        (HERE / "RESULTS_estimate.md").write_text(text)


if __name__ == "__main__":
    main()
