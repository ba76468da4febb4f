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

from . import _options as _o

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



def _values(option_type: object) -> str:
    """``"a"``, ``"b"`` or ``"c"``: the allowed values of a Literal option type, for the docs."""
    vals = [f'"{v}"' if isinstance(v, str) else repr(v) for v in _o.choices(option_type)]
    return ", ".join(f"``{v}``" for v in vals[:-1]) + f" or ``{vals[-1]}``" if len(vals) > 1 else f"``{vals[0]}``"


# --------------------------------------------------------------------------------------
# pieces of msme_stats.survey: the design keywords of svyset (also the ``**design`` of the
# svy_* functions), the estimator options and whole sections; allowed values of an option
# are written from its Literal type (msme_stats._options)
# --------------------------------------------------------------------------------------
_DESIGN_BASIC = f"""\
weight
    Weight column, or a weight name of the package's one vocabulary: ``"median"``,
    ``"strict"``, ``"weak"`` (aliases ``"wmedian"``, ``"wstrict"``, ``"wweak"``), as in
    :func:`msme_stats.load_wbes`. ``None`` = unweighted. Default ``"weight"``.
strata, survey
    Stratum and survey columns (strata made unique per survey). ``None`` = one stratum /
    one survey. Defaults ``"strata"`` and ``"survey_id"``.
firm_id
    Firm id column: repeated ``(survey, firm_id)`` rows raise
    :class:`~msme_stats.errors.DuplicateIdError` (a firm would count twice). Default None.
domain_mode
    {_values(_o.DomainMode)} (default ``"full_design"``): domains as subpopulations of the
    full design (R ``svyby``, Stata ``subpop()``) or a design re-declared on the firms used
    (Stata ``if``); see the module docstring.
lonely_psu
    Single-firm strata, Stata ``singleunit()`` names: {_values(_o.LonelyPsu)} (default
    ``"scaled"``); the R ``survey.lonely.psu`` names {_values(_o.LonelyPsuAlias)} are
    aliases. ``"fail"`` raises :class:`~msme_stats.errors.LonelyStratumError`.
adjust_center
    Centre of ``lonely_psu="centered"``: {_values(_o.AdjustCenter)} (default ``"grand"``,
    R survey >= 4.3; ``"zero"`` is R survey <= 4.2).
ci_df
    {_values(_o.CiDf)} (default ``"design"``): t quantile with the design df (Stata, R
    ``confint(m, df=degf(des))``) or the normal quantile (R ``confint`` default).
level
    Confidence level of the intervals, in (0, 1) (default 0.95).
min_n
    Estimates from fewer firms are flagged ``few_firms`` (default 30, a common publication
    rule of thumb for survey cells; the ES website does not document its own threshold)."""
_DESIGN_MORE = f"""\
deff
    Simple random sampling variance in the ``deff`` column: {_values(_o.DeffSrs)}
    (aliases ``True`` and ``"replace"``). ``"without_replacement"`` (default; R
    ``svymean(..., deff=TRUE)``: s^2 (N_hat - n) / (N_hat n) for a mean, N_hat = sum of
    weights) or ``"with_replacement"`` (R ``deff="replace"``: s^2 / n; Stata ``estat
    effects`` reports both, DEFF and DEFT, with ``srssubpop``). For totals and ratios the
    SRS variance is that of the total of y (resp. of the ratio's residual (y - R x) / X_hat),
    times N_hat^2, as R ``svytotal``/``svyratio``. NaN when the weights sum to no more than
    n (weights not expansion weights), as R.
dominant_share
    ``dominant_firm`` flag: one firm carries more than this share of sum |w y| (the
    numerator of a ratio or share of a total, or a weighted total). Default 0.5.
lonely_threshold
    ``lonely_stratum`` flag: firms of single-firm strata hold more than this share of the
    estimate's sum of squared linearised scores (the part of the variance the design
    cannot estimate and the ``lonely_psu`` rule imputes). Default 0.10. The count of
    single-firm strata touched stays in ``n_lonely_strata`` whatever the share."""
#: the errors of declaring a design (svyset), shared by every estimator
_DESIGN_ERRORS = """\
InvalidWeightError
    Missing, zero, negative or infinite weights.
DesignError
    No rows, or a firm without a stratum or survey.
DuplicateIdError
    A ``(survey, firm_id)`` pair repeats."""
