"""Write the small input designs used by ``tests/r/make_goldens.R`` and ``tests/test_survey.py``.

Run from the repository root: ``.venv/bin/python tests/r/make_designs.py``. Output (committed):

* ``tests/goldens/design_worked.csv``: the 12-firm example of METHODS §2.9.2, typed in by hand;
  firm 4's ``d3c`` = -9 is already recoded to missing (``NA``).
* ``tests/goldens/design_pooled.csv``: three seeded WBES-like surveys pooled in one file. Stratum
  codes repeat across surveys (so the design must use survey x strata), each survey has
  single-firm strata, ``size`` is nested in strata (like ``a6a``), ``emp`` cuts across strata
  (like ``l1`` classes) and is missing for some firms, ``y``/``x`` have missing values, ``p`` is 0
  for every firm of one domain and 1 for every firm of another, ``manuf`` is a scope mask.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "goldens"

# METHODS §2.9.2: firm, stratum, w, domain, y (d3c), x (d2)
WORKED = [
    (1, 1, 10, "S", 0, 100),
    (2, 1, 12, "S", 20, 250),
    (3, 1, 8, "M", 50, 400),
    (4, 1, 10, "S", None, 120),
    (5, 2, 5, "M", 100, 900),
    (6, 2, 6, "L", 0, 1500),
    (7, 2, 4, "M", 10, 700),
    (8, 3, 2, "L", 30, 5000),
    (9, 3, 3, "L", 0, 3000),
    (10, 3, 2.5, "M", 5, 800),
    (11, 3, 1.5, "L", 60, 8000),
    (12, 4, 20, "S", 15, 60),
]


def worked() -> pd.DataFrame:
    d = pd.DataFrame(WORKED, columns=["firm", "stratum", "w", "domain", "y", "x"])
    d["y"] = d["y"].astype(float)
    d["p"] = np.where(d["y"].isna(), np.nan, (d["y"] >= 10).astype(float))
    d["e"] = d["x"] * d["y"] / 100
    d["survey"] = "W"
    return d


def pooled(seed: int = 20261127) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    # (survey, firms per stratum); strata are numbered 1..H inside each survey.
    # size (1/2/3) is nested in strata: stratum h has size 1 + (h - 1) % 3.
    layout = {
        "AAA2015": [9, 7, 1, 6, 5, 8, 2],  # one single-firm stratum (3), one 2-firm stratum
        "BBB2019": [10, 1, 6, 7, 1, 5],  # two single-firm strata (2 and 5)
        "CCC2021": [8, 6, 5, 9, 4, 1, 3, 7],  # one single-firm stratum (6)
    }
    fid = 0
    for survey, sizes in layout.items():
        for h, nh in enumerate(sizes, start=1):
            size = 1 + (h - 1) % 3
            for _ in range(nh):
                fid += 1
                frames.append(
                    {
                        "firm": fid,
                        "survey": survey,
                        "strata": h,
                        "size": size,
                        "w": round(float(rng.uniform(1, 40)), 3),
                        "emp_n": int(rng.integers(1, 300)),
                        "manuf": int(rng.random() < 0.55),
                        "y": round(float(rng.gamma(1.2, 20)), 2),
                        "x": round(float(rng.lognormal(6, 1)), 1),
                    }
                )
    d = pd.DataFrame(frames)
    d["emp"] = pd.cut(d["emp_n"], [0, 19, 99, np.inf], labels=["e1", "e2", "e3"]).astype(str)
    d.loc[rng.random(len(d)) < 0.06, "emp"] = np.nan  # missing domain variable
    d["p"] = (rng.random(len(d)) < 0.4).astype(float)
    d.loc[(d["survey"] == "BBB2019") & (d["size"] == 3), "p"] = 0.0  # proportion exactly 0
    d.loc[(d["survey"] == "CCC2021") & (d["size"] == 1), "p"] = 1.0  # proportion exactly 1
    d["p_full"] = d["p"]  # p without missing values (for svyciprop on the whole design)
    d.loc[rng.random(len(d)) < 0.1, "y"] = np.nan
    d.loc[rng.random(len(d)) < 0.07, "x"] = np.nan
    d.loc[rng.random(len(d)) < 0.08, "p"] = np.nan
    # the single firm of AAA2015 stratum 3 has a missing y (lonely stratum absent from S for y)
    d.loc[(d["survey"] == "AAA2015") & (d["strata"] == 3), "y"] = np.nan
    d["e"] = d["x"] * d["y"] / 100
    return d.drop(columns="emp_n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    worked().to_csv(OUT / "design_worked.csv", index=False, na_rep="NA")
    pooled().to_csv(OUT / "design_pooled.csv", index=False, na_rep="NA")


if __name__ == "__main__":
    main()
