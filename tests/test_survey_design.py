"""The survey design object, contrasts, bounded intervals and design effects against R goldens.

Goldens: tests/r/make_goldens_contrast.R (R survey; run by ``make goldens``), committed in
tests/goldens/{contrast,interval,deff}_goldens.csv.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import msme_stats as ms
from msme_stats.errors import DuplicateIdError, InvalidValueError, OptionError
from msme_stats.survey import (
    SurveyDesign,
    svy_contrast,
    svy_mean,
    svy_proportion,
    svy_ratio,
    svy_total,
    svyset,
)

GOLD = Path(__file__).parent / "goldens"
RTOL = 1e-10


def _r_adjust_center() -> str:
    text = (GOLD / "VERSIONS.txt").read_text()
    version = next(line.split(":")[1].strip() for line in text.splitlines() if line.startswith("survey:"))
    major, minor = (int(v) for v in version.split(".")[:2])
    return "grand" if (major, minor) >= (4, 3) else "zero"


def _pooled() -> pd.DataFrame:
    d = pd.read_csv(GOLD / "design_pooled.csv").rename(columns={"survey": "survey_id", "w": "weight"})
    d["yb"] = d["y"].clip(upper=100)  # the bounded variable of make_goldens_contrast.R
    return d


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert (np.isnan(a) == np.isnan(b)).all(), (a, b)  # NaN (R NA) in the same places
    ok = ~np.isnan(b)
    return float(np.max(np.abs(a[ok] - b[ok]) / np.maximum(np.abs(b[ok]), 1e-300), initial=0.0))


CONTRAST = pd.read_csv(GOLD / "contrast_goldens.csv", keep_default_na=False, dtype=str)


@pytest.mark.parametrize(
    "spec", sorted({tuple(r) for r in CONTRAST[["stat", "y", "x", "between", "level_a", "level_b", "by", "lonely"]].to_numpy()})
)
def test_contrast_matches_r_svycontrast(spec) -> None:
    stat, y, x, between, la, lb, by, lonely = spec
    gold = CONTRAST[(CONTRAST[["stat", "y", "x", "between", "level_a", "level_b", "by", "lonely"]] == list(spec)).all(axis=1)]
    d = _pooled()
    d[between] = d[between].astype(str)
    out = svy_contrast(
        d, y, between=between, levels=(la, lb), kind=stat, x=x or None, by=by.replace("survey", "survey_id") or None,
        lonely_psu=lonely, adjust_center=_r_adjust_center(),
    )
    if by:
        out = out.set_index("survey_id").loc[gold["key"]]
    assert len(out) == len(gold)
    for col in ("estimate_a", "estimate_b", "difference", "se", "p_value"):
        assert _rel(out[col], gold[col].astype(float)) < RTOL, col
    assert (out["df"].to_numpy() == gold["df"].astype(int).to_numpy()).all()


def test_contrast_is_difference_of_domain_estimates_and_ci() -> None:
    d = _pooled()
    c = svy_contrast(d, "y", between="manuf", levels=(1, 0))
    m = svy_mean(d, "y", by="manuf").set_index("manuf")["estimate"]
    assert c["difference"].iloc[0] == pytest.approx(m[1] - m[0], rel=1e-12)
    from scipy import stats

    q = stats.t.ppf(0.975, c["df"].iloc[0])
    assert c["ci_low"].iloc[0] == pytest.approx(c["difference"].iloc[0] - q * c["se"].iloc[0], rel=1e-12)


def test_contrast_of_disjoint_strata_is_independent() -> None:
    """size is nested in strata: no covariance, var(diff) = var(a) + var(b) (lonely=certainty)."""
    d = _pooled()
    c = svy_contrast(d, "y", between="size", levels=(1, 3), by="survey_id", lonely_psu="certainty")
    m = svy_mean(d, "y", by=["survey_id", "size"], lonely_psu="certainty").set_index(["survey_id", "size"])
    for row in c.itertuples():
        va, vb = m.loc[(row.survey_id, 1), "se"] ** 2, m.loc[(row.survey_id, 3), "se"] ** 2
        assert row.se == pytest.approx(np.sqrt(va + vb), rel=1e-10)


INTERVAL = pd.read_csv(GOLD / "interval_goldens.csv", keep_default_na=False, dtype=str)


def test_bounded_mean_logit_interval_matches_r() -> None:
    d = _pooled()
    g = INTERVAL[INTERVAL["stat"] == "mean"]
    worst = 0.0
    for row in g.itertuples():
        normal = row.ci_df == "Inf"
        by = "survey_id" if row.by else None
        out = svy_mean(d, "yb", by=by, bounds=(0, 100), ci_df="normal" if normal else "design", lonely_psu="average")
        r = out.set_index("survey_id").loc[row.key] if by else out.iloc[0]
        worst = max(worst, _rel([r["ci_low"], r["ci_high"], r["estimate"], r["se"]],
                                [float(row.ci_low), float(row.ci_high), float(row.estimate), float(row.se)]))
        assert 0 <= r["ci_low"] <= r["ci_high"] <= 100
    assert worst < 1e-9  # svyglm converged to epsilon 1e-15; bounds agree to ~1e-12


def test_bounded_ratio_logit_interval_matches_r_formula() -> None:
    d = _pooled()
    g = INTERVAL[INTERVAL["stat"] == "ratio"]
    assert len(g)
    for row in g.itertuples():
        by = "survey_id" if row.by else None
        out = svy_ratio(d, "e", "x", by=by, bounds=(0, 1), lonely_psu="average")
        r = out.set_index("survey_id").loc[row.key] if by else out.iloc[0]
        assert _rel([r["ci_low"], r["ci_high"]], [float(row.ci_low), float(row.ci_high)]) < RTOL


def test_proportion_default_is_logit_and_matches_r() -> None:
    gold = pd.read_csv(GOLD / "survey_goldens.csv", keep_default_na=False, dtype=str)
    g = gold[(gold["case"] == "pooled_ci") & (gold["ci"] == "logit_converged") & (gold["by"] == "")]
    d = _pooled()
    for row in g.itertuples():
        out = svy_proportion(d, "p", ci_df="normal" if row.ci_df == "Inf" else "design", lonely_psu="average")
        assert out.attrs["params"]["ci_method"] == "logit"
        assert _rel([out["ci_low"].iloc[0], out["ci_high"].iloc[0]], [float(row.ci_low), float(row.ci_high)]) < 1e-9


DEFF = pd.read_csv(GOLD / "deff_goldens.csv", keep_default_na=False, dtype=str)


@pytest.mark.parametrize("spec", sorted({tuple(r) for r in DEFF[["stat", "by", "lonely", "deff_mode"]].to_numpy()}))
def test_deff_matches_r(spec) -> None:
    stat, by, lonely, mode = spec
    g = DEFF[(DEFF[["stat", "by", "lonely", "deff_mode"]] == list(spec)).all(axis=1)]
    d = _pooled()
    design = svyset(d, lonely_psu=lonely, deff="replace" if mode == "replace" else True)
    byl = ["survey_id", "size"] if by else None
    if stat == "mean":
        out = design.mean("y", by=byl)
    elif stat == "total":
        out = design.total("y", by=byl)
    else:
        out = design.ratio("e", "x", by=byl)
    if byl:
        out.index = out["survey_id"].astype(str) + "|" + out["size"].astype(str)
        out = out.loc[g["key"]]
    assert _rel(out["deff"], g["deff"].astype(float)) < RTOL
    assert _rel(out["se"], g["se"].astype(float)) < RTOL


def test_design_object_methods_equal_functions() -> None:
    d = _pooled()
    des = svyset(d)
    assert isinstance(des, SurveyDesign) and "strata" in repr(des)
    pd.testing.assert_frame_equal(des.mean("y", by="survey_id"), svy_mean(d, "y", by="survey_id"))
    pd.testing.assert_frame_equal(des.proportion("p", by="size"), svy_proportion(d, "p", by="size"))
    pd.testing.assert_frame_equal(des.ratio("e", "x"), svy_ratio(d, "e", "x"))
    pd.testing.assert_frame_equal(des.total("y"), svy_total(d, "y"))
    assert ms.svyset is svyset


def test_cv_column() -> None:
    out = svy_mean(_pooled(), "y", by="survey_id")
    assert np.allclose(out["cv"], out["se"] / out["estimate"].abs())


def test_duplicate_firm_rows_raise() -> None:
    d = _pooled()
    with pytest.raises(DuplicateIdError, match="firm"):
        svyset(pd.concat([d, d], ignore_index=True), firm_id="firm")


def test_weight_vocabulary() -> None:
    d = _pooled()
    d.attrs["weight_var"] = "wmedian"
    a = svy_mean(d, "y", weight="median")
    b = svy_mean(d, "y", weight="wmedian")
    c = svy_mean(d, "y")
    assert a["estimate"].iloc[0] == b["estimate"].iloc[0] == c["estimate"].iloc[0]
    with pytest.raises(OptionError, match="strict"):
        svy_mean(d, "y", weight="strict")
    d["wstrict"] = d["weight"] * 2
    assert svy_mean(d, "y", weight="wstrict")["estimate"].iloc[0] == pytest.approx(c["estimate"].iloc[0])


def test_float_strata_keep_every_digit() -> None:
    """strata + 1e6 must not merge strata (the f'{v:g}' bug): same SEs as the raw codes."""
    d = _pooled()
    d["strata"] = d["strata"].astype(float)
    base = svy_mean(d, "y", by="survey_id")
    d2 = d.assign(strata=d["strata"] + 1e6)
    shifted = svy_mean(d2, "y", by="survey_id")
    assert np.allclose(base["se"], shifted["se"], rtol=1e-13)
    assert ms._options.format_code(1000045.0) == "1000045"
    assert ms._options.format_code(1000046.0) != ms._options.format_code(1000045.0)
    assert ms._options.format_code(12.5) == "12.5"


def test_dominant_firm_flag_hand_computed() -> None:
    """Firm 1 carries 9 * 100 / (9*100 + 1*10 + 1*10 + 1*10) = 0.9677 of the weighted total."""
    d = pd.DataFrame({
        "survey_id": "S", "strata": [1, 1, 2, 2], "weight": [9.0, 1.0, 1.0, 1.0],
        "y": [100.0, 10.0, 10.0, 10.0], "x": [200.0, 50.0, 50.0, 50.0],
    })
    t = svy_total(d, "y", min_n=1)
    assert t["top_firm_share"].iloc[0] == pytest.approx(900 / 930)
    assert "dominant_firm" in t["flags"].iloc[0]
    r = svy_ratio(d, "y", "x", min_n=1)
    assert "dominant_firm" in r["flags"].iloc[0]
    r2 = svy_ratio(d, "y", "x", min_n=1, dominant_share=0.99)
    assert "dominant_firm" not in r2["flags"].iloc[0]
    m = svy_mean(d, "y", min_n=1)  # means: not an influence share of a numerator
    assert "dominant_firm" not in m["flags"].iloc[0]


def test_lonely_stratum_flag_only_when_material() -> None:
    """One single-firm stratum with a tiny score share is counted but not flagged."""
    rng = np.random.default_rng(1)
    n = 200
    d = pd.DataFrame({"survey_id": "S", "strata": np.r_[np.repeat([1, 2, 3, 4], 50)[:-1], 5],
                      "weight": 10.0, "y": rng.normal(50, 10, n)})
    d.loc[n - 1, "y"] = d["y"].iloc[:-1].mean()  # the lonely firm sits at the mean: no influence
    out = svy_mean(d, "y")
    assert out["n_lonely_strata"].iloc[0] == 1
    assert out["lonely_share"].iloc[0] < 0.01
    assert "lonely_stratum" not in out["flags"].iloc[0]
    d.loc[n - 1, "y"] = 5000.0  # now it carries most of the variability
    out = svy_mean(d, "y")
    assert "lonely_stratum" in out["flags"].iloc[0]


def test_where_query_string_equals_mask() -> None:
    d = _pooled()
    a = svy_mean(d, "y", where="manuf == 1", by="survey_id")
    b = svy_mean(d, "y", where=d["manuf"] == 1, by="survey_id")
    pd.testing.assert_series_equal(a["estimate"], b["estimate"])
    with pytest.raises(InvalidValueError, match="boolean"):
        svy_mean(d, "y", where=d["emp"])


@pytest.mark.parametrize("upper", [0.95, 0.975, 0.995, 0.8])
def test_t_quantile_without_scipy_matches_scipy(upper) -> None:
    from scipy import stats

    from msme_stats._dist import _CACHE, t_ppf_upper_array

    _CACHE.clear()
    df = np.r_[np.arange(1, 400), 457, 1001, 2500, 12_345, 65_536, 135_121, 200_000].astype(float)
    ours = t_ppf_upper_array(upper, df)
    ref = stats.t.ppf(upper, df)
    assert np.max(np.abs(ours / ref - 1)) < 1e-11  # summation error of the series at df > 1e4
    assert np.isnan(t_ppf_upper_array(upper, np.array([0.0, -3.0]))).all()
