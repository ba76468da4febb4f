"""WTO-style chart functions over tidy estimate frames, in the seaborn manner.

Every function takes a tidy frame first (as returned by ``msme_stats.estimate`` and the
aggregation functions: grouping columns such as ``country``, ``survey_id``, ``size_class``,
``sector``, ``group``, ``indicator``, ``year``/``period``, then ``estimate``, ``se``,
``ci_low``, ``ci_high``, ``n``, ``flags``; shares already in percent), options as keywords,
an optional ``ax=`` and returns the matplotlib :class:`~matplotlib.axes.Axes` drawn on.
The input frame is never modified.

Common keywords
---------------
ax
    Axes to draw on; by default a new figure in the house style (sized to the data).
source
    Text of the "Source: ..." line under the chart. When None, ``data.attrs["source"]`` is
    used if present; otherwise a :class:`~msme_stats.errors.MsmeStatsWarning` says the chart
    names no source.
note
    Extra "Note: ..." line.
sample
    "Sample: ..." line. When None it is derived from the data: the range of ``n`` per
    estimate, the number of economies (``country``) and the number of flagged estimates
    (non-empty ``flags``).
title
    Chart title (left-aligned, bold).
labels
    Mapping of category values to reader-facing labels, overriding the palette labels
    (``palettes.csv``).

Size classes are always shown in canonical order (micro, small, medium, SME, large; for TEC
``0-9``, ``10-49``, ``50-249``, ``250+``), whatever the order of the input rows.
Rows that cannot be drawn (missing estimate) are counted and reported with an
:class:`~msme_stats.errors.ExclusionWarning`, never dropped silently.
"""

from __future__ import annotations

import math
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from .._options import check_choice
from ..errors import (
    ExclusionWarning,
    InvalidValueError,
    MissingColumnsError,
    MsmeStatsWarning,
    OptionError,
)
from .style import (
    add_source_note,
    canonical_order,
    category_colors,
    category_labels,
    find_palette,
    house_style,
)

__all__ = [
    "bars_by_size",
    "country_dots",
    "direct_vs_indirect",
    "size_shares",
    "time_lines",
    "vintage_change",
]

_ERR_COLOR = "#333333"

#: accepted spellings of the two TEC measures of :func:`size_shares`
_MEASURE_ALIASES = {
    "export value": "export_value",
    "value": "export_value",
    "exports": "export_value",
    "THS_EUR": "export_value",
    "number of exporters": "exporters",
    "enterprises": "exporters",
    "NR_ENT": "exporters",
}


# --------------------------------------------------------------------------- helpers
def _require(data: pd.DataFrame, columns: Sequence[str | None], func: str) -> None:
    if not isinstance(data, pd.DataFrame):
        raise InvalidValueError(f"{func}(): data must be a pandas DataFrame, got {type(data).__name__}.")
    missing = [c for c in dict.fromkeys(columns) if c is not None and c not in data.columns]
    if missing:
        raise MissingColumnsError(
            f"{func}(): column(s) {missing} not in data; available: {list(data.columns)}. "
            "Pass the right column names as keywords (e.g. x=, y=, hue=)."
        )
    if data.empty:
        raise InvalidValueError(f"{func}(): data has no rows; nothing to plot.")


def _check_unique(data: pd.DataFrame, keys: Sequence[str], func: str) -> None:
    keys = [k for k in dict.fromkeys(keys) if k is not None]
    dup = data.duplicated(keys, keep=False)
    if dup.any():
        example = data.loc[dup, keys].drop_duplicates().head(3).to_dict("records")
        others = [
            c
            for c in ("country", "survey_id", "indicator", "sector", "group", "year", "period")
            if c in data.columns and c not in keys and data.loc[dup, c].nunique() > 1
        ]
        hint = f" The duplicates differ in {others}:" if others else ""
        raise InvalidValueError(
            f"{func}(): {int(dup.sum())} rows share the same {keys} (e.g. {example}); each bar, "
            f"dot or point needs exactly one row.{hint} filter the data or map that column to "
            "hue=/by=."
        )


def _drop_missing_keys(data: pd.DataFrame, columns: Sequence[str | None], func: str) -> pd.DataFrame:
    """Rows whose category columns are missing cannot be placed: count and warn."""
    cols = [c for c in dict.fromkeys(columns) if c is not None]
    bad = data[cols].isna().any(axis=1)
    if bad.any():
        warnings.warn(
            f"{func}(): {int(bad.sum())} row(s) with a missing value in {cols} are not drawn.",
            ExclusionWarning,
            stacklevel=3,
        )
        return data[~bad]
    return data


def _numeric(data: pd.DataFrame, column: str, func: str) -> pd.Series:
    values = pd.to_numeric(data[column], errors="coerce")
    bad = values.isna() & data[column].notna()
    if bad.any():
        first = data.loc[bad, column].iloc[0]
        raise InvalidValueError(
            f"{func}(): column {column!r} holds {int(bad.sum())} non-numeric value(s) "
            f"(first: {first!r}); convert it to numbers."
        )
    return values.astype(float)


