"""The design keywords of the svy_* functions: one declaration (svyset), forwarded and typed.

The svy_* functions take the design options as ``**design`` typed by a TypedDict
(:class:`~msme_stats.survey.DesignOptions`) and forward them to :func:`msme_stats.svyset`,
which holds the only copy of the defaults (issue 15). These tests pin the public contract:
the same names and defaults, unknown keywords refused as before, options typed by the
Literal aliases of :mod:`msme_stats._options`.
"""

from __future__ import annotations

import inspect
import typing

import numpy as np
import pandas as pd
import pytest

import msme_stats as ms
from msme_stats import _options, survey
from msme_stats.errors import MissingColumnsError, OptionError


def _frame() -> pd.DataFrame:
    rng = np.random.default_rng(3)
    n = 40
    return pd.DataFrame({
        "survey_id": np.repeat(["A", "B"], n // 2),
        "strata": np.tile([1, 2, 3, 4], n // 4),
        "weight": rng.uniform(1, 5, n),
        "size_class": np.tile(["small", "large"], n // 2),
        "y": rng.integers(0, 2, n).astype(float),
        "x": rng.uniform(1, 10, n),
    })


def _svyset_keywords() -> dict[str, object]:
    return {name: p.default for name, p in inspect.signature(ms.svyset).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and not name.startswith("_")}


def test_typeddicts_name_exactly_the_svyset_keywords():
    kw = _svyset_keywords()
    assert set(survey.DesignOptions.__optional_keys__) == set(kw)
    assert not survey.DesignOptions.__required_keys__
    assert set(survey.ContrastDesignOptions.__optional_keys__) == set(kw) - {
        "deff", "dominant_share", "lonely_threshold"}
    assert survey._SVYSET_DEFAULTS == kw


def test_typeddict_value_types_match_svyset_annotations():
    hints = typing.get_type_hints(ms.svyset)
    for key, hint in typing.get_type_hints(survey.DesignOptions).items():
        assert hint == hints[key], key


@pytest.mark.parametrize("func", [ms.svy_mean, ms.svy_proportion, ms.svy_total])
def test_forwarded_options_give_the_same_result_as_the_design_method(func):
    firms = _frame()
    opts = {"lonely_psu": "centered", "ci_df": "normal", "level": 0.9, "min_n": 5,
            "deff": "with_replacement", "dominant_share": 0.4, "lonely_threshold": 0.2}
    got = func(firms, "y", by="size_class", **opts)
    method = {ms.svy_mean: "mean", ms.svy_proportion: "proportion", ms.svy_total: "total"}[func]
    want = getattr(ms.svyset(firms, **opts), method)("y", by="size_class")
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs["params"]["level"] == 0.9


def test_defaults_are_svysets():
    firms = _frame()
    pd.testing.assert_frame_equal(ms.svy_ratio(firms, "y", "x"), ms.svyset(firms).ratio("y", "x"))


@pytest.mark.parametrize(("func", "args", "bad"), [
    (ms.svy_mean, ("y",), "lonely"),
    (ms.svy_proportion, ("y",), "_who"),
    (ms.svy_ratio, ("y", "x"), "weights"),
    (ms.svy_total, ("y",), "strata_col"),
    (ms.svy_contrast, ("y",), "deff"),  # svy_contrast never took the diagnostics options
])
def test_unknown_keywords_raise_typeerror_naming_the_function(func, args, bad):
    kwargs = {"between": "size_class", "levels": ("small", "large")} if func is ms.svy_contrast else {}
    with pytest.raises(TypeError, match=rf"{func.__name__}\(\) got an unexpected keyword argument '{bad}'"):
        func(_frame(), *args, **kwargs, **{bad: 1})


def test_bad_values_and_missing_design_columns_still_raise():
    firms = _frame()
    with pytest.raises(OptionError, match="lonely_psu"):
        ms.svy_mean(firms, "y", lonely_psu="bogus")
    with pytest.raises(MissingColumnsError, match="nostrata"):
        ms.svy_total(firms, "y", strata="nostrata")
    # R aliases are still accepted
    a = ms.svy_mean(firms, "y", lonely_psu="adjust")
    assert a.attrs["params"]["lonely_psu"] == "centered"


def test_allowed_values_come_from_the_literal_types():
    assert survey.LONELY_CHOICES == _options.choices(_options.LonelyPsu)
    assert set(survey.LONELY_ALIASES) == set(_options.choices(_options.LonelyPsuAlias))
    assert set(survey.CI_METHOD_ALIASES) == set(_options.choices(_options.CiMethodAlias))
    assert set(_options.DEFF_ALIASES) == set(_options.choices(_options.DeffAlias))
    assert set(_options.CI_METHOD_ALIASES.values()) <= set(survey.CI_METHODS)
    with pytest.raises(OptionError) as info:
        ms.svyset(_frame(), domain_mode="subset")
    for v in _options.choices(_options.DomainMode):
        assert repr(v) in str(info.value)


def test_docstrings_document_each_design_keyword():
    for func in (ms.svyset, ms.svy_mean, ms.svy_proportion, ms.svy_ratio, ms.svy_total):
        doc = inspect.getdoc(func) or ""
        for key in _svyset_keywords():
            assert f"\n{key}\n" in doc or f"\n{key}, " in doc or f", {key}\n" in doc, (func.__name__, key)
        assert "{" + "svy_" not in doc  # every placeholder filled


@pytest.mark.parametrize(("func", "param", "alias"), [
    (ms.svyset, "domain_mode", _options.DomainMode),
    (ms.svyset, "lonely_psu", _options.LonelyPsu | _options.LonelyPsuAlias),
    (ms.svyset, "adjust_center", _options.AdjustCenter),
    (ms.svyset, "ci_df", _options.CiDf),
    (ms.svyset, "deff", _options.DeffSrs | _options.DeffAlias),
    (ms.svy_proportion, "ci_method", _options.CiMethod | _options.CiMethodAlias),
    (ms.svy_mean, "ci_method", _options.CiMethod | _options.CiMethodAlias | None),
    (ms.svy_contrast, "kind", _options.ContrastKind),
    (survey.SurveyDesign.contrast, "kind", _options.ContrastKind),
])
def test_survey_signatures_use_the_literal_types(func, param, alias):
    assert typing.get_type_hints(func)[param] == alias


def test_chart_signatures_use_the_literal_types_and_check_their_values():
    import matplotlib

    matplotlib.use("Agg")
    from msme_stats.plots import bars, dots

    for func, param, alias in [
        (bars.bars_by_size, "orient", _options.BarOrient),
        (bars.direct_vs_indirect, "kind", _options.ChannelLayout),
        (dots.country_dots, "sort", _options.DotSort),
        (dots.vintage_change, "sort", _options.VintageSort),
    ]:
        assert typing.get_type_hints(func)[param] == alias
    assert typing.get_type_hints(dots.country_dots)["reference"] == float | _options.ReferenceStat | None
    est = pd.DataFrame({"size_class": ["small", "large"], "estimate": [1.0, 2.0]})
    with pytest.raises(OptionError) as info:
        bars.bars_by_size(est, orient="diagonal", source="test")
    for v in _options.choices(_options.BarOrient):
        assert repr(v) in str(info.value)
