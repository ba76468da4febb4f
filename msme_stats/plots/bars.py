"""Bar charts: estimates by size class, direct vs indirect exports, TEC size shares.

:func:`bars_by_size` (one bar per category, optional ``hue`` groups, CI whiskers),
:func:`direct_vs_indirect` (WTR 2016 B.2(a): the two export channels side by side or
stacked, chart F5) and :func:`size_shares` (TEC share of export value and of exporters by
size class, charts F3 and V2) share the bar drawing of this module. Every function takes a
tidy frame first, options as keywords, an optional ``ax=``, passes other keyword arguments
to :meth:`matplotlib.axes.Axes.bar` and returns the Axes drawn on; the input is never
modified.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from .._options import BarOrient, ChannelLayout, check_choice, choices
from ..errors import ExclusionWarning, InvalidValueError
from ..reference import read_reference
from . import _common as common
from ._docs import fill_doc
from .style import _figure_of, category_colors, category_labels, house_style

__all__ = ["bars_by_size", "direct_vs_indirect", "size_shares"]

_MEASURES = ("export_value", "exporters")


@functools.lru_cache(maxsize=1)
def _measure_aliases() -> dict[str, str]:
    """Accepted spellings of the two TEC measures (``reference/tec_measure_labels.csv``)."""
    table = read_reference("tec_measure_labels")
    bad = ~table["measure"].isin(_MEASURES)
    if bad.any():
        raise InvalidValueError(
            f"tec_measure_labels.csv: measure(s) {table.loc[bad, 'measure'].tolist()} are not "
            f"{list(_MEASURES)}; fix the file."
        )
    return dict(zip(table["label"], table["measure"], strict=True))


# --------------------------------------------------------------------------- bar drawing
@dataclass(frozen=True)
class _BarLook:
    """How the bars are drawn: whiskers, stacking, orientation and value labels."""

    ci: bool
    stacked: bool
    horizontal: bool
    value_labels: bool
    fmt: str


@dataclass(frozen=True)
class _Notes:
    """The chart's title and the Source/Note/Sample lines under it (None: default or none)."""

    title: str | None
    source: str | None
    note: str | None
    sample: str | None


@dataclass
class _BarValues:
    """Values of the rows to draw: estimate, interval (or None) and row of each key."""

    est: pd.Series
    lo: pd.Series | None
    hi: pd.Series | None
    index: dict[tuple[Any, ...], Any]

    @property
    def has_ci(self) -> bool:
        return self.lo is not None


def _bar_values(
    frame: pd.DataFrame, *, y: str, ci: bool, key_cols: list[str], func: str
) -> _BarValues:
    """Numeric estimate and checked interval of each row, indexed by its category key."""
    est = common._numeric(frame, y, func)
    has_ci = ci and {"ci_low", "ci_high"} <= set(frame.columns)
    lo = common._numeric(frame, "ci_low", func) if has_ci else None
    hi = common._numeric(frame, "ci_high", func) if has_ci else None
    if has_ci:
        common._check_ci(frame, est, lo, hi, func)  # type: ignore[arg-type]
    index = {tuple(k) if isinstance(k, tuple) else (k,): i for i, k in zip(frame.index, frame[key_cols].itertuples(index=False, name=None), strict=True)}
    return _BarValues(est, lo, hi, index)


def _series_points(
    values: _BarValues,
    h_i: int,
    h: Any,
    *,
    keys: list[tuple[Any, Any, float]],
    cols: tuple[str | None, str, str | None],
    width: float,
    stacked: bool,
    colors: Mapping[Any, str],
    color_by: Literal["x", "hue"],
) -> tuple[list[float], list[float], list[float], list[float], list[str], int]:
    """Positions, values, whisker lengths and colours of one ``hue`` level's bars.

    ``keys`` holds ``(by value, x value, base position)`` of every slot; ``cols`` the
    (by, x, hue) column names. Returns the lists and the number of missing estimates.
    """
    by, x, hue = cols
    pos_list, val_list, err_lo, err_hi, col_list = [], [], [], [], []
    missing = 0
    for b, xv, base in keys:
        key = tuple(k for k, c in ((b, by), (xv, x), (h, hue)) if c is not None)
        row = values.index.get(key)
        if row is None:
            continue
        value = values.est.loc[row]
        if pd.isna(value):
            missing += 1
            continue
        pos = base if stacked else base - 0.4 + width * (h_i + 0.5)
        pos_list.append(pos)
        val_list.append(value)
        if values.has_ci:
            err_lo.append(value - values.lo.loc[row])  # type: ignore[union-attr]
            err_hi.append(values.hi.loc[row] - value)  # type: ignore[union-attr]
        col_list.append(colors[h] if color_by == "hue" else colors[xv])
    return pos_list, val_list, err_lo, err_hi, col_list, missing