def _check_ci(frame: pd.DataFrame, est: pd.Series, lo: pd.Series, hi: pd.Series, func: str) -> None:
    """An interval must contain its estimate; otherwise the whiskers would lie."""
    bad = (lo > est) | (hi < est)
    if bad.any():
        first = frame.loc[bad].iloc[0]
        raise InvalidValueError(
            f"{func}(): {int(bad.sum())} row(s) have an estimate outside [ci_low, ci_high] "
            f"(first: estimate={est[bad].iloc[0]}, ci_low={lo[bad].iloc[0]}, "
            f"ci_high={hi[bad].iloc[0]}; row {first.to_dict()}); check the interval columns."
        )


def _warn_missing(count: int, what: str, func: str) -> None:
    if count:
        warnings.warn(
            f"{func}(): {count} {what} with a missing estimate not drawn (shown as a gap).",
            ExclusionWarning,
            stacklevel=3,
        )


def _auto_sample(data: pd.DataFrame) -> str | None:
    parts = []
    if "n" in data.columns:
        n = pd.to_numeric(data["n"], errors="coerce").dropna()
        if not n.empty:
            lo, hi = int(n.min()), int(n.max())
            parts.append(
                f"n = {lo:,} observations per estimate"
                if lo == hi
                else f"n = {lo:,} to {hi:,} observations per estimate"
            )
    if "country" in data.columns:
        k = data["country"].nunique()
        if k > 1:
            parts.append(f"{k} economies")
    if "flags" in data.columns:
        flags = data["flags"].fillna("").astype(str).str.strip()
        flagged = flags != ""
        if flagged.any():
            kinds = sorted({f for cell in flags[flagged] for f in cell.replace(";", ",").split(",") if f.strip()})
            parts.append(f"{int(flagged.sum())} estimate(s) flagged ({', '.join(k.strip() for k in kinds)})")
    return "; ".join(parts) if parts else None


def _finish(
    ax: Axes,
    data: pd.DataFrame,
    *,
    source: str | None,
    note: str | None,
    sample: str | None,
    func: str,
) -> None:
    if source is None:
        source = data.attrs.get("source")
    if not source:
        warnings.warn(
            f"{func}(): the chart names no source; pass source='...' (e.g. 'WTO Secretariat "
            "calculations based on World Bank Enterprise Surveys').",
            MsmeStatsWarning,
            stacklevel=3,
        )
    if sample is None:
        sample = _auto_sample(data)
    add_source_note(ax, source=source, note=note, sample=sample)


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is not None:
        return ax
    _fig, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _wrap(label: str, width: int) -> str:
    return "\n".join(textwrap.wrap(str(label), width, break_long_words=False)) or str(label)


def _unit_label(data: pd.DataFrame, y: str, func: str, default: str | None = None) -> str:
    """Axis label with a unit: ``unit`` column, else indicator registry, else default."""
    if "unit" in data.columns:
        units = data["unit"].dropna().unique()
        if len(units) == 1:
            return _pretty_unit(str(units[0]))
    if "indicator" in data.columns and data["indicator"].nunique() == 1:
        unit = _registry_unit(str(data["indicator"].iloc[0]))
        if unit:
            return _pretty_unit(unit)
    if default is not None:
        return default
    warnings.warn(
        f"{func}(): no unit known for {y!r} (no single 'unit' column value); the axis is "
        f"labelled {y!r}. Pass ylabel=/xlabel= with the unit, e.g. '% of sales'.",
        MsmeStatsWarning,
        stacklevel=3,
    )
    return y.replace("_", " ").capitalize()


def _pretty_unit(unit: str) -> str:
    return {"percent": "%", "pct": "%"}.get(unit.lower(), unit)


def _registry_unit(indicator: str) -> str | None:
    """Unit of an indicator from ``msme_stats.indicators.list_indicators()`` if available."""
    try:
        from ..indicators import list_indicators  # type: ignore[attr-defined]

        table = list_indicators()
    except Exception:  # the registry is optional for charts; any failure means "unknown"
        return None
    if not isinstance(table, pd.DataFrame) or "unit" not in table.columns:
        return None
    for col in ("id", "indicator"):
        if col in table.columns:
            hit = table.loc[table[col] == indicator, "unit"]
            if len(hit) == 1 and pd.notna(hit.iloc[0]):
                return str(hit.iloc[0])
    return None


def _legend_above(ax: Axes, handles: list[Any], labels: list[str], title: str | None) -> int:
    """Legend in one or two rows just above the plot area; returns the number of rows."""
    if not handles:
        return 0
    # as many columns as fit across the figure (about 0.6 em per character plus the key)
    avail = ax.figure.get_figwidth() * 72 * 0.95
    widths = [len(str(lab)) * 9 * 0.6 + 30 for lab in labels]
    ncol = 1
    for k in range(min(len(handles), 6), 0, -1):
        if max(widths) * k <= avail:
            ncol = k
            break
    rows = math.ceil(len(handles) / ncol)
    # matplotlib fills legend columns first; reorder so that entries read left to right
    order = [r * ncol + c for c in range(ncol) for r in range(rows) if r * ncol + c < len(handles)]
    ax.legend(
        [handles[i] for i in order],
        [labels[i] for i in order],
        loc="lower left",
        bbox_to_anchor=(0, 1.01),
        ncol=ncol,
        borderaxespad=0,
        handlelength=1.2,
        columnspacing=1.2,
        frameon=False,
    )
    if title:
        ax.set_title(title, loc="left", pad=8 + rows * 16)
    return rows


def _title(ax: Axes, title: str | None) -> None:
    if title:
        ax.set_title(title, loc="left")


