"""Literal option types in msme_stats._options: the allowed values come from the type."""

from __future__ import annotations

import typing

import pandas as pd
import pytest

import msme_stats as ms
from msme_stats import _options
from msme_stats.errors import OptionError
from msme_stats.sources import download, wbes


def test_choices_reads_literal_args_and_refuses_other_types():
    assert _options.choices(_options.Uncertainty) == ("se", "ci")
    assert _options.choices(_options.WbesWeight) == tuple(_options.WEIGHT_VARS)
    with pytest.raises(TypeError):
        _options.choices(str)


@pytest.mark.parametrize(("func", "param", "alias"), [
    (ms.load_wbes, "size_scheme", _options.WbesSizeScheme),
    (ms.load_wbes, "below5", _options.WbesBelow5),
    (ms.load_wbes, "isic_revision", _options.IsicRevision),
    (ms.load_wbes, "weights", _options.WbesWeight),
    (download.download_tec, "fmt", _options.TecFormat),
    (ms.to_iso3, "scheme", _options.CountryScheme),
    (ms.to_iso3, "errors", _options.CountryErrors),
])
def test_signatures_use_the_literal_types(func, param, alias):
    hints = typing.get_type_hints(func)
    assert hints[param] == alias


def test_wrong_values_list_the_literal_values():
    with pytest.raises(OptionError) as info:
        ms.to_iso3(["KEN"], scheme="iso4")
    for v in _options.choices(_options.CountryScheme):
        assert repr(v) in str(info.value)
    est = pd.DataFrame({"r": ["a"], "c": ["x"], "estimate": [1.0]})
    with pytest.raises(OptionError, match="'se', 'ci'"):
        ms.publication_table(est, rows="r", columns="c", uncertainty="sd")
    with pytest.raises(OptionError, match="'sdmx-csv', 'tsv'"):
        download.tec_url("ext_tec01", fmt="xml")
    assert wbes.Weights is _options.WbesWeight
