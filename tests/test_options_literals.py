"""Literal option types in msme_stats._options: signatures use them and the checks list their values
(loaders, reference, tables, indicators, aggregation and classification options)."""

from __future__ import annotations

import typing

import pandas as pd
import pytest

import msme_stats as ms
from msme_stats import _options as o
from msme_stats import classify, tables
from msme_stats.aggregate import es as agg_es
from msme_stats.aggregate import tec as agg_tec
from msme_stats.errors import OptionError
from msme_stats.indicators import tec as ind_tec
from msme_stats.sources import download, wbes


def test_choices_reads_literal_args_and_refuses_other_types():
    assert o.choices(o.Uncertainty) == ("se", "ci")
    assert o.choices(o.WbesWeight) == tuple(o.WEIGHT_VARS)
    with pytest.raises(TypeError):
        o.choices(str)


@pytest.mark.parametrize(("func", "param", "alias"), [
    (ms.load_wbes, "size_scheme", o.WbesSizeScheme),
    (ms.load_wbes, "below5", o.WbesBelow5),
    (ms.load_wbes, "isic_revision", o.IsicRevision),
    (ms.load_wbes, "weights", o.WbesWeight),
    (download.download_tec, "fmt", o.TecFormat),
    (ms.to_iso3, "scheme", o.CountryScheme),
    (ms.to_iso3, "errors", o.CountryErrors),
    (ms.list_indicators, "family", o.IndicatorFamily | None),
    (ms.estimate, "partial_missing", o.PartialMissing),
    (ms.contrast, "partial_missing", o.PartialMissing),
    (agg_es.cross_country_average, "weighting", o.Weighting),
    (agg_es.headline_sme_vs_large, "aggregation", o.HeadlineAggregation),
    (agg_es.compare_published, "family", o.TargetFamily | None),
    (agg_tec.tec_cross_country_average, "aggregation", o.TecAggregation),
    (agg_tec.tec_cross_country_average, "year_rule", o.YearRule),
    (agg_tec.tec_compare_published, "tec_denominator", o.TecDenominator),
    (ind_tec.tec_indicators, "tec_denominator", o.TecDenominator),
    (ind_tec.tec_indicators, "out_of_range", o.OutOfRange),
    (classify.size_class, "scheme", o.SizeScheme),
    (classify.size_class, "below5", o.WbesBelow5),
    (classify.sme_group, "micro", o.MicroRule),
    (classify.sector_class, "source", o.SectorSource),
    (classify.sector_class, "isic_revision", o.IsicRevision),
    (tables.PublicationTable.to_stata, "version", o.StataVersion),
])
def test_signatures_use_the_literal_types(func, param, alias):
    hints = typing.get_type_hints(func)
    assert hints[param] == alias


def test_wrong_values_list_the_literal_values():
    with pytest.raises(OptionError) as info:
        ms.to_iso3(["KEN"], scheme="iso4")
    for v in o.choices(o.CountryScheme):
        assert repr(v) in str(info.value)
    est = pd.DataFrame({"r": ["a"], "c": ["x"], "estimate": [1.0]})
    with pytest.raises(OptionError, match="'se', 'ci'"):
        ms.publication_table(est, rows="r", columns="c", uncertainty="sd")
    with pytest.raises(OptionError, match="'sdmx-csv', 'tsv'"):
        download.tec_url("ext_tec01", fmt="xml")
    assert wbes.Weights is o.WbesWeight


def test_table_formats_come_from_the_literal_type():
    assert tables.ALL_FORMATS == o.choices(o.TableFormat)
    assert set(tables.FORMATS) <= set(tables.ALL_FORMATS)


@pytest.mark.parametrize(("call", "alias"), [
    (lambda: classify.size_class(pd.Series([3]), scheme="eu"), o.SizeScheme),
    (lambda: classify.sme_group(pd.Series(["small"]), micro="drop"), o.MicroRule),
    (lambda: classify.sector_class(pd.DataFrame({"sector_raw": ["Retail"]}), source="naics"), o.SectorSource),
    (lambda: ms.list_indicators("wbes"), o.IndicatorFamily),
    (lambda: agg_tec._year_rule_option("earliest"), o.YearRuleName),
])
def test_wrong_values_list_the_allowed_values(call, alias):
    with pytest.raises(OptionError) as info:
        call()
    for value in o.choices(alias):
        assert repr(value) in str(info.value)