def _category_axis(
    data: pd.DataFrame, column: str | None, order: Sequence[Any] | None, labels: Mapping[Any, str] | None
) -> tuple[list[Any], str | None, dict[Any, str]]:
    """Levels (canonical order unless ``order``), palette name and labels of a column."""
    if column is None:
        return [None], None, {None: ""}
    present = list(dict.fromkeys(v for v in data[column] if not pd.isna(v)))
    pal = find_palette(column, present)
    if order is not None:
        levels = list(order)
        absent = [v for v in present if v not in levels]
        if absent:
            warnings.warn(
                f"{len(absent)} value(s) of {column!r} not in the given order are not drawn: "
                f"{absent[:5]}.",
                ExclusionWarning,
                stacklevel=4,
            )
        levels = [v for v in levels if v in present]
    else:
        levels = canonical_order(present, palette=pal) if pal else present
    return levels, pal, category_labels(levels, pal, labels)


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
    ci: bool,
    stacked: bool,
    horizontal: bool,
    value_labels: bool,
    fmt: str,
    func: str,
) -> tuple[np.ndarray, list[Any], list[tuple[Any, Any]]]:
    """Grouped or stacked bars. Returns tick positions, tick keys and (handle, hue level)."""
    frame = frame.reset_index(drop=True)
    nx, nh = len(x_levels), len(hue_levels)
    block = nx + 0.6
    width = 0.8 if stacked else 0.8 / nh
    est = _numeric(frame, y, func)
    has_ci = ci and {"ci_low", "ci_high"} <= set(frame.columns)
    lo = _numeric(frame, "ci_low", func) if has_ci else None
    hi = _numeric(frame, "ci_high", func) if has_ci else None
    if has_ci:
        _check_ci(frame, est, lo, hi, func)  # type: ignore[arg-type]
    key_cols = [c for c in (by, x, hue) if c is not None]
    index = {tuple(k) if isinstance(k, tuple) else (k,): i for i, k in zip(frame.index, frame[key_cols].itertuples(index=False, name=None), strict=True)}

    ticks, tick_keys, handles = [], [], []
    missing = 0
    bottoms: dict[tuple[Any, Any], float] = {}
    for h_i, h in enumerate(hue_levels):
        pos_list, val_list, err_lo, err_hi, col_list = [], [], [], [], []
        for b_i, b in enumerate(by_levels):
            for x_i, xv in enumerate(x_levels):
                base = b_i * block + x_i
                if h_i == 0:
                    ticks.append(base)
                    tick_keys.append((b, xv))
                key = tuple(k for k, c in ((b, by), (xv, x), (h, hue)) if c is not None)
                row = index.get(key)
                if row is None:
                    continue
                value = est.loc[row]
                if pd.isna(value):
                    missing += 1
                    continue
                pos = base if stacked else base - 0.4 + width * (h_i + 0.5)
                pos_list.append(pos)
                val_list.append(value)
                if has_ci:
                    err_lo.append(value - lo.loc[row])  # type: ignore[union-attr]
                    err_hi.append(hi.loc[row] - value)  # type: ignore[union-attr]
                col_list.append(colors[h] if color_by == "hue" else colors[xv])
        if not pos_list:
            continue
        pos_arr = np.asarray(pos_list, dtype=float)
        vals = np.asarray(val_list, dtype=float)
        bottom = np.array([bottoms.get((p, 0), 0.0) for p in pos_arr]) if stacked else None
        label = hue_labels.get(h, "") if hue is not None else None
        bar = ax.barh if horizontal else ax.bar
        kw = {"height": width} if horizontal else {"width": width}
        if stacked:
            kw["left" if horizontal else "bottom"] = bottom
        container = bar(pos_arr, vals, color=col_list, label=label, **kw)
        handles.append((container, h))
        if stacked:
            for p, v in zip(pos_arr, vals, strict=True):
                bottoms[(p, 0)] = bottoms.get((p, 0), 0.0) + v
        if has_ci and not stacked:
            yerr = np.vstack([err_lo, err_hi])
            if np.isfinite(yerr).any():
                ekw = {"xerr": yerr} if horizontal else {"yerr": yerr}
                xs, ys = (vals, pos_arr) if horizontal else (pos_arr, vals)
                ax.errorbar(xs, ys, fmt="none", ecolor=_ERR_COLOR, elinewidth=1.0, capsize=3, **ekw)
        if value_labels and not stacked:
            tops = vals.copy()
            if has_ci:
                upper = vals + np.asarray(err_hi, dtype=float)
                tops = np.where(np.isfinite(upper), np.maximum(upper, vals), vals)
            for p, v, t in zip(pos_arr, vals, tops, strict=True):
                _value_label(ax, p, v, t, fmt, horizontal)
    if value_labels and stacked:
        for (p, _), total in bottoms.items():
            _value_label(ax, p, total, total, fmt, horizontal)
    _warn_missing(missing, "bar(s)", func)
    return np.asarray(ticks, dtype=float), tick_keys, handles


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
        ax.set_yticks(ticks, [_wrap(t, 28) for t in texts])
        ax.invert_yaxis()
        ax.grid(False, axis="y")
        ax.grid(True, axis="x")
        return
    n = len(ticks)
    width_in = ax.figure.get_figwidth()
    per_tick = max(6, int(width_in * 72 / max(n, 1) / 5.2))
    wrapped = [_wrap(t, per_tick) for t in texts]
    ax.set_xticks(ticks, wrapped)
    if max(len(max(w.split("\n"), key=len)) for w in wrapped) > per_tick + 4:
        ax.tick_params(axis="x", labelrotation=30)
        for lab in ax.get_xticklabels():
            lab.set_ha("right")
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
    orient: Literal["auto", "v", "h"] = "auto",
    value_labels: bool = True,
    fmt: str = "{:.1f}",
    ylabel: str | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    source: str | None = None,
    note: str | None = None,
    sample: str | None = None,
) -> Axes:
    """Bars of an estimate by size class (small / medium / large, or SME vs large).

    One bar per ``x`` category (canonical size order), or groups of bars when ``hue`` names a
    second column (for example ``group``, ``sector`` or ``country``); confidence-interval
    whiskers from ``ci_low``/``ci_high`` when those columns are present.

    Parameters
    ----------
    data
        Tidy frame with one row per (``x``, ``hue``) pair and columns ``y`` (default
        ``estimate``); optional ``ci_low``, ``ci_high``, ``n``, ``flags``, ``unit``.
    x, y, hue
        Category column, value column, optional grouping column.
    ax
        Axes to draw on (new figure if None).
    order, hue_order
        Explicit category orders (default: canonical for known palettes, else order of
        first appearance). Values not listed are not drawn (counted in a warning).
    labels
        Overrides of the reader-facing category labels.
    ci
        Draw whiskers from ``ci_low`` to ``ci_high`` (when the columns exist).
    orient
        ``"v"`` vertical bars, ``"h"`` horizontal bars, ``"auto"``: horizontal when there are
        more than 8 categories or a label is longer than 18 characters.
    value_labels, fmt
        Print each value (format ``fmt``) at the end of its bar (above the whisker).
    ylabel, xlabel
        Axis labels. The value-axis label defaults to the ``unit`` column (or the indicator
        registry's unit); give it with its unit, e.g. ``"% of sales"``.
    title, source, note, sample
        See the module docstring.

    Returns
    -------
    matplotlib.axes.Axes

    Examples
    --------
    >>> ax = bars_by_size(est, hue="group", ylabel="% of sales",            # doctest: +SKIP
    ...                   source="WTO Secretariat calculations based on WBES")
    """
    func = "bars_by_size"
    orient = check_choice("orient", orient, ("auto", "v", "h"))
    _require(data, [x, y, hue], func)
    data = _drop_missing_keys(data, [x, hue], func)
    _check_unique(data, [x, hue], func)
    x_levels, x_pal, x_labels = _category_axis(data, x, order, labels)
    hue_levels, hue_pal, hue_labels = _category_axis(data, hue, hue_order, labels)
    frame = data[data[x].isin(x_levels) & (data[hue].isin(hue_levels) if hue else True)]
    if orient == "auto":
        longest = max(len(s) for s in x_labels.values())
        orient = "h" if len(x_levels) > 8 or longest > 18 else "v"
    horizontal = orient == "h"
    if hue:
        colors = category_colors(hue_levels, hue_pal)
    elif x_pal is not None:
        colors = category_colors(x_levels, x_pal)  # e.g. size classes in their shades
    else:
        colors = dict.fromkeys(x_levels, "#08519c")  # one colour: plain WTO-like bars
    value_label = ylabel or _unit_label(data, y, func)
    with house_style():
        ax = _new_axes(ax, _bar_figsize(len(x_levels) * len(hue_levels), horizontal, len(x_levels)))
        ticks, keys, handles = _draw_bars(
            ax, frame, x=x, y=y, hue=hue, by=None, x_levels=x_levels, hue_levels=hue_levels,
            by_levels=[None], colors=colors, color_by="hue" if hue else "x",
            hue_labels=hue_labels, ci=ci, stacked=False, horizontal=horizontal,
            value_labels=value_labels, fmt=fmt, func=func,
        )
        _set_category_ticks(ax, ticks, keys, x_labels=x_labels, by_labels={}, by=None,
                            horizontal=horizontal)
        nonneg = bool((_numeric(frame, y, func).dropna() >= 0).all())
        _value_axis(ax, horizontal, value_label, nonneg)
        cat_label = xlabel or _default_cat_label(x)
        (ax.set_ylabel if horizontal else ax.set_xlabel)(cat_label)
        if hue:
            _legend_above(ax, [c for c, _ in handles], [hue_labels[h] for _, h in handles], title)
        else:
            _title(ax, title)
        _finish(ax, frame, source=source, note=note, sample=sample, func=func)
    return ax


