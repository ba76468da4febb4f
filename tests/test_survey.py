"""Tests of msme_stats.survey: R survey goldens, METHODS §2.9.2, properties, errors.

Golden values come from ``tests/r/make_goldens.R`` (R survey, version in
``tests/goldens/VERSIONS.txt``) run on the designs written by ``tests/r/make_designs.py``.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from msme_stats.errors import (
    DesignError,
    ExclusionWarning,
    InvalidValueError,
    InvalidWeightError,
    LonelyStratumError,
    MissingColumnsError,
    OptionError,
)
from msme_stats.survey import (
    _domain_estimates,
    svy_mean,
    svy_proportion,
    svy_ratio,
    svy_total,
)

GOLD = Path(__file__).parent / "goldens"
RTOL = 1e-10
OUT_COLS = [
    "estimate",
    "se",
    "ci_low",
    "ci_high",
    "df",
    "n",
    "sum_weight",
    "cv",
    "deff",
    "n_lonely_strata",
    "lonely_share",
    "top_firm_share",
    "flags",
]


def _r_adjust_center() -> str:
    """Centre used by the R survey version that made the goldens (METHODS §2.9)."""
    text = (GOLD / "VERSIONS.txt").read_text()
    version = next(
        line.split(":")[1].strip() for line in text.splitlines() if line.startswith("survey:")
    )
    major, minor = (int(v) for v in version.split(".")[:2])
    return "grand" if (major, minor) >= (4, 3) else "zero"


def _design(name: str) -> pd.DataFrame:
    d = pd.read_csv(GOLD / f"design_{name}.csv")
    if "stratum" in d.columns:
        d = d.rename(columns={"stratum": "strata"})
    return d


def _close(a: float, b: float, rtol: float = RTOL, atol: float = 0.0) -> bool:
    if math.isnan(b):
        return math.isnan(a)
    return abs(a - b) <= rtol * abs(b) + atol


# ======================================================================================
# R goldens
# ======================================================================================
GOLDENS = pd.read_csv(GOLD / "survey_goldens.csv", keep_default_na=False, na_values=["NA"])
SPEC_COLS = [
    "design",
    "stat",
    "y",
    "x",
    "by",
    "where",
    "lonely",
    "domain_mode",
    "ci",
    "level",
    "ci_df",
]
CASES = sorted(GOLDENS[["case", "lonely"]].drop_duplicates().itertuples(index=False, name=None))


def _call(spec: dict, data: pd.DataFrame, center: str) -> pd.DataFrame:
    by = spec["by"].split("+") if spec["by"] else None
    kw = dict(
        by=by,
        where=(data[spec["where"]] == 1) if spec["where"] else None,
        weight="w",
        strata="strata",
        survey="survey",
        lonely_psu=spec["lonely"],  # R names: tests the aliases too
        adjust_center=center,
        domain_mode=spec["domain_mode"],
        level=float(spec["level"]),
        ci_df="normal" if spec["ci"] == "normal" or spec["ci_df"] == "Inf" else "design",
    )
    stat = spec["stat"]
    if stat == "mean":
        return svy_mean(data, spec["y"], **kw)
    if stat == "total":
        return svy_total(data, spec["y"], **kw)
    if stat == "ratio":
        return svy_ratio(data, spec["y"], spec["x"], **kw)
    method = {"logit": "logit", "logit_converged": "logit", "beta": "korn_graubard"}
    method = method.get(spec["ci"], "wald")
    return svy_proportion(data, spec["y"], ci_method=method, **kw)


def _keys(out: pd.DataFrame, by: str) -> list[str]:
    if not by:
        return [""] * len(out)
    cols = by.split("+")
    return out[cols].astype(str).agg("|".join, axis=1).tolist()


@pytest.mark.parametrize(("case", "lonely"), CASES)
def test_matches_r_survey(case: str, lonely: str) -> None:
    center = _r_adjust_center()
    gold = GOLDENS[(GOLDENS["case"] == case) & (GOLDENS["lonely"] == lonely)]
    designs = {name: _design(name) for name in gold["design"].unique()}
    problems: list[str] = []
    n_checked = 0
    for spec_vals, g in gold.groupby(SPEC_COLS, sort=False, dropna=False):
        spec = dict(zip(SPEC_COLS, spec_vals, strict=True))
        spec = {k: ("" if isinstance(v, float) and math.isnan(v) else v) for k, v in spec.items()}
        spec["ci_df"] = str(spec["ci_df"]).replace("inf", "Inf")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExclusionWarning)
            out = _call(spec, designs[spec["design"]], center)
        out.index = _keys(out, spec["by"])
        if spec["domain_mode"] == "full_design" and spec["ci"] == "none":
            # the same set of domains as R (R's extra domain for missing `by` values is dropped)
            assert sorted(out.index[out["n"] > 0]) == sorted(g["key"].astype(str)), spec
        for _, r in g.iterrows():
            got = out.loc[str(r["key"])]
            # an SE that is zero in exact arithmetic (e.g. a ratio domain made of one firm)
            # comes out as rounding noise; allow noise relative to the estimate's size
            atol = 1e-13 * max(abs(float(r["estimate"])), 1e-2)
            pairs = [("estimate", r["estimate"]), ("se", r["se"])]
            if spec["ci"] == "beta" and float(r["se"]) == 0:
                # n_eff = Inf: R's qbeta(q, Inf, Inf) returns 0.5 whatever p is (an artefact);
                # msme_stats returns the limit [p, p] instead
                assert got["ci_low"] == got["ci_high"] == got["estimate"], spec
            elif spec["ci"] != "none":
                pairs += [("ci_low", r["ci_low"]), ("ci_high", r["ci_high"])]
                if (
                    spec["ci"] in ("t", "logit", "logit_converged", "beta")
                    and spec["ci_df"] != "Inf"
                ):
                    if int(got["df"]) != int(float(spec["ci_df"])):
                        problems.append(f"{spec} {r['key']}: df {got['df']} != {spec['ci_df']}")
            for col, want in pairs:
                n_checked += 1
                # svyciprop(method="logit") stops svyglm at glm's epsilon = 1e-8, which leaves
                # ~1e-7 relative error in its bounds; "logit_converged" is the same interval
                # from svyglm run to convergence and is held to RTOL.
                rtol = 1e-6 if spec["ci"] == "logit" and col.startswith("ci_") else RTOL
                if not _close(float(got[col]), float(want), rtol, atol):
                    problems.append(f"{spec} key={r['key']!r} {col}: {got[col]!r} != R {want!r}")
    assert n_checked > 0
    assert not problems, "\n".join(problems[:20])


def test_goldens_cover_the_brief() -> None:
    """The golden file holds every lonely option, drop mode, CIs and both designs."""
    assert set(GOLDENS["lonely"]) == {"certainty", "remove", "average", "adjust"}
    assert set(GOLDENS["domain_mode"]) == {"full_design", "drop"}
    assert set(GOLDENS["ci"]) >= {"none", "normal", "t", "logit", "beta"}
    assert set(GOLDENS["stat"]) == {"mean", "proportion", "ratio", "total"}
    props = GOLDENS[(GOLDENS["stat"] == "proportion") & (GOLDENS["ci"] == "none")]
    assert (props["estimate"] == 0).any() and (props["estimate"] == 1).any()
    assert "svyciprop(method='beta')" in set(GOLDENS["source"])
    assert len(GOLDENS) > 1000


# ======================================================================================
# METHODS §2.9.2 worked example, values as printed (10 significant digits)
# ======================================================================================
# (statistic, estimate, SE certainty=remove, SE average, SE adjust with centre 0)
METHODS_TABLE = [
    ("mean", "y", None, None, 22.19594595, 8.337146420, 9.626907460, 8.560984345),
    ("proportion", "p", None, None, 0.7094594595, 0.1535786578, 0.1773373588, 0.1724891202),
    ("ratio", "e", "x", None, 0.3025996534, 0.1277443612, 0.1475064826, 0.1277837778),
    ("total", "e", None, None, 17460, 8192.582011, 9459.978858, 8194.559171),
    ("total", "x", None, None, 58900, 10575.60085, 12211.65199, 10643.46435),
    ("mean", "y", None, "L", 12, 9.406040612, 9.406040612, 9.406040612),
    ("mean", "y", None, "M", 48.84615385, 19.28407118, 19.28407118, 19.28407118),
    ("mean", "y", None, "S", 12.85714286, 4.207250638, 5.949950913, 4.329225191),
    ("drop", "y", None, None, 22.19594595, 8.515519002, 9.832874376, 8.734787141),
]
# printed to 10 significant digits: relative rounding error <= 0.5e-9 / 1.0
RTOL10 = 5.1e-10


def _worked(stat, y, x, dom, lonely, center="zero", **kw):
    d = _design("worked")
    base = dict(weight="w", strata="strata", survey=None, lonely_psu=lonely, adjust_center=center)
    base.update(kw)
    if dom is not None:
        base["by"] = "domain"
    if stat == "drop":
        base["domain_mode"] = "drop"
        stat = "mean"
    f = {"mean": svy_mean, "proportion": svy_proportion, "total": svy_total}.get(stat)
    out = svy_ratio(d, y, x, **base) if stat == "ratio" else f(d, y, **base)
    if dom is not None:
        out = out[out["domain"] == dom]
    assert len(out) == 1
    return out.iloc[0]


@pytest.mark.parametrize("row", METHODS_TABLE, ids=[f"{r[0]}-{r[1]}-{r[3]}" for r in METHODS_TABLE])
def test_methods_worked_example(row) -> None:
    stat, y, x, dom, est, se_cert, se_avg, se_adj = row
    for lonely, se in (
        ("certainty", se_cert),
        ("remove", se_cert),
        ("scaled", se_avg),
        ("centered", se_adj),
    ):
        got = _worked(stat, y, x, dom, lonely)
        assert _close(got["estimate"], est, RTOL10), (lonely, got["estimate"], est)
        assert _close(got["se"], se, RTOL10), (lonely, got["se"], se)


def test_methods_worked_example_grand_centre_totals() -> None:
    # METHODS §2.9.2: with adjust_center="grand" (survey >= 4.3) the adjust SEs of the totals are
    # 8291.201662 (total e) and 11206.92060 (total x); the means etc. are unchanged.
    assert _close(_worked("total", "e", None, None, "centered", "grand")["se"], 8291.201662, RTOL10)
    assert _close(_worked("total", "x", None, None, "centered", "grand")["se"], 11206.92060, RTOL10)
    for stat, y, x in (("mean", "y", None), ("proportion", "p", None), ("ratio", "e", "x")):
        a = _worked(stat, y, x, None, "centered", "grand")["se"]
        b = _worked(stat, y, x, None, "centered", "zero")["se"]
        assert _close(a, b, 1e-12)


def test_methods_worked_example_df_and_ci() -> None:
    # df = 12 firms - 4 strata = 8; t_{0.975,8} = 2.306004135; CI (certainty) as printed in METHODS
    # normal [5.855439, 38.53645] (R confint(m)); t8 [2.970452, 41.42144] (confint(m, df=degf(des)))
    got = _worked("mean", "y", None, None, "certainty")
    assert got["df"] == 8 and got["n"] == 11 and got["sum_weight"] == 74.0
    assert _close((got["ci_high"] - got["estimate"]) / got["se"], 2.306004135, 5e-10)
    assert _close(got["ci_low"], 2.970452, 2e-7) and _close(got["ci_high"], 41.42144, 2e-7)
    got = _worked("mean", "y", None, None, "certainty", ci_df="normal")
    assert _close(got["ci_low"], 5.855439, 2e-7) and _close(got["ci_high"], 38.53645, 2e-7)


# ======================================================================================
# hand-computed small cases
# ======================================================================================
def _tiny() -> pd.DataFrame:
    """Two surveys; A has strata a1 (3 firms) and a2 (1 firm, lonely); B has b1 (2 firms)."""
    return pd.DataFrame(
        {
            "survey_id": ["A", "A", "A", "A", "B", "B"],
            "strata": ["a1", "a1", "a1", "a2", "b1", "b1"],
            "weight": [1.0, 1.0, 2.0, 4.0, 1.0, 3.0],
            "y": [1.0, 3.0, 5.0, 2.0, 0.0, 4.0],
            "g": ["u", "v", "u", "u", "v", "v"],
        }
    )


def test_hand_computed_mean_and_se() -> None:
    d = _tiny()
    out = svy_mean(d, "y", by="survey_id", lonely_psu="certainty", min_n=1)
    a = out.set_index("survey_id").loc["A"]
    # survey A: W = 8, sum w y = 1 + 3 + 10 + 8 = 22, mean = 2.75
    # scores z = w (y - 2.75) / 8: a1 -> -0.21875, 0.03125, 0.5625 (sum 0.375, zbar 0.125),
    # a2 (lonely, certainty) -> 0.
    # c_a1 = 3/2 * [(-0.34375)^2 + (-0.09375)^2 + 0.4375^2] = 1.5 * 0.31999... = 0.4828125
    assert a["estimate"] == pytest.approx(2.75, rel=1e-15)
    assert a["se"] == pytest.approx(
        math.sqrt(1.5 * (0.34375**2 + 0.09375**2 + 0.4375**2)), rel=1e-14
    )
    # df of survey A = 4 firms - 2 strata = 2; B = 2 - 1 = 1
    assert a["df"] == 2 and out.set_index("survey_id").loc["B", "df"] == 1
    assert a["n_lonely_strata"] == 1 and a["flags"] == "lonely_stratum"
    # scaled: V * H_S / n_ok = V * 2 / 1
    s = svy_mean(d, "y", by="survey_id", min_n=1).set_index("survey_id").loc["A"]
    assert s["se"] == pytest.approx(a["se"] * math.sqrt(2), rel=1e-14)


def test_df_rule_pooled_domain_spans_surveys() -> None:
    d = _tiny()
    out = svy_mean(d, "y", by="g", lonely_psu="certainty").set_index("g")
    # domain u touches A only (df 2); v touches A and B (2 + 1 = 3)
    assert out.loc["u", "df"] == 2 and out.loc["v", "df"] == 3
    whole = svy_mean(d, "y", lonely_psu="certainty")
    assert whole["df"].item() == 6 - 3
    drop = svy_mean(d, "y", by="g", lonely_psu="certainty", domain_mode="drop").set_index("g")
    # drop: u = firms 1, 3, 4 in strata a1, a1, a2 -> 3 - 2 = 1
    assert drop.loc["u", "df"] == 1


def test_domain_with_one_member_in_a_big_stratum_is_not_lonely() -> None:
    d = _tiny()
    out = svy_mean(d, "y", by="g", lonely_psu="fail", where=d["strata"] != "a2").set_index("g")
    # domain v has a single firm in a1 (n_h = 3): no LonelyStratumError, no lonely flag
    assert out.loc["v", "n_lonely_strata"] == 0


def test_ratio_and_total_hand_computed() -> None:
    d = _tiny().assign(x=[2.0, 2.0, 2.0, 2.0, 1.0, 1.0])
    r = svy_ratio(d, "y", "x", survey=None, lonely_psu="certainty")
    # sum w y = 22 + 0 + 12 = 34; sum w x = 16 + 4 = 20 -> 1.7
    assert r["estimate"].item() == pytest.approx(1.7, rel=1e-15)
    t = svy_total(d, "y", survey=None, strata=None)
    assert t["estimate"].item() == pytest.approx(34.0, rel=1e-15)
    # one stratum of 6 firms, z = w y = (1, 3, 10, 8, 0, 12), mean 34/6
    z = np.array([1, 3, 10, 8, 0, 12.0])
    assert t["se"].item() == pytest.approx(
        math.sqrt(6 / 5 * ((z - z.mean()) ** 2).sum()), rel=1e-14
    )


# ======================================================================================
# API behaviour
# ======================================================================================
def _pooled() -> pd.DataFrame:
    return _design("pooled").rename(columns={"survey": "survey_id", "w": "weight"})


def test_output_columns_order_and_params() -> None:
    d = _pooled()
    out = svy_mean(d, ["y", "x"], by=["survey_id", "size"], scale=100, lonely_psu="average")
    assert list(out.columns) == ["survey_id", "size", "variable", *OUT_COLS]
    assert out["variable"].tolist() == ["y"] * 9 + ["x"] * 9
    assert out.iloc[:9][["survey_id", "size"]].apply(tuple, axis=1).is_monotonic_increasing
    assert out["size"].dtype == d["size"].dtype
    p = out.attrs["params"]
    assert p["lonely_psu"] == "scaled" and p["scale"] == 100 and p["by"] == ["survey_id", "size"]
    assert p["domain_mode"] == "full_design" and p["estimator"] == "svy_mean"
    single = svy_mean(d, "y", by=["survey_id", "size"])
    assert list(single.columns) == ["survey_id", "size", *OUT_COLS]
    # list of y = the single-variable calls stacked; scale multiplies estimate, se and CI only
    pd.testing.assert_series_equal(
        out.iloc[:9]["estimate"].reset_index(drop=True) / 100, single["estimate"], rtol=1e-15
    )
    np.testing.assert_allclose(out.iloc[:9]["se"] / 100, single["se"], rtol=1e-15)
    np.testing.assert_allclose(out.iloc[:9]["ci_low"] / 100, single["ci_low"], rtol=1e-14)
    assert (out.iloc[:9]["n"].to_numpy() == single["n"].to_numpy()).all()


def test_input_not_mutated() -> None:
    d = _pooled()
    before = d.copy()
    with pytest.warns(ExclusionWarning):
        svy_proportion(d, "p", by="emp", ci_method="logit")
    pd.testing.assert_frame_equal(d, before)


def test_where_column_equals_mask_and_is_subpopulation() -> None:
    d = _pooled()
    a = svy_mean(d, "y", by="survey_id", where=d["manuf"] == 1)
    b = svy_mean(d.assign(m=d["manuf"] == 1), "y", by="survey_id", where="m")
    pd.testing.assert_frame_equal(a, b)
    # subpopulation: the same as a by= domain on the full design
    c = svy_mean(d, "y", by=["survey_id", "manuf"])
    c = c[c["manuf"] == 1].drop(columns="manuf").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, c, check_exact=False, rtol=1e-13)


def test_missing_by_values_warn_and_stay_in_design() -> None:
    d = _pooled()
    with pytest.warns(ExclusionWarning, match=r"5 firms have a missing value in the by column"):
        out = svy_mean(d, "y", by="emp")
    assert set(out["emp"]) == {"e1", "e2", "e3"}
    # zero-score rows keep their strata: same as giving them a dummy domain
    alt = svy_mean(d.assign(emp=d["emp"].fillna("zz")), "y", by="emp")
    pd.testing.assert_frame_equal(out, alt[alt["emp"] != "zz"].reset_index(drop=True))


def test_where_with_missing_values_warns() -> None:
    d = _pooled()
    mask = (d["manuf"] == 1).astype("boolean")
    mask.iloc[:3] = pd.NA
    with pytest.warns(ExclusionWarning, match="3 firms have a missing value"):
        svy_mean(d, "y", where=mask)


def test_drop_mode_equals_redeclared_design() -> None:
    d = _pooled()
    out = svy_mean(d, "y", by="survey_id", domain_mode="drop", lonely_psu="certainty")
    for _, r in out.iterrows():
        sub = d[(d["survey_id"] == r["survey_id"]) & d["y"].notna()]
        one = svy_mean(sub, "y", lonely_psu="certainty").iloc[0]
        assert one["estimate"] == pytest.approx(r["estimate"], rel=1e-13)
        assert one["se"] == pytest.approx(r["se"], rel=1e-12)
        assert one["df"] == r["df"]


def test_fail_raises_naming_stratum_and_survey() -> None:
    d = _pooled()
    with pytest.raises(LonelyStratumError, match=r"of survey 'BBB2019'"):
        svy_mean(d, "x", by="survey_id", lonely_psu="fail")
    # a domain that does not reach a lonely stratum works, as in R
    ok = svy_mean(
        d, "x", where=(d["survey_id"] == "AAA2015") & (d["strata"] != 3), lonely_psu="fail"
    )
    cert = svy_mean(
        d, "x", where=(d["survey_id"] == "AAA2015") & (d["strata"] != 3), lonely_psu="certainty"
    )
    pd.testing.assert_frame_equal(ok, cert)


def test_aliases_and_option_errors() -> None:
    d = _pooled()
    for r_name, stata in (("average", "scaled"), ("adjust", "centered"), ("remove", "certainty")):
        a = svy_mean(d, "y", lonely_psu=r_name)
        pd.testing.assert_frame_equal(a, svy_mean(d, "y", lonely_psu=stata), check_like=False)
        assert a.attrs["params"]["lonely_psu"] == stata
    with pytest.raises(OptionError, match="lonely_psu"):
        svy_mean(d, "y", lonely_psu="missing")
    with pytest.raises(OptionError, match="domain_mode"):
        svy_mean(d, "y", domain_mode="subset")
    with pytest.raises(OptionError, match="ci_method"):
        svy_proportion(d, "p", ci_method="wilson")
    with pytest.raises(OptionError, match="level"):
        svy_mean(d, "y", level=95)
    with pytest.raises(OptionError, match="scale"):
        svy_mean(d, "y", scale=0)


def test_design_errors() -> None:
    d = _pooled()
    with pytest.raises(MissingColumnsError, match=r"\['nope', 'wt'\]"):
        svy_mean(d, "nope", weight="wt")
    bad = d.copy()
    bad.loc[5, "strata"] = np.nan
    with pytest.raises(DesignError, match=r"1 missing values, in survey\(s\) \['AAA2015'\]"):
        svy_mean(bad, "y")
    bad = d.copy()
    bad.loc[bad.index[-1], "weight"] = 0.0
    with pytest.raises(InvalidWeightError, match=r"stratum 8 of survey 'CCC2021'"):
        svy_mean(bad, "y")
    bad.loc[bad.index[-1], "weight"] = np.nan
    with pytest.raises(InvalidWeightError, match="1 missing"):
        svy_mean(bad, "y")
    bad = d.copy()
    bad.loc[0, "survey_id"] = None
    with pytest.raises(DesignError, match="survey"):
        svy_mean(bad, "y")
    with pytest.raises(InvalidValueError, match=r"\['y'\]"):
        svy_proportion(d, "y")
    with pytest.raises(InvalidWeightError):
        svy_mean(d.assign(weight="heavy"), "y")
    with pytest.raises(InvalidValueError, match="infinite"):
        svy_ratio(d.assign(x=np.inf), "y", "x")


def test_proportion_accepts_boolean_and_nullable() -> None:
    d = _pooled()
    b = d["p"].map({1.0: True, 0.0: False}).astype("boolean")
    a = svy_proportion(d.assign(pb=b), "pb", by="survey_id")
    c = svy_proportion(d, "p", by="survey_id")
    pd.testing.assert_frame_equal(a, c)


def test_unweighted_and_single_stratum() -> None:
    d = _pooled().dropna(subset=["y"])
    out = svy_mean(d, "y", weight=None, strata=None, survey=None)
    yy = d["y"].dropna().to_numpy()
    # one stratum, equal weights: SE = sd / sqrt(n)
    assert out["estimate"].item() == pytest.approx(yy.mean(), rel=1e-14)
    assert out["se"].item() == pytest.approx(yy.std(ddof=1) / math.sqrt(yy.size), rel=1e-13)
    assert out["df"].item() == len(d) - 1


def test_flags() -> None:
    d = _pooled()
    out = svy_mean(d, "y", by=["survey_id", "size"], min_n=10).set_index(["survey_id", "size"])
    assert out.loc[("BBB2019", 2), "flags"] == "few_firms;lonely_stratum;se_nan"
    # scaled with only lonely strata in the domain: no stratum to average over -> SE NaN
    assert np.isnan(out.loc[("BBB2019", 2), "se"])
    big = out.loc[("CCC2021", 1)]
    assert big["flags"] == "" and big["n"] >= 10
    # a domain whose firms all miss y: n = 0, NaN estimate
    e = svy_mean(
        d.assign(z=np.where(d["survey_id"] == "AAA2015", np.nan, 1.0)), "z", by="survey_id"
    )
    row = e.set_index("survey_id").loc["AAA2015"]
    assert row["n"] == 0 and np.isnan(row["estimate"])
    assert row["flags"] == "no_obs;few_firms;df_nonpos;se_nan"
    # drop mode with one firm: df = 0 -> NaN t bounds
    one = svy_mean(d.iloc[:1], "y", lonely_psu="certainty", min_n=1)
    assert one["df"].item() == 0 and np.isnan(one["ci_low"].item())
    assert "df_nonpos" in one["flags"].item()


def test_ratio_zero_denominator_is_nan() -> None:
    d = _pooled().assign(zero=0.0)
    out = svy_ratio(d, "y", "zero", by="survey_id")
    assert out["estimate"].isna().all() and out["flags"].str.contains("se_nan").all()


def test_proportion_cis_at_0_and_1() -> None:
    d = _pooled()
    for method in ("logit", "korn_graubard"):
        out = svy_proportion(d, "p", by=["survey_id", "size"], ci_method=method)
        edge = out[out["estimate"].isin([0.0, 1.0])]
        assert len(edge) == 2 and edge["ci_low"].isna().all()  # R svyciprop gives NaN too
    wald = svy_proportion(d, "p", by=["survey_id", "size"], ci_method="wald")
    edge = wald[wald["estimate"].isin([0.0, 1.0])]
    assert (edge["se"] == 0).all() and (edge["ci_low"] == edge["estimate"]).all()


# ======================================================================================
# properties (hypothesis)
# ======================================================================================
@st.composite
def designs(draw, allow_lonely: bool = True):
    n_strata = draw(st.integers(1, 6))
    sizes = [draw(st.integers(1 if allow_lonely else 2, 6)) for _ in range(n_strata)]
    n = sum(sizes)
    strata = np.repeat(np.arange(n_strata), sizes)
    w = np.array(draw(st.lists(st.floats(0.5, 50), min_size=n, max_size=n)))
    y = np.array(draw(st.lists(st.floats(-100, 100), min_size=n, max_size=n)))
    miss = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    y[miss & (np.arange(n) % 3 == 0)] = np.nan
    dom = np.array(draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)))
    x = np.array(draw(st.lists(st.floats(0.1, 100), min_size=n, max_size=n)))
    p = (np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))).astype(float)
    p[np.isnan(y)] = np.nan
    return pd.DataFrame({"strata": strata, "weight": w, "y": y, "x": x, "p": p, "dom": dom})


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    d=designs(),
    c=st.floats(0.01, 1000),
    lonely=st.sampled_from(["scaled", "certainty", "centered"]),
)
def test_weight_scale_invariance(d, c, lonely) -> None:
    kw = dict(by="dom", survey=None, lonely_psu=lonely)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f, args in ((svy_mean, ("y",)), (svy_proportion, ("p",)), (svy_ratio, ("y", "x"))):
            a = f(d, *args, **kw)
            b = f(d.assign(weight=d["weight"] * c), *args, **kw)
            np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(a["se"], b["se"], rtol=1e-8, atol=1e-10)
        a = svy_total(d, "y", **kw)
        b = svy_total(d.assign(weight=d["weight"] * c), "y", **kw)
        np.testing.assert_allclose(a["estimate"] * c, b["estimate"], rtol=1e-9, atol=1e-9 * c)
        np.testing.assert_allclose(a["se"] * c, b["se"], rtol=1e-8, atol=1e-9 * c)


def _arrays(d):
    return d["weight"].to_numpy(), d["strata"].to_numpy(), d["dom"].to_numpy()


@SETTINGS
@given(d=designs(), kind=st.sampled_from(["mean", "ratio", "total"]))
def test_domain_equals_zero_weights_on_complement(d, kind) -> None:
    """Under full_design a domain estimate is the whole-sample estimate with w = 0 outside it.

    Exact for the SE too: zero-weight firms have zero scores, and the complement's firms count as
    zero-score PSUs in both. It holds for lonely_psu="certainty" always; for "scaled" the
    rescaling counts the strata present in S, which zero-weight firms can add, so it holds only
    without lonely strata (tested in the next property).
    """
    w, s, dom = _arrays(d)
    y, x = d["y"].to_numpy(), d["x"].to_numpy()
    by_dom = _domain_estimates(y, x, w, s, dom, n_domains=3, kind=kind, lonely_psu="certainty")
    for g in range(3):
        if by_dom["n"][0, g] == 0:
            continue
        w0 = np.where(dom == g, w, 0.0)
        whole = _domain_estimates(
            y, x, w0, s, np.zeros_like(dom), n_domains=1, kind=kind, lonely_psu="certainty"
        )
        scale = max(abs(by_dom["estimate"][0, g]), 1.0)
        assert whole["estimate"][0, 0] == pytest.approx(
            by_dom["estimate"][0, g], rel=1e-9, abs=1e-12 * scale
        )
        assert whole["se"][0, 0] == pytest.approx(by_dom["se"][0, g], rel=1e-8, abs=1e-10 * scale)


@SETTINGS
@given(d=designs(allow_lonely=False), lonely=st.sampled_from(["scaled", "centered", "fail"]))
def test_domain_equals_zero_weights_without_lonely_strata(d, lonely) -> None:
    w, s, dom = _arrays(d)
    y = d["y"].to_numpy()
    by_dom = _domain_estimates(y, None, w, s, dom, n_domains=3, lonely_psu=lonely)
    for g in range(3):
        if by_dom["n"][0, g] == 0:
            continue
        w0 = np.where(dom == g, w, 0.0)
        whole = _domain_estimates(
            y, None, w0, s, np.zeros_like(dom), n_domains=1, lonely_psu=lonely
        )
        assert whole["se"][0, 0] == pytest.approx(by_dom["se"][0, g], rel=1e-8, abs=1e-10)


@SETTINGS
@given(
    d=designs(),
    method=st.sampled_from(["wald", "logit", "korn_graubard"]),
    ci_df=st.sampled_from(["design", "normal"]),
    lonely=st.sampled_from(["scaled", "certainty", "centered"]),
    level=st.sampled_from([0.8, 0.9, 0.95, 0.99]),
)
def test_proportions_in_unit_interval_and_ci_contains_estimate(
    d, method, ci_df, lonely, level
) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = svy_proportion(
            d,
            "p",
            by="dom",
            survey=None,
            ci_method=method,
            ci_df=ci_df,
            lonely_psu=lonely,
            level=level,
        )
    est = out["estimate"].dropna()
    assert ((est >= 0) & (est <= 1)).all()
    ok = out.dropna(subset=["estimate", "ci_low", "ci_high"])
    tol = 1e-12
    assert (ok["ci_low"] <= ok["estimate"] + tol).all() and (
        ok["estimate"] <= ok["ci_high"] + tol
    ).all()
    if method != "wald":
        assert ((ok["ci_low"] >= 0) & (ok["ci_high"] <= 1)).all()


@pytest.mark.parametrize("layout", ["few", "firm_level", "wide_keys"])
def test_domains_match_pandas_groupby(layout) -> None:
    """Domain labels, order, n, sum_weight and point estimates equal a pandas groupby.

    The layouts exercise the code paths of the factorisation: compact integer keys, a
    (domain x stratum) key too sparse for the bincount remap (one domain per firm), and a
    mixed-radix key over four high-cardinality columns that would overflow int64 uncompacted.
    """
    rng = np.random.default_rng(7)
    n = 6000
    d = pd.DataFrame(
        {
            "survey_id": rng.choice(["X", "Y", "Z"], n),
            "strata": rng.integers(1, 12, n),
            "weight": rng.uniform(1, 9, n),
            "y": rng.normal(5, 2, n),
        }
    )
    d.loc[rng.random(n) < 0.1, "y"] = np.nan
    if layout == "few":
        by = ["survey_id", "g"]
        d["g"] = rng.choice([3.5, 1.0, np.nan], n)
    elif layout == "firm_level":
        by = ["firm"]
        d["firm"] = rng.permutation(n) * 1_000_003 + 10**12
    else:
        by = ["a", "b", "c", "e"]
        for col in by:
            d[col] = rng.integers(0, 5000, n) * 7_919_993
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExclusionWarning)
        out = svy_mean(d, "y", by=by, lonely_psu="certainty", min_n=1)
    ok = d.dropna(subset=["y"]).assign(wy=lambda t: t["weight"] * t["y"])
    g = ok.groupby(by, sort=True)[["wy", "weight"]].sum()
    cnt = d.groupby(by, sort=True).size()  # every domain, also those with no valid y
    assert len(out) == len(cnt)
    assert out[by].apply(tuple, axis=1).tolist() == [
        t if isinstance(t, tuple) else (t,) for t in cnt.index
    ]
    got = out.set_index(by)
    common = got.loc[g.index]
    np.testing.assert_allclose(common["estimate"], g["wy"] / g["weight"], rtol=1e-12)
    np.testing.assert_allclose(common["sum_weight"], g["weight"], rtol=1e-12)
    assert (common["n"].to_numpy() == ok.groupby(by, sort=True).size().to_numpy()).all()


# ======================================================================================
# bundled synthetic WBES sample, read directly from the .dta files (not via load_wbes)
# ======================================================================================
SYNTH = Path(__file__).resolve().parents[1] / "data" / "wbes_synthetic"
SYNTH_GOLD = GOLD / "wbes_synthetic_goldens.csv"


@pytest.mark.skipif(
    not SYNTH.is_dir() or not SYNTH_GOLD.exists(), reason="no synthetic WBES sample or golden"
)
def test_synthetic_wbes_matches_r() -> None:
    import hashlib

    md5 = pd.read_csv(GOLD / "wbes_synthetic_md5.csv")
    files = sorted(SYNTH.glob("*_synthetic.dta"))
    now = {f.name: hashlib.md5(f.read_bytes()).hexdigest() for f in files}
    assert now == dict(zip(md5["file"], md5["md5"], strict=True)), (
        "data/wbes_synthetic changed since the R goldens were made: run `make goldens` "
        "(Rscript tests/r/make_goldens.R) and commit tests/goldens/wbes_synthetic_*.csv"
    )
    parts = []
    for f in files:
        x = pd.read_stata(f, convert_categoricals=False)
        parts.append(
            pd.DataFrame(
                {
                    "survey": f.name.removesuffix("_synthetic.dta"),
                    "strata": x["strata"].astype(float),
                    "w": x["wmedian"].astype(float),
                    "a6a": x["a6a"].astype(float),
                    "d3c": x["d3c"].astype(float),
                    "d2": x["d2"].astype(float),
                }
            )
        )
    d = pd.concat(parts, ignore_index=True)
    d["d3c"] = d["d3c"].where(d["d3c"] >= 0)  # METHODS §2.2: negative codes -> missing
    d["d2"] = d["d2"].where(d["d2"] >= 0)
    d["exp_direct"] = (d["d3c"] >= 10).astype(float).where(d["d3c"].notna())
    d["exports"] = d["d2"] * d["d3c"] / 100
    gold = pd.read_csv(SYNTH_GOLD, dtype={"key": str})
    kw = dict(weight="w", strata="strata", survey="survey", lonely_psu="average")
    problems = []
    for (stat, by), g in gold.groupby(["stat", "by"]):
        cols = by.split("+")
        if stat == "mean":
            out = svy_mean(d, "d3c", by=cols, **kw)
        elif stat == "proportion":
            out = svy_proportion(d, "exp_direct", by=cols, **kw)
        else:
            out = svy_ratio(d, "exports", "d2", by=cols, **kw)
        if "a6a" in cols:
            out["a6a"] = out["a6a"].astype(int)
        out.index = _keys(out, by)
        assert sorted(out.index) == sorted(g["key"]), (stat, by)
        for _, r in g.iterrows():
            for col in ("estimate", "se"):
                if not _close(out.loc[r["key"], col], r[col], RTOL, 1e-13 * abs(r["estimate"])):
                    problems.append(
                        f"{stat} {by} {r['key']} {col}: {out.loc[r['key'], col]!r} != {r[col]!r}"
                    )
    assert not problems, "\n".join(problems[:20])


def test_categorical_by_keeps_category_order() -> None:
    d = _pooled()
    d["cls"] = pd.Categorical(
        d["size"].map({1: "small", 2: "medium", 3: "large"}),
        categories=["small", "medium", "large"],
        ordered=True,
    )
    out = svy_mean(d, "y", by=["cls", "survey_id"])
    assert out["cls"].tolist()[::3] == ["small", "medium", "large"]
    assert out["cls"].dtype == d["cls"].dtype
    ref = svy_mean(d, "y", by=["size", "survey_id"])
    np.testing.assert_allclose(out["estimate"], ref["estimate"], rtol=1e-15)
