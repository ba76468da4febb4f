"""Cross-country averages and the published-versus-recomputed comparison.

Input: tidy estimates (from :func:`msme_stats.estimate`) with one row per survey or
country-year and domain. Output: tidy averages over countries, by country group, with the
number of countries and firms behind each value.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from .._deprecate import _NOT_GIVEN, renamed_option
from .._options import HeadlineAggregation, TargetFamily, Weighting, as_list, check_choice, choices
from ..errors import ExclusionWarning, MissingColumnsError, OptionError
from ..reference import reference_path

logger = logging.getLogger(__name__)

_STAT_COLUMNS = {
    "estimate", "se", "ci_low", "ci_high", "df", "n", "sum_weight", "n_lonely_strata", "flags", "unit",
    "numerator", "denominator", "tec_denominator", "implicit_unknown_share", "variable",
    "cv", "deff", "lonely_share", "top_firm_share",
}
_GROUP_TYPES = ("wto_development", "income", "ldc", "wb_region", "region")


def _with_country_year(est: pd.DataFrame) -> pd.DataFrame:
    est = est.copy()
    if "country" not in est.columns or "year" not in est.columns:
        if "survey_id" not in est.columns:
            raise MissingColumnsError(
                "cross_country_average needs 'country' and 'year' columns, or a 'survey_id' like 'KEN_2018' "
                "to derive them. Estimate with by=['survey_id', ...] or by=['country', 'year', ...]."
            )
        parts = est["survey_id"].astype(str).str.extract(r"^(?P<c>[A-Z]{3})_(?P<y>\d{4})$")
        if parts.isna().any().any():
            bad = est.loc[parts["c"].isna(), "survey_id"].astype(str).unique()[:3]
            raise MissingColumnsError(f"survey_id values {list(bad)} are not of the form 'ISO_YYYY'.")
        if "country" not in est.columns:
            est["country"] = parts["c"]
        if "year" not in est.columns:
            est["year"] = parts["y"].astype(int)
    est["country"] = est["country"].astype(str)
    est["year"] = est["year"].astype(int)
    return est


def _group_labels(est: pd.DataFrame, group: str) -> pd.Series:
    if group in est.columns:
        return est[group]
    from ..reference import country_groups

    return pd.Series(np.asarray(country_groups(est["country"], est["year"], group_type=group), dtype=object), index=est.index)


def cross_country_average(
    estimates: pd.DataFrame,
    *,
    by: str | Sequence[str] | None = None,
    latest_only: bool = True,
    posting_window: tuple[int, int] | None = None,
    weighting: Weighting = "simple",
    level: float = 0.95,
    group_by: str | Sequence[str] | None = _NOT_GIVEN,
) -> pd.DataFrame:
    """Average country estimates the way the Enterprise Surveys and the WTR do.

    Parameters
    ----------
    estimates
        Tidy estimates with ``country`` and ``year`` (or ``survey_id`` such as
        ``"KEN_2018"``), ``estimate`` and ``se``, and any other key columns
        (``indicator``, ``size_class``, ``sme_group``, ``sector``, ...). With no
        ``by``, one average is computed for each combination of those other columns.
    by
        Country groups: a column of ``estimates``, or a year-aware group type from
        :func:`msme_stats.reference.country_groups` (``"wto_development"``, ``"income"``,
        ``"ldc"``, ``"wb_region"``), evaluated at each survey's year.
    latest_only
        Keep each economy's latest survey only (default; ES "Explore Economies" rule,
        METHODS 2.7), chosen per indicator and domain among surveys with an estimate.
    posting_window
        ``(first, last)`` survey years to consider (METHODS 2.7 ``posting_window``; the ES
        website uses surveys from 2013-2023 in its current release). ``None`` keeps all.
    weighting
        ``"simple"`` (default): the unweighted mean of country estimates, the WBES and WTR
        convention. ``"n_firms"``: weighted by the number of firms behind each estimate.
        ``"sum_weight"``: weighted by the estimated number of establishments (close to a
        pooled estimate, so large economies dominate).
    level
        Confidence level for the normal-approximation interval of the average.
    group_by
        Deprecated alias of ``by`` (the name :func:`msme_stats.estimate` uses for grouping
        columns); it still works for one release, with a :class:`DeprecationWarning`.

    Returns
    -------
    pandas.DataFrame
        Key columns, group columns, then ``estimate`` (the average), ``se`` (assuming
        independent country samples: ``sqrt(sum(a_c^2 se_c^2))`` with ``a_c`` the
        normalised weights, i.e. ``sqrt(sum se_c^2) / C`` for the simple mean; a package
        convention, not a World Bank rule), ``ci_low``, ``ci_high``, ``n_countries``,
        ``n_firms``, ``year_min``, ``year_max``, ``countries`` and ``unit``.

    Raises
    ------
    MissingColumnsError
        Neither ``country``/``year`` nor a ``survey_id`` of the form ``ISO_YYYY``.
    OptionError
        ``weighting`` is not allowed, both ``by`` and ``group_by`` are given, or no
        estimate is left to average (for example outside ``posting_window``).
    MsmeStatsError
        Propagated from :func:`msme_stats.reference.country_groups` when ``by`` names a
        group type and a country code is unknown.

    Stata/R equivalent
    ------------------
    The default is Stata ``collapse (mean) estimate, by(indicator sme_group)`` on the latest
    survey per country (R ``aggregate(estimate ~ indicator + sme_group, data, mean)``);
    ``weighting="n_firms"`` is ``collapse (mean) estimate [aw=n]``.

    Examples
    --------
    Kenya's 2013 survey replaces its 2007 one; the average is over Ghana and Kenya:

    >>> est = pd.DataFrame({"survey_id": ["KEN_2007", "KEN_2013", "GHA_2013"], "indicator": "TR5",
    ...                     "estimate": [10.0, 12.0, 6.0], "se": [1.0, 2.0, 1.5], "n": [300, 400, 350]})
    >>> avg = cross_country_average(est)
    >>> avg[["indicator", "estimate", "se", "n_countries", "n_firms", "countries"]]
      indicator  estimate    se  n_countries  n_firms countries
    0       TR5       9.0  1.25            2      750   GHA,KEN
    >>> round(float(cross_country_average(est, weighting="n_firms")["estimate"].iloc[0]), 2)
    9.2
    """
    by = renamed_option("cross_country_average", "group_by", group_by, "by", by)
    weighting = check_choice("weighting", weighting, choices(Weighting))
    est = _with_country_year(estimates)
    groups = as_list(by)
    for g in groups:
        est[g] = _group_labels(est, g)
    keys = [c for c in est.columns if c not in _STAT_COLUMNS and c not in {"country", "year", "survey_id", *groups}]
    use = _country_estimates(est, keys, latest_only=latest_only, posting_window=posting_window)
    gcols = [*groups, *keys]
    if not gcols:  # no key column: one average over all countries
        use = use.assign(_all=0)
    by_cols = gcols or ["_all"]
    out = _weighted_country_mean(use, by_cols, weighting=weighting, level=level)
    if "unit" in use.columns:
        units = use.groupby(by_cols, dropna=False, observed=True, sort=True)["unit"].first().reset_index(drop=True)
        out["unit"] = units.to_numpy()
    if not gcols:
        out = out.drop(columns="_all")
    out.attrs["params"] = {
        "by": groups, "latest_only": latest_only, "posting_window": posting_window,
        "weighting": weighting, "level": level, "se_rule": "independent countries",
    }
    return out


def _country_estimates(
    est: pd.DataFrame, keys: list[str], *, latest_only: bool, posting_window: tuple[int, int] | None
) -> pd.DataFrame:
    """The country estimates to average: inside the posting window, not missing, latest per economy.

    Estimates outside the window are logged; missing ones are counted in an
    :class:`~msme_stats.errors.ExclusionWarning`; raises when none is left.
    """
    valid = est["estimate"].notna()
    if posting_window is not None:
        lo, hi = posting_window
        inside = est["year"].between(lo, hi)
        n_out = int((~inside & valid).sum())
        if n_out:
            logger.info("cross_country_average: %d estimate(s) outside the posting window %s left out", n_out, posting_window)
        valid &= inside
    n_nan = int(est["estimate"].isna().sum())
    if n_nan:
        warnings.warn(
            f"cross_country_average: {n_nan} country estimate(s) are missing (no firms in the domain) and are "
            "not averaged.", ExclusionWarning, stacklevel=3,
        )
    use = est[valid].copy()
    if latest_only and len(use):
        last = use.groupby([*keys, "country"], dropna=False, observed=True)["year"].transform("max")
        use = use[use["year"] == last]
    if use.empty:
        raise OptionError("cross_country_average: no country estimate left to average (check posting_window).")
    return use


def _weighted_country_mean(use: pd.DataFrame, gcols: list[str], *, weighting: str, level: float) -> pd.DataFrame:
    """Weighted mean of the country estimates per group, its SE (independent countries) and CI."""
    if weighting == "simple":
        use["_a"] = 1.0
    elif weighting == "n_firms":
        use["_a"] = use["n"].astype(float)
    else:
        use["_a"] = use["sum_weight"].astype(float)
    use["_asum"] = use.groupby(gcols, dropna=False, observed=True)["_a"].transform("sum")
    use["_an"] = use["_a"] / use["_asum"]
    use["_ae"] = use["_an"] * use["estimate"]
    use["_av"] = (use["_an"] * use["se"]) ** 2 if "se" in use.columns else np.nan
    grouped = use.groupby(gcols, dropna=False, observed=True, sort=True)
    out = grouped.agg(
        estimate=("_ae", "sum"),
        _var=("_av", lambda v: v.sum(min_count=len(v))),
        n_countries=("country", "nunique"),
        n_firms=("n", "sum") if "n" in use.columns else ("country", "size"),
        year_min=("year", "min"),
        year_max=("year", "max"),
        countries=("country", lambda c: ",".join(sorted(set(c)))),
    ).reset_index()
    from scipy.stats import norm

    q = norm.ppf(0.5 + level / 2)
    pos = list(out.columns).index("_var")  # the aggregated columns are unique
    out.insert(pos, "se", np.sqrt(out.pop("_var")))
    out.insert(pos + 1, "ci_low", out["estimate"] - q * out["se"])
    out.insert(pos + 2, "ci_high", out["estimate"] + q * out["se"])
    return out


#: the aggregation variants of :func:`headline_sme_vs_large` (METHODS 2.8)
Aggregation = HeadlineAggregation
_SALES_SHARE_INDICATORS = ("es_direct_export_intensity", "es_indirect_export_intensity", "es_total_export_intensity")


#: options of :func:`msme_stats.estimate` that are survey conventions (passed to msme_stats.survey)
_SURVEY_OPTIONS = ("weight", "strata", "survey", "domain_mode", "lonely_psu", "adjust_center", "ci_df", "level", "min_n")


def _latest_surveys(firms: pd.DataFrame, posting_window: tuple[int, int] | None) -> pd.Series:
    """Boolean mask of the firms of each economy's latest survey (within the window)."""
    surveys = _with_country_year(pd.DataFrame({"survey_id": firms["survey_id"].astype(str).unique()}))
    if "country" in firms.columns and "year" in firms.columns:
        surveys = firms[["survey_id", "country", "year"]].drop_duplicates()
        surveys = surveys.astype({"survey_id": str, "country": str})
    if posting_window is not None:
        surveys = surveys[surveys["year"].between(*posting_window)]
    latest = surveys[surveys["year"] == surveys.groupby("country")["year"].transform("max")]
    return firms["survey_id"].astype(str).isin(set(latest["survey_id"]))