_FORWARDED = """\
**design
    The design keywords below (typed by :class:`~msme_stats.survey.{td}`), passed to
    :func:`~msme_stats.svyset` with its defaults: this function is ``svyset(data,
    **design)`` followed by the :class:`~msme_stats.survey.SurveyDesign` method of the same
    name. An unknown keyword raises ``TypeError``."""
#: numpydoc text of the survey pieces (bundled into whole runs by :func:`_survey_bundles`)
SURVEY_PARAMS: dict[str, str] = {
    "svy_design": _DESIGN_BASIC + "\n" + _DESIGN_MORE,
    "svy_design_forwarded": _FORWARDED.format(td="DesignOptions") + "\n" + _DESIGN_BASIC + "\n" + _DESIGN_MORE,
    "svy_contrast_forwarded": _FORWARDED.format(td="ContrastDesignOptions") + "\n" + _DESIGN_BASIC,
    "svy_design_errors": _DESIGN_ERRORS,
    "svy_data": """\
data
    One row per firm (PSU) of the full design (all surveys, all firms).""",
    "svy_by": """\
by
    None, a column name or a list of columns; one row per observed combination (domain).
    Firms with a missing ``by`` value are in no domain but stay in the design
    (ExclusionWarning with the count); a ``by`` column missing for every firm in scope
    raises InvalidValueError.""",
    "svy_where": """\
where
    None, a boolean Series with ``data``'s index (or a boolean array of ``len(data)``), the
    name of a boolean column, or a query string evaluated on ``data`` like
    :meth:`pandas.DataFrame.eval` (``"sector == 'manufacturing'"``): a scope restriction
    treated as a subpopulation of the full design (Stata ``subpop()``); NaN counts as
    outside (ExclusionWarning). Anything else (a text column, a misaligned Series) raises.""",
    "svy_scale": """\
scale
    Multiplies estimate, SE and CI bounds (100 for percentages; METHODS §1).""",
    "svy_mean_ci": f"""\
ci_method
    {_values(_o.CiMethod)} name the interval methods; a mean or ratio takes ``"wald"``
    (default without ``bounds``) or, with ``bounds``, ``"logit"`` (the default then): the
    bounded interval of the module docstring. Anything else raises OptionError.
bounds
    ``(low, high)`` range of a bounded variable, e.g. ``(0, 100)`` for a percentage: the
    default interval becomes the logit interval of (y_hat - low) / (high - low) (delta
    method, R ``svyciprop(~I(y/100), method="logit")``), which stays inside the bounds;
    values outside the bounds raise InvalidValueError.""",
    "svy_returns": """\
pandas.DataFrame
    ``by`` columns, ``variable`` (when ``y`` is a list), ``estimate``, ``se``, ``ci_low``,
    ``ci_high``, ``df``, ``n``, ``sum_weight``, ``cv`` (se / |estimate|), ``deff``,
    ``n_lonely_strata``, ``lonely_share``, ``top_firm_share`` (ratios and totals), ``flags``;
    options in ``.attrs["params"]``. See the module docstring for the conventions.""",
    "svy_raises": f"""\
MissingColumnsError
    A ``y``, ``x``, ``by`` or design column is not in the frame.
{_DESIGN_ERRORS}
LonelyStratumError
    ``lonely_psu="fail"`` and the estimate touches a single-firm stratum.
InvalidValueError
    Values that are not numbers, infinite, outside ``bounds`` or (proportions) not 0/1;
    a ``where`` mask that is not boolean or not aligned; no firm in scope.
OptionError
    An option value that is not allowed (listing the allowed ones).""",
    "svy_stata_mean": """\
Stata ``svy: mean y, over(by)`` (``svy, subpop(where): mean y`` for ``where``); R
``svymean(~y, design)`` / ``svyby(~y, ~by, design, svymean, na.rm=TRUE)``.""",
    "svy_stata_proportion": """\
Stata ``svy: proportion y, over(by)`` (logit interval; ``citype(exact)`` is close to
``"korn_graubard"``); R ``svyciprop(~y, design, method="logit")`` (``method="beta"``) and
``svyby(~y, ~by, design, svyciprop, vartype="ci")``.""",
    "svy_stata_ratio": """\
Stata ``svy: ratio (y/x), over(by)``; R ``svyratio(~y, ~x, design)`` /
``svyby(~y, ~by, design, svyratio, denominator=~x, na.rm=TRUE)``.""",
    "svy_stata_total": """\
Stata ``svy: total y, over(by)``; R ``svytotal(~y, design)`` /
``svyby(~y, ~by, design, svytotal, na.rm=TRUE)``.""",
    "svy_stata_contrast": """\
Stata ``svy: mean y, over(between)`` then ``lincom _b[a] - _b[b]``; R ``svyby(~y, ~between,
design, svymean, covmat=TRUE)`` then ``svycontrast(b, c(1, -1))``.""",
    "svy_contrast_params": f"""\
y
    The variable (one column; NaN = missing).
between
    Column whose two levels are compared (not one of ``by``).
levels
    ``(a, b)``: the difference is a minus b. Text levels match case-insensitively when
    the match is unique; a level absent from the column raises InvalidValueError.
x
    Denominator column, given exactly when ``kind="ratio"``.
kind
    The statistic compared: {_values(_o.ContrastKind)} (default ``"mean"``;
    ``"proportion"`` checks that ``y`` is 0/1).""",
    "svy_contrast_returns": """\
pandas.DataFrame
    One row per ``by`` group: ``by`` columns, ``variable``, ``between``, ``level_a``,
    ``level_b``, ``estimate_a``, ``estimate_b``, ``difference``, ``se``, ``ci_low``,
    ``ci_high``, ``df``, ``t``, ``p_value``, ``n_a``, ``n_b``, ``n_lonely_strata``,
    ``flags``; options in ``.attrs["params"]``.""",
    "svy_example_firms": """\
>>> import pandas as pd
>>> import msme_stats as ms
>>> firms = pd.DataFrame({
...     "survey_id": "KEN_2018", "strata": [1, 1, 1, 1, 2, 2, 2, 2],
...     "weight": [10.0, 10, 20, 20, 5, 5, 15, 15],
...     "size_class": ["small", "large"] * 4, "exporter": [0, 1, 0, 1, 1, 1, 0, 0],
...     "sales": [100.0, 200, 150, 400, 80, 120, 300, 500],
...     "exports": [0.0, 50, 0, 100, 20, 30, 0, 0]})""",
    "svy_total_ci": """\
ci_method
    ``"wald"`` only (anything else raises OptionError).""",
    "svy_proportion_ci": """\
ci_method
    ``"logit"`` (default), ``"wald"`` or ``"korn_graubard"`` (alias ``"beta"``).""",
    "svy_ratio_share": """\
    ``bounds=(0, 1)`` for a share (numerator part of the denominator) gives the logit
    interval by default.""",
}


