"""House style of msme_stats charts: style sheet, palettes, category order, source note.

The style sheet (``msme.mplstyle``) and the palettes (``palettes.csv``) are data files next
to this module. ``palettes.csv`` has one row per (palette, key) with columns ``palette``,
``key``, ``order`` (canonical position), ``color``, ``label`` (reader-facing label) and
``source``. Palettes: ``size_class`` (WBES and TEC size classes, SME/MSME, totals),
``country_group``, ``channel`` (direct / indirect exports), ``measure`` (export value /
exporters), ``vintage`` (published / recomputed) and ``series`` (fallback colours).

``columns.csv`` is the one map of chart column names: for each known column (``column``)
the palette its values are looked up in first (``palette``) and its reader-facing axis
label (``axis_label``; empty: the column name, capitalised), with a ``source``.

Keys are matched case-insensitively, so ``"SME"``, ``"sme"`` and ``"Sme"`` are one class.
"""

from __future__ import annotations

import contextlib
import functools
import textwrap
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.layout_engine import ConstrainedLayoutEngine, TightLayoutEngine
from matplotlib.text import Annotation, Text

from ..errors import InvalidValueError, MissingColumnsError, OptionError
from ._docs import fill_doc

__all__ = [
    "COLUMNS_PATH",
    "PALETTES_PATH",
    "STYLE_PATH",
    "add_source_note",
    "canonical_order",
    "category_colors",
    "category_labels",
    "column_label",
    "column_palette",
    "find_palette",
    "house_style",
    "palette",
    "palettes",
    "size_order",
    "source_note",
    "use_house_style",
]

STYLE_PATH = Path(__file__).with_name("msme.mplstyle")
PALETTES_PATH = Path(__file__).with_name("palettes.csv")

#: gid of the source-note annotation, so that it can be found (and replaced) later
NOTE_GID = "msme-source-note"

_PALETTE_COLUMNS = ("palette", "key", "order", "color", "label", "source")

COLUMNS_PATH = Path(__file__).with_name("columns.csv")

_COLUMNS_COLUMNS = ("column", "palette", "axis_label", "source")


@functools.lru_cache(maxsize=1)
def _column_table() -> dict[str, tuple[str, str]]:
    """``{column: (palette, axis label)}`` from ``columns.csv`` (empty text: none)."""
    table = pd.read_csv(COLUMNS_PATH, dtype=str, keep_default_na=False)
    missing = [c for c in _COLUMNS_COLUMNS if c not in table.columns]
    if missing:
        raise MissingColumnsError(
            f"{COLUMNS_PATH}: missing column(s) {missing}; expected {list(_COLUMNS_COLUMNS)}."
        )
    dup = table["column"].duplicated()
    if dup.any():
        raise InvalidValueError(
            f"{COLUMNS_PATH}: duplicate column name(s) {table.loc[dup, 'column'].tolist()};"
            " keep one row per column."
        )
    return {c: (p, lab) for c, p, lab in zip(table["column"], table["palette"], table["axis_label"], strict=True)}


@fill_doc
def column_palette(column: str | None) -> str | None:
    """Palette whose keys the values of ``column`` are looked up in first (``columns.csv``).

    Parameters
    ----------
    column
        A chart column name (``size_class``, ``group``, ...), or None.

    Returns
    -------
    str or None
        The palette name, or None when ``columns.csv`` gives none for the column.

    Raises
    ------
    {palette_file_raises}

    Examples
    --------
    >>> from msme_stats.plots import style
    >>> style.column_palette("group"), style.column_palette("estimate")
    ('country_group', None)
    """
    entry = _column_table().get(column) if column is not None else None
    return entry[0] or None if entry else None


@fill_doc
def column_label(column: str) -> str:
    """Reader-facing axis label of a category column (``columns.csv``, else the name).

    Parameters
    ----------
    column
        A chart column name.

    Returns
    -------
    str
        The ``axis_label`` of ``columns.csv``, else the name with spaces, capitalised.

    Raises
    ------
    {palette_file_raises}

    Examples
    --------
    >>> from msme_stats.plots import style
    >>> style.column_label("size_class"), style.column_label("my_column")
    ('Firm size (employees)', 'My column')
    """
    entry = _column_table().get(column)
    if entry and entry[1]:
        return entry[1]
    return column.replace("_", " ").capitalize()