def headline_sme_vs_large(
    firms: pd.DataFrame,
    *,
    indicators: Sequence[str] = ("es_direct_export_intensity", "es_indirect_export_intensity"),
    sector: str | None = "manufacturing",
    aggregation: Aggregation = "country_mean",
    fx: pd.Series | None = None,
    by: str | Sequence[str] | None = None,
    latest_only: bool = True,
    posting_window: tuple[int, int] | None = None,
    weighting: Weighting = "simple",
    group_by: str | Sequence[str] | None = _NOT_GIVEN,
    **estimate_options,
) -> pd.DataFrame:
    """The WTR 2016 developing-economy headline in one call.

    Definition
    ----------
    With the default ``aggregation="country_mean"``: for each survey, the
    ``wmedian``-weighted mean of the firm-level indicator for SMEs (``a6a`` small + medium,
    5-99 employees) and large firms (100+), among ``sector`` firms (a subpopulation on the
    full design); then the simple mean over countries of each economy's latest survey. This
    is how "SMEs export 7.6% of manufacturing sales vs 14.1% for large firms" (direct) and
    2.4% (indirect) are produced. The other variants of METHODS 2.8 (all ``assumption``;
    the 2022 update's 11% vs 32% is not reproduced by the default and may use one of them):

    * ``"sales_weighted"``: within each survey the ratio of totals
      sum(w * d2 * share) / sum(w * d2) over firms with ``d2 > 0``; simple mean of countries.
    * ``"exporters_only"``: ``"country_mean"`` restricted to firms with ``d3c > 0``.
    * ``"pooled"``: one Hajek mean over all firms of the selected surveys (expansion
      weights, so large economies dominate); no cross-country step.
    * ``"pooled_sales"``: one ratio sum(w * d2/fx * share) / sum(w * d2/fx) over all firms
      of the selected surveys, with ``fx`` (a Series indexed by ``survey_id``: local
      currency units per unit of the common currency) converting sales.

    Sales-based variants apply to the export-intensity indicators (% of sales) only.

    Source
    ------
    WTR 2016 Section B key facts (ref_ids WTR2016_DEV_SME_MANUF_EXPSHARE,
    WTR2016_DEV_LARGE_MANUF_EXPSHARE, WTR2016_DEV_SME_MANUF_INDIRECT); METHODS 2.6-2.8.

    Parameters
    ----------
    firms
        Canonical firm frame of several surveys (:func:`msme_stats.load_wbes`).
    indicators
        Catalogue ids, World Bank codes or aliases (default: direct and indirect export
        intensity).
    sector
        Sector of the firms compared (a subpopulation on the full design); None = all.
    aggregation
        ``"country_mean"`` (default), ``"sales_weighted"``, ``"exporters_only"``,
        ``"pooled"`` or ``"pooled_sales"`` (see Definition).
    fx
        Exchange rates by ``survey_id`` (``pooled_sales`` only).
    by, latest_only, posting_window, weighting
        As in :func:`cross_country_average` (not used by the pooled variants, except
        ``latest_only``/``posting_window``, which select the surveys pooled).
    group_by
        Deprecated alias of ``by``.
    **estimate_options
        Options of :func:`msme_stats.estimate` (``weight``, ``lonely_psu``, ...); the design
        options are also used for the differences (:func:`msme_stats.contrast`).

    Returns
    -------
    pandas.DataFrame
        As :func:`cross_country_average`, with ``indicator`` and ``sme_group`` columns; the
        pooled variants give ``estimate``, ``se``, ``ci_low``, ``ci_high`` (design-based, all
        surveys in one design), ``n_countries`` and ``n_firms``. ``attrs["params"]`` records
        the aggregation. Every variant adds the SME minus large ``difference`` with its
        ``difference_se`` and ``difference_p_value``.

    Raises
    ------
    OptionError
        ``aggregation`` or another option is not allowed; a sales-based variant asked for an
        indicator that is not a % of sales; ``pooled_sales`` without ``fx`` or with a survey
        missing from it.
    UnknownIndicatorError
        An indicator is not in the catalogue.
    MsmeStatsError
        Propagated from :func:`msme_stats.estimate`, :func:`msme_stats.contrast` and
        :func:`cross_country_average` (missing columns, invalid values, design errors).

    Stata/R equivalent
    ------------------
    Per survey Stata ``svy, subpop(manuf): mean d3c, over(sme)`` (R ``svyby``), then
    ``collapse (mean)`` over the latest survey of each country.

    Examples
    --------
    Two synthetic surveys bundled with the package (``data/wbes_synthetic``):

    >>> import warnings
    >>> import msme_stats as ms
    >>> from msme_stats._paths import data_dir
    >>> files = [data_dir() / "wbes_synthetic" / f"{s}_synthetic.dta" for s in ("KEN_2013", "GHA_2013")]
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # load_wbes reports its recodes of missing codes
    ...     firms = ms.load_wbes(files)
    >>> h = headline_sme_vs_large(firms, indicators=["TR5"])
    >>> h[["sme_group", "estimate", "se", "n_countries", "difference", "difference_se"]].round(1)
      sme_group  estimate   se  n_countries  difference  difference_se
    0       SME       8.8  1.5            2        -9.3            2.9
    1     large      18.0  2.5            2        -9.3            2.9
    """
    from ..indicators import resolve_indicator

    by = renamed_option("headline_sme_vs_large", "group_by", group_by, "by", by)
    aggregation = check_choice("aggregation", aggregation, choices(HeadlineAggregation))
    ids = [resolve_indicator(i) for i in indicators]
    scope = _headline_scope(firms, sector=sector, aggregation=aggregation, latest_only=latest_only,
                            posting_window=posting_window)
    pooled = aggregation in ("pooled", "pooled_sales")
    params = {"aggregation": aggregation, "sector": sector}
    if aggregation in ("country_mean", "exporters_only", "pooled"):
        est, diffs = _design_estimates(firms, ids, scope, pooled=pooled, estimate_options=estimate_options)
        params.update(est.attrs["params"])
    else:
        est, diffs = _sales_estimates(firms, ids, scope, aggregation=aggregation, fx=fx,
                                      estimate_options=estimate_options)
    if pooled:
        return _pooled_headline(firms, scope, est, diffs, params)
    avg = cross_country_average(
        est, by=by, latest_only=latest_only, posting_window=posting_window, weighting=weighting
    )
    avg = _with_difference(avg, diffs, by=by, latest_only=latest_only,
                           posting_window=posting_window, weighting=weighting)
    avg.attrs["params"] = {**params, **avg.attrs["params"], "difference": _DIFFERENCE_NOTE}
    return avg


