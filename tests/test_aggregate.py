"""Cross-country averages, the headline call, and the published comparison."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import msme_stats as ms
from msme_stats.aggregate import compare_published, headline_sme_vs_large, published_targets
from msme_stats.errors import OptionError


def country_estimates() -> pd.DataFrame:
    # KEN has two surveys: only the latest (2018) counts by default.
    return pd.DataFrame(
        {
            "indicator": ["es_direct_export_intensity"] * 8,
            "survey_id": ["KEN_2013", "KEN_2018", "GHA_2013", "VNM_2015"] * 2,
            "sme_group": ["SME"] * 4 + ["large"] * 4,
            "estimate": [5.0, 7.0, 2.0, 9.0, 20.0, 10.0, 6.0, 30.0],
            "se": [1.0, 2.0, 1.0, 2.0, 3.0, 4.0, 2.0, 4.0],
            "n": [100, 200, 150, 300, 50, 60, 40, 80],
            "sum_weight": [1e4, 2e4, 1e4, 5e4, 1e3, 2e3, 1e3, 3e3],
            "unit": ["% of sales"] * 8,
        }
    )


def test_simple_mean_of_latest_surveys():
    avg = ms.cross_country_average(country_estimates())
    sme = avg[avg["sme_group"] == "SME"].iloc[0]
    assert sme["estimate"] == pytest.approx((7 + 2 + 9) / 3)
    assert sme["se"] == pytest.approx(math.sqrt(4 + 1 + 4) / 3)
    assert sme["n_countries"] == 3 and sme["n_firms"] == 200 + 150 + 300
    assert sme["countries"] == "GHA,KEN,VNM"
    assert (sme["year_min"], sme["year_max"]) == (2013, 2018)
    large = avg[avg["sme_group"] == "large"].iloc[0]
    assert large["estimate"] == pytest.approx((10 + 6 + 30) / 3)
    assert sme["ci_low"] == pytest.approx(sme["estimate"] - 1.959963984540054 * sme["se"])


def test_all_surveys_window_and_weighting():
    allsv = ms.cross_country_average(country_estimates(), latest_only=False)
    assert allsv.loc[allsv["sme_group"] == "SME", "estimate"].item() == pytest.approx((5 + 7 + 2 + 9) / 4)
    win = ms.cross_country_average(country_estimates(), posting_window=(2014, 2023))
    assert win.loc[win["sme_group"] == "SME", "n_countries"].item() == 2
    byn = ms.cross_country_average(country_estimates(), weighting="n_firms")
    assert byn.loc[byn["sme_group"] == "SME", "estimate"].item() == pytest.approx((7 * 200 + 2 * 150 + 9 * 300) / 650)
    with pytest.raises(OptionError, match="weighting"):
        ms.cross_country_average(country_estimates(), weighting="gdp")


def test_group_by_a_column():
    est = country_estimates().assign(region=["SSA", "SSA", "SSA", "EAP"] * 2)
    avg = ms.cross_country_average(est, group_by="region")
    assert avg.loc[(avg["region"] == "SSA") & (avg["sme_group"] == "SME"), "estimate"].item() == pytest.approx(4.5)
    assert avg.loc[(avg["region"] == "EAP") & (avg["sme_group"] == "SME"), "n_countries"].item() == 1


def test_group_by_year_aware_country_groups():
    avg = ms.cross_country_average(country_estimates(), group_by="income")
    assert avg["income"].notna().all()
    assert avg["n_countries"].sum() == 6


def test_headline_is_one_call_and_compares_with_published():
    from test_indicators import worked_example

    f = pd.concat(
        [worked_example(), worked_example().assign(survey_id="YYY_2019", direct_export_pct=lambda d: d["direct_export_pct"] / 2)],
        ignore_index=True,
    )
    f["strata"] = f["survey_id"] + ":" + f["strata"].astype(str)
    f = f.assign(survey_id=f["survey_id"].replace({"XXX_2020": "KEN_2020", "YYY_2019": "GHA_2019"}))
    head = headline_sme_vs_large(f)
    assert set(head["indicator"]) == {"es_direct_export_intensity", "es_indirect_export_intensity"}
    sme = head[(head["indicator"] == "es_direct_export_intensity") & (head["sme_group"] == "SME")].iloc[0]
    # manufacturing SMEs are firms 1-5 (firm 4 missing): KEN (10*0 + 12*20 + 8*50 + 5*100) / 35 = 1140 / 35;
    # GHA halves every share -> 570 / 35; simple mean = 855 / 35
    assert sme["estimate"] == pytest.approx(855 / 35)
    cmp = compare_published(head, family="es")
    row = cmp[cmp["target_id"] == "wtr16_direct_export_intensity_manuf_sme"].iloc[0]
    assert row["published_2016"] == 7.6 and row["update_2022"] == 11
    assert row["recomputed"] == pytest.approx(855 / 35)
    assert not row["within_rounding_2016"]
    assert len(published_targets()) >= 3


def test_missing_estimates_are_reported_not_averaged():
    est = country_estimates()
    est.loc[2, "estimate"] = np.nan
    with pytest.warns(ms.ExclusionWarning, match="1 country estimate"):
        avg = ms.cross_country_average(est)
    assert avg.loc[avg["sme_group"] == "SME", "n_countries"].item() == 2


def two_surveys() -> pd.DataFrame:
    from test_indicators import worked_example

    ken = worked_example().assign(survey_id="KEN_2020")
    gha = worked_example().assign(survey_id="GHA_2019", direct_export_pct=lambda d: d["direct_export_pct"] / 2)
    f = pd.concat([ken, gha], ignore_index=True)
    f["strata"] = f["survey_id"] + ":" + f["strata"].astype(str)
    return f


def sme_direct(table: pd.DataFrame) -> float:
    sel = (table["indicator"] == "es_direct_export_intensity") & (table["sme_group"] == "SME")
    return float(table.loc[sel, "estimate"].item())


def test_aggregation_variants_by_hand():
    f = two_surveys()
    # manufacturing SMEs: firms 1, 2, 3, 5 (firm 4's d3c is missing); KEN d3c 0, 20, 50, 100,
    # weights 10, 12, 8, 5, sales 100, 250, 400, 900; GHA has every share halved.
    # sales_weighted, KEN: (12*250*.2 + 8*400*.5 + 5*900*1) / (10*100 + 12*250 + 8*400 + 5*900)
    #   = 6700 / 11700; GHA = 3350 / 11700; simple mean = 5025 / 11700
    assert sme_direct(headline_sme_vs_large(f, aggregation="sales_weighted")) == pytest.approx(100 * 5025 / 11700)
    # pooled: one mean over both surveys: (1140 + 570) / (35 + 35)
    pooled = headline_sme_vs_large(f, aggregation="pooled")
    assert sme_direct(pooled) == pytest.approx(1710 / 70)
    assert set(pooled["n_countries"]) == {2}
    # exporters_only (d3c > 0): KEN (12*20 + 8*50 + 5*100) / 25 = 45.6, GHA 22.8 -> 34.2
    assert sme_direct(headline_sme_vs_large(f, aggregation="exporters_only")) == pytest.approx(34.2)
    # pooled_sales with fx converting GHA sales at 2 LCU per unit:
    # (6700 + 3350 / 2) / (11700 + 11700 / 2) = 8375 / 17550
    fx = pd.Series({"KEN_2020": 1.0, "GHA_2019": 2.0})
    assert sme_direct(headline_sme_vs_large(f, aggregation="pooled_sales", fx=fx)) == pytest.approx(100 * 8375 / 17550)
    with pytest.raises(OptionError, match="fx="):
        headline_sme_vs_large(f, aggregation="pooled_sales")
    with pytest.raises(OptionError, match="% of sales indicators only"):
        headline_sme_vs_large(f, indicators=["TR16"], aggregation="sales_weighted")


@pytest.mark.parametrize("aggregation", ["country_mean", "pooled", "sales_weighted", "exporters_only"])
def test_headline_carries_the_sme_minus_large_difference(aggregation):
    f = two_surveys()
    head = headline_sme_vs_large(f, aggregation=aggregation)
    for ind, g in head.groupby("indicator"):
        g = g.set_index("sme_group")
        diff = g["difference"].iloc[0]
        assert g["difference"].nunique(dropna=False) == 1  # repeated on every row of the indicator
        if aggregation == "pooled":
            # one design: the difference is the difference of the two pooled estimates
            assert diff == pytest.approx(g.loc["SME", "estimate"] - g.loc["large", "estimate"], rel=1e-10)
            c = ms.contrast(f, ind, between="sme_group", levels=("SME", "large"),
                            where=f["sector"].astype(object) == "manufacturing")
            assert g["difference_se"].iloc[0] == pytest.approx(c["se"].iloc[0], rel=1e-12)
        elif not np.isnan(diff):
            # average over countries of per-survey differences = difference of the averages when
            # every survey has both groups
            assert diff == pytest.approx(g.loc["SME", "estimate"] - g.loc["large", "estimate"], rel=1e-10)
        p = g["difference_p_value"].iloc[0]
        assert np.isnan(p) or 0 <= p <= 1


def test_average_without_key_columns_is_one_average_over_countries():
    # a frame with only survey ids and statistics used to fail inside pandas ("No group keys")
    est = pd.DataFrame({"survey_id": ["KEN_2007", "KEN_2013", "GHA_2013"], "estimate": [10.0, 12.0, 6.0],
                        "se": [1.0, 2.0, 1.5], "n": [300, 400, 350], "unit": "%"})
    out = ms.cross_country_average(est)
    assert len(out) == 1 and "_all" not in out.columns
    assert out["estimate"].iloc[0] == pytest.approx((12.0 + 6.0) / 2)
    assert out["se"].iloc[0] == pytest.approx(math.sqrt(2.0**2 + 1.5**2) / 2)
    assert out["n_countries"].iloc[0] == 2 and out["unit"].iloc[0] == "%"


def test_option_values_come_from_the_literal_types():
    from msme_stats import _options

    est = pd.DataFrame({"survey_id": ["KEN_2013"], "estimate": [1.0], "se": [0.1], "n": [10]})
    with pytest.raises(OptionError, match="'simple', 'n_firms', 'sum_weight'"):
        ms.cross_country_average(est, weighting="mean")
    with pytest.raises(OptionError, match="'es', 'tec'"):
        compare_published(est.assign(indicator="x"), family="edd")
    with pytest.raises(OptionError, match="'es', 'tec', 'edd'"):
        ms.list_indicators("wbes")
    import typing

    from msme_stats.aggregate.es import cross_country_average, headline_sme_vs_large
    from msme_stats.aggregate.tec import tec_cross_country_average
    assert typing.get_type_hints(cross_country_average)["weighting"] == _options.Weighting
    assert typing.get_type_hints(headline_sme_vs_large)["aggregation"] == _options.HeadlineAggregation
    assert typing.get_type_hints(tec_cross_country_average)["aggregation"] == _options.TecAggregation
