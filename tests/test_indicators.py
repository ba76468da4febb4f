"""Tests of the indicator catalogue and estimate() on hand-checkable frames."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import msme_stats as ms
from msme_stats.errors import MissingColumnsError, OptionError, UnknownIndicatorError
from msme_stats.indicators import resolve_indicator


def worked_example() -> pd.DataFrame:
    """METHODS 2.9.2: 12 firms, 4 strata (stratum 4 lonely), firm 4 has d3c = -9 (missing)."""
    return pd.DataFrame(
        {
            "survey_id": ["XXX_2020"] * 12,
            "firm_id": range(1, 13),
            "strata": [1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4],
            "weight": [10, 12, 8, 10, 5, 6, 4, 2, 3, 2.5, 1.5, 20],
            "dom": list("SSMSMLMLLMLS"),
            "direct_export_pct": [0, 20, 50, np.nan, 100, 0, 10, 30, 0, 5, 60, 15],
            "indirect_export_pct": [0.0] * 12,
            "sales": [100, 250, 400, 120, 900, 1500, 700, 5000, 3000, 800, 8000, 60],
            "size_class": pd.Categorical(
                ["small", "small", "medium", "small", "medium", "large", "medium", "large", "large", "medium", "large", "small"],
                categories=["micro", "small", "medium", "large"], ordered=True,
            ),
            "sector": ["manufacturing"] * 6 + ["retail"] * 6,
        }
    )


def one(table: pd.DataFrame, **filters) -> pd.Series:
    sel = pd.Series(True, index=table.index)
    for k, v in filters.items():
        sel &= table[k].astype(str) == str(v)
    assert sel.sum() == 1, table[sel]
    return table[sel].iloc[0]


# R survey 4.1.1 values printed in METHODS 2.9.2 (10 significant digits)
@pytest.mark.parametrize(
    ("lonely", "se_mean", "se_prop", "se_ratio"),
    [
        ("certainty", 8.337146420, 0.1535786578, 0.1277443612),
        ("scaled", 9.626907460, 0.1773373588, 0.1475064826),
    ],
)
def test_worked_example_matches_r(lonely, se_mean, se_prop, se_ratio):
    f = worked_example()
    t = ms.estimate(f, ["TR5", "IC.FRM.TRD.TR16", "es_export_sales_ratio"], by=None, lonely_psu=lonely)
    tr5 = one(t, indicator="es_direct_export_intensity")
    assert tr5["estimate"] == pytest.approx(22.19594595, rel=1e-9)
    assert tr5["se"] == pytest.approx(se_mean, rel=1e-9)
    assert tr5["n"] == 11  # firm 4 (d3c = -9) left out, not counted as 0
    tr16 = one(t, indicator="es_direct_exporter_share_10")
    assert tr16["estimate"] == pytest.approx(70.94594595, rel=1e-9)  # percent
    assert tr16["se"] == pytest.approx(100 * se_prop, rel=1e-9)
    ratio = one(t, indicator="es_export_sales_ratio")
    assert ratio["estimate"] == pytest.approx(30.25996534, rel=1e-9)
    assert ratio["se"] == pytest.approx(100 * se_ratio, rel=1e-9)
    assert set(t["unit"]) == {"%"}  # one unit convention (ES, TEC, EDD): "%" for percentages


def test_domains_across_strata_match_r():
    t = ms.estimate(worked_example(), "TR5", by="dom", lonely_psu="scaled")
    assert one(t, dom="L")["estimate"] == pytest.approx(12, rel=1e-12)
    assert one(t, dom="L")["se"] == pytest.approx(9.406040612, rel=1e-9)
    assert one(t, dom="M")["estimate"] == pytest.approx(48.84615385, rel=1e-9)
    assert one(t, dom="S")["se"] == pytest.approx(5.949950913, rel=1e-9)


def test_hand_computed_tr5_by_size():
    f = worked_example()
    t = ms.estimate(f, "es_direct_export_intensity", by=["size_class"])
    # small: firms 1, 2, 12 (firm 4 missing): (10*0 + 12*20 + 20*15) / (10 + 12 + 20) = 540 / 42
    assert one(t, size_class="small")["estimate"] == pytest.approx(540 / 42)
    # large: firms 6, 8, 9, 11: (6*0 + 2*30 + 3*0 + 1.5*60) / 12.5 = 150 / 12.5 = 12
    assert one(t, size_class="large")["estimate"] == pytest.approx(12.0)
    assert one(t, size_class="large")["n"] == 4


def test_sme_group_is_derived_and_threshold_is_a_parameter():
    f = worked_example()
    t = ms.estimate(f, "TR16", by="sme_group", threshold=50)
    # SME with d3c >= 50: firm 3 (w 8) and firm 5 (w 5) among small+medium non-missing:
    # weights 10, 12, 8, 5, 4, 2.5, 20 -> total 61.5 -> 13 / 61.5
    assert one(t, sme_group="SME")["estimate"] == pytest.approx(100 * 13 / 61.5)
    assert t.attrs["params"]["threshold"] == 50


def test_manufacturing_scope_is_a_subpopulation():
    f = worked_example().assign(foreign_input_pct=[0, 10, 0, 5, 50, 0, 20, 0, 0, 0, 100, 0])
    t = ms.estimate(f, "TR11", by=None)
    # manufacturing firms 1-6: users (d12b > 0) 2, 4, 5 -> (12 + 10 + 5) / (10 + 12 + 8 + 10 + 5 + 6) = 27 / 51
    assert one(t, indicator="es_foreign_input_user_share")["estimate"] == pytest.approx(100 * 27 / 51)
    everyone = ms.estimate(f, "TR11", by=None, manufacturing_only=False)
    # all firms: users 2, 4, 5, 7, 11 -> (12 + 10 + 5 + 4 + 1.5) / 84
    assert everyone["estimate"].item() == pytest.approx(100 * 32.5 / 84)


def test_trader_types_partition_firms():
    f = worked_example().assign(foreign_input_pct=[0, 10, 0, 5, 50, 0, 20, 0, 0, 0, 100, 0])
    ids = ["es_trader_two_way", "es_trader_exporter_only", "es_trader_importer_only", "es_trader_neither"]
    t = ms.estimate(f, ids, by=None, manufacturing_only=False)
    assert t["estimate"].sum() == pytest.approx(100.0)


def test_share_of_total_adds_to_100_per_survey():
    f = worked_example()
    t = ms.estimate(f, "es_size_share_of_exports", by=["survey_id", "size_class"])
    assert t["estimate"].sum() == pytest.approx(100.0)
    # large: exports w * sales * d3c / 100 -> 6*0 + 2*1500 + 3*0 + 1.5*4800 = 10200
    # all: small 12*50 + 20*9 = 780; medium 8*200 + 5*900 + 4*70 + 2.5*40 = 6480 -> total 17460 (METHODS total e)
    assert one(t, size_class="large")["estimate"] == pytest.approx(100 * 10200 / 17460)
    emp = ms.estimate(f.assign(employees=[3, 6, 30, 8, 50, 120, 25, 300, 150, 40, 500, 10]), "es_sme_employment_share", by="survey_id")
    assert set(emp["sme_group"].astype(str)) == {"SME", "large"}
    assert emp["estimate"].sum() == pytest.approx(100.0)


def test_partial_missing_rule():
    f = worked_example().assign(indirect_export_pct=[np.nan] + [0.0] * 11)
    f.loc[0, "direct_export_pct"] = 15.0
    strict = ms.estimate(f, "TR17", by=None)
    known = ms.estimate(f, "TR17", by=None, partial_missing="known_component")
    assert strict["n"].item() == 10 and known["n"].item() == 11
    with pytest.raises(OptionError, match="partial_missing"):
        ms.estimate(f, "TR17", partial_missing="guess")


def test_catalogue_and_aliases():
    cat = ms.list_indicators()
    for col in ["id", "name", "definition", "unit", "estimator", "variables", "scope", "wb_code", "source"]:
        assert col in cat.columns
    assert cat["id"].is_unique
    es = ms.list_indicators("es")
    assert {"IC.FRM.TRD.TR5", "IC.FRM.TRD.TR16", "IC.FRM.TRD.TR17", "IC.FRM.TRD.TR11", "IC.FRM.TRD.TR8",
            "IC.FRM.FCHAR.CAR7", "IC.FRM.TRD.TR1", "IC.FRM.TRD.TR2"} <= set(es["wb_code"])
    assert resolve_indicator("IC.FRM.TRD.TR5") == resolve_indicator("tr5") == "es_direct_export_intensity"
    assert resolve_indicator("IC.CUS.DURS.EX") == "es_days_clear_exports"
    # one catalogue for the three families, ids unique across them
    assert set(cat["family"]) == {"es", "tec", "edd"}
    assert len(ms.list_indicators("edd")) == 98
    assert resolve_indicator("A1") == "edd_n_exporters"
    with pytest.raises(UnknownIndicatorError, match="exporter_dynamics"):
        ms.estimate(worked_example(), "A1")
    with pytest.raises(UnknownIndicatorError, match="IC.FRM.XXX"):
        ms.estimate(worked_example(), "IC.FRM.XXX")


def test_every_es_indicator_has_documented_definition_and_source():
    from msme_stats.indicators.es import DERIVATIONS

    es = ms.list_indicators("es")
    assert set(es["id"]) == set(DERIVATIONS)
    for fn in set(DERIVATIONS.values()):
        assert "Definition" in fn.__doc__ and "Source" in fn.__doc__, fn.__name__


def test_missing_column_error_names_it():
    with pytest.raises(MissingColumnsError, match="foreign_owned_pct"):
        ms.estimate(worked_example(), "CAR7")


def test_input_not_mutated():
    f = worked_example()
    before = f.copy()
    ms.estimate(f, ["TR5", "TR17", "es_size_share_of_exports"], by=["size_class"])
    pd.testing.assert_frame_equal(f, before)


@settings(max_examples=25, deadline=None)
@given(st.floats(0.1, 1000))
def test_scaling_weights_changes_nothing(c):
    f = worked_example()
    a = ms.estimate(f, ["TR5", "TR16"], by="size_class")
    b = ms.estimate(f.assign(weight=f["weight"] * c), ["TR5", "TR16"], by="size_class")
    np.testing.assert_allclose(a["estimate"], b["estimate"], rtol=1e-10)
    np.testing.assert_allclose(a["se"], b["se"], rtol=1e-9)


# ----------------------------------------------------------------------------- real data
import os  # noqa: E402
from pathlib import Path  # noqa: E402

WBES_DIR = os.environ.get("MSME_STATS_WBES_DIR")
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(
    not WBES_DIR or not Path(WBES_DIR).is_dir(),
    reason="set MSME_STATS_WBES_DIR to a local folder of licensed WBES .dta files",
)
def test_tr5_matches_world_bank_published_values_on_real_microdata():
    """For every country-year present in both, recomputed TR5 equals the published value to its rounding."""
    firms = ms.load_wbes(WBES_DIR)
    est = ms.estimate(firms, "IC.FRM.TRD.TR5", by=["survey_id", "country", "year"])
    pub = pd.read_csv(ROOT / "data" / "worldbank_tr5" / "fig_sdg17_enterprise_exports.csv",
                      na_values=[".."], keep_default_na=False)
    pub = pub[pub["Country Code"].ne("..") & pub["Value"].notna()]
    both = est.assign(country=est["country"].astype(str)).merge(
        pub.rename(columns={"Country Code": "country", "Time": "year", "Value": "published"}),
        on=["country", "year"],
    )
    if both.empty:
        pytest.skip("no survey in MSME_STATS_WBES_DIR has a published TR5 value (2006-2017)")
    off = both[(both["estimate"] - both["published"]).abs() > 0.05 + 1e-9]
    assert off.empty, off[["survey_id", "estimate", "published"]]


GOLDENS = ROOT / "tests" / "goldens" / "wbes_synthetic_goldens.csv"


@pytest.mark.parametrize(("stat", "indicator", "scale"), [("mean", "IC.FRM.TRD.TR5", 1.0), ("proportion", "TR16", 100.0)])
def test_tr5_and_tr16_on_bundled_data_equal_r_survey(tmp_path, stat, indicator, scale):
    """ms.estimate(ms.load_wbes(...)) against R svyby on the same .dta files (tests/r/make_goldens.R).

    R: svydesign(ids=~1, strata=~interaction(survey, strata), weights=~wmedian), d3c < 0 -> NA,
    options(survey.lonely.psu="average") (= lonely_psu="scaled"), svyby(..., na.rm=TRUE).
    """
    import warnings

    gold = pd.read_csv(GOLDENS)
    gold = gold[gold["stat"] == stat]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ms.MsmeStatsWarning)
        firms = ms.load_wbes(ROOT / "data" / "wbes_synthetic", split_large=True, cache_dir=tmp_path)
        by_survey = ms.estimate(firms, indicator, by="survey_id")
        by_size = ms.estimate(firms, indicator, by=["survey_id", "size_class"])
    code = {"small": "1", "medium": "2", "large": "3", "large_250plus": "4"}
    ours = pd.concat([
        by_survey.assign(by="survey", key=by_survey["survey_id"].astype(str)),
        by_size.assign(by="survey+a6a", key=by_size["survey_id"].astype(str) + "|" + by_size["size_class"].astype(str).map(code)),
    ])
    both = gold.merge(ours, on=["by", "key"], suffixes=("_r", ""))
    assert len(both) == len(gold) == 45 + 137
    np.testing.assert_allclose(both["estimate"], scale * both["estimate_r"], rtol=1e-10)
    np.testing.assert_allclose(both["se"], scale * both["se_r"], rtol=1e-10)
