"""One vocabulary across the aggregation functions (issue 15): renamed options and moved names.

``group_by`` became ``by`` in cross_country_average and headline_sme_vs_large (the name
estimate/contrast/svy_*/tec_indicators use); the old keyword works for one release with a
DeprecationWarning and gives the same result. The TEC aggregation moved to
msme_stats.aggregate.tec; the old import path still gives the same objects.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import msme_stats as ms
from msme_stats.errors import OptionError


def _estimates() -> pd.DataFrame:
    rows = []
    for c, region, vals in (("KEN", "SSA", (10.0, 20.0)), ("GHA", "SSA", (30.0, 50.0)),
                            ("VNM", "EAP", (5.0, 15.0))):
        for size, v in zip(("SME", "large"), vals, strict=True):
            rows.append({"survey_id": f"{c}_2019", "sme_group": size, "region": region,
                         "estimate": v, "se": 1.0, "n": 40, "sum_weight": 400.0})
    return pd.DataFrame(rows)


def test_by_is_the_grouping_keyword_of_cross_country_average():
    avg = ms.cross_country_average(_estimates(), by="region")
    got = avg.set_index(["region", "sme_group"])["estimate"]
    assert got[("SSA", "SME")] == pytest.approx((10.0 + 30.0) / 2)  # hand-computed
    assert got[("EAP", "large")] == pytest.approx(15.0)


def test_group_by_still_works_with_a_deprecation_warning_and_the_same_result():
    new = ms.cross_country_average(_estimates(), by="region")
    with pytest.warns(DeprecationWarning, match=r"group_by= is deprecated.*use by="):
        old = ms.cross_country_average(_estimates(), group_by="region")
    pd.testing.assert_frame_equal(old, new)


def test_group_by_none_is_still_an_explicit_alias():
    with pytest.warns(DeprecationWarning):
        old = ms.cross_country_average(_estimates(), group_by=None)
    pd.testing.assert_frame_equal(old, ms.cross_country_average(_estimates()))


def test_new_keyword_warns_nothing():
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        ms.cross_country_average(_estimates(), by="region")


def test_both_keywords_raise():
    with pytest.warns(DeprecationWarning), pytest.raises(OptionError, match="not both"):
        ms.cross_country_average(_estimates(), by="region", group_by="region")


def test_headline_group_by_alias_warns_and_raises_with_both():
    from msme_stats.aggregate import headline_sme_vs_large

    # the alias is resolved before anything is estimated: both keywords raise at once
    with pytest.warns(DeprecationWarning), pytest.raises(OptionError, match="not both"):
        headline_sme_vs_large(pd.DataFrame(), by="region", group_by="region")


def test_tec_aggregation_moved_beside_the_wbes_aggregation_and_old_imports_work():
    from msme_stats.aggregate import tec as agg_tec
    from msme_stats.indicators.tec import (
        change_between,
        tec_compare_published,
        tec_cross_country_average,
    )

    assert tec_cross_country_average is agg_tec.tec_cross_country_average
    assert tec_compare_published is agg_tec.tec_compare_published
    assert change_between is agg_tec.change_between
    assert ms.tec_cross_country_average is agg_tec.tec_cross_country_average
    import msme_stats.indicators.tec as ind_tec

    with pytest.raises(AttributeError):
        ind_tec.no_such_name  # noqa: B018
