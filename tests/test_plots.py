"""Structure tests of the chart functions (not pixels): bars, heights, order, whiskers, notes."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.colors as mcolors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.container import BarContainer, ErrorbarContainer

import msme_stats.plots as mp
from msme_stats.errors import (
    ExclusionWarning,
    InvalidValueError,
    MissingColumnsError,
    MsmeStatsWarning,
    OptionError,
)

SRC = "WTO Secretariat calculations based on World Bank Enterprise Surveys"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _bars(ax):
    return [p for c in ax.containers if isinstance(c, BarContainer) for p in c.patches]


def _whiskers(ax):
    """(low, high) of every error bar, in drawing order."""
    out = []
    for c in ax.containers:
        if isinstance(c, ErrorbarContainer):
            _, _, barcols = c.lines
            for seg in barcols[0].get_segments():
                out.append(tuple(seg[:, 1]) if seg[0, 0] == seg[1, 0] else tuple(seg[:, 0]))
    return out


def _ticks(labels):
    return [t.get_text().replace("\n", " ") for t in labels]


def _size_frame():
    # deliberately not in canonical order
    return pd.DataFrame(
        {
            "size_class": ["large", "small", "medium"],
            "estimate": [14.1, 4.2, 8.8],
            "ci_low": [12.1, 3.4, 7.4],
            "ci_high": [16.1, 5.0, 10.2],
            "n": [800, 3000, 1900],
            "flags": ["", "", "low_n"],
        }
    )


# --------------------------------------------------------------------------- bars_by_size
def test_bars_by_size_order_heights_whiskers_labels_and_note():
    data = _size_frame()
    before = data.copy()
    ax = mp.bars_by_size(data, ylabel="% of sales", source=SRC)
    pd.testing.assert_frame_equal(data, before)  # input not mutated
    assert _ticks(ax.get_xticklabels()) == ["Small (5-19)", "Medium (20-99)", "Large (100+)"]
    bars = _bars(ax)
    assert len(bars) == 3
    assert [b.get_height() for b in bars] == pytest.approx([4.2, 8.8, 14.1])
    assert _whiskers(ax) == [pytest.approx((3.4, 5.0)), pytest.approx((7.4, 10.2)),
                             pytest.approx((12.1, 16.1))]
    assert ax.get_ylabel() == "% of sales"
    assert ax.get_xlabel()
    note = mp.source_note(ax)
    flat = " ".join(note.split())  # the note is wrapped to the figure width
    assert flat.startswith(f"Source: {SRC}.")
    assert "n = 800 to 3,000 observations per estimate" in flat
    assert "1 estimate(s) flagged (low_n)" in flat
    # value labels printed above the whiskers
    texts = [t.get_text() for t in ax.texts]
    assert texts == ["4.2", "8.8", "14.1"]


def test_bars_by_size_hue_groups_and_legend():
    rows = []
    for g, vals in (("ldc", (3.9, 11.0)), ("developing_wbes", (7.6, 14.1))):
        for s, v in zip(("large", "SME"), vals[::-1], strict=True):
            rows.append({"group": g, "size_class": s, "estimate": v})
    data = pd.DataFrame(rows)
    ax = mp.bars_by_size(data, hue="group", ylabel="% of sales", source=SRC, value_labels=False)
    assert _ticks(ax.get_xticklabels()) == ["SMEs", "Large (100+)"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    # palette order: developing_wbes before ldc, whatever the input order
    assert legend == ["Developing economies (WBES)", "Least developed countries"]
    bars = _bars(ax)
    assert len(bars) == 4
    # first container = developing (SME 7.6, large 14.1), second = ldc (3.9, 11.0)
    assert [b.get_height() for b in bars] == pytest.approx([7.6, 14.1, 3.9, 11.0])
    assert _whiskers(ax) == []  # no ci columns, no whiskers
    # side by side: the two bars of one size class do not overlap
    assert bars[0].get_x() + bars[0].get_width() <= bars[2].get_x() + 1e-9


def test_bars_by_size_tec_order_and_sme_before_large():
    data = pd.DataFrame({"size_class": ["250+", "50-249", "0-9", "10-49"], "estimate": [66, 59, 9, 38]})
    ax = mp.bars_by_size(data, ylabel="% of enterprises", source="OECD TEC")
    assert _ticks(ax.get_xticklabels()) == ["Micro (0-9)", "Small (10-49)", "Medium (50-249)", "Large (250+)"]
    assert [b.get_height() for b in _bars(ax)] == [9, 38, 59, 66]
    assert mp.size_order(["large", "sme", "micro"]) == ["micro", "sme", "large"]


def test_bars_by_size_horizontal_for_many_categories():
    names = [f"Economy {i}" for i in range(12)]
    data = pd.DataFrame({"country": names, "estimate": np.arange(12, dtype=float)})
    ax = mp.bars_by_size(data, x="country", xlabel="Economy", ylabel="% of sales", source=SRC)
    bars = _bars(ax)
    assert len(bars) == 12
    assert [b.get_width() for b in bars] == list(np.arange(12.0))  # horizontal: widths
    assert _ticks(ax.get_yticklabels()) == names  # first row on top, input order kept
    assert ax.yaxis_inverted()
    assert len({b.get_facecolor() for b in bars}) == 1  # plain bars: one colour for economies
    assert ax.get_xlabel() == "% of sales"


def test_bars_by_size_missing_estimate_is_counted_not_silent():
    data = _size_frame()
    data.loc[1, "estimate"] = np.nan
    with pytest.warns(ExclusionWarning, match="1 bar"):
        ax = mp.bars_by_size(data, ylabel="% of sales", source=SRC)
    assert len(_bars(ax)) == 2


def test_bars_by_size_errors():
    data = _size_frame()
    with pytest.raises(MissingColumnsError, match="'value'"):
        mp.bars_by_size(data, y="value", source=SRC)
    with pytest.raises(InvalidValueError, match="share the same"):
        mp.bars_by_size(pd.concat([data, data]), ylabel="%", source=SRC)
    with pytest.raises(OptionError, match="orient"):
        mp.bars_by_size(data, orient="diagonal", source=SRC)


def test_missing_source_warns_and_unit_from_unit_column():
    data = _size_frame().assign(unit="% of sales")
    with pytest.warns(MsmeStatsWarning, match="names no source"):
        ax = mp.bars_by_size(data)
    assert ax.get_ylabel() == "% of sales"
    with pytest.warns(MsmeStatsWarning, match="no unit known"):
        mp.bars_by_size(_size_frame(), source=SRC)


def test_given_axes_is_used_and_returned():
    fig, (a1, a2) = plt.subplots(1, 2)
    out = mp.bars_by_size(_size_frame(), ax=a2, ylabel="%", source=SRC)
    assert out is a2
    assert len(_bars(a1)) == 0


def test_source_note_is_below_the_chart_and_inside_saved_image():
    ax = mp.bars_by_size(_size_frame(), ylabel="% of sales", source=SRC, note="Simple mean.")
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    note = next(a for a in fig.artists if a.get_gid() == "msme-source-note")
    nb = note.get_window_extent(renderer)
    ab = ax.get_tightbbox(renderer)
    assert nb.y1 <= ab.y0 + 0.5  # entirely below tick labels and axis label
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight")  # renders without error
    assert buf.getvalue()[:4] == b"\x89PNG"


# --------------------------------------------------------------------------- direct_vs_indirect
def _dvi_frame():
    rows = []
    for s, d, i in (("large", 14.1, 3.1), ("SME", 7.6, 2.4)):
        rows.append({"size_class": s, "indicator": "es_direct_export_intensity", "estimate": d,
                     "ci_low": d - 1, "ci_high": d + 1})
        rows.append({"size_class": s, "indicator": "es_indirect_export_intensity", "estimate": i,
                     "ci_low": i - 0.5, "ci_high": i + 0.5})
    return pd.DataFrame(rows)


def test_direct_vs_indirect_side_by_side():
    ax = mp.direct_vs_indirect(_dvi_frame(), source=SRC)
    assert _ticks(ax.get_xticklabels()) == ["SMEs", "Large (100+)"]
    assert [b.get_height() for b in _bars(ax)] == pytest.approx([7.6, 14.1, 2.4, 3.1])
    assert len(_whiskers(ax)) == 4
    assert ax.get_ylabel() == "% of sales"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Direct exports", "Indirect exports"]


def test_direct_vs_indirect_stacked_totals():
    data = _dvi_frame()
    extra = pd.DataFrame([{"size_class": "SME", "indicator": "es_days_clear_exports", "estimate": 9.0}])
    with pytest.warns(ExclusionWarning, match="1 row"):
        ax = mp.direct_vs_indirect(pd.concat([data, extra]), kind="stacked", source=SRC)
    bars = _bars(ax)
    assert len(bars) == 4
    direct, indirect = bars[:2], bars[2:]
    for d, i in zip(direct, indirect, strict=True):
        assert i.get_y() == pytest.approx(d.get_height())  # indirect sits on direct
    assert _whiskers(ax) == []
    # totals: 7.6 + 2.4 = 10.0 and 14.1 + 3.1 = 17.2
    assert sorted(t.get_text() for t in ax.texts) == ["10.0", "17.2"]


def test_direct_vs_indirect_by_blocks_and_bad_channel():
    data = pd.concat([_dvi_frame().assign(group="AFR"), _dvi_frame().assign(group="LAC")])
    ax = mp.direct_vs_indirect(data, by="group", source=SRC, value_labels=False)
    assert len(_bars(ax)) == 8
    texts = [t.get_text() for t in ax.texts]
    assert "Sub-Saharan Africa" in texts and "Latin America and Caribbean" in texts
    with pytest.raises(InvalidValueError, match="direct="):
        mp.direct_vs_indirect(data, channel="group", source=SRC)


# --------------------------------------------------------------------------- country_dots
def _dots_frame():
    return pd.DataFrame(
        {
            "country": ["Kenya", "Uganda", "Bangladesh", "Viet Nam"],
            "estimate": [10.9, 0.9, 14.9, 5.5],
            "ci_low": [9.0, 0.5, 12.0, 4.5],
            "ci_high": [12.8, 1.3, 17.8, 6.5],
            "unit": "% of sales",
        }
    )


def test_country_dots_ranked_with_intervals_and_mean_line():
    ax = mp.country_dots(_dots_frame(), reference="mean", source=SRC)
    assert _ticks(ax.get_yticklabels()) == ["Bangladesh", "Kenya", "Viet Nam", "Uganda"]
    # top of the chart is position 0
    assert ax.get_ylim()[0] > ax.get_ylim()[1]
    cont = next(c for c in ax.containers if isinstance(c, ErrorbarContainer))
    xs = cont.lines[0].get_xdata()
    assert list(xs) == pytest.approx([14.9, 10.9, 5.5, 0.9])
    assert _whiskers(ax) == [pytest.approx((12.0, 17.8)), pytest.approx((9.0, 12.8)),
                             pytest.approx((4.5, 6.5)), pytest.approx((0.5, 1.3))]
    # simple mean (10.9 + 0.9 + 14.9 + 5.5) / 4 = 32.2 / 4 = 8.05
    ref = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert ref and ref[0].get_xdata()[0] == pytest.approx(8.05)
    assert any(t.get_text() == "Simple mean: 8.1" for t in ax.texts)  # 8.05 -> 8.1 (half up in binary)
    assert ax.get_xlabel() == "% of sales"


def test_country_dots_hue_ranks_by_first_level():
    base = _dots_frame()
    large = base.assign(size_class="large", estimate=base.estimate[::-1].to_numpy(),
                        ci_low=base.ci_low[::-1].to_numpy(), ci_high=base.ci_high[::-1].to_numpy())
    data = pd.concat([large, base.assign(size_class="SME")])
    ax = mp.country_dots(data, hue="size_class", sort="ascending", source=SRC)
    # first hue level in canonical order is SME: ascending SME values
    assert _ticks(ax.get_yticklabels()) == ["Uganda", "Viet Nam", "Kenya", "Bangladesh"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["SMEs", "Large (100+)"]


# --------------------------------------------------------------------------- vintage_change
def test_vintage_change_long_and_wide_agree():
    long = pd.DataFrame(
        {
            "indicator": ["SME direct", "SME direct", "Large direct", "Large direct", "SME indirect"],
            "vintage": ["published", "recomputed", "published", "recomputed", "published"],
            "estimate": [7.6, 8.3, 14.1, 13.2, 2.4],
        }
    )
    with pytest.warns(ExclusionWarning, match="only one of the two vintages"):
        ax = mp.vintage_change(long, y="indicator", xlabel="% of sales", source="WTR 2016")
    # sorted by end value, descending; the row without an end value last
    assert _ticks(ax.get_yticklabels()) == ["Large direct", "SME direct", "SME indirect"]
    # changes: 13.2 - 14.1 = -0.9; 8.3 - 7.6 = +0.7
    assert [t.get_text() for t in ax.texts] == ["-0.9", "+0.7"]
    wide = pd.DataFrame({"indicator": ["SME direct", "Large direct"], "published": [7.6, 14.1],
                         "recomputed": [8.3, 13.2]})
    ax2 = mp.vintage_change(wide, y="indicator", xlabel="% of sales", source="WTR 2016")
    assert [t.get_text() for t in ax2.texts] == ["-0.9", "+0.7"]
    start, end = ax2.collections[1], ax2.collections[2]
    assert start.get_offsets()[:, 0].tolist() == pytest.approx([14.1, 7.6])
    assert end.get_offsets()[:, 0].tolist() == pytest.approx([13.2, 8.3])
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["Published", "Recomputed"]


def test_interval_not_containing_estimate_is_an_error():
    data = _dots_frame()
    data.loc[0, "ci_high"] = 10.0  # below the estimate 10.9
    with pytest.raises(InvalidValueError, match="outside"):
        mp.country_dots(data, source=SRC)
    with pytest.raises(InvalidValueError, match="outside"):
        mp.bars_by_size(data, x="country", source=SRC)


def test_vintage_change_errors():
    data = pd.DataFrame({"country": ["A"], "vintage": ["v1"], "estimate": [1.0]})
    with pytest.raises(InvalidValueError, match="start='published'"):
        mp.vintage_change(data, source="x")


# --------------------------------------------------------------------------- size_shares
def test_size_shares_aliases_heights_and_sum_note():
    data = pd.DataFrame(
        {
            "size_class": ["250+", "0-9", "10-49", "50-249"] * 2,
            "measure": ["export value"] * 4 + ["NR_ENT"] * 4,
            "estimate": [58.8, 9.5, 12.1, 16.0, 3.1, 62.3, 24.9, 9.4],
        }
    )
    ax = mp.size_shares(data, source="Eurostat, ext_tec10")
    assert _ticks(ax.get_xticklabels()) == ["Micro (0-9)", "Small (10-49)", "Medium (50-249)", "Large (250+)"]
    assert [b.get_height() for b in _bars(ax)] == pytest.approx(
        [9.5, 12.1, 16.0, 58.8, 62.3, 24.9, 9.4, 3.1]
    )
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Share of export value", "Share of exporters"]
    note = " ".join(mp.source_note(ax).split())
    # export value shares: 9.5 + 12.1 + 16.0 + 58.8 = 96.4; exporters: 62.3+24.9+9.4+3.1 = 99.7
    assert "add up to 96.4%" in note
    assert ax.get_ylabel() == "% of total"
    with pytest.raises(InvalidValueError, match="export_value"):
        mp.size_shares(data.assign(measure="imports"), source="x")


# --------------------------------------------------------------------------- time_lines
def test_time_lines_sorted_periods_and_bands():
    data = pd.DataFrame(
        {
            "period": ["2020Q2", "2020Q1", "2020Q3"] * 2,
            "measure": ["entry"] * 3 + ["exit"] * 3,
            "value": [2.0, 1.0, 3.0, 5.0, 4.0, 6.0],
            "ci_low": [1.5, 0.5, 2.5, 4.5, 3.5, 5.5],
            "ci_high": [2.5, 1.5, 3.5, 5.5, 4.5, 6.5],
        }
    )
    ax = mp.time_lines(data, hue="measure", ylabel="% of exporters", source="KCS synthetic")
    lines = ax.get_lines()
    assert len(lines) == 2
    assert list(lines[0].get_ydata()) == [1.0, 2.0, 3.0]
    assert list(lines[1].get_ydata()) == [4.0, 5.0, 6.0]
    assert _ticks(ax.get_xticklabels()) == ["2020Q1", "2020Q2", "2020Q3"]
    assert len(ax.collections) == 2  # one CI band per line
    assert ax.get_ylabel() == "% of exporters" and ax.get_xlabel() == "Period"


def test_time_lines_period_dtype_and_numeric_years():
    per = pd.period_range("2019-01", periods=3, freq="M")
    data = pd.DataFrame({"period": per, "value": [3.0, 1.0, 2.0]})
    ax = mp.time_lines(data, ylabel="%", source="x")
    assert list(ax.get_lines()[0].get_ydata()) == [3.0, 1.0, 2.0]
    years = pd.DataFrame({"year": [2016, 2014, 2015], "value": [3.0, 1.0, 2.0]})
    ax = mp.time_lines(years, x="year", ylabel="%", source="x")
    assert list(ax.get_lines()[0].get_xdata()) == [2014, 2015, 2016]


# --------------------------------------------------------------------------- style
def test_palettes_file_is_complete():
    table = mp.palettes()
    assert (table["source"].str.len() > 0).all()
    assert all(mcolors.is_color_like(c) for c in table["color"])
    assert {"size_class", "country_group", "channel", "measure", "vintage", "series"} <= set(table["palette"])
    with pytest.raises(OptionError, match="palette="):
        mp.palette("nope")


@settings(max_examples=40, deadline=None)
@given(st.permutations(["micro", "small", "medium", "SME", "large", "0-9", "10-49", "50-249", "250+"]))
def test_size_order_is_canonical_for_any_input_order(values):
    assert mp.size_order(values) == ["micro", "small", "medium", "SME", "large",
                                     "0-9", "10-49", "50-249", "250+"]


def test_canonical_order_keeps_unknown_values_after_known():
    assert mp.canonical_order(["zz", "large", "aa", "small"]) == ["small", "large", "zz", "aa"]


def test_house_style_is_applied_inside_context_only():
    with mp.house_style():
        assert plt.rcParams["axes.spines.top"] is False
        assert plt.rcParams["svg.hashsalt"] == "msme_stats"
    assert plt.rcParams["svg.hashsalt"] != "msme_stats"  # restored on exit


def test_vintage_change_labels_a_rounded_zero_without_minus_sign():
    data = pd.DataFrame({"country": ["A", "B"], "published": [5.0, 3.0], "recomputed": [4.999, 4.0]})
    ax = mp.vintage_change(data, y="country", source=SRC, xlabel="% of sales")
    texts = sorted(t.get_text() for t in ax.texts if t.get_text().startswith(("+", "-")))
    assert texts == ["+0.0", "+1.0"]