def _whiskers_and_labels(
    ax: Axes,
    pos_arr: np.ndarray,
    vals: np.ndarray,
    err: tuple[list[float], list[float]] | None,
    *,
    value_labels: bool,
    fmt: str,
    horizontal: bool,
) -> None:
    """CI whiskers of one series of side-by-side bars and its value labels above them."""
    err_lo, err_hi = err if err is not None else ([], [])
    if err is not None:
        yerr = np.vstack([err_lo, err_hi])
        if np.isfinite(yerr).any():
            ekw: dict[str, Any] = {"xerr": yerr} if horizontal else {"yerr": yerr}
            xs, ys = (vals, pos_arr) if horizontal else (pos_arr, vals)
            ax.errorbar(xs, ys, fmt="none", ecolor=common.ERR_COLOR, elinewidth=1.0, capsize=3, **ekw)
    if value_labels:
        tops = vals.copy()
        if err is not None:
            upper = vals + np.asarray(err_hi, dtype=float)
            tops = np.where(np.isfinite(upper), np.maximum(upper, vals), vals)
        for p, v, t in zip(pos_arr, vals, tops, strict=True):
            _value_label(ax, p, v, t, fmt, horizontal)


def _draw_bars(
    ax: Axes,
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    hue: str | None,
    by: str | None,
    x_levels: list[Any],
    hue_levels: list[Any],
    by_levels: list[Any],
    colors: Mapping[Any, str],
    color_by: Literal["x", "hue"],
    hue_labels: Mapping[Any, str],
    look: _BarLook,
    func: str,
    bar_kw: Mapping[str, Any],
) -> tuple[np.ndarray, list[Any], list[tuple[Any, Any]]]:
    """Grouped or stacked bars. Returns tick positions, tick keys and (handle, hue level).

    ``bar_kw`` (the chart's ``**kwargs``) goes to every :meth:`~matplotlib.axes.Axes.bar`
    call and overrides the defaults.
    """
    stacked, horizontal, value_labels, fmt = look.stacked, look.horizontal, look.value_labels, look.fmt
    frame = frame.reset_index(drop=True)
    block = len(x_levels) + 0.6
    width = 0.8 if stacked else 0.8 / len(hue_levels)
    key_cols = [c for c in (by, x, hue) if c is not None]
    values = _bar_values(frame, y=y, ci=look.ci, key_cols=key_cols, func=func)
    slots = [(b, xv, b_i * block + x_i) for b_i, b in enumerate(by_levels) for x_i, xv in enumerate(x_levels)]
    handles, missing = [], 0
    bottoms: dict[tuple[Any, Any], float] = {}
    for h_i, h in enumerate(hue_levels):
        pos_list, val_list, err_lo, err_hi, col_list, n_miss = _series_points(
            values, h_i, h, keys=slots, cols=(by, x, hue), width=width, stacked=stacked,
            colors=colors, color_by=color_by,
        )
        missing += n_miss
        if not pos_list:
            continue
        pos_arr = np.asarray(pos_list, dtype=float)
        vals = np.asarray(val_list, dtype=float)
        bar = ax.barh if horizontal else ax.bar
        kw: dict[str, Any] = {"height": width} if horizontal else {"width": width}
        if stacked:
            kw["left" if horizontal else "bottom"] = np.array([bottoms.get((p, 0), 0.0) for p in pos_arr])
        label = hue_labels.get(h, "") if hue is not None else None
        container = bar(pos_arr, vals, **{"color": col_list, "label": label, **kw, **bar_kw})
        handles.append((container, h))
        if stacked:
            for p, v in zip(pos_arr, vals, strict=True):
                bottoms[(p, 0)] = bottoms.get((p, 0), 0.0) + v
        else:
            _whiskers_and_labels(ax, pos_arr, vals, (err_lo, err_hi) if values.has_ci else None,
                                 value_labels=value_labels, fmt=fmt, horizontal=horizontal)
    if value_labels and stacked:
        for (p, _), total in bottoms.items():
            _value_label(ax, p, total, total, fmt, horizontal)
    common._warn_missing(missing, "bar(s)", func)
    ticks = np.asarray([base for _, _, base in slots], dtype=float)
    return ticks, [(b, xv) for b, xv, _ in slots], handles


