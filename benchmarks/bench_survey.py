"""Benchmark: msme_stats survey estimators vs R survey ``svyby`` vs plain pandas groupby.

Run from the repository root::

    .venv/bin/python -m benchmarks.bench_survey [--firms 160000] [--surveys 150] [--repeat 7]

Generates a pooled WBES-like file (seeded): ~160,000 firms in 150 surveys, 8-20 strata per
survey (some single-firm strata), size class (1/2/3) nested in strata, so survey x size gives
450 domains. Writes it to a temporary CSV that both R and Python read, then times, in the same
run:

* msme_stats ``svy_mean`` / ``svy_proportion`` / ``svy_ratio`` by survey x size (the public
  DataFrame API, everything included: validation, factorisation, estimation, CI, flags);
* R ``svyby(..., svymean / svyratio, na.rm = TRUE)`` on ``svydesign(ids=~1,
  strata=~interaction(survey_id, strata), weights=~weight)``, with
  ``options(survey.lonely.psu = "average")``, timed with ``system.time()`` around the ``svyby``
  call only (design declaration and file reading excluded);
* pandas ``groupby`` weighted means / ratio for the point estimates alone (no SE).

It also checks that msme_stats and R agree (max relative difference of estimates and SEs) and
writes ``benchmarks/RESULTS_survey.md`` (``--no-write`` to skip).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._machine import describe
from msme_stats.survey import svy_mean, svy_proportion, svy_ratio

HERE = Path(__file__).resolve().parent
BY = ["survey_id", "size"]

R_SCRIPT = r"""
suppressPackageStartupMessages(library(survey))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1])
options(survey.lonely.psu = "average")
des <- svydesign(ids = ~1, strata = ~interaction(survey_id, strata, drop = TRUE),
                 weights = ~weight, data = d)
t_mean <- system.time(b_mean <- svyby(~y, ~survey_id + size, des, svymean, na.rm = TRUE))
t_prop <- system.time(b_prop <- svyby(~p, ~survey_id + size, des, svymean, na.rm = TRUE))
t_ratio <- system.time(b_ratio <- svyby(~e, ~survey_id + size, des, svyratio,
                                        denominator = ~x, na.rm = TRUE))
cpu <- function(t) t[["user.self"]] + t[["sys.self"]]
cat("TIME mean", t_mean[["elapsed"]], cpu(t_mean), "\n")
cat("TIME proportion", t_prop[["elapsed"]], cpu(t_prop), "\n")
cat("TIME ratio", t_ratio[["elapsed"]], cpu(t_ratio), "\n")
out <- rbind(
  data.frame(stat = "mean", survey_id = b_mean$survey_id, size = b_mean$size,
             estimate = coef(b_mean), se = SE(b_mean)),
  data.frame(stat = "proportion", survey_id = b_prop$survey_id, size = b_prop$size,
             estimate = coef(b_prop), se = SE(b_prop)),
  data.frame(stat = "ratio", survey_id = b_ratio$survey_id, size = b_ratio$size,
             estimate = coef(b_ratio), se = as.numeric(SE(b_ratio))))
