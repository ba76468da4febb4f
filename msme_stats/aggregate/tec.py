"""Cross-country aggregation of TEC indicators, change over time and the published comparison.

Input: the tidy per country-year frame of :func:`msme_stats.tec_indicators`. Output: tidy
averages over countries (simple country mean or pooled ratio), changes between two reference
years, and the WTR 2016 / WTO 2022 published values beside the recomputed ones. The WBES
counterparts are in :mod:`msme_stats.aggregate.es`; both share the option names ``countries``,
``aggregation`` and ``year_rule`` where the concepts are the same.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from .._docs import fill_doc
from .._options import (
    TecAggregation,
    TecDenominator,
    YearRule,
    YearRuleName,
    as_list,
    check_choice,
    choices,
)
from ..errors import (
    DuplicateIdError,
    InvalidValueError,
    MissingColumnsError,
    MsmeStatsError,
    OptionError,
    UnknownCodeError,
    UnreadableFileError,
)
from ..indicators.tec import _RESIDUALS, _plain, _row_label, tec_indicators

logger = logging.getLogger(__name__)

_GROUP = ["indicator", "flow", "partner", "activity", "size_class", "tec_denominator", "unit"]


@fill_doc
def tec_cross_country_average(
    estimates: pd.DataFrame,
    *,
    countries: Sequence[str] | None = None,
    year_rule: YearRule = "latest",
    aggregation: TecAggregation = "country_mean",
    exclude_aggregates: bool = True,
    complete_cells_only: bool = False,
) -> pd.DataFrame:
    """Average TEC indicators across countries (simple mean or pooled ratio).

    Definition
    ----------
    METHODS §3.5 (cross-country aggregation, parameter ``aggregation``).

    Source
    ------
    WTR 2016 Section B ("on average"); METHODS §3.6 for the pooled variant.

    Parameters
    ----------
    estimates
        Frame from :func:`tec_indicators`.
    {tec_countries}
    {tec_year_rule}
    aggregation
        ``"country_mean"`` (default): (1/C) Σ_c estimate_c, the simple mean of country ratios
        (WTR style; like Stata ``collapse (mean)`` over countries). ``"pooled"``:
        Σ_c numerator_c / Σ_c denominator_c (one ratio over all countries; needs one
        currency, checked on ``numerator_unit``).
    exclude_aggregates
        Drop aggregates (``EU``) and sub-national units (``UKN``) (``is_country`` False).
    {tec_complete_cells_only}

    Returns
    -------
    pandas.DataFrame
        Columns ``indicator, flow, partner, activity, size_class, tec_denominator, unit,
        aggregation, year_rule, year, year_min, year_max, estimate, numerator, denominator,
        n_countries, countries, n_missing, se, ci_low, ci_high``. ``year`` is set for an int
        or range rule and NaN for ``"latest"``. ``n_missing`` counts countries in the set
        whose estimate is NaN for the year(s) considered (excluded, not imputed).
        ``numerator``/``denominator`` are the pooled sums (pooled only). ``se`` etc. are NaN.

    Raises
    ------
    OptionError
        ``estimates`` is not a DataFrame, or ``aggregation``/``year_rule`` is not allowed.
    MissingColumnsError
        ``estimates`` lacks a cell column, ``country``, ``year``, ``estimate`` (or, for
        ``"pooled"``, ``numerator``/``denominator``).
    InvalidValueError
        Pooled ratios over several currencies, or non-numeric values.
    DuplicateIdError
        Two rows hold the same indicator cell, country and year (a country would count twice).
    UnknownCodeError
        A code of ``countries`` is not in the estimates.

    Stata/R equivalent
    ------------------
    ``"country_mean"``: Stata ``collapse (mean) estimate, by(indicator flow size_class)``
    on the selected country-years, R ``aggregate(estimate ~ indicator + size_class, data,
    mean)``. ``"pooled"``: ``collapse (sum) numerator denominator`` then the ratio.

    Examples
    --------
    >>> import msme_stats as ms
    >>> from msme_stats._paths import data_dir
    >>> tec = ms.load_tec(data_dir() / "tec_samples" / "ext_tec01_synthetic.tsv")  # bundled specimen
    >>> res = ms.tec_indicators(tec, "msme_share_export_value")
    >>> avg = tec_cross_country_average(res, year_rule=2018)
    >>> avg[["indicator", "year", "estimate", "n_countries", "n_missing"]].round(1)
                     indicator  year  estimate  n_countries  n_missing
    0  msme_share_export_value  2018      46.7           18          2
    """
    aggregation = check_choice("aggregation", aggregation, choices(TecAggregation))
    if not isinstance(estimates, pd.DataFrame):
        raise OptionError("tec_cross_country_average: estimates must be a DataFrame from "
                          f"msme_stats.tec_indicators, not {type(estimates).__name__}.")
    year_rule = _year_rule_option(year_rule)
    need = [*_GROUP, "country", "year", "estimate"]
    missing = [c for c in need if c not in estimates.columns]
    if aggregation == "pooled":
        missing += [c for c in ("numerator", "denominator") if c not in estimates.columns]
    if missing:
        raise MissingColumnsError(f"tec_cross_country_average: estimates lack {missing}.")
    _check_estimates(estimates, aggregation)
    est = _select_estimates(estimates, countries=countries, year_rule=year_rule,
                            exclude_aggregates=exclude_aggregates,
                            complete_cells_only=complete_cells_only)
    per_year = not (isinstance(year_rule, str))
    rows = _average_rows(est, per_year=per_year, aggregation=aggregation, year_rule=year_rule)
    cols = [*_GROUP, "aggregation", "year_rule", "year", "year_min", "year_max", "estimate",
            "numerator", "denominator", "n_countries", "countries", "n_missing"]
    out = pd.DataFrame(rows, columns=[c for c in cols if c != "year"] + (["year"]
                                                                           if per_year else []))
    if not per_year:
        out["year"] = np.nan
    out["se"] = np.nan
    out["ci_low"] = np.nan
    out["ci_high"] = np.nan
    return out.loc[:, [*cols, "se", "ci_low", "ci_high"]]


def _select_estimates(
    est: pd.DataFrame, *, countries: Sequence[str] | None, year_rule: YearRule,
    exclude_aggregates: bool, complete_cells_only: bool,
) -> pd.DataFrame:
    """Rows of :func:`tec_cross_country_average`: countries only, the chosen ones, complete cells, years."""
    if exclude_aggregates and "is_country" in est.columns:
        n_agg = int((~est["is_country"].astype(bool)).sum())
        if n_agg:
            logger.info("tec_cross_country_average: %d rows of aggregates/sub-national units "
                        "excluded", n_agg)
        est = est[est["is_country"].astype(bool)]
    if countries is not None:
        wanted = set(as_list(countries))
        geo = est["geo"] if "geo" in est.columns else est["country"]
        known = set(est["country"]) | set(geo)
        absent = sorted(str(c) for c in wanted - known)
        if absent:
            raise UnknownCodeError(
                f"tec_cross_country_average: countries {absent} are not in the estimates "
                f"(after exclude_aggregates={exclude_aggregates}); present: "
                f"{sorted(set(est['country']))}. Use ISO3 codes or the source geo codes.")
        est = est[est["country"].isin(wanted) | geo.isin(wanted)]
    if complete_cells_only:
        est = est[est["implicit_unknown_share"].notna()]
    if isinstance(year_rule, str):
        pass
    elif isinstance(year_rule, tuple):
        est = est[est["year"].between(year_rule[0], year_rule[1])]
    else:
        est = est[est["year"] == int(year_rule)]
    return est


def _average_rows(
    est: pd.DataFrame, *, per_year: bool, aggregation: str, year_rule: YearRule,
) -> list[dict]:
    """One row per indicator cell (and year): the country mean or pooled ratio, and the countries."""
    ok = est[est["estimate"].notna()]
    bad = est[est["estimate"].isna()]
    rows = []
    gcols = [*_GROUP, "year"] if per_year else _GROUP
    if not per_year:
        idx = ok.groupby([*_GROUP, "country"], sort=False)["year"].idxmax()
        ok = ok.loc[idx]
    for gkey, g in ok.groupby(gcols, sort=True):
        keyd = dict(zip(gcols, gkey, strict=True))
        if aggregation == "pooled":
            if "numerator_unit" in g.columns and g["numerator_unit"].nunique() > 1:
                raise InvalidValueError(
                    f"pooled {keyd['indicator']}: numerators are in several units "
                    f"{sorted(g['numerator_unit'].unique())}; convert to one currency first "
                    "(parameter fx) or use aggregation='country_mean'.")
            scale = 100.0 if keyd["unit"] == "%" else 1.0
            num, den = g["numerator"].sum(), g["denominator"].sum()
            value = num / den * scale if den else np.nan
        else:
            num = den = np.nan
            value = g["estimate"].mean()
        sel = bad
        for c in gcols:
            sel = sel[sel[c] == keyd[c]]
        n_missing = int(len(set(sel["country"]) - set(g["country"])))
        rows.append({**keyd, "aggregation": aggregation, "year_rule": str(year_rule),
                     "year_min": int(g["year"].min()), "year_max": int(g["year"].max()),
                     "estimate": value, "numerator": num, "denominator": den,
                     "n_countries": int(g["country"].nunique()),
                     "countries": ",".join(sorted(g["country"].unique())),
                     "n_missing": n_missing})
    return rows


def _year_rule_option(year_rule: Any) -> YearRule:
    """'latest', an integer year or (start, end) with start <= end; anything else raises."""
    def is_int(v):
        return isinstance(v, int | np.integer) and not isinstance(v, bool)

    if isinstance(year_rule, str):
        return check_choice("year_rule", year_rule, choices(YearRuleName))
    if is_int(year_rule):
        return int(year_rule)
    if isinstance(year_rule, tuple | list) and len(year_rule) == 2 and all(
            is_int(v) for v in year_rule) and year_rule[0] <= year_rule[1]:
        return (int(year_rule[0]), int(year_rule[1]))
    raise OptionError(
        f"year_rule={year_rule!r}: give 'latest', an integer year (e.g. 2021) or (start, end) "
        "with two integer years, start <= end.")


def _check_estimates(est: pd.DataFrame, aggregation: str) -> None:
    """Estimates a census share cannot take are refused (the frame was altered)."""
    e = pd.to_numeric(est["estimate"], errors="coerce")
    bad_type = e.isna() & est["estimate"].notna()
    if bad_type.any():
        pos = int(np.flatnonzero(bad_type.to_numpy())[0])
        raise InvalidValueError(
            f"tec_cross_country_average: column 'estimate' must be numeric; "
            f"{_row_label(est, pos)} holds {_plain(est['estimate'].iloc[pos])!r}.")
    arr = e.to_numpy(dtype=float)
    pct = (est["unit"] == "%").to_numpy()
    with np.errstate(invalid="ignore"):
        bad = np.isinf(arr) | (pct & ~est["indicator"].isin(_RESIDUALS).to_numpy()
                               & ((arr < 0) | (arr > 100)))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(
            f"tec_cross_country_average: {int(bad.sum())} estimate(s) are infinite or shares "
            f"outside [0, 100]; first {_row_label(est, pos)} = {float(arr[pos])!r}. Use the frame "
            "returned by tec_indicators (which flags such cells as out_of_range).")
    if aggregation == "pooled":
        for col in ("numerator", "denominator"):
            v = pd.to_numeric(est[col], errors="coerce").to_numpy(dtype=float)
            with np.errstate(invalid="ignore"):
                badv = np.isinf(v) | (v < 0) | (np.isnan(v) & est[col].notna().to_numpy())
            if badv.any():
                pos = int(np.flatnonzero(badv)[0])
                raise InvalidValueError(
                    f"tec_cross_country_average: pooled aggregation needs {col} >= 0 and "
                    f"finite; {_row_label(est, pos)} holds {est[col].iloc[pos]!r}.")
    key = [*_GROUP, "country", "year"]
    dup = est.duplicated(key, keep=False)
    if dup.any():
        rows = est[dup]
        raise DuplicateIdError(
            f"tec_cross_country_average: {int(dup.sum())} rows share indicator, cell, "
            f"country and year (first: {_row_label(rows, 0)}, at rows "
            f"{list(rows.index[:5])}); a country would count twice. Drop the duplicates or "
            "keep one source/breakdown per country.")


def change_between(estimates: pd.DataFrame, start: int, end: int) -> pd.DataFrame:
    """Change of each indicator between two reference years (``*_change``).

    Definition
    ----------
    x_{c,end} - x_{c,start} per country and indicator cell.

    Source
    ------
    WTO 2022 update ("MSME shares of export and import values grew"), INDICATORS §5.

    Parameters
    ----------
    estimates
        Frame from :func:`tec_indicators`.
    start, end
        Reference years.

    Returns
    -------
    pandas.DataFrame
        Columns ``country, indicator, flow, partner, activity, size_class, tec_denominator,
        unit, start, end, estimate_start, estimate_end, change, change_unit,
        crosses_series_break, status``. ``change`` = estimate_end - estimate_start
        (percentage points for shares); NaN if either end is NaN. ``crosses_series_break`` is
        True when start < 2022 <= end (size basis changed to employees plus self-employed).

    Raises
    ------
    OptionError
        ``estimates`` is not a DataFrame or ``start``/``end`` is not an integer year.
    InvalidValueError
        ``start`` or ``end`` is not a year of the estimates.

    Examples
    --------
    >>> import msme_stats as ms
    >>> from msme_stats._paths import data_dir
    >>> tec = ms.load_tec(data_dir() / "tec_samples" / "ext_tec01_synthetic.tsv")  # bundled specimen
    >>> res = ms.tec_indicators(tec, "msme_share_export_value")
    >>> ch = change_between(res, 2016, 2022)
    >>> aut = ch.query("country == 'AUT'")
    >>> aut[["estimate_start", "estimate_end", "change"]].round(1)
       estimate_start  estimate_end  change
    0            45.0          43.6    -1.4
    >>> aut["change_unit"].iloc[0], bool(aut["crosses_series_break"].iloc[0])
    ('percentage points', True)
    """
    from ..sources.tec import series_break_year

    if not isinstance(estimates, pd.DataFrame):
        raise OptionError("change_between: estimates must be a DataFrame from "
                          f"msme_stats.tec_indicators, not {type(estimates).__name__}.")
    for name, y in (("start", start), ("end", end)):
        if isinstance(y, bool) or not isinstance(y, int | np.integer):
            raise OptionError(f"change_between: {name}={y!r} must be an integer year.")
        if "year" in estimates.columns and not (estimates["year"] == y).any():
            raise InvalidValueError(
                f"change_between: {name}={y} is not a year of the estimates; years present: "
                f"{sorted(int(v) for v in pd.unique(estimates['year']))}.")
    keys = ["country", "indicator", "flow", "partner", "activity", "size_class",
            "tec_denominator", "unit"]
    a = estimates[estimates["year"] == start][[*keys, "estimate", "status"]]
    b = estimates[estimates["year"] == end][[*keys, "estimate", "status"]]
    m = a.merge(b, on=keys, how="outer", suffixes=("_start", "_end"))
    m["start"] = start
    m["end"] = end
    m["change"] = m["estimate_end"] - m["estimate_start"]
    m["change_unit"] = np.where(m["unit"] == "%", "percentage points", m["unit"])
    brk = series_break_year()
    m["crosses_series_break"] = (min(start, end) < brk) and (max(start, end) >= brk)
    m["status"] = np.where(m["change"].notna(), "ok", "missing")
    return m[[*keys, "start", "end", "estimate_start", "estimate_end", "change",
              "change_unit", "crosses_series_break", "status"]]


def _read_csv_ref(name: str) -> pd.DataFrame:
    ref = resources.files("msme_stats.reference").joinpath(name)
    with ref.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@fill_doc
def tec_compare_published(
    tec: pd.DataFrame,
    *,
    business_counts: pd.DataFrame | None = None,
    countries: Sequence[str] | None = None,
    year_rule: YearRule = "latest",
    tec_denominator: TecDenominator = "total",
    activity: str = "TOTAL",
    participation_activity: str | Mapping[str, str] | None = None,
    complete_cells_only: bool = False,
    reference_values: str | Path | pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Published WTR 2016 / WTO 2022 TEC values against values recomputed from ``tec``.

    Targets are listed in ``msme_stats/reference/tec_targets.csv``: 34 % (MSME share of
    exports, WTR 2016), 78 % (MSME share of exporters), 9/38/59/66 % (export participation
    by size; needs ``business_counts``), 36 % / 41 % (2022 update, MSME share of exports /
    imports). Values come from ``reference_values.csv`` (WTR 2016) or
    ``published_values_extra.csv`` (the others; sources in the file).

    Definition
    ----------
    recomputed = :func:`tec_cross_country_average` of the target indicator; both
    ``aggregation="country_mean"`` and ``"pooled"`` are reported.

    Source
    ------
    WTO, World Trade Report 2016, Section B key facts; WTO MSME page (2022 update, as copied
    at icsb.org); INDICATORS §4.4-4.6 and §5.

    Parameters
    ----------
    tec
        Frame from :func:`msme_stats.load_tec`.
    {tec_business_counts}
        Participation targets are NaN without counts.
    {tec_countries}
    {tec_year_rule}
    {tec_denominator}
    activity
        Activity code (NACE/ISIC) of the recomputation, as in :func:`tec_indicators`
        (parameter ``activity_scope``; ``"TOTAL"`` = all activities).
    {tec_participation_activity}
    {tec_complete_cells_only}
    reference_values
        Path or frame of ``reference_values.csv``; default: looked up next to the package.

    Returns
    -------
    pandas.DataFrame
        One row per target and aggregation: ``target_id, ref_id, indicator, size_class,
        flow, published, tolerance, basis, aggregation, recomputed, difference,
        within_tolerance, n_countries, year_min, year_max, tec_denominator, activity,
        year_rule, source, note``. Tolerance: half a unit of the last published digit
        (INDICATORS §0.4).

    Raises
    ------
    UnreadableFileError
        The published values file is not found, or lacks a target's ``ref_id``.
    OptionError
        ``reference_values`` is neither a path nor a frame, or an option is not allowed.
    UnknownCodeError
        A code of ``countries`` is not in the data.
    MsmeStatsError
        Propagated from :func:`msme_stats.tec_indicators` and
        :func:`tec_cross_country_average` (invalid TEC frames).

    Examples
    --------
    The bundled specimen is synthetic, so its values are not the published ones:

    >>> import msme_stats as ms
    >>> from msme_stats._paths import data_dir
    >>> tec = ms.load_tec(data_dir() / "tec_samples" / "ext_tec01_synthetic.tsv")  # bundled specimen
    >>> cmp = tec_compare_published(tec)
    >>> cmp[["target_id", "published", "aggregation", "recomputed"]].head(2).round(1)
                           target_id  published   aggregation  recomputed
    0  wtr16_msme_export_value_share       34.0  country_mean        46.3
    1  wtr16_msme_export_value_share       34.0        pooled        45.0
    """
    targets = _read_csv_ref("tec_targets.csv")
    published = _published(reference_values)
    ids = sorted(set(targets["indicator"]))
    if business_counts is None:
        ids = [i for i in ids if i != "export_participation_rate"]
    est = tec_indicators(tec, ids, business_counts=business_counts,
                         tec_denominator=tec_denominator, activity=activity,
                         participation_activity=participation_activity)
    _check_countries(est, countries)
    year_rule = _year_rule_option(year_rule)
    rows = []
    for t in targets.itertuples(index=False):
        if t.ref_id not in published.index:
            raise UnreadableFileError(f"published value {t.ref_id!r} not found in "
                                      "reference_values.csv or published_values_extra.csv.")
        rows.extend(_target_rows(
            # published_values drops duplicate ref_ids, so .loc gives one row (a Series)
            t, cast(pd.Series, published.loc[str(t.ref_id)]), est, countries=countries, year_rule=year_rule,
            complete_cells_only=complete_cells_only, no_counts=business_counts is None,
            tec_denominator=tec_denominator, activity=activity))
    return pd.DataFrame(rows)