@functools.lru_cache(maxsize=1)
def _palette_table() -> pd.DataFrame:
    table = pd.read_csv(PALETTES_PATH, dtype=str, keep_default_na=False)
    missing = [c for c in _PALETTE_COLUMNS if c not in table.columns]
    if missing:
        raise MissingColumnsError(
            f"{PALETTES_PATH}: missing column(s) {missing}; expected {list(_PALETTE_COLUMNS)}."
        )
    table["order"] = pd.to_numeric(table["order"], errors="raise")
    table["lookup"] = table["key"].str.lower()
    dup = table.duplicated(["palette", "lookup"])
    if dup.any():
        raise InvalidValueError(
            f"{PALETTES_PATH}: duplicate keys {table.loc[dup, ['palette', 'key']].values.tolist()}"
            " (keys are case-insensitive); keep one row per palette and key."
        )
    return table.sort_values(["palette", "order"], kind="stable").reset_index(drop=True)


@fill_doc
def palettes() -> pd.DataFrame:
    """Return the palette table (a copy) with columns palette, key, order, color, label, source.

    Returns
    -------
    pandas.DataFrame
        One row per (palette, key) of ``palettes.csv``, in canonical order within each
        palette; a copy (changing it does not change the charts).

    Raises
    ------
    {palette_file_raises}

    Examples
    --------
    >>> from msme_stats import plots
    >>> table = plots.palettes()
    >>> list(table.columns)
    ['palette', 'key', 'order', 'color', 'label', 'source']
    >>> "size_class" in set(table["palette"])
    True
    """
    return _palette_table().loc[:, list(_PALETTE_COLUMNS)].copy()


def _rows(name: str) -> pd.DataFrame:
    table = _palette_table()
    rows = table[table["palette"] == name]
    if rows.empty:
        known = sorted(table["palette"].unique())
        raise OptionError(f"palette={name!r} is not allowed; use one of {known}.")
    return rows


