"""Tests of the plots package layout: chart families, **kwargs pass-through, shared docstring
pieces (msme_stats.plots._docs), the column map (columns.csv) and the TEC measure aliases
(reference/tec_measure_labels.csv)."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from matplotlib.container import BarContainer, ErrorbarContainer

import msme_stats.plots as mp
from msme_stats.errors import InvalidValueError
from msme_stats.plots import _docs, bars, dots, lines, style
from msme_stats.reference import read_reference

ROOT = Path(__file__).resolve().parents[1]
SRC = "WTO Secretariat calculations based on World Bank Enterprise Surveys"
CHARTS = ("bars_by_size", "direct_vs_indirect", "size_shares", "country_dots",
          "vintage_change", "time_lines")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _sizes() -> pd.DataFrame:
    return pd.DataFrame({"size_class": ["small", "medium", "large"], "estimate": [4.2, 8.8, 14.1],
                         "ci_low": [3.4, 7.4, 12.1], "ci_high": [5.0, 10.2, 16.1]})


# --------------------------------------------------------------------------- layout
def test_public_names_come_from_their_family_modules():
    assert mp.bars_by_size is bars.bars_by_size
    assert mp.direct_vs_indirect is bars.direct_vs_indirect
    assert mp.size_shares is bars.size_shares
    assert mp.country_dots is dots.country_dots
    assert mp.vintage_change is dots.vintage_change
    assert mp.time_lines is lines.time_lines
    assert set(CHARTS) <= set(mp.__all__)


def test_old_charts_module_still_imports_with_a_deprecation_warning():
    sys.modules.pop("msme_stats.plots.charts", None)
    with pytest.warns(DeprecationWarning, match="msme_stats.plots.charts is deprecated"):
        charts = importlib.import_module("msme_stats.plots.charts")
    for name in CHARTS:
        assert getattr(charts, name) is getattr(mp, name)


# --------------------------------------------------------------------------- docstrings
@pytest.mark.parametrize("name", CHARTS)
def test_chart_docstrings_have_every_parameter_and_no_placeholder_left(name):
    func = getattr(mp, name)
    doc = inspect.getdoc(func)
    assert "{" + "ax}" not in doc and "{annotations}" not in doc and "{returns}" not in doc
    documented = set()
    for line in doc.splitlines():
        if line and not line.startswith(" "):
            documented.update(p.strip() for p in line.split(","))
    params = [p for p in inspect.signature(func).parameters if p != "kwargs"]
    assert [p for p in params if p not in documented] == []
    assert "**kwargs" in documented
    # the shared pieces are inserted verbatim and at the parameter indentation
    assert "ax\n    Axes to draw on; by default a new figure" in doc
    assert "source\n    Text of the \"Source: ...\" line under the chart." in doc


def test_fill_doc_indents_pieces_and_rejects_unknown_names():
    def f():
        """Summary.

        Parameters
        ----------
        {ax}
        x
            Keeps {braces} in text: "{:.1f}".
        """

    _docs.fill_doc(f)
    doc = inspect.cleandoc(f.__doc__)  # same result whether or not Python dedents docstrings
    assert "Parameters\n----------\nax\n    Axes to draw on;" in doc
    assert 'x\n    Keeps {braces} in text: "{:.1f}".' in doc

    def g():
        """{no_such_piece}"""

    with pytest.raises(KeyError, match="no_such_piece"):
        _docs.fill_doc(g)


# --------------------------------------------------------------------------- **kwargs
def test_bars_pass_kwargs_to_matplotlib_bar_and_they_override_defaults():
    ax = mp.bars_by_size(_sizes(), ylabel="% of sales", source=SRC, edgecolor="red", hatch="//")
    patches = [p for c in ax.containers if isinstance(c, BarContainer) for p in c.patches]
    assert len(patches) == 3
    assert all(mcolors.to_hex(p.get_edgecolor()) == "#ff0000" for p in patches)
    assert all(p.get_hatch() == "//" for p in patches)
    ax2 = mp.bars_by_size(_sizes(), ylabel="% of sales", source=SRC, color="black")
    patches2 = [p for c in ax2.containers if isinstance(c, BarContainer) for p in c.patches]
    assert {mcolors.to_hex(p.get_facecolor()) for p in patches2} == {"#000000"}


def test_series_bars_pass_kwargs_in_both_charts():
    dvi = pd.DataFrame({"size_class": ["SME", "SME"], "channel": ["direct", "indirect"],
                        "estimate": [7.6, 2.4]})
    ax = mp.direct_vs_indirect(dvi, channel="channel", direct="direct", indirect="indirect",
                               source=SRC, linewidth=2.5, edgecolor="black")
    assert {p.get_linewidth() for c in ax.containers if isinstance(c, BarContainer)
            for p in c.patches} == {2.5}
    shares = pd.DataFrame({"size_class": ["0-9", "250+"], "measure": ["THS_EUR", "THS_EUR"],
                           "estimate": [40.0, 60.0]})
    ax2 = mp.size_shares(shares, source="Eurostat", alpha=0.5)
    assert {p.get_alpha() for c in ax2.containers if isinstance(c, BarContainer)
            for p in c.patches} == {0.5}


def test_dots_lines_and_dumbbells_pass_kwargs():
    frame = pd.DataFrame({"country": ["A", "B"], "estimate": [1.0, 2.0]})
    ax = mp.country_dots(frame, xlabel="%", source=SRC, marker="s", markersize=9)
    cont = next(c for c in ax.containers if isinstance(c, ErrorbarContainer))
    assert cont.lines[0].get_marker() == "s" and cont.lines[0].get_markersize() == 9
    wide = pd.DataFrame({"country": ["A", "B"], "published": [1.0, 2.0], "recomputed": [1.5, 2.5]})
    ax2 = mp.vintage_change(wide, xlabel="%", source=SRC, alpha=0.4)
    assert [c.get_alpha() for c in ax2.collections[1:3]] == [0.4, 0.4]
    series = pd.DataFrame({"year": [2019, 2020, 2021], "value": [1.0, 2.0, 1.5]})
    ax3 = mp.time_lines(series, x="year", ylabel="%", source=SRC, linestyle="--", linewidth=3)
    (line,) = ax3.get_lines()
    assert line.get_linestyle() == "--" and line.get_linewidth() == 3


# --------------------------------------------------------------------------- data files
def test_columns_file_is_the_one_map_of_palettes_and_axis_labels():
    table = pd.read_csv(style.COLUMNS_PATH, dtype=str, keep_default_na=False)
    assert list(table.columns) == ["column", "palette", "axis_label", "source"]
    assert not table["column"].duplicated().any()
    assert (table["source"] != "").all()
    known = set(style.palettes()["palette"])
    assert set(table["palette"]) - {""} <= known
    assert style.column_palette("region") == "country_group"
    assert style.column_palette("country") is None
    assert style.column_label("size_class") == "Firm size (employees)"
    assert style.column_label("sizeclas") == "Sizeclas"  # no label in the file: the name
    assert style.column_label("some_column") == "Some column"
    ax = mp.bars_by_size(_sizes(), ylabel="% of sales", source=SRC)
    assert ax.get_xlabel() == "Firm size (employees)"


def test_measure_aliases_come_from_the_reference_file():
    table = read_reference("tec_measure_labels")
    assert set(table["measure"]) == {"export_value", "exporters"}
    assert dict(zip(table["label"], table["measure"], strict=True))["NR_ENT"] == "exporters"
    codes = read_reference("tec_codes")
    units = set(codes.loc[codes["dimension"] == "unit", "code"])
    assert {"THS_EUR", "NR_ENT"} <= units  # the publisher codes it maps are real TEC codes
    data = pd.DataFrame({"size_class": ["0-9", "250+"], "measure": ["imports", "imports"],
                         "estimate": [40.0, 60.0]})
    with pytest.raises(InvalidValueError, match="THS_EUR"):
        mp.size_shares(data, source="Eurostat")