def _published(reference_values: str | Path | pd.DataFrame | None) -> pd.DataFrame:
    """Published values (:func:`~msme_stats.aggregate.es.published_values`), checked for the columns used."""
    from .es import published_values

    if reference_values is not None and not isinstance(reference_values, str | Path
                                                       | pd.DataFrame):
        raise OptionError(f"reference_values must be a path or a DataFrame, not "
                          f"{type(reference_values).__name__}.")
    if isinstance(reference_values, pd.DataFrame):
        absent = [c for c in ("ref_id", "value", "basis", "source")
                  if c not in reference_values.columns]
        if absent:
            raise MissingColumnsError(
                f"reference_values frame lacks column(s) {absent}; expected the columns of "
                "published_reference_values/reference_values.csv.")
    try:
        published = published_values(reference_values)
        missing = [c for c in ("value", "basis", "source") if c not in published.columns]
        if missing:
            what = "frame" if isinstance(reference_values, pd.DataFrame) else \
                repr(str(reference_values))
            raise MissingColumnsError(
                f"reference values {what} lack column(s) {missing}; expected the columns of "
                "published_reference_values/reference_values.csv.")
    except MsmeStatsError:
        raise
    except (OSError, ValueError, KeyError, UnicodeDecodeError) as exc:
        raise UnreadableFileError(
            f"cannot read the published reference values {str(reference_values)!r}: {exc}. "
            "Pass the path of published_reference_values/reference_values.csv.") from exc
    return published


