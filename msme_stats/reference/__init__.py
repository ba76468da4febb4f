"""Reference data shipped with msme_stats: countries, country groups, name aliases, code lists.

The data live in CSV files next to this module (documented in ``SOURCES.md``). This module
only reads them (cached, and every public reader returns a fresh copy) and offers three
lookups:

* :func:`to_iso3` turns ISO 3, ISO 2 (Namibia's ``"NA"`` included), ISO numeric codes,
  Eurostat geo codes and country names in any of their usual spellings (WBES file names
  such as ``"Kenya2018"`` included) into World Bank / ISO 3166-1 alpha-3 codes.
* :func:`country_groups` gives the year-aware group of each economy (World Bank income
  group, UN LDC status, WTO developed/developing, WTO/OECD/EU membership, region).
* :func:`group_members` lists the economies of one group in one year.

Every CSV here must be read with ``keep_default_na=False`` (as :func:`read_reference`
does): pandas otherwise turns Namibia's ISO 2 code ``"NA"`` into a missing value.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._options import CountryErrors, CountryScheme, check_choice, choices
from ..errors import (
    ExclusionWarning,
    InvalidValueError,
    OptionError,
    RecodeWarning,
    UnknownCountryError,
    UnreadableFileError,
)

__all__ = [
    "countries",
    "country_aliases",
    "country_groups",
    "group_members",
    "group_table",
    "normalize_name",
    "read_reference",
    "reference_path",
    "to_iso3",
]

_DIR = Path(__file__).resolve().parent

#: Years of the World Bank income classification covered by ``country_groups.csv``:
#: calendar year ``t`` carries the classification released on 1 July ``t`` (FY ``t+1``).
INCOME_LAST_YEAR = 2025

_SCHEMES = choices(CountryScheme)
_ERRORS = choices(CountryErrors)
#: pandas' default dtype for text: ``str`` (NaN for missing) in pandas 3, ``object`` before.
_STR_DTYPE: Any = "str" if int(pd.__version__.split(".")[0]) >= 3 else object

_YEAR_SUFFIX = re.compile(r"^(?P<base>.*?\D)[\s_\-]*(?P<year>(?:19|20)\d{2})$")


# --------------------------------------------------------------------------------------
# files
def reference_path(name: str) -> Path:
    """Return the path of a reference file shipped in ``msme_stats/reference/``.

    Parameters
    ----------
    name
        File name, with or without the ``.csv`` suffix (``"countries"`` or
        ``"countries.csv"``; ``"SOURCES.md"`` also works).

    Returns
    -------
    pathlib.Path
        Absolute path of the file.

    Raises
    ------
    OptionError
        If no such file exists; the message lists the files that do.

    Examples
    --------
    >>> reference_path("countries").name
    'countries.csv'
    >>> reference_path("SOURCES.md").name
    'SOURCES.md'
    """
    if not isinstance(name, str) or not name or "/" in name or "\\" in name:
        raise OptionError(f"name={name!r} is not a reference file name; pass e.g. 'countries'.")
    path = _DIR / name
    if not path.exists() and not path.suffix:
        path = _DIR / f"{name}.csv"
    if not path.is_file():
        available = sorted(p.name for p in _DIR.iterdir() if p.suffix in (".csv", ".md"))
        raise OptionError(
            f"name={name!r}: there is no reference file {path.name!r} in {_DIR}; "
            f"available: {', '.join(available)}."
        )
    return path


@functools.lru_cache(maxsize=32)
def _read_cached(name: str) -> pd.DataFrame:
    path = reference_path(name)
    try:
        # keep_default_na=False: "NA" (Namibia) must stay a string; only empty cells are missing
        return pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:  # pragma: no cover
        raise UnreadableFileError(f"{path}: cannot be read as UTF-8 CSV ({exc}).") from exc


def read_reference(name: str) -> pd.DataFrame:
    """Read any CSV of ``msme_stats/reference/`` as strings, keeping ``"NA"`` as text.

    Only empty cells become missing (``keep_default_na=False``), so Namibia's ISO 2 code
    survives. The result is a copy: changing it does not change the cached table.

    Parameters
    ----------
    name
        File name, with or without ``.csv``.

    Returns
    -------
    pandas.DataFrame
        All columns as ``object`` strings, missing cells as NaN.

    Raises
    ------
    OptionError
        No such reference file (from :func:`reference_path`).
    UnreadableFileError
        The file is not UTF-8 CSV.

    Examples
    --------
    >>> codes = read_reference("wbes_size_codes")
    >>> codes.loc[codes["variable"] == "a6a", ["code", "size_class"]].head(3).values.tolist()
    [['1', 'small'], ['2', 'medium'], ['3', 'large']]
    """
    return _read_cached(name).copy()


_YEAR_COLS_COUNTRIES = ("wto_member_since", "oecd_member_since", "eu_member_since", "eu_left")


@functools.lru_cache(maxsize=1)
def _countries() -> pd.DataFrame:
    df = _read_cached("countries").copy()
    for col in _YEAR_COLS_COUNTRIES:
        df[col] = pd.to_numeric(df[col]).astype("Int64")
    if df["iso3"].duplicated().any():  # pragma: no cover - guarded by tests
        raise InvalidValueError(f"{reference_path('countries')}: column iso3 has duplicates.")
    return df


def countries() -> pd.DataFrame:
    """Country metadata: one row per economy (the World Bank economies, Taiwan, Kosovo and West Bank and Gaza included).

    Returns
    -------
    pandas.DataFrame
        Columns:

        ``iso3``
            ISO 3166-1 alpha-3 code (World Bank code ``XKX`` for Kosovo, ``CHI`` for the
            Channel Islands).
        ``iso2``
            ISO 3166-1 alpha-2 code (``"NA"`` for Namibia, ``"XK"`` for Kosovo; missing
            for the Channel Islands).
        ``iso_numeric``
            ISO 3166-1 numeric code as a three-character string (``"004"``); missing for
            Kosovo.
        ``name``
            World Bank short name (``"Egypt, Arab Rep."``).
        ``wb_region``, ``wb_region_code``
            World Bank region, seven-region scheme used up to FY2024 and by the Enterprise
            Surveys (``"Middle East & North Africa"``, ``"MEA"``; ``"South Asia"`` includes
            Afghanistan and Pakistan).
        ``wb_region_fy2025``
            World Bank region from FY2025 (Afghanistan and Pakistan in "Middle East, North
            Africa, Afghanistan & Pakistan").
        ``wto_member_since``, ``oecd_member_since``, ``eu_member_since``, ``eu_left``
            Years (``Int64``), missing if never.
        ``source_codes``, ``source_name_region``, ``source_membership``
            Sources.

    Notes
    -----
    *Source*: ISO 3166-1; World Bank OGHIST and CLASS; WTO, OECD and EU membership lists
    (see ``msme_stats/reference/SOURCES.md``).

    Raises
    ------
    UnreadableFileError
        ``countries.csv`` cannot be read (a broken installation).

    Examples
    --------
    >>> countries().set_index("iso3").loc["KEN", ["iso2", "name", "wb_region"]].tolist()
    ['KE', 'Kenya', 'Sub-Saharan Africa']
    """
    return _countries().copy()


def country_aliases() -> pd.DataFrame:
    """Alias table used by :func:`to_iso3` (columns alias, iso3, scheme, match, source, note).

    Returns
    -------
    pandas.DataFrame
        One row per alias (``country_aliases.csv``): ``alias``, ``iso3``, ``scheme`` (the
        code scheme or ``name``), ``match``, ``source``, ``note``; text columns.

    Raises
    ------
    UnreadableFileError
        ``country_aliases.csv`` cannot be read (a broken installation).

    Examples
    --------
    >>> aliases = country_aliases()
    >>> aliases.loc[aliases["alias"] == "Ivory Coast", ["iso3", "scheme", "match"]].values.tolist()
    [['CIV', 'name', 'exact']]
    """
    return read_reference("country_aliases")


# --------------------------------------------------------------------------------------
# names
def normalize_name(value: Any) -> str:
    """Normalise a country name for matching.

    Lower case; accents removed (NFKD); ``&`` becomes ``and``; apostrophes removed; every
    other run of non-alphanumeric characters becomes one space. ``"Côte d'Ivoire"`` and
    ``"COTE D’IVOIRE"`` both give ``"cote divoire"``.

    Parameters
    ----------
    value
        A name (anything else is turned into text first).

    Returns
    -------
    str
        The normalised name.

    Raises
    ------
    None
        Any value is accepted.

    Examples
    --------
    >>> normalize_name("Côte d'Ivoire"), normalize_name("Bosnia & Herzegovina")
    ('cote divoire', 'bosnia and herzegovina')
    """
    s = unicodedata.normalize("NFKD", str(value))
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    s = s.lower().replace("&", " and ")
    s = re.sub(r"['\u2019\u2018`\u00b4]", "", s)
    s = re.sub(r"[^0-9a-z]+", " ", s)
    return " ".join(s.split())


class _Index:
    """Lookup dictionaries built once from countries.csv and country_aliases.csv."""

    def __init__(self) -> None:
        c = _countries()
        al = _read_cached("country_aliases")
        self.iso3 = {v.upper(): v for v in c["iso3"]}
        self.iso2 = {
            v.upper(): k for k, v in zip(c["iso3"], c["iso2"], strict=True) if isinstance(v, str)
        }
        self.numeric = {
            int(v): k
            for k, v in zip(c["iso3"], c["iso_numeric"], strict=True)
            if isinstance(v, str)
        }
        self.names: dict[str, str] = {}
        for code, name in zip(c["iso3"], c["name"], strict=True):
            self._add_name(name, code)
        self.regex: list[tuple[re.Pattern[str], str]] = []
        self.extra: dict[str, dict[str, str]] = {"iso3": {}, "iso2": {}, "eurostat": {}}
        for alias, code, scheme, match in zip(
            al["alias"], al["iso3"], al["scheme"], al["match"], strict=True
        ):
            if code not in self.iso3:
                raise InvalidValueError(
                    f"{reference_path('country_aliases')}: alias {alias!r} points to {code!r}, "
                    "which is not in countries.csv."
                )
            if scheme == "name" and match == "regex":
                self.regex.append((re.compile(alias), code))
            elif scheme == "name":
                self._add_name(alias, code)
            else:
                self.extra[scheme][alias.upper()] = code

    def _add_name(self, name: str, code: str) -> None:
        key = normalize_name(name)
        for k in (key, key.replace(" ", "")):
            old = self.names.setdefault(k, code)
            if old != code:
                raise InvalidValueError(
                    f"{reference_path('country_aliases')}: name {name!r} maps to both {old} and {code}."
                )

    # -- single-value resolvers (called once per unique value) --
    def by_iso3(self, s: str) -> str | None:
        u = s.strip().upper()
        return self.iso3.get(u) or self.extra["iso3"].get(u)

    def by_iso2(self, s: str) -> str | None:
        u = s.strip().upper()
        return self.iso2.get(u) or self.extra["iso2"].get(u)

    def by_eurostat(self, s: str) -> str | None:
        u = s.strip().upper()
        return self.extra["eurostat"].get(u) or self.iso2.get(u)

    def by_numeric(self, s: str) -> str | None:
        t = s.strip()
        if t.endswith(".0"):
            t = t[:-2]
        return self.numeric.get(int(t)) if t.isdigit() else None

    def by_name(self, s: str) -> str | None:
        key = normalize_name(s)
        if not key:
            return None
        hit = self.names.get(key) or self.names.get(key.replace(" ", ""))
        if hit:
            return hit
        for pat, code in self.regex:
            if pat.fullmatch(key):
                return code
        m = _YEAR_SUFFIX.match(s.strip())
        if m:  # "Kenya2018", "Kenya 2018", "Congo, Dem. Rep.2013"
            return self.by_name(m.group("base"))
        return None

    def auto(self, s: str) -> str | None:
        t = s.strip()
        if t.replace(".0", "", 1).isdigit():
            return self.by_numeric(t)
        if len(t) == 3 and t.isalpha():
            hit = self.by_iso3(t)
            if hit:
                return hit
        if len(t) == 2 and t.isalpha():
            hit = self.by_iso2(t) or self.extra["eurostat"].get(t.upper())
            if hit:
                return hit
        return self.by_name(t)

    def suggestions(self, s: str) -> list[str]:
        key = normalize_name(s)
        m = _YEAR_SUFFIX.match(str(s).strip())
        if m:
            key = normalize_name(m.group("base"))
        close = difflib.get_close_matches(key, list(self.names), n=2, cutoff=0.75)
        return [f"{k!r}->{self.names[k]}" for k in close]


@functools.lru_cache(maxsize=1)
def _index() -> _Index:
    return _Index()


def _as_series(values: Any, name: str) -> pd.Series:
    if isinstance(values, pd.Series):
        return values
    if isinstance(values, pd.Index):
        return pd.Series(values, index=values, name=name)
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        return pd.Series([values], name=name)
    return pd.Series(list(values), name=name)


def _resolve_codes(uniques: Any, idx: Any, scheme: str) -> tuple[dict[Any, Any], list[Any]]:
    """Resolve each distinct value with the scheme's resolver (integers as ISO numeric codes
    under ``auto``/``numeric``; booleans never match); return the map and the unknown values."""
    resolver = {
        "auto": idx.auto,
        "iso3": idx.by_iso3,
        "iso2": idx.by_iso2,
        "numeric": idx.by_numeric,
        "name": idx.by_name,
        "eurostat": idx.by_eurostat,
    }[scheme]
    mapping: dict[Any, Any] = {}
    unknown: list[Any] = []
    for u in uniques:
        if isinstance(u, (bool, np.bool_)):
            code = None
        elif isinstance(u, (int, np.integer)) or (
            isinstance(u, (float, np.floating)) and float(u).is_integer()
        ):
            code = idx.by_numeric(str(int(u))) if scheme in ("auto", "numeric") else None
        else:
            code = resolver(str(u))
        if code is None:
            unknown.append(u)
            mapping[u] = np.nan
        else:
            mapping[u] = code
    return mapping, unknown


def _report_unknown(present: pd.Series, unknown: list[Any], idx: Any, scheme: str, errors: str) -> None:
    """Raise :class:`~msme_stats.errors.UnknownCountryError` listing the unknown values (with
    close matches), or with ``errors="coerce"`` warn with their counts."""
    n_rows = int(present.isin(unknown).sum())
    listed = ", ".join(repr(u) for u in unknown)
    if errors == "raise":
        hints = [h for u in unknown for h in idx.suggestions(str(u))]
        hint = f" Close matches: {', '.join(hints)}." if hints else ""
        raise UnknownCountryError(
            f"{len(unknown)} value(s) ({n_rows} row(s)) could not be matched to a country with "
            f"scheme={scheme!r}: {listed}.{hint} Add the spelling to "
            f"msme_stats/reference/country_aliases.csv, choose another scheme, or pass "
            f"errors='coerce' to get missing values for them."
        )
    warnings.warn(
        f"to_iso3: {n_rows} row(s) ({len(unknown)} distinct value(s)) matched no country with "
        f"scheme={scheme!r} and were set to missing: {listed}.",
        RecodeWarning,
        stacklevel=3,  # _report_unknown <- to_iso3 <- the user's call
    )


def to_iso3(
    values: Any,
    *,
    scheme: CountryScheme = "auto",
    errors: CountryErrors = "raise",
) -> pd.Series:
    """Convert country codes or names to ISO 3166-1 alpha-3 codes.

    Each distinct value is resolved once, then mapped back onto all rows.

    Parameters
    ----------
    values
        A Series, Index, list, array or a single value. Strings (codes or names) or
        integers (ISO numeric codes). Missing values stay missing (no warning).
    scheme
        How to read the values:

        ``"auto"`` (default)
            Digits are ISO numeric codes; three letters an ISO 3 code (legacy World Bank
            codes ``ROM``, ``ZAR``, ``TMP``, ``KSV``, ``WBG`` accepted); two letters an ISO 2
            code (``"NA"`` is Namibia) or a Eurostat exception (``EL``, ``UK``, ``XK``);
            anything else a name.
        ``"iso3"``, ``"iso2"``, ``"numeric"``
            Only that kind of code (case-insensitive).
        ``"eurostat"``
            Eurostat geo codes: ISO 2 with ``EL`` -> GRC, ``UK`` -> GBR, ``XK`` -> XKX.
            Aggregates (``EU27_2020``, ``EA20``) and sub-national codes (``UKN``) are unknown.
        ``"name"``
            Names in any spelling listed in ``country_aliases.csv`` or matched by its
            patterns, compared after :func:`normalize_name` (case, accents, punctuation and
            spaces ignored). A trailing survey year (``"Kenya2018"``, ``"Kenya 2018"``, as in
            the WBES comprehensive file) is stripped.
    errors
        ``"raise"`` (default): raise :class:`~msme_stats.errors.UnknownCountryError`
        listing every unknown value. ``"coerce"``: return a missing value for them and issue a
        :class:`~msme_stats.errors.RecodeWarning` with the counts.

    Returns
    -------
    pandas.Series
        ISO 3 codes in pandas' default text dtype (``str`` in pandas 3, ``object`` in
        pandas 2; missing = NaN), same length and index as ``values`` (a Series keeps
        its index; an Index becomes the index), named ``"iso3"``.

    Raises
    ------
    UnknownCountryError
        With ``errors="raise"``, when some values match no economy.

    Notes
    -----
    R equivalent: ``countrycode::countrycode(x, "country.name", "iso3c")``; Stata: ``kountry``.
    The alias table of this package is its own (see ``SOURCES.md``).

    Examples
    --------
    >>> to_iso3(["NA", "Kenya2018", "Côte d'Ivoire", "EL"]).tolist()
    ['NAM', 'KEN', 'CIV', 'GRC']
    """
    scheme = check_choice("scheme", scheme, _SCHEMES)
    errors = check_choice("errors", errors, _ERRORS)
    s = _as_series(values, "iso3")
    idx = _index()
    missing = s.isna().to_numpy()
    mapping, unknown = _resolve_codes(pd.unique(s[~missing]), idx, scheme)
    if unknown:
        _report_unknown(s[~missing], unknown, idx, scheme, errors)
    out = pd.Series(s.map(mapping).to_numpy(dtype=object), index=s.index, name="iso3")
    return out.astype(_STR_DTYPE)


# --------------------------------------------------------------------------------------
# groups
@functools.lru_cache(maxsize=1)
def _groups() -> pd.DataFrame:
    g = _read_cached("country_groups").copy()
    for col in ("valid_from", "valid_to"):
        g[col] = pd.to_numeric(g[col]).astype("Int64")
    return g


def group_table() -> pd.DataFrame:
    """The long, year-aware group table (``country_groups.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns ``iso3``, ``group_type``, ``group``, ``valid_from``, ``valid_to`` (``Int64``
        calendar years, inclusive; missing ``valid_from`` = since before coverage, missing
        ``valid_to`` = still in force), ``source``, ``note``.

    Raises
    ------
    UnreadableFileError
        ``country_groups.csv`` cannot be read (a broken installation).

    Examples
    --------
    >>> g = group_table()
    >>> g[(g["iso3"] == "KEN") & (g["group_type"] == "income")][["group", "valid_from", "valid_to"]]
        group  valid_from  valid_to
    255   LIC        1988      2014
    256   LMC        2015      <NA>
    """
    return _groups().copy()


def _group_types() -> list[str]:
    return list(dict.fromkeys(_groups()["group_type"]))


def _year_array(year: Any, n: int) -> np.ndarray:
    if year is None:  # +inf selects the intervals still in force (open valid_to)
        return np.full(n, np.inf)
    if np.ndim(year) == 0:
        arr = np.full(n, year, dtype=float)
    else:
        values = year.to_numpy() if isinstance(year, (pd.Series, pd.Index)) else list(year)
        arr = pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)
        if len(arr) != n:
            raise InvalidValueError(
                f"year has {len(arr)} values but iso3 has {n}; pass one year or one per country."
            )
    bad = np.isfinite(arr) & (arr != np.round(arr))
    if bad.any():
        raise InvalidValueError(
            f"year must hold whole calendar years; got {arr[bad][:5].tolist()}."
        )
    return arr


def _year_label(y: float) -> str:
    if np.isnan(y):
        return "missing year"
    return "current" if np.isinf(y) else str(int(y))


def _check_known_codes(codes: pd.Series, code_str: pd.Series) -> None:
    """Raise :class:`~msme_stats.errors.UnknownCountryError` listing every code that is not
    an ISO 3 code of ``countries.csv`` (missing values pass)."""
    known = set(_countries()["iso3"])
    is_bad = code_str.notna() & ~code_str.isin(known)
    bad = list(dict.fromkeys(codes[is_bad.to_numpy(dtype=bool)].tolist()))
    if bad:
        raise UnknownCountryError(
            f"country_groups: {len(bad)} code(s) are not ISO 3 codes of countries.csv: "
            f"{', '.join(repr(b) for b in bad)}. Convert names and other codes with to_iso3() first."
        )


def _interval_lookup(frame: pd.DataFrame, group_type: str) -> pd.Series:
    """Group per row of ``frame`` (``iso3``, ``year``): the interval of ``country_groups.csv``
    with ``valid_from <= year <= valid_to`` (open ends unbounded); NaN where none."""
    g = _groups()
    g = g[g["group_type"] == group_type]
    pairs = frame.drop_duplicates().dropna(subset=["iso3"])
    m = pairs.merge(g[["iso3", "group", "valid_from", "valid_to"]], on="iso3", how="left")
    lo = m["valid_from"].astype("float").fillna(-np.inf).to_numpy()
    hi = m["valid_to"].astype("float").fillna(np.inf).to_numpy()
    y = m["year"].to_numpy(dtype=float)
    ok = (lo <= y) & (y <= hi)  # NaN years match nothing; +inf only open intervals
    hit = m.loc[ok, ["iso3", "year", "group"]]
    if hit.duplicated(["iso3", "year"]).any():  # pragma: no cover - guarded by tests
        raise InvalidValueError(
            f"{reference_path('country_groups')}: overlapping intervals for {group_type}."
        )
    return frame.merge(hit, on=["iso3", "year"], how="left")["group"]


def _warn_unclassified(out: pd.Series, frame: pd.DataFrame, code_str: pd.Series, group_type: str) -> None:
    """Warn (:class:`~msme_stats.errors.ExclusionWarning`) with the count and first rows
    that have a code but no classification for their year."""
    n_missing = int((out.isna() & code_str.notna()).sum())
    if n_missing:
        lost = frame.loc[out.isna().to_numpy() & code_str.notna().to_numpy()].drop_duplicates()
        first = lost.head(10)
        shown = ", ".join(f"{c}/{_year_label(y)}" for c, y in
                          zip(first["iso3"], first["year"].to_numpy(dtype=float), strict=True))
        more = "" if len(lost) <= 10 else f" and {len(lost) - 10} more"
        warnings.warn(
            f"country_groups: {n_missing} of {len(out)} row(s) have no {group_type!r} classification for the "
            f"year asked ({shown}{more}); they are returned as missing values.",
            ExclusionWarning,
            stacklevel=3,  # _warn_unclassified <- country_groups <- the user's call
        )


def country_groups(
    iso3: Any,
    year: Any = None,
    *,
    group_type: str = "income",
) -> pd.Series:
    """Year-aware group of each economy.

    Parameters
    ----------
    iso3
        ISO 3 codes (Series, list, array or one code). Convert names first with
        :func:`to_iso3`.
    year
        Calendar year: ``None`` (current classification, the interval still in force), one
        year for all rows, or one year per row (same length as ``iso3``).
    group_type
        One of the group types in ``country_groups.csv``:

        ``"income"``
            World Bank income group ``LIC``/``LMC``/``UMC``/``HIC``. Calendar year ``t``
            gets the classification released on 1 July ``t`` (fiscal year ``t+1``), which
            rests on GNI per capita (Atlas method) of year ``t-1``. Covered: 1988-2025.
        ``"ldc"``
            ``ldc``/``non_ldc`` (UN list; a year counts as LDC if the country was on the
            list during it, a graduation on 1 January ends it the year before).
        ``"wto_development"``
            ``developed``/``developing`` as in WTO statistics and the WTR 2016 (developed =
            North America excl. Mexico, EU, EFTA, Australia, Japan, New Zealand).
        ``"wto"``, ``"oecd"``, ``"eu"``
            Membership (``member``/``non_member``, ``oecd``/``non_oecd``, ``eu``/``non_eu``).
        ``"wb_region"``, ``"wb_region_fy2025"``
            World Bank region (current assignment, no history).

    Returns
    -------
    pandas.Series
        Labels in pandas' default text dtype, named after ``group_type``, aligned with
        ``iso3`` (a Series keeps its index). Missing (NaN) where the table has no interval
        for the country and year
        (for example Venezuela's income group from 2021, unclassified by the World Bank);
        the count is reported with an :class:`~msme_stats.errors.ExclusionWarning`.

    Raises
    ------
    UnknownCountryError
        If a code is not in ``countries.csv`` (the message lists all of them).
    OptionError
        If ``group_type`` is unknown.

    Notes
    -----
    *Definition*: interval lookup ``valid_from <= year <= valid_to`` in
    ``country_groups.csv``. *Source*: World Bank OGHIST; UN DESA CDP LDC timeline; WTO
    statistics; see ``SOURCES.md``.

    Examples
    --------
    >>> country_groups(["KEN", "DEU"], 2015, group_type="income").tolist()
    ['LMC', 'HIC']
    >>> country_groups(["KEN", "DEU"], [2010, 2015], group_type="wto_development").tolist()
    ['developing', 'developed']
    """
    group_type = check_choice("group_type", group_type, _group_types())
    codes = _as_series(iso3, group_type)
    n = len(codes)
    years = _year_array(year, n)
    code_str = codes.astype("string").str.strip().str.upper()
    _check_known_codes(codes, code_str)
    frame = pd.DataFrame({"iso3": code_str.to_numpy(), "year": years})
    res = _interval_lookup(frame, group_type)
    out = pd.Series(res.to_numpy(dtype=object), index=codes.index, name=group_type)
    out = out.astype(_STR_DTYPE)
    _warn_unclassified(out, frame, code_str, group_type)
    return out


def group_members(group_type: str, group: str, year: int | None = None) -> list[str]:
    """ISO 3 codes of the economies in one group in one calendar year.

    Parameters
    ----------
    group_type
        As in :func:`country_groups`.
    group
        A label of that group type (e.g. ``"LIC"``, ``"ldc"``, ``"developed"``).
    year
        Calendar year; ``None`` means the classification now in force.

    Returns
    -------
    list of str
        Sorted ISO 3 codes.

    Raises
    ------
    OptionError
        ``group_type`` or ``group`` is unknown, or ``year`` is not one whole year.

    Examples
    --------
    >>> "WSM" in group_members("ldc", "ldc", 2013), "WSM" in group_members("ldc", "ldc", 2015)
    (True, False)
    """
    group_type = check_choice("group_type", group_type, _group_types())
    g = _groups()
    g = g[g["group_type"] == group_type]
    group = check_choice("group", group, list(dict.fromkeys(g["group"])))
    g = g[g["group"] == group]
    if year is None:
        sel = g["valid_to"].isna()
    else:
        if np.ndim(year) != 0 or float(year) != int(year):
            raise OptionError(f"year={year!r} must be one whole calendar year or None.")
        y = int(year)
        sel = g["valid_from"].fillna(-(10**9)).le(y) & g["valid_to"].fillna(10**9).ge(y)
    return sorted(g.loc[sel.to_numpy(dtype=bool), "iso3"].unique().tolist())
