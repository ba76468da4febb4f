"""Central validation of options (keyword arguments), in the manner of pyfixest.

Every public function checks its options through :func:`check_choice` so that a wrong
value always gives the same kind of error (:class:`~msme_stats.errors.OptionError`) with
the allowed values listed.
"""

from __future__ import annotations

import math
import typing as _typing
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from .errors import OptionError


def check_choice(
    name: str,
    value: Any,
    choices: Iterable[Any],
    *,
    aliases: Mapping[Any, Any] | None = None,
) -> Any:
    """Return ``value`` (or what its alias maps to) if allowed, else raise OptionError.

    Parameters
    ----------
    name
        Name of the option, used in the message.
    value
        The value passed by the user.
    choices
        Allowed canonical values.
    aliases
        Optional map of accepted alternative spellings to canonical values
        (for example R names of Stata options).
    """
    choices = list(choices)
    if aliases and value in aliases:
        return aliases[value]
    if value in choices:
        return value
    allowed = ", ".join(repr(c) for c in choices)
    if aliases:
        allowed += " (aliases: " + ", ".join(f"{k!r}->{v!r}" for k, v in aliases.items()) + ")"
    raise OptionError(f"{name}={value!r} is not allowed; use one of {allowed}.")


def as_list(value: str | Iterable[str] | None) -> list[str]:
    """Turn ``None``, a single string or an iterable of strings into a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


# --------------------------------------------------------------------------------------
# one vocabulary for the WBES expansion weights (load_wbes, estimate, svyset, svy_*)
# --------------------------------------------------------------------------------------
#: canonical weight names -> the WBES variable holding them. ``"median"`` is the official
#: weight. The WBES variable names are accepted as aliases everywhere
#: (``"wmedian"``, ``"wstrict"``, ``"wweak"``).
WEIGHT_VARS: dict[str, str] = {"median": "wmedian", "strict": "wstrict", "weak": "wweak"}
WEIGHT_ALIASES: dict[str, str] = {v: k for k, v in WEIGHT_VARS.items()}


def canonical_weight(name: Any) -> str | None:
    """``"strict"`` for ``"strict"`` or ``"wstrict"`` (etc.); None if not a weight name."""
    if not isinstance(name, str):
        return None
    key = name.strip().lower()
    if key in WEIGHT_VARS:
        return key
    return WEIGHT_ALIASES.get(key)


def resolve_weight_column(data: Any, weight: Any, *, who: str) -> str | None:
    """The column of ``data`` that holds the weight asked for.

    ``weight`` is a column name (used as is when ``data`` has it), one of the weight names
    ``"median"``/``"strict"``/``"weak"`` or their WBES aliases ``"wmedian"``/``"wstrict"``/
    ``"wweak"`` (the same vocabulary as :func:`msme_stats.load_wbes`), or None (unweighted).
    A weight name maps to the ``weight`` column when the frame was loaded with that weight
    (``data.attrs["weight_var"]``), else to the WBES variable itself when the frame carries
    it (``load_wbes(keep=["wstrict"])``); otherwise an :class:`OptionError` says how to get it.
    """
    if weight is None:
        return None
    if not isinstance(weight, str):
        raise OptionError(f"{who}: weight={weight!r} must be a column name, a weight name "
                          f"({', '.join(map(repr, WEIGHT_VARS))}) or None.")
    cols = data.columns
    if weight in cols:
        return weight
    canon = canonical_weight(weight)
    if canon is None:  # a column name that is missing: the caller lists every missing column
        return weight
    var = WEIGHT_VARS[canon]
    attrs = getattr(data, "attrs", {}) or {}
    if attrs.get("weight_var") == var and "weight" in cols:
        return "weight"
    if var in cols:
        return var
    loaded = attrs.get("weight_var")
    raise OptionError(
        f"{who}: weight={weight!r} asks for the WBES weight {var!r}, but the frame "
        + (f"was loaded with {loaded!r} " if loaded else "")
        + f"has no {var!r} column. Reload with msme_stats.load_wbes(..., weights={canon!r}) or "
        f"keep=[{var!r}]."
    )


def format_code(value: Any) -> str:
    """Text of a code with every digit it has (never fewer: ``1000045.0`` -> ``"1000045"``).

    Integer-valued floats lose only their ``.0``; other floats use the shortest repr that
    round-trips (``repr``), unlike ``f"{v:g}"`` (6 significant digits), which merges codes
    such as 1000045 and 1000046 into ``"1e+06"``.
    """
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        if v.is_integer():
            return str(int(v))
        return repr(v)
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def check_number(
    name: str,
    value: Any,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = True,
    high_open: bool = False,
) -> float:
    """A finite real number inside the given interval, else OptionError (bools and NaN refused)."""
    ok = isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool | np.bool_)
    v = float(value) if ok else math.nan
    if ok and math.isfinite(v):
        if low is not None and (v <= low if low_open else v < low):
            ok = False
        if high is not None and (v >= high if high_open else v > high):
            ok = False
    else:
        ok = False
    if not ok:
        lo_b = "(" if low_open else "["
        hi_b = ")" if high_open else "]"
        interval = f"{lo_b}{low if low is not None else '-inf'}, {high if high is not None else 'inf'}{hi_b}"
        raise OptionError(f"{name}={value!r} is not allowed; use a finite number in {interval}.")
    return v


# --------------------------------------------------------------------------------------
# Literal option types (sources, reference, tables): the allowed values of an option are
# derived from its type with :func:`choices`, so the signature, the check and the docs agree
# --------------------------------------------------------------------------------------
#: ``load_wbes(weights=)``: the expansion weight (see :data:`WEIGHT_VARS`).
WbesWeight = _typing.Literal["median", "strict", "weak"]
#: ``load_wbes(size_scheme=)``: size class from the sampling stratum or from employees.
WbesSizeScheme = _typing.Literal["a6a", "l1"]
#: ``load_wbes(below5=)``: firms with fewer than 5 employees kept as micro or counted as small.
WbesBelow5 = _typing.Literal["separate", "merge_small"]
#: ``load_wbes(isic_revision=)``: revision of the ISIC codes used when the sector label is missing.
IsicRevision = _typing.Literal["3.1", "4"]
#: ``tec_url(fmt=)`` / ``download_tec(fmt=)``: the download format.
TecFormat = _typing.Literal["sdmx-csv", "tsv"]
#: ``to_iso3(scheme=)``: how country values are read.
CountryScheme = _typing.Literal["auto", "iso3", "iso2", "numeric", "name", "eurostat"]
#: ``to_iso3(errors=)``: unknown values raise or become missing.
CountryErrors = _typing.Literal["raise", "coerce"]
#: ``publication_table(uncertainty=)``: standard error or confidence interval (None: neither).
Uncertainty = _typing.Literal["se", "ci"]

# --------------------------------------------------------------------------------------
# Literal option types of the survey estimators (svyset, svy_*, SurveyDesign) and of the
# charts (msme_stats.plots); aliases (other spellings, e.g. R names of Stata options) have
# their own type and a map to the canonical value
# --------------------------------------------------------------------------------------
#: ``svyset(lonely_psu=)``: single-firm strata, Stata ``singleunit()`` names.
LonelyPsu = _typing.Literal["scaled", "centered", "certainty", "fail"]
#: R ``options(survey.lonely.psu=)`` names accepted for ``lonely_psu``.
LonelyPsuAlias = _typing.Literal["average", "adjust", "remove"]
LONELY_PSU_ALIASES: dict[str, str] = {"average": "scaled", "adjust": "centered", "remove": "certainty"}
#: ``svyset(domain_mode=)``: domains as subpopulations of the full design, or a re-declared design.
DomainMode = _typing.Literal["full_design", "drop"]
#: ``svyset(adjust_center=)``: centre of ``lonely_psu="centered"`` (R survey >= 4.3 or <= 4.2).
AdjustCenter = _typing.Literal["grand", "zero"]
#: ``svyset(ci_df=)``: t quantile with the design df, or the normal quantile.
CiDf = _typing.Literal["design", "normal"]
#: ``svy_*(ci_method=)``: the interval method (which applies depends on the estimator).
CiMethod = _typing.Literal["wald", "logit", "korn_graubard"]
#: other spellings of ``ci_method`` (R ``svyciprop(method="beta")``, ...).
CiMethodAlias = _typing.Literal["beta", "kg", "mean"]
CI_METHOD_ALIASES: dict[str, str] = {"beta": "korn_graubard", "kg": "korn_graubard", "mean": "wald"}
#: ``svyset(deff=)``: the simple-random-sampling variance of the design effect.
DeffSrs = _typing.Literal["without_replacement", "with_replacement"]
#: other spellings of ``deff`` (R ``deff=TRUE`` and ``deff="replace"``).
DeffAlias = _typing.Literal[True, "replace"]
DEFF_ALIASES: dict[Any, str] = {True: "without_replacement", "replace": "with_replacement"}
#: ``svy_contrast(kind=)``: the statistic compared between the two domains.
ContrastKind = _typing.Literal["mean", "proportion", "ratio", "total"]
#: ``bars_by_size(orient=)``: vertical, horizontal or chosen from the labels.
BarOrient = _typing.Literal["auto", "v", "h"]
#: ``direct_vs_indirect(kind=)``: the two channels stacked or side by side.
ChannelLayout = _typing.Literal["stacked", "side"]
#: ``country_dots(sort=)``: rank of the economies.
DotSort = _typing.Literal["descending", "ascending", "none"]
#: ``country_dots(reference=)``: a statistic of the plotted values (or a number).
ReferenceStat = _typing.Literal["mean", "median"]
#: ``vintage_change(sort=)``: row order of the dumbbells.
VintageSort = _typing.Literal["end", "start", "change", "none"]


def choices(option_type: Any) -> tuple[Any, ...]:
    """The allowed values of a ``Literal`` option type, in order (``typing.get_args``).

    >>> choices(Uncertainty)
    ('se', 'ci')
    """
    values = _typing.get_args(option_type)
    if not values:
        raise TypeError(f"{option_type!r} is not a Literal type with values.")
    return values


# --- indicators, aggregation and tables options ---
# (the allowed values of each option are derived from its type with :func:`choices`)
#: ``list_indicators(family=)``: the catalogue family.
IndicatorFamily = _typing.Literal["es", "tec", "edd"]
#: ``estimate(partial_missing=)``: export shares with one of d3b/d3c missing.
PartialMissing = _typing.Literal["strict", "known_component"]
#: ``cross_country_average(weighting=)``: weights of the country estimates in the average.
Weighting = _typing.Literal["simple", "n_firms", "sum_weight"]
#: ``headline_sme_vs_large(aggregation=)``: how the WTR 2016 headline is aggregated (METHODS 2.8).
HeadlineAggregation = _typing.Literal["country_mean", "sales_weighted", "pooled", "pooled_sales", "exporters_only"]
#: ``compare_published(family=)``: which published targets are compared.
TargetFamily = _typing.Literal["es", "tec"]
#: ``tec_cross_country_average(aggregation=)``: simple mean of country ratios or one pooled ratio.
TecAggregation = _typing.Literal["country_mean", "pooled"]
#: ``year_rule="latest"`` (TEC): each country's latest year with an estimate (else an int or a range).
YearRuleName = _typing.Literal["latest"]
#: ``tec_cross_country_average(year_rule=)``: ``"latest"``, one year, or a ``(start, end)`` range.
YearRule = YearRuleName | int | tuple[int, int]
#: ``tec_indicators(tec_denominator=)``: the TOTAL cell or the sum of the four size classes.
TecDenominator = _typing.Literal["total", "sum_of_classes"]
#: ``tec_indicators(out_of_range=)``: a share outside [0, 100] is flagged or raises.
OutOfRange = _typing.Literal["flag", "raise"]
#: ``size_class(scheme=)``: the size-class scheme.
SizeScheme = _typing.Literal["a6a", "l1", "oecd", "bins"]
#: ``sme_group(micro=)``: WBES micro firms (fewer than 5 employees) join the SMEs or stay apart.
MicroRule = _typing.Literal["sme", "separate"]
#: ``sector_class(source=)``: the sector from the a4a label, the ISIC code, or the label then ISIC.
SectorSource = _typing.Literal["label_then_isic", "label", "isic"]
#: ``PublicationTable.write(formats=)``: the file formats of a publication table.
TableFormat = _typing.Literal["csv", "xlsx", "tex", "md", "html", "dta"]
#: ``PublicationTable.to_stata(version=)``: the .dta format version (pandas ``to_stata``).
StataVersion = _typing.Literal[114, 117, 118, 119]

# --- exporter dynamics and customs options ---
#: ``exporter_dynamics(engine=)`` / ``load_transactions(engine=)``: where the reduction runs.
DynamicsEngine = _typing.Literal["pandas", "dask", "duckdb"]
#: ``exporter_dynamics(period=)`` / ``load_transactions(period=)``: the period grain.
PeriodGrain = _typing.Literal["year", "quarter", "month"]
#: ``exporter_dynamics(exit_convention=)``: exiters of t leave after t-1 (A) or after t (B).
ExitConvention = _typing.Literal["A", "B"]
#: ``exporter_dynamics(incumbent_def=)``: incumbents of t.
IncumbentDef = _typing.Literal["continuing", "excl_prev_entrants"]
#: ``exporter_dynamics(survival_index=)``: survival rates labelled by the survival or the entry period.
SurvivalIndex = _typing.Literal["t", "cohort"]
#: ``exporter_dynamics(survival_rule=)``: present in every period since entry, or in the last one.
SurvivalRule = _typing.Literal["continuous", "present"]
#: ``exporter_dynamics(growth=)``: growth as a fraction or a log difference.
Growth = _typing.Literal["pct", "log"]
#: ``exporter_dynamics(d1_denominator=)``: products (partners) of t or of t-1.
D1Denominator = _typing.Literal["current", "previous"]
#: ``exporter_dynamics(d6_rule=)``: survival of all products (partners) or of the new ones.
D6Rule = _typing.Literal["all", "new"]
#: ``exporter_dynamics(top_share_k=)``: rounding of the top-q % count.
TopShareK = _typing.Literal["ceil", "round", "floor"]
#: ``exporter_dynamics(placeholder_ids=)``: placeholder ids raise or are dropped.
PlaceholderIds = _typing.Literal["error", "drop"]
#: ``exporter_dynamics(quantile_method=)``: numpy quantile methods (Hyndman-Fan types).
QuantileMethod = _typing.Literal[
    "averaged_inverted_cdf", "inverted_cdf", "closest_observation", "interpolated_inverted_cdf",
    "hazen", "weibull", "linear", "median_unbiased", "normal_unbiased", "lower", "higher",
    "midpoint", "nearest",
]
#: ``load_transactions(short_hs=)``: HS codes that lost digits are restored, rejected or dropped.
ShortHs = _typing.Literal["restore", "error", "drop"]
