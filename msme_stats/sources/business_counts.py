"""Loader for enterprise population counts by size class (OECD SDBS, Eurostat SBS).

:func:`load_business_counts` reads the business-register counts used as denominators of
export participation rates (METHODS §3.4). The files are SDMX-CSV in the same layouts as
the TEC tables, so the file readers and code-list checks are those of
:mod:`msme_stats.sources.tec`; the size-class, measure and flag code lists live in
``msme_stats/reference/tec_codes.csv``.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import EmptyInputError, ExclusionWarning, MissingColumnsError, NotRecognisedError
from .tec import (
    Source,
    _check_codes,
    _check_duplicates,
    _check_float_codes,
    _codemap,
    _decode,
    _first_line,
    _flag_roles,
    _geo_columns,
    _layout,
    _map,
    _numeric,
    _read_bytes,
    _read_sdmx,
    _resolve_paths,
    _unit_mult,
    _year_range_option,
    _years,
)

logger = logging.getLogger(__name__)

#: Columns of the frame returned by :func:`load_business_counts`, in order.
BUSINESS_COUNT_COLUMNS: tuple[str, ...] = (
    "country",
    "geo",
    "is_country",
    "year",
    "activity",
    "size_class",
    "enterprises",
    "flag",
    "confidential",
    "size_code",
    "source",
    "file",
)

# Warnings are raised in a helper of _read_one_counts, which load_business_counts calls from a
# list comprehension (a frame of its own): helper <- _read_one_counts <- <listcomp> <-
# load_business_counts, the frame the warnings named before the split.
_STACKLEVEL = 4


def _read_counts_file(path: Path) -> tuple[pd.DataFrame, list[str], str, dict[str, str], str, str]:
    """Read one file, detect its layout and name the columns it uses.

    Returns the raw frame, its dimension columns, the provider (``oecd_sdbs`` or
    ``eurostat_sbs``), the map of roles (``geo``, ``size``, ``activity``, ``indic``) to column
    names, the flag column and the provider whose flag codes apply. Raises
    :class:`~msme_stats.errors.NotRecognisedError` for any other layout and
    :class:`~msme_stats.errors.MissingColumnsError` when a required column is absent.
    """
    data = _read_bytes(path)
    text = _decode(data, path)
    header = _first_line(text)
    layout = _layout(header)
    if layout == "sdmx_oecd":
        raw, dims = _read_sdmx(text, path, "oecd", data)
        provider, names = "oecd_sdbs", {"geo": "REF_AREA", "size": "SIZE_CLASS",
                                        "activity": "ACTIVITY", "indic": "MEASURE"}
        flag_col, flag_provider = "OBS_STATUS", "oecd"
    elif layout == "sdmx_eurostat":
        raw, dims = _read_sdmx(text, path, "eurostat", data)
        size = "size_emp" if "size_emp" in raw.columns else "sizeclas"
        indic = "indic_sbs" if "indic_sbs" in raw.columns else "indic_sb"
        provider, names = "eurostat_sbs", {"geo": "geo", "size": size, "activity": "nace_r2",
                                           "indic": indic}
        flag_col, flag_provider = "OBS_FLAG", "eurostat"
    else:
        raise NotRecognisedError(
            f"file {str(path)!r} is not a recognised business-count file (OECD SDBS or "
            f"Eurostat SBS SDMX-CSV); header starts with {header[:120]!r}."
        )
    required = [names["geo"], names["size"], names["indic"], "TIME_PERIOD", "OBS_VALUE"]
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise MissingColumnsError(f"file {str(path)!r} lacks required column(s) {missing}.")
    return raw.reset_index(drop=True), dims, provider, names, flag_col, flag_provider


def _keep_enterprise_counts(raw: pd.DataFrame, provider: str, names: dict[str, str],
                            path: Path) -> pd.DataFrame:
    """Keep the enterprise-count measure; warn with the count of rows left out.

    Every measure code must be known (:class:`~msme_stats.errors.UnknownCodeError` otherwise);
    no rows left raises :class:`~msme_stats.errors.EmptyInputError`.
    """
    imap = _codemap(provider, names["indic"])
    _check_codes(raw[names["indic"]], {**imap, **{u: "" for u in pd.unique(raw[names["indic"]])
                                              if u not in imap}}, names["indic"], path,
                 what="measure", frame=raw)
    keep = raw[names["indic"]].isin(list(imap))
    if (~keep).any():
        warnings.warn(
            f"{path}: {int((~keep).sum())} rows with measures other than enterprise counts "
            f"({sorted(set(raw.loc[~keep, names['indic']]))}) were left out.",
            ExclusionWarning, stacklevel=_STACKLEVEL)
    raw = raw.loc[keep].reset_index(drop=True)
    if raw.empty:
        raise EmptyInputError(f"file {str(path)!r} holds no enterprise-count rows "
                              f"({names['indic']} in {sorted(imap)}).")
    return raw


def _drop_overlapping_sizes(raw: pd.DataFrame, size_col: str, roles: dict[str, str],
                            path: Path) -> pd.DataFrame:
    """Leave out rows in overlapping size aggregates (role ``overlap``), with a warning."""
    overlap = raw[size_col].map(roles) == "overlap"
    if overlap.any():
        warnings.warn(
            f"{path}: {int(overlap.sum())} rows in overlapping size aggregates "
            f"({sorted(set(raw.loc[overlap, size_col]))}) were left out.",
            ExclusionWarning, stacklevel=_STACKLEVEL)
        raw = raw.loc[~overlap].reset_index(drop=True)
    return raw


def _counts_frame(raw: pd.DataFrame, path: Path, year_range: tuple[int, int], provider: str,
                  names: dict[str, str], flag_col: str, flag_provider: str,
                  smap: dict[str, str], roles: dict[str, str]) -> pd.DataFrame:
    """Build the long frame of one file: one row per source cell, with its size-class role.

    Confidential and missing cells become NaN (flagged, never imputed); values are scaled
    by ``UNIT_MULT``.
    """
    geo = raw[names["geo"]]
    gcols = _geo_columns(geo, "eurostat" if provider == "eurostat_sbs" else "oecd",
                         names["geo"], path)
    flags = raw[flag_col].str.strip() if flag_col in raw.columns else pd.Series([""] * len(raw))
    froles = _flag_roles(flags, flag_provider, flag_col, path, raw)
    conf_s = raw["CONF_STATUS"].str.strip() if "CONF_STATUS" in raw.columns else \
        pd.Series([""] * len(raw))
    croles = _flag_roles(conf_s, flag_provider, "CONF_STATUS", path, raw)
    confidential = (froles["conf"] | croles["conf"]).to_numpy(dtype=bool)
    value = _numeric(raw["OBS_VALUE"], path, raw, "OBS_VALUE")
    value = value * np.power(10.0, _unit_mult(raw, path))
    value = np.where(confidential | froles["missing"].to_numpy(dtype=bool), np.nan, value)
    act = raw[names["activity"]] if names["activity"] in raw.columns else \
        pd.Series(["TOTAL"] * len(raw))
    amap = _codemap(provider, names["activity"])
    return pd.DataFrame({
        "country": gcols["country"],
        "geo": geo.to_numpy(dtype=object),
        "is_country": gcols["is_country"],
        "year": _years(raw, path, year_range),
        "activity": _map(act, {u: amap.get(u, u) for u in pd.unique(act)}),
        "size_class": _map(raw[names["size"]], smap),
        "role": _map(raw[names["size"]], roles),
        "enterprises": value,
        "flag": (flags + np.where(conf_s != "", " " + conf_s, "")).str.strip().to_numpy(),
        "confidential": confidential,
        "size_code": raw[names["size"]].to_numpy(dtype=object),
    })


def _combine_components(long: pd.DataFrame, smap: dict[str, str], roles: dict[str, str],
                        path: Path) -> pd.DataFrame:
    """Sum component size codes into their class (small = 10-19 + 20-49).

    The sum is NaN, flagged ``incomplete``, unless every component is present and not
    missing; a class also given directly keeps the direct code (logged).
    """
    key = ["country", "geo", "is_country", "year", "activity", "size_class"]
    direct = long[long["role"] == "direct"]
    comp = long[long["role"] == "component"]
    if comp.empty:
        return direct
    agg = comp.groupby(key, sort=False, dropna=False).agg(
        enterprises=("enterprises", lambda s: s.sum(min_count=len(s)) if s.notna().all()
                     else np.nan),
        n=("enterprises", "size"),
        flag=("flag", lambda s: " ".join(sorted({f for f in s if f}))),
        confidential=("confidential", "any"),
        size_code=("size_code", lambda s: "+".join(sorted(s))),
    ).reset_index()
    expected = pd.Series(smap)[pd.Series(roles) == "component"].value_counts()
    n_expected = expected.to_dict()
    incomplete = agg["n"] < agg["size_class"].map(n_expected)
    agg.loc[incomplete, "enterprises"] = np.nan
    agg.loc[incomplete, "flag"] = (agg.loc[incomplete, "flag"] + " incomplete").str.strip()
    clash = agg.merge(direct[key], on=key, how="inner")
    if not clash.empty:
        first = clash.iloc[0]
        logger.info("%s: %d size classes given both directly and by components; using the "
                    "direct code (first: %s %s %s)", path, len(clash), first["geo"],
                    first["year"], first["size_class"])
        agg = agg.merge(direct[key], on=key, how="left", indicator=True)
        agg = agg[agg["_merge"] == "left_only"].drop(columns="_merge")
    return pd.concat([direct, agg.drop(columns="n")], ignore_index=True)


def _read_one_counts(path: Path, year_range: tuple[int, int]) -> pd.DataFrame:
    """Read one business-count file into the columns of :data:`BUSINESS_COUNT_COLUMNS`."""
    raw, dims, provider, names, flag_col, flag_provider = _read_counts_file(path)
    _check_float_codes(raw, [d for d in dims if d in raw.columns], path)
    raw = _keep_enterprise_counts(raw, provider, names, path)
    smap = _codemap(provider, names["size"])
    roles = _codemap(provider, names["size"], "role")
    _check_codes(raw[names["size"]], smap, names["size"], path, what="size-class", frame=raw)
    raw = _drop_overlapping_sizes(raw, names["size"], roles, path)
    long = _counts_frame(raw, path, year_range, provider, names, flag_col, flag_provider,
                         smap, roles)
    _check_duplicates(long.assign(file=str(path)),
                      ("geo", "year", "activity", "size_code"), "load_business_counts",
                      raw["_line"].to_numpy())
    long = _combine_components(long, smap, roles, path)
    long = long.drop(columns="role", errors="ignore")
    long["source"] = "OECD SDBS" if provider == "oecd_sdbs" else "Eurostat SBS"
    long["file"] = str(path)
    return long.loc[:, list(BUSINESS_COUNT_COLUMNS)]


def load_business_counts(source: Source, *,
                         year_range: tuple[int, int] | None = None) -> pd.DataFrame:
    """Read enterprise population counts by size class (OECD SDBS or Eurostat SBS).

    Parameters
    ----------
    source
        A path, a glob pattern or a list of paths: OECD SDBS SDMX-CSV
        (``OECD.SDD.TPS:DSD_SDBSBSC_ISIC4@DF_SDBS_ISIC4``, ``MEASURE`` ``ENTR``, ``SIZE_CLASS``
        ``S1T9``/``S10T19``/``S20T49``/``S50T249``/``S_GE250``/``_T``) or Eurostat SBS SDMX-CSV
        (``sbs_sc_ovw``: ``indic_sbs`` ``ENT_NR`` by ``size_emp``; the Eurostat size codes are
        an ``assumption``, see ``tec_codes.csv``).
    year_range
        ``(first, last)`` plausible reference years; None (default) = the documented range
        of ``tec_codes.csv`` (1990 to the current year).

    Returns
    -------
    pandas.DataFrame
        Columns ``country``, ``geo``, ``is_country``, ``year``, ``activity`` (``TOTAL`` for all
        activities), ``size_class`` (``0-9``, ``10-49``, ``50-249``, ``250+``, ``total``),
        ``enterprises`` (NaN if confidential or missing), ``flag``, ``confidential``,
        ``size_code`` (source codes, ``S10T19+S20T49`` for a combined class), ``source``,
        ``file``. Small = S10T19 + S20T49; the sum is NaN if either part is missing or
        confidential (never imputed). Rows for other measures (e.g. employees) and overlapping
        size aggregates are left out with an :class:`~msme_stats.errors.ExclusionWarning`.

    Raises
    ------
    EmptyInputError, UnreadableFileError, NotRecognisedError, MissingColumnsError,
    UnknownCodeError, InvalidValueError, DuplicateIdError, OptionError
        From the same readers as :func:`msme_stats.load_tec`; messages name the file, the
        column and the line: an empty or unreadable file, a layout that is neither SDBS nor
        SBS SDMX-CSV, a missing column, an unknown size, measure, flag or reporter code, a
        count that is negative or not a number, a ``TIME_PERIOD`` outside ``year_range``,
        a repeated cell, no enterprise-count row at all, or a ``source``/``year_range``
        that is not allowed.

    Stata/R equivalent
    ------------------
    R: ``eurostat::get_eurostat("sbs_sc_ovw")`` (the Eurostat SBS table) or ``read.csv()``
    on the downloaded SDMX-CSV file; Stata: ``import delimited``. This function also maps
    the size classes onto the TEC classes and combines ``S10T19 + S20T49``, which those
    leave to the user.

    Notes
    -----
    Caveat (METHODS §3.4): the SDBS micro class is ``S1T9`` (1-9 persons employed) while TEC
    micro (``LT10``/``S0T9``) includes enterprises with no employees, so a micro export
    participation rate built from the two is biased upward. ``size_code`` records the class
    used so that :func:`msme_stats.tec_indicators` can report it.

    Examples
    --------
    The bundled OECD SDBS specimen (PARTLY SYNTHETIC values in the real layout, written by
    :mod:`msme_stats.samples.tec`); its employment rows are left out with an
    :class:`~msme_stats.errors.ExclusionWarning`:

    >>> import msme_stats as ms
    >>> from msme_stats._paths import data_dir
    >>> counts = ms.load_business_counts(data_dir() / "tec_samples" / "oecd_DF_SDBS_synthetic_sdmx.csv")
    >>> aut = counts.query("country == 'AUT' and year == 2016 and activity == 'TOTAL'")
    >>> aut[["size_class", "enterprises", "size_code"]].to_numpy().tolist()
    [['0-9', 804000.0, 'S1T9'], ['50-249', 5586.0, 'S50T249'], ['250+', 1948.0, 'S_GE250'], ['10-49', 25462.0, 'S10T19+S20T49']]
    """
    years = _year_range_option(year_range, "counts_year")
    paths = _resolve_paths(source, "load_business_counts")
    frames = [_read_one_counts(p, years) for p in paths]
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    _check_duplicates(out.assign(measure="enterprises"),
                      ("geo", "year", "activity", "size_class"), "load_business_counts")
    return out


__all__ = ["load_business_counts", "BUSINESS_COUNT_COLUMNS"]
