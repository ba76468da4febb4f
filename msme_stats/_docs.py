"""Shared docstring pieces, in the manner of seaborn's ``_docstrings``.

A docstring names a shared piece by a placeholder standing alone on its line, ``{where}``;
a filler made by :func:`doc_filler` replaces it by the text of the piece, indented like the
placeholder, so the rendered numpydoc (and the Sphinx API page) reads as if written out.
Only whole-line placeholders are replaced; other braces in a docstring (format strings such
as ``"{:.1f}"``) are left alone. An unknown placeholder is an error at import time.

:data:`PARAMS` holds the pieces of the estimation and TEC functions (the design keywords
of :func:`msme_stats.estimate` and :func:`msme_stats.contrast`, the options shared by
:func:`msme_stats.tec_indicators`, :func:`msme_stats.tec_cross_country_average` and
:func:`msme_stats.tec_compare_published`); :mod:`msme_stats.plots._docs` holds the chart
pieces and fills them with the same mechanism.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable, Mapping
from typing import TypeVar

F = TypeVar("F", bound=Callable[..., object])

_PLACEHOLDER = re.compile(r"^(?P<indent>[ \t]*)\{(?P<name>\w+)\}[ \t]*$", re.MULTILINE)


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def doc_filler(pieces: Mapping[str, str]) -> Callable[[F], F]:
    """A decorator replacing the whole-line ``{name}`` placeholders of a docstring by ``pieces``."""

    def fill(func: F) -> F:
        doc = func.__doc__ or ""

        def piece(match: re.Match[str]) -> str:
            name = match.group("name")
            if name not in pieces:
                raise KeyError(f"{func.__qualname__}: no shared docstring piece {name!r}")
            return _indent(pieces[name], match.group("indent"))

        func.__doc__ = _PLACEHOLDER.sub(piece, doc)
        return func

    return fill


def fill_pieces(**pieces: str) -> Callable[[F], F]:
    """A decorator filling a docstring's placeholders from ``pieces``, each of which must be used.

    For long sections written once next to their function (``load_wbes`` parameters, the
    ``publication_table`` examples): a piece without its placeholder, or a placeholder
    without its piece, raises ``KeyError`` at import time, so a docstring is never
    published half-filled.
    """
    filler = doc_filler({k: textwrap.dedent(v).strip("\n") for k, v in pieces.items()})

    def fill(func: F) -> F:
        used = {m.group("name") for m in _PLACEHOLDER.finditer(func.__doc__ or "")}
        unused = sorted(set(pieces) - used)
        if unused:
            raise KeyError(f"{func.__qualname__}: no {{{unused[0]}}} line in the docstring")
        return filler(func)

    return fill


#: numpydoc text of each parameter shared by several estimation or TEC functions
PARAMS: dict[str, str] = {
    "firms": """\
firms
    Canonical firm frame from :func:`msme_stats.load_wbes` (one row per firm of the
    full design: keep every firm, restrict with ``by``/``where``), or a
    :class:`~msme_stats.survey.SurveyDesign` from :func:`msme_stats.svyset` (its
    conventions are used; the design options below then cannot be given). Repeated
    ``(survey_id, firm_id)`` rows raise :class:`~msme_stats.errors.DuplicateIdError`.""",
    "by_domains": """\
by
    Grouping columns, e.g. ``["survey_id", "size_class", "sector"]``. ``"sme_group"``
    (SME = small + medium vs large) is derived from ``size_class`` when asked for.
    Domains are estimated on the full design (R ``svyby``, Stata ``subpop()``).""",
    "where": """\
where
    A boolean mask with the frame's index (``firms.sector == "manufacturing"``) or a query
    string evaluated on the frame (``"sector == 'manufacturing'"``): a subpopulation kept
    in the design with zero scores outside (Stata ``subpop()``). Anything else (a text
    column such as ``firms.sector``, a mask with another index) raises.""",
    "threshold": """\
threshold
    Exporter threshold in % of sales for TR16/TR17 and trader types (default 10); a finite
    number in (0, 100] (0 or less would make every firm an exporter; NaN raises).""",
    "partial_missing": """\
partial_missing
    ``"strict"`` or ``"known_component"`` (see :class:`~msme_stats.indicators.es.Conventions`).""",
    "manufacturing_only": """\
manufacturing_only
    Restrict indicators whose catalogue scope is ``manufacturing`` (TR8, TR11, trader
    types) to manufacturing firms (default True; METHODS 2.5). False uses all firms.""",
    "design_options": """\
The design and its conventions (defaults as :func:`msme_stats.svyset`: ``weight``
``"weight"``, which also accepts the weight names ``"median"``/``"strict"``/``"weak"``
or ``"wmedian"``/``"wstrict"``/``"wweak"``; ``lonely_psu="scaled"`` = Stata
``singleunit(scaled)`` = R ``"average"``; ``domain_mode="full_design"`` = R
``svyby(..., na.rm=TRUE)`` = Stata ``subpop()``).""",
    "tec_business_counts": """\
business_counts
    Frame from :func:`msme_stats.load_business_counts`: denominators of
    ``export_participation_rate`` (parameter ``participation_denominator`` of METHODS §6).""",
    "tec_denominator": """\
tec_denominator
    ``"total"`` (default; TOTAL, which includes unknown-size trade, as in the OECD
    definitions) or ``"sum_of_classes"`` (micro + small + medium + large as published).
    Recorded in the output. No Stata/R equivalent (a TEC convention, METHODS §3.5).""",
    "tec_participation_activity": """\
participation_activity
    Activity code of ``business_counts`` matching the TEC activity (a code, or a mapping
    TEC code -> business-count code); None = the same code.""",
    "tec_out_of_range": """\
out_of_range
    What to do with a share (unit ``%``) outside [0, 100], which no consistent
    table can give (e.g. SME classes published above the total after rounding, or TEC
    exporters above the business register count): ``"flag"`` (default) sets ``status``
    to ``"out_of_range"``, ``estimate`` to NaN and names the value in ``flags``, with an
    :class:`~msme_stats.errors.ExclusionWarning` giving the count; ``"raise"`` raises
    :class:`~msme_stats.errors.InvalidValueError`. The implicit unknown-size shares are
    residuals (TOTAL minus the classes) and may be negative; they keep their value and
    are flagged ``classes exceed TOTAL``.""",
    "tec_countries": """\
countries
    ISO3 codes (or source ``geo`` codes) to keep; None = all with data.""",
    "tec_year_rule": """\
year_rule
    ``"latest"`` (default: per country, the latest year with a non-missing estimate),
    an int (that year only) or ``(start, end)`` (one result per year in the range).""",
    "tec_complete_cells_only": """\
complete_cells_only
    Keep only cells where TOTAL and all four size classes are published
    (``implicit_unknown_share`` not NaN), as in the METHODS §3.6 sanity band.""",
}

#: fill the placeholders of a docstring from :data:`PARAMS`
fill_doc = doc_filler(PARAMS)
