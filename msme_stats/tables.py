"""Publication tables: tidy estimates -> wide tables with footnotes, in CSV, Excel, LaTeX, Markdown.

This is the only place where tidy frames become wide. Number formatting is consistent
(fixed decimals, optional standard errors in parentheses) and every table carries
footnotes naming the source, the sample, and the number of countries and firms.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._options import as_list, check_choice
from .errors import MissingColumnsError, OptionError

FORMATS = ("csv", "xlsx", "tex", "md")


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
    df: pd.DataFrame, *, float_format: str = "{:.2f}", right_align: Sequence[bool] | None = None
) -> str:
    """Pipe table (GitHub Markdown); numeric columns (or ``right_align``) right-aligned, missing cells empty."""
    header = [str(c) for c in df.columns]
    rows = _formatted(df, float_format)
    numeric = _right_align(df, right_align)

    def esc(s: str) -> str:
        return s.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |"]
    lines.append("|" + "|".join("---:" if num else ":---" for num in numeric) + "|")
    lines += ["| " + " | ".join(esc(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


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
) -> str:
    """booktabs ``tabular`` (needs ``\\usepackage{booktabs}``); special characters escaped."""
    numeric = _right_align(df, right_align)
    spec = "".join("r" if n else "l" for n in numeric)
    lines = []
    if title:
        lines.append(f"% {title}")
    lines += [f"\\begin{{tabular}}{{{spec}}}", r"\toprule"]
    lines.append(" & ".join(_tex(str(c)) for c in df.columns) + r" \\")
    lines.append(r"\midrule")
    lines += [" & ".join(_tex(c) for c in row) + r" \\" for row in _formatted(df, float_format)]
    lines += [r"\bottomrule", r"\end{tabular}"]
    lines += [rf"\par\footnotesize {_tex(n)}" for n in footnotes]
    return "\n".join(lines) + "\n"



@dataclass
class PublicationTable:
    """A wide table ready for publication.

    Attributes
    ----------
    table
        The wide frame of formatted strings (rows x columns).
    values
        The same layout with the unformatted numbers.
    title
        Table title.
    footnotes
        Lines printed under the table (source, sample, counts, conventions).
    """

    table: pd.DataFrame
    values: pd.DataFrame
    title: str = ""
    footnotes: list[str] = field(default_factory=list)

    def _layout(self) -> tuple[pd.DataFrame, list[bool]]:
        t = self.table.reset_index()
        n_keys = t.shape[1] - self.table.shape[1]
        return t, [False] * n_keys + [True] * self.table.shape[1]

    def to_markdown(self) -> str:
        """Markdown (GitHub pipe table) with title and footnotes."""
        t, right = self._layout()
        parts = [f"**{self.title}**", ""] if self.title else []
        parts.append(table_to_markdown(t, right_align=right).rstrip("\n"))
        if self.footnotes:
            parts += ["", *self.footnotes]
        return "\n".join(parts) + "\n"

    def to_latex(self) -> str:
        """LaTeX ``tabular`` (booktabs) with title as a comment and footnotes below."""
        t, right = self._layout()
        return table_to_latex(t, title=self.title, right_align=right, footnotes=self.footnotes)

    def to_csv(self) -> str:
        """CSV of the formatted table; footnotes as trailing comment lines starting with '#'."""
        buf = io.StringIO()
        self.table.to_csv(buf, lineterminator="\n")
        for n in self.footnotes:
            buf.write(f"# {n}\n")
        return buf.getvalue()

    def to_excel_bytes(self) -> bytes:
        """An .xlsx workbook: the numbers (not strings) with title and footnotes."""
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xl:
            self.values.to_excel(xl, sheet_name="table", startrow=2)
            ws = xl.sheets["table"]
            ws.cell(row=1, column=1, value=self.title)
            start = len(self.values) + 5
            for i, n in enumerate(self.footnotes):
                ws.cell(row=start + i, column=1, value=n)
            xl.book.properties.created = pd.Timestamp("2000-01-01").to_pydatetime()  # reproducible
            xl.book.properties.modified = pd.Timestamp("2000-01-01").to_pydatetime()
        return buf.getvalue()

    def write(self, path: str | Path, *, formats: Sequence[str] = FORMATS) -> list[Path]:
        """Write ``path`` with each suffix in ``formats`` atomically; return the files written."""
        from ._atomic import atomic_write_bytes, atomic_write_text

        base = Path(path)
        written = []
        for fmt in formats:
            check_choice("format", fmt, FORMATS)
            target = base.with_suffix(f".{fmt}")
            if fmt == "csv":
                atomic_write_text(target, self.to_csv())
            elif fmt == "md":
                atomic_write_text(target, self.to_markdown())
            elif fmt == "tex":
                atomic_write_text(target, self.to_latex())
            else:
                atomic_write_bytes(target, self.to_excel_bytes())
            written.append(target)
        return written


def _fmt(v: float, decimals: int) -> str:
    return "" if not np.isfinite(v) else f"{v:,.{decimals}f}"


def publication_table(
    estimates: pd.DataFrame,
    *,
    rows: str | Sequence[str],
    columns: str | Sequence[str],
    value: str = "estimate",
    decimals: int = 1,
    show_se: bool = False,
    title: str = "",
    source: str = "",
    sample: str = "",
    notes: Sequence[str] = (),
    row_order: Sequence[str] | None = None,
    column_order: Sequence[str] | None = None,
) -> PublicationTable:
    """Turn tidy estimates into a wide publication table.

    Parameters
    ----------
    estimates
        Tidy frame (from :func:`msme_stats.estimate`, :func:`msme_stats.cross_country_average`
        or the TEC functions); each (rows, columns) cell must hold one value.
    rows, columns
        Column(s) of ``estimates`` spread over the rows and the columns of the table
        (for example ``rows="indicator"``, ``columns="sme_group"``).
    value
        The number shown (default ``estimate``).
    decimals
        Decimals shown (default 1).
    show_se
        Add the standard error in parentheses below... (same cell: ``7.6 (0.4)``).
    title, source, sample, notes
        Title and footnotes. Counts of countries (``n_countries``) and firms (``n_firms``
        or ``n``) are added as a footnote when present.

    Returns
    -------
    PublicationTable
        With ``.table`` (strings), ``.values`` (numbers), ``.write(path, formats=...)``.
    """
    rows_l, cols_l = as_list(rows), as_list(columns)
    need = [*rows_l, *cols_l, value] + (["se"] if show_se else [])
    missing = [c for c in need if c not in estimates.columns]
    if missing:
        raise MissingColumnsError(f"publication_table: estimates lack column(s) {missing}.")
    key = estimates[rows_l + cols_l].astype(str)
    if key.duplicated().any():
        dup = key[key.duplicated()].head(3).to_dict("records")
        raise OptionError(
            f"publication_table: several rows share the same cell {dup}; add the distinguishing "
            "column to rows= or columns=, or filter the estimates first."
        )
    frame = estimates.copy()
    for c in rows_l + cols_l:
        frame[c] = frame[c].astype(str)
    values = frame.pivot_table(index=rows_l, columns=cols_l, values=value, aggfunc="first", sort=False)
    if row_order is not None:
        values = values.reindex([r for r in row_order if r in values.index])
    if column_order is not None:
        values = values.reindex(columns=[c for c in column_order if c in values.columns])
    text = values.map(lambda v: _fmt(v, decimals))
    if show_se:
        ses = frame.pivot_table(index=rows_l, columns=cols_l, values="se", aggfunc="first", sort=False)
        ses = ses.reindex(index=values.index, columns=values.columns)
        text = text.where(ses.isna(), text + " (" + ses.map(lambda v: _fmt(v, decimals)) + ")")
    foot = []
    if source:
        foot.append(f"Source: {source}")
    if sample:
        foot.append(f"Sample: {sample}")
    if "n_countries" in estimates.columns:
        nc = estimates["n_countries"]
        foot.append(f"Countries per cell: {int(nc.min())}" + (f" to {int(nc.max())}" if nc.max() != nc.min() else "") + ".")
    nf_col = "n_firms" if "n_firms" in estimates.columns else ("n" if "n" in estimates.columns else None)
    if nf_col:
        nf = estimates[nf_col]
        foot.append(f"Firms per cell: {int(nf.min()):,}" + (f" to {int(nf.max()):,}" if nf.max() != nf.min() else "") + ".")
    if show_se:
        foot.append("Standard errors in parentheses (design-based; averages assume independent country samples).")
    foot += list(notes)
    return PublicationTable(table=text, values=values, title=title, footnotes=foot)