def _default_cat_label(column: str) -> str:
    return {
        "size_class": "Firm size (employees)",
        "size": "Firm size (employees)",
        "sme_group": "Firm size",
        "size_detail": "Firm size (employees)",
        "country": "Economy",
        "group": "Country group",
        "sector": "Sector",
    }.get(column, column.replace("_", " ").capitalize())


def direct_vs_indirect(
    data: pd.DataFrame,
    *,
    x: str = "size_class",
    y: str = "estimate",
    channel: str = "indicator",
    direct: Any = "es_direct_export_intensity",
    indirect: Any = "es_indirect_export_intensity",
    by: str | None = None,
    kind: Literal["stacked", "side"] = "side",
    ax: Axes | None = None,
    order: Sequence[Any] | None = None,
    by_order: Sequence[Any] | None = None,
    labels: Mapping[Any, str] | None = None,
    ci: bool = True,
    value_labels: bool = True,
    fmt: str = "{:.1f}",
    ylabel: str = "% of sales",
    xlabel: str | None = None,
    title: str | None = None,
    source: str | None = None,
    note: str | None = None,
    sample: str | None = None,
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
    x
        Size-class column (canonical order).
    by
        Optional column (e.g. ``group`` or ``region``) giving blocks of bars, labelled under
        the axis.
    kind
        ``"side"`` (default): direct and indirect bars side by side, with CI whiskers.
        ``"stacked"``: direct at the bottom, indirect on top, total printed above the stack;
        no whiskers (the interval of a sum is not the sum of intervals).
    ylabel
        Value-axis label; both intensities are percentages of sales (INDICATORS 4.1, 4.2).
    order, by_order, labels, ci, value_labels, fmt, xlabel, title, source, note, sample, ax
        As in :func:`bars_by_size`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    func = "direct_vs_indirect"
    kind = check_choice("kind", kind, ("stacked", "side"))
    _require(data, [x, y, channel, by], func)
    data = _drop_missing_keys(data, [x, channel, by], func)
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
            stacklevel=2,
        )
    frame = data[~other].assign(_channel=np.where(is_direct[~other], "direct", "indirect"))
    _check_unique(frame, [by, x, "_channel"], func)
    hue_levels = [h for h in ("direct", "indirect") if (frame["_channel"] == h).any()]
    return _series_bars(
        ax, frame, x=x, y=y, series="_channel", series_levels=hue_levels,
        series_labels=category_labels(hue_levels, "channel", labels),
        colors=category_colors(hue_levels, "channel"), by=by, order=order, by_order=by_order,
        labels=labels, ci=ci, stacked=kind == "stacked", value_labels=value_labels, fmt=fmt,
        nonneg=None, ylabel=ylabel, xlabel=xlabel, title=title, source=source, note=note,
        sample=sample, func=func,
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
    ci: bool,
    stacked: bool,
    value_labels: bool,
    fmt: str,
    nonneg: bool | None,
    ylabel: str,
    xlabel: str | None,
    title: str | None,
    source: str | None,
    note: str | None,
    sample: str | None,
    func: str,
) -> Axes:
    """Vertical bars of two or more series (column ``series``) by ``x``, optionally in ``by`` blocks.

    Shared by :func:`direct_vs_indirect` and :func:`size_shares`; ``nonneg=None`` sets the
    value axis from the data.
    """
    x_levels, _x_pal, x_labels = _category_axis(frame, x, order, labels)
    by_levels, _by_pal, by_labels = _category_axis(frame, by, by_order, labels)
    n_bars = len(x_levels) * len(by_levels) * (1 if stacked else len(series_levels))
    with house_style():
        ax = _new_axes(ax, _bar_figsize(n_bars, False, len(x_levels) * len(by_levels)))
        ticks, keys, handles = _draw_bars(
            ax, frame, x=x, y=y, hue=series, by=by, x_levels=x_levels,
            hue_levels=series_levels, by_levels=by_levels, colors=colors, color_by="hue",
            hue_labels=series_labels, ci=ci, stacked=stacked, horizontal=False,
            value_labels=value_labels, fmt=fmt, func=func,
        )
        _set_category_ticks(ax, ticks, keys, x_labels=x_labels, by_labels=by_labels, by=by,
                            horizontal=False)
        if nonneg is None:
            nonneg = bool((_numeric(frame, y, func).dropna() >= 0).all())
        _value_axis(ax, False, ylabel, nonneg)
        if by is None:
            ax.set_xlabel(xlabel or _default_cat_label(x))
        elif xlabel:
            ax.set_xlabel(xlabel, labelpad=24)
        _legend_above(ax, [c for c, _ in handles], [series_labels[h] for _, h in handles], title)
        _finish(ax, frame.drop(columns=series), source=source, note=note, sample=sample, func=func)
    return ax


