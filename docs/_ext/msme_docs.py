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
from docutils.statemachine import StringList

ROOT = Path(__file__).resolve().parents[2]


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "/")


class CatalogueTable(Directive):
    """``.. catalogue-table:: msme_stats/reference/indicators.csv`` with ``:columns: a, b``."""

    required_arguments = 1
    option_spec = {"columns": directives.unchanged_required, "headers": directives.unchanged}

    def run(self) -> list[nodes.Node]:
        path = ROOT / self.arguments[0]
        env = self.state.document.settings.env
        env.note_dependency(str(path))
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        cols = [c.strip() for c in self.options["columns"].split(",")]
        missing = [c for c in cols if rows and c not in rows[0]]
        if missing:
            raise self.error(f"{path.name} has no column(s) {missing}")
        headers = [h.strip() for h in self.options.get("headers", ",".join(cols)).split(",")]
        lines = [".. list-table::", "   :header-rows: 1", ""]
        lines.append("   * - " + headers[0])
        lines += [f"     - {h}" for h in headers[1:]]
        for r in rows:
            first = _cell(r[cols[0]]) or "—"
            lines.append(f"   * - ``{first}``")
            lines += [f"     - {_cell(r[c]) or '—'}" for c in cols[1:]]
        node = nodes.container()
        self.state.nested_parse(StringList(lines, source=str(path)), self.content_offset, node)
        return node.children


class FigureGallery(Directive):
    """Every registered figure of the build registry, with its title and id."""

    has_content = False

    def run(self) -> list[nodes.Node]:
        from msme_stats.build import load_output_modules, registered_outputs

        load_output_modules()
        specs = registered_outputs()
        env = self.state.document.settings.env
        docdir = Path(env.doc2path(env.docname)).parent
        lines: list[str] = []
        for spec in specs:
            if spec.kind != "figure":
                continue
            png = ROOT / "figures" / f"{spec.id}.png"
            if not png.exists():
                raise self.error(f"registered figure {spec.id!r} has no figures/{spec.id}.png; run make figures")
            rel = Path("..") / png.relative_to(ROOT) if docdir == ROOT / "docs" else png
            lines += [f"{spec.title}", "~" * max(len(spec.title), 3), "",
                      f"Output id ``{spec.id}`` (module ``{spec.module}``, inputs: {', '.join(spec.inputs) or 'none'}).", "",
                      f".. image:: {rel.as_posix()}", f"   :alt: {spec.title}", "   :width: 640px", ""]
        node = nodes.section()
        node.document = self.state.document
        self.state.nested_parse(StringList(lines), self.content_offset, node, match_titles=True)
        return node.children


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
