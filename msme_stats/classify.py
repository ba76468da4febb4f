"""Classifications: size classes (every scheme explicit), SME groups and sectors.

Each function takes a frame or a series and returns a new series; inputs are never
modified. The knowledge behind them (WBES size codes, sector labels, ISIC ranges) lives in
CSV files under ``msme_stats/reference/`` with their sources. Country groups are in
:mod:`msme_stats.reference` (:func:`msme_stats.country_groups`); the name
``classify.country_groups`` is a deprecated alias.

Size-class schemes are kept apart on purpose: a WBES "small" firm (5-19 employees) is not
an OECD/Eurostat "small" enterprise (10-49 employees).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from ._options import (
    IsicRevision,
    MicroRule,
    SectorSource,
    SizeScheme,
    WbesBelow5,
    check_choice,
    choices,
)
from .errors import ExclusionWarning, InvalidValueError, MissingColumnsError, OptionError
from .reference import reference_path

logger = logging.getLogger(__name__)

#: ``size_class(below5=)``: the same choice as ``load_wbes(below5=)``
Below5 = WbesBelow5

#: Canonical order of the WBES size classes (employees: micro <5, small 5-19, medium 20-99,
#: large 100+). "micro" only appears for employee-based classes (``below5="separate"``).
WBES_SIZE_ORDER: tuple[str, ...] = ("micro", "small", "medium", "large")
#: OECD/Eurostat TEC size classes (employees).
OECD_SIZE_ORDER: tuple[str, ...] = ("0-9", "10-49", "50-249", "250+")
#: Order of the two-way split.
SME_ORDER: tuple[str, ...] = ("micro", "SME", "large")

WBES_L1_EDGES: tuple[float, ...] = (0, 5, 20, 100, np.inf)
OECD_EDGES: tuple[float, ...] = (0, 10, 50, 250, np.inf)
SECTOR_ORDER: tuple[str, ...] = ("manufacturing", "retail", "other_services")


@cache
def _size_codes() -> pd.DataFrame:
    return pd.read_csv(reference_path("wbes_size_codes.csv"), keep_default_na=False)


@cache
def _sector_labels() -> pd.DataFrame:
    return pd.read_csv(reference_path("wbes_sector_labels.csv"), keep_default_na=False)


@cache
def _isic_sectors() -> pd.DataFrame:
    return pd.read_csv(reference_path("isic_sectors.csv"), dtype={"isic_revision": str})


def _ordered(values: pd.Series | np.ndarray, order: Sequence[str], index=None, name=None) -> pd.Series:
    return pd.Series(
        pd.Categorical(values, categories=list(order), ordered=True), index=index, name=name
    )


def _cut(x: pd.Series, edges: Sequence[float], labels: Sequence[str], name: str) -> pd.Series:
    """Right-open intervals [a, b); NaN stays NaN; values below the first edge are errors."""
    x = pd.to_numeric(x, errors="coerce")
    if (x < edges[0]).any():
        bad = x[x < edges[0]]
        raise InvalidValueError(
            f"{len(bad)} value(s) below {edges[0]} in the size variable (first: {bad.iloc[0]!r} at "
            f"index {bad.index[0]!r}); recode negative missing codes to NaN first "
            "(load_wbes does this)."
        )
    codes = np.searchsorted(np.asarray(edges[1:-1], dtype=float), x.to_numpy(float), side="right")
    out = np.asarray(labels, dtype=object)[codes]  # fancy indexing: a new array
    out[x.isna().to_numpy()] = None
    return pd.Series(out, index=x.index, name=name)


def size_from_stratum(stratum: pd.Series, *, split_large: bool = False, variable: str = "a6a") -> pd.Series:
    """Map WBES sampling size strata (``a6a`` codes or decoded labels) to size classes.

    Parameters
    ----------
    stratum
        Values of ``a6a`` (or ``a6b`` with ``variable="a6b"``): integer codes 1/2/3(/4)
        or their value labels ("Small(5-19)", "Large(100 And Over)", "Very Large(250+)", ...).
    split_large
        If False (default, METHODS 2.4) surveys that split large firms into 100-249 and
        250+ are folded into ``large``; if True the 250+ stratum is ``large_250plus``.
    variable
        Which WBES variable the codes come from (``"a6a"`` or ``"a6b"``).

    Returns
    -------
    pandas.Series
        Ordered categorical with categories small, medium, large (and large_250plus when
        split, micro for ``a6b``). Unknown codes raise :class:`InvalidValueError`.

    Raises
    ------
    InvalidValueError
        A code or label that ``reference/wbes_size_codes.csv`` does not know (all are listed).

    Stata/R equivalent
    ------------------
    Stata ``recode a6a (1=1 "small") (2=2 "medium") (3 4=3 "large"), gen(size)``; R
    ``factor(a6a, levels = 1:3, labels = c("small", "medium", "large"))``.

    Examples
    --------
    >>> size_from_stratum(pd.Series([1, 2, 3, "Large(100 And Over)"])).tolist()
    ['small', 'medium', 'large', 'large']
    >>> size_from_stratum(pd.Series([1, 4]), split_large=True).tolist()
    ['small', 'large_250plus']
    """
    table = _size_codes()
    table = table[table["variable"] == variable]
    col = "size_detail" if split_large else "size_class"
    by_code = dict(zip(table["code"].astype(str), table[col], strict=True))
    patterns = [(re.compile(p, re.I), c) for p, c in zip(table["label_pattern"], table[col], strict=True)]

    def resolve(v: object) -> object:
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return None
        s = str(v).strip()
        key = s[:-2] if s.endswith(".0") else s
        if key in by_code:
            return by_code[key]
        # patterns: most specific ("very large") first, they are listed after plain "large"
        for pat, cls in reversed(patterns):
            if pat.search(s):
                return cls
        return "?"

    uniques = pd.unique(stratum.astype(object))
    mapping = {u: resolve(u) for u in uniques}
    unknown = [u for u, m in mapping.items() if m == "?"]
    if unknown:
        raise InvalidValueError(
            f"Unknown {variable} size code(s) {unknown!r}; known codes: "
            f"{sorted(by_code)}. Add the code to msme_stats/reference/wbes_size_codes.csv "
            "or pass size_scheme='l1' to classify by employees."
        )
    order = list(WBES_SIZE_ORDER) + (["large_250plus"] if split_large else [])
    return _ordered(stratum.astype(object).map(mapping), order, index=stratum.index, name="size_class")


def size_class(
    data: pd.DataFrame | pd.Series,
    *,
    scheme: SizeScheme = "a6a",
    column: str | None = None,
    below5: Below5 = "separate",
    split_large: bool = False,
    bins: Sequence[float] | None = None,
    labels: Sequence[str] | None = None,
) -> pd.Series:
    """Size class of each firm under an explicit scheme.

    Parameters
    ----------
    data
        A canonical firm frame (from :func:`msme_stats.load_wbes`) or a single series.
    scheme
        * ``"a6a"`` (default; METHODS 2.4, the official WBES breakdown): the sampling
          stratum ``a6a`` (canonical column ``size_stratum``) -> small (5-19), medium
          (20-99), large (100+).
        * ``"l1"``: permanent full-time employees (canonical column ``employees``) cut at
          [5, 20, 100); firms with fewer than 5 employees are ``micro`` (never dropped).
        * ``"oecd"``: the OECD/Eurostat TEC scheme on employees: ``0-9``, ``10-49``,
          ``50-249``, ``250+``.
        * ``"bins"``: user-given right-open ``bins`` and ``labels``
          (``len(labels) == len(bins) - 1``).
    column
        Column to classify; defaults to ``size_stratum`` for ``"a6a"`` and ``employees``
        otherwise.
    below5
        For ``"l1"`` only: ``"separate"`` (default) keeps firms with fewer than 5 employees
        as ``micro``; ``"merge_small"`` counts them as small.
    split_large
        For ``"a6a"`` only: keep the 250+ stratum apart where a survey has one.
    bins, labels
        For ``"bins"``.

    Returns
    -------
    pandas.Series
        Ordered categorical named ``size_class``; missing input gives missing output.

    Raises
    ------
    OptionError
        ``scheme``/``below5`` not allowed, or ``bins``/``labels`` missing, of unequal
        lengths or not increasing.
    MissingColumnsError
        The frame lacks the column to classify.
    InvalidValueError
        Values below the first edge (raw negative WBES codes), or unknown ``a6a`` codes.

    Stata/R equivalent
    ------------------
    ``"l1"``/``"oecd"``/``"bins"``: Stata ``egen size = cut(l1), at(0 5 20 100 1e9)``
    (``recode``); R ``cut(l1, c(0, 5, 20, 100, Inf), right = FALSE)``. ``"a6a"``: see
    :func:`size_from_stratum`.

    Examples
    --------
    >>> employees = pd.Series([3, 12, 45, 300, np.nan])
    >>> size_class(employees, scheme="l1").tolist()
    ['micro', 'small', 'medium', 'large', nan]
    >>> size_class(employees, scheme="oecd").tolist()
    ['0-9', '10-49', '10-49', '250+', nan]
    >>> size_class(pd.DataFrame({"size_stratum": [1, 2, 3]})).tolist()
    ['small', 'medium', 'large']
    """
    scheme = check_choice("scheme", scheme, choices(SizeScheme))
    below5 = check_choice("below5", below5, choices(WbesBelow5))
    if isinstance(data, pd.DataFrame):
        col = column or ("size_stratum" if scheme == "a6a" else "employees")
        if col not in data.columns:
            raise MissingColumnsError(
                f"size_class(scheme={scheme!r}) needs column {col!r}, which is not in the frame "
                f"(columns: {list(data.columns)[:12]}...). Pass column=... to name it."
            )
        x = data[col]
    else:
        x = data
    if scheme == "a6a":
        return size_from_stratum(x, split_large=split_large)
    if scheme == "l1":
        first = "micro" if below5 == "separate" else "small"
        out = _cut(x, WBES_L1_EDGES, [first, "small", "medium", "large"], "size_class")
        return _ordered(out, WBES_SIZE_ORDER, index=x.index, name="size_class")
    if scheme == "oecd":
        out = _cut(x, OECD_EDGES, OECD_SIZE_ORDER, "size_class")
        return _ordered(out, OECD_SIZE_ORDER, index=x.index, name="size_class")
    if bins is None or labels is None or len(labels) != len(bins) - 1:
        raise OptionError(
            "scheme='bins' needs bins=[e0, e1, ..., ek] and labels of length k "
            f"(got bins={bins!r}, labels={labels!r})."
        )
    if list(bins) != sorted(bins):
        raise OptionError(f"bins must be increasing, got {bins!r}.")
    out = _cut(x, list(bins), list(labels), "size_class")
    return _ordered(out, list(labels), index=x.index, name="size_class")


def sme_group(size: pd.Series, *, micro: MicroRule = "sme") -> pd.Series:
    """Two-way split of a size class: ``SME`` versus ``large``.

    WBES classes: small and medium -> SME (5-99 employees), large (and large_250plus)
    -> large. OECD classes: ``0-9``, ``10-49``, ``50-249`` -> SME (MSME, fewer than 250),
    ``250+`` -> large. ``micro`` (WBES firms under 5) joins SME unless
    ``micro="separate"``.

    Parameters
    ----------
    size
        Size classes (WBES or OECD labels, as :func:`size_class` gives them).
    micro
        ``"sme"`` (default): micro firms are SMEs; ``"separate"``: they keep a ``micro`` group.

    Returns
    -------
    pandas.Series
        Ordered categorical named ``sme_group`` (categories ``micro``, ``SME``, ``large``),
        with the index of ``size``; missing stays missing.

    Raises
    ------
    OptionError
        ``micro`` is not allowed.
    InvalidValueError
        A size class that is not a WBES or OECD class.

    Stata/R equivalent
    ------------------
    Stata ``recode size (1 2 = 1 "SME") (3 = 2 "large"), gen(sme)``; R
    ``forcats::fct_collapse(size, SME = c("small", "medium"))``.

    Examples
    --------
    >>> sme_group(pd.Series(["micro", "small", "medium", "large"])).tolist()
    ['SME', 'SME', 'SME', 'large']
    >>> sme_group(pd.Series(["0-9", "250+"])).tolist()
    ['SME', 'large']
    >>> sme_group(pd.Series(["micro", "small"]), micro="separate").tolist()
    ['micro', 'SME']
    """
    micro = check_choice("micro", micro, choices(MicroRule))
    mapping = {
        "small": "SME", "medium": "SME", "large": "large", "large_250plus": "large",
        "0-9": "SME", "10-49": "SME", "50-249": "SME", "250+": "large",
        "micro": "SME" if micro == "sme" else "micro",
    }
    values = size.astype(object)
    unknown = set(pd.unique(values.dropna())) - set(mapping)
    if unknown:
        raise InvalidValueError(f"sme_group: unknown size class(es) {sorted(map(str, unknown))}.")
    return _ordered(values.map(mapping), SME_ORDER, index=size.index, name="sme_group")


def sector_class(
    data: pd.DataFrame,
    *,
    label_column: str = "sector_raw",
    isic_column: str = "isic",
    isic_revision: IsicRevision = "3.1",
    source: SectorSource = "label_then_isic",
) -> pd.Series:
    """Sector of each firm: ``manufacturing``, ``retail`` or ``other_services``.

    Parameters
    ----------
    data
        Frame with the WBES stratification sector label (``a4a``, canonical
        ``sector_raw``) and/or an ISIC code (canonical ``isic``).
    label_column, isic_column
        Names of the label and ISIC columns (canonical names by default); a missing
        column is skipped.
    source
        ``"label_then_isic"`` (default): the ``a4a`` label (patterns in
        ``reference/wbes_sector_labels.csv``), then the ISIC division where the label is
        missing or unmatched; ``"label"`` or ``"isic"`` use one source only.
    isic_revision
        ISIC revision of the codes: ``"3.1"`` (default; WBES Global Methodology surveys
        2006-2019) or ``"4"`` (ranges in ``reference/isic_sectors.csv``). 4-digit codes
        are reduced to their division.

    Returns
    -------
    pandas.Series
        Categorical named ``sector``; firms matched by neither source are missing and
        counted in an :class:`~msme_stats.errors.ExclusionWarning`.

    Raises
    ------
    OptionError
        ``source`` or ``isic_revision`` is not allowed.

    Examples
    --------
    >>> firms = pd.DataFrame({"sector_raw": ["Manufacturing", "Retail", None],
    ...                       "isic": [np.nan, np.nan, 55]})
    >>> sector_class(firms).tolist()
    ['manufacturing', 'retail', 'other_services']
    """
    source = check_choice("source", source, choices(SectorSource))
    isic_revision = check_choice("isic_revision", str(isic_revision), choices(IsicRevision))
    out = pd.Series([None] * len(data), index=data.index, dtype=object)
    if source != "isic" and label_column in data.columns:
        labels = data[label_column].astype(object)
        uniques = pd.unique(labels.dropna())
        table = [(re.compile(p, re.I), s) for p, s in _sector_labels()[["pattern", "sector"]].itertuples(index=False)]
        mapping = {}
        for u in uniques:
            mapping[u] = next((s for pat, s in table if pat.search(str(u))), None)
        out = labels.map(mapping).astype(object)
    if source != "label" and isic_column in data.columns:
        code = pd.to_numeric(data[isic_column], errors="coerce")
        division = np.where(code >= 100, code // 100, code)  # 4-digit class -> division
        ranges = _isic_sectors()
        ranges = ranges[ranges["isic_revision"] == isic_revision]
        from_isic = np.full(len(data), None, dtype=object)
        for lo, hi, sec in ranges[["division_from", "division_to", "sector"]].itertuples(index=False):
            from_isic[(division >= lo) & (division <= hi)] = sec
        fill = out.isna().to_numpy()
        out = pd.Series(np.where(fill, from_isic, out.to_numpy()), index=data.index)
    n_missing = int(out.isna().sum())
    if n_missing:
        warnings.warn(
            f"sector_class: {n_missing} of {len(out)} firm(s) have no recognised sector "
            f"(neither {label_column!r} nor {isic_column!r} matched); their sector is missing.",
            ExclusionWarning,
            stacklevel=2,
        )
    return _ordered(out, SECTOR_ORDER, index=data.index, name="sector")


def country_groups(*args: Any, **kwargs: Any) -> pd.Series:
    """Deprecated alias of :func:`msme_stats.reference.country_groups` (also
    ``msme_stats.country_groups``); kept for one release.

    Issues a :class:`DeprecationWarning` and returns what
    :func:`msme_stats.reference.country_groups` returns for the same arguments.

    Parameters
    ----------
    *args, **kwargs
        The arguments of :func:`msme_stats.reference.country_groups`.

    Returns
    -------
    pandas.Series
        The group of each economy, as :func:`msme_stats.reference.country_groups`.

    Raises
    ------
    UnknownCountryError, OptionError
        Propagated from :func:`msme_stats.reference.country_groups`.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     groups = country_groups(["KEN"], 2015, group_type="income")
    >>> groups.tolist(), caught[0].category.__name__
    (['LMC'], 'DeprecationWarning')
    """
    from .reference import country_groups as _cg

    warnings.warn(
        "msme_stats.classify.country_groups is deprecated and will be removed in the next release; "
        "use msme_stats.country_groups (msme_stats.reference.country_groups).",
        DeprecationWarning,
        stacklevel=2,
    )
    return _cg(*args, **kwargs)
