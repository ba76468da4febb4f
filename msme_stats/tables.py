"""Publication tables: tidy estimates -> wide tables with notes, in LaTeX, Excel, Markdown, HTML, CSV, Stata.

This is the only place where tidy frames become wide. :func:`publication_table` labels rows and
columns from the indicator catalogue and the country, size and sector reference data
(``msme_stats/reference/table_labels.csv``), rounds to a chosen number of decimals, puts standard
errors in parentheses or confidence intervals in brackets, adds a difference column with
significance marks when given a contrast, turns estimate flags into footnote symbols, and writes
notes that describe what the table holds (source, sample, counts, conventions).

The LaTeX output is a ``table`` float (``\\caption``, ``\\label``) around a booktabs
``tabular`` inside a ``threeparttable`` with ``tablenotes``; ``\\input`` it in a document that
loads ``booktabs`` and ``threeparttable``.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._docs import doc_filler, fill_pieces
from ._options import StataVersion, TableFormat, Uncertainty, as_list, check_choice, choices
from .errors import MissingColumnsError, OptionError

#: formats written by :meth:`PublicationTable.write` by default
FORMATS: tuple[TableFormat, ...] = ("csv", "xlsx", "tex", "md")
#: every format :meth:`PublicationTable.write` knows
ALL_FORMATS: tuple[TableFormat, ...] = choices(TableFormat)
#: key of ``DataFrame.attrs`` under which a registered build table carries its publication layout
ATTRS_KEY = "publication_table"


def _fmt_cell(value: Any, float_format: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, float):
        return float_format.format(value)
    return str(value)


def _formatted(df: pd.DataFrame, float_format: str) -> list[list[str]]:
    rows = []
    for rec in df.itertuples(index=False, name=None):
        rows.append([_fmt_cell(v.item() if hasattr(v, "item") else v, float_format) for v in rec])
    return rows


def _right_align(df: pd.DataFrame, right_align: Sequence[bool] | None) -> list[bool]:
    if right_align is not None:
        return list(right_align)
    return [pd.api.types.is_numeric_dtype(df[c]) for c in df.columns]


def table_to_markdown(
    df: pd.DataFrame,
    *,
    float_format: str = "{:.2f}",
    right_align: Sequence[bool] | None = None,
    title: str = "",
    footnotes: Sequence[str] = (),
) -> str:
    """Pipe table (GitHub Markdown); numeric columns (or ``right_align``) right-aligned, missing cells empty.

    The title, when given, is a bold line above the table and the notes are lines below it,
    as :meth:`PublicationTable.to_markdown` writes them. A frame whose
    ``attrs["publication_table"]`` holds a :class:`PublicationTable` (as the registered build
    tables do) is written as that table instead, with ``title`` as its title when it has none.

    Parameters
    ----------
    df
        Any frame; its columns become the header.
    float_format
        Format of float cells (default two decimals).
    right_align
        One flag per column; default: numeric columns right-aligned.
    title
        Title, written in bold on the first line; none when empty.
    footnotes
        Notes, one line each after a blank line under the table.

    Returns
    -------
    str
        The Markdown text, ending with a newline.

    Raises
    ------
    None
        Every frame can be written (cells are turned into text).

    Stata/R equivalent
    ------------------
    R ``knitr::kable(df, format = "pipe", caption = title)``; Stata ``esttab using t.md, md``
    for estimation tables.

    Examples
    --------
    >>> import pandas as pd
    >>> from msme_stats.tables import table_to_markdown
    >>> print(table_to_markdown(pd.DataFrame({"country": ["KEN"], "tr5": [10.94]})), end="")
    | country | tr5 |
    |:---|---:|
    | KEN | 10.94 |
    >>> print(table_to_markdown(pd.DataFrame({"country": ["KEN"], "tr5": [10.94]}),
    ...                         title="TR5 by country", footnotes=["Source: WBES."]), end="")
    **TR5 by country**
    <BLANKLINE>
    | country | tr5 |
    |:---|---:|
    | KEN | 10.94 |
    <BLANKLINE>
    Source: WBES.
    """
    pub = df.attrs.get(ATTRS_KEY)
    if isinstance(pub, PublicationTable):
        if title and not pub.title:
            pub = PublicationTable(**{**pub.__dict__, "title": title})
        return pub.to_markdown()
    header = [str(c) for c in df.columns]
    rows = _formatted(df, float_format)
    numeric = _right_align(df, right_align)

    def esc(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |"]
    lines.append("|" + "|".join("---:" if num else ":---" for num in numeric) + "|")
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return _markdown_page(title, "\n".join(lines), footnotes)


def _markdown_page(title: str, table: str, notes: Sequence[str]) -> str:
    """A Markdown table with its bold title line above and its notes below (each optional)."""
    parts = [f"**{title}**", ""] if title else []
    parts.append(table)
    if notes:
        parts += ["", *notes]
    return "\n".join(parts) + "\n"


_TEX_ESCAPES = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}


def _tex(s: str) -> str:
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in s)


def table_to_latex(
    df: pd.DataFrame,
    *,
    float_format: str = "{:.2f}",
    title: str = "",
    right_align: Sequence[bool] | None = None,
    footnotes: Sequence[str] = (),
    label: str = "",
) -> str:
    """LaTeX ``table`` float of a plain frame: booktabs rules, ``\\caption``, notes in ``tablenotes``.

    Needs ``\\usepackage{booktabs,threeparttable}``; special characters are escaped. A frame
    whose ``attrs["publication_table"]`` holds a :class:`PublicationTable` (as the registered
    build tables do) is written as that table instead, with ``title`` as its caption when it
    has none.

    Parameters
    ----------
    df
        Any frame; its columns become the header.
    float_format
        Format of float cells (default two decimals).
    title
        Caption (``\\caption``); none when empty.
    right_align
        One flag per column; default: numeric columns right-aligned.
    footnotes
        Notes printed in ``tablenotes`` under the table.
    label
        ``\\label`` of the float; none when empty.

    Returns
    -------
    str
        The LaTeX source of the ``table`` float.

    Raises
    ------
    None
        Every frame can be written (cells are turned into text, special characters escaped).

    Stata/R equivalent
    ------------------
    R ``knitr::kable(df, format = "latex", booktabs = TRUE, caption = title)``; Stata
    ``esttab using t.tex, booktabs title()`` for estimation tables.

    Examples
    --------
    >>> import pandas as pd
    >>> from msme_stats.tables import table_to_latex
    >>> tex = table_to_latex(pd.DataFrame({"country": ["KEN"], "tr5": [10.94]}), title="TR5")
    >>> print(tex.splitlines()[3])
    \\caption{TR5}
    >>> "KEN & 10.94" in tex
    True
    """
    pub = df.attrs.get(ATTRS_KEY)
    if isinstance(pub, PublicationTable):
        if title and not pub.title:
            pub = PublicationTable(**{**pub.__dict__, "title": title})
        return pub.to_latex()
    numeric = _right_align(df, right_align)
    spec = "".join("r" if n else "l" for n in numeric)
    header = " & ".join(_tex(str(c)) for c in df.columns)
    body = [" & ".join(_tex(c) for c in row) + r" \\" for row in _formatted(df, float_format)]
    return _latex_float(spec, header, body, title=title, label=label, notes=footnotes)


# --------------------------------------------------------------------------- labels
_LABEL_DIMENSIONS = ("sme_group", "size_class", "sector", "aggregation", "column", "flag")


def _catalogue_names() -> dict[str, str]:
    from .reference import read_reference

    names: dict[str, str] = {}
    for file, id_col in (("indicators", "id"), ("tec_indicators", "id"), ("edd_codes", "id")):
        ref = read_reference(file)
        names.update(zip(ref[id_col].astype(str), ref["name"].astype(str), strict=True))
        if file == "indicators" and "aliases" in ref.columns:
            for alias, name in zip(ref["aliases"], ref["name"], strict=True):
                for a in str(alias).split(";") if isinstance(alias, str) else []:
                    if a.strip():
                        names.setdefault(a.strip(), str(name))
    return names


def _label_table() -> pd.DataFrame:
    from .reference import read_reference

    return read_reference("table_labels")


def default_labels(dimension: str) -> dict[str, str]:
    """Default display labels for the values of one table dimension.

    Labels come from data files, never from code: indicator ids from the catalogue
    (``indicators.csv``, ``tec_indicators.csv``, ``edd_codes.csv``, column ``name``), ISO 3
    country codes from ``countries.csv``, and size classes, SME groups, sectors, aggregation
    variants, column names and flag codes from ``table_labels.csv``.

    Parameters
    ----------
    dimension
        A column name of a tidy estimate frame: ``"indicator"``, ``"country"``,
        ``"sme_group"``, ``"size_class"``, ``"sector"``, ``"aggregation"``, ``"column"`` (the
        labels of column names) or ``"flag"``. Any other name has no default labels.

    Returns
    -------
    dict
        ``{value: label}``; an empty dict when the dimension has no default labels.

    Raises
    ------
    OptionError, UnreadableFileError
        Propagated from :func:`msme_stats.reference.read_reference` (a reference file
        missing or unreadable: a broken installation).

    Examples
    --------
    >>> from msme_stats.tables import default_labels
    >>> default_labels("indicator")["es_direct_export_intensity"]
    'Direct exports as % of sales'
    >>> default_labels("sme_group")["large"]
    'Large firms (100+)'
    >>> default_labels("country")["KEN"]
    'Kenya'
    """
    if dimension in ("indicator", "target_id", "edd_code"):
        return _catalogue_names()
    if dimension in ("country", "iso3"):
        from .reference import read_reference

        c = read_reference("countries")
        return dict(zip(c["iso3"], c["name"], strict=True))
    if dimension in _LABEL_DIMENSIONS:
        t = _label_table()
        t = t[t["dimension"] == dimension]
        return dict(zip(t["code"], t["label"], strict=True))
    return {}


def _survey_label(value: str, countries: Mapping[str, str]) -> str:
    iso, sep, year = value.partition("_")
    if sep and iso in countries and year.isdigit():
        return f"{countries[iso]} {year}"
    return value


def _labeller(dimension: str, override: Mapping[str, str] | None) -> Callable[[str], str]:
    base = default_labels(dimension)
    countries = default_labels("country") if dimension == "survey_id" else {}
    over = dict(override or {})

    def label(value: str) -> str:
        if value in over:
            return str(over[value])
        if value in base:
            return base[value]
        if countries:
            return _survey_label(value, countries)
        return value

    return label


# --------------------------------------------------------------------------- the table
#: footnote symbols for flags, in order of first appearance
FLAG_SYMBOLS = ("a", "b", "c", "d", "e", "f", "g", "h")
#: significance marks: (p-value threshold, mark), strictest last
DEFAULT_STARS: tuple[tuple[float, str], ...] = ((0.10, "*"), (0.05, "**"), (0.01, "***"))

#: docstring pieces the PublicationTable methods share (see msme_stats._docs)
_fill_table_doc = doc_filler({
    "example_table": """\