def _value_label(ax: Axes, pos: float, value: float, top: float, fmt: str, horizontal: bool) -> None:
    text = fmt.format(value)
    if horizontal:
        ax.annotate(text, (top, pos), xytext=(3, 0), textcoords="offset points",
                    ha="left", va="center", fontsize=8, color="#333333")
    else:
        below = top < 0
        ax.annotate(text, (pos, top), xytext=(0, -3 if below else 3), textcoords="offset points",
                    ha="center", va="top" if below else "bottom", fontsize=8, color="#333333")


def _set_category_ticks(
    ax: Axes,
    ticks: np.ndarray,
    tick_keys: list[Any],
    *,
    x_labels: Mapping[Any, str],
    by_labels: Mapping[Any, str],
    by: str | None,
    horizontal: bool,
) -> None:
    texts = [x_labels[xv] for _, xv in tick_keys]
    if horizontal:
        ax.set_yticks(ticks, [common._wrap(t, 28) for t in texts])
        ax.invert_yaxis()
        ax.grid(False, axis="y")
        ax.grid(True, axis="x")
        return
    n = len(ticks)
    width_in = _figure_of(ax).get_figwidth()
    per_tick = max(6, int(width_in * 72 / max(n, 1) / 5.2))
    wrapped = [common._wrap(t, per_tick) for t in texts]
    ax.set_xticks(ticks, wrapped)
    if max(len(max(w.split("\n"), key=len)) for w in wrapped) > per_tick + 4:
        ax.tick_params(axis="x", labelrotation=30)
        for lab in ax.get_xticklabels():
            lab.set_horizontalalignment("right")
    if by is not None:
        seen: dict[Any, list[float]] = {}
        for t, (b, _) in zip(ticks, tick_keys, strict=True):
            seen.setdefault(b, []).append(t)
        for b, pos in seen.items():
            ax.annotate(
                by_labels[b],
                xy=((min(pos) + max(pos)) / 2, 0),
                xycoords=("data", "axes fraction"),
                xytext=(0, -30),
                textcoords="offset points",
                ha="center",
                va="top",
                fontweight="bold",
                fontsize=9,
                annotation_clip=False,
            )


def _bar_figsize(n_bars: int, horizontal: bool, n_cats: int) -> tuple[float, float]:
    if horizontal:
        return (6.4, max(2.8, 0.32 * n_bars + 1.4))
    return (max(4.8, min(11.0, 1.0 + 0.55 * n_bars + 0.25 * n_cats)), 4.0)


def _value_axis(ax: Axes, horizontal: bool, label: str, nonneg: bool) -> None:
    if horizontal:
        ax.set_xlabel(label)
        if nonneg:
            ax.set_xlim(left=0)
        ax.margins(x=0.08)
    else:
        ax.set_ylabel(label)
        ax.margins(y=0.08)
        if nonneg:
            ax.set_ylim(bottom=0)


# --------------------------------------------------------------------------- charts
def _bar_colors(
    x_levels: list[Any], x_pal: str | None, hue: str | None, hue_levels: list[Any], hue_pal: str | None
) -> dict[Any, str]:
    """Colours by ``hue`` level, else by ``x`` palette (e.g. size shades), else one blue."""
    if hue:
        return category_colors(hue_levels, hue_pal)
    if x_pal is not None:
        return category_colors(x_levels, x_pal)  # e.g. size classes in their shades
    return dict.fromkeys(x_levels, common.SINGLE_COLOR)  # one colour: plain WTO-like bars


