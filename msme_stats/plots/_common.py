"""Shared drawing helpers of the chart functions (validation, axes, legend, source note).

Used by the chart families :mod:`msme_stats.plots.bars`, :mod:`msme_stats.plots.dots` and
:mod:`msme_stats.plots.lines`: input checks that raise clear errors (:func:`_require`,
:func:`_check_unique`, :func:`_numeric`, :func:`_check_ci`), counted exclusions
(:func:`_drop_missing_keys`, :func:`_warn_missing`), category levels and labels
(:func:`_category_axis`), unit labels, the legend above the plot and the
"Source/Note/Sample" lines with the derived sample and flag footnote (:func:`_finish`).
"""

from __future__ import annotations

import math
import textwrap
import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes

from ..errors import ExclusionWarning, InvalidValueError, MissingColumnsError, MsmeStatsWarning
from .style import (
    _figure_of,
    add_source_note,
    canonical_order,
    category_labels,
    column_label,
    find_palette,
)

#: colour of confidence-interval whiskers
ERR_COLOR = "#333333"
#: colour of a single-series chart (WTO-like blue)
SINGLE_COLOR = "#08519c"


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


def _check_unique(data: pd.DataFrame, columns: Sequence[str | None], func: str) -> None:
    """Raise InvalidValueError when two rows share the same values of the key ``columns`` (None skipped)."""
    keys = [k for k in dict.fromkeys(columns) if k is not None]
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
        from ..indicators import list_indicators

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
    avail = _figure_of(ax).get_figwidth() * 72 * 0.95
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


def _cat_label(column: str) -> str:
    """Reader-facing axis label of a category column (``columns.csv``)."""
    return column_label(column)


def _legend_or_title(
    ax: Axes, hue: str | None, handles: list[tuple[Any, Any]], hue_labels: Mapping[Any, str],
    title: str | None,
) -> None:
    """Legend of the ``hue`` levels above the plot (with the title), or the title alone."""
    if hue is not None:
        _legend_above(ax, [c for c, _ in handles], [hue_labels[h] for _, h in handles], title)
    else:
        _title(ax, title)
