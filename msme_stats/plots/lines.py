"""Line charts over time: exporter dynamics, shares over the years.

:func:`time_lines` takes a tidy frame first, options as keywords, an optional ``ax=``,
passes other keyword arguments to :meth:`matplotlib.axes.Axes.plot` and returns the Axes
drawn on; the input is never modified.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
from matplotlib.axes import Axes

from . import _common as common
from ._docs import fill_doc
from .style import _figure_of, category_colors, house_style

__all__ = ["time_lines"]


def _time_positions(frame: pd.DataFrame, x: str) -> tuple[pd.DataFrame, list[str] | None]:
    """``frame`` with the plotting position ``_x``; the period labels when ``x`` is categorical.

    Numbers and dates are plotted as they are; Periods and strings as equally spaced
    positions in sorted order.
    """
    xs = frame[x]
    if isinstance(xs.dtype, pd.PeriodDtype) or xs.map(lambda v: isinstance(v, pd.Period)).all():
        xs = xs.astype(str)
    categorical = not (pd.api.types.is_numeric_dtype(xs) or pd.api.types.is_datetime64_any_dtype(xs))
    if not categorical:
        return frame.assign(_x=xs), None
    periods = sorted(dict.fromkeys(xs.astype(str)))
    pos_of = {p: i for i, p in enumerate(periods)}
    return frame.assign(_x=xs.astype(str).map(pos_of).astype(float)), periods


def _period_ticks(ax: Axes, periods: list[str]) -> None:
    """Thin the period labels so that they never touch: about 6 pt per character + 12 pt gap."""
    avail = _figure_of(ax).get_figwidth() * 72 * 0.85
    per_label = max(len(p) for p in periods) * 6 + 12
    step = max(1, math.ceil(len(periods) / max(1, int(avail // per_label))))
    shown = list(range(0, len(periods), step))
    ax.set_xticks(shown, [periods[i] for i in shown])


def _draw_lines(
    ax: Axes,
    frame: pd.DataFrame,
    *,
    hue: str | None,
    hue_levels: list[Any],
    hue_labels: Mapping[Any, str],
    colors: Mapping[Any, str],
    band: bool,
    markers: bool,
    func: str,
    line_kw: Mapping[str, Any],
) -> list[tuple[Any, Any]]:
    """One line per ``hue`` level (``line_kw`` overrides the defaults), CI band when asked."""
    has_band = band and {"ci_low", "ci_high"} <= set(frame.columns)
    handles = []
    for h in hue_levels:
        rows = frame if hue is None else frame[frame[hue] == h]
        rows = rows.sort_values("_x", kind="stable")
        if rows["_v"].notna().sum() == 0:
            continue
        mk = "o" if markers or rows["_v"].notna().sum() == 1 else None
        style = {"color": colors[h], "marker": mk, "markersize": 3.5,
                 "label": hue_labels.get(h, "") if hue else None}
        (line,) = ax.plot(rows["_x"], rows["_v"], **{**style, **line_kw})
        handles.append((line, h))
        if has_band:
            ax.fill_between(rows["_x"], common._numeric(rows, "ci_low", func),
                            common._numeric(rows, "ci_high", func), color=colors[h], alpha=0.15,
                            linewidth=0)
    return handles


@fill_doc
def time_lines(
    data: pd.DataFrame,
    *,
    x: str = "period",
    y: str = "value",
    hue: str | None = None,
    ax: Axes | None = None,
    hue_order: Sequence[Any] | None = None,
    labels: Mapping[Any, str] | None = None,
    band: bool = True,
    markers: bool = True,
    ylabel: str | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    source: str | None = None,
    note: str | None = None,
    sample: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Lines over time, one per ``hue`` level (exporter dynamics, shares over years).

    Parameters
    ----------
    data
        Tidy frame with one row per (``x``, ``hue``). ``x`` may be numbers (years),
        dates, pandas Periods or strings that sort in time order (``"2019Q1"``,
        ``"2019-01"``); strings and Periods are shown as equally spaced labels.
    x
        Time column (default ``period``).
    y
        Value column (default ``value``, as in the exporter-dynamics frames; use
        ``y="estimate"`` for estimate frames).
    hue
        Optional column with one line per level.
    {ax}
    {hue_order}
    {labels}
    band
        Shade the ``ci_low``-``ci_high`` band when those columns are present.
    markers
        Mark each observation (kept on when a series has a single point).
    {ylabel_unit}
    xlabel
        Time-axis label (default ``"Period"``, ``"Year"`` or the column name).
    {annotations}
    {kwargs_plot}

    {returns_raises}

    {examples}
    >>> shares = pd.DataFrame({"year": [2015, 2016, 2017] * 2,
    ...                        "size_class": ["sme"] * 3 + ["large"] * 3,
    ...                        "value": [30.0, 31, 33, 60, 59, 58], "unit": "%"})
    >>> ax = plots.time_lines(shares, x="year", hue="size_class", source="Illustrative values")
    >>> len(ax.lines), ax.get_legend_handles_labels()[1], ax.get_xlabel()
    (2, ['SMEs', 'Large (100+)'], 'Year')
    >>> plt.close(ax.figure)
    """
    func = "time_lines"
    common._require(data, [x, y, hue], func)
    data = common._drop_missing_keys(data, [x, hue], func)
    common._check_unique(data, [x, hue], func)
    hue_levels, hue_pal, hue_labels = common._category_axis(data, hue, hue_order, labels)
    frame = data if hue is None else data[data[hue].isin(hue_levels)]
    frame = frame.assign(_v=common._numeric(frame, y, func))
    frame, periods = _time_positions(frame, x)
    colors = category_colors(hue_levels, hue_pal) if hue else {None: common.SINGLE_COLOR}
    missing = int(frame["_v"].isna().sum())
    with house_style():
        ax = common._new_axes(ax, (6.4, 3.8))
        handles = _draw_lines(ax, frame, hue=hue, hue_levels=hue_levels, hue_labels=hue_labels,
                              colors=colors, band=band, markers=markers, func=func, line_kw=kwargs)
        if periods is not None:
            _period_ticks(ax, periods)
        ax.set_xlabel(xlabel or {"period": "Period", "year": "Year"}.get(x, x.replace("_", " ").capitalize()))
        ax.set_ylabel(ylabel or common._unit_label(data, y, func))
        common._legend_or_title(ax, hue, handles, hue_labels, title)
        common._warn_missing(missing, "point(s)", func)
        common._finish(ax, frame.drop(columns=["_v", "_x"]), source=source, note=note, sample=sample,
                func=func)
    return ax
