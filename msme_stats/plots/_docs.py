"""Shared docstring pieces of the chart functions, in the manner of seaborn's ``_docstrings``.

A chart docstring names a shared parameter by a placeholder standing alone on its line,
``{ax}``; :func:`fill_doc` replaces it by the text in :data:`PARAMS`, indented like the
placeholder, so the rendered numpydoc (and the Sphinx API page) reads as if written out.
Only whole-line placeholders are replaced; other braces in a docstring (format strings such
as ``"{:.1f}"``) are left alone. An unknown placeholder is an error at import time.
"""

from __future__ import annotations

from .._docs import doc_filler

#: numpydoc text of each parameter shared by several chart functions
PARAMS: dict[str, str] = {
    "ax": """\
ax
    Axes to draw on; by default a new figure in the house style (sized to the data).""",
    "order": """\
order
    Explicit order of the ``x`` categories (default: canonical for known palettes, e.g.
    micro, small, medium, SME, large; else order of first appearance). Values not listed
    are not drawn (counted in an :class:`~msme_stats.errors.ExclusionWarning`).""",
    "hue_order": """\
hue_order
    Explicit order of the ``hue`` levels, with the same rules as ``order``.""",
    "by_order": """\
by_order
    Explicit order of the ``by`` blocks, with the same rules as ``order``.""",
    "labels": """\
labels
    Mapping of category values to reader-facing labels, overriding the palette labels
    (``palettes.csv``).""",
    "ci": """\
ci
    Draw whiskers from ``ci_low`` to ``ci_high`` (when the columns exist). An interval that
    does not contain its estimate raises :class:`~msme_stats.errors.InvalidValueError`.""",
    "value_labels": """\
value_labels, fmt
    Print each value (format ``fmt``) at the end of its bar (above the whisker).""",
    "xlabel_cat": """\
xlabel
    Category-axis label (default from the column name, e.g. ``"Firm size (employees)"``
    for ``size_class``).""",
    "ylabel_unit": """\
ylabel
    Value-axis label with its unit, e.g. ``"% of sales"``. Defaults to the ``unit``
    column (or the indicator registry's unit); warns when no unit is known.""",
    "xlabel_unit": """\
xlabel
    Value-axis label with its unit (defaults to the ``unit`` column; warns when unknown).""",
    "ylabel_cat": """\
ylabel
    Category-axis label (default from the column name, e.g. ``"Economy"`` for
    ``country``).""",
    "annotations": """\
title
    Chart title (left-aligned, bold; above the legend when there is one).
source
    Text of the "Source: ..." line under the chart. When None, ``data.attrs["source"]`` is
    used if present; otherwise a :class:`~msme_stats.errors.MsmeStatsWarning` says the chart
    names no source.
note
    Extra "Note: ..." line under the chart.
sample
    "Sample: ..." line. When None it is derived from the data: the range of ``n`` per
    estimate, the number of economies (``country``) and the number of flagged estimates
    (non-empty ``flags``).""",
    "kwargs_bar": """\
**kwargs
    Other keyword arguments are passed to :meth:`matplotlib.axes.Axes.bar` (or
    :meth:`~matplotlib.axes.Axes.barh` for horizontal bars) for every series of bars, for
    instance ``edgecolor``, ``linewidth``, ``hatch`` or ``alpha``; they override the house
    style's choices (``color``, ``label``, ``width``/``height``).""",
    "kwargs_errorbar": """\
**kwargs
    Other keyword arguments are passed to :meth:`matplotlib.axes.Axes.errorbar` for every
    series of dots, for instance ``marker``, ``markersize``, ``alpha`` or ``elinewidth``;
    they override the house style's choices.""",
    "kwargs_scatter": """\
**kwargs
    Other keyword arguments are passed to :meth:`matplotlib.axes.Axes.scatter` for both
    vintages' dots, for instance ``s`` (dot size), ``marker`` or ``alpha``; they override
    the house style's choices.""",
    "kwargs_plot": """\
**kwargs
    Other keyword arguments are passed to :meth:`matplotlib.axes.Axes.plot` for every
    line, for instance ``linewidth``, ``linestyle``, ``marker`` or ``alpha``; they override
    the house style's choices (``color``, ``marker``, ``markersize``, ``label``).""",
    "returns": """\
matplotlib.axes.Axes
    The Axes drawn on (its figure carries the source note).""",
    "raises": """\
MissingColumnsError
    A column named by the options is not in ``data``.
InvalidValueError
    ``data`` is not a DataFrame or has no rows; two rows for the same category (or
    category and ``hue``/``by``); non-numeric values; an interval that does not contain
    its estimate.
OptionError
    An option value that is not allowed (the message lists the allowed ones).""",
    "palette_raises": """\
OptionError
    ``palette`` is not a palette (the message lists them).
MissingColumnsError, InvalidValueError
    The bundled ``palettes.csv`` or ``columns.csv`` lacks a column or repeats a key
    (raised on first use, naming the file).""",
    "example_setup": """\
>>> import matplotlib
>>> matplotlib.use("Agg")  # no window: examples and tests draw off screen
>>> import matplotlib.pyplot as plt
>>> import pandas as pd
>>> from msme_stats import plots""",
    "palette_file_raises": """\
MissingColumnsError, InvalidValueError
    The bundled ``palettes.csv`` or ``columns.csv`` lacks a column or repeats a key
    (raised on first use, naming the file).""",
}

PARAMS["examples"] = "Examples\n--------\n" + PARAMS["example_setup"]
PARAMS["returns_raises"] = (
    "Returns\n-------\n" + PARAMS["returns"] + "\n\nRaises\n------\n" + PARAMS["raises"]
)

#: fill the placeholders of a chart docstring from :data:`PARAMS` (see :mod:`msme_stats._docs`)
fill_doc = doc_filler(PARAMS)
