"""Publication tables: layout, formatting, footnotes and the four formats."""

from __future__ import annotations

import pandas as pd
import pytest

import msme_stats as ms
from msme_stats.errors import MissingColumnsError, OptionError


def averages() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator": ["direct", "direct", "indirect", "indirect"],
            "sme_group": ["SME", "large", "SME", "large"],
            "estimate": [7.6123, 14.08, 2.4, 1.95],
            "se": [0.41, 1.2, 0.3, 0.25],
            "n_countries": [40, 40, 40, 39],
            "n_firms": [12000, 3000, 11950, 2990],
        }
    )


def test_layout_formatting_and_footnotes():
    t = ms.publication_table(averages(), rows="indicator", columns="sme_group", title="Export intensity",
                             source="World Bank Enterprise Surveys", sample="manufacturing firms")
    assert list(t.table.columns) == ["SME", "large"]
    assert t.table.loc["direct", "SME"] == "7.6"
    assert t.table.loc["indirect", "large"] == "1.9" or t.table.loc["indirect", "large"] == "2.0"
    assert t.values.loc["direct", "large"] == pytest.approx(14.08)
    assert "Source: World Bank Enterprise Surveys" in t.footnotes
    assert "Countries per cell: 39 to 40." in t.footnotes
    assert "Firms per cell: 2,990 to 12,000." in t.footnotes
    se = ms.publication_table(averages(), rows="indicator", columns="sme_group", show_se=True, decimals=2)
    assert se.table.loc["direct", "SME"] == "7.61 (0.41)"


def test_four_formats_written(tmp_path):
    t = ms.publication_table(averages(), rows="indicator", columns="sme_group", title="T", source="S")
    files = t.write(tmp_path / "headline")
    assert sorted(p.suffix for p in files) == [".csv", ".md", ".tex", ".xlsx"]
    md = (tmp_path / "headline.md").read_text()
    assert "| indicator | SME | large |" in md and "Source: S" in md
    tex = (tmp_path / "headline.tex").read_text()
    assert r"\begin{tabular}{lrr}" in tex and r"7.6 & 14.1" in tex
    back = pd.read_excel(tmp_path / "headline.xlsx", header=2, index_col=0)
    assert back.loc["direct", "SME"] == pytest.approx(7.6123)
    # same input, same bytes (reproducible outputs)
    t.write(tmp_path / "again")
    for suffix in (".csv", ".md", ".tex", ".xlsx"):
        assert (tmp_path / f"headline{suffix}").read_bytes() == (tmp_path / f"again{suffix}").read_bytes()


def test_errors():
    with pytest.raises(MissingColumnsError, match="region"):
        ms.publication_table(averages(), rows="region", columns="sme_group")
    dup = pd.concat([averages(), averages()])
    with pytest.raises(OptionError, match="same cell"):
        ms.publication_table(dup, rows="indicator", columns="sme_group")
