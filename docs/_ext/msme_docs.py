"""Sphinx directives that generate pages from the repository's own files.

* ``catalogue-table``: a table of an indicator catalogue CSV (``msme_stats/reference``), with
  chosen columns, so the indicator reference is regenerated from the catalogue at every build.
* ``figure-gallery``: every registered figure of ``msme_stats.build`` with its title, shown from
  ``figures/<id>.png``; a registered figure without its PNG is a build error.
"""

from __future__ import annotations

import csv
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import Directive, directives

ROOT = Path(__file__).resolve().parents[2]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "/")


def _table(headers: list[str], rows: list[list[str]], literal_first: bool = True) -> nodes.table:
    table = nodes.table(classes=["catalogue"])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for _ in headers:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    row = nodes.row()
    for h in headers:
        row += nodes.entry("", nodes.paragraph(text=h))
    head += row
    body = nodes.tbody()
    group += body
    for values in rows:
        row = nodes.row()
        for j, v in enumerate(values):
            para = nodes.paragraph()
            para += nodes.literal(text=v) if (j == 0 and literal_first and v) else nodes.Text(v or "—")
            row += nodes.entry("", para)
        body += row
    return table


class CatalogueTable(Directive):
    """A table of a catalogue CSV: argument = path from the repository root, ``:columns:``."""

    required_arguments = 1
    has_content = False
    option_spec = {"columns": directives.unchanged_required, "headers": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        path = ROOT / self.arguments[0]
        env = self.state.document.settings.env
        env.note_dependency(str(path))
        with path.open(encoding="utf-8", newline="") as fh:
            records = list(csv.DictReader(fh))
        cols = [c.strip() for c in self.options["columns"].split(",")]
        missing = [c for c in cols if records and c not in records[0]]
        if missing:
            raise self.error(f"{path.name} has no column(s) {missing}")
        headers = [h.strip() for h in self.options.get("headers", ",".join(cols)).split(",")]
        if len(headers) != len(cols):
            raise self.error("catalogue-table: :headers: and :columns: differ in length")
        rows = [[_cell(r[c]) for c in cols] for r in records]
        return [_table(headers, rows)]


class FigureGallery(Directive):
    """Every registered figure of the build registry, with its title, id and image."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from msme_stats.build import registered_outputs

        env = self.state.document.settings.env
        out: list[nodes.Node] = []
        for spec in registered_outputs():
            if spec.kind != "figure":
                continue
            png = ROOT / "figures" / f"{spec.id}.png"
            if not png.exists():
                raise self.error(f"registered figure {spec.id!r} has no figures/{spec.id}.png; run make figures")
            env.note_dependency(str(png))
            section = nodes.section(ids=[f"figure-{spec.id}"], names=[spec.id])
            section += nodes.title(text=spec.title)
            para = nodes.paragraph()
            para += nodes.Text("Output id ")
            para += nodes.literal(text=spec.id)
            para += nodes.Text(f"; inputs: {', '.join(spec.inputs) or 'none'}.")
            section += para
            # image URIs are relative to the document (docs/gallery.md)
            section += nodes.image(uri=f"../figures/{spec.id}.png", alt=spec.title, width="640px",
                                   candidates={"*": f"../figures/{spec.id}.png"})
            out.append(section)
        if not out:
            raise self.error("no registered figure found")
        return out


def _escape_bars(app, what, name, obj, options, lines):  # noqa: ANN001, ARG001
    """Docstrings write set sizes as ``|E_t|``; in reST that is a substitution. Escape the bars
    outside grid tables and literal text so the formulas show as written."""
    for i, line in enumerate(lines):
        stripped = line.strip()
        if "|" not in line or stripped.startswith("+") or (stripped.startswith("|") and stripped.endswith("|")):
            continue
        parts = line.split("``")  # odd parts are inline literals: leave them alone
        lines[i] = "``".join(part.replace("|", "\\|") if k % 2 == 0 else part
                             for k, part in enumerate(parts))


def setup(app):  # noqa: ANN001, ANN201
    app.connect("autodoc-process-docstring", _escape_bars)
    app.add_directive("catalogue-table", CatalogueTable)
    app.add_directive("figure-gallery", FigureGallery)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
