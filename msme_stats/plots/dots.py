"""Dot charts: ranked economies with confidence intervals, and two-vintage dumbbells.

:func:`country_dots` ranks economies by an estimate (optional ``hue`` levels side by side,
CI lines, a reference line at a value or the cross-country mean/median);
:func:`vintage_change` draws the change between two vintages (WTR 2016 published vs
recomputed or updated) as dumbbells. Both take a tidy frame first, options as keywords, an
optional ``ax=``, pass other keyword arguments to matplotlib (documented per function) and
return the Axes drawn on; the input is never modified.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from .._options import DotSort, ReferenceStat, VintageSort, check_choice, choices
from ..errors import ExclusionWarning, InvalidValueError, OptionError
from . import _common as common
from ._docs import fill_doc
from .style import category_colors, category_labels, house_style

__all__ = ["country_dots", "vintage_change"]

_REFERENCE_COLOR = "#e6550d"


# --------------------------------------------------------------------------- country dots
def _ranked(frame: pd.DataFrame, y: str, hue: str | None, first_level: Any, sort: str) -> list[Any]:
    """Categories of ``y`` ranked by the value of ``first_level`` (unknown values last)."""
    cats = list(dict.fromkeys(frame[y]))
    if sort == "none":
        return cats
    rank_rows = frame if hue is None else frame[frame[hue] == first_level]
    key = rank_rows.groupby(y, sort=False)["_v"].first()
    known = key.dropna().sort_values(ascending=sort == "ascending", kind="stable")
    return list(known.index) + [c for c in cats if c not in set(known.index)]


def _draw_dots(
    ax: Axes,
    frame: pd.DataFrame,
    *,
    y: str,
    hue: str | None,
    cats: list[Any],
    hue_levels: list[Any],
    hue_labels: Mapping[Any, str],
    colors: Mapping[Any, str],
    ci: bool,
    func: str,
    dot_kw: Mapping[str, Any],
) -> list[tuple[Any, Any]]:
    """One :meth:`~matplotlib.axes.Axes.errorbar` series per ``hue`` level, offset vertically."""
    has_ci = ci and {"ci_low", "ci_high"} <= set(frame.columns)
    nh = len(hue_levels)
    step = 0.5 / nh if nh > 1 else 0.0
    pos_of = {c: i for i, c in enumerate(cats)}
    handles = []
    for h_i, h in enumerate(hue_levels):
        rows = frame if hue is None else frame[frame[hue] == h]
        rows = rows[rows["_v"].notna()]
        if rows.empty:
            continue
        rows = rows.iloc[np.argsort([pos_of[c] for c in rows[y]], kind="stable")]
        pos = np.array([pos_of[c] for c in rows[y]], dtype=float) + (h_i - (nh - 1) / 2) * step
        v = rows["_v"].to_numpy(dtype=float)
        xerr = None
        if has_ci:
            lo_s, hi_s = common._numeric(rows, "ci_low", func), common._numeric(rows, "ci_high", func)
            common._check_ci(rows, rows["_v"], lo_s, hi_s, func)
            lo, hi = lo_s.to_numpy(), hi_s.to_numpy()
            xerr = np.vstack([v - lo, hi - v])
        style = {"xerr": xerr, "fmt": "o", "color": colors[h], "ecolor": colors[h],
                 "elinewidth": 1.2, "capsize": 0, "markersize": 5.5,
                 "label": hue_labels.get(h, "") if hue else None}
        if "marker" in dot_kw:  # the user's marker replaces fmt="o" (markers, no line)
            style.update(fmt="", linestyle="none")
        cont = ax.errorbar(v, pos, **{**style, **dot_kw})
        handles.append((cont, h))
    return handles


def _category_rows(
    ax: Axes, ticks: Sequence[float] | np.ndarray, cats: list[Any], labels: Mapping[Any, str], *,
    stripes: bool,
) -> None:
    """Category tick labels top-down (wrapped), x grid only, optional faint row lines."""
    ax.set_yticks(ticks, [common._wrap(labels[c], 24) for c in cats])
    ax.set_ylim(len(cats) - 0.5, -0.5)
    ax.grid(False, axis="y")
    ax.grid(True, axis="x")
    if stripes:
        for i in range(len(cats)):
            ax.axhline(i, color="#eeeeee", linewidth=0.6, zorder=0)


def _reference_line(ax: Axes, values: pd.Series, reference: Any) -> None:
    """Dashed vertical line at the reference value, labelled with its name and value."""
    ref = _reference_value(values, reference)
    ax.axvline(ref, color=_REFERENCE_COLOR, linestyle="--", linewidth=1.0, zorder=1)
    name = {"mean": "Simple mean", "median": "Median"}.get(str(reference), "Reference")
    ax.annotate(f"{name}: {ref:.1f}", xy=(ref, 1.0), xycoords=("data", "axes fraction"),
                xytext=(3, -2), textcoords="offset points", ha="left", va="top",
                fontsize=8, color=_REFERENCE_COLOR)


def _dots_frame(
    data: pd.DataFrame,
    x: str,
    hue: str | None,
    hue_order: Sequence[Any] | None,
    labels: Mapping[Any, str] | None,
    func: str,
) -> tuple[pd.DataFrame, tuple[list[Any], str | None, dict[Any, str]]]:
    """Rows of the drawn ``hue`` levels with the numeric value ``_v``; (levels, palette, labels)."""
    values = common._numeric(data, x, func)
    hue_levels, hue_pal, hue_labels = common._category_axis(data, hue, hue_order, labels)
    frame = data.assign(_v=values)
    if hue is not None:
        frame = frame[frame[hue].isin(hue_levels)]
    return frame, (hue_levels, hue_pal, hue_labels)


@fill_doc
def country_dots(
    data: pd.DataFrame,
    *,
    y: str = "country",
    x: str = "estimate",
    hue: str | None = None,
    sort: DotSort = "descending",
    reference: float | ReferenceStat | None = None,
    ax: Axes | None = None,
    hue_order: Sequence[Any] | None = None,
    labels: Mapping[Any, str] | None = None,
    ci: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    source: str | None = None,
    note: str | None = None,
    sample: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Ranked dot plot of an estimate by economy, with confidence intervals.

    Parameters
    ----------
    data
        Tidy frame with one row per (``y``, ``hue``); value column ``x``; optional
        ``ci_low``/``ci_high`` (drawn as horizontal lines through the dots).
    y
        Category column (default ``country``); long names are wrapped.
    x
        Value column (default ``estimate``).
    hue
        Optional second column (e.g. ``size_class``): one dot per level, slightly offset
        vertically, coloured from the palette.
    sort
        Rank economies by the value (of the first ``hue`` level when ``hue`` is given):
        ``"descending"`` (largest on top), ``"ascending"`` or ``"none"`` (input order).
        Economies without a value are placed last.
    reference
        Draw a dashed vertical line at a value, or at the ``"mean"``/``"median"`` of the
        plotted values (the simple, unweighted mean of country values, the package's
        default cross-country rule), labelled with its value.
    {ax}
    {hue_order}
    {labels}
    {ci}
    {xlabel_unit}
    {ylabel_cat}
    {annotations}
    {kwargs_errorbar}

    {returns_raises}

    {examples}
    >>> est = pd.DataFrame({"country": ["Kenya", "Bolivia", "Viet Nam"],
    ...                     "estimate": [12.0, 7.5, 20.1], "ci_low": [9.0, 5.0, 15.0],
    ...                     "ci_high": [15.0, 10.0, 25.2], "unit": "% of firms"})
    >>> ax = plots.country_dots(est, reference="mean", source="WBES")
    >>> [t.get_text() for t in ax.get_yticklabels()], ax.get_xlabel()
    (['Viet Nam', 'Kenya', 'Bolivia'], '% of firms')
    >>> ax.texts[0].get_text()
    'Simple mean: 13.2'
    >>> plt.close(ax.figure)
    """
    func = "country_dots"
    sort = check_choice("sort", sort, choices(DotSort))
    common._require(data, [y, x, hue], func)
    data = common._drop_missing_keys(data, [y, hue], func)
    common._check_unique(data, [y, hue], func)
    frame, (hue_levels, hue_pal, hue_labels) = _dots_frame(data, x, hue, hue_order, labels, func)
    cats = _ranked(frame, y, hue, hue_levels[0], sort)
    cat_labels = {c: (labels or {}).get(c, str(c)) for c in cats}
    colors = category_colors(hue_levels, hue_pal) if hue else {None: common.SINGLE_COLOR}
    missing = int(frame["_v"].isna().sum())
    with house_style():
        ax = common._new_axes(ax, (6.4, max(2.6, 0.27 * len(cats) + 1.6)))
        handles = _draw_dots(ax, frame, y=y, hue=hue, cats=cats, hue_levels=hue_levels,
                             hue_labels=hue_labels, colors=colors, ci=ci, func=func, dot_kw=kwargs)
        _category_rows(ax, range(len(cats)), cats, cat_labels, stripes=True)
        ax.set_xlabel(xlabel or common._unit_label(data, x, func))
        ax.set_ylabel(ylabel or common._cat_label(y))
        if reference is not None:
            _reference_line(ax, frame["_v"], reference)
        common._legend_or_title(ax, hue, handles, hue_labels, title)
        common._warn_missing(missing, "dot(s)", func)
        common._finish(ax, frame.drop(columns="_v"), source=source, note=note, sample=sample, func=func)
    return ax