@fill_doc
def palette(name: str) -> dict[str, str]:
    """Return ``{key: colour}`` of one palette, in canonical order.

    Parameters
    ----------
    name
        Palette name (``size_class``, ``country_group``, ``channel``, ``measure``,
        ``vintage``, ``series``; see :func:`palettes`).

    Returns
    -------
    dict
        Key -> hex colour.

    Raises
    ------
    OptionError
        ``name`` is not a palette (the message lists them).
    {palette_file_raises}

    Examples
    --------
    >>> from msme_stats import plots
    >>> plots.palette("channel")
    {'direct': '#08519c', 'indirect': '#9ecae1'}
    """
    rows = _rows(name)
    return dict(zip(rows["key"], rows["color"], strict=True))


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Context manager applying the msme_stats style sheet (``msme.mplstyle``).

    The settings apply inside the ``with`` block only (every chart function draws in it).

    Yields
    ------
    None

    Raises
    ------
    OSError
        Propagated from :func:`matplotlib.style.context` when the style sheet is missing
        from the installation.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from msme_stats import plots
    >>> with plots.house_style():
    ...     plt.rcParams["axes.spines.top"]
    False
    """
    with plt.style.context(str(STYLE_PATH)):
        yield


def use_house_style() -> None:
    """Apply the msme_stats style sheet globally (for notebooks).

    Raises
    ------
    OSError
        Propagated from :func:`matplotlib.style.use` when the style sheet is missing from
        the installation.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> from msme_stats import plots
    >>> with mpl.rc_context():  # restored afterwards; in a notebook call it once, unwrapped
    ...     plots.use_house_style()
    ...     mpl.rcParams["axes.spines.right"]
    False
    """
    plt.style.use(str(STYLE_PATH))


@fill_doc
def find_palette(column: str | None, values: Iterable[Any]) -> str | None:
    """Name of the palette that knows every value of ``values``, or None.

    The palette associated with ``column`` (``size_class`` -> ``size_class``, ``group`` ->
    ``country_group``, ...) is tried first, then every palette except ``series``.

    Parameters
    ----------
    column
        The column the values come from (or None).
    values
        The category values (matched case-insensitively).

    Returns
    -------
    str or None
        The palette name, or None when no palette knows every value.

    Raises
    ------
    {palette_file_raises}

    Examples
    --------
    >>> from msme_stats.plots import style
    >>> style.find_palette("size_class", ["Small", "large"]), style.find_palette(None, ["x"])
    ('size_class', None)
    """
    keys = {str(v).lower() for v in values}
    table = _palette_table()
    candidates = []
    first = column_palette(column)
    if first is not None:
        candidates.append(first)
    candidates += [p for p in dict.fromkeys(table["palette"]) if p not in candidates]
    for name in candidates:
        if name == "series":
            continue
        known = set(table.loc[table["palette"] == name, "lookup"])
        if keys and keys <= known:
            return name
    return None


@fill_doc
def canonical_order(
    values: Iterable[Any], *, palette: str | None = "size_class", column: str | None = None
) -> list[Any]:
    """Order category values canonically.

    Values known to the palette come first, in the palette's ``order`` (for size classes:
    micro, small, medium, SME, large, ... and ``0-9``, ``10-49``, ``50-249``, ``250+``),
    whatever their order in the input; unknown values follow in order of first appearance.
    Missing values (NaN/None) are dropped from the list of categories. With
    ``palette=None`` the palette is guessed from ``column`` and the values
    (:func:`find_palette`); if none fits, the order of first appearance is kept.

    Parameters
    ----------
    values
        The category values.
    palette
        Palette giving the order (default ``size_class``), or None to guess it.
    column
        With ``palette=None``: the column the values come from, tried first.

    Returns
    -------
    list
        The distinct non-missing values in canonical order.

    Raises
    ------
    {palette_raises}

    Examples
    --------
    >>> from msme_stats import plots
    >>> plots.canonical_order(["indirect", "direct", "indirect"], palette="channel")
    ['direct', 'indirect']
    >>> plots.canonical_order(["b", "a"], palette=None)
    ['b', 'a']
    """
    seen = list(dict.fromkeys(v for v in values if not _is_missing(v)))
    if palette is None:
        palette = find_palette(column, seen)
        if palette is None:
            return seen
    rows = _rows(palette)
    rank = dict(zip(rows["lookup"], rows["order"], strict=True))
    known = sorted((v for v in seen if str(v).lower() in rank), key=lambda v: rank[str(v).lower()])
    return known + [v for v in seen if str(v).lower() not in rank]


@fill_doc
def size_order(values: Iterable[Any]) -> list[Any]:
    """Canonical order of size classes (micro, small, medium, SME, large; 0-9 ... 250+).

    Parameters
    ----------
    values
        Size-class values (unknown ones follow, in order of first appearance).

    Returns
    -------
    list
        The distinct values in canonical order.

    Raises
    ------
    {palette_file_raises}

    Examples
    --------
    >>> from msme_stats import plots
    >>> plots.size_order(["large", "sme", "micro", "small"])
    ['micro', 'small', 'sme', 'large']
    """
    return canonical_order(values, palette="size_class")


@fill_doc
def category_labels(
    values: Iterable[Any], palette: str | None, overrides: Mapping[Any, str] | None = None
) -> dict[Any, str]:
    """Reader-facing label of each value: ``overrides`` first, then the palette, else str().

    One rule is not in the CSV: when the WBES split class ``large_250plus`` is present,
    ``large`` means 100-249 employees (``msme_stats.classify.size_from_stratum`` with
    ``split_large=True``) and is labelled so.

    Parameters
    ----------
    values
        The category values.
    palette
        Palette whose ``label`` column names them (None: no palette).
    overrides
        Value -> label, winning over the palette.

    Returns
    -------
    dict
        Value -> label, for every value.

    Raises
    ------
    {palette_raises}

    Examples
    --------
    >>> from msme_stats.plots import style
    >>> style.category_labels(["small", "large"], "size_class", {"large": "Large firms"})
    {'small': 'Small (5-19)', 'large': 'Large firms'}
    """
    values = list(values)
    labels: dict[str, str] = {}
    if palette is not None:
        rows = _rows(palette)
        labels = {k: lab for k, lab in zip(rows["lookup"], rows["label"], strict=True) if lab}
    lower = {str(v).lower() for v in values}
    if palette == "size_class" and "large_250plus" in lower:
        labels["large"] = "Large (100-249)"
    out = {}
    for v in values:
        if overrides and v in overrides:
            out[v] = str(overrides[v])
        else:
            out[v] = labels.get(str(v).lower(), str(v))
    return out


@fill_doc
def category_colors(values: Iterable[Any], palette: str | None) -> dict[Any, str]:
    """Colour of each value: from the palette when known, else the ``series`` colours in turn.

    Parameters
    ----------
    values
        The category values.
    palette
        Palette to take known colours from (None: ``series`` colours only). Unknown values
        take the ``series`` colours not already used.

    Returns
    -------
    dict
        Value -> hex colour.

    Raises
    ------
    {palette_raises}

    Examples
    --------
    >>> from msme_stats.plots import style
    >>> style.category_colors(["small", "other"], "size_class")
    {'small': '#9ecae1', 'other': '#08519c'}
    """
    values = list(values)
    known: dict[str, str] = {}
    if palette is not None:
        rows = _rows(palette)
        known = dict(zip(rows["lookup"], rows["color"], strict=True))
    series = list(_rows("series")["color"])
    used = {known[str(v).lower()] for v in values if str(v).lower() in known}
    spare = [c for c in series if c not in used] or series
    out, i = {}, 0
    for v in values:
        key = str(v).lower()
        if key in known:
            out[v] = known[key]
        else:
            out[v] = spare[i % len(spare)]
            i += 1
    return out


def _is_missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _sentence(prefix: str, text: str) -> str:
    text = str(text).strip()
    if text and text[-1] not in ".!?":
        text += "."
    return f"{prefix}: {text}" if prefix else text


def _figure_of(ax: Axes) -> Figure:
    """The Figure holding ``ax``: ``ax.figure``, or the root figure when ``ax`` is in a SubFigure."""
    fig = ax.figure
    return fig if isinstance(fig, Figure) else fig.figure  # SubFigure.figure: the root Figure


def add_source_note(
    ax: Axes,
    *,
    source: str | None = None,
    note: str | None = None,
    sample: str | None = None,
    fontsize: float = 8.0,
    wrap: int | None = None,
) -> Annotation | None:
    """Write "Source: ...", "Note: ..." and "Sample: ..." lines under the chart.

    The note is a figure-level annotation anchored below everything drawn by ``ax`` (tick
    labels, axis label, legend), flush with the chart's left edge, so it never overlaps the
    chart. It lies outside the axes, which ``savefig(bbox_inches="tight")`` (the house
    style's default) includes. When the figure has a constrained layout and this is its
    only Axes, room is also reserved at the bottom of the figure. A second call replaces the
    note.

    Parameters
    ----------
    ax
        The chart's Axes.
    source, note, sample
        Texts of the "Source: ", "Note: " and "Sample: " lines (a final full stop is added
        when missing); None or empty leaves the line out.
    fontsize
        Font size in points (default 8).
    wrap
        Characters per line; default from the figure width.

    Returns
    -------
    matplotlib.text.Annotation or None
        The note, or None when all three texts are empty.

    Raises
    ------
    AttributeError
        ``ax`` is not a matplotlib Axes (it has no figure to write on).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from msme_stats import plots
    >>> fig, ax = plt.subplots()
    >>> note = plots.add_source_note(ax, source="WBES", note="Weighted estimates")
    >>> print(plots.source_note(ax))
    Source: WBES. Note: Weighted estimates.
    >>> plt.close(fig)
    """
    fig = ax.figure
    for artist in list(fig.artists):
        if artist.get_gid() == NOTE_GID and getattr(artist, "_msme_ax", None) is ax:
            artist.remove()
    parts = []
    if source:
        parts.append(_sentence("Source", source))
    if note:
        parts.append(_sentence("Note", note))
    if sample:
        parts.append(_sentence("Sample", sample))
    if not parts:
        return None
    if wrap is None:
        width_pt = _figure_of(ax).get_figwidth() * 72
        wrap = max(40, int(width_pt * 0.95 / (fontsize * 0.56)))
    lines = [line for part in parts for line in textwrap.wrap(part, wrap) or [""]]
    text = "\n".join(lines)

    def below_chart(renderer: Any) -> Any:
        return ax.get_tightbbox(renderer)

    ann = Annotation(
        text,
        xy=(0, 0),
        xycoords=below_chart,
        xytext=(0, -6),
        textcoords="offset points",
        ha="left",
        va="top",
        fontsize=fontsize,
        color="#444444",
        annotation_clip=False,
        linespacing=1.3,
    )
    ann.set_gid(NOTE_GID)
    ann._msme_ax = ax  # type: ignore[attr-defined]  # which chart the note belongs to
    fig.add_artist(ann)
    engine = fig.get_layout_engine()
    if isinstance(engine, ConstrainedLayoutEngine | TightLayoutEngine) and len(fig.axes) == 1:
        height_pt = len(lines) * fontsize * 1.3 + 10
        frac = min(0.4, height_pt / (_figure_of(ax).get_figheight() * 72))
        with contextlib.suppress(TypeError, ValueError):
            engine.set(rect=(0, frac, 1, 1 - frac))
    return ann


def source_note(ax: Axes) -> str | None:
    """Return the text of the source note under ``ax`` (None if there is none).

    Parameters
    ----------
    ax
        A chart's Axes.

    Returns
    -------
    str or None
        The text written by :func:`add_source_note` (or a chart function) for ``ax``.

    Raises
    ------
    AttributeError
        ``ax`` is not a matplotlib Axes.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from msme_stats import plots
    >>> fig, ax = plt.subplots()
    >>> plots.source_note(ax) is None
    True
    >>> plt.close(fig)
    """
    for artist in ax.figure.artists:
        if isinstance(artist, Text) and artist.get_gid() == NOTE_GID and getattr(artist, "_msme_ax", None) is ax:
            return artist.get_text()
    return None