def _check_countries(est: pd.DataFrame, countries: Sequence[str] | None) -> None:
    """Raise :class:`UnknownCodeError` for a country (ISO3 or geo code) absent from the estimates."""
    if countries is not None:
        known = set(est["country"]) | set(est.get("geo", est["country"]))
        absent = sorted(str(c) for c in as_list(countries) if c not in known)
        if absent:
            raise UnknownCodeError(
                f"tec_compare_published: countries {absent} are not in the TEC frame; "
                f"present: {sorted(set(est['country']))}.")


def _target_rows(
    t: Any, pub: pd.Series, est: pd.DataFrame, *, countries: Sequence[str] | None,
    year_rule: YearRule, complete_cells_only: bool, no_counts: bool,
    tec_denominator: str, activity: str,
) -> list[dict]:
    """Rows of one target: the published value beside both aggregations of the recomputation."""
    text = str(pub["value"])
    decimals = len(text.split(".")[1]) if "." in text else 0
    tol = 0.5 * 10.0 ** (-decimals)
    sub = est[(est["indicator"] == t.indicator) & (est["size_class"] == t.size_class)
              & (est["flow"] == t.flow)]
    # countries were checked against all estimates; a target lacking some is not an error
    sub_countries = None if countries is None else [
        c for c in as_list(countries)
        if c in set(sub["country"]) or c in set(sub.get("geo", sub["country"]))]
    if sub_countries == []:
        sub = sub.iloc[0:0]
    rows = []
    for agg in ("country_mean", "pooled"):
        res = tec_cross_country_average(sub, countries=sub_countries, year_rule=year_rule,
                                        aggregation=agg,
                                        complete_cells_only=complete_cells_only) \
            if not sub.empty else pd.DataFrame()
        if res.empty:
            value, n, y0, y1 = np.nan, 0, np.nan, np.nan
            note = ("no business counts given" if t.indicator ==
                    "export_participation_rate" and no_counts
                    else "no data for this target")
        else:
            r = res.iloc[-1]
            value, n, y0, y1 = r["estimate"], r["n_countries"], r["year_min"], r["year_max"]
            note = t.note
        pv = float(text)
        rows.append({"target_id": t.target_id, "ref_id": t.ref_id,
                     "indicator": t.indicator, "size_class": t.size_class, "flow": t.flow,
                     "published": pv, "tolerance": tol, "basis": pub["basis"],
                     "aggregation": agg, "recomputed": value, "difference": value - pv,
                     "within_tolerance": bool(abs(value - pv) <= tol + 1e-9)
                     if not np.isnan(value) else False,
                     "n_countries": n, "year_min": y0, "year_max": y1,
                     "tec_denominator": tec_denominator, "activity": activity,
                     "year_rule": str(year_rule), "source": pub["source"], "note": note})
    return rows


__all__ = ["tec_cross_country_average", "change_between", "tec_compare_published"]