def _reference_value(values: pd.Series, reference: Any) -> float:
    if isinstance(reference, str):
        reference = check_choice("reference", reference, choices(ReferenceStat))
        return float(values.mean() if reference == "mean" else values.median())
    try:
        return float(reference)
    except (TypeError, ValueError) as exc:
        raise OptionError(
            f"reference={reference!r} is not allowed; use a number, 'mean' or 'median'."
        ) from exc


# --------------------------------------------------------------------------- vintages
def _long_vintages(
    data: pd.DataFrame, *, start: Any, end: Any, y: str, x: str, vintage: str, func: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long layout -> (wide frame of the two vintages by ``y``, rows kept for the note)."""
    common._require(data, [y, x, vintage], func)
    data = common._drop_missing_keys(data, [y, vintage], func)
    keep = data[vintage].isin([start, end])
    if not keep.any():
        raise InvalidValueError(
            f"{func}(): column {vintage!r} has no row equal to start={start!r} or "
            f"end={end!r}; values found: {sorted(map(str, data[vintage].unique()))[:8]}."
        )
    if (~keep).any():
        warnings.warn(
            f"{func}(): {int((~keep).sum())} row(s) of other vintages than {start!r} and "
            f"{end!r} are not drawn.",
            ExclusionWarning,
            stacklevel=3,
        )
    long = data[keep]
    common._check_unique(long, [y, vintage], func)
    vals = long.assign(_v=common._numeric(long, x, func))
    wide = vals.pivot(index=y, columns=vintage, values="_v")
    wide = wide.reindex(index=list(dict.fromkeys(long[y])), columns=[start, end])
    return wide, long


def _wide_vintages(
    data: pd.DataFrame, *, start: Any, end: Any, y: str, func: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Wide layout (columns ``start`` and ``end``) -> (wide frame by ``y``, rows for the note)."""
    common._require(data, [y, start, end], func)
    data = common._drop_missing_keys(data, [y], func)
    common._check_unique(data, [y], func)
    wide = pd.DataFrame(
        {start: common._numeric(data, start, func).to_numpy(), end: common._numeric(data, end, func).to_numpy()},
        index=pd.Index(data[y].to_numpy(), name=y),
    )
    return wide, data


def _vintage_rows(wide: pd.DataFrame, start: Any, end: Any, sort: str, func: str) -> list[Any]:
    """Row order of the dumbbells; counts rows with one or no vintage."""
    s, e = wide[start], wide[end]
    if sort != "none":
        key = {"end": e, "start": s, "change": e - s}[sort]
        known = key.dropna().sort_values(ascending=False, kind="stable")
        cats = list(known.index) + [c for c in wide.index if c not in set(known.index)]
    else:
        cats = list(wide.index)
    half = int((s.isna() ^ e.isna()).sum())
    if half:
        warnings.warn(
            f"{func}(): {half} row(s) have only one of the two vintages; a single dot is drawn "
            "for them, without a change.",
            ExclusionWarning,
            stacklevel=3,
        )
    common._warn_missing(int((s.isna() & e.isna()).sum()), "row(s)", func)
    return cats


def _draw_dumbbells(
    ax: Axes,
    wide: pd.DataFrame,
    cats: list[Any],
    vintages: tuple[Any, Any],
    *,
    colors: Mapping[Any, str],
    v_labels: Mapping[Any, str],
    change_labels: bool,
    fmt: str,
    dot_kw: Mapping[str, Any],
) -> tuple[Any, Any]:
    """Grey bar from start to end, hollow start dot, filled end dot, change printed right."""
    start, end = vintages
    sv = wide[start].reindex(cats).to_numpy(dtype=float)
    ev = wide[end].reindex(cats).to_numpy(dtype=float)
    pos = np.arange(len(cats), dtype=float)
    both = np.isfinite(sv) & np.isfinite(ev)
    ax.hlines(pos[both], sv[both], ev[both], color="#bdbdbd", linewidth=2.2, zorder=1)
    h_start = ax.scatter(sv, pos, **{"s": 42, "facecolors": "white", "edgecolors": colors[start],
                                     "linewidths": 1.6, "zorder": 2, "label": v_labels[start], **dot_kw})
    h_end = ax.scatter(ev, pos, **{"s": 42, "color": colors[end], "zorder": 3, "label": v_labels[end],
                                   **dot_kw})
    if change_labels:
        for p, a, b in zip(pos[both], sv[both], ev[both], strict=True):
            text = fmt.format(b - a)
            if not text.strip("+-0.%"):  # a change that rounds to zero reads +0.0, never -0.0
                text = fmt.format(0.0)
            ax.annotate(text, xy=(max(a, b), p), xytext=(7, 0),
                        textcoords="offset points", ha="left", va="center", fontsize=8,
                        color="#333333")
    return h_start, h_end


def _vintage_colors(start: Any, end: Any) -> dict[Any, str]:
    """Palette colours of the two vintages; grey and blue when the palette gives one colour."""
    colors = category_colors([start, end], "vintage")
    if colors[start] == colors[end]:
        colors = {start: "#969696", end: "#08519c"}
    return colors


@fill_doc
def vintage_change(
    data: pd.DataFrame,
    *,
    start: Any = "published",
    end: Any = "recomputed",
    y: str = "country",
    x: str = "estimate",
    vintage: str = "vintage",
    sort: VintageSort = "end",
    ax: Axes | None = None,
    labels: Mapping[Any, str] | None = None,
    change_labels: bool = True,
    fmt: str = "{:+.1f}",
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    source: str | None = None,
    note: str | None = None,
    sample: str | None = None,
    **kwargs: Any,
) -> Axes:
    """Dumbbell chart of the change between two vintages (e.g. WTR 2016 vs an update).

    Two input layouts are accepted:

    * **long**: a column ``vintage`` whose values include ``start`` and ``end``, one row per
      (``y``, vintage), value column ``x``; rows of other vintages are not drawn (counted).
    * **wide**: no ``vintage`` column, but value columns named ``start`` and ``end`` (e.g.
      ``published``, ``recomputed`` from ``compare_published``), one row per ``y``.

    Parameters
    ----------
    data
        Tidy frame in one of the two layouts above.
    start, end
        The two vintages (values of ``vintage`` in the long layout, column names in the wide
        one). The start is a hollow grey dot, the end a filled blue dot.
    y
        Row category (``country``, ``indicator``, ...).
    x, vintage
        Value column and vintage column of the long layout.
    sort
        ``"end"`` (default, largest end value on top), ``"start"``, ``"change"`` (largest
        increase on top) or ``"none"``.
    {ax}
    {labels}
        ``labels`` also renames ``start``/``end`` in the legend.
    change_labels, fmt
        Print the change (end - start) to the right of each dumbbell.
    {xlabel_unit}
    {ylabel_cat}
    {annotations}
    {kwargs_scatter}

    {returns_raises}

    {examples}
    >>> wide = pd.DataFrame({"country": ["Kenya", "Bolivia"], "published": [10.9, 6.0],
    ...                      "recomputed": [11.4, 5.2]})
    >>> ax = plots.vintage_change(wide, xlabel="% of sales", source="WTR 2016; WBES")
    >>> [t.get_text() for t in ax.get_yticklabels()], [t.get_text() for t in ax.texts]
    (['Kenya', 'Bolivia'], ['+0.5', '-0.8'])
    >>> plt.close(ax.figure)
    """
    func = "vintage_change"
    sort = check_choice("sort", sort, choices(VintageSort))
    long = isinstance(data, pd.DataFrame) and vintage in data.columns
    wide, meta = (_long_vintages(data, start=start, end=end, y=y, x=x, vintage=vintage, func=func)
                  if long else _wide_vintages(data, start=start, end=end, y=y, func=func))
    cats = _vintage_rows(wide, start, end, sort, func)
    v_labels = category_labels([start, end], "vintage", labels)
    colors = _vintage_colors(start, end)
    with house_style():
        ax = common._new_axes(ax, (6.4, max(2.6, 0.3 * len(cats) + 1.6)))
        h_start, h_end = _draw_dumbbells(ax, wide, cats, (start, end), colors=colors, v_labels=v_labels,
                                         change_labels=change_labels, fmt=fmt, dot_kw=kwargs)
        _category_rows(ax, np.arange(len(cats), dtype=float), cats,
                       {c: (labels or {}).get(c, str(c)) for c in cats}, stripes=False)
        ax.margins(x=0.12)
        ax.set_xlabel(xlabel or common._unit_label(meta, x if x in meta.columns else "value", func))
        ax.set_ylabel(ylabel or common._cat_label(y))
        common._legend_above(ax, [h_start, h_end], [v_labels[start], v_labels[end]], title)
        common._finish(ax, meta, source=source, note=note, sample=sample, func=func)
    return ax
