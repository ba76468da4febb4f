"""Tests of msme_stats.indicators.tec on hand-computed fixtures and the real ext_tec10."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msme_stats.errors import (
    InvalidValueError,
    OptionError,
    UnknownIndicatorError,
)
from msme_stats.indicators.tec import (
    OUTPUT_COLUMNS,
    change_between,
    tec_compare_published,
    tec_cross_country_average,
    tec_indicator_catalogue,
    tec_indicators,
)
from msme_stats.sources.tec import load_business_counts, load_tec

FIX = Path(__file__).parent / "fixtures" / "tec"
REAL = Path(__file__).parent.parent / "data" / "eurostat_ext_tec10" / "ext_tec10.csv.gz"


@pytest.fixture(scope="module")
def api():
    return load_tec(FIX / "ext_tec01_api.csv")


def _row(est, **kw):
    sel = est
    for k, v in kw.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, (kw, len(sel))
    return sel.iloc[0]


def test_output_shape_and_census_nan_se(api):
    est = tec_indicators(api)
    assert list(est.columns) == list(OUTPUT_COLUMNS)
    assert est[["se", "ci_low", "ci_high"]].isna().all().all()
    assert set(est["indicator"]) <= set(tec_indicator_catalogue()["id"])


def test_msme_value_share_total_vs_sum_of_classes(api):
    # AT 2021 exports WORLD: classes 100, 200, 300, 400 (thousand EUR), TOTAL 1100
    tot = tec_indicators(api, "msme_share_export_value")
    r = _row(tot, geo="AT", year=2021)
    assert r["estimate"] == pytest.approx(600 / 1100 * 100)  # 54.545 %
    assert r["numerator"] == 600_000 and r["denominator"] == 1_100_000
    assert r["tec_denominator"] == "total" and r["size_class"] == "0-249"
    # implicit unknown = (1100 - 1000) / 1100 = 9.09 %
    assert r["implicit_unknown_share"] == pytest.approx(100 / 1100 * 100)
    soc = tec_indicators(api, "msme_share_export_value", tec_denominator="sum_of_classes")
    r2 = _row(soc, geo="AT", year=2021)
    assert r2["estimate"] == pytest.approx(60.0)  # 600 / 1000
    assert r2["tec_denominator"] == "sum_of_classes"


def test_import_share_and_counts(api):
    est = tec_indicators(api, ["msme_share_import_value", "msme_share_exporters"])
    imp = _row(est, indicator="msme_share_import_value", geo="AT")
    assert imp["estimate"] == pytest.approx(50.0) and imp["flow"] == "imports"  # 500/1000
    ex = _row(est, indicator="msme_share_exporters", geo="AT", year=2021)
    assert ex["estimate"] == pytest.approx(95 / 110 * 100)  # (50+30+15)/110


def test_confidential_component_gives_nan_never_backed_out(api):
    est = tec_indicators(api, ["msme_share_export_value", "tec_value_share_by_size"])
    el = _row(est, indicator="msme_share_export_value", geo="EL")
    assert math.isnan(el["estimate"]) and el["status"] == "confidential"
    assert "V[0-9]:C" in el["flags"]
    micro = _row(est, indicator="tec_value_share_by_size", geo="EL", size_class="0-9")
    assert math.isnan(micro["estimate"])  # not (800 - 700) / 800
    large = _row(est, indicator="tec_value_share_by_size", geo="EL", size_class="250+")
    assert large["estimate"] == pytest.approx(500 / 800 * 100) and large["status"] == "ok"
    # sum_of_classes needs every class: the large share is NaN too
    soc = tec_indicators(api, "tec_value_share_by_size", tec_denominator="sum_of_classes")
    assert math.isnan(_row(soc, geo="EL", size_class="250+")["estimate"])


def test_value_per_trader_partner_share_and_implicit_unknown(api):
    est = tec_indicators(api, ["tec_value_per_trader", "tec_partner_share",
                               "tec_sme_value_share_partner",
                               "tec_implicit_unknown_value_share"])
    vpt = _row(est, indicator="tec_value_per_trader", geo="AT", size_class="0-9", year=2021,
               flow="exports")
    assert vpt["estimate"] == pytest.approx(100_000 / 50) and vpt["unit"] == "EUR per enterprise"
    ps = _row(est, indicator="tec_partner_share", geo="AT", size_class="0-9",
              partner="INT_EU")
    assert ps["estimate"] == pytest.approx(60.0)  # 60 / 100
    ps_t = _row(est, indicator="tec_partner_share", geo="AT", size_class="total",
                partner="INT_EU")
    assert ps_t["estimate"] == pytest.approx(50.0)  # 550 / 1100
    sp = _row(est, indicator="tec_sme_value_share_partner", geo="AT", partner="INT_EU")
    assert sp["estimate"] == pytest.approx(330 / 550 * 100)  # (60+120+150)/550
    iu = _row(est, indicator="tec_implicit_unknown_value_share", geo="AT", year=2021,
              flow="exports")
    assert iu["estimate"] == pytest.approx(100 / 1100 * 100) and iu["numerator"] == 100_000
    iu_el = _row(est, indicator="tec_implicit_unknown_value_share", geo="EL")
    assert math.isnan(iu_el["estimate"])  # a class is confidential


def test_series_break_and_change_between(api):
    est = tec_indicators(api, "msme_share_export_value")
    assert not _row(est, geo="AT", year=2021)["series_break"]
    assert _row(est, geo="AT", year=2022)["series_break"]
    ch = change_between(est, 2021, 2022)
    at = _row(ch, country="AUT")
    # 2022: (150+250+300)/1000 = 70 %; 2021: 54.545 % -> +15.45 points
    assert at["change"] == pytest.approx(70 - 600 / 11)
    assert at["change_unit"] == "percentage points" and at["crosses_series_break"]


def test_cross_country_mean_and_pooled(api):
    est = tec_indicators(api, "msme_share_export_value")
    y = est[est["year"] == 2021]
    mean = tec_cross_country_average(y, year_rule=2021)
    # AT 600/1100 = 54.545, UK 60/100 = 60; EL NaN (confidential), EU27 excluded
    r = mean.iloc[0]
    assert r["estimate"] == pytest.approx((600 / 1100 * 100 + 60) / 2)
    assert r["n_countries"] == 2 and r["n_missing"] == 1 and r["countries"] == "AUT,GBR"
    pooled = tec_cross_country_average(y, year_rule=2021, aggregation="pooled")
    assert pooled.iloc[0]["estimate"] == pytest.approx((600 + 60) / (1100 + 100) * 100)
    latest = tec_cross_country_average(est)
    # latest per country: AT 2022 (70 %), UK 2021 (60 %)
    assert latest.iloc[0]["estimate"] == pytest.approx(65.0)
    assert latest.iloc[0]["year_min"] == 2021 and latest.iloc[0]["year_max"] == 2022
    with_agg = tec_cross_country_average(y, year_rule=2021, exclude_aggregates=False)
    assert with_agg.iloc[0]["n_countries"] == 3
    only_at = tec_cross_country_average(y, year_rule=2021, countries=["AT"])
    assert only_at.iloc[0]["n_countries"] == 1
    with pytest.raises(OptionError):
        tec_cross_country_average(y, aggregation="median")


def test_pooled_refuses_mixed_currencies(api):
    oecd = load_tec(FIX / "oecd_tec01.csv")
    both = pd.concat([api, oecd], ignore_index=True)
    est = tec_indicators(both, "msme_share_export_value")
    with pytest.raises(InvalidValueError, match="currency"):
        tec_cross_country_average(est, aggregation="pooled")


def test_oecd_unknown_class_and_breakdown():
    oecd = load_tec(FIX / "oecd_tec01.csv")
    est = tec_indicators(oecd, "tec_value_share_by_size")
    unk = _row(est, size_class="unknown")
    assert unk["estimate"] == pytest.approx(20 / 180.5 * 100)
    sme = _row(est, size_class="0-249")
    assert sme["estimate"] == pytest.approx(60.5 / 180.5 * 100)  # 10.5 + 20 + 30
    # TOWNERSHIP=FOR row is a different breakdown, not mixed in
    assert (est["breakdown"] == "").all()


def test_participation_rate_with_business_counts():
    tec = load_tec(FIX / "oecd_tec01.csv")
    bc = load_business_counts(FIX / "sdbs.csv")
    est = tec_indicators(tec, "export_participation_rate", business_counts=bc)
    large = _row(est, size_class="250+")
    assert math.isnan(large["estimate"]) and large["status"] == "missing"  # no S_GE250 count
    tot = _row(est, size_class="total")
    assert tot["estimate"] == pytest.approx(300 / 1158 * 100)
    micro = _row(est, size_class="0-9")
    assert micro["status"] == "confidential" and "S1T9" in micro["note"]


def test_participation_rate_hand_computed():
    tec = pd.DataFrame({
        "country": "USA", "geo": "USA", "year": 2013, "flow": "exports", "partner": "WORLD",
        "activity": "TOTAL", "size_class": ["0-9", "10-49", "50-249", "250+", "total"],
        "measure": "enterprises", "value": [90.0, 38.0, 29.5, 5.28, 200.0],
        "unit": "enterprises", "confidential": False, "flag": "", "conf_status": "",
    })
    bc = load_business_counts(FIX / "sdbs.csv")
    est = tec_indicators(tec, "export_participation_rate", business_counts=bc)
    got = est.set_index("size_class")["estimate"]
    assert got["0-9"] == pytest.approx(9.0)  # 90 / 1000
    assert got["10-49"] == pytest.approx(38.0)  # 38 / (60 + 40)
    assert got["50-249"] == pytest.approx(59.0)  # 29.5 / 50
    assert got["250+"] == pytest.approx(66.0)  # 5.28 / 8
    assert got["0-249"] == pytest.approx(157.5 / 1150 * 100)


def test_options_validated(api):
    with pytest.raises(OptionError):
        tec_indicators(api, tec_denominator="sum")
    with pytest.raises(UnknownIndicatorError):
        tec_indicators(api, "nope")
    with pytest.raises(OptionError, match="business_counts"):
        tec_indicators(api, "export_participation_rate")


def test_inputs_not_mutated(api):
    before = api.copy()
    tec_indicators(api)
    pd.testing.assert_frame_equal(api, before)


@settings(max_examples=15, deadline=None)
@given(st.lists(st.floats(min_value=0.0, max_value=1e6), min_size=4, max_size=4),
       st.floats(min_value=0.0, max_value=1e6))
def test_shares_sum_to_100_with_sum_of_classes(vals, unknown):
    if sum(vals) == 0:
        return
    tec = pd.DataFrame({
        "country": "AUT", "geo": "AT", "year": 2020, "flow": "exports", "partner": "WORLD",
        "activity": "TOTAL", "size_class": ["0-9", "10-49", "50-249", "250+", "total"],
        "measure": "trade_value", "value": [*vals, sum(vals) + unknown], "unit": "EUR",
        "confidential": False,
    })
    est = tec_indicators(tec, "tec_value_share_by_size", tec_denominator="sum_of_classes")
    four = est[est["size_class"].isin(["0-9", "10-49", "50-249", "250+"])]
    assert four["estimate"].sum() == pytest.approx(100.0)
    tot = tec_indicators(tec, "tec_value_share_by_size")
    t4 = tot[tot["size_class"].isin(["0-9", "10-49", "50-249", "250+"])]["estimate"].sum()
    iu = tot["implicit_unknown_share"].iloc[0]
    assert t4 + iu == pytest.approx(100.0)


def test_compare_published_structure(api):
    tab = tec_compare_published(api, reference_values=FIX / "reference_values.csv")
    assert set(tab["aggregation"]) == {"country_mean", "pooled"}
    r = _row(tab, target_id="wtr16_msme_export_value_share", aggregation="country_mean")
    assert r["published"] == 34 and r["tolerance"] == 0.5
    assert r["recomputed"] == pytest.approx(65.0) and not r["within_tolerance"]
    p = _row(tab, target_id="wtr16_export_participation_micro", aggregation="pooled")
    assert math.isnan(p["recomputed"]) and "business counts" in p["note"]
    assert set(tab["target_id"]) >= {"wto22_msme_export_value_share",
                                     "wto22_msme_import_value_share",
                                     "wtr16_msme_exporter_share"}


@pytest.mark.skipif(not REAL.exists(), reason="data/eurostat_ext_tec10 not present")
def test_real_ext_tec10_sanity_band_methods_3_6():
    tec = load_tec(REAL)
    est = tec_indicators(tec, ["msme_share_export_value", "msme_share_exporters"])
    de = _row(est, indicator="msme_share_export_value", geo="DE", year=2022)
    # (47,686,953.12 + 75,327,933.41 + 167,404,120.45) / 1,377,605,672.24
    assert de["estimate"] == pytest.approx(290_419_007.0 / 1_377_605_672.24 * 100, rel=1e-9)
    # METHODS 3.6 table: geo EU excluded, reporters with TOTAL and all four classes
    # published (the table keeps UKN, which enters in 2021 only)
    v = est[(est["indicator"] == "msme_share_export_value") & (est["geo"] != "EU")]
    mean = tec_cross_country_average(v, year_rule=(2015, 2024), complete_cells_only=True,
                                     exclude_aggregates=False).set_index("year")
    pooled = tec_cross_country_average(v, year_rule=(2015, 2024), complete_cells_only=True,
                                       exclude_aggregates=False,
                                       aggregation="pooled").set_index("year")
    expected_mean = {2015: 43.3, 2016: 44.8, 2017: 46.1, 2018: 43.1, 2019: 42.2, 2020: 43.1,
                     2021: 44.0, 2022: 42.9, 2023: 42.0, 2024: 42.4}
    expected_pool = {2015: 38.8, 2016: 40.8, 2017: 39.2, 2018: 35.3, 2019: 34.4, 2020: 36.6,
                     2021: 36.4, 2022: 36.2, 2023: 35.7, 2024: 35.1}
    n = {2015: 16, 2016: 17, 2017: 18, 2018: 18, 2019: 20, 2020: 26, 2021: 28, 2022: 34,
         2023: 34, 2024: 32}
    for y in expected_mean:
        assert mean.loc[y, "estimate"] == pytest.approx(expected_mean[y], abs=0.05)
        assert pooled.loc[y, "estimate"] == pytest.approx(expected_pool[y], abs=0.05)
        assert mean.loc[y, "n_countries"] == n[y]
    # BE 2015: 30.5 % with TOTAL against 50.8 % with the sum of classes (INDICATORS 4.4)
    soc = tec_indicators(tec, "msme_share_export_value", tec_denominator="sum_of_classes")
    be_t = _row(est, indicator="msme_share_export_value", geo="BE", year=2015)["estimate"]
    be_s = _row(soc, geo="BE", year=2015)["estimate"]
    assert be_t == pytest.approx(30.5, abs=0.05) and be_s == pytest.approx(50.8, abs=0.05)
    assert np.isfinite(be_t)