write.csv(format(out, digits = 17), args[2], row.names = FALSE)
cat("R", R.version.string, "\n")
cat("SURVEY", as.character(packageVersion("survey")), "\n")
"""


def make_data(n_firms: int = 160_000, n_surveys: int = 150, seed: int = 2016) -> pd.DataFrame:
    """Pooled WBES-like file; strata codes repeat across surveys (1..H within each)."""
    rng = np.random.default_rng(seed)
    per_survey = rng.multinomial(n_firms, np.full(n_surveys, 1 / n_surveys))
    survey, strata, size = [], [], []
    for s, n_s in enumerate(per_survey):
        H = int(rng.integers(8, 21))
        n_lonely = int(rng.integers(0, 3))  # 0-2 single-firm strata per survey
        shares = rng.dirichlet(np.full(H - n_lonely, 2.0))
        sizes = np.concatenate([np.ones(n_lonely, int), rng.multinomial(n_s - n_lonely, shares)])
        sizes = np.maximum(sizes, 1)
        h = np.repeat(np.arange(1, H + 1), sizes)
        survey.append(np.full(h.size, s))
        strata.append(h)
        size.append(1 + (h - 1) % 3)  # size class nested in strata
    survey = np.concatenate(survey)
    n = survey.size
    d = pd.DataFrame(
        {
            "survey_id": pd.Series(survey).map(lambda s: f"S{s:03d}"),
            "strata": np.concatenate(strata),
            "size": np.concatenate(size),
            "weight": rng.lognormal(2.5, 0.8, n).round(3),
        }
    )
    y = rng.gamma(0.6, 25, n).round(2)
    y[rng.random(n) < 0.08] = np.nan
    p = (rng.random(n) < 0.3).astype(float)
    p[rng.random(n) < 0.05] = np.nan
    x = rng.lognormal(10, 1.5, n).round(0)
    x[rng.random(n) < 0.06] = np.nan
    d["y"], d["p"], d["x"] = y, p, x
    d["e"] = (d["x"] * d["y"] / 100).round(4)
    return d


def _time(fn, repeat: int) -> tuple[float, object, float]:
    """Median wall time, last result, median CPU time of the process."""
    times, cpu, out = [], [], None
    fn()  # warm-up
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return float(np.median(times)), out, float(np.median(cpu))


def _pandas_point(d: pd.DataFrame, kind: str) -> pd.Series:
    if kind == "ratio":
        ok = d["e"].notna() & d["x"].notna()
        num = (d["weight"] * d["e"]).where(ok)
        den = (d["weight"] * d["x"]).where(ok)
    else:
        col = "y" if kind == "mean" else "p"
        ok = d[col].notna()
        num = (d["weight"] * d[col]).where(ok)
        den = d["weight"].where(ok)
    g = pd.DataFrame({"num": num, "den": den, "survey_id": d["survey_id"], "size": d["size"]})
    s = g.groupby(BY, sort=True)[["num", "den"]].sum()
    return s["num"] / s["den"]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--firms", type=int, default=160_000)
    ap.add_argument("--surveys", type=int, default=150)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args(argv)

    load = os.getloadavg()[0]
    data = make_data(args.firms, args.surveys)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "pooled.csv"
        data.to_csv(path, index=False)
        d = pd.read_csv(path)  # both tools read the same file
        n_domains = d.groupby(BY).ngroups
        lonely = int((d.groupby(["survey_id", "strata"]).size() == 1).sum())
        n_strata = d.groupby(["survey_id", "strata"]).ngroups

        py = {}
        kw = dict(by=BY, weight="weight", strata="strata", survey="survey_id", lonely_psu="scaled")
        py["mean"] = _time(lambda: svy_mean(d, "y", **kw), args.repeat)
        py["proportion"] = _time(lambda: svy_proportion(d, "p", **kw), args.repeat)
        py["ratio"] = _time(lambda: svy_ratio(d, "e", "x", **kw), args.repeat)
        multi = _time(lambda: svy_mean(d, ["y", "p", "x", "e"], **kw), args.repeat)
        pdt = {k: _time(lambda k=k: _pandas_point(d, k), args.repeat) for k in py}

        rfile = Path(tmp) / "script.R"
        rfile.write_text(R_SCRIPT)
        rout = Path(tmp) / "r_out.csv"
        t0 = time.perf_counter()
        proc = subprocess.run(
            ["Rscript", str(rfile), str(path), str(rout)],
            capture_output=True,
            text=True,
            check=True,
        )
        r_wall = time.perf_counter() - t0
        rt, rcpu, rver, sver = {}, {}, "?", "?"
        for line in proc.stdout.splitlines():
            parts = line.split()
            if parts and parts[0] == "TIME":
                rt[parts[1]] = float(parts[2])
                rcpu[parts[1]] = float(parts[3])
            elif parts and parts[0] == "R":
                rver = " ".join(parts[1:])
            elif parts and parts[0] == "SURVEY":
                sver = parts[1]
        r = pd.read_csv(rout)

    # agreement with R
    agree = {}
    for stat, (_, out, _) in py.items():
        rr = r[r["stat"] == stat].set_index(BY)
        o = out.set_index(BY).loc[rr.index]
        agree[stat] = max(
            float(np.nanmax(np.abs(o["estimate"] / rr["estimate"] - 1))),
            float(np.nanmax(np.abs(o["se"] / rr["se"] - 1))),
        )

    lines = [
        "# Survey estimation benchmark (msme_stats.survey vs R survey vs pandas)",
        "",
        "Command: `.venv/bin/python -m benchmarks.bench_survey` (from the repository root).",
        "",
        f"Data: {len(d):,} firms, {d['survey_id'].nunique()} surveys, {n_strata:,} strata "
        f"({lonely} single-firm strata), {n_domains} domains (survey x size class); "
        "seeded synthetic file written to a temporary CSV and read by both tools.",
        f"Machine: {describe()}; {rver}; R survey {sver}.",
        'R timing: `system.time()` around the `svyby()` call only (lonely.psu = "average"); '
        f"msme_stats and pandas: median of {args.repeat} runs of the whole public call "
        "(validation, factorisation, estimation, CI, flags).",
        "",
        "Wall = elapsed time; CPU = user + system time of the process (less sensitive to "
        f"other jobs on the machine; 1-minute load average at the start of the run: {load:.2f}).",
        "",
        f"| statistic ({n_domains} domains) | msme_stats wall (s) | R svyby wall (s) | R / msme_stats, wall | msme_stats CPU (s) | R svyby CPU (s) | R / msme_stats, CPU | pandas groupby, point estimates only, wall (s) | max rel. diff vs R (est., SE) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for stat in py:
        t_py, c_py = py[stat][0], py[stat][2]
        t_r, c_r = rt.get(stat, float("nan")), rcpu.get(stat, float("nan"))
        lines.append(
            f"| {stat} | {t_py:.4f} | {t_r:.2f} | {t_r / t_py:,.0f}x | {c_py:.4f} | {c_r:.2f} | "
            f"{c_r / c_py:,.0f}x | {pdt[stat][0]:.4f} | {agree[stat]:.1e} |"
        )
    lines += [
        "",
        f"msme_stats, 4 variables (y, p, x, e) in one `svy_mean` call over {n_domains} domains: "
        f"{multi[0]:.4f} s.",
        f"Rscript wall time for the whole R run (start-up, CSV read, design, 3 svyby): {r_wall:.1f} s.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        (HERE / "RESULTS_survey.md").write_text(text)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
