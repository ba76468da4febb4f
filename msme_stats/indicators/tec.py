"""TEC (Trade by Enterprise Characteristics) indicators by enterprise size class.

Input is the tidy frame of :func:`msme_stats.load_tec`. TEC tables are census-type
aggregates (customs records linked to the business register), not samples: there is no
sampling error, so ``se``, ``ci_low`` and ``ci_high`` are present but always NaN.

Formulas: METHODS §3.5. Notation: V = trade value, N = number of enterprises, for one
reporter, year, flow, partner and activity; classes micro ``0-9``, small ``10-49``, medium
``50-249``, large ``250+``; SME (MSME) = micro + small + medium (``size_class`` ``0-249``).

Main entry points
-----------------
:func:`tec_indicators`
    per country-year indicators in the tidy shape of the Enterprise Surveys estimates;
:func:`~msme_stats.aggregate.tec.tec_cross_country_average`
    simple country mean or pooled ratio across countries;
:func:`~msme_stats.aggregate.tec.change_between`
    change of an indicator between two years (flags the 2022 size-basis break);
:func:`~msme_stats.aggregate.tec.tec_compare_published`
    published WTR 2016 / 2022 values against recomputed ones (both aggregations).

The last three live in :mod:`msme_stats.aggregate.tec` (beside the WBES averages) and are
still importable from here.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping, Sequence
from functools import lru_cache
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd

from .._docs import fill_doc
from .._options import OutOfRange, TecDenominator, as_list, check_choice, choices
from ..errors import (
    DuplicateIdError,
    EmptyInputError,
    ExclusionWarning,
    InvalidValueError,
    MissingColumnsError,
    OptionError,
    UnknownCodeError,
    UnknownIndicatorError,
)

logger = logging.getLogger(__name__)

CLASSES: tuple[str, ...] = ("0-9", "10-49", "50-249", "250+")
SME_CLASSES: tuple[str, ...] = ("0-9", "10-49", "50-249")
SME_LABEL = "0-249"
_KEY_BASE = ["country", "geo", "is_country", "year", "flow", "partner", "activity", "source",
             "breakdown"]
_NEEDED = ["country", "geo", "year", "flow", "partner", "activity", "size_class", "measure",
           "value", "unit", "confidential"]

#: Columns of the frame returned by :func:`tec_indicators`, in order (``by`` columns follow
#: ``breakdown``).
OUTPUT_COLUMNS: tuple[str, ...] = (
    "country", "geo", "is_country", "year", "indicator", "flow", "partner", "activity",
    "size_class", "estimate", "unit", "numerator", "denominator", "numerator_unit",
    "tec_denominator", "implicit_unknown_share", "flags", "status", "note", "se", "ci_low",
    "ci_high", "series_break", "source", "breakdown",
)


@lru_cache(maxsize=1)
def tec_indicator_catalogue() -> pd.DataFrame:
    """Return the TEC indicator metadata (``msme_stats/reference/tec_indicators.csv``).

    Columns: ``id, family, name, definition, unit, estimator, scope, wb_code, variables,
    source, wtr_ref``.
    """
    ref = resources.files("msme_stats.reference").joinpath("tec_indicators.csv")
    with ref.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def _ids() -> list[str]:
    return list(tec_indicator_catalogue()["id"])


# ------------------------------------------------------------------------------------
# wide cell tables
# ------------------------------------------------------------------------------------
class _Cells:
    """Values, confidentiality and flags of each (cell key, measure, size class)."""

    def __init__(self, frame: pd.DataFrame, key: list[str]):
        self.key = key
        idx = [*key, "measure", "size_class"]
        indexed = frame.set_index(idx)
        try:
            self.value = indexed["value"].unstack(["measure", "size_class"])
        except ValueError as exc:  # duplicated cells: name them (error path only)
            raise _duplicate_error(frame, idx) from exc
        self.conf = indexed["confidential"].astype(float).unstack(["measure", "size_class"])
        flag = indexed["flag"].astype(str) if "flag" in frame.columns else \
            pd.Series("", index=indexed.index)
        conf_s = indexed["conf_status"].astype(str) if "conf_status" in frame.columns else \
            pd.Series("", index=indexed.index)
        text = (flag + " " + conf_s).str.strip()
        self.flag = text.unstack(["measure", "size_class"])
        val = frame[frame["measure"] == "trade_value"]
        self.value_unit = (val.groupby(key, sort=False, dropna=False)["unit"].first()
                           .reindex(self.value.index))

    def get(self, measure: str, size: str) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                                     np.ndarray]:
        """Return value, present, confidential and flag text (numpy) for one component."""
        col = (measure, size)
        n = len(self.value.index)
        if col in self.value.columns:
            v = self.value[col].to_numpy(dtype=float)
            c = self.conf[col].to_numpy(dtype=float)
            present = ~np.isnan(c)
            conf = np.nan_to_num(c, nan=0.0).astype(bool)
            flag = self.flag[col].fillna("").to_numpy(dtype=object)
        else:
            v = np.full(n, np.nan)
            present = np.zeros(n, dtype=bool)
            conf = np.zeros(n, dtype=bool)
            flag = np.full(n, "", dtype=object)
        return v, present, conf, flag


def _combine(cells: _Cells, measure: str, sizes: Sequence[str]):
    """Sum of components; NaN if any is missing or confidential. Returns value, status, flags."""
    idx = cells.value.index
    n = len(idx)
    total = np.zeros(n)
    any_conf = np.zeros(n, dtype=bool)
    any_missing = np.zeros(n, dtype=bool)
    lab = "N" if measure == "enterprises" else "V"
    notes = []
    for s in sizes:
        v, present, conf, flag = cells.get(measure, s)
        total = total + v  # NaN propagates: nothing is imputed
        any_conf |= conf
        any_missing |= np.isnan(v) & ~conf
        note = np.where(conf & (flag == ""), "C", flag)
        note = np.where(~present, "absent", note)
        notes.append([f"{lab}[{s}]:{x}" if x else "" for x in note])
    flags = pd.Series(["; ".join(x for x in tup if x) for tup in zip(*notes, strict=True)],
                      index=idx, dtype=object)
    status = np.where(any_conf, "confidential", np.where(any_missing, "missing", "ok"))
    return pd.Series(total, index=idx), pd.Series(status, index=idx), flags


def _implicit_unknown(cells: _Cells, measure: str) -> pd.Series:
    tot, _, _, _ = cells.get(measure, "total")
    parts, _, _ = _combine(cells, measure, CLASSES)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (tot - parts.to_numpy()) / tot * 100.0
    return pd.Series(share, index=cells.value.index)


def _ratio_rows(cells: _Cells, *, indicator: str, num: tuple[str, Sequence[str]],
                den: tuple[str, Sequence[str]], size_label: str, unit: str, scale: float,
                tec_denominator: str, iu_measure: str | None) -> pd.DataFrame:
    n_val, n_status, n_flags = _combine(cells, *num)
    d_val, d_status, d_flags = _combine(cells, *den)
    n_val, d_val = n_val.to_numpy(), d_val.to_numpy()
    n_status, d_status = n_status.to_numpy(), d_status.to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        est = n_val / d_val * scale
    status = np.where((n_status == "confidential") | (d_status == "confidential"),
                      "confidential",
                      np.where((n_status == "missing") | (d_status == "missing"), "missing",
                               "ok"))
    zero = (d_val == 0) & (status == "ok")
    status = np.where(zero, "zero_denominator", status)
    est = np.where(zero, np.nan, est)
    # join and de-duplicate the component notes
    flags = ["; ".join(dict.fromkeys(p for p in f"{a}; {b}".split("; ") if p))
             for a, b in zip(n_flags, d_flags, strict=True)]
    out = cells.value.index.to_frame(index=False)
    out["indicator"] = indicator
    out["size_class"] = size_label
    out["estimate"] = est
    out["unit"] = unit
    out["numerator"] = n_val
    out["denominator"] = d_val
    out["numerator_unit"] = (cells.value_unit.to_numpy() if num[0] == "trade_value"
                             else "enterprises")
    out["tec_denominator"] = tec_denominator
    out["implicit_unknown_share"] = (_implicit_unknown(cells, iu_measure).to_numpy()
                                     if iu_measure else np.nan)
    out["flags"] = flags
    out["status"] = status
    out["note"] = ""
    return out


def _den_sizes(tec_denominator: str) -> tuple[str, ...]:
    return ("total",) if tec_denominator == "total" else CLASSES


def _classes_present(frame: pd.DataFrame) -> list[str]:
    extra = ["unknown"] if (frame["size_class"] == "unknown").any() else []
    return [*CLASSES, *extra]


# ------------------------------------------------------------------------------------
# input checks
# ------------------------------------------------------------------------------------
_MEASURES = {"trade_value", "enterprises"}
_FLOWS = {"exports", "imports"}
_SIZES = {"0-9", "10-49", "50-249", "250+", "total", "unknown", "0-249"}

#: Indicators that are residuals (TOTAL minus the classes), not bounded shares.
_RESIDUALS = {"tec_implicit_unknown_value_share", "tec_implicit_unknown_count_share"}


def _row_label(frame: pd.DataFrame, pos: int) -> str:
    row = frame.iloc[pos]
    parts = [f"{c}={_plain(row[c])!r}" for c in ("country", "year", "flow", "partner", "size_class",
                                          "measure", "indicator") if c in frame.columns]
    return f"row {frame.index[pos]!r} ({', '.join(parts)})"


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _check_tec_frame(tec) -> None:
    """Refuse a TEC frame whose values a census table cannot hold (negative, infinite,
    not numeric) or whose years are not integers. Messages name the row."""
    if not isinstance(tec, pd.DataFrame):
        raise OptionError(f"tec must be a DataFrame from msme_stats.load_tec, not "
                          f"{type(tec).__name__}.")
    value = tec["value"]
    if pd.api.types.is_numeric_dtype(value) and not pd.api.types.is_bool_dtype(value):
        arr = value.to_numpy(dtype=float)
    else:  # numbers held as objects are fine; text, booleans and None-only are not
        num = pd.to_numeric(value, errors="coerce") \
            if not pd.api.types.is_bool_dtype(value) else pd.Series(np.nan, index=value.index)
        bad = (num.isna() & value.notna()) | value.map(lambda v: isinstance(v, bool | str))
        if bad.any() or num.isna().all():
            pos = int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else 0
            raise InvalidValueError(
                f"tec_indicators: column 'value' must be numeric (dtype {value.dtype}); "
                f"{_row_label(tec, pos)} holds {value.iloc[pos]!r}. Load the table with "
                "msme_stats.load_tec or convert the column with pandas.to_numeric.")
        arr = num.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        bad = np.isinf(arr) | (arr < 0)
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise InvalidValueError(
            f"tec_indicators: column 'value' holds {int(bad.sum())} negative or infinite "
            f"value(s); first {_row_label(tec, pos)} = {float(arr[pos])!r}. Trade values and "
            "enterprise counts are >= 0; a negative cell would give a share that looks "
            "valid. Fix or drop the row (and say so).")
    if tec.empty:
        raise EmptyInputError("tec_indicators: the TEC frame has no rows.")
    year = tec["year"]
    ok_year = pd.api.types.is_integer_dtype(year) and not pd.api.types.is_bool_dtype(year)
    if not ok_year:
        num = pd.to_numeric(year, errors="coerce") if pd.api.types.is_numeric_dtype(year) \
            else pd.Series(np.nan, index=year.index)
        bad = num.isna() | (num != np.floor(num))
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise InvalidValueError(
                f"tec_indicators: column 'year' must hold integer years (dtype "
                f"{year.dtype}); {_row_label(tec, pos)} holds {_plain(year.iloc[pos])!r}. "
                "Convert it with .astype(int).")
    for col in ("country", "geo", "flow", "partner", "activity", "measure", "size_class"):
        if col in tec.columns and tec[col].isna().any():
            pos = int(np.flatnonzero(tec[col].isna().to_numpy())[0])
            raise InvalidValueError(
                f"tec_indicators: column {col!r} is missing in {int(tec[col].isna().sum())} "
                f"row(s), first {_row_label(tec, pos)}; every cell needs its key.")
    for col, allowed in (("measure", _MEASURES), ("flow", _FLOWS), ("size_class", _SIZES)):
        odd = sorted(str(v) for v in pd.unique(tec[col]) if v not in allowed)
        if odd:
            pos = int(np.flatnonzero((~tec[col].isin(allowed)).to_numpy())[0])
            raise InvalidValueError(
                f"tec_indicators: column {col!r} holds {odd} (first {_row_label(tec, pos)}); "
                f"known values: {sorted(allowed)} (as returned by msme_stats.load_tec).")
    value_units = pd.unique(tec.loc[tec["measure"] == "trade_value", "unit"])
    if len(value_units) > 1:  # one currency per cell: never add EUR and USD
        val = tec[tec["measure"] == "trade_value"]
        key = [c for c in ("source", "geo", "country", "year", "flow", "partner", "activity",
                           "breakdown") if c in val.columns]
        n_units = val.groupby(key, sort=False, dropna=False)["unit"].nunique()
        if (n_units > 1).any():
            cell = dict(zip(key, (_plain(v) for v in n_units[n_units > 1].index[0]),
                            strict=True))
            raise InvalidValueError(
                f"tec_indicators: trade values of one cell are in several units "
                f"({sorted(str(u) for u in value_units)}); first cell {cell}. Convert to one "
                "currency first.")
    conf = tec["confidential"]
    if not pd.api.types.is_bool_dtype(conf):
        bad = ~conf.isin([True, False, 0, 1])
        if bad.any():
            pos = int(np.flatnonzero(bad.to_numpy())[0])
            raise InvalidValueError(
                f"tec_indicators: column 'confidential' must be True/False; "
                f"{_row_label(tec, pos)} holds {conf.iloc[pos]!r}.")


def _check_present(frame: pd.DataFrame, column: str, wanted: list, default: str | None,
                   *, option: str | None = None) -> None:
    """An option selecting codes applies or raises: every code must be in the data."""
    option = option or column
    present = set(pd.unique(frame[column]))
    absent = [w for w in wanted if w not in present]
    if absent:
        shown = sorted(str(p) for p in present)
        hint = ""
        if default is not None and default in present:
            hint = f" The default, {default!r}, is present."
        elif default is not None:
            hint = f" Pass {option}=None to keep all codes."
        if column == "partner" and "WORLD" in present and any(
                str(a).upper() in {"WLD", "W", "_T", "WORLD", "WRL", "WORLD_TOTAL"}
                for a in absent):
            hint = " The world total is coded 'WORLD' (Eurostat WORLD, OECD W/_T)."
        raise UnknownCodeError(
            f"tec_indicators: {option}={absent if len(absent) > 1 else absent[0]!r} is not a "
            f"{column} code of the TEC frame.{hint} Codes present: {shown[:40]}"
            f"{' ...' if len(shown) > 40 else ''}.")


def _duplicate_error(frame: pd.DataFrame, idx: list[str]) -> DuplicateIdError:
    dup = frame.duplicated(idx, keep=False)
    rows = frame[dup]
    first = rows.iloc[0]
    same_mask = (rows[idx] == first[idx]).all(axis=1).to_numpy()
    same = rows[same_mask]
    positions = [int(x) for x in np.flatnonzero(dup.to_numpy())[same_mask][:5]]
    cell = ", ".join(f"{k}={_plain(first[k])!r}" for k in idx if k in ("country", "year", "flow",
                                                              "partner", "activity",
                                                              "measure", "size_class"))
    files = sorted(set(same["file"])) if "file" in same.columns else []
    where = f" from file(s) {files}" if files else ""
    return DuplicateIdError(
        f"tec_indicators: {int(dup.sum())} rows share a cell key; first: {cell}, at row "
        f"positions {positions}{where}. Each cell must appear once (did you concatenate a "
        "frame with itself, or load two formats of one dataset?); drop the duplicates.")


def _bounds(out: pd.DataFrame, out_of_range: str) -> pd.DataFrame:
    """Shares outside [0, 100] are impossible: flag (status out_of_range) or raise.

    ``out`` is the frame built by :func:`tec_indicators` (never the user's): set in place.
    """
    if out.empty:
        return out
    est = out["estimate"].to_numpy(dtype=float)
    pct = (out["unit"] == "%").to_numpy()
    resid = out["indicator"].isin(_RESIDUALS).to_numpy()
    with np.errstate(invalid="ignore"):
        outside = pct & ~resid & ((est < 0) | (est > 100))
        neg_resid = resid & (est < 0)
    if outside.any():
        if out_of_range == "raise":
            pos = int(np.flatnonzero(outside)[0])
            raise InvalidValueError(
                f"tec_indicators: {int(outside.sum())} share(s) outside [0, 100]; first "
                f"{_row_label(out, pos)} = {float(est[pos])!r} (numerator "
                f"{_plain(out['numerator'].iloc[pos])!r}, denominator "
                f"{_plain(out['denominator'].iloc[pos])!r}). The components exceed the "
                "denominator; use out_of_range='flag' to keep the other estimates.")
        note = [f"estimate {v:.6g} outside [0, 100]: components exceed the denominator"
                for v in est[outside]]
        old = out.loc[outside, "flags"].astype(str).to_numpy()
        out.loc[outside, "flags"] = ["; ".join(x for x in (a, b) if x)
                                     for a, b in zip(old, note, strict=True)]
        out.loc[outside, "status"] = "out_of_range"
        out.loc[outside, "estimate"] = np.nan
        counts = out.loc[outside, "indicator"].value_counts().to_dict()
        warnings.warn(
            f"tec_indicators: {int(outside.sum())} share(s) outside [0, 100] set to NaN with "
            f"status 'out_of_range' ({counts}); the published components exceed the "
            "denominator (rounding or inconsistent cells).", ExclusionWarning, stacklevel=3)
    if neg_resid.any():
        old = out.loc[neg_resid, "flags"].astype(str).to_numpy()
        out.loc[neg_resid, "flags"] = ["; ".join(x for x in (a, "classes exceed TOTAL") if x)
                                       for a in old]
    return out


# ------------------------------------------------------------------------------------
# public API
# ------------------------------------------------------------------------------------
@fill_doc
def tec_indicators(
    tec: pd.DataFrame,
    indicators: str | Sequence[str] | None = None,
    *,
    by: str | Sequence[str] | None = None,
    business_counts: pd.DataFrame | None = None, tec_denominator: TecDenominator = "total",
    partner: str | Sequence[str] | None = "WORLD", partners: str | Sequence[str] | None = None,
    activity: str | Sequence[str] | None = "TOTAL", breakdown: str | None = "",
    participation_activity: str | Mapping[str, str] | None = None, out_of_range: OutOfRange = "flag",
) -> pd.DataFrame:
    """Compute TEC indicators by enterprise size class, one row per country-year cell.

    Definition
    ----------
    See METHODS §3.5 and the ``definition`` column of ``tec_indicators.csv``. E.g.
    ``msme_share_export_value`` = (V_0-9 + V_10-49 + V_50-249) / V_den x 100 for exports,
    V_den = V_total (``tec_denominator="total"``) or the sum of the four classes.

    Source
    ------
    OECD, *Entrepreneurship at a Glance 2017*, "SMEs and market proximity" (share of SMEs
    among exporters; SME share of exports to a country); Eurostat Statistics Explained,
    "International trade in goods by enterprise size" (per-class shares); WTO, World Trade
    Report 2016, Section B.1(b).

    Parameters
    ----------
    tec
        Frame from :func:`msme_stats.load_tec` (columns ``country, geo, year, flow, partner,
        activity, size_class, measure, value, unit, confidential`` at least).
    indicators
        Indicator id(s) from ``msme_stats/reference/tec_indicators.csv``; ``None`` = all of
        them, except ``export_participation_rate`` when ``business_counts`` is None (logged).
    by
        Extra columns of ``tec`` to carry as cell keys (e.g. a user-added country group).
        The standard keys (country, year, flow, partner, activity, source, breakdown) are
        always kept.
    {tec_business_counts}
    {tec_denominator}
    partner
        Partner code(s) for the size-class indicators (default ``"WORLD"``); None = all.
    partners
        Partners for ``tec_partner_share`` and ``tec_sme_value_share_partner``; None = every
        partner other than ``WORLD`` in the data.
    activity
        Activity code(s) (NACE/ISIC) to keep; ``"TOTAL"`` (default) = all activities
        (parameter ``activity_scope``); None = all codes present.
    breakdown
        Keep rows with this ``breakdown`` (``""`` = no further breakdown, the default);
        None keeps all.
    {tec_participation_activity}
    {tec_out_of_range}

    Returns
    -------
    pandas.DataFrame
        Columns ``country, geo, is_country, year, indicator, flow, partner, activity,
        size_class, estimate, unit, numerator, denominator, numerator_unit, tec_denominator,
        implicit_unknown_share, flags, status, note, se, ci_low, ci_high, series_break,
        source, breakdown`` (then the ``by`` columns). ``estimate`` is in percent for shares;
        ``implicit_unknown_share`` is (TOTAL - sum of the four classes) / TOTAL in percent of
        the measure used, NaN unless TOTAL and all four classes are published. ``status`` is
        ``ok``, ``confidential``, ``missing``, ``zero_denominator`` or ``out_of_range``
        (see ``out_of_range``); the estimate is NaN
        unless ``ok`` (never imputed, never backed out). ``flags`` lists the component flags
        (``V[0-9]:C`` = confidential micro value). ``se``, ``ci_low``, ``ci_high`` are NaN:
        TEC tables are censuses of customs records, with no sampling error.

    Raises
    ------
    OptionError
        ``tec`` is not a DataFrame, an option value is not allowed, ``indicators=[]``, or
        ``export_participation_rate`` is asked for without ``business_counts``.
    UnknownIndicatorError
        An id is not in ``tec_indicators.csv``.
    UnknownCodeError
        A ``partner``/``activity`` code asked for is not in the data.
    MissingColumnsError
        ``tec`` or ``business_counts`` lacks a column the computation needs.
    InvalidValueError
        Values that are not numbers, negative or infinite; years that are not integers;
        missing keys; unknown measures, flows or size classes; several currencies in one
        cell; a share outside [0, 100] with ``out_of_range="raise"``.
    EmptyInputError
        ``tec`` has no rows.
    DuplicateIdError
        Two rows hold the same cell (country, year, flow, partner, activity, size, measure).

    Examples
    --------
    >>> import msme_stats as ms
    >>> from msme_stats._paths import data_dir
    >>> tec = ms.load_tec(data_dir() / "tec_samples" / "ext_tec01_synthetic.tsv")  # bundled specimen
    >>> res = tec_indicators(tec, "msme_share_export_value")
    >>> res.query("country == 'AUT'")[["year", "size_class", "estimate", "status"]].round(1)
       year size_class  estimate        status
    0  2016      0-249      45.0            ok
    1  2017      0-249      45.5            ok
    2  2018      0-249      45.9            ok
    3  2019      0-249       NaN  confidential
    4  2020      0-249      44.5            ok
    5  2021      0-249       NaN  confidential
    6  2022      0-249      43.6            ok
    """
    tec_denominator = _check_tec_denominator(tec, tec_denominator)
    wanted = _wanted_tec_ids(indicators, business_counts)
    by_cols = as_list(by)
    frame, out_of_range = _tec_frame(tec, by_cols, business_counts=business_counts,
                                     participation_activity=participation_activity,
                                     out_of_range=out_of_range, activity=activity,
                                     breakdown=breakdown, partner=partner, partners=partners)
    key = [*_KEY_BASE, *[c for c in by_cols if c not in _KEY_BASE]]
    results = _all_indicator_rows(
        wanted, frame, key, partner=partner, partners=partners, tec_denominator=tec_denominator,
        business_counts=business_counts, participation_activity=participation_activity)
    return _finish_tec_output(results, by_cols, out_of_range)


def _all_indicator_rows(
    wanted: list[str], frame: pd.DataFrame, key: list[str], *, partner: Any, partners: Any,
    tec_denominator: str, business_counts: Any, participation_activity: Any,
) -> list[pd.DataFrame]:
    """Result rows of every wanted indicator on the cells of the ``partner`` rows of ``frame``."""
    main_frame = frame if partner is None else frame[frame["partner"].isin(as_list(partner))]
    results: list[pd.DataFrame] = []
    cells = _Cells(main_frame, key) if not main_frame.empty else None
    classes = _classes_present(main_frame)
    den = _den_sizes(tec_denominator)
    for ind in wanted:
        if cells is None:
            break
        results.extend(_indicator_rows(
            ind, cells, frame, key, classes=classes, den=den, tec_denominator=tec_denominator,
            partners=partners, business_counts=business_counts,
            participation_activity=participation_activity))
    return results


def _check_tec_denominator(tec: Any, tec_denominator: str) -> TecDenominator:
    """Check that ``tec`` is a frame; the checked ``tec_denominator`` of :func:`tec_indicators`."""
    if not isinstance(tec, pd.DataFrame):
        raise OptionError(f"tec must be a DataFrame from msme_stats.load_tec, not "
                          f"{type(tec).__name__}.")
    return check_choice("tec_denominator", tec_denominator, choices(TecDenominator))


def _wanted_tec_ids(indicators: Any, business_counts: pd.DataFrame | None) -> list[str]:
    """Checked indicator ids of :func:`tec_indicators` (None = the whole catalogue)."""
    catalogue_ids = _ids()
    if indicators is None:
        wanted = [i for i in catalogue_ids
                  if business_counts is not None or i != "export_participation_rate"]
        if business_counts is None:
            logger.info("tec_indicators: export_participation_rate skipped (no business_counts)")
    else:
        if not isinstance(indicators, str) and not (
                isinstance(indicators, Sequence | set | pd.Index | np.ndarray)
                and all(isinstance(i, str) for i in indicators)):
            raise OptionError(
                f"indicators={indicators!r}: give an indicator id, a list of ids or None.")
        wanted = as_list(indicators)
        if not wanted:
            raise OptionError("indicators=[] selects nothing; pass indicator ids or None "
                              "for all of them.")
        unknown = [i for i in wanted if i not in catalogue_ids]
        if unknown:
            raise UnknownIndicatorError(
                f"unknown TEC indicator id(s) {unknown}; known: {catalogue_ids}.")
    if "export_participation_rate" in wanted and business_counts is None:
        raise OptionError("export_participation_rate needs business_counts= (a frame from "
                          "msme_stats.load_business_counts).")
    return wanted


def _tec_frame(
    tec: pd.DataFrame, by_cols: list[str], *, business_counts: Any, participation_activity: Any,
    out_of_range: str, activity: Any, breakdown: Any, partner: Any, partners: Any,
) -> tuple[pd.DataFrame, OutOfRange]:
    """Check the TEC frame and options of :func:`tec_indicators`; keep the activity and breakdown.

    Returns the filtered frame (with ``is_country``, ``source`` and ``breakdown`` defaults) and
    the checked ``out_of_range``.
    """
    missing = [c for c in _NEEDED if c not in tec.columns]
    missing += [c for c in by_cols if c not in tec.columns]
    if missing:
        raise MissingColumnsError(
            f"tec_indicators: the TEC frame lacks column(s) {missing}; load it with "
            "msme_stats.load_tec.")
    _check_tec_frame(tec)
    frame = tec
    if "is_country" not in frame.columns:
        frame = frame.assign(is_country=True)
    for col, default in (("source", ""), ("breakdown", "")):
        if col not in frame.columns:
            frame = frame.assign(**{col: default})
    if participation_activity is not None and not isinstance(participation_activity,
                                                             str | Mapping):
        raise OptionError(
            f"participation_activity={participation_activity!r}: give an activity code, a "
            "mapping TEC code -> business-count code, or None.")
    if business_counts is not None and not isinstance(business_counts, pd.DataFrame):
        raise OptionError(
            "business_counts must be a DataFrame from msme_stats.load_business_counts, not "
            f"{type(business_counts).__name__}.")
    checked: OutOfRange = check_choice("out_of_range", out_of_range, choices(OutOfRange))
    if activity is not None:
        _check_present(frame, "activity", as_list(activity), "TOTAL")
        frame = frame[frame["activity"].isin(as_list(activity))]
    if breakdown is not None:
        _check_present(frame, "breakdown", [breakdown], "")
        frame = frame[frame["breakdown"] == breakdown]
    if partner is not None:
        _check_present(frame, "partner", as_list(partner), "WORLD")
    if partners is not None:
        _check_present(frame, "partner", as_list(partners), None, option="partners")
    return frame, checked


def _indicator_rows(
    ind: str, cells: Any, frame: pd.DataFrame, key: list[str], *, classes: list[str],
    den: tuple[str, ...], tec_denominator: str, partners: Any, business_counts: Any,
    participation_activity: Any,
) -> list[pd.DataFrame]:
    """The result rows of one TEC indicator (one frame per size class where it has several)."""
    if ind in {"msme_share_export_value", "msme_share_import_value",
               "msme_share_exporters", "msme_share_importers"}:
        measure = "trade_value" if ind.endswith("_value") else "enterprises"
        flow = "exports" if ("export" in ind) else "imports"
        rows = _ratio_rows(cells, indicator=ind, num=(measure, SME_CLASSES),
                           den=(measure, den), size_label=SME_LABEL, unit="%",
                           scale=100.0, tec_denominator=tec_denominator,
                           iu_measure=measure)
        return [rows[rows["flow"] == flow]]
    if ind in {"tec_value_share_by_size", "tec_count_share_by_size"}:
        measure = "trade_value" if ind == "tec_value_share_by_size" else "enterprises"
        return [_ratio_rows(cells, indicator=ind, num=(measure, SME_CLASSES if s == SME_LABEL else (s,)),
                            den=(measure, den), size_label=s, unit="%", scale=100.0,
                            tec_denominator=tec_denominator, iu_measure=measure)
                for s in [*classes, SME_LABEL]]
    if ind == "tec_value_per_trader":
        return [_per_trader_rows(cells, ind, s) for s in [*classes, SME_LABEL, "total"]]
    if ind in {"tec_implicit_unknown_value_share", "tec_implicit_unknown_count_share"}:
        return [_implicit_unknown_rows(cells, ind)]
    if ind in {"tec_partner_share", "tec_sme_value_share_partner"}:
        return [_partner_rows(frame, key, ind, partners, tec_denominator, den, classes)]
    if ind == "export_participation_rate":
        return [_participation_rows(cells, business_counts, classes, participation_activity)]
    return []


def _per_trader_rows(cells: Any, ind: str, s: str) -> pd.DataFrame:
    """Rows of ``tec_value_per_trader`` for one size class ``s``: trade value per enterprise."""
    sizes = SME_CLASSES if s == SME_LABEL else (s,)
    rows = _ratio_rows(cells, indicator=ind, num=("trade_value", sizes),
                       den=("enterprises", sizes), size_label=s,
                       unit="currency per enterprise", scale=1.0,
                       tec_denominator="not_applicable", iu_measure="trade_value")
    rows["unit"] = rows["numerator_unit"].astype(str) + " per enterprise"
    return rows


def _implicit_unknown_rows(cells: Any, ind: str) -> pd.DataFrame:
    """Rows of ``tec_implicit_unknown_*_share``: (TOTAL - the four classes) / TOTAL."""
    measure = "trade_value" if "value" in ind else "enterprises"
    rows = _ratio_rows(cells, indicator=ind, num=(measure, ("total",)),
                       den=(measure, ("total",)), size_label="unknown",
                       unit="%", scale=100.0, tec_denominator="not_applicable",
                       iu_measure=measure)
    parts, p_status, p_flags = _combine(cells, measure, CLASSES)
    tot = rows["numerator"].to_numpy()
    rows["numerator"] = tot - parts.to_numpy()
    rows["estimate"] = rows["implicit_unknown_share"]
    bad = p_status.to_numpy() != "ok"
    rows.loc[bad, "status"] = p_status.to_numpy()[bad]
    rows["flags"] = [("; ".join(x for x in (a, b) if x)) for a, b in
                     zip(rows["flags"], p_flags, strict=True)]
    return rows


def _finish_tec_output(results: list[pd.DataFrame], by_cols: list[str], out_of_range: str) -> pd.DataFrame:
    """Stack the rows, add the census columns (no sampling error) and series break, check bounds."""
    if not results:
        out = pd.DataFrame(columns=[*OUTPUT_COLUMNS, *by_cols])
    else:
        out = pd.concat([r for r in results if not r.empty] or results, ignore_index=True)
    out["se"] = np.nan
    out["ci_low"] = np.nan
    out["ci_high"] = np.nan
    from ..sources.tec import series_break_year

    out["series_break"] = out["year"].astype("int64") >= series_break_year() \
        if len(out) else pd.Series(dtype=bool)
    cols = [*OUTPUT_COLUMNS, *[c for c in by_cols if c not in OUTPUT_COLUMNS]]
    out = out.loc[:, cols]
    out = _bounds(out, out_of_range)
    n_bad = int((out["status"] != "ok").sum()) if len(out) else 0
    if n_bad:
        logger.info("tec_indicators: %d of %d estimates are NaN (confidential or missing "
                    "components; nothing imputed)", n_bad, len(out))
    return out.sort_values(["indicator", "country", "year", "flow", "partner", "size_class"],
                           kind="stable", ignore_index=True)


def _partner_rows(frame, key, ind, partners, tec_denominator, den, classes):
    world = frame[frame["partner"] == "WORLD"]
    if partners is None:
        others = frame[frame["partner"] != "WORLD"]
    else:
        others = frame[frame["partner"].isin(as_list(partners))]
    if others.empty:
        return pd.DataFrame()
    cells_p = _Cells(others, key)
    out = []
    if ind == "tec_sme_value_share_partner":
        return _ratio_rows(cells_p, indicator=ind, num=("trade_value", SME_CLASSES),
                           den=("trade_value", den), size_label=SME_LABEL, unit="%",
                           scale=100.0, tec_denominator=tec_denominator,
                           iu_measure="trade_value")
    if world.empty:
        return pd.DataFrame()
    cells_w = _Cells(world, key)
    wkey = [k for k in key if k != "partner"]
    for s in [*classes, SME_LABEL, "total"]:
        sizes = SME_CLASSES if s == SME_LABEL else (s,)
        num_v, num_status, num_flags = _combine(cells_p, "trade_value", sizes)
        w_v, w_status, w_flags = _combine(cells_w, "trade_value", sizes)
        left = cells_p.value.index.to_frame(index=False)
        left["numerator"] = num_v.to_numpy()
        left["n_status"] = num_status.to_numpy()
        left["n_flags"] = num_flags.to_numpy()
        right = cells_w.value.index.to_frame(index=False).drop(columns="partner")
        right["denominator"] = w_v.to_numpy()
        right["d_status"] = w_status.to_numpy()
        right["d_flags"] = w_flags.to_numpy()
        m = left.merge(right, on=wkey, how="left")
        m["d_status"] = m["d_status"].fillna("missing")
        m["d_flags"] = m["d_flags"].fillna("WORLD absent")
        status = np.where((m["n_status"] == "confidential") | (m["d_status"] == "confidential"),
                          "confidential",
                          np.where((m["n_status"] == "missing") | (m["d_status"] == "missing"),
                                   "missing", "ok"))
        zero = (m["denominator"] == 0) & (status == "ok")
        status = np.where(zero, "zero_denominator", status)
        m["estimate"] = (m["numerator"] / m["denominator"] * 100.0).where(~zero)
        m["status"] = status
        m["flags"] = [("; ".join(x for x in (a, "WORLD " + b if b else "") if x))
                      for a, b in zip(m["n_flags"], m["d_flags"], strict=True)]
        m["indicator"] = ind
        m["size_class"] = s
        m["unit"] = "%"
        m["numerator_unit"] = cells_p.value_unit.to_numpy()
        m["tec_denominator"] = "not_applicable"
        m["implicit_unknown_share"] = _implicit_unknown(cells_p, "trade_value").to_numpy()
        m["note"] = "denominator: same size class, partner WORLD"
        out.append(m.drop(columns=["n_status", "n_flags", "d_status", "d_flags"]))
    return pd.concat(out, ignore_index=True)


def _participation_rows(cells, business_counts, classes, participation_activity):
    need = ["country", "year", "activity", "size_class", "enterprises"]
    missing = [c for c in need if c not in business_counts.columns]
    if missing:
        raise MissingColumnsError(
            f"business_counts lacks column(s) {missing}; load it with "
            "msme_stats.load_business_counts.")
    bc = business_counts
    out = []
    for s in [*[c for c in classes if c != "unknown"], SME_LABEL, "total"]:
        sizes = SME_CLASSES if s == SME_LABEL else (s,)
        n_v, n_status, n_flags = _combine(cells, "enterprises", sizes)
        left = cells.value.index.to_frame(index=False)
        left["numerator"] = n_v.to_numpy()
        left["n_status"] = n_status.to_numpy()
        left["flags"] = n_flags.to_numpy()
        left = left[left["flow"] == "exports"]
        if isinstance(participation_activity, str):
            left["_bc_activity"] = participation_activity
        elif isinstance(participation_activity, Mapping):
            left["_bc_activity"] = left["activity"].map(
                lambda a: participation_activity.get(a, a))
        else:
            left["_bc_activity"] = left["activity"]
        if s == SME_LABEL:
            parts = bc[bc["size_class"].isin(SME_CLASSES)]
            grp = parts.groupby(["country", "year", "activity"], sort=False)
            right = grp.agg(
                denominator=("enterprises", lambda x: x.sum() if (len(x) == 3 and
                                                                  x.notna().all()) else np.nan),
                size_code=("size_code", lambda x: "+".join(x)) if "size_code" in bc.columns
                else ("size_class", lambda x: "+".join(x)),
            ).reset_index()
        else:
            right = bc[bc["size_class"] == s].copy()
            right = right.rename(columns={"enterprises": "denominator"})
            if "size_code" not in right.columns:
                right["size_code"] = s
            right = right[["country", "year", "activity", "denominator", "size_code"]]
        right = right.rename(columns={"activity": "_bc_activity"})
        m = left.merge(right, on=["country", "year", "_bc_activity"], how="left")
        status = np.where(m["n_status"] != "ok", m["n_status"],
                          np.where(m["denominator"].isna(), "missing", "ok"))
        zero = (m["denominator"] == 0) & (status == "ok")
        status = np.where(zero, "zero_denominator", status)
        m["estimate"] = (m["numerator"] / m["denominator"] * 100.0).where(~zero)
        m["status"] = status
        codes = m["size_code"].fillna("")
        m["note"] = np.where(
            codes.str.contains("S1T9"),
            "denominator micro class S1T9 (1-9 employees) excludes enterprises without "
            "employees, which TEC micro includes: rate biased upward; denominator code "
            + codes,
            np.where(codes != "", "denominator code " + codes,
                     "business count absent for this country-year-activity"))
        m["indicator"] = "export_participation_rate"
        m["size_class"] = s
        m["unit"] = "%"
        m["numerator_unit"] = "enterprises"
        m["tec_denominator"] = "business_register"
        m["implicit_unknown_share"] = np.nan
        out.append(m.drop(columns=["n_status", "_bc_activity", "size_code"]))
    res = pd.concat(out, ignore_index=True)
    iu = _implicit_unknown(cells, "enterprises")
    iu_frame = cells.value.index.to_frame(index=False)
    iu_frame["_iu"] = iu.to_numpy()
    res = res.merge(iu_frame, on=cells.key, how="left")
    res["implicit_unknown_share"] = res.pop("_iu")
    return res


# ------------------------------------------------------------------------------------
# cross-country aggregation, change over time and the published comparison live in
# msme_stats.aggregate.tec (beside the WBES averages); re-exported here for old imports
# ------------------------------------------------------------------------------------
_MOVED = ("tec_cross_country_average", "tec_compare_published", "change_between")


def __getattr__(name: str) -> Any:
    """Names moved to :mod:`msme_stats.aggregate.tec`, imported on first use (no import cycle)."""
    if name in _MOVED:
        from ..aggregate import tec as _aggregate_tec

        return getattr(_aggregate_tec, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["tec_indicators", "tec_indicator_catalogue", "OUTPUT_COLUMNS"]