>>> import pandas as pd, msme_stats as ms
>>> est = pd.DataFrame({"indicator": ["TR5", "TR5"], "sme_group": ["SME", "large"],
...                     "estimate": [7.61, 14.08], "se": [0.41, 1.2]})
>>> t = ms.publication_table(est, rows="indicator", columns="sme_group", uncertainty="se",
...                          title="Direct exports", source="World Bank Enterprise Surveys")""",
    "checked_raises": """\
Raises
------
None
    The table was checked when :func:`publication_table` built it.""",
})



@dataclass
class PublicationTable:
    """A wide table ready for publication, with every format it can be written in.

    Build it with :func:`publication_table`; the attributes below are what the writers use.

    Attributes
    ----------
    table
        Wide frame of display strings (estimate with its SE or CI in the same cell, flag
        symbols, significance marks); index = row labels, columns = column labels.
    values
        Same layout with the unrounded numbers (estimates and, when present, the difference).
    title
        Caption.
    footnotes
        Notes printed under the table (source, sample, counts, conventions, flags, marks).
    label
        LaTeX ``\\label`` (e.g. ``"tab:headline"``); empty for none.
    se, ci_low, ci_high
        Same layout as ``values`` with the uncertainty shown (``None`` when not shown).
    uncertainty
        ``"se"``, ``"ci"`` or ``None``: what is shown under each estimate.
    decimals
        Decimals shown.
    marks
        Same layout as ``table`` with the flag symbols and significance marks of each cell.
    data
        The tidy rows the table was built from (what :meth:`to_stata` writes).
    variable_labels
        Labels of the columns of ``data`` (for :meth:`to_stata`).

    Examples
    --------
    >>> import pandas as pd, msme_stats as ms
    >>> est = pd.DataFrame({"indicator": ["TR5", "TR5"], "sme_group": ["SME", "large"],
    ...                     "estimate": [7.61, 14.08], "se": [0.41, 1.2]})
    >>> t = ms.publication_table(est, rows="indicator", columns="sme_group", uncertainty="se")
    >>> t.table.loc["Direct exports as % of sales"].tolist()
    ['7.6 (0.4)', '14.1 (1.2)']
    """

    table: pd.DataFrame
    values: pd.DataFrame
    title: str = ""
    footnotes: list[str] = field(default_factory=list)
    label: str = ""
    se: pd.DataFrame | None = None
    ci_low: pd.DataFrame | None = None
    ci_high: pd.DataFrame | None = None
    uncertainty: str | None = None
    decimals: int = 1
    marks: pd.DataFrame | None = None
    data: pd.DataFrame | None = None
    variable_labels: dict[str, str] = field(default_factory=dict)

    # ----------------------------------------------------------------- pieces
    def _num(self, v: Any) -> str:
        return _fmt(v, self.decimals)

    def _cell(self, r: int, c: int) -> tuple[str, str]:
        """(estimate with marks, uncertainty line) of one cell as display strings."""
        v = self.values.iat[r, c]
        est = self._num(v)
        mark = "" if self.marks is None else str(self.marks.iat[r, c])
        if est and mark:
            est = f"{est}{mark}"
        below = ""
        if est and self.uncertainty == "se" and self.se is not None:
            s = self.se.iat[r, c]
            below = f"({self._num(s)})" if _known(s) else ""
        elif est and self.uncertainty == "ci" and self.ci_low is not None and self.ci_high is not None:
            lo, hi = self.ci_low.iat[r, c], self.ci_high.iat[r, c]
            below = f"[{self._num(lo)}, {self._num(hi)}]" if _known(lo) and _known(hi) else ""
        return est, below

    def _row_keys(self) -> list[list[str]]:
        idx = self.table.index
        if isinstance(idx, pd.MultiIndex):
            return [[str(x) for x in key] for key in idx]
        return [[str(x)] for x in idx]

    def _row_names(self) -> list[str]:
        names = list(self.table.index.names)
        return [str(n) if n is not None else "" for n in names]

    def _col_names(self) -> list[str]:
        cols = self.table.columns
        if isinstance(cols, pd.MultiIndex):
            return [" / ".join(str(x) for x in c) for c in cols]
        return [str(c) for c in cols]

    def _layout(self) -> tuple[pd.DataFrame, list[bool]]:
        t = self.table.reset_index()
        n_keys = t.shape[1] - self.table.shape[1]
        return t, [False] * n_keys + [True] * self.table.shape[1]

    # ----------------------------------------------------------------- formats
    @_fill_table_doc
    def to_markdown(self) -> str:
        """GitHub pipe table with the title in bold and the notes below.

        Returns
        -------
        str
            Markdown text; estimates and their SE/CI share a cell, e.g. ``7.6 (0.4)``.

        {checked_raises}

        Examples
        --------
        {example_table}
        >>> print(t.to_markdown(), end="")
        **Direct exports**
        <BLANKLINE>
        | Indicator | SMEs (5-99 employees) | Large firms (100+) |
        |:---|---:|---:|
        | Direct exports as % of sales | 7.6 (0.4) | 14.1 (1.2) |
        <BLANKLINE>
        Source: World Bank Enterprise Surveys
        ...
        """
        t = self.table.reset_index()
        t.columns = [*self._row_names(), *self._col_names()]
        right = [False] * len(self._row_names()) + [True] * self.table.shape[1]
        return table_to_markdown(t, right_align=right, title=self.title, footnotes=self.footnotes)

    @_fill_table_doc
    def to_latex(self) -> str:
        """LaTeX ``table`` float: ``\\caption``, ``\\label``, booktabs rules, ``tablenotes``.

        The SE (in parentheses) or CI (in brackets) of each estimate is printed on the line
        below it, as economics journals do. ``\\input`` the file in a document that loads
        ``booktabs`` and ``threeparttable``.

        Returns
        -------
        str
            The LaTeX source of the float.

        {checked_raises}

        Stata/R equivalent
        ------------------
        Stata ``esttab using t.tex, se booktabs title()``; R ``modelsummary(..., output = "latex")``.

        Examples
        --------
        {example_table}
        >>> tex = t.to_latex()
        >>> print("\\n".join(x for x in tex.splitlines() if x.startswith(("Direct", " & ("))))
        Direct exports as \\% of sales & 7.6 & 14.1 \\\\
         & (0.4) & (1.2) \\\\
        """
        keys = self._row_keys()
        n_keys = len(self._row_names())
        spec = "l" * n_keys + "c" * self.table.shape[1]
        body = []
        for r, key in enumerate(keys):
            first, second = [], []
            for c in range(self.table.shape[1]):
                est, below = self._cell(r, c)
                first.append(_tex_num(est))
                second.append(_tex_num(below))
            body.append(" & ".join([*(_tex_wrap(k, 32, "l") for k in key), *first]) + r" \\")
            if any(second):
                body.append(" & ".join([*([""] * n_keys), *second]) + r" \\")
        header = " & ".join([*(_tex(n) for n in self._row_names()), *(_tex_wrap(c, 12, "c") for c in self._col_names())])
        return _latex_float(spec, header, body, title=self.title, label=self.label, notes=self.footnotes)

    @_fill_table_doc
    def to_html(self) -> str:
        """HTML ``<table>`` with ``<caption>`` and the notes in ``<tfoot>``.

        Returns
        -------
        str
            A self-contained HTML fragment (no CSS).

        {checked_raises}

        Examples
        --------
        {example_table}
        >>> print(t.to_html().splitlines()[1])
        <caption>Direct exports</caption>
        """
        import html

        keys = self._row_keys()
        names = self._row_names()
        cols = self._col_names()
        out = ["<table>"]
        if self.title:
            out.append(f"<caption>{html.escape(self.title)}</caption>")
        out.append("<thead><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in [*names, *cols])
                   + "</tr></thead>")
        out.append("<tbody>")
        for r, key in enumerate(keys):
            cells = []
            for c in range(self.table.shape[1]):
                est, below = self._cell(r, c)
                cells.append(html.escape(est) + (f"<br>{html.escape(below)}" if below else ""))
            out.append("<tr>" + "".join(f'<th scope="row">{html.escape(k)}</th>' for k in key)
                       + "".join(f'<td style="text-align:right">{x}</td>' for x in cells) + "</tr>")
        out.append("</tbody>")
        if self.footnotes:
            span = len(names) + len(cols)
            out.append("<tfoot>" + "".join(
                f'<tr><td colspan="{span}">{html.escape(n)}</td></tr>' for n in self.footnotes) + "</tfoot>")
        out.append("</table>")
        return "\n".join(out) + "\n"

    @_fill_table_doc
    def to_csv(self) -> str:
        """CSV of the display table; notes as trailing comment lines starting with ``#``.

        Returns
        -------
        str
            CSV text.

        {checked_raises}

        Examples
        --------
        {example_table}
        >>> print(t.to_csv().splitlines()[1])
        Direct exports as % of sales,7.6 (0.4),14.1 (1.2)
        """
        buf = io.StringIO()
        t = self.table.copy()
        t.columns = self._col_names()
        t.to_csv(buf, lineterminator="\n")
        for n in self.footnotes:
            buf.write(f"# {n}\n")
        return buf.getvalue()

    @_fill_table_doc
    def to_excel_bytes(self) -> bytes:
        """An ``.xlsx`` workbook: numbers (not strings) with a display format, SE/CI rows, notes.

        The estimate of each row is a number formatted to ``decimals``; when standard errors
        are shown they are the next row, numbers formatted ``(0.0)``; confidence intervals are
        two rows (lower, upper) formatted ``[0.0`` and ``0.0]``. Title in A1, notes below.

        Returns
        -------
        bytes
            The workbook; byte-identical for identical inputs.

        Raises
        ------
        ImportError
            openpyxl (a dependency of the package) is not installed.

        Stata/R equivalent
        ------------------
        Stata ``putexcel``; R ``openxlsx::write.xlsx``.

        Examples
        --------
        {example_table}
        >>> import io, openpyxl
        >>> ws = openpyxl.load_workbook(io.BytesIO(t.to_excel_bytes())).active
        >>> ws["A1"].value, ws["B4"].value, ws["B4"].number_format, ws["B5"].value
        ('Direct exports', 7.61, '#,##0.0', 0.41)
        >>> t.to_excel_bytes() == t.to_excel_bytes()
        True
        """
        from openpyxl import Workbook  # type: ignore[import-untyped]  # no stubs (types-openpyxl) installed
        from openpyxl.styles import Alignment, Font  # type: ignore[import-untyped]

        wb = Workbook()
        ws = wb.active
        ws.title = "table"
        digits = "0" + ("." + "0" * self.decimals if self.decimals > 0 else "")
        fmt_est = f"#,##{digits}" if self.decimals >= 0 else "General"
        names, cols = self._row_names(), self._col_names()
        n_keys = len(names)
        ws.cell(row=1, column=1, value=self.title).font = Font(bold=True)
        for j, h in enumerate([*names, *cols], start=1):
            c = ws.cell(row=3, column=j, value=h)
            c.font = Font(bold=True)
            c.alignment = Alignment(horizontal="left" if j <= n_keys else "center", wrap_text=True)
        row = 4
        for r, key in enumerate(self._row_keys()):
            for j, k in enumerate(key, start=1):
                ws.cell(row=row, column=j, value=k)
            extra: list[tuple[pd.DataFrame, str]] = []
            if self.uncertainty == "se" and self.se is not None:
                extra = [(self.se, f'"("{fmt_est}")"')]
            elif self.uncertainty == "ci" and self.ci_low is not None and self.ci_high is not None:
                extra = [(self.ci_low, f'"["{fmt_est}'), (self.ci_high, f'{fmt_est}"]"')]
            for c in range(self.table.shape[1]):
                v = self.values.iat[r, c]
                cell = ws.cell(row=row, column=n_keys + 1 + c, value=_xl(v))
                cell.number_format = fmt_est
                mark = "" if self.marks is None else str(self.marks.iat[r, c])
                if mark and _xl(v) is not None:
                    # keep the number numeric; put the marks in the next free column's comment row
                    cell.number_format = f'{fmt_est}"{_xl_escape(mark)}"'
                for i, (frame, f) in enumerate(extra, start=1):
                    ec = ws.cell(row=row + i, column=n_keys + 1 + c, value=_xl(frame.iat[r, c]))
                    ec.number_format = f
            row += 1 + len(extra)
        row += 1
        for n in self.footnotes:
            ws.cell(row=row, column=1, value=n)
            row += 1
        ws.column_dimensions["A"].width = 42
        wb.properties.created = pd.Timestamp("2000-01-01").to_pydatetime()  # reproducible
        wb.properties.modified = pd.Timestamp("2000-01-01").to_pydatetime()
        buf = io.BytesIO()
        wb.save(buf)
        return _fixed_zip_times(buf.getvalue())

    def to_stata(self, path: str | Path, *, version: StataVersion = 118) -> Path:
        """Write the estimates behind the table as a Stata ``.dta`` with variable labels.

        One row per table cell (the tidy rows the table was built from: row and column keys,
        ``estimate``, ``se``, ``ci_low``, ``ci_high``, counts, and the contrast columns when a
        contrast was given), each variable labelled (Stata ``describe`` shows the labels), the
        table title as the dataset label. Written atomically.

        Parameters
        ----------
        path
            Target file; ``.dta`` is appended when missing.
        version
            Stata file format (118 = Stata 14+, Unicode).

        Returns
        -------
        pathlib.Path
            The file written.

        Raises
        ------
        OptionError
            When the table was built without its tidy rows.

        Stata/R equivalent
        ------------------
        Stata ``save table.dta`` after ``label variable``; R ``haven::write_dta()`` with
        ``labelled`` columns. Read it back with ``use table.dta, clear`` or
        ``haven::read_dta()``.

        Examples
        --------
        >>> import tempfile, pathlib, pandas as pd, msme_stats as ms
        >>> est = pd.DataFrame({"indicator": ["TR5", "TR5"], "sme_group": ["SME", "large"],
        ...                     "estimate": [7.61, 14.08], "se": [0.41, 1.2]})
        >>> t = ms.publication_table(est, rows="indicator", columns="sme_group", title="TR5")
        >>> out = t.to_stata(pathlib.Path(tempfile.mkdtemp()) / "tr5")
        >>> with pd.io.stata.StataReader(out) as r:
        ...     r.variable_labels()["estimate"]
        'Estimate'
        """
        from ._atomic import atomic_write_bytes

        if self.data is None:
            raise OptionError("to_stata: this table has no tidy rows; build it with publication_table().")
        target = Path(path)
        if target.suffix.lower() != ".dta":
            target = target.with_name(target.name + ".dta")
        frame = self.data.copy()
        for c in frame.columns:
            if isinstance(frame[c].dtype, pd.CategoricalDtype) or frame[c].dtype == object:
                frame[c] = frame[c].astype(str).where(frame[c].notna(), "")
            elif pd.api.types.is_bool_dtype(frame[c]):
                frame[c] = frame[c].astype("int8")
        frame.columns = [_stata_name(c) for c in frame.columns]
        labels = {_stata_name(k): v[:80] for k, v in self.variable_labels.items() if _stata_name(k) in frame}
        buf = io.BytesIO()
        frame.to_stata(buf, write_index=False, variable_labels=labels, data_label=self.title[:80],
                       version=version, time_stamp=pd.Timestamp("2000-01-01").to_pydatetime())
        atomic_write_bytes(target, buf.getvalue())
        return target

    @_fill_table_doc
    def write(self, path: str | Path, *, formats: Sequence[TableFormat] = FORMATS) -> list[Path]:
        """Write ``path`` with each suffix in ``formats`` atomically.

        Parameters
        ----------
        path
            Base path; the suffix of each format replaces any suffix it has.
        formats
            Any of ``"csv"``, ``"xlsx"``, ``"tex"``, ``"md"``, ``"html"``, ``"dta"``.

        Returns
        -------
        list of pathlib.Path
            The files written.

        Raises
        ------
        OptionError
            For a format not in the list above.

        Examples
        --------
        {example_table}
        >>> import tempfile, pathlib
        >>> files = t.write(pathlib.Path(tempfile.mkdtemp()) / "tr5", formats=["md", "tex", "xlsx"])
        >>> [f.name for f in files]
        ['tr5.md', 'tr5.tex', 'tr5.xlsx']
        >>> files[0].read_text().splitlines()[0]
        '**Direct exports**'
        """
        from ._atomic import atomic_write_bytes, atomic_write_text

        base = Path(path)
        written = []
        for fmt in formats:
            check_choice("format", fmt, ALL_FORMATS)
            target = base.with_suffix(f".{fmt}")
            if fmt == "csv":
                atomic_write_text(target, self.to_csv())
            elif fmt == "md":
                atomic_write_text(target, self.to_markdown())
            elif fmt == "tex":
                atomic_write_text(target, self.to_latex())
            elif fmt == "html":
                atomic_write_text(target, self.to_html())
            elif fmt == "dta":
                self.to_stata(target)
            else:
                atomic_write_bytes(target, self.to_excel_bytes())
            written.append(target)
        return written


def _known(v: Any) -> bool:
    """True for a value that is not missing (one cell of a layout)."""
    return bool(pd.notna(v))


def _fixed_zip_times(data: bytes) -> bytes:
    """Rewrite a zip (an .xlsx) with every entry dated 2000-01-01, so identical tables give
    identical bytes (openpyxl stamps entries and ``modified`` with the current time)."""
    import re
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            content = src.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl sets 'modified' to now on save
                content = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>2000-01-01T00:00:00Z\g<2>", content)
            dst.writestr(fixed, content)
    return out.getvalue()


def _xl(v: Any) -> Any:
    if v is None or v is pd.NA:
        return None
    if isinstance(v, (float, np.floating)):
        return None if not np.isfinite(v) else float(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    return v


def _xl_escape(s: str) -> str:
    return s.replace('"', "")


def _stata_name(name: Any) -> str:
    s = "".join(ch if (ch.isalnum() and ch.isascii()) or ch == "_" else "_" for ch in str(name))
    if not s or s[0].isdigit():
        s = "v_" + s
    return s[:32]


def _tex_wrap(text: str, width: int, align: str) -> str:
    """Escape ``text``; when longer than ``width`` characters, break it into lines at spaces
    inside a nested ``tabular`` (no extra package) so that wide labels do not overflow."""
    if len(text) <= width or " " not in text:
        return _tex(text)
    lines: list[str] = []
    current = ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    lines.append(current)
    pos = "b" if align == "c" else "t"
    return rf"\begin{{tabular}}[{pos}]{{@{{}}{align}@{{}}}}" + r" \\ ".join(_tex(x) for x in lines) + r"\end{tabular}"


def _tex_num(s: str) -> str:
    """Escape a number cell; significance stars and flag symbols as superscripts."""
    if not s:
        return ""
    m = len(s)
    while m > 0 and not (s[m - 1].isdigit() or s[m - 1] in ")]"):
        m -= 1
    num, mark = s[:m], s[m:]
    out = _tex(num).replace("-", "$-$", 1) if num.startswith("-") else _tex(num)
    if mark:
        out += rf"\textsuperscript{{{_tex(mark)}}}"
    return out


def _latex_float(spec: str, header: str, body: list[str], *, title: str, label: str,
                 notes: Sequence[str]) -> str:
    lines = [r"\begin{table}[htbp]", r"\centering", r"\begin{threeparttable}"]
    if title:
        lines.append(rf"\caption{{{_tex(title)}}}")
    if label:
        lines.append(rf"\label{{{label}}}")
    lines += [rf"\begin{{tabular}}{{{spec}}}", r"\toprule", header + r" \\", r"\midrule", *body,
              r"\bottomrule", r"\end{tabular}"]
    if notes:
        lines += [r"\begin{tablenotes}[flushleft]", r"\footnotesize"]
        lines += [rf"\item {_tex(n)}" for n in notes]
        lines.append(r"\end{tablenotes}")
    lines += [r"\end{threeparttable}", r"\end{table}"]
    return "\n".join(lines) + "\n"


def _fmt(v: Any, decimals: int) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return "" if v is None or v is pd.NA else str(v)
    if not np.isfinite(f):
        return ""
    s = f"{f:,.{decimals}f}"
    if s.startswith("-") and float(s.replace(",", "")) == 0:
        s = s[1:]  # a value that rounds to zero is shown as 0.0, not -0.0
    return s


def _stars_for(p: float, stars: Sequence[tuple[float, str]]) -> str:
    if p is None or not np.isfinite(p):
        return ""
    mark = ""
    for threshold, symbol in sorted(stars, key=lambda t: -t[0]):
        if p < threshold:
            mark = symbol
    return mark


def _pivot(frame: pd.DataFrame, rows: list[str], cols: list[str], value: str) -> pd.DataFrame:
    return frame.pivot_table(index=rows, columns=cols, values=value, aggfunc="first", sort=False,
                             dropna=False)


CONTRAST_COLUMNS = ("difference", "se", "p_value")


def _check_table_input(estimates: pd.DataFrame, rows_l: list[str], cols_l: list[str], value: str,
                       uncertainty: str | None, decimals: Any) -> None:
    """Raise for an unknown ``uncertainty``, a bad ``decimals``, missing columns or two rows
    in one cell."""
    if uncertainty is not None:
        check_choice("uncertainty", uncertainty, choices(Uncertainty))
    if not isinstance(decimals, (int, np.integer)) or isinstance(decimals, bool) or decimals < 0:
        raise OptionError(f"publication_table: decimals={decimals!r} must be a non-negative integer.")
    need = [*rows_l, *cols_l, value]
    if uncertainty == "se":
        need.append("se")
    elif uncertainty == "ci":
        need += ["ci_low", "ci_high"]
    missing = [c for c in need if c not in estimates.columns]
    if missing:
        raise MissingColumnsError(
            f"publication_table: estimates lack column(s) {missing}; available: {list(estimates.columns)}."
        )
    key = estimates[rows_l + cols_l].astype(str)
    if key.duplicated().any():
        dup = key[key.duplicated()].head(3).to_dict("records")
        raise OptionError(
            f"publication_table: several rows share the same cell {dup}; add the distinguishing "
            "column to rows= or columns=, or filter the estimates first."
        )


def _flag_marks(frame: pd.DataFrame, flags: bool, labels: Mapping[str, Any]) -> list[str]:
    """Set ``frame["_marks"]`` to the footnote symbols of each row's flags (in order of first
    appearance) and return the notes explaining the symbols."""
    flag_notes: list[str] = []
    frame["_marks"] = ""
    if flags and "flags" in frame.columns:
        flag_text = default_labels("flag") | dict(labels.get("flag", {}))
        symbols: dict[str, str] = {}
        marks = []
        for f in frame["flags"].fillna("").astype(str):
            codes = [c for c in f.replace(",", ";").split(";") if c.strip()]
            for c in codes:
                if c not in symbols:
                    symbols[c] = FLAG_SYMBOLS[len(symbols)] if len(symbols) < len(FLAG_SYMBOLS) else f"f{len(symbols) + 1}"
            marks.append(",".join(symbols[c] for c in codes))
        frame["_marks"] = marks
        flag_notes = [f"{s} {flag_text.get(c, c)} ({c})." for c, s in symbols.items()]

    return flag_notes


def _layout(frame: pd.DataFrame, rows_l: list[str], cols_l: list[str], value: str,
            uncertainty: str | None, row_order: Sequence[str] | None,
            column_order: Sequence[str] | None) -> tuple[pd.DataFrame, pd.DataFrame | None, pd.DataFrame | None,
                                                          pd.DataFrame | None, pd.DataFrame]:
    """Spread values (and SEs, CI bounds and marks as asked) over the table, in the order asked.

    Returns ``values, se, ci_low, ci_high, marks`` (None for what is not shown)."""
    values = _pivot(frame, rows_l, cols_l, value)
    if row_order is not None:
        values = values.reindex([r for r in row_order if r in values.index])
    if column_order is not None:
        values = values.reindex(columns=[c for c in column_order if c in values.columns])

    def same_layout(col: str) -> pd.DataFrame:
        return _pivot(frame, rows_l, cols_l, col).reindex(index=values.index, columns=values.columns)

    se = same_layout("se") if uncertainty == "se" else None
    ci_low = same_layout("ci_low") if uncertainty == "ci" else None
    ci_high = same_layout("ci_high") if uncertainty == "ci" else None
    marks = same_layout("_marks").fillna("").astype(str)
    marks = marks.map(lambda m: f"{m}" if m else "")

    return values, se, ci_low, ci_high, marks


def _label_axes(values: pd.DataFrame, others: list[pd.DataFrame | None], rows_l: list[str],
                cols_l: list[str], labels: Mapping[str, Any], row_labels: Mapping[str, str] | None,
                column_labels: Mapping[str, str] | None) -> None:
    """Replace the raw row and column keys of the values layout and of the ``others`` shown
    (SE, CI bounds, marks; None = not shown) by their labels, in place."""
    col_labellers = [_labeller(c, {**labels.get(c, {}), **dict(column_labels or {})}) for c in cols_l]
    row_labellers = [_labeller(r, {**labels.get(r, {}), **dict(row_labels or {})}) for r in rows_l]

    def col_label(c: Any) -> str:
        parts = c if isinstance(c, tuple) else (c,)
        return " / ".join(f(str(p)) for f, p in zip(col_labellers, parts, strict=True))

    new_cols = [col_label(c) for c in values.columns]
    if len(rows_l) == 1:
        new_index = pd.Index([row_labellers[0](str(i)) for i in values.index])
    else:
        new_index = pd.MultiIndex.from_tuples(
            [tuple(f(str(p)) for f, p in zip(row_labellers, i, strict=True)) for i in values.index])
    head_label = _labeller("column", labels.get("column"))
    new_index.names = [head_label(r) for r in rows_l]
    for f in [values, *others]:
        if f is not None:
            f.columns = pd.Index(new_cols)
            f.index = new_index
    values.columns.name = None


def _add_contrast(contrast: pd.DataFrame, frame: pd.DataFrame, rows_l: list[str], cols_l: list[str],
                  value: str, uncertainty: str | None, row_order: Sequence[str] | None,
                  contrast_label: str, stars: Sequence[tuple[float, str]],
                  values: pd.DataFrame, se: pd.DataFrame | None, ci_low: pd.DataFrame | None,
                  ci_high: pd.DataFrame | None, marks: pd.DataFrame) -> list[str]:
    """Add the difference column (with its SE or CI and significance marks) in place and
    return the note naming the test. Raises when ``contrast`` lacks a column or has several
    rows for one table row."""
    c_need = [*rows_l, *CONTRAST_COLUMNS] + (["ci_low", "ci_high"] if uncertainty == "ci" else [])
    c_missing = [c for c in c_need if c not in contrast.columns]
    if c_missing:
        raise MissingColumnsError(
            f"publication_table: contrast lacks column(s) {c_missing}; it needs the row column(s) "
            f"{rows_l} and {list(CONTRAST_COLUMNS)} (as returned by ms.contrast)."
        )
    con = contrast.copy()
    for c in rows_l:
        con[c] = con[c].astype(str)
    if con[rows_l].duplicated().any():
        raise OptionError(
            "publication_table: contrast has several rows for one table row; filter it to one "
            "difference per row first."
        )
    # values.index is labelled now: align on the raw keys
    raw_keys = _pivot(frame, rows_l, cols_l, value)
    if row_order is not None:
        raw_keys = raw_keys.reindex([r for r in row_order if r in raw_keys.index])
    con = con.set_index(rows_l).reindex(raw_keys.index)
    values[contrast_label] = con["difference"].to_numpy()
    if se is not None:
        se[contrast_label] = con["se"].to_numpy()
    if ci_low is not None and ci_high is not None:
        ci_low[contrast_label] = con["ci_low"].to_numpy()
        ci_high[contrast_label] = con["ci_high"].to_numpy()
    marks[contrast_label] = [_stars_for(p, stars) for p in con["p_value"].astype(float)]
    spec = ", ".join(f"{m} p<{t:.2f}" for t, m in sorted(stars, key=lambda t: -t[0]))
    contrast_note = [f"Difference: {contrast_label}; {spec}."]
    return contrast_note


def _cell_text(values: pd.DataFrame, se: pd.DataFrame | None, ci_low: pd.DataFrame | None,
               ci_high: pd.DataFrame | None, uncertainty: str | None, decimals: int,
               marks: pd.DataFrame) -> pd.DataFrame:
    """The cell strings: rounded estimate with marks, and its SE or CI in the same cell."""
    text = pd.DataFrame("", index=values.index, columns=values.columns)
    tmp = PublicationTable(table=text, values=values, se=se, ci_low=ci_low, ci_high=ci_high,
                           uncertainty=uncertainty, decimals=int(decimals), marks=marks)
    for r in range(values.shape[0]):
        for c in range(values.shape[1]):
            est, below = tmp._cell(r, c)
            text.iat[r, c] = f"{est} {below}".strip() if below else est
    return text


def _table_notes(estimates: pd.DataFrame, source: str, sample: str, uncertainty: str | None,
                 extra: list[str]) -> list[str]:
    """Notes that match the content: source, sample, counts of countries and firms, the
    uncertainty convention, then ``extra`` (flag, contrast and user notes)."""
    foot = []
    if source:
        foot.append(f"Source: {source}")
    if sample:
        foot.append(f"Sample: {sample}")
    averages = "n_countries" in estimates.columns and pd.to_numeric(estimates["n_countries"], errors="coerce").max() > 1
    if "n_countries" in estimates.columns:
        nc = pd.to_numeric(estimates["n_countries"], errors="coerce")
        foot.append(f"Countries per cell: {int(nc.min())}" + (f" to {int(nc.max())}" if nc.max() != nc.min() else "") + ".")
    nf_col = "n_firms" if "n_firms" in estimates.columns else ("n" if "n" in estimates.columns else None)
    if nf_col:
        nf = pd.to_numeric(estimates[nf_col], errors="coerce")
        foot.append(f"Firms per cell: {int(nf.min()):,}" + (f" to {int(nf.max()):,}" if nf.max() != nf.min() else "") + ".")
    if uncertainty is not None:
        what = "Standard errors in parentheses" if uncertainty == "se" else "95% confidence intervals in brackets"
        if "se" in estimates.columns and "df" in estimates.columns or averages:
            what += " (design-based"
            what += "; cross-country averages treat country samples as independent)." if averages else ")."
        else:
            what += "."
        foot.append(what)
    foot += extra

    return foot


def _stata_data(estimates: pd.DataFrame, contrast_data: pd.DataFrame | None, rows_l: list[str],
                contrast_label: str) -> tuple[pd.DataFrame, dict[str, str]]:
    """The tidy rows (with the contrast as ``diff_*`` columns) and their variable labels, for
    ``to_stata``."""
    keep = [c for c in estimates.columns if c != "_marks"]
    data = estimates[keep].copy().reset_index(drop=True)
    var_labels = {c: default_labels("column").get(c, c) for c in data.columns}
    if contrast_data is not None:
        extra = contrast_data[[*rows_l, *[c for c in contrast_data.columns if c not in rows_l]]].copy()
        extra = extra.rename(columns={c: f"diff_{c}" for c in extra.columns if c not in rows_l})
        for c in rows_l:
            extra[c] = extra[c].astype(data[c].dtype) if c in data else extra[c]
        data = data.merge(extra, on=rows_l, how="left")
        var_labels.update({c: f"{contrast_label}: {c[5:]}" for c in data.columns if c.startswith("diff_")})
    return data, var_labels


_PUBLICATION_TABLE_PARAMETERS = """\
    Parameters
    ----------
    estimates
        Tidy frame (from :func:`msme_stats.estimate`, :func:`msme_stats.cross_country_average`,
        :func:`msme_stats.headline_sme_vs_large` or the TEC functions); each (rows, columns)
        cell must hold one row.
    rows, columns
        Column(s) of ``estimates`` spread over the rows and the columns of the table (for
        example ``rows="indicator"``, ``columns="sme_group"``).
    value
        The number shown (default ``estimate``).
    decimals
        Decimals shown, for estimates, SEs, CIs and the difference (default 1).
    uncertainty
        ``"se"``: standard error in parentheses; ``"ci"``: confidence interval
        ``[ci_low, ci_high]`` in brackets; ``None`` (default): neither. In LaTeX and Excel the
        SE or CI sits on the line below the estimate; in Markdown, HTML and ``.table`` in the
        same cell. Stata ``esttab, se`` / ``esttab, ci`` do the same.
    show_se
        Shorthand for ``uncertainty="se"`` (kept for compatibility).
    contrast
        A frame with the ``rows`` column(s) and ``difference``, ``se`` and ``p_value`` (as
        returned by ``ms.contrast`` or R ``svycontrast``/Stata ``lincom``): adds a column
        ``contrast_label`` with the difference, its SE or CI (``ci_low``/``ci_high`` when
        ``uncertainty="ci"``) and significance marks from ``stars``. A note names the test.
    contrast_label
        Header of the difference column (say which minus which, e.g. ``"SMEs - large"``).
    stars
        ``(p threshold, mark)`` pairs; a difference gets the mark of the smallest threshold
        its p-value is below. Default ``* p<0.10, ** p<0.05, *** p<0.01``.
    flags
        When ``estimates`` has a ``flags`` column (";"-joined codes), each flagged cell gets a
        footnote symbol (``a``, ``b``, ...) and a note explains each symbol. ``False`` omits them.
    labels
        ``{dimension: {value: label}}`` overriding the defaults of :func:`default_labels`, for
        the row and column dimensions, and ``{"column": {...}}`` for the header of the row keys.
        ``labels={}`` keeps the defaults; to show raw ids pass an identity mapping.
    row_labels, column_labels
        ``{value: label}`` for the values of the row (column) dimension(s); applied after
        ``labels``.
    title
        Caption (LaTeX ``\\caption``, HTML ``<caption>``, bold Markdown line, Excel A1).
    label
        LaTeX ``\\label`` of the float, e.g. ``"tab:headline"``.
    source, sample, notes
        Notes under the table. Counts of countries (``n_countries``) and firms (``n_firms``
        or ``n``) are added when present; the convention notes match the content (the
        independence assumption of cross-country averages only when cells average countries).
    row_order, column_order
        Raw values (before labelling) in the order shown; others are dropped.
