"""Corpus of bad and edge inputs for estimate, contrast, svyset and the svy_* functions.

Each case either raises the typed :class:`msme_stats.MsmeStatsError` subclass with a message
naming the culprit (column, value, option), or returns the right value. It includes every
survey-side example of issue 11 (where as a query or a text column, a frame concatenated
twice, thresholds 0/-5/NaN, float strata + 1e6, bounded intervals, ci_method that does not
apply, dominant firms, a by column all missing, '12%' text, raw -9 codes).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import msme_stats as ms
from msme_stats.errors import (
    DesignError,
    DuplicateIdError,
    InvalidValueError,
    InvalidWeightError,
    LonelyStratumError,
    MissingColumnsError,
    MsmeStatsError,
    OptionError,
    UnknownIndicatorError,
)
from msme_stats.survey import svy_contrast, svy_mean, svy_proportion, svy_ratio, svy_total, svyset

ROOT = Path(__file__).resolve().parents[1]
GOLD = Path(__file__).parent / "goldens"


@cache
def _ken() -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ms.load_wbes(ROOT / "data" / "wbes_synthetic" / "KEN_2013_synthetic.dta", cache=False)


def ken() -> pd.DataFrame:
    return _ken().copy()


def pooled() -> pd.DataFrame:
    return pd.read_csv(GOLD / "design_pooled.csv").rename(columns={"survey": "survey_id", "w": "weight"})


def tr5(**kw) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ms.estimate(kw.pop("firms", None) if "firms" in kw else ken(), "TR5", **kw)


def _with(col: str, row: int, value) -> pd.DataFrame:
    f = ken()
    s = f[col].astype(object)
    s.iloc[row] = value
    f[col] = s
    return f


def _lonely_frame() -> pd.DataFrame:
    return pd.DataFrame({"survey_id": "S", "strata": [1, 1, 2], "weight": 1.0, "y": [1.0, 2.0, 3.0]})


def _dominant_frame() -> pd.DataFrame:
    f = ken()
    i = int(np.flatnonzero((f["sales"] > 0) & f["direct_export_pct"].notna() & f["indirect_export_pct"].notna())[0])
    f.loc[f.index[i], "sales"] = f["sales"].max() * 1e4
    f.loc[f.index[i], "direct_export_pct"] = 100.0
    f.loc[f.index[i], "indirect_export_pct"] = 0.0
    return f


# ---- value checks (callables returning True when the answer is right) ------------------
def _where_query_gives_manufacturing() -> bool:
    f = ken()
    a = tr5(firms=f, where="sector == 'manufacturing'")["estimate"].iloc[0]
    b = tr5(firms=f, where=f.sector == "manufacturing")["estimate"].iloc[0]
    allf = tr5(firms=f)["estimate"].iloc[0]
    return a == b and abs(a - allf) > 1.0


def _strata_plus_1e6_keeps_strata() -> bool:
    f = ken()
    f["strata"] = pd.factorize(f["strata"])[0].astype(float)
    g = f.assign(strata=f["strata"] + 1e6)
    return np.allclose(tr5(firms=f)["se"], tr5(firms=g)["se"], rtol=1e-13)


def _interval_inside_0_100() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = ms.estimate(ken(), ["TR5", "TR16", "es_export_sales_ratio", "es_size_share_of_exports"],
                        by=["survey_id", "size_class"])
    ok = t.dropna(subset=["ci_low"])
    return len(ok) > 0 and bool(((ok["ci_low"] >= 0) & (ok["ci_high"] <= 100)).all())


def _wald_option_kept() -> bool:
    t = tr5(ci_method="wald")
    r = t.iloc[0]
    from scipy import stats

    q = stats.t.ppf(0.975, r["df"])
    return abs(r["ci_low"] - (r["estimate"] - q * r["se"])) < 1e-9


def _dominant_flagged() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = ms.estimate(_dominant_frame(), "es_export_sales_ratio")
    return "dominant_firm" in t["flags"].iloc[0] and t["top_firm_share"].iloc[0] > 0.5


def _contrast_equals_difference() -> bool:
    f = ken()
    c = ms.contrast(f, "TR5", between="sme_group", levels=("sme", "large"))
    e = tr5(firms=f, by="sme_group").set_index("sme_group")["estimate"]
    return abs(c["difference"].iloc[0] - (e["SME"] - e["large"])) < 1e-10 and 0 <= c["p_value"].iloc[0] <= 1


def _threshold_100_allowed() -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = ms.estimate(ken(), "TR16", threshold=100)
    return 0 <= t["estimate"].iloc[0] <= 100


def _weight_alias_same() -> bool:
    f = ken()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = ms.estimate(f, "TR5", weight="strict")["estimate"].iloc[0]
        b = ms.estimate(f, "TR5", weight="wstrict")["estimate"].iloc[0]
        c = ms.estimate(f, "TR5", weight="median")["estimate"].iloc[0]
        d = ms.estimate(f, "TR5")["estimate"].iloc[0]
    return a == b and c == d


def _where_nan_warns_and_counts() -> bool:
    f = ken()
    m = (f.sector == "manufacturing").astype("boolean")
    m.iloc[0] = pd.NA
    with pytest.warns(ms.ExclusionWarning, match="missing value in where"):
        t = ms.estimate(f, "TR5", where=m)
    return t["n"].iloc[0] <= int(m.fillna(False).sum())


def _design_estimate_same() -> bool:
    f = ken()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = ms.svyset(f).estimate("TR5", by="size_class")
        b = ms.estimate(f, "TR5", by="size_class")
    return a["estimate"].equals(b["estimate"]) and a["se"].equals(b["se"])


def _numeric_text_accepted() -> bool:
    f = ken()
    g = f.assign(direct_export_pct=f["direct_export_pct"].map(lambda v: None if pd.isna(v) else str(v)))
    return np.allclose(tr5(firms=f)["estimate"], tr5(firms=g)["estimate"])


# ---- the corpus --------------------------------------------------------------------------
E = MsmeStatsError
CASES: list[tuple[str, Callable[[], object], type[Exception] | None, str]] = [
    # issue 11 examples
    ("where_query_string", _where_query_gives_manufacturing, None, ""),
    ("where_text_column", lambda: tr5(where=ken().sector), InvalidValueError, "boolean"),
    ("concat_twice", lambda: tr5(firms=pd.concat([ken(), ken()])), DuplicateIdError, "firm_id"),
    ("threshold_0", lambda: ms.estimate(ken(), "TR16", threshold=0), OptionError, "threshold=0"),
    ("threshold_neg5", lambda: ms.estimate(ken(), "TR16", threshold=-5), OptionError, "threshold=-5"),
    ("threshold_nan", lambda: ms.estimate(ken(), "TR16", threshold=float("nan")), OptionError, "threshold=nan"),
    ("strata_plus_1e6", _strata_plus_1e6_keeps_strata, None, ""),
    ("intervals_inside_0_100", _interval_inside_0_100, None, ""),
    ("wald_still_available", _wald_option_kept, None, ""),
    ("logit_on_days", lambda: ms.estimate(ken(), "TR1", ci_method="logit"), OptionError, "es_days_clear_exports"),
    ("kg_on_mean", lambda: tr5(ci_method="korn_graubard"), OptionError, "es_direct_export_intensity"),
    ("dominant_firm_flag", _dominant_flagged, None, ""),
    ("by_all_missing", lambda: tr5(firms=ken().assign(region_raw=None), by="region_raw"), InvalidValueError, "region_raw"),
    ("text_12_percent", lambda: tr5(firms=_with("direct_export_pct", 3, "12%")), InvalidValueError, "'12%'"),
    ("raw_minus_9", lambda: tr5(firms=_with("direct_export_pct", 3, -9.0)), InvalidValueError, "-9"),
    ("raw_minus_7_sales", lambda: ms.estimate(_with("sales", 2, -7.0).assign(sales=lambda d: d.sales.astype(float)),
                                              "es_export_sales_ratio"), InvalidValueError, "'sales'"),
    ("contrast_difference", _contrast_equals_difference, None, ""),
    # estimate options
    ("threshold_bool", lambda: ms.estimate(ken(), "TR16", threshold=True), OptionError, "threshold=True"),
    ("threshold_text", lambda: ms.estimate(ken(), "TR16", threshold="10"), OptionError, "threshold='10'"),
    ("threshold_101", lambda: ms.estimate(ken(), "TR16", threshold=101), OptionError, "threshold=101"),
    ("threshold_inf", lambda: ms.estimate(ken(), "TR16", threshold=float("inf")), OptionError, "threshold=inf"),
    ("threshold_100_ok", _threshold_100_allowed, None, ""),
    ("unknown_indicator", lambda: ms.estimate(ken(), "TR999"), UnknownIndicatorError, "TR999"),
    ("empty_indicators", lambda: ms.estimate(ken(), []), OptionError, "indicators is empty"),
    ("tec_indicator", lambda: ms.estimate(ken(), ms.list_indicators("tec")["id"].iloc[0]), UnknownIndicatorError, "tec"),
    ("by_missing_column", lambda: tr5(by="nope"), MissingColumnsError, "'nope'"),
    ("partial_missing_bad", lambda: tr5(partial_missing="lenient"), OptionError, "partial_missing"),
    ("manufacturing_only_text", lambda: tr5(manufacturing_only="yes"), OptionError, "manufacturing_only"),
    ("ci_method_unknown", lambda: tr5(ci_method="exact"), OptionError, "ci_method='exact'"),
    ("lonely_psu_unknown", lambda: tr5(lonely_psu="nope"), OptionError, "lonely_psu='nope'"),
    ("domain_mode_unknown", lambda: tr5(domain_mode="subset"), OptionError, "domain_mode='subset'"),
    ("ci_df_unknown", lambda: tr5(ci_df="t"), OptionError, "ci_df='t'"),
    ("level_1_5", lambda: tr5(level=1.5), OptionError, "level=1.5"),
    ("level_0", lambda: tr5(level=0), OptionError, "level=0"),
    ("min_n_negative", lambda: tr5(min_n=-1), OptionError, "min_n=-1"),
    ("min_n_float", lambda: tr5(min_n=2.5), OptionError, "min_n=2.5"),
    ("dominant_share_2", lambda: tr5(dominant_share=2), OptionError, "dominant_share=2"),
    ("lonely_threshold_neg", lambda: tr5(lonely_threshold=-0.1), OptionError, "lonely_threshold"),
    ("deff_unknown", lambda: tr5(deff="srs"), OptionError, "deff='srs'"),
    ("weight_strict_alias", _weight_alias_same, None, ""),
    ("weight_missing_column", lambda: tr5(weight="w_final"), MissingColumnsError, "w_final"),
    ("weight_negative", lambda: tr5(firms=_with("weight", 0, -1.0).assign(weight=lambda d: d.weight.astype(float))),
     InvalidWeightError, "weight"),
    ("weight_zero", lambda: tr5(firms=ken().assign(weight=0.0)), InvalidWeightError, "weight"),
    ("weight_nan", lambda: tr5(firms=_with("weight", 5, np.nan).assign(weight=lambda d: d.weight.astype(float))),
     InvalidWeightError, "1 missing"),
    ("strata_missing_value", lambda: tr5(firms=_with("strata", 1, None)), DesignError, "'strata'"),
    ("survey_missing_value", lambda: tr5(firms=_with("survey_id", 1, None), by=None), DesignError, "'survey_id'"),
    ("percent_over_100", lambda: tr5(firms=_with("direct_export_pct", 4, 250.0).assign(
        direct_export_pct=lambda d: d.direct_export_pct.astype(float))), InvalidValueError, "outside \\[0, 100\\]"),
    ("inf_value", lambda: svy_mean(pooled().assign(y=np.r_[np.inf, pooled()["y"].iloc[1:]]), "y"),
     InvalidValueError, "infinite"),
    ("firms_not_frame", lambda: ms.estimate([1, 2, 3], "TR5"), InvalidValueError, "DataFrame"),
    ("design_plus_options", lambda: ms.estimate(ms.svyset(ken()), "TR5", lonely_psu="certainty"), OptionError,
     "lonely_psu"),
    ("design_estimate_same", _design_estimate_same, None, ""),
    ("numeric_text_ok", _numeric_text_accepted, None, ""),
    # where
    ("where_misaligned", lambda: tr5(where=(ken().sector == "manufacturing").reset_index(drop=True).iloc[::-1]),
     InvalidValueError, "not aligned"),
    ("where_short_array", lambda: tr5(where=np.ones(5, dtype=bool)), InvalidValueError, "shape"),
    ("where_bad_query", lambda: tr5(where="sector === 'x'"), OptionError, "sector === 'x'"),
    ("where_unknown_column", lambda: tr5(where="sectr == 'manufacturing'"), OptionError, "sectr"),
    ("where_numeric_not_01", lambda: tr5(where=ken().employees), InvalidValueError, "0/1"),
    ("where_int", lambda: tr5(where=5), OptionError, "where=int"),
    ("where_selects_nothing", lambda: tr5(where="sector == 'manufactoring'", by="size_class"), InvalidValueError,
     "selects no firm"),
    ("where_nan_counts", _where_nan_warns_and_counts, None, ""),
    # svy_* functions and svyset
    ("svy_proportion_not_01", lambda: svy_proportion(pooled(), "y"), InvalidValueError, "\\['y'\\]"),
    ("svy_total_logit", lambda: svy_total(pooled(), "y", ci_method="logit"), OptionError, "svy_total"),
    ("svy_mean_logit_no_bounds", lambda: svy_mean(pooled(), "y", ci_method="logit"), OptionError, "bounds"),
    ("svy_mean_bounds_reversed", lambda: svy_mean(pooled(), "y", bounds=(100, 0)), OptionError, "bounds"),
    ("svy_mean_out_of_bounds", lambda: svy_mean(pooled(), "y", bounds=(0, 100)), InvalidValueError, "\\['y'\\]"),
    ("svy_mean_scale_0", lambda: svy_mean(pooled(), "y", scale=0), OptionError, "scale=0"),
    ("svy_mean_scale_nan", lambda: svy_mean(pooled(), "y", scale=float("nan")), OptionError, "scale=nan"),
    ("svy_mean_empty_y", lambda: svy_mean(pooled(), []), OptionError, "y is empty"),
    ("svy_mean_missing_cols", lambda: svy_mean(pooled(), "nope", weight="wt"), MissingColumnsError, "'nope', 'wt'"),
    ("svy_mean_text_column", lambda: svy_mean(pooled().assign(y="12%"), "y"), InvalidValueError, "'12%'"),
    ("svy_ratio_list", lambda: svy_ratio(pooled(), ["y", "x"], "x"), OptionError, "one numerator"),
    ("svy_lonely_fail", lambda: svy_mean(_lonely_frame(), "y", lonely_psu="fail"), LonelyStratumError, "2"),
    ("svyset_not_frame", lambda: svyset({"a": [1]}), InvalidValueError, "DataFrame"),
    ("svyset_empty", lambda: svyset(pooled().iloc[:0]), DesignError, "no rows"),
    ("svyset_weight_strict_absent", lambda: svyset(pooled(), weight="strict"), OptionError, "wstrict"),
    ("svyset_strata_not_str", lambda: svyset(pooled(), strata=3), OptionError, "strata=3"),
    ("svyset_duplicates", lambda: svyset(pd.concat([pooled(), pooled()]), firm_id="firm"), DuplicateIdError,
     "survey_id, firm"),
    ("svyset_firm_id_missing", lambda: svyset(pooled().assign(firm=np.nan), firm_id="firm"), InvalidValueError,
     "'firm'"),
    # contrasts
    ("contrast_level_absent", lambda: ms.contrast(ken(), "TR5", between="sme_group", levels=("SME", "micro")),
     InvalidValueError, "'micro'"),
    ("contrast_levels_not_pair", lambda: ms.contrast(ken(), "TR5", between="sme_group", levels="SME"), OptionError,
     "levels='SME'"),
    ("contrast_same_level", lambda: ms.contrast(ken(), "TR5", between="sme_group", levels=("SME", "SME")),
     OptionError, "same domain"),
    ("contrast_between_list", lambda: ms.contrast(ken(), "TR5", between=["sme_group"], levels=("SME", "large")),
     OptionError, "between="),
    ("contrast_between_in_by", lambda: svy_contrast(pooled(), "y", between="size", levels=(1, 2), by="size"),
     OptionError, "by column"),
    ("contrast_share_of_total", lambda: ms.contrast(ken(), "es_size_share_of_exports", between="sme_group",
                                                    levels=("SME", "large")), OptionError, "share of a total"),
    ("contrast_many_indicators", lambda: ms.contrast(ken(), ["TR5", "TR16"], between="sme_group",
                                                     levels=("SME", "large")), OptionError, "one indicator"),
    ("contrast_kind_bad", lambda: svy_contrast(pooled(), "y", between="manuf", levels=(1, 0), kind="median"),
     OptionError, "kind='median'"),
    ("contrast_ratio_without_x", lambda: svy_contrast(pooled(), "y", between="manuf", levels=(1, 0), kind="ratio"),
     OptionError, "x="),
    ("contrast_proportion_not_01", lambda: svy_contrast(pooled(), "y", between="manuf", levels=(1, 0),
                                                        kind="proportion"), InvalidValueError, "'y'"),
    ("contrast_unknown_between", lambda: ms.contrast(ken(), "TR5", between="nope", levels=(1, 2)),
     MissingColumnsError, "'nope'"),
]


def test_corpus_size() -> None:
    assert len(CASES) >= 50
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("name", "call", "error", "pattern"), CASES, ids=[c[0] for c in CASES])
def test_corpus(name: str, call: Callable[[], object], error: type[Exception] | None, pattern: str) -> None:
    if error is None:
        assert bool(call())
        return
    assert issubclass(error, E)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(error, match=pattern):
            call()