def country_dots(
    data: pd.DataFrame,
    *,
    y: str = "country",
    x: str = "estimate",
    hue: str | None = None,
    sort: Literal["descending", "ascending", "none"] = "descending",
    reference: float | Literal["mean", "median"] | None = None,
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
) -> Axes:
    """Ranked dot plot of an estimate by economy, with confidence intervals.

    Parameters
    ----------
    data
        Tidy frame with one row per (``y``, ``hue``); value column ``x``; optional
        ``ci_low``/``ci_high`` (drawn as horizontal lines through the dots).
    y
        Category column (default ``country``); long names are wrapped.
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
    xlabel
        Value-axis label with unit (defaults to the ``unit`` column).
    hue_order, labels, ci, ylabel, title, source, note, sample, ax
        As in :func:`bars_by_size`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    func = "country_dots"
    sort = check_choice("sort", sort, ("descending", "ascending", "none"))
    _require(data, [y, x, hue], func)
    data = _drop_missing_keys(data, [y, hue], func)
    _check_unique(data, [y, hue], func)
    values = _numeric(data, x, func)
    hue_levels, hue_pal, hue_labels = _category_axis(data, hue, hue_order, labels)
    frame = data.assign(_v=values)
    if hue is not None:
        frame = frame[frame[hue].isin(hue_levels)]
    cats = list(dict.fromkeys(frame[y]))
    if sort != "none":
        rank_rows = frame if hue is None else frame[frame[hue] == hue_levels[0]]
        key = rank_rows.groupby(y, sort=False)["_v"].first()
        known = key.dropna().sort_values(ascending=sort == "ascending", kind="stable")
        cats = list(known.index) + [c for c in cats if c not in set(known.index)]
    cat_labels = {c: (labels or {}).get(c, str(c)) for c in cats}
    colors = category_colors(hue_levels, hue_pal) if hue else {None: "#08519c"}
    has_ci = ci and {"ci_low", "ci_high"} <= set(frame.columns)
    nh = len(hue_levels)
    step = 0.5 / nh if nh > 1 else 0.0
    missing = int(frame["_v"].isna().sum())
    with house_style():
        ax = _new_axes(ax, (6.4, max(2.6, 0.27 * len(cats) + 1.6)))
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
                lo_s, hi_s = _numeric(rows, "ci_low", func), _numeric(rows, "ci_high", func)
                _check_ci(rows, rows["_v"], lo_s, hi_s, func)
                lo, hi = lo_s.to_numpy(), hi_s.to_numpy()
                xerr = np.vstack([v - lo, hi - v])
            cont = ax.errorbar(
                v, pos, xerr=xerr, fmt="o", color=colors[h], ecolor=colors[h], elinewidth=1.2,
                capsize=0, markersize=5.5, label=hue_labels.get(h, "") if hue else None,
            )
            handles.append((cont, h))
        ax.set_yticks(range(len(cats)), [_wrap(cat_labels[c], 24) for c in cats])
        ax.set_ylim(len(cats) - 0.5, -0.5)
        ax.grid(False, axis="y")
        ax.grid(True, axis="x")
        for i in range(len(cats)):
            ax.axhline(i, color="#eeeeee", linewidth=0.6, zorder=0)
        ax.set_xlabel(xlabel or _unit_label(data, x, func))
        ax.set_ylabel(ylabel or _default_cat_label(y))
        if reference is not None:
            ref = _reference_value(frame["_v"], reference)
            ax.axvline(ref, color="#e6550d", linestyle="--", linewidth=1.0, zorder=1)
            name = {"mean": "Simple mean", "median": "Median"}.get(str(reference), "Reference")
            ax.annotate(f"{name}: {ref:.1f}", xy=(ref, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(3, -2), textcoords="offset points", ha="left", va="top",
                        fontsize=8, color="#e6550d")
        if hue is not None:
            _legend_above(ax, [c for c, _ in handles], [hue_labels[h] for _, h in handles], title)
        else:
            _title(ax, title)
        _warn_missing(missing, "dot(s)", func)
        _finish(ax, frame.drop(columns="_v"), source=source, note=note, sample=sample, func=func)
    return ax


def _reference_value(values: pd.Series, reference: Any) -> float:
    if isinstance(reference, str):
        reference = check_choice("reference", reference, ("mean", "median"))
        return float(values.mean() if reference == "mean" else values.median())
    try:
        return float(reference)
    except (TypeError, ValueError) as exc:
        raise OptionError(
            f"reference={reference!r} is not allowed; use a number, 'mean' or 'median'."
        ) from exc


def vintage_change(
    data: pd.DataFrame,
    *,
    start: Any = "published",
    end: Any = "recomputed",
    y: str = "country",
    x: str = "estimate",
    vintage: str = "vintage",
    sort: Literal["end", "start", "change", "none"] = "end",
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
) -> Axes:
    """Dumbbell chart of the change between two vintages (e.g. WTR 2016 vs an update).

    Two input layouts are accepted:

    * **long**: a column ``vintage`` (default name ``"vintage"``) whose values include
      ``start`` and ``end``, one row per (``y``, vintage), value column ``x``. Rows of other
      vintages are not drawn (counted in an :class:`~msme_stats.errors.ExclusionWarning`).
    * **wide**: no ``vintage`` column, but two value columns named ``start`` and ``end``,
      for instance ``published`` and ``recomputed`` (the layout of
      ``msme_stats.compare_published``), one row per ``y``.

    Parameters
    ----------
    start, end
        The two vintages (values of ``vintage`` in the long layout, column names in the wide
        one). The start is a hollow grey dot, the end a filled blue dot.
    y
        Row category (``country``, ``indicator``, ...).
    sort
        ``"end"`` (default, largest end value on top), ``"start"``, ``"change"`` (largest
        increase on top) or ``"none"``.
    change_labels, fmt
        Print the change (end - start) to the right of each dumbbell.
    labels, xlabel, ylabel, title, source, note, sample, ax
        As in :func:`country_dots`. ``labels`` also renames ``start``/``end`` in the legend.

    Returns
    -------
    matplotlib.axes.Axes
    """
    func = "vintage_change"
    sort = check_choice("sort", sort, ("end", "start", "change", "none"))
    if isinstance(data, pd.DataFrame) and vintage in data.columns:
        _require(data, [y, x, vintage], func)
        data = _drop_missing_keys(data, [y, vintage], func)
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
                stacklevel=2,
            )
        long = data[keep]
        _check_unique(long, [y, vintage], func)
        vals = long.assign(_v=_numeric(long, x, func))
        wide = vals.pivot(index=y, columns=vintage, values="_v")
        wide = wide.reindex(index=list(dict.fromkeys(long[y])), columns=[start, end])
        meta = long
    else:
        _require(data, [y, start, end], func)
        data = _drop_missing_keys(data, [y], func)
        _check_unique(data, [y], func)
        wide = pd.DataFrame(
            {start: _numeric(data, start, func).to_numpy(), end: _numeric(data, end, func).to_numpy()},
            index=pd.Index(data[y].to_numpy(), name=y),
        )
        meta = data
    s, e = wide[start], wide[end]
    change = e - s
    if sort != "none":
        key = {"end": e, "start": s, "change": change}[sort]
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
            stacklevel=2,
        )
    _warn_missing(int((s.isna() & e.isna()).sum()), "row(s)", func)
    v_labels = category_labels([start, end], "vintage", labels)
    colors = category_colors([start, end], "vintage")
    if colors[start] == colors[end]:
        colors = {start: "#969696", end: "#08519c"}
    with house_style():
        ax = _new_axes(ax, (6.4, max(2.6, 0.3 * len(cats) + 1.6)))
        pos = np.arange(len(cats), dtype=float)
        sv = s.reindex(cats).to_numpy(dtype=float)
        ev = e.reindex(cats).to_numpy(dtype=float)
        both = np.isfinite(sv) & np.isfinite(ev)
        ax.hlines(pos[both], sv[both], ev[both], color="#bdbdbd", linewidth=2.2, zorder=1)
        h_start = ax.scatter(sv, pos, s=42, facecolors="white", edgecolors=colors[start],
                             linewidths=1.6, zorder=2, label=v_labels[start])
        h_end = ax.scatter(ev, pos, s=42, color=colors[end], zorder=3, label=v_labels[end])
        if change_labels:
            for p, a, b in zip(pos[both], sv[both], ev[both], strict=True):
                text = fmt.format(b - a)
                if not text.strip("+-0.%"):  # a change that rounds to zero reads +0.0, never -0.0
                    text = fmt.format(0.0)
                ax.annotate(text, xy=(max(a, b), p), xytext=(7, 0),
                            textcoords="offset points", ha="left", va="center", fontsize=8,
                            color="#333333")
        row_labels = {c: (labels or {}).get(c, str(c)) for c in cats}
        ax.set_yticks(pos, [_wrap(row_labels[c], 24) for c in cats])
        ax.set_ylim(len(cats) - 0.5, -0.5)
        ax.grid(False, axis="y")
        ax.grid(True, axis="x")
        ax.margins(x=0.12)
        ax.set_xlabel(xlabel or _unit_label(meta, x if x in meta.columns else "value", func))
        ax.set_ylabel(ylabel or _default_cat_label(y))
        _legend_above(ax, [h_start, h_end], [v_labels[start], v_labels[end]], title)
        _finish(ax, meta, source=source, note=note, sample=sample, func=func)
    return ax


def size_shares(
    data: pd.DataFrame,
    *,
    x: str = "size_class",
    y: str = "estimate",
    measure: str = "measure",
    by: str | None = None,
    ax: Axes | None = None,
    order: Sequence[Any] | None = None,
    by_order: Sequence[Any] | None = None,
    labels: Mapping[Any, str] | None = None,
    ci: bool = True,
    value_labels: bool = True,
    fmt: str = "{:.1f}",
    ylabel: str = "% of total",
    xlabel: str | None = None,
    title: str | None = None,
    source: str | None = None,
    note: str | None = None,
    sample: str | None = None,
) -> Axes:
    """Share of export value and share of exporters by size class (TEC; charts F3, V2).

    Parameters
    ----------
    data
        Tidy frame with one row per (``by``, ``x``, ``measure``); ``x`` holds TEC size
        classes (``0-9``, ``10-49``, ``50-249``, ``250+``; also ``unknown``/``0-249``) or WBES
        ones; ``measure`` holds ``"export_value"`` or ``"exporters"`` (accepted aliases:
        ``"export value"``, ``"value"``, ``"exports"``, ``"THS_EUR"``; ``"number of
        exporters"``, ``"enterprises"``, ``"NR_ENT"``); ``y`` is the share in percent.
    by
        Optional column (e.g. ``country`` or ``year``) giving labelled blocks of bars.
    ylabel
        Value-axis label (default ``"% of total"``).
    order, by_order, labels, ci, value_labels, fmt, xlabel, title, source, note, sample, ax
        As in :func:`bars_by_size`.

    Notes
    -----
    When the shares of a measure do not add up to 100 (within 0.5 points) in a block, the
    chart says so in its note: with ``tec_denominator="total"`` the unknown-size part of
    TOTAL is not in any class (METHODS 3.5).

    Returns
    -------
    matplotlib.axes.Axes
    """
    func = "size_shares"
    _require(data, [x, y, measure, by], func)
    data = _drop_missing_keys(data, [x, measure, by], func)
    canon = data[measure].map(lambda v: v if v in ("export_value", "exporters") else _MEASURE_ALIASES.get(v, v))
    bad = ~canon.isin(["export_value", "exporters"])
    if bad.any():
        raise InvalidValueError(
            f"{func}(): column {measure!r} holds {sorted(map(str, data.loc[bad, measure].unique()))[:5]}; "
            f"use 'export_value' or 'exporters' (aliases: {sorted(_MEASURE_ALIASES)})."
        )
    frame = data.assign(_measure=canon)
    _check_unique(frame, [by, x, "_measure"], func)
    hue_levels = [m for m in ("export_value", "exporters") if (frame["_measure"] == m).any()]
    sums = frame.assign(_v=_numeric(frame, y, func)).groupby(
        [c for c in (by, "_measure") if c], dropna=False
    )["_v"].sum(min_count=1)
    off = sums[(sums - 100).abs() > 0.5]
    auto_note = None
    if not off.empty:
        lo, hi = float(off.min()), float(off.max())
        span = f"{lo:.1f}" if abs(hi - lo) < 0.05 else f"{lo:.1f} to {hi:.1f}"
        auto_note = (
            f"Shares of the size classes add up to {span}% (not 100%): trade of enterprises "
            "of unknown size is in the total only."
        )
    return _series_bars(
        ax, frame, x=x, y=y, series="_measure", series_levels=hue_levels,
        series_labels=category_labels(hue_levels, "measure", labels),
        colors=category_colors(hue_levels, "measure"), by=by, order=order, by_order=by_order,
        labels=labels, ci=ci, stacked=False, value_labels=value_labels, fmt=fmt, nonneg=True,
        ylabel=ylabel, xlabel=xlabel, title=title, source=source,
        note=" ".join(t for t in (note, auto_note) if t) or None, sample=sample, func=func,
    )


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
) -> Axes:
    """Lines over time, one per ``hue`` level (exporter dynamics, shares over years).

    Parameters
    ----------
    data
        Tidy frame with one row per (``x``, ``hue``). ``x`` may be numbers (years),
        dates, pandas Periods or strings that sort in time order (``"2019Q1"``,
        ``"2019-01"``); strings and Periods are shown as equally spaced labels.
    y
        Value column (default ``value``, as in the exporter-dynamics frames; use
        ``y="estimate"`` for estimate frames).
    band
        Shade the ``ci_low``-``ci_high`` band when those columns are present.
    markers
        Mark each observation (kept on when a series has a single point).
    ylabel
        Value-axis label with unit (defaults to the ``unit`` column; warns when unknown).
    hue_order, labels, xlabel, title, source, note, sample, ax
        As in :func:`bars_by_size`.

    Returns
    -------
    matplotlib.axes.Axes
    """
    func = "time_lines"
    _require(data, [x, y, hue], func)
    data = _drop_missing_keys(data, [x, hue], func)
    _check_unique(data, [x, hue], func)
    hue_levels, hue_pal, hue_labels = _category_axis(data, hue, hue_order, labels)
    frame = data if hue is None else data[data[hue].isin(hue_levels)]
    frame = frame.assign(_v=_numeric(frame, y, func))
    xs = frame[x]
    if isinstance(xs.dtype, pd.PeriodDtype) or xs.map(lambda v: isinstance(v, pd.Period)).all():
        xs = xs.astype(str)
    categorical = not (pd.api.types.is_numeric_dtype(xs) or pd.api.types.is_datetime64_any_dtype(xs))
    if categorical:
        periods = sorted(dict.fromkeys(xs.astype(str)))
        pos_of = {p: i for i, p in enumerate(periods)}
        frame = frame.assign(_x=xs.astype(str).map(pos_of).astype(float))
    else:
        frame = frame.assign(_x=xs)
    colors = category_colors(hue_levels, hue_pal) if hue else {None: "#08519c"}
    has_band = band and {"ci_low", "ci_high"} <= set(frame.columns)
    missing = int(frame["_v"].isna().sum())
    with house_style():
        ax = _new_axes(ax, (6.4, 3.8))
        handles = []
        for h in hue_levels:
            rows = frame if hue is None else frame[frame[hue] == h]
            rows = rows.sort_values("_x", kind="stable")
            if rows["_v"].notna().sum() == 0:
                continue
            mk = "o" if markers or rows["_v"].notna().sum() == 1 else None
            (line,) = ax.plot(rows["_x"], rows["_v"], color=colors[h], marker=mk, markersize=3.5,
                              label=hue_labels.get(h, "") if hue else None)
            handles.append((line, h))
            if has_band:
                ax.fill_between(rows["_x"], _numeric(rows, "ci_low", func),
                                _numeric(rows, "ci_high", func), color=colors[h], alpha=0.15,
                                linewidth=0)
        if categorical:
            # thin the labels so that they never touch: about 6 pt per character + 12 pt gap
            avail = ax.figure.get_figwidth() * 72 * 0.85
            per_label = max(len(p) for p in periods) * 6 + 12
            step = max(1, math.ceil(len(periods) / max(1, int(avail // per_label))))
            shown = list(range(0, len(periods), step))
            ax.set_xticks(shown, [periods[i] for i in shown])
        ax.set_xlabel(xlabel or {"period": "Period", "year": "Year"}.get(x, x.replace("_", " ").capitalize()))
        ax.set_ylabel(ylabel or _unit_label(data, y, func))
        if hue is not None:
            _legend_above(ax, [c for c, _ in handles], [hue_labels[h] for _, h in handles], title)
        else:
            _title(ax, title)
        _warn_missing(missing, "point(s)", func)
        _finish(ax, frame.drop(columns=["_v", "_x"]), source=source, note=note, sample=sample,
                func=func)
    return ax
