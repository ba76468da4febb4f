"""Outlier screen on sales and employees (msme_stats.screens): flags, never drops."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import msme_stats as ms
from msme_stats.errors import InvalidValueError, MissingColumnsError, OptionError


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 60
    return pd.DataFrame({
        "survey_id": np.repeat(["A_2010", "B_2012"], n // 2),
        "sales": np.exp(rng.normal(12, 1, n)),
        "employees": np.exp(rng.normal(3, 0.5, n)).round() + 1,
    })


def test_hand_computed_rule() -> None:
    f = _frame()
    f.loc[3, "sales"] = f.loc[:29, "sales"].median() * 1e6  # 13.8 log units above the median
    out = ms.screen_outliers(f)
    assert len(out) == len(f) and out.index.equals(f.index)  # nothing dropped
    lv = np.log(f.loc[:29, "sales"])
    med = lv.median()
    mad = (lv - med).abs().median()
    expect = (np.abs(lv - med) > 5 * 1.4826 * mad).to_numpy()
    assert (out.loc[:29, "outlier_sales"].to_numpy() == expect).all()
    assert out.loc[3, "outlier_sales"] and out.loc[3, "outlier_any"]
    assert out.attrs["screens"]["sales"]["flagged"] == int(expect.sum()) >= 1
    assert "outlier_sales" not in f.columns  # input not mutated


def test_groups_are_separate_and_small_groups_unscreened() -> None:
    f = _frame()
    before = ms.screen_outliers(f)["outlier_sales"]
    f.loc[f.survey_id == "B_2012", "sales"] *= 1e9  # another currency: flags unchanged
    pd.testing.assert_series_equal(ms.screen_outliers(f)["outlier_sales"], before)
    small = f.head(5)
    assert ms.screen_outliers(small).attrs["screens"]["sales"]["screened"] == 0


def test_errors() -> None:
    f = _frame()
    with pytest.raises(InvalidValueError, match="negative"):
        ms.screen_outliers(f.assign(sales=f["sales"].where(f.index != 1, -9)))
    with pytest.raises(MissingColumnsError, match="employees"):
        ms.screen_outliers(f.drop(columns="employees"))
    with pytest.raises(OptionError):
        ms.screen_outliers(f, k=0)
    with pytest.raises(OptionError):
        ms.screen_outliers(f, screens=["profit"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.one_of(st.just(-1.0), st.just(0.0), st.floats(1e-3, 1e9))),
                min_size=1, max_size=80),
       st.floats(0.5, 6.0))
def test_screen_equals_the_groupby_formula(rows, k):
    """The sorted-groups screen equals median/MAD per group written with pandas groupby."""
    from msme_stats.screens import _screen

    groups = np.array([g for g, _ in rows])
    v = np.array([x for _, x in rows])
    flag, screened = _screen(v, groups, k, 3)
    ok = np.isfinite(v) & (v > 0)
    s = pd.Series(np.where(ok, np.log(np.where(ok, v, 1.0)), np.nan))
    g = pd.Series(groups)
    med = s.groupby(g).transform("median")
    mad = (s - med).abs().groupby(g).transform("median")
    usable = ok & (s.notna().groupby(g).transform("sum").to_numpy() >= 3) & (mad.to_numpy() > 0)
    far = np.abs(s - med).to_numpy() > k * 1.4826 * mad.to_numpy()
    assert flag.tolist() == (usable & far).tolist()
    assert screened == int(usable.sum())


def test_a_distance_at_the_cut_off_is_decided_with_the_c_librarys_log(monkeypatch) -> None:
    """A group where a firm sits at the cut-off is screened with math.log (the same on every
    CPU); numpy's log, whose last bit depends on AVX-512, decides only clear cases."""
    import math

    from msme_stats import _libm

    f = _frame().head(30)
    lv = np.array([math.log(x) for x in f["sales"]])
    med = np.median(lv)
    dist = np.abs(lv - med)
    mad = np.median(dist)
    i = int(np.argmax(dist))
    k = float(dist[i] / (1.4826 * mad))  # the farthest firm at the cut-off, to rounding
    calls = []
    real_log = _libm.log
    monkeypatch.setattr(_libm, "log", lambda x: calls.append(len(x)) or real_log(x))
    out = ms.screen_outliers(f, screens=["sales"], k=k)
    assert calls == [30]  # the group was screened again through the C library
    expect = dist > k * 1.4826 * mad
    assert (out["outlier_sales"].to_numpy() == expect).all()
    calls.clear()
    ms.screen_outliers(f, screens=["sales"], k=5.0)  # nobody near the cut-off: numpy's log only
    assert calls == []