def _headline_scope(
    firms: pd.DataFrame, *, sector: str | None, aggregation: str, latest_only: bool,
    posting_window: tuple[int, int] | None,
) -> pd.Series:
    """Firms of the headline: the sector, exporters (``exporters_only``), latest surveys (pooled)."""
    scope = pd.Series(True, index=firms.index)
    if sector is not None:
        scope &= firms["sector"].astype(object) == sector
    if aggregation == "exporters_only":
        scope &= firms["direct_export_pct"] > 0
    if aggregation in ("pooled", "pooled_sales") and latest_only:
        scope &= _latest_surveys(firms, posting_window)
    return scope


def _design_estimates(
    firms: pd.DataFrame, ids: list[str], scope: pd.Series, *, pooled: bool, estimate_options: dict,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """SME and large estimates (:func:`msme_stats.estimate`) and their differences (:func:`msme_stats.contrast`)."""
    from ..indicators import contrast, estimate

    by = ["sme_group"] if pooled else ["survey_id", "sme_group"]
    est = estimate(firms, ids, by=by, where=scope, **estimate_options)
    copts = {k: v for k, v in estimate_options.items() if k in _CONTRAST_OPTIONS}
    diffs = pd.concat([
        contrast(firms, ind, between="sme_group", levels=("SME", "large"),
                 by=None if pooled else "survey_id", where=scope, **copts)
        for ind in ids
    ], ignore_index=True)
    return est, diffs


def _sales_estimates(
    firms: pd.DataFrame, ids: list[str], scope: pd.Series, *, aggregation: str, fx: pd.Series | None,
    estimate_options: dict,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sales-weighted SME and large ratios (``sales_weighted``, ``pooled_sales``) and their differences."""
    from .. import survey as svy
    from ..indicators import _working_frame
    from ..indicators.es import DERIVATIONS, Conventions

    bad = [i for i in ids if i not in _SALES_SHARE_INDICATORS]
    if bad:
        raise OptionError(f"aggregation={aggregation!r} applies to % of sales indicators only, not {bad}.")
    sales = _sales(firms, scope, aggregation=aggregation, fx=fx)
    pooled = aggregation == "pooled_sales"
    by = ["sme_group"] if pooled else ["survey_id", "sme_group"]
    work = _working_frame(firms, by, ["weight", "strata", "survey_id"])
    parts, dparts = [], []
    for ind in ids:
        share = DERIVATIONS[ind](firms, Conventions()).y
        work["__y"] = (sales * share / 100.0).to_numpy()
        work["__x"] = sales.to_numpy()
        survey_options = {k: v for k, v in estimate_options.items() if k in _SURVEY_OPTIONS}
        r = svy.svy_ratio(work, "__y", "__x", by=by, where=scope & (sales > 0), scale=100.0, **survey_options)
        r.insert(0, "indicator", ind)
        parts.append(r)
        c = svy.svy_contrast(
            work, "__y", x="__x", kind="ratio", between="sme_group", levels=("SME", "large"),
            by=None if pooled else "survey_id", where=scope & (sales > 0), scale=100.0,
            **{k: v for k, v in survey_options.items() if k in _CONTRAST_OPTIONS},
        ).drop(columns="variable")
        c.insert(0, "indicator", ind)
        dparts.append(c)
    est = pd.concat(parts, ignore_index=True)
    diffs = pd.concat(dparts, ignore_index=True)
    est["unit"] = "%"
    return est, diffs


def _sales(firms: pd.DataFrame, scope: pd.Series, *, aggregation: str, fx: pd.Series | None) -> pd.Series:
    """Firm sales, converted to the common currency with ``fx`` for ``pooled_sales``."""
    sales = firms["sales"].astype(float)
    if aggregation == "pooled_sales":
        if fx is None:
            raise OptionError(
                "aggregation='pooled_sales' needs fx=: a Series indexed by survey_id giving local currency "
                "units per unit of a common currency (for example LCU per USD in the survey's fiscal year)."
            )
        rate = firms["survey_id"].astype(str).map(fx)
        missing = sorted(set(firms.loc[rate.isna() & scope, "survey_id"].astype(str)))
        if missing:
            raise OptionError(f"fx has no rate for survey(s) {missing[:10]}; add them to fx.")
        sales = sales / rate
    return sales


def _pooled_headline(
    firms: pd.DataFrame, scope: pd.Series, est: pd.DataFrame, diffs: pd.DataFrame, params: dict,
) -> pd.DataFrame:
    """The pooled headline: one design-based estimate per group with its SME - large difference."""
    n_countries = int(firms.loc[scope, "survey_id"].astype(str).str[:3].nunique())
    out = est.drop(columns=[c for c in ("df", "sum_weight", "n_lonely_strata") if c in est.columns])
    out = out.rename(columns={"n": "n_firms"}).assign(n_countries=n_countries)
    d = diffs[["indicator", "difference", "se", "p_value"]].rename(
        columns={"se": "difference_se", "p_value": "difference_p_value"})
    out = out.merge(d, on="indicator", how="left")
    out.attrs["params"] = {**params, "difference": _DIFFERENCE_NOTE_POOLED}
    return out


#: options of estimate() that contrast() also takes
_CONTRAST_OPTIONS = ("weight", "strata", "survey", "domain_mode", "lonely_psu", "adjust_center", "ci_df", "level",
                     "min_n", "threshold", "partial_missing", "manufacturing_only")
_DIFFERENCE_NOTE = (
    "difference = SME minus large: the same average over countries of each survey's design-based "
    "difference (msme_stats.contrast, cross-domain covariance included), over the surveys with both "
    "groups; difference_se assumes independent country samples; difference_p_value is the two-sided "
    "normal test of no difference."
)
_DIFFERENCE_NOTE_POOLED = (
    "difference = SME minus large on the pooled design (msme_stats.contrast), with its design-based "
    "SE and two-sided p-value (t with the design df)."
)


def _with_difference(avg: pd.DataFrame, diffs: pd.DataFrame, **average_options) -> pd.DataFrame:
    """Add ``difference`` (SME - large), ``difference_se``, ``difference_p_value`` and
    ``difference_n_countries`` to the cross-country headline, repeated on each row of an indicator."""
    from scipy.stats import norm

    cols = ["difference", "difference_se", "difference_p_value", "difference_n_countries"]
    d = diffs.dropna(subset=["difference"])
    d = d[["indicator", "survey_id", "difference", "se", "n_a", "n_b"]].rename(columns={"difference": "estimate"})
    d["n"] = d.pop("n_a") + d.pop("n_b")
    if d.empty:
        return avg.assign(**{c: np.nan for c in cols})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExclusionWarning)
        dav = cross_country_average(d, **average_options)
    keys = [c for c in dav.columns if c in avg.columns and c not in _STAT_COLUMNS
            and c not in {"n_countries", "n_firms", "year_min", "year_max", "countries"}]
    dav = dav.rename(columns={"estimate": "difference", "se": "difference_se", "n_countries": "difference_n_countries"})
    dav["difference_p_value"] = 2 * norm.sf(np.abs(dav["difference"] / dav["difference_se"]))
    return avg.merge(dav[keys + cols], on=keys, how="left")


def published_values(reference_values: str | os.PathLike | pd.DataFrame | None = None) -> pd.DataFrame:
    """Published statistics with their sources, indexed by ``ref_id``.

    Reads ``data/published_reference_values/reference_values.csv`` (hand-compiled from WTO,
    Eurostat, US Census and Statistics Canada publications; pass another path or frame with
    ``reference_values``) and the package's ``reference/published_values_extra.csv`` (values
    that are not in that file, e.g. the 2022 updates). Both have the columns ``ref_id,
    source, source_url, geo, year, indicator, breakdown, value, unit, basis, notes``;
    values are kept as text so their rounding (the tolerance) is known.

    Parameters
    ----------
    reference_values
        Path of a ``reference_values.csv``, or a frame with its columns; None = the
        repository's ``data/published_reference_values/reference_values.csv``.

    Returns
    -------
    pandas.DataFrame
        One row per ``ref_id`` (the first where a ``ref_id`` repeats), text columns.

    Raises
    ------
    UnreadableFileError
        The file does not exist.

    Examples
    --------
    >>> pv = published_values()
    >>> pv.loc["WTR2016_DEV_SME_MANUF_EXPSHARE", ["value", "unit", "year"]].tolist()
    ['7.6', 'percent', '2016 report']
    """
    from .._paths import data_dir
    from ..errors import UnreadableFileError
    from ..reference import read_reference

    if isinstance(reference_values, pd.DataFrame):
        refs = reference_values.astype(str)
    else:
        path = Path(reference_values) if reference_values is not None else (
            data_dir() / "published_reference_values" / "reference_values.csv")
        if not path.is_file():
            raise UnreadableFileError(
                f"{path}: published reference values not found; pass reference_values= the path of "
                "published_reference_values/reference_values.csv (shipped in the repository's data/)."
            )
        refs = pd.read_csv(path, dtype=str, keep_default_na=False)
    extra = read_reference("published_values_extra.csv").astype(str)
    both = pd.concat([refs, extra], ignore_index=True)
    return both.drop_duplicates("ref_id").set_index("ref_id")


@cache
def _targets() -> pd.DataFrame:
    return pd.read_csv(reference_path("published_targets.csv"), keep_default_na=False)


def published_targets() -> pd.DataFrame:
    """Published WTR 2016 and 2022 values with the recomputation that matches each.

    Returns
    -------
    pandas.DataFrame
        ``target_id``, ``ref_id_2016`` and ``ref_id_2022`` (rows of
        :func:`published_values`), ``family``, ``description``, ``indicator``, ``filters``
        (``col=value;...``), ``source``, ``tag``.

    Raises
    ------
    None
        In normal use: the targets are a file of the package
        (``reference/published_targets.csv``); a broken installation without it raises
        ``FileNotFoundError``.

    Examples
    --------
    >>> t = published_targets().set_index("target_id")
    >>> t.loc["wtr16_direct_export_intensity_manuf_sme", ["indicator", "filters"]].tolist()
    ['es_direct_export_intensity', 'sme_group=SME']
    """
    return _targets().copy()


def compare_published(
    recomputed: pd.DataFrame,
    *,
    family: TargetFamily | None = None,
    tolerance: float | None = None,
    reference_values: str | os.PathLike | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Put published values, their 2022 update and recomputed values side by side.

    Parameters
    ----------
    recomputed
        Cross-country averages (from :func:`cross_country_average`,
        :func:`headline_sme_vs_large` or the TEC averages) with an ``indicator`` column
        and the key columns named in the targets' ``filters``.
    family
        Restrict to ``"es"`` or ``"tec"`` targets.
    tolerance
        Half a unit of the published value's last digit by default (INDICATORS 0.4).
    reference_values
        Where the published values are read from (see :func:`published_values`).

    Returns
    -------
    pandas.DataFrame
        One row per target: ``target_id``, ``description``, ``published_2016``,
        ``update_2022``, ``recomputed``, ``se``, ``n_countries``, ``diff_2016``,
        ``within_rounding_2016``, ``source`` and ``tag``. Targets with no matching row in
        ``recomputed`` have a missing ``recomputed``.

    Raises
    ------
    OptionError
        ``family`` is not ``"es"``, ``"tec"`` or None.
    UnreadableFileError
        Propagated from :func:`published_values`.

    Examples
    --------
    >>> recomputed = pd.DataFrame({"indicator": "es_direct_export_intensity",
    ...                            "sme_group": ["SME", "large"], "estimate": [7.62, 18.0],
    ...                            "se": [1.5, 2.5], "n_countries": [2, 2]})
    >>> cmp = compare_published(recomputed, family="es")
    >>> print(cmp[["target_id", "published_2016", "recomputed", "within_rounding_2016"]].head(2)
    ...       .to_string(index=False))
                                target_id  published_2016  recomputed  within_rounding_2016
      wtr16_direct_export_intensity_manuf_sme             7.6        7.62                  True
    wtr16_direct_export_intensity_manuf_large            14.1       18.00                 False
    """
    targets = published_targets()
    values = published_values(reference_values)
    if family is not None:
        family = check_choice("family", family, choices(TargetFamily))
    if family:
        targets = targets[targets["family"] == family]
    rows = []
    for t in targets.itertuples(index=False):
        sel = recomputed["indicator"] == t.indicator if "indicator" in recomputed else pd.Series(False, index=recomputed.index)
        for cond in filter(None, str(t.filters).split(";")):
            col, want = cond.split("=", 1)
            if col not in recomputed.columns:
                sel &= False
                continue
            sel &= recomputed[col].astype(str) == want
        hit = recomputed[sel]
        val = float(hit["estimate"].iloc[0]) if len(hit) == 1 else np.nan
        se = float(hit["se"].iloc[0]) if len(hit) == 1 and "se" in hit else np.nan
        ncty = int(hit["n_countries"].iloc[0]) if len(hit) == 1 and "n_countries" in hit else np.nan
        # values has one row per ref_id (published_values drops duplicates): .at gives the text
        text16 = str(values.at[str(t.ref_id_2016), "value"]) if t.ref_id_2016 else ""
        pub = float(text16) if text16 else np.nan
        upd = float(str(values.at[str(t.ref_id_2022), "value"])) if t.ref_id_2022 else np.nan
        tol = tolerance if tolerance is not None else _half_unit(text16)
        rows.append({
            "target_id": t.target_id, "description": t.description, "published_2016": pub,
            "update_2022": upd, "recomputed": val, "se": se, "n_countries": ncty,
            "diff_2016": val - pub, "within_rounding_2016": bool(abs(val - pub) <= tol) if np.isfinite(val - pub) else False,
            "unit": hit["unit"].iloc[0] if len(hit) == 1 and "unit" in hit else "", "source": t.source, "tag": t.tag,
        })
    return pd.DataFrame(rows)


def _half_unit(text: str) -> float:
    if not text:
        return np.nan
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0 ** (-decimals)
