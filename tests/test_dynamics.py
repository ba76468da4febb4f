"""Tests of msme_stats.indicators.dynamics.exporter_dynamics (METHODS §4)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import msme_stats
from msme_stats.errors import (
    DuplicateIdError,
    ExclusionWarning,
    InvalidValueError,
    OptionError,
    RecodeWarning,
    UnknownCodeError,
)
from msme_stats.indicators.dynamics import edd_codes, exporter_dynamics, kcs_specimen_dynamics
from msme_stats.samples.transactions import synthetic_transactions

FIX = Path(__file__).resolve().parent / "fixtures" / "customs"
ROLES = {"trader": "firm", "year": "year", "product": "hs", "partner": "dest", "value": "value"}
NAN = float("nan")


def panel(rows):
    """rows: (year, trader, product, partner, value) -> canonical frame."""
    return pd.DataFrame(rows, columns=["period", "trader", "product", "partner", "value"])


def wide(out, **kw):
    return out.pivot(index="edd_code", columns="period", values="value")


def check(w, code, expected):
    got = w.loc[code].tolist()
    assert len(got) == len(expected), code
    for g, e in zip(got, expected, strict=True):
        if isinstance(e, float) and math.isnan(e):
            assert math.isnan(g), (code, got, expected)
        else:
            assert g == pytest.approx(e, rel=1e-6, abs=1e-12), (code, got, expected)


@pytest.fixture(scope="module")
def worked():
    tx = msme_stats.load_transactions(FIX / "worked_example.csv", roles=ROLES)
    return tx


def test_codes_table():
    t = edd_codes()
    assert len(t) == 98 and t["code"].is_unique and t["id"].is_unique
    assert t.loc[t["code"] == "B1", "name"].item() == "Herfindahl-Hirschman Index"
    assert t.loc[t["code"] == "A6i", "api_number"].item() == "006"
    assert t.loc[t["code"] == "E6iii", "api_number"].item() == "098"


def test_worked_example_defaults(worked):
    out = exporter_dynamics(worked)
    assert list(out.columns) == ["period", "edd_code", "indicator", "value", "unit"]
    assert len(out) == 3 * 98
    w = wide(out)
    # 2002: A1 = |{a, c, d}|; TEV = 120 + 5 + 30 = 155; A2 = |{d}|; A5 = |{a, c}|
    check(w, "A1", [4, 3, 3])
    check(w, "A2", [NAN, 1, 1])
    check(w, "A5", [NAN, 2, 2])
    # A6 over {120, 5, 30}: mean 155/3; Stata type-2 median x(2) = 30; sd n-1 = 60.48416;
    # Q1: W = 0.75 -> x(1) = 5; Q3: W = 2.25 -> x(3) = 120
    assert w.loc["A6i", 2002] == pytest.approx(51.6667, abs=1e-4)
    assert w.loc["A6ii", 2002] == 30
    assert w.loc["A6iii", 2002] == pytest.approx(60.48416, abs=1e-5)
    assert w.loc["A6iv", 2002] == 5
    assert w.loc["A6v", 2002] == 120
    # B1 = (120² + 5² + 30²) / 155² = 15325 / 24025; B2iii: k = ceil(0.25·3) = 1 -> 120/155
    assert w.loc["B1", 2002] == pytest.approx(0.6378772, abs=1e-7)
    assert w.loc["B2iii", 2002] == pytest.approx(0.7741935, abs=1e-7)
    # C4 = X_d / TEV = 30 / 155
    assert w.loc["C4", 2002] == pytest.approx(0.1935484, abs=1e-7)
    # B3 per firm (a, c, d) = 3, 1, 1 -> mean 5/3, median 1; B4 = 2, 1, 1 -> mean 4/3
    assert w.loc["B3i", 2002] == pytest.approx(5 / 3) and w.loc["B3ii", 2002] == 1
    assert w.loc["B4i", 2002] == pytest.approx(4 / 3) and w.loc["B4ii", 2002] == 1
    check(w, "C1", [NAN, 1 / 3, 1 / 3])
    # convention A: C2_2002 = |{b, g}| / 4, A8 = mean(50, 8) = 29; C2_2003 = |{c}| / 3, A8 = 5
    check(w, "C2", [NAN, 0.5, 1 / 3])
    check(w, "A8i", [NAN, 29, 5])
    # 2003: SE = {d}; C3 = 1/1
    check(w, "A4", [NAN, NAN, 1])
    check(w, "C3", [NAN, NAN, 1.0])
    # 2003, Inc = {a, d}: D1 = mean(0/1, 1/2); D3 = mean(0, 15/40); D5 = mean(2/3, 0/1);
    # A11 = mean(90/120 - 1, 40/30 - 1)
    assert w.loc["D1i", 2003] == pytest.approx(0.25)
    assert w.loc["D3i", 2003] == pytest.approx(0.1875)
    assert w.loc["D5i", 2003] == pytest.approx(1 / 3)
    assert w.loc["A11i", 2003] == pytest.approx(0.0416667, abs=1e-7)
    # D6 2003 over E01∩E02∩E03 = {a}: |{p1}| / |{p1, p2, p4}|
    assert w.loc["D6i", 2003] == pytest.approx(1 / 3)


def test_worked_example_conventions(worked):
    w = wide(exporter_dynamics(worked, exit_convention="B"))
    # convention B: C2_2001 = |{b, g}| / 4 (A8 29); C2_2002 = |{c}| / 3 (A8 5); last year NaN
    check(w, "C2", [0.5, 1 / 3, NAN])
    check(w, "A8i", [29, 5, NAN])
    w = wide(exporter_dynamics(worked, incumbent_def="excl_prev_entrants"))
    check(w, "A5", [NAN, NAN, 1])  # 2003: {a, d} minus Ent_2002 = {d}
    w = wide(exporter_dynamics(worked, hhi_scale=10000, growth="log", d1_denominator="previous"))
    assert w.loc["B1", 2002] == pytest.approx(6378.772, abs=1e-3)
    assert w.loc["A11i", 2003] == pytest.approx((math.log(90 / 120) + math.log(40 / 30)) / 2)
    # previous denominator: a 0/3, d 1/1
    assert w.loc["D1i", 2003] == pytest.approx(0.5)


def test_gaps_reentry_edges():
    # 2001 a b c; 2002 a c d; 2003 a b d e (b returns); 2004 a d e
    tx = panel([
        (2001, "a", "010101", "US", 10), (2001, "b", "010101", "US", 20), (2001, "c", "010101", "US", 5),
        (2002, "a", "010101", "US", 12), (2002, "c", "010101", "US", 6), (2002, "d", "010101", "US", 7),
        (2003, "a", "010101", "US", 15), (2003, "b", "010101", "US", 30), (2003, "d", "010101", "US", 8),
        (2003, "e", "010101", "US", 1),
        (2004, "a", "010101", "US", 20), (2004, "d", "010101", "US", 9), (2004, "e", "010101", "US", 2),
    ])
    w = wide(exporter_dynamics(tx))
    check(w, "A1", [3, 3, 4, 3])
    check(w, "A2", [NAN, 1, 2, 0])  # 2004: no entrant -> 0, not NaN
    check(w, "A3", [NAN, 1, 1, 1])  # b exits in 2002 and again in 2004
    check(w, "A4", [NAN, NAN, 1, 1])  # 2003 {d}; 2004 Ent_03 = {b, e} ∩ E04 = {e}
    check(w, "A5", [NAN, 2, 2, 3])
    check(w, "C1", [NAN, 1 / 3, 2 / 4, 0.0])
    check(w, "C2", [NAN, 1 / 3, 1 / 3, 1 / 4])
    check(w, "C3", [NAN, NAN, 1.0, 0.5])
    check(w, "C5", [NAN, NAN, NAN, 1.0])  # Ent_02 = {d}, present 2003 and 2004
    check(w, "C6", [NAN] * 4)
    check(w, "C4", [NAN, 7 / 25, 31 / 54, 0.0])
    check(w, "A7i", [NAN, 7, 15.5, NAN])  # empty entrant set -> NaN statistic
    check(w, "A8i", [NAN, 20, 6, 30])
    check(w, "A12i", [NAN, NAN, 8 / 7 - 1, 1.0])
    check(w, "A11i", [NAN, (12 / 10 - 1 + 6 / 5 - 1) / 2, (15 / 12 - 1 + 8 / 7 - 1) / 2,
                      (20 / 15 - 1 + 9 / 8 - 1 + 1.0) / 3])
    wb = wide(exporter_dynamics(tx, exit_convention="B"))
    check(wb, "A3", [1, 1, 1, NAN])
    check(wb, "C2", [1 / 3, 1 / 3, 1 / 4, NAN])
    # identities of METHODS §4.4 (convention A, continuing incumbents)
    for t in (2002, 2003, 2004):
        assert w.loc["A1", t] - w.loc["A1", t - 1] == w.loc["A2", t] - w.loc["A3", t]
        assert w.loc["A1", t] == w.loc["A2", t] + w.loc["A5", t]


def test_survival_rule_and_index():
    # f enters 2002, skips 2003, returns 2004; h enters 2002 and stays
    tx = panel([(y, "a", "010101", "US", 1) for y in (2001, 2002, 2003, 2004)]
               + [(2002, "f", "010101", "US", 1), (2004, "f", "010101", "US", 1)]
               + [(y, "h", "010101", "US", 1) for y in (2002, 2003, 2004)])
    w = wide(exporter_dynamics(tx))
    check(w, "C3", [NAN, NAN, 0.5, NAN])  # Ent_02 = {f, h}: h survives; Ent_03 = {} -> 0/0 = NaN
    check(w, "C5", [NAN, NAN, NAN, 0.5])  # continuous: only h
    check(w, "A2", [NAN, 2, 0, 1])  # f re-enters in 2004
    wp = wide(exporter_dynamics(tx, survival_rule="present"))
    check(wp, "C5", [NAN, NAN, NAN, 1.0])
    wc = wide(exporter_dynamics(tx, survival_index="cohort"))
    check(wc, "C3", [NAN, 0.5, NAN, NAN])  # labelled with the entry year 2002
    check(wc, "C5", [NAN, 0.5, NAN, NAN])


def test_products_destinations_blocks():
    # firm a: 2001 {p1, p2}, 2002 {p2, p3}, 2003 {p3, p4}; partners US/DE/FR likewise
    tx = panel([
        (2001, "a", "111111", "US", 10), (2001, "a", "222222", "DE", 10),
        (2002, "a", "222222", "DE", 30), (2002, "a", "333333", "FR", 10),
        (2003, "a", "333333", "FR", 10), (2003, "a", "444444", "US", 30),
        (2001, "b", "111111", "US", 5), (2002, "b", "111111", "US", 5), (2003, "b", "111111", "US", 5),
    ])
    w = wide(exporter_dynamics(tx))
    # 2002, Inc = {a, b}: a new {p3}: 1/2, b 0/1 -> D1 mean 0.25; D3: a 10/40, b 0 -> 0.125
    # D5: a lost {p1} of 2 -> 0.5, b 0 -> 0.25
    check(w, "D1i", [NAN, 0.25, 0.25])
    check(w, "D3i", [NAN, 0.125, 0.375])  # 2003: a new {p4} value 30/40
    check(w, "D5i", [NAN, 0.25, 0.25])
    # D6 2003 over {a, b}: a |{p3}| / |{p2, p3}| = 0.5, b 1 -> 0.75; 'new': a's new-in-2002 {p3}
    # survives -> 1; b has no new product in 2002 -> excluded
    check(w, "D6i", [NAN, NAN, 0.75])
    check(wide(exporter_dynamics(tx, d6_rule="new")), "D6i", [NAN, NAN, 1.0])
    # partners follow the same pattern here (US, DE) -> (DE, FR) -> (FR, US)
    check(w, "E1i", [NAN, 0.25, 0.25])
    check(w, "E5i", [NAN, 0.25, 0.25])
    # B5 2001: p1 has 2 exporters, p2 has 1 -> mean 1.5; B6 the same with US, DE
    check(w, "B5i", [1.5, 1.0, 1.0])
    check(w, "B6i", [1.5, 1.0, 1.5])  # 2003: US (a, b), FR (a)


def test_top_share_rules():
    rows = [(2001, f"f{i:03d}", "010101", "US", float(i + 1)) for i in range(150)]
    tx = panel(rows)
    tev = sum(range(1, 151))
    for rule, k in (("ceil", 2), ("round", 2), ("floor", 1)):  # 1 % of 150 = 1.5
        w = wide(exporter_dynamics(tx, top_share_k=rule))
        assert w.loc["B2i", 2001] == pytest.approx(sum(range(151 - k, 151)) / tev)
    tx100 = panel([(2001, f"f{i:03d}", "010101", "US", 1.0) for i in range(700)])
    # ceil(0.01 · 700) must be exactly 7 (no floating 7.000000001 -> 8)
    assert wide(exporter_dynamics(tx100)).loc["B2i", 2001] == pytest.approx(7 / 700)


def test_register_size_classes():
    tx = msme_stats.load_transactions(FIX / "worked_example.csv", roles=ROLES)
    reg = pd.DataFrame({"trader": ["a", "b", "c", "d"], "employees": [300, 10, 120, np.nan]})
    with pytest.warns(RecodeWarning, match="2 of 6 trader"):
        out = exporter_dynamics(tx, register=reg)
    assert list(out.columns) == ["size_class", "period", "edd_code", "indicator", "value", "unit"]
    assert set(out["size_class"]) == {"all", "SME", "large", "unknown"}
    a1 = out[out["edd_code"] == "A1"].pivot(index="size_class", columns="period", values="value")
    # SME (< 250): b, c; large: a; unknown: d (no employees), e, g (not in the register)
    assert a1.loc["SME"].tolist() == [2, 1, 0]
    assert a1.loc["large"].tolist() == [1, 1, 1]
    assert a1.loc["unknown"].tolist() == [1, 1, 2]
    assert (a1.loc["SME"] + a1.loc["large"] + a1.loc["unknown"]).tolist() == a1.loc["all"].tolist()
    assert sorted(out.attrs["unmatched_traders"]) == ["e", "g"]
    with pytest.warns(RecodeWarning):
        wbes = exporter_dynamics(tx, register=reg, sme_threshold=100)
    a1w = wbes[wbes["edd_code"] == "A1"].pivot(index="size_class", columns="period", values="value")
    assert a1w.loc["SME"].tolist() == [1, 0, 0]  # only b (10 employees) is below 100
    with pytest.raises(DuplicateIdError):
        exporter_dynamics(tx, register=pd.DataFrame({"trader": ["a", "a"], "employees": [1, 2]}))
    with pytest.raises(UnknownCodeError, match="size_class"):
        exporter_dynamics(tx, register=pd.DataFrame({"trader": ["a"], "size_class": ["medium"]}))


def test_filters_and_preset():
    tx = panel([
        (2001, "a", "270900", "US", 5000), (2001, "a", "010101", "US", 500),
        (2001, "b", "010101", "US", 2000), (2002, "b", "010101", "US", 900),
        (2002, "c", "020202", "US", 1500),
    ])
    with pytest.warns(RecodeWarning, match="no hs_concordance"):
        with pytest.warns(ExclusionWarning):
            out = exporter_dynamics(tx, edd_compat=True)
    p = out.attrs["params"]
    assert p["exclude_hs27"] is True and p["min_value"] == 1000.0 and p["top_share_k"] == "ceil"
    w = wide(out)
    # a's 2001 total without chapter 27 is 500 < 1000 -> dropped; b 2002 (900) dropped
    check(w, "A1", [1, 1])
    assert out.attrs["exclusions"]["rows_hs27"] == 1
    assert out.attrs["exclusions"]["trader_periods_below_min_value"] == 2
    w = wide(exporter_dynamics(tx, edd_compat=True, min_value=0, hs_concordance={"020202": "010101"}))
    check(w, "A1", [2, 2])  # explicit min_value overrides the preset
    check(w, "B5i", [2.0, 2.0])  # concordance merges 020202 into 010101


def test_placeholders_and_breaks():
    tx = panel([(2001, "a", "010101", "US", 1), (2001, "OTH", "010101", "US", 1),
                (2002, "a", "010101", "OTH", 1), (2002, "b", "010101", "US", 1),
                (2003, "a", "010101", "US", 1), (2003, "b", "010101", "US", 1)])
    with pytest.raises(InvalidValueError, match=r"partner=OTH: 1 row.*trader=OTH: 1 row"):
        exporter_dynamics(tx)
    with pytest.warns(ExclusionWarning, match="dropped 2 row"):
        w = wide(exporter_dynamics(tx, placeholder_ids="drop"))
    check(w, "A1", [1, 1, 2])  # a's 2002 row had an OTH partner and is gone
    w = wide(exporter_dynamics(tx.iloc[[0, 3, 4, 5]], id_break_years=[2003]))
    check(w, "A1", [1, 1, 2])
    check(w, "A2", [NAN, 1, NAN])  # no dynamics across the 2003 break
    check(w, "B1", [1.0, 1.0, 0.5])  # B block still computed


def test_unobserved_period_is_not_zero():
    tx = panel([(2001, "a", "010101", "US", 1), (2003, "a", "010101", "US", 1)])
    w = wide(exporter_dynamics(tx))
    check(w, "A2", [NAN, NAN])  # 2002 has no data at all: 2003 cannot be linked
    check(w, "A3", [NAN, NAN])


def test_option_errors(worked):
    with pytest.raises(OptionError, match="exit_convention='C'"):
        exporter_dynamics(worked, exit_convention="C")
    with pytest.raises(OptionError, match="min_value"):
        exporter_dynamics(worked, min_value=-1)
    with pytest.raises(OptionError, match="finer"):
        exporter_dynamics(worked, period="month")
    with pytest.raises(OptionError, match="dask"):
        exporter_dynamics(worked, scheduler="synchronous")


def test_params_recorded(worked):
    out = exporter_dynamics(worked)
    expected = {"exit_convention", "incumbent_def", "survival_index", "survival_rule", "growth",
                "d1_denominator", "d6_rule", "hhi_scale", "top_share_k", "quantile_method",
                "sd_ddof", "exclude_hs27", "min_value", "hs_concordance", "placeholder_ids",
                "id_break_years", "edd_compat", "engine", "period", "sme_threshold"}
    assert expected <= set(out.attrs["params"])


def test_kcs_specimen_quarterly():
    out = kcs_specimen_dynamics(period="quarter")
    w = wide(out)
    assert list(w.columns) == ["2020Q1", "2020Q2", "2020Q3", "2020Q4", "2021Q1", "2021Q2"]
    assert math.isnan(w.loc["A2", "2020Q1"]) and w.loc["A2", "2020Q2"] > 0
    assert (w.loc["C1"].dropna().between(0, 1)).all()
    # entrant share identity (METHODS §4.4): C4 = A2·A7i / (A1·A6i)
    t = "2021Q1"
    assert w.loc["C4", t] == pytest.approx(w.loc["A2", t] * w.loc["A7i", t] / (w.loc["A1", t] * w.loc["A6i", t]))


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.integers(2001, 2005), st.integers(0, 12), st.integers(0, 3),
                          st.floats(1, 1e6)), min_size=1, max_size=60))
def test_identities_hold_on_random_panels(rows):
    tx = panel([(y, f"f{f}", f"0{p}0101", "US", v) for y, f, p, v in rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = wide(exporter_dynamics(tx))
    years = sorted(w.columns)
    for t in years:
        assert w.loc["B1", t] <= 1 + 1e-12
        assert w.loc["B2i", t] <= w.loc["B2ii", t] + 1e-12 <= w.loc["B2iii", t] + 2e-12
        if t - 1 in years:
            assert w.loc["A1", t] - w.loc["A1", t - 1] == w.loc["A2", t] - w.loc["A3", t]
            assert w.loc["A1", t] == w.loc["A2", t] + w.loc["A5", t]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-30, 30), max_size=40))
def test_key_lookups_match_isin(keys):
    from msme_stats.indicators.dynamics import _neighbours

    k = np.asarray(keys, dtype=np.int64)
    prev, nxt = _neighbours(k)  # duplicates allowed
    assert prev.tolist() == np.isin(k - 1, k).tolist()
    assert nxt.tolist() == np.isin(k + 1, k).tolist()


@settings(max_examples=15, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([2001, 2002, 2003, 2005, 2006, 2007]), st.integers(0, 5),
                          st.integers(0, 4), st.integers(0, 2), st.integers(1, 1000)),
                min_size=1, max_size=80))
def test_product_partner_blocks_brute_force(rows):
    """D and E blocks (means) against a set-by-set recomputation (METHODS §4.3)."""
    tx = panel([(y, f"f{f}", f"10010{p}", "ABC"[d], float(v)) for y, f, p, d, v in rows])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = wide(exporter_dynamics(tx))
    years = sorted(w.columns)
    for blk, col in (("D", 2), ("E", 3)):
        items: dict = {}  # (firm, year) -> {item: value}
        for r in rows:
            cell = items.setdefault((r[1], r[0]), {})
            cell[r[col]] = cell.get(r[col], 0.0) + r[4]
        for t in years:
            inc = [f for f in range(6) if (f, t) in items and (f, t - 1) in items] if t - 1 in years else None
            if inc is None:
                assert math.isnan(w.loc[blk + "1i", t]) and math.isnan(w.loc[blk + "5i", t])
                continue
            d1, d3, d5 = [], [], []
            for f in inc:
                cur, old = items[(f, t)], items[(f, t - 1)]
                new = set(cur) - set(old)
                d1.append(len(new) / len(cur))
                d3.append(sum(cur[i] for i in new) / sum(cur.values()))
                d5.append(len(set(old) - set(cur)) / len(old))
            for code, vals in (("1i", d1), ("3i", d3), ("5i", d5)):
                if vals:
                    assert w.loc[blk + code, t] == pytest.approx(np.mean(vals), rel=1e-12), (blk + code, t)
                else:
                    assert math.isnan(w.loc[blk + code, t])
            if t - 2 in years:
                two = [f for f in inc if (f, t - 2) in items]
                d6 = [len(set(items[(f, t - 1)]) & set(items[(f, t)])) / len(items[(f, t - 1)]) for f in two]
                got = w.loc[blk + "6i", t]
                assert got == pytest.approx(np.mean(d6), rel=1e-12) if d6 else math.isnan(got)


@pytest.mark.parametrize(("param", "alias"), [
    ("engine", "DynamicsEngine"), ("period", "PeriodGrain"), ("exit_convention", "ExitConvention"),
    ("incumbent_def", "IncumbentDef"), ("survival_index", "SurvivalIndex"), ("survival_rule", "SurvivalRule"),
    ("growth", "Growth"), ("d1_denominator", "D1Denominator"), ("d6_rule", "D6Rule"),
    ("placeholder_ids", "PlaceholderIds"),
])
def test_options_are_literal_types_and_checked_from_them(param, alias):
    import typing

    from msme_stats import _options

    lit = getattr(_options, alias)
    assert typing.get_type_hints(exporter_dynamics)[param] == lit
    tx = synthetic_transactions(2_000, n_traders=100, seed=2)
    with pytest.raises(OptionError) as info:
        exporter_dynamics(tx, **{param: "no-such-value"})
    for v in _options.choices(lit):
        assert repr(v) in str(info.value)


def test_customs_options_are_literal_types():
    import typing

    from msme_stats import _options
    from msme_stats.sources.customs import load_transactions

    hints = typing.get_type_hints(load_transactions)
    assert hints["period"] == _options.PeriodGrain
    assert hints["short_hs"] == _options.ShortHs
    assert _options.choices(_options.TopShareK) == ("ceil", "round", "floor")


# --------------------------------------------------------------------------------------
# the second stage's integer machinery (issue 14): sorted / direct-address lookups equal the
# search- and hash-based ones they replace
# --------------------------------------------------------------------------------------
_runs = st.lists(st.tuples(st.integers(-40, 40), st.integers(1, 4)), max_size=60)


def _with_runs(pairs):
    return np.asarray([v for v, r in pairs for _ in range(r)], dtype=np.int64)


@settings(max_examples=60, deadline=None)
@given(_runs, st.sampled_from([None, True, False]), st.integers(0, 10**12))
def test_factorize_first_equals_pd_factorize(pairs, direct, shift):
    from msme_stats.indicators.dynamics import _factorize_first

    key = _with_runs(pairs) + shift  # runs of equal keys, wide or narrow ranges
    codes, uniq, srt, rank = _factorize_first(key, direct)
    exp_codes, exp_uniq = pd.factorize(key)
    assert codes.tolist() == exp_codes.tolist()
    assert uniq.tolist() == exp_uniq.tolist()
    assert srt.tolist() == np.unique(key).tolist()
    assert uniq[rank].tolist() == srt.tolist()


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(-50, 50), max_size=40), st.integers(-1, 4))
def test_sorted_neighbour_lookup_equals_search(keys, k):
    from msme_stats.indicators.dynamics import _find_sorted, _sorted_find

    srt = np.asarray(sorted(keys), dtype=np.int64)
    expected = pd.Index(srt).get_indexer(srt - k).tolist()
    assert _sorted_find(srt, k).tolist() == expected
    assert _find_sorted(srt, srt - k).tolist() == expected


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6), st.sampled_from([2001, 2002, 2003, 2005, 2006, 2007]),
                          st.integers(1, 9)), min_size=1, max_size=60),
       st.lists(st.tuples(st.integers(0, 6), st.sampled_from([2001, 2002, 2003, 2005, 2006, 2007])),
                min_size=1, max_size=60))
def test_panel_lags_equal_key_search(fp_rows, fd_rows):
    """Lags, presence flags and partner trader-periods of _Panel (neighbours among sorted
    keys) equal a search for the key k - j in the trader-period table (pandas' get_indexer,
    the lookups of the earlier search-based code)."""
    from msme_stats.indicators.dynamics import _Panel, _Table

    periods = np.asarray([2001, 2002, 2003, 2005, 2006, 2007])
    fid, o, v = (np.asarray(c) for c in zip(*fp_rows, strict=True))
    fp = _Table(fid, o.astype(np.int64), np.zeros(len(fid), dtype=np.int64), v.astype(float))
    fid_d, o_d = (np.asarray(c) for c in zip(*fd_rows, strict=True))
    fd = _Table(fid_d, o_d.astype(np.int64), np.zeros(len(fid_d), dtype=np.int64), np.ones(len(fid_d)))
    pan = _Panel(fp, fd, periods)
    fk = pan.key(fid, o)
    exp_codes, exp_fk = pd.factorize(fk)
    assert pan.fp_codes.tolist() == exp_codes.tolist() and pan.fk.tolist() == exp_fk.tolist()
    index = pd.Index(exp_fk)
    lag1 = index.get_indexer(exp_fk - 1)
    assert pan.lag_pos[1].tolist() == lag1.tolist()
    assert np.array_equal(np.isnan(pan.Xl[1]), lag1 < 0)
    assert pan.Xl[1][lag1 >= 0].tolist() == pan.X[lag1[lag1 >= 0]].tolist()
    for k in (1, 2, 3, 4):
        assert pan.pres[k].tolist() == (index.get_indexer(exp_fk - k) >= 0).tolist()
    assert pan.no_next.tolist() == (index.get_indexer(exp_fk + 1) < 0).tolist()
    d_codes, d_fk = pd.factorize(pan.key(fid_d, o_d))
    assert pan.fd_codes.tolist() == d_codes.tolist()
    d_index = pd.Index(np.asarray(d_fk))
    assert pan.d_pos.tolist() == d_index.get_indexer(exp_fk).tolist()
    assert pan.d_prev.tolist() == d_index.get_indexer(exp_fk - 1).tolist()
    assert pan.pidx.tolist() == np.searchsorted(periods, pan.o).tolist()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(1, 6)), min_size=1, max_size=80),
       st.sampled_from(["ceil", "round", "floor"]))
def test_period_groups_and_top_shares_equal_sorting(rows, rule):
    """_Stats.groups is a stable sort by period (or none when already sorted); B2 sums equal
    those of a full descending sort (np.lexsort), ties included."""
    from msme_stats.indicators.dynamics import _IDENTITY, _Stats, _top_k, _top_shares

    periods = np.asarray([2001, 2002, 2003, 2004])
    pidx = np.asarray([r[0] for r in rows])
    X = np.asarray([float(r[1]) for r in rows])
    st_ = _Stats(periods, "averaged_inverted_cdf", 1)
    order, lo, hi = st_.groups(pidx)
    stable = np.argsort(pidx, kind="stable")
    assert (np.arange(len(pidx)) if order is _IDENTITY else order).tolist() == stable.tolist()
    assert (hi - lo).tolist() == np.bincount(pidx, minlength=4).tolist()

    class Pan:  # the attributes _top_shares reads
        pass

    pan = Pan()
    pan.periods, pan.pidx, pan.X = periods, pidx, X
    tev = np.bincount(pidx, weights=X, minlength=4)
    res: dict = {}
    _top_shares(res, st_, pan, tev, rule)
    srt = np.lexsort((-X, pidx))
    X_s, p_s = X[srt], pidx[srt]
    for s, pct in zip(("i", "ii", "iii"), (1, 5, 25), strict=True):
        for i in range(4):
            n = int((p_s == i).sum())
            k = _top_k(n, pct, rule)
            got = res["B2" + s][i]
            if n and k:
                assert got == X_s[p_s == i][:k].sum() / tev[i]
            else:
                assert math.isnan(got)


def test_trader_categories_differing_between_tables():
    """Trader codes straight from the categoricals: the same output whether both tables share
    the categories, the partner table orders them otherwise or holds unused ones, or the
    traders are plain strings."""
    from dataclasses import replace

    from msme_stats.engines import ReduceOptions, get_engine
    from msme_stats.indicators.dynamics import dynamics_from_reduction

    tx = synthetic_transactions(4_000, n_traders=150, seed=3)
    red = get_engine("pandas").reduce(tx, ReduceOptions())
    params = exporter_dynamics(tx.head(50)).attrs["params"]
    traders = sorted(set(tx["trader"]))
    register = pd.DataFrame({"trader": traders[: len(traders) // 2], "employees": 10})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        base = dynamics_from_reduction(red, params=params, register=register)
        fd = red.firm_partner.copy()
        fd["trader"] = fd["trader"].cat.reorder_categories(fd["trader"].cat.categories[::-1])
        fd["trader"] = fd["trader"].cat.add_categories(["zz-unused"])
        fp = red.firm_product.copy()
        fp["trader"] = fp["trader"].astype(str)
        for r in (replace(red, firm_partner=fd), replace(red, firm_product=fp)):
            out = dynamics_from_reduction(r, params=params, register=register)
            pd.testing.assert_frame_equal(out, base, check_exact=True)
            assert out.attrs["unmatched_traders"] == base.attrs["unmatched_traders"]
    assert len(base.attrs["unmatched_traders"]) > 0


def test_worker_threads_give_the_same_frame(monkeypatch):
    """The D/E blocks and neighbour flags on worker threads (large tables) give the very
    frame computed on the calling thread."""
    from msme_stats.indicators import dynamics

    tx = synthetic_transactions(30_000, n_traders=1_500, seed=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        monkeypatch.setattr(dynamics, "_THREAD_MIN_ROWS", 10**12)
        one = exporter_dynamics(tx, min_value=2_000.0)
        monkeypatch.setattr(dynamics, "_THREAD_MIN_ROWS", 0)
        monkeypatch.setattr(dynamics.os, "cpu_count", lambda: 2)
        threaded = exporter_dynamics(tx, min_value=2_000.0)
    pd.testing.assert_frame_equal(threaded, one, check_exact=True)