def _bars_setup(
    data: pd.DataFrame,
    *,
    x: str,
    hue: str | None,
    order: Sequence[Any] | None,
    hue_order: Sequence[Any] | None,
    labels: Mapping[Any, str] | None,
    orient: str,
) -> tuple[pd.DataFrame, tuple[list[Any], dict[Any, str]], tuple[list[Any], dict[Any, str]], dict[Any, str], bool]:
    """Rows to draw, (levels, labels) of ``x`` and ``hue``, colours, and whether horizontal.

    ``orient="auto"`` is horizontal when there are more than 8 categories or a label is
    longer than 18 characters.
    """
    x_levels, x_pal, x_labels = common._category_axis(data, x, order, labels)
    hue_levels, hue_pal, hue_labels = common._category_axis(data, hue, hue_order, labels)
    frame = data[data[x].isin(x_levels) & (data[hue].isin(hue_levels) if hue else True)]
    if orient == "auto":
        longest = max(len(s) for s in x_labels.values())
        orient = "h" if len(x_levels) > 8 or longest > 18 else "v"
    colors = _bar_colors(x_levels, x_pal, hue, hue_levels, hue_pal)
    return frame, (x_levels, x_labels), (hue_levels, hue_labels), colors, orient == "h"


@fill_doc
def bars_by_size(
    data: pd.DataFrame,
    *,
    x: str = "size_class",
    y: str = "estimate",
    hue: str | None = None,
    ax: Axes | None = None,
    order: Sequence[Any] | None = None,
    hue_order: Sequence[Any] | None = None,
    labels: Mapping[Any, str] | None = None,
    ci: bool = True,
    orient: BarOrient = "auto",
    value_labels: bool = True,
    fmt: str = "{:.1f}",
    ylabel: str | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    source: str | None = None,
    note: str | None = None,
    sample: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Bars of an estimate by size class (small / medium / large, or SME vs large).

    One bar per ``x`` category (canonical size order), or groups of bars when ``hue`` names a
    second column (e.g. ``group``, ``sector``, ``country``); CI whiskers when present.

    Parameters
    ----------
    data
        Tidy frame with one row per (``x``, ``hue``) pair and columns ``y`` (default
        ``estimate``); optional ``ci_low``, ``ci_high``, ``n``, ``flags``, ``unit``.
    x, y, hue
        Category column, value column, optional grouping column.
    {ax}
    {order}
    {hue_order}
    {labels}
    {ci}
    orient
        ``"v"``, ``"h"`` or ``"auto"`` (horizontal for > 8 categories or labels > 18 chars).
    {value_labels}
    {ylabel_unit}
    {xlabel_cat}
    {annotations}
    {kwargs_bar}

    {returns_raises}

    {examples}
    >>> est = pd.DataFrame({"size_class": ["large", "small", "medium"],
    ...                     "estimate": [32.0, 8.5, 15.2], "ci_low": [28.0, 6.0, 12.0],
    ...                     "ci_high": [36.0, 11.0, 18.4], "unit": "%"})
    >>> ax = plots.bars_by_size(est, source="WTO Secretariat calculations based on WBES")
    >>> [t.get_text() for t in ax.get_xticklabels()], ax.get_ylabel(), len(ax.patches)
    (['Small (5-19)', 'Medium (20-99)', 'Large (100+)'], '%', 3)
    >>> plots.source_note(ax)
    'Source: WTO Secretariat calculations based on WBES.'
    >>> plt.close(ax.figure)
    """
    func = "bars_by_size"
    orient = check_choice("orient", orient, choices(BarOrient))
    common._require(data, [x, y, hue], func)
    data = common._drop_missing_keys(data, [x, hue], func)
    common._check_unique(data, [x, hue], func)
    frame, (x_levels, x_labels), (hue_levels, hue_labels), colors, horizontal = _bars_setup(
        data, x=x, hue=hue, order=order, hue_order=hue_order, labels=labels, orient=orient
    )
    with house_style():
        ax = common._new_axes(ax, _bar_figsize(len(x_levels) * len(hue_levels), horizontal, len(x_levels)))
        ticks, keys, handles = _draw_bars(
            ax, frame, x=x, y=y, hue=hue, by=None, x_levels=x_levels, hue_levels=hue_levels,
            by_levels=[None], colors=colors, color_by="hue" if hue else "x", hue_labels=hue_labels,
            look=_BarLook(ci, stacked=False, horizontal=horizontal, value_labels=value_labels, fmt=fmt),
            func=func, bar_kw=kwargs,
        )
        _set_category_ticks(ax, ticks, keys, x_labels=x_labels, by_labels={}, by=None,
                            horizontal=horizontal)
        nonneg = bool((common._numeric(frame, y, func).dropna() >= 0).all())
        _value_axis(ax, horizontal, ylabel or common._unit_label(data, y, func), nonneg)
        (ax.set_ylabel if horizontal else ax.set_xlabel)(xlabel or common._cat_label(x))
        common._legend_or_title(ax, hue, handles, hue_labels, title)
        common._finish(ax, frame, source=source, note=note, sample=sample, func=func)
    return ax


def _channel_frame(
    data: pd.DataFrame, *, channel: str, direct: Any, indirect: Any, func: str
) -> pd.DataFrame:
    """Rows of the two channels with ``_channel`` = ``"direct"``/``"indirect"``; others counted."""
    is_direct = data[channel] == direct
    is_indirect = data[channel] == indirect
    other = ~(is_direct | is_indirect)
    if other.all():
        raise InvalidValueError(
            f"{func}(): no row of column {channel!r} equals direct={direct!r} or "
            f"indirect={indirect!r}; values found: {sorted(map(str, data[channel].unique()))[:8]}. "
            "Pass channel=, direct= and indirect=."
        )
    if other.any():
        warnings.warn(
            f"{func}(): {int(other.sum())} row(s) whose {channel!r} is neither {direct!r} nor "
            f"{indirect!r} are not drawn.",
            ExclusionWarning,
            stacklevel=3,
        )
    return data[~other].assign(_channel=np.where(is_direct[~other], "direct", "indirect"))


@fill_doc
def direct_vs_indirect(
    data: pd.DataFrame,
    *,
    x: str = "size_class",
    y: str = "estimate",
    channel: str = "indicator",
    direct: Any = "es_direct_export_intensity",
    indirect: Any = "es_indirect_export_intensity",
    by: str | None = None,
    ax: Axes | None = None,
    order: Sequence[Any] | None = None,
    by_order: Sequence[Any] | None = None,
    labels: Mapping[Any, str] | None = None,
    kind: ChannelLayout = "side",
    ci: bool = True,
    value_labels: bool = True,
    fmt: str = "{:.1f}",
    ylabel: str = "% of sales",
    xlabel: str | None = None,
    title: str | None = None,
    source: str | None = None,
    note: str | None = None,
    sample: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Direct versus indirect export intensity by size class (WTR 2016 B.2(a), chart F5).

    Parameters
    ----------
    data
        Tidy frame with one row per (``by``, ``x``, channel) and the value column ``y``.
        The channel is told by column ``channel`` (default ``indicator``): rows equal to
        ``direct`` (default ``"es_direct_export_intensity"``) or ``indirect`` (default
        ``"es_indirect_export_intensity"``). For a frame with a ``channel`` column holding
        ``"direct"``/``"indirect"`` pass ``channel="channel", direct="direct",
        indirect="indirect"``. Rows of other channels are not drawn (counted in an
        :class:`~msme_stats.errors.ExclusionWarning`).
    x, y, channel, direct, indirect
        Size-class column (canonical order), value column; see ``data`` for the others.
    by
        Optional column (e.g. ``group`` or ``region``) giving blocks of bars, labelled under
        the axis.
    {ax}
    {order}
    {by_order}
    {labels}
    kind
        ``"side"`` (default): direct and indirect bars side by side, with CI whiskers.
        ``"stacked"``: direct at the bottom, indirect on top, total printed above the stack;
        no whiskers (the interval of a sum is not the sum of intervals).
    {ci}
    {value_labels}
    ylabel
        Value-axis label; both intensities are percentages of sales (INDICATORS 4.1, 4.2).
    {xlabel_cat}
    {annotations}
    {kwargs_bar}

    {returns_raises}

    {examples}
    >>> est = pd.DataFrame({"size_class": ["small", "small", "large", "large"],
    ...                     "channel": ["direct", "indirect"] * 2,
    ...                     "estimate": [5.0, 3.0, 20.0, 4.0]})
    >>> ax = plots.direct_vs_indirect(est, channel="channel", direct="direct",
    ...                               indirect="indirect", kind="stacked", source="WBES")
    >>> len(ax.patches), ax.get_legend_handles_labels()[1]
    (4, ['Direct exports', 'Indirect exports'])
    >>> plt.close(ax.figure)
    """
    func = "direct_vs_indirect"
    kind = check_choice("kind", kind, choices(ChannelLayout))
    common._require(data, [x, y, channel, by], func)
    data = common._drop_missing_keys(data, [x, channel, by], func)
    frame = _channel_frame(data, channel=channel, direct=direct, indirect=indirect, func=func)
    common._check_unique(frame, [by, x, "_channel"], func)
    hue_levels = [h for h in ("direct", "indirect") if (frame["_channel"] == h).any()]
    return _series_bars(
        ax, frame, x=x, y=y, series="_channel", series_levels=hue_levels,
        series_labels=category_labels(hue_levels, "channel", labels),
        colors=category_colors(hue_levels, "channel"), by=by, order=order, by_order=by_order,
        labels=labels,
        look=_BarLook(ci, stacked=kind == "stacked", horizontal=False, value_labels=value_labels, fmt=fmt),
        nonneg=None, ylabel=ylabel, xlabel=xlabel, notes=_Notes(title, source, note, sample),
        func=func, bar_kw=kwargs,
    )


def _series_bars(
    ax: Axes | None,
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    series: str,
    series_levels: list[str],
    series_labels: Mapping[Any, str],
    colors: Mapping[Any, str],
    by: str | None,
    order: Sequence[Any] | None,
    by_order: Sequence[Any] | None,
    labels: Mapping[Any, str] | None,
    look: _BarLook,
    nonneg: bool | None,
    ylabel: str,
    xlabel: str | None,
    notes: _Notes,
    func: str,
    bar_kw: Mapping[str, Any],
) -> Axes:
    """Vertical bars of two or more series (column ``series``) by ``x``, optionally in ``by`` blocks.

    Shared by :func:`direct_vs_indirect` and :func:`size_shares`; ``nonneg=None`` sets the
    value axis from the data.
    """
    x_levels, _x_pal, x_labels = common._category_axis(frame, x, order, labels)
    by_levels, _by_pal, by_labels = common._category_axis(frame, by, by_order, labels)
    n_bars = len(x_levels) * len(by_levels) * (1 if look.stacked else len(series_levels))
    with house_style():
        ax = common._new_axes(ax, _bar_figsize(n_bars, False, len(x_levels) * len(by_levels)))
        ticks, keys, handles = _draw_bars(
            ax, frame, x=x, y=y, hue=series, by=by, x_levels=x_levels,
            hue_levels=series_levels, by_levels=by_levels, colors=colors, color_by="hue",
            hue_labels=series_labels, look=look, func=func, bar_kw=bar_kw,
        )
        _set_category_ticks(ax, ticks, keys, x_labels=x_labels, by_labels=by_labels, by=by,
                            horizontal=False)
        if nonneg is None:
            nonneg = bool((common._numeric(frame, y, func).dropna() >= 0).all())
        _value_axis(ax, False, ylabel, nonneg)
        if by is None:
            ax.set_xlabel(xlabel or common._cat_label(x))
        elif xlabel:
            ax.set_xlabel(xlabel, labelpad=24)
        common._legend_above(ax, [c for c, _ in handles], [series_labels[h] for _, h in handles],
                             notes.title)
        common._finish(ax, frame.drop(columns=series), source=notes.source, note=notes.note,
                       sample=notes.sample, func=func)
    return ax


def _measure_frame(data: pd.DataFrame, measure: str, func: str) -> pd.DataFrame:
    """``data`` with ``_measure`` = ``"export_value"``/``"exporters"`` (aliases mapped)."""
    aliases = _measure_aliases()
    canon = data[measure].map(lambda v: v if v in _MEASURES else aliases.get(v, v))
    bad = ~canon.isin(list(_MEASURES))
    if bad.any():
        raise InvalidValueError(
            f"{func}(): column {measure!r} holds {sorted(map(str, data.loc[bad, measure].unique()))[:5]}; "
            f"use 'export_value' or 'exporters' (aliases: {sorted(aliases)})."
        )
    return data.assign(_measure=canon)


def _shares_note(frame: pd.DataFrame, *, y: str, by: str | None, func: str) -> str | None:
    """Note saying so when the shares of a measure do not add up to 100 (within 0.5)."""
    sums = frame.assign(_v=common._numeric(frame, y, func)).groupby(
        [c for c in (by, "_measure") if c], dropna=False
    )["_v"].sum(min_count=1)
    off = sums[(sums - 100).abs() > 0.5]
    if off.empty:
        return None
    lo, hi = float(off.min()), float(off.max())
    span = f"{lo:.1f}" if abs(hi - lo) < 0.05 else f"{lo:.1f} to {hi:.1f}"
    return (
        f"Shares of the size classes add up to {span}% (not 100%): trade of enterprises "
        "of unknown size is in the total only."
    )


@fill_doc
def size_shares(
    data: pd.DataFrame,
    *,
    x: str = "size_class",
    y: str = "estimate",
    measure: str = "measure",
    by: str | None = None,
    ylabel: str = "% of total",
    ax: Axes | None = None,
    order: Sequence[Any] | None = None,
    by_order: Sequence[Any] | None = None,
    labels: Mapping[Any, str] | None = None,
    ci: bool = True,
    value_labels: bool = True,
    fmt: str = "{:.1f}",
    xlabel: str | None = None,
    title: str | None = None,
    source: str | None = None,
    note: str | None = None,
    sample: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Share of export value and share of exporters by size class (TEC; charts F3, V2).

    Parameters
    ----------
    data
        Tidy frame with one row per (``by``, ``x``, ``measure``); ``x`` holds TEC size
        classes (``0-9``, ``10-49``, ``50-249``, ``250+``; also ``unknown``/``0-249``) or WBES
        ones; ``measure`` holds ``"export_value"`` or ``"exporters"`` (accepted aliases, in
        ``msme_stats/reference/tec_measure_labels.csv``: ``"export value"``, ``"value"``,
        ``"exports"``, ``"THS_EUR"``; ``"number of exporters"``, ``"enterprises"``,
        ``"NR_ENT"``); ``y`` is the share in percent.
    x, y, measure
        Size-class column, share column, measure column.
    by
        Optional column (e.g. ``country`` or ``year``) giving labelled blocks of bars.
    ylabel
        Value-axis label (default ``"% of total"``).
    {ax}
    {order}
    {by_order}
    {labels}
    {ci}
    {value_labels}
    {xlabel_cat}
    {annotations}
    {kwargs_bar}

    {returns_raises}

    Notes
    -----
    When the shares of a measure do not add up to 100 (within 0.5 points) in a block, the
    chart says so in its note: with ``tec_denominator="total"`` the unknown-size part of
    TOTAL is not in any class (METHODS 3.5).

    {examples}
    >>> shares = pd.DataFrame({"size_class": ["0-9", "10-49", "50-249", "250+"] * 2,
    ...                        "measure": ["export_value"] * 4 + ["exporters"] * 4,
    ...                        "estimate": [5.0, 10, 20, 65, 60, 25, 10, 5]})
    >>> ax = plots.size_shares(shares, source="Eurostat, TEC (ext_tec01)")
    >>> [t.get_text() for t in ax.get_xticklabels()]
    ['Micro (0-9)', 'Small (10-49)', 'Medium (50-249)', 'Large (250+)']
    >>> ax.get_legend_handles_labels()[1], ax.get_ylabel()
    (['Share of export value', 'Share of exporters'], '% of total')
    >>> plt.close(ax.figure)
    """
    func = "size_shares"
    common._require(data, [x, y, measure, by], func)
    data = common._drop_missing_keys(data, [x, measure, by], func)
    frame = _measure_frame(data, measure, func)
    common._check_unique(frame, [by, x, "_measure"], func)
    hue_levels = [m for m in _MEASURES if (frame["_measure"] == m).any()]
    auto_note = _shares_note(frame, y=y, by=by, func=func)
    return _series_bars(
        ax, frame, x=x, y=y, series="_measure", series_levels=hue_levels,
        series_labels=category_labels(hue_levels, "measure", labels),
        colors=category_colors(hue_levels, "measure"), by=by, order=order, by_order=by_order,
        labels=labels,
        look=_BarLook(ci, stacked=False, horizontal=False, value_labels=value_labels, fmt=fmt),
        nonneg=True, ylabel=ylabel, xlabel=xlabel,
        notes=_Notes(title, source, " ".join(t for t in (note, auto_note) if t) or None, sample),
        func=func, bar_kw=kwargs,
    )
