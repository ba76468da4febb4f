"""Size classes, SME groups and sectors: hand-checked cases and hypothesis invariants."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from msme_stats.classify import (
    OECD_SIZE_ORDER,
    WBES_SIZE_ORDER,
    sector_class,
    size_class,
    size_from_stratum,
    sme_group,
)
from msme_stats.errors import ExclusionWarning, InvalidValueError, MissingColumnsError, OptionError


def test_a6a_codes_and_labels():
    s = pd.Series([1, 2, 3, 4, "Small(5-19)", "Medium(20-99)", "Large(100 And Over)", "Very Large(250+)", None])
    out = size_from_stratum(s)
    assert out.astype(object).tolist()[:8] == ["small", "medium", "large", "large"] * 2
    assert pd.isna(out.iloc[8])
    split = size_from_stratum(s, split_large=True)
    assert split.astype(object).tolist()[3] == "large_250plus"
    assert split.astype(object).tolist()[7] == "large_250plus"
    with pytest.raises(InvalidValueError, match="Enormous"):
        size_from_stratum(pd.Series(["Enormous"]))


def test_employee_edges():
    emp = pd.Series([0, 4, 4.9, 5, 19, 19.5, 20, 99, 100, 250, np.nan])
    l1 = size_class(emp, scheme="l1").astype(object).tolist()
    assert l1[:10] == ["micro"] * 3 + ["small"] * 3 + ["medium"] * 2 + ["large"] * 2
    assert pd.isna(l1[10])
    merged = size_class(emp, scheme="l1", below5="merge_small").astype(object).tolist()
    assert merged[:3] == ["small"] * 3
    oecd = size_class(pd.Series([0, 9, 10, 49, 50, 249, 250]), scheme="oecd").astype(object).tolist()
    assert oecd == ["0-9", "0-9", "10-49", "10-49", "50-249", "50-249", "250+"]
    bins = size_class(pd.Series([1, 50, 500]), scheme="bins", bins=[0, 50, np.inf], labels=["<50", "50+"])
    assert bins.astype(object).tolist() == ["<50", "50+", "50+"]
    with pytest.raises(InvalidValueError, match="below 0"):
        size_class(pd.Series([-9.0]), scheme="l1")
    with pytest.raises(OptionError, match="bins"):
        size_class(emp, scheme="bins", bins=[0, 10])
    with pytest.raises(OptionError, match="scheme"):
        size_class(emp, scheme="eu")
    with pytest.raises(MissingColumnsError, match="employees"):
        size_class(pd.DataFrame({"x": [1]}), scheme="l1")


@given(st.lists(st.one_of(st.floats(0, 1e5, allow_nan=False), st.just(np.nan)), min_size=1, max_size=60))
def test_l1_classes_are_monotone_and_keep_every_firm(values):
    emp = pd.Series(values, dtype=float)
    out = size_class(emp, scheme="l1")
    assert len(out) == len(emp)  # nobody dropped
    assert out.isna().equals(emp.isna())  # missing stays missing, nothing invented
    codes = out.cat.codes.to_numpy()
    order = np.argsort(emp.to_numpy(), kind="stable")
    ok = ~emp.isna().to_numpy()[order]
    assert np.all(np.diff(codes[order][ok]) >= 0)  # more employees never a smaller class
    assert list(out.cat.categories) == list(WBES_SIZE_ORDER)


@given(st.lists(st.floats(0, 1e5, allow_nan=False), min_size=1, max_size=60))
def test_sme_group_partitions_oecd_classes(values):
    cls = size_class(pd.Series(values), scheme="oecd")
    grp = sme_group(cls).astype(object)
    large = np.asarray(values) >= 250
    assert (grp[large] == "large").all()
    assert (grp[~large] == "SME").all()
    assert list(cls.cat.categories) == list(OECD_SIZE_ORDER)


def test_sme_group_wbes():
    s = pd.Series(["micro", "small", "medium", "large", "large_250plus", None])
    assert sme_group(s).astype(object).tolist()[:5] == ["SME", "SME", "SME", "large", "large"]
    assert sme_group(s, micro="separate").astype(object).tolist()[0] == "micro"
    with pytest.raises(InvalidValueError, match="giant"):
        sme_group(pd.Series(["giant"]))


def test_sectors_from_labels_then_isic():
    f = pd.DataFrame(
        {
            "sector_raw": ["Manufacturing", "Garments", "Retail", "Other Services", "Rest of Universe", None, None, "???"],
            "isic": [np.nan, np.nan, np.nan, np.nan, np.nan, 15, 52, 36],
        }
    )
    out = sector_class(f).astype(object).tolist()
    assert out == ["manufacturing", "manufacturing", "retail", "other_services", "other_services",
                   "manufacturing", "retail", "manufacturing"]
    with pytest.warns(ExclusionWarning, match="6 of 8"):
        rev4 = sector_class(f.assign(sector_raw=None), isic_revision="4", source="isic").astype(object).tolist()
    # Rev.4: 15 manufacturing (leather), 52 other services (warehousing); 36 (water supply) is
    # outside the WBES universe, so no sector (and counted in the warning)
    assert rev4[5:7] == ["manufacturing", "other_services"]
    assert pd.isna(rev4[7])
    with pytest.warns(ExclusionWarning, match="1 of 1 firm"):
        sector_class(pd.DataFrame({"sector_raw": ["Mining"]}))


@given(st.lists(st.integers(10, 99), min_size=1, max_size=40))
def test_isic_sector_is_always_defined_or_counted(divisions):
    f = pd.DataFrame({"isic": divisions})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = sector_class(f, source="isic")
    n_missing = int(out.isna().sum())
    if n_missing:
        assert any(f"{n_missing} of {len(f)}" in str(w.message) for w in caught)
    # 4-digit classes fall in the sector of their division
    out4 = sector_class(pd.DataFrame({"isic": [d * 100 + 7 for d in divisions]}), source="isic")
    assert out4.astype(object).fillna("-").tolist() == out.astype(object).fillna("-").tolist()


def test_classify_country_groups_is_a_deprecated_alias():
    import msme_stats
    from msme_stats import classify, reference

    assert msme_stats.country_groups is reference.country_groups
    with pytest.warns(DeprecationWarning, match="reference.country_groups"):
        old = classify.country_groups(["KEN", "DEU", "KEN"], [2014, 2015, 2024], group_type="income")
    new = reference.country_groups(["KEN", "DEU", "KEN"], [2014, 2015, 2024], group_type="income")
    pd.testing.assert_series_equal(old, new)
    assert new.tolist() == ["LIC", "HIC", "LMC"]
