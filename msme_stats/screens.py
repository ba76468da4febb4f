"""Outlier screens on the canonical firm frame: flag, never drop.

A screen adds boolean ``outlier_*`` columns to a copy of the firm frame of
:func:`msme_stats.load_wbes`, and counts what it flagged in ``.attrs["screens"]``. Nothing is
dropped or changed: estimates stay on every firm unless the user restricts them explicitly
(``where="~outlier_sales"``), and the flags let a table say that an influential firm is there.
The ``dominant_firm`` flag of the estimators (one firm carries most of a numerator) is the
estimation-side counterpart.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from . import _libm
from ._options import as_list, check_number
from .errors import InvalidValueError, MissingColumnsError, OptionError

__all__ = ["screen_outliers"]

#: the quantities screened by default: canonical columns, and sales per employee
DEFAULT_SCREENS = ("sales", "employees", "sales_per_employee")


def screen_outliers(
    firms: pd.DataFrame,
    *,
    screens: Sequence[str] = DEFAULT_SCREENS,
    by: str | Sequence[str] | None = "survey_id",
    k: float = 5.0,
    min_firms: int = 10,
) -> pd.DataFrame:
    """Flag firms whose sales, employees or sales per employee are extreme within their survey.

    Definition
    ----------
    For each screened quantity v (``sales`` = d2, ``employees`` = l1, ``sales_per_employee`` =
    d2 / l1) and each group of ``by`` (default: the survey, so that currencies are never
    compared), on the log scale: ``|log v - median(log v)| > k * 1.4826 * MAD(log v)`` (MAD =
    median absolute deviation; 1.4826 MAD estimates the standard deviation of a normal
    distribution). The default k = 5 flags a firm more than five robust standard deviations
    from the median, e.g. sales 1,000 times the survey's typical sales when the log-SD is
    about 1.4. Firms with v <= 0 or missing are not screened (flag False); groups with fewer
    than ``min_firms`` positive values, or a MAD of 0, are not screened. Unweighted: the screen
    is about the recorded value, not the population. Stata analogue: ``egen med = median(lv),
    by(survey)`` and ``egen mad = mad(lv)``; R ``mad(log(v))``.

    Source
    ------
    Hampel (1974) robust outlier rule (median +/- k MAD); METHODS 2.10 (a single high-weight
    firm can dominate size-class shares of exports). A package convention: documented here,
    with k a parameter.

    Parameters
    ----------
    firms
        Canonical firm frame (``sales``, ``employees``; ``survey_id`` for the default ``by``).
    screens
        Which of ``"sales"``, ``"employees"``, ``"sales_per_employee"`` to screen.
    by
        Grouping column(s) within which values are compared (None = the whole frame).
    k
        Number of robust standard deviations beyond which a firm is flagged (> 0).
    min_firms
        Smallest group screened.

    Returns
    -------
    pandas.DataFrame
        A copy of ``firms`` with one boolean column ``outlier_<screen>`` per screen and
        ``outlier_any``; ``.attrs["screens"]`` holds the rule and, per screen, the number of
        firms flagged and screened.

    Raises
    ------
    MissingColumnsError
        The frame lacks ``sales``/``employees`` (as screened) or a ``by`` column.
    InvalidValueError
        ``firms`` is not a DataFrame; sales or employees are not numeric or negative (raw
        WBES codes such as -9 must be recoded first, as :func:`msme_stats.load_wbes` does).
    OptionError
        An unknown or empty ``screens``, ``k`` not a positive number, ``min_firms`` not an
        integer >= 3.

    Examples
    --------
    One firm of twelve reports sales a thousand times the others':

    >>> firms = pd.DataFrame({"survey_id": "KEN_2013",
    ...                       "sales": [100, 120, 90, 110, 105, 95, 130, 80, 115, 100, 100_000, 98],
    ...                       "employees": [10, 12, 9, 11, 10, 10, 13, 8, 12, 10, 10, 9]})
    >>> out = screen_outliers(firms, screens=["sales", "employees"])
    >>> out.index[out["outlier_any"]].tolist(), out.attrs["screens"]["sales"]
    ([10], {'flagged': 1, 'screened': 12})
    """
    screens, k, bylist = _screen_options(firms, screens, by, k, min_firms)
    needed = sorted({*(c for s in screens for c in ({"sales_per_employee": ("sales", "employees")}
                                                       .get(s, (s,)))), *bylist})
    missing = [c for c in needed if c not in firms.columns]
    if missing:
        raise MissingColumnsError(
            f"screen_outliers: the firm frame lacks {missing}; load it with msme_stats.load_wbes."
        )
    values = _screen_values(firms, needed, screens)
    if bylist:
        groups = firms.groupby(bylist, observed=True, dropna=False, sort=False).ngroup().to_numpy()
    else:
        groups = np.zeros(len(firms), dtype=np.int64)
    report: dict[str, object] = {"rule": f"|log v - median| > {k:g} * 1.4826 * MAD within {bylist or 'all'}",
                                 "k": k, "by": bylist, "min_firms": int(min_firms)}
    any_flag = np.zeros(len(firms), dtype=bool)
    flags: dict[str, np.ndarray] = {}
    for s in screens:
        flag, screened = _screen(values[s], groups, k, int(min_firms))
        flags[f"outlier_{s}"] = flag
        any_flag |= flag
        report[s] = {"flagged": int(flag.sum()), "screened": int(screened)}
    out = firms.assign(**flags, outlier_any=any_flag)  # a new frame; the input is not touched
    out.attrs = {**firms.attrs, "screens": report}
    return out


def _screen_options(
    firms: object, screens: Sequence[str], by: str | Sequence[str] | None, k: float, min_firms: int
) -> tuple[list[str], float, list[str]]:
    """Check the options of :func:`screen_outliers`: the screens, ``k`` and the ``by`` columns."""
    if not isinstance(firms, pd.DataFrame):
        raise InvalidValueError(f"screen_outliers: firms must be a DataFrame, got {type(firms).__name__}.")
    screens = as_list(screens)
    unknown = [s for s in screens if s not in DEFAULT_SCREENS]
    if unknown or not screens:
        raise OptionError(
            f"screen_outliers: screens={screens!r} is not allowed; use some of {list(DEFAULT_SCREENS)}."
        )
    k = check_number("k", k, low=0.0)
    if not (isinstance(min_firms, int | np.integer) and not isinstance(min_firms, bool) and min_firms >= 3):
        raise OptionError(f"screen_outliers: min_firms={min_firms!r} must be an integer >= 3.")
    return screens, k, as_list(by)


def _screen_values(firms: pd.DataFrame, needed: list[str], screens: list[str]) -> dict[str, np.ndarray]:
    """The screened quantities as float arrays; non-numeric or negative sales/employees raise."""
    values: dict[str, np.ndarray] = {}
    for c in ("sales", "employees"):
        if c in needed:
            try:
                v = pd.to_numeric(firms[c], errors="raise").to_numpy(dtype=float, na_value=np.nan)
            except (TypeError, ValueError):
                raise InvalidValueError(
                    f"screen_outliers: column {c!r} is not numeric (dtype {firms[c].dtype}); recode it."
                ) from None
            if (v < 0).any():
                raise InvalidValueError(
                    f"screen_outliers: column {c!r} holds {int((v < 0).sum())} negative value(s) (raw WBES "
                    "codes such as -9 don't know?); load with msme_stats.load_wbes or set them to NaN."
                )
            values[c] = v
    if "sales_per_employee" in screens:
        with np.errstate(divide="ignore", invalid="ignore"):
            values["sales_per_employee"] = np.where(values["employees"] > 0, values["sales"] / values["employees"], np.nan)
    return values


def _screen(v: np.ndarray, groups: np.ndarray, k: float, min_firms: int) -> tuple[np.ndarray, int]:
    """Flags of one quantity (log scale, median +/- k 1.4826 MAD per group) and the number screened.

    Groups are visited through one stable sort of the group codes (no pandas groupby: a
    survey's file is screened at every first load, so this runs once per file).

    The flags do not depend on the CPU: numpy's ``log`` can differ in the last bit between
    CPUs with and without AVX-512, which moves the median, the MAD and each distance by a few
    units in the last place at most. A group where some distance lies within 1e-9 (relative)
    of the cut-off is screened again with the C library's ``log`` (:mod:`msme_stats._libm`),
    the same on every machine; elsewhere no such shift can change a flag.
    """
    ok = np.isfinite(v) & (v > 0)
    lv = np.full(v.shape, np.nan)
    lv[ok] = np.log(v[ok])
    flag = np.zeros(v.shape, dtype=bool)
    screened = 0
    order = np.argsort(groups, kind="stable")
    bounds = np.flatnonzero(np.diff(groups[order])) + 1
    for rows in np.split(order, bounds):
        rows = rows[ok[rows]]
        if len(rows) < min_firms:
            continue
        group_flags = _group_flags(lv[rows], k)
        if group_flags is not None and group_flags[1]:  # a distance at the cut-off: the C library's log
            group_flags = _group_flags(_libm.log(v[rows]), k)
        if group_flags is None:
            continue
        screened += len(rows)
        flag[rows] = group_flags[0]
    return flag, screened


def _group_flags(x: np.ndarray, k: float) -> tuple[np.ndarray, bool] | None:
    """Flags of one group's log values, and whether a distance lies within 1e-9 (relative) of
    the cut-off; None when the MAD is 0 (the group is not screened)."""
    med = np.median(x)
    dist = np.abs(x - med)
    mad = np.median(dist)
    if not mad > 0:
        return None
    cut = k * 1.4826 * mad
    return dist > cut, bool((np.abs(dist - cut) <= 1e-9 * cut).any())