def _survey_bundles(p: dict[str, str]) -> dict[str, str]:
    """Whole runs of a survey docstring made of pieces: the options after ``y`` (by, where,
    ci_method, bounds, scale), and the Returns, Raises and Stata/R equivalent sections."""
    def join(*names: str) -> str:
        return "\n".join(p[n] for n in names)

    def sections(returns: str, stata: str) -> str:
        return (f"Returns\n-------\n{p[returns]}\n\nRaises\n------\n{p['svy_raises']}\n\n"
                f"Stata/R equivalent\n------------------\n{p[stata]}")

    bundles = {
    "svy_options_mean": join("svy_by", "svy_where", "svy_mean_ci", "svy_scale"),
    "svy_options_ratio": join("svy_by", "svy_where", "svy_mean_ci", "svy_ratio_share", "svy_scale"),
    "svy_options_proportion": join("svy_proportion_ci", "svy_by", "svy_where", "svy_scale"),
    "svy_options_total": join("svy_by", "svy_where", "svy_total_ci", "svy_scale"),
    "svy_options_contrast": join("svy_contrast_params", "svy_by", "svy_where", "svy_scale"),
    }
    for name in ("mean", "proportion", "ratio", "total"):
        bundles[f"svy_sections_{name}"] = sections("svy_returns", f"svy_stata_{name}")
    bundles["svy_sections_contrast"] = sections("svy_contrast_returns", "svy_stata_contrast")
    bundles["svy_example_design"] = p["svy_example_firms"] + "\n>>> des = ms.svyset(firms)"
    return bundles


SURVEY_PARAMS.update(_survey_bundles(SURVEY_PARAMS))
PARAMS.update(SURVEY_PARAMS)

#: fill the placeholders of a docstring from :data:`PARAMS`
fill_doc = doc_filler(PARAMS)