"""


_PUBLICATION_TABLE_EXAMPLES = """\
    Examples
    --------
    >>> import pandas as pd, msme_stats as ms
    >>> est = pd.DataFrame({"indicator": ["TR5", "TR5"], "sme_group": ["SME", "large"],
    ...                     "estimate": [7.6123, 14.08], "se": [0.41, 1.2], "n": [900, 300]})
    >>> diff = pd.DataFrame({"indicator": ["TR5"], "difference": [-6.47], "se": [1.27],
    ...                      "p_value": [0.00001]})
    >>> t = ms.publication_table(est, rows="indicator", columns="sme_group", uncertainty="se",
    ...                          contrast=diff, contrast_label="SMEs - large", decimals=2)
    >>> t.table.iloc[0].tolist()
    ['7.61 (0.41)', '14.08 (1.20)', '-6.47*** (1.27)']
    >>> print(t.footnotes[-1])
    Difference: SMEs - large; * p<0.10, ** p<0.05, *** p<0.01.
"""


@fill_pieces(publication_table_parameters=_PUBLICATION_TABLE_PARAMETERS,
          publication_table_examples=_PUBLICATION_TABLE_EXAMPLES)
def publication_table(
    estimates: pd.DataFrame,
    *,
    rows: str | Sequence[str],
    columns: str | Sequence[str],
    value: str = "estimate",
    decimals: int = 1,
    uncertainty: Uncertainty | None = None,
    show_se: bool = False,
    contrast: pd.DataFrame | None = None,
    contrast_label: str = "Difference",
    stars: Sequence[tuple[float, str]] = DEFAULT_STARS,
    flags: bool = True,
    labels: Mapping[str, Mapping[str, str]] | None = None,
    row_labels: Mapping[str, str] | None = None,
    column_labels: Mapping[str, str] | None = None,
    title: str = "",
    label: str = "",
    source: str = "",
    sample: str = "",
    notes: Sequence[str] = (),
    row_order: Sequence[str] | None = None,
    column_order: Sequence[str] | None = None,
) -> PublicationTable:
    """Turn tidy estimates into a labelled, rounded publication table with notes.

    {publication_table_parameters}

    Returns
    -------
    PublicationTable
        ``.table`` (strings), ``.values`` (numbers), ``.write(path, formats=...)``,
        ``.to_latex()``, ``.to_excel_bytes()``, ``.to_markdown()``, ``.to_html()``,
        ``.to_stata(path)``.

    Raises
    ------
    MissingColumnsError
        When a ``rows``/``columns``/``value`` column (or ``se``, ``ci_low``/``ci_high`` for the
        uncertainty asked) is missing, or ``contrast`` lacks a required column.
    OptionError
        When two rows fall in the same cell, ``uncertainty`` is not one of the choices,
        ``decimals`` is negative, or ``contrast`` has several rows for one table row.

    Stata/R equivalent
    ------------------
    Stata ``esttab``/``estout`` (``se`` or ``ci``, ``star(* 0.10 ** 0.05 *** 0.01)``,
    ``coeflabels()``, ``title()``, ``addnotes()``); R ``modelsummary::datasummary`` or
    ``modelsummary(..., stars = TRUE)``, ``gt``/``kableExtra`` for the layout.

    See Also
    --------
    msme_stats.tables.default_labels : where the labels come from.

    Notes
    -----
    Stata equivalent: ``esttab``/``estout`` (``se``, ``ci``, ``star()``, ``label``); R:
    ``modelsummary``/``gt`` on a ``svyby`` result.

    {publication_table_examples}
    """
    if show_se and uncertainty is None:
        uncertainty = "se"
    rows_l, cols_l = as_list(rows), as_list(columns)
    _check_table_input(estimates, rows_l, cols_l, value, uncertainty, decimals)
    labels = dict(labels or {})
    frame = estimates.copy()
    for c in rows_l + cols_l:
        frame[c] = frame[c].astype(str)
    flag_notes = _flag_marks(frame, flags, labels)
    values, se, ci_low, ci_high, marks = _layout(frame, rows_l, cols_l, value, uncertainty,
                                                 row_order, column_order)
    _label_axes(values, [se, ci_low, ci_high, marks], rows_l, cols_l, labels, row_labels, column_labels)
    contrast_note: list[str] = []
    if contrast is not None:
        contrast_note = _add_contrast(contrast, frame, rows_l, cols_l, value, uncertainty, row_order,
                                      contrast_label, stars, values, se, ci_low, ci_high, marks)
    text = _cell_text(values, se, ci_low, ci_high, uncertainty, decimals, marks)
    foot = _table_notes(estimates, source, sample, uncertainty, [*flag_notes, *contrast_note, *notes])
    data, var_labels = _stata_data(estimates, contrast, rows_l, contrast_label)
    return PublicationTable(
        table=text, values=values, title=title, footnotes=foot, label=label, se=se, ci_low=ci_low,
        ci_high=ci_high, uncertainty=uncertainty, decimals=int(decimals), marks=marks, data=data,
        variable_labels=var_labels,
    )


def headline_contrast(headline: pd.DataFrame, *, rows: str = "indicator") -> pd.DataFrame | None:
    """The SME-minus-large contrast carried by a headline frame, in the shape ``contrast=`` takes.

    Accepts the two shapes a contrast can travel in with a headline frame: a frame in
    ``headline.attrs["contrast"]`` with ``rows``, ``difference``, ``se``, ``p_value``; or
    columns on the headline itself, ``difference`` with ``difference_se`` (or
    ``se_difference``) and ``p_value`` (or ``difference_p_value``), one value per ``rows``
    value repeated on its size rows.

    Parameters
    ----------
    headline
        Output of :func:`msme_stats.headline_sme_vs_large` (or any tidy frame).
    rows
        The column identifying a table row (default ``"indicator"``).

    Returns
    -------
    pandas.DataFrame or None
        ``rows``, ``difference``, ``se``, ``p_value`` (plus ``ci_low``/``ci_high`` when
        present); ``None`` when the frame carries no contrast.

    Raises
    ------
    OptionError
        When the difference columns disagree within one row value.

    Examples
    --------
    >>> import pandas as pd
    >>> from msme_stats.tables import headline_contrast
    >>> h = pd.DataFrame({"indicator": ["TR5", "TR5"], "sme_group": ["SME", "large"],
    ...                   "estimate": [7.6, 14.1], "difference": [-6.5, -6.5],
    ...                   "difference_se": [1.3, 1.3], "p_value": [0.001, 0.001]})
    >>> headline_contrast(h).to_dict("records")
    [{'indicator': 'TR5', 'difference': -6.5, 'se': 1.3, 'p_value': 0.001}]
    >>> headline_contrast(h.drop(columns=["difference"])) is None
    True
    """
    attached = headline.attrs.get("contrast")
    if isinstance(attached, pd.DataFrame):
        return attached
    if "difference" not in headline.columns:
        return None
    se_col = next((c for c in ("difference_se", "se_difference") if c in headline.columns), None)
    p_col = next((c for c in ("p_value", "difference_p_value") if c in headline.columns), None)
    if se_col is None or p_col is None:
        return None
    cols = {"difference": "difference", se_col: "se", p_col: "p_value"}
    for lo, hi in (("difference_ci_low", "difference_ci_high"),):
        if lo in headline.columns and hi in headline.columns:
            cols.update({lo: "ci_low", hi: "ci_high"})
    sub = headline[[rows, *cols]].dropna(subset=["difference"]).rename(columns=cols)
    out = sub.drop_duplicates()
    if out[rows].duplicated().any():
        raise OptionError(
            f"headline_contrast: the difference columns take several values for one {rows}; "
            "pass contrast= to publication_table explicitly."
        )
    return out.reset_index(drop=True)
