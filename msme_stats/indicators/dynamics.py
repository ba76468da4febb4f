"""Exporter dynamics (World Bank Exporter Dynamics Database, EDD) from customs transactions.

:func:`exporter_dynamics` computes the 98 country-period series of World Bank API source 30
(codes A1-E6, table ``msme_stats/reference/edd_codes.csv``) from transaction-level customs
records, optionally for SMEs and large traders separately. Formulas: METHODS §4.2-4.5; every
convention the sources leave open is a keyword parameter with the defaults of METHODS §6.

Only the reduction from transactions to trader x period x product and trader x period x
partner tables depends on the ``engine`` (:mod:`msme_stats.engines`); everything after it is
shared pandas/numpy code on those (much smaller) tables, on integer keys (the categorical
codes of the reduction; no string per cell). For tables of 100,000 rows or more on machines
with more than one CPU, parts of it (the neighbour flags of the D and E blocks, the D block,
B5/B6 and the B and C blocks) run on one worker thread beside the calling one; the results
do not depend on it. With ``series=`` only the blocks that the asked codes need are computed.

Notation (METHODS §4.2): x_{f,p,d,t} value of trader f, HS6 product p, partner d, period t;
X_{f,t} = sum over p, d; E_t = {f : X_{f,t} > 0}; TEV_t = sum of X_{f,t}; P_{f,t}, D_{f,t}
the products and partners of f in t.

Period conventions
------------------
* Periods are years, quarters or months; "t-1" is the previous calendar period. A period with
  no transaction at all is *unobserved* (not a period with zero exporters): every measure that
  links t with an unobserved period is NaN, as are measures in the first period(s) that would
  need earlier data (entrants in the first period, exiters of convention B in the last one,
  survival windows reaching before the panel). Counts of empty but defined sets are 0;
  statistics of empty sets are NaN (METHODS §4.5).
* ``id_break_years``: a measure at t that links t-k with t is NaN when a break b satisfies
  t-k < b <= t (METHODS §4.2); A1, A6 and the B block are still computed.
"""

from __future__ import annotations

import logging
import math
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._arrow import quiet_allocation
from .._frozen import FrozenTuple
from .._options import (
    D1Denominator,
    D6Rule,
    DynamicsEngine,
    ExitConvention,
    Growth,
    IncumbentDef,
    PeriodGrain,
    PlaceholderIds,
    QuantileMethod,
    SurvivalIndex,
    SurvivalRule,
    TopShareK,
    check_choice,
    choices,
)
from ..engines import ENGINES, ReduceOptions, Reduction, get_engine
from ..errors import (
    DuplicateIdError,
    ExclusionWarning,
    InvalidValueError,
    MissingColumnsError,
    OptionError,
    RecodeWarning,
    UnknownCodeError,
)

__all__ = ["exporter_dynamics", "edd_codes", "kcs_specimen_dynamics", "size_classes"]

logger = logging.getLogger(__name__)

_REFERENCE = Path(__file__).resolve().parent.parent / "reference"
_QUANTILE_METHODS = choices(QuantileMethod)
_STATS5 = ("i", "ii", "iii", "iv", "v")
_STATS3 = ("i", "ii", "iii")
SIZE_CLASSES = ("SME", "large", "unknown")


@lru_cache(maxsize=1)
@lru_cache(maxsize=1)
def _codes_table() -> pd.DataFrame:
    """The EDD code table, read once (callers only read it; :func:`edd_codes` hands out a copy)."""
    return pd.read_csv(_REFERENCE / "edd_codes.csv", dtype=str, keep_default_na=False)


def edd_codes() -> pd.DataFrame:
    """Return the EDD code table (98 series of World Bank API source 30).

    Returns
    -------
    pandas.DataFrame
        Columns ``code`` (A1 ... E6iii), ``api_number`` (001-098), ``id``, ``name``,
        ``base_code``, ``suffix`` (i mean, ii median, iii sd, iv Q1, v Q3; for B2 the top
        1/5/25 %), ``statistic`` and ``source``; one row per series (a copy).

    Raises
    ------
    OSError
        The bundled table ``reference/edd_codes.csv`` cannot be read (a broken install).

    Examples
    --------
    >>> codes = edd_codes()
    >>> len(codes), codes.loc[0, "code"], codes.loc[0, "name"]
    (98, 'A1', 'Number of Exporters')
    """
    return _codes_table().copy()


# --------------------------------------------------------------------------------------
# periods
# --------------------------------------------------------------------------------------
def _ordinal(labels: Iterable[Any]) -> np.ndarray:
    """Period label -> integer ordinal (year y; quarter 4y+q-1; month 12y+m-1)."""
    out = []
    for lab in labels:
        if isinstance(lab, (int, np.integer)):
            out.append(int(lab))
            continue
        text = str(lab)
        if text.isdigit():
            out.append(int(text))
        elif "Q" in text:
            out.append(int(text[:4]) * 4 + int(text[5]) - 1)
        else:
            out.append(int(text[:4]) * 12 + int(text[5:7]) - 1)
    return np.asarray(out, dtype=np.int64)


def _break_ordinals(breaks: Iterable[Any], grain: str) -> set[int]:
    out: set[int] = set()
    for b in breaks:
        text = str(b)
        if text.isdigit() and grain != "year":  # a year break with sub-annual periods
            y = int(text)
            out.add(y * 4 if grain == "quarter" else y * 12)
        else:
            out.add(int(_ordinal([b])[0]))
    return out


# --------------------------------------------------------------------------------------
# statistics
# --------------------------------------------------------------------------------------
_IDENTITY = np.arange(0)  # marks "no reordering needed" (returned by :meth:`_Stats.groups`)


class _Sorted(np.ndarray):
    """A sorted 1-d array, hence already partitioned at every position: its ``partition`` has
    nothing to do. :func:`numpy.quantile` partitions (a copy of) its input at the positions it
    then reads; the order statistics at those positions are the same values whichever way they
    got there, so the quantiles of a sorted copy viewed as ``_Sorted`` equal those of the values
    bit for bit, at the cost of one sort (on these tables numpy's multi-kth partition takes
    several times as long as ``numpy.sort``; no -0.0 among the values, see
    :func:`_quantiles`)."""

    def partition(self, kth: Any, axis: Any = -1, kind: Any = "introselect", order: Any = None) -> None:
        """No-op for 1-d arrays (sorted); ``ndarray.partition`` otherwise."""
        if self.ndim != 1 or order is not None:
            self.view(np.ndarray).partition(kth, axis=axis, kind=kind, order=order)


def _quantiles(v: np.ndarray, method: QuantileMethod) -> np.ndarray:
    """``numpy.quantile(v, [0.5, 0.25, 0.75], method=method)`` of finite values, from a sorted
    copy (:class:`_Sorted`) unless a -0.0 is among the values: which of two equal zeros lands at
    a position could then show in the result, and numpy's SIMD sort may turn -0.0 into 0.0,
    so those take the plain call (the values are searched for -0.0 only if zeros are among
    them)."""
    s = np.sort(v)
    if s[0] <= 0.0 <= s[-1] and np.searchsorted(s, 0.0, side="left") < np.searchsorted(s, 0.0, side="right"):
        if np.signbit(v[v == 0]).any():
            return np.quantile(v, [0.5, 0.25, 0.75], method=method)
    return np.quantile(s.view(_Sorted), [0.5, 0.25, 0.75], method=method, overwrite_input=True)  # s is ours


class _Stats:
    """Per-period descriptive statistics with the chosen conventions.

    Statistics group the values by period index (a table lookup from the ordinal, then a
    stable radix sort of the small indices), so each period's values keep their input order.
    """

    def __init__(self, periods: np.ndarray, quantile_method: QuantileMethod, sd_ddof: int) -> None:
        self.periods = periods
        self.method = quantile_method
        self.ddof = sd_ddof
        self._lo = int(periods.min()) if len(periods) else 0
        self._tbl = np.full(int(periods.max()) - self._lo + 1 if len(periods) else 1, -1, dtype=np.int64)
        self._tbl[periods - self._lo] = np.arange(len(periods))
        self._small = np.uint16 if len(periods) < 2**16 else np.int64

    def index(self, per: np.ndarray) -> np.ndarray:
        """Position of each (observed) period ordinal in ``periods``."""
        return self._tbl[per - self._lo]

    def groups(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Stable order of period indices ``idx`` (``_IDENTITY`` when already sorted) and the
        bounds (lo, hi) of each period in that order."""
        hi = np.cumsum(np.bincount(idx, minlength=len(self.periods)))
        lo = np.concatenate(([0], hi[:-1]))
        if len(idx) < 2 or (idx[1:] >= idx[:-1]).all():  # already in period order
            return _IDENTITY, lo, hi
        return np.argsort(idx.astype(self._small), kind="stable"), lo, hi

    def describe(self, per: np.ndarray, x: np.ndarray, defined: np.ndarray, n_stats: int) -> list[np.ndarray]:
        """Mean, median, sd[, q1, q3] of ``x`` by period; NaN where undefined or empty."""
        return self.describe_at(self.index(per), x, defined, n_stats)

    def describe_at(self, idx: np.ndarray, x: np.ndarray, defined: np.ndarray, n_stats: int) -> list[np.ndarray]:
        """:meth:`describe` with the period positions ``idx`` (:meth:`index`) given."""
        n = len(self.periods)
        out = [np.full(n, np.nan) for _ in range(n_stats)]
        ok = np.isfinite(x)
        if not ok.all():
            idx, x = idx[ok], x[ok]
        order, lo, hi = self.groups(idx)
        if order is not _IDENTITY:
            x = x[order]
        for i in range(n):
            if not defined[i] or hi[i] == lo[i]:
                continue
            v = x[lo[i] : hi[i]]
            out[0][i] = v.mean()
            qs = _quantiles(v, self.method)
            out[1][i] = qs[0]
            out[2][i] = v.std(ddof=self.ddof) if v.size > self.ddof else np.nan
            if n_stats == 5:
                out[3][i] = qs[1]
                out[4][i] = qs[2]
        return out

    def count(self, per: np.ndarray, defined: np.ndarray) -> np.ndarray:
        """Number of rows by period; NaN where undefined."""
        c = np.bincount(self.index(per), minlength=len(self.periods)).astype(float)
        return np.where(defined, c, np.nan)

    def total(self, per: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Sum of ``x`` by period, in row order."""
        return np.bincount(self.index(per), weights=x, minlength=len(self.periods))


def _top_k(n: int, pct: int, rule: str) -> int:
    """Top-q % count with integer arithmetic (no floating error at exact multiples)."""
    if rule == "ceil":
        return (pct * n + 99) // 100
    if rule == "floor":
        return (pct * n) // 100
    return (2 * pct * n + 100) // 200  # round half up


# --------------------------------------------------------------------------------------
# core computation on the reduced tables
# --------------------------------------------------------------------------------------
def _take(values: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``values[pos]`` as float, NaN where ``pos`` is -1 (a key not in the table)."""
    if len(values) == 0:
        return np.full(len(pos), np.nan)
    out = values.astype(float, copy=False)[pos]
    out[pos < 0] = np.nan
    return out


def _pandas_group_sum(codes: np.ndarray, values: np.ndarray, n_groups: int) -> np.ndarray:
    """pandas' grouped sum of ``values`` by group code 0 ... n_groups-1 (see :func:`_group_sum`)."""
    grouper = pd.Categorical.from_codes(codes, categories=pd.RangeIndex(n_groups), validate=False)
    out = pd.Series(values).groupby(pd.Series(grouper), observed=False).sum()
    return out.to_numpy(dtype=float)


@lru_cache(maxsize=1)
def _pandas_sums_runs_by_reduceat() -> bool:
    """Whether this pandas sums groups whose codes are sorted with ``numpy.add.reduceat``
    (pandas >= 3.1), not with its Kahan-compensated loop (which it keeps for other codes).

    Probed once on 1/1 ... 1/12, whose Kahan-compensated sum differs from numpy's in the last
    bit: pandas' sum of one sorted group is compared with ``numpy.add.reduceat``.
    """
    v = 1.0 / np.arange(1, 13)
    return bool(_pandas_group_sum(np.zeros(12, dtype=np.intp), v, 1)[0] == np.add.reduceat(v, [0])[0])


def _run_starts(codes: np.ndarray) -> np.ndarray | None:
    """First row of each run of equal codes when the codes are sorted (non-decreasing), else None."""
    if len(codes) < 2:
        return np.zeros(len(codes), dtype=np.intp)
    ends = np.flatnonzero(codes[1:] != codes[:-1])  # last row of each run but the last one
    if not (codes[ends + 1] > codes[ends]).all():
        return None
    starts = np.empty(len(ends) + 1, dtype=np.intp)
    starts[0] = 0
    np.add(ends, 1, out=starts[1:])
    return starts


def _counts_by(codes: np.ndarray, flags: list[np.ndarray], n_groups: int, starts: np.ndarray | None
               ) -> list[np.ndarray]:
    """Number of True rows of each flag array by group code 0 ... n_groups-1, as float (exact).

    Codes numbered in order of first appearance and sorted (``starts``, :func:`_run_starts`)
    are 0, 1, 2 ... run by run: differences of the running count (one reused buffer) at the
    run ends; else ``numpy.bincount``.
    """
    n = len(codes)
    if starts is None or len(starts) != n_groups or not n:
        return [np.bincount(codes, weights=f, minlength=n_groups) for f in flags]
    ends = np.append(starts[1:], n)
    ends -= 1
    running = np.empty(n, dtype=np.int32 if n < 2**31 else np.int64)
    out = []
    for f in flags:
        np.cumsum(f, dtype=running.dtype, out=running)
        out.append(np.diff(running[ends], prepend=0).astype(float))
    return out


def _group_sum(codes: np.ndarray, values: np.ndarray, n_groups: int,
               starts: np.ndarray | None | bool = False) -> np.ndarray:
    """Sum of ``values`` by group code 0 ... n_groups-1 (every code present), in row order.

    pandas' grouped sum, kept so that the sums are bit-for-bit those of the earlier
    ``DataFrame.groupby(...).sum()`` code; ``numpy.bincount`` would round differently in the
    last bit. The codes are passed as a categorical so that pandas does not factorize them
    again. pandas >= 3.1 sums sorted codes without NaN values with ``numpy.add.reduceat``
    (pairwise within each run) and the others with a Kahan-compensated loop; where this
    pandas does so (:func:`_pandas_sums_runs_by_reduceat`), sorted codes are summed here with
    the same ``reduceat`` call, without pandas' overhead. ``starts``: the runs of the codes
    (:func:`_run_starts`, None if not sorted) when known, False to find them here.
    """
    if n_groups == 0:
        return np.zeros(0)
    if _pandas_sums_runs_by_reduceat() and len(values):
        if starts is False:
            starts = _run_starts(codes)
        if isinstance(starts, np.ndarray) and not np.isnan(values).any():
            out = np.zeros(n_groups)
            out[codes[starts]] = np.add.reduceat(np.ascontiguousarray(values, dtype=float), starts)
            return out
    return _pandas_group_sum(codes, values, n_groups)


def _stable_sort(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``order = argsort(key, kind="stable")`` and ``key[order]`` of int64 keys.

    Where the key range and the row numbers fit in 63 bits together, the keys shifted left
    with the row number in the low bits are sorted with ``numpy.sort`` (all distinct, so any
    sort gives the one order: by key, then row, which is the stable order), several times
    faster than a stable argsort; else the stable argsort.
    """
    n = len(key)
    lo = int(key.min()) if n else 0
    bits = max(n - 1, 1).bit_length()
    if n < 2 or int(key.max()) - lo >= 1 << (63 - bits):
        order = np.argsort(key, kind="stable")
        return order, key[order]
    comp = key.astype(np.int64)
    comp -= lo
    comp <<= bits
    comp |= np.arange(n, dtype=np.int64)
    comp.sort()
    order = comp & ((1 << bits) - 1)
    comp >>= bits
    comp += lo
    return order, comp


def _group_keys(key: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct int64 keys, sorted; the group of each key among them; each group's first row.

    One stable sort (:func:`_stable_sort`), so the first row of a group is its smallest row
    number.
    """
    n = len(key)
    order, ks = _stable_sort(key)
    first = np.empty(n, dtype=bool)
    first[:1] = True
    np.not_equal(ks[1:], ks[:-1], out=first[1:])
    codes = np.empty(n, dtype=np.int64)
    codes[order] = np.cumsum(first) - 1
    return ks[first], codes, order[first]


def _factorize_first(key: np.ndarray, direct: bool | None = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``pd.factorize(key)`` (codes and uniques in order of first appearance) of int64 keys.

    Also returns the sorted distinct keys and, for each of them, its code (``rank``:
    ``uniques[rank[j]] == sorted[j]``). Keys spanning a small range (at most 4 per row plus
    2**20) are addressed directly in a table (``np.minimum.at`` finds each key's first row),
    others are sorted once (:func:`_group_keys`); ``direct`` forces one way (tests). Runs
    of equal keys (rows grouped by key, as the engines return them) are factorized by their
    first key when that halves the work at least.
    """
    n = len(key)
    if n > 1:  # runs of equal keys: factorize the first key of each run only
        change = np.concatenate(([True], key[1:] != key[:-1]))
        if np.count_nonzero(change) <= n // 2:
            heads = np.flatnonzero(change)
            codes_h, uniq, srt, rank = _factorize_first(key[heads], direct)
            return np.repeat(codes_h, np.diff(heads, append=n)), uniq, srt, rank
    lo = int(key.min()) if n else 0
    if 0 <= lo <= n:  # address from 0: no shifted copy of the keys
        lo = 0
    size = int(key.max()) - lo + 1 if n else 0
    if direct is None:
        direct = size <= 4 * n + (1 << 20)
    if not direct:
        srt, codes_s, first_row = _group_keys(key)
        is_first = np.zeros(n, dtype=bool)
        is_first[first_row] = True
        rank = (np.cumsum(is_first) - 1)[first_row]
        return rank[codes_s], key[is_first], srt, rank
    small: type[np.signedinteger[Any]] = np.int32 if n < 2**31 - 1 else np.int64  # smaller tables
    k0 = key - lo if lo else key
    rows = np.arange(n, dtype=small)
    first = np.full(size, n, dtype=small)
    np.minimum.at(first, k0, rows)
    uniq = key[first[k0] == rows]
    srt_off = np.flatnonzero(first < n)
    code_of = first  # (the table is reused: fewer fresh pages)
    code_of[uniq - lo] = np.arange(len(uniq), dtype=small)  # every other entry is never read
    return code_of[k0].astype(np.int64), uniq, srt_off + lo, code_of[srt_off].astype(np.int64)


def _sorted_find(srt: np.ndarray, k: int) -> np.ndarray:
    """Position of ``srt - k`` in the sorted distinct keys ``srt`` (-1 where absent).

    Distinct sorted keys: ``s - k`` (k > 0) can only sit 1 ... k places before ``s``, and
    ``s + k`` 1 ... k places after it, so a few shifted comparisons replace a search.
    """
    n = len(srt)
    if k == 0:
        return np.arange(n)
    pos = np.full(n, -1, dtype=np.int64)
    target = srt - k
    for j in range(1, abs(k) + 1):
        if j >= n:
            break
        if k > 0:
            hit = srt[:-j] == target[j:]
            pos[j:][hit] = np.flatnonzero(hit)
        else:
            hit = srt[j:] == target[:-j]
            pos[:-j][hit] = np.flatnonzero(hit) + j
    return pos


def _sorted_has(srt: np.ndarray, k: int) -> np.ndarray:
    """Whether ``srt - k`` is among the sorted distinct keys ``srt`` (``_sorted_find(srt, k) >= 0``
    by the same shifted comparisons, without positions)."""
    n = len(srt)
    if k == 0:
        return np.ones(n, dtype=bool)
    has = np.zeros(n, dtype=bool)
    target = srt - k
    for j in range(1, abs(k) + 1):
        if j >= n:
            break
        if k > 0:
            has[j:] |= srt[:-j] == target[j:]
        else:
            has[:-j] |= srt[j:] == target[:-j]
    return has


def _find_sorted(srt: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Position of each ``query`` key in the sorted distinct keys ``srt`` (-1 where absent)."""
    if len(srt) == 0:
        return np.full(len(query), -1, dtype=np.int64)
    pos = np.minimum(np.searchsorted(srt, query), len(srt) - 1)
    return np.where(srt[pos] == query, pos, -1)


def _neighbours(key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each int64 key k: is k-1 among the keys, is k+1 among the keys (one stable sort)."""
    n = len(key)
    if n == 0:
        return np.zeros(0, dtype=bool), np.zeros(0, dtype=bool)
    order, ks = _stable_sort(key)
    step = np.diff(ks)
    if step.all():  # distinct keys (the cells of a reduction): compare sorted neighbours
        one = step == 1
        has_prev = np.concatenate(([False], one))
        has_next = np.concatenate((one, [False]))
    else:
        first = np.concatenate(([True], step != 0))
        gid = np.cumsum(first) - 1
        one = np.diff(ks[first]) == 1  # consecutive distinct keys one apart
        has_prev = np.concatenate(([False], one))[gid]
        has_next = np.concatenate((one, [False]))[gid]
    prev = np.empty(n, dtype=bool)
    nxt = np.empty(n, dtype=bool)
    prev[order] = has_prev
    nxt[order] = has_next
    return prev, nxt


def _cell_key(tab: _Table, width: int, span: int, base: int) -> np.ndarray:
    """Key ``(fid * width + pid) * span + (o - base)`` of each row, built in place."""
    key = tab.fid.astype(np.int64)
    key *= width
    key += tab.pid
    key *= span
    key += tab.o
    key -= base
    return key


def _linked(periods: np.ndarray, breaks: set[int], k: int) -> np.ndarray:
    """Per period t: t-1 ... t-k all observed and no id break in (t-k, t]."""
    obs = set(periods.tolist())
    out = np.ones(len(periods), dtype=bool)
    for i, t in enumerate(periods):
        if any((t - j) not in obs for j in range(1, k + 1)):
            out[i] = False
        elif any(t - k < b <= t for b in breaks):
            out[i] = False
    return out


def _period_shift(periods: np.ndarray, values: np.ndarray, k: int) -> np.ndarray:
    """``values`` of period t+k at each period t (NaN where t+k is not observed)."""
    n_per = len(periods)
    out = np.full(n_per, np.nan)
    for i, t in enumerate(periods):
        j = np.searchsorted(periods, t + k)
        if j < n_per and periods[j] == t + k:
            out[i] = values[j]
    return out


class _Table:
    """One reduced table with integer keys: trader code ``fid``, period ordinal ``o``, product
    or partner code ``pid`` and ``value`` (numpy arrays of equal length)."""

    __slots__ = ("fid", "o", "pid", "value")

    def __init__(self, fid: np.ndarray, o: np.ndarray, pid: np.ndarray, value: np.ndarray) -> None:
        self.fid, self.o, self.pid, self.value = fid, o, pid, value

    def __len__(self) -> int:
        return len(self.value)

    def take(self, mask: np.ndarray) -> _Table:
        """The rows where ``mask`` is True (in order)."""
        return _Table(self.fid[mask], self.o[mask], self.pid[mask], self.value[mask])


def _span_base(periods: np.ndarray) -> tuple[int, int]:
    """``span`` and ``base`` of the trader-period keys ``fid * span + (o - base)``: five empty
    periods either side, so t-4 ... t+1 of one trader never reach another's keys."""
    return int(periods.max() - periods.min()) + 10, int(periods.min()) - 5


def _factorize_tp(tab: _Table, periods: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """:func:`_factorize_first` of the trader-period keys of ``tab`` (:meth:`_Panel.key`),
    computed on the compact keys ``fid * n + (o - first period)`` (n periods from first to
    last; a smaller table) and returned as trader-period keys (same order: a monotone map)."""
    span, base = _span_base(periods)
    lo, n = int(periods.min()), int(periods.max() - periods.min()) + 1

    def compact(fid: np.ndarray, o: np.ndarray) -> np.ndarray:
        """Compact keys of trader codes and period ordinals."""
        ck = fid.astype(np.int64)
        ck *= n
        ck += o
        ck -= lo
        return ck

    def wide(c: np.ndarray) -> np.ndarray:
        """Compact keys -> trader-period keys."""
        return (c // n) * span + (c % n + lo - base)

    rows = len(tab)
    if rows > 1:  # runs of equal trader-periods, as _factorize_first finds them, without a key per row
        change = np.empty(rows, dtype=bool)
        change[0] = True
        np.not_equal(tab.fid[1:], tab.fid[:-1], out=change[1:])
        change[1:] |= tab.o[1:] != tab.o[:-1]
        if np.count_nonzero(change) <= rows // 2:
            heads = np.flatnonzero(change)
            codes_h, uniq, srt, rank = _factorize_first(compact(tab.fid[heads], tab.o[heads]))
            return np.repeat(codes_h, np.diff(heads, append=rows)), wide(uniq), wide(srt), rank
    codes, uniq, srt, rank = _factorize_first(compact(tab.fid, tab.o))
    return codes, wide(uniq), wide(srt), rank


class _Panel:
    """The trader-period table of one (sub-)panel and its lags (METHODS §4.2).

    One row per trader-period of ``fp`` in order of first appearance (as
    ``groupby(sort=False)`` gave them), keyed by ``fk = fid * span + (o - base)`` so that
    period t-k of the same trader is ``fk - k``. Attributes: ``X`` (export value), ``nP``
    (products), ``nDv`` (partners), ``o`` (period ordinal), ``Xl[1]`` (value at t-1, NaN if
    absent), ``no_next`` (no value at t+1), ``pres[k]`` (present at t-k, k = 1 ... 4),
    ``lag_pos[1]`` (row of t-1), ``pidx`` (position of the period), plus the codes of both
    tables' rows used by the D and E blocks (``fp_codes`` rows of this table; ``fd_codes``
    the trader-periods of ``fd`` in order of first appearance, whose sizes are ``nD``) and
    ``d_pos`` / ``d_prev`` (the fd trader-period at t and t-1 of each row). Lags are found
    among the sorted keys by neighbour comparisons (:func:`_sorted_find`), not by searching.
    """

    def __init__(self, fp: _Table, fd: _Table, periods: np.ndarray,
                 fd_keys: _Task | None = None) -> None:
        self.periods = periods
        self.span, self.base = _span_base(periods)
        self.fp_value, self.fd_value = fp.value, fd.value
        self.fp_codes, fk, srt, rank = _factorize_tp(fp, periods)
        self.fk = fk
        self.n_firm = len(fk)
        self.fp_starts = _run_starts(self.fp_codes)  # (reused by the D block)
        self.X = _group_sum(self.fp_codes, fp.value, self.n_firm, self.fp_starts)
        self.nP = np.bincount(self.fp_codes, minlength=self.n_firm).astype(float)
        self.o = fk % self.span + self.base
        if fd_keys is None:  # (else submitted to the worker thread)
            fd_keys = _Task(None, _factorize_tp, fd, periods)
        self.fd_codes, _, srt_d, rank_d = fd_keys.result()
        self.nD = np.bincount(self.fd_codes, minlength=len(srt_d)).astype(float)
        at_sorted = np.empty(self.n_firm, dtype=np.int64)  # sorted position of each row
        at_sorted[rank] = np.arange(self.n_firm)

        def to_rows(pos_sorted: np.ndarray, rank: np.ndarray = rank) -> np.ndarray:
            """Positions among sorted keys -> codes (by ``rank``; -1 stays -1), at each row."""
            return np.where(pos_sorted >= 0, rank[np.maximum(pos_sorted, 0)], -1)[at_sorted]

        if np.array_equal(srt_d, srt):  # the same trader-periods (no cell left out)
            self.d_pos = rank_d[at_sorted]  # fd trader-period of each row
            self.d_prev = to_rows(_sorted_find(srt, 1), rank_d)
        else:
            self.d_pos = to_rows(_find_sorted(srt_d, srt), rank_d)
            self.d_prev = to_rows(_find_sorted(srt_d, srt - 1), rank_d)
        self.nDv = _take(self.nD, self.d_pos)
        self.lag_pos = {1: to_rows(_sorted_find(srt, 1))}
        self.Xl = {1: _take(self.X, self.lag_pos[1])}
        self.pres = {1: ~np.isnan(self.Xl[1])}
        if np.isnan(self.X).any():  # presence is "value not NaN": look the values up
            for k in (2, 3, 4):
                self.pres[k] = ~np.isnan(_take(self.X, to_rows(_sorted_find(srt, k))))
            self.no_next = np.isnan(_take(self.X, to_rows(_sorted_find(srt, -1))))
        else:  # (sums of values are never NaN) presence of the key is enough
            for k in (2, 3, 4):
                self.pres[k] = _sorted_has(srt, k)[at_sorted]
            self.no_next = ~_sorted_has(srt, -1)[at_sorted]
        per_of = np.zeros(self.span, dtype=np.int64)  # period position by o - base
        per_of[periods - self.base] = np.arange(len(periods))
        self.pidx = per_of[self.o - self.base]

    def key(self, fid: np.ndarray, o: np.ndarray) -> np.ndarray:
        """Trader-period key of trader codes ``fid`` in period ordinals ``o``."""
        key = fid.astype(np.int64)
        key *= self.span
        key += o
        key -= self.base
        return key

    def at(self, flag: np.ndarray) -> np.ndarray:
        """A per-period flag at each trader-period."""
        return flag[self.pidx]


class _Sets:
    """Entrants, incumbents and surviving entrants of a :class:`_Panel` (METHODS §4.3).

    ``ent``/``inc``/``se`` are masks on the trader-periods; ``inc_def`` the periods where the
    incumbent set is defined; ``L[k]`` the periods linked to t-k (:func:`_linked`);
    ``at_inc``/``at_se``/``at_two`` the period positions of the incumbents, surviving entrants
    and two-period traders (``pan.pidx[mask]``, shared by the A, D and E blocks).
    """

    def __init__(self, pan: _Panel, L: dict[int, np.ndarray], incumbent_def: str) -> None:
        pres, at = pan.pres, pan.at
        self.L = L
        self.ent = at(L[1]) & ~pres[1]
        if incumbent_def == "continuing":
            self.inc = at(L[1]) & pres[1]
            self.inc_def = L[1]
        else:
            self.inc = at(L[2]) & pres[1] & pres[2]
            self.inc_def = L[2]
        self.se = at(L[2]) & pres[1] & ~pres[2]
        self.two_year = at(L[2]) & pres[1] & pres[2]
        self.at_inc, self.at_se, self.at_two = pan.pidx[self.inc], pan.pidx[self.se], pan.pidx[self.two_year]


def _describe_into(res: dict[str, np.ndarray], code: str, stats: list[np.ndarray], suffixes: tuple[str, ...]) -> None:
    """Store the statistics of one series under ``code`` + suffix (``A6i``, ``A6ii``, ...)."""
    for s, v in zip(suffixes, stats, strict=True):
        res[code + s] = v


def _exiters(pan: _Panel, sets: _Sets, a1: np.ndarray, convention: str
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Exiters' periods, values, defined periods and the C2 denominator (``exit_convention``).

    Convention A: exiters labelled t are in E_{t-1}, not in E_t, valued at t-1, C2 over
    A1_{t-1}; convention B: in E_t, not in E_{t+1}, valued at t, C2 over A1_t.
    """
    periods, L = pan.periods, sets.L
    n_per = len(periods)
    if convention == "A":
        t_next = pan.o + 1
        j_next = np.minimum(np.searchsorted(periods, t_next), n_per - 1)
        in_obs = periods[j_next] == t_next
        ex_mask = in_obs & pan.no_next
        nxt_idx = np.searchsorted(periods, np.where(in_obs, t_next, periods[0]))
        ex_mask &= L[1][nxt_idx]
        a1_prev = np.full(n_per, np.nan)
        for i, t in enumerate(periods):
            if L[1][i]:
                a1_prev[i] = a1[np.searchsorted(periods, t - 1)]
        return t_next[ex_mask], pan.X[ex_mask], L[1], a1_prev
    nxt_linked = np.zeros(n_per, dtype=bool)
    for i, t in enumerate(periods):
        j = np.searchsorted(periods, t + 1)
        nxt_linked[i] = j < n_per and periods[j] == t + 1 and L[1][j]
    ex_mask = pan.at(nxt_linked) & pan.no_next
    return pan.o[ex_mask], pan.X[ex_mask], nxt_linked, a1


def _a_block(res: dict[str, np.ndarray], st: _Stats, pan: _Panel, sets: _Sets, p: dict[str, Any]) -> np.ndarray:
    """A1-A12 (counts, values and growth of exporters, entrants, exiters, survivors,
    incumbents) into ``res``; returns the C2 denominator."""
    o, X, L = pan.o, pan.X, sets.L
    ent, inc, se, inc_def = sets.ent, sets.inc, sets.se, sets.inc_def
    n_per = len(pan.periods)
    all_def = np.ones(n_per, dtype=bool)
    res["A1"] = st.count(o, all_def)
    res["A2"] = st.count(o[ent], L[1])
    res["A4"] = st.count(o[se], L[2])
    res["A5"] = st.count(o[inc], inc_def)
    ex_per, ex_val, ex_def, denom = _exiters(pan, sets, res["A1"], p["exit_convention"])
    res["A3"] = st.count(ex_per, ex_def)
    pidx = pan.pidx  # period positions of the trader-periods (st.index(o))
    for code, idx, x, d in (
        ("A6", pidx, X, all_def),
        ("A7", pidx[ent], X[ent], L[1]),
        ("A8", st.index(ex_per), ex_val, ex_def),
        ("A9", sets.at_se, X[se], L[2]),
        ("A10", sets.at_inc, X[inc], inc_def),
    ):
        _describe_into(res, code, st.describe_at(idx, x, d, 5), _STATS5)
    with np.errstate(divide="ignore", invalid="ignore"):
        if p["growth"] == "pct":
            g = X / pan.Xl[1] - 1.0
        else:
            g = np.log(X) - np.log(pan.Xl[1])
    for code, m, idx, d in (("A11", inc, sets.at_inc, inc_def), ("A12", se, sets.at_se, L[2])):
        _describe_into(res, code, st.describe_at(idx, g[m], d, 5), _STATS5)
    return denom


def _top_shares(res: dict[str, np.ndarray], st: _Stats, pan: _Panel, tev: np.ndarray, rule: str) -> None:
    """B2 i/ii/iii: share of TEV of the top 1, 5, 25 % exporters of each period.

    The top k values of a period summed largest first (as from a descending sort): one
    partition at the largest k, then a sort of those k values only.
    """
    n_per = len(pan.periods)
    order, lo, hi = st.groups(pan.pidx)
    X_s = pan.X if order is _IDENTITY else pan.X[order]
    vals = {pct: np.full(n_per, np.nan) for pct in (1, 5, 25)}
    for i in range(n_per):
        n = int(hi[i] - lo[i])
        ks = {pct: _top_k(n, pct, rule) for pct in (1, 5, 25)}
        k_max = max(ks.values())
        if not n or not k_max or not tev[i] > 0:
            continue
        neg = -X_s[lo[i] : hi[i]]
        top = -np.sort(np.partition(neg, k_max - 1)[:k_max] if k_max < n else neg)
        for pct, k in ks.items():
            if k:
                vals[pct][i] = top[:k].sum() / tev[i]
    for s, pct in zip(_STATS3, (1, 5, 25), strict=True):
        res["B2" + s] = vals[pct]


def _first_cells(o: np.ndarray, pid: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Period ordinal and number of rows of each distinct (period, pid) cell, cells in order
    of first appearance."""
    width = int(pid.max()) + 1 if len(pid) else 1
    cell_codes, cells, _, _ = _factorize_first((o - base) * width + pid)
    n_cell = np.bincount(cell_codes, minlength=len(cells)).astype(float)
    return cells // width + base, n_cell


def _cell_block(res: dict[str, np.ndarray], st: _Stats, fp: _Table, fd: _Table, base: int) -> None:
    """B5/B6 (exporters per product and partner: traders per period x product (partner) cell,
    cells in order of first appearance) into ``res``."""
    all_def = np.ones(len(st.periods), dtype=bool)
    for code, tab in (("B5", fp), ("B6", fd)):
        cell_o, n_cell = _first_cells(tab.o, tab.pid, base)
        _describe_into(res, code, st.describe(cell_o, n_cell, all_def, 3), _STATS3)


def _b_block(res: dict[str, np.ndarray], st: _Stats, pan: _Panel, tev: np.ndarray, p: dict[str, Any]) -> None:
    """B1, B3, B4 (concentration, products and partners per exporter) into ``res``; B2 comes
    from :func:`_top_shares`, B5/B6 from :func:`_cell_block`."""
    o, X, periods = pan.o, pan.X, pan.periods
    n_per = len(periods)
    all_def = np.ones(n_per, dtype=bool)
    share = X / tev[pan.pidx]
    res["B1"] = st.total(o, share**2) * p["hhi_scale"]
    res["B1"] = np.where(res["A1"] > 0, res["B1"], np.nan)
    for code, x in (("B3", pan.nP), ("B4", pan.nDv)):
        _describe_into(res, code, st.describe_at(pan.pidx, x, all_def, 3), _STATS3)


def _c_block(res: dict[str, np.ndarray], st: _Stats, pan: _Panel, sets: _Sets, tev: np.ndarray,
             denom: np.ndarray, p: dict[str, Any]) -> None:
    """C1-C6 (entry and exit rates, survival of entry cohorts, entrants' share) into ``res``."""
    o, X, pres, L, periods = pan.o, pan.X, pan.pres, sets.L, pan.periods
    with np.errstate(divide="ignore", invalid="ignore"):
        res["C1"] = res["A2"] / res["A1"]
        res["C2"] = res["A3"] / denom
        a2_prev, a2_prev2, a2_prev3 = (_period_shift(periods, res["A2"], -k) for k in (1, 2, 3))
        # C3: Ent_{t-1} ∩ E_t / |Ent_{t-1}|
        c3 = np.where(L[2], res["A4"] / a2_prev, np.nan)
        # C5: Ent_{t-2} (present t-2, absent t-3) surviving to t
        m5 = pan.at(L[3]) & pres[2] & ~pres[3]
        m6 = pan.at(L[4]) & pres[3] & ~pres[4]
        if p["survival_rule"] == "continuous":
            m5 &= pres[1]
            m6 &= pres[1] & pres[2]
        c5 = np.where(L[3], st.count(o[m5], L[3]) / a2_prev2, np.nan)
        c6 = np.where(L[4], st.count(o[m6], L[4]) / a2_prev3, np.nan)
        res["C4"] = np.where(L[1], st.total(o[sets.ent], X[sets.ent]) / tev, np.nan)
    if p["survival_index"] == "t":
        res["C3"], res["C5"], res["C6"] = c3, c5, c6
    else:  # label the cohort (entry) year: shift back by 1, 2, 3 periods
        for code, arr, k in (("C3", c3, 1), ("C5", c5, 2), ("C6", c6, 3)):
            res[code] = _period_shift(periods, arr, k)


def _bc_blocks(res: dict[str, np.ndarray], st: _Stats, pan: _Panel, sets: _Sets, tev: np.ndarray,
               denom: np.ndarray | None, p: dict[str, Any], blocks: frozenset[str]) -> None:
    """:func:`_b_block`, :func:`_top_shares` (B2) then :func:`_c_block`, those of ``blocks``
    (after :func:`_a_block`: B1 and the C block read A1-A4, and ``denom``)."""
    if "B" in blocks:
        _b_block(res, st, pan, tev, p)
    if "B2" in blocks:
        _top_shares(res, st, pan, tev, p["top_share_k"])
    if "C" in blocks:
        if denom is None:  # _blocks brings the A block in with C
            raise RuntimeError("the C block needs the A block")
        _c_block(res, st, pan, sets, tev, denom, p)


def _de_flags(tab: _Table, span: int, base: int) -> tuple[np.ndarray, np.ndarray]:
    """Per row of a product (partner) table: did the trader have it in t-1, has it it in t+1
    (neighbours of ck = ((fid * width + pid) * span + o - base), :func:`_neighbours`)."""
    width = int(tab.pid.max()) + 1 if len(tab) else 1
    return _neighbours(_cell_key(tab, width, span, base))


def _de_block(res: dict[str, np.ndarray], st: _Stats, pan: _Panel, sets: _Sets, blk: str,
              flags: _Task, p: dict[str, Any]) -> None:
    """D1-D6 (``blk="D"``, products of ``fp``) or E1-E6 (``"E"``, partners of ``fd``) into ``res``.

    A product (partner) is new if the trader did not have it in t-1, kept if it has it again
    in t+1 (``flags``: :func:`_de_flags` of the table, computed ahead).
    """
    if blk == "D":
        n_cur, codes, counts = pan.nP, pan.fp_codes, pan.nP
        cur_pos, prev_pos = np.arange(pan.n_firm), pan.lag_pos[1]
    else:
        n_cur, codes, counts = pan.nDv, pan.fd_codes, pan.nD
        cur_pos, prev_pos = pan.d_pos, pan.d_prev
    prev, nxt = flags.result()
    v = pan.fp_value if blk == "D" else pan.fd_value
    n_tp = len(counts)  # trader-periods of this table, indexed by ``codes``
    starts = pan.fp_starts if blk == "D" else _run_starts(codes)
    new = ~prev
    new_c, kept_c, newkept_c = _counts_by(codes, [new, nxt, new & nxt], n_tp, starts)
    vnew_c = _group_sum(codes, np.where(prev, 0.0, v), n_tp, starts)
    n_new = _take(new_c, cur_pos)
    v_new = _take(vnew_c, cur_pos)
    kept_prev = _take(kept_c, prev_pos)  # |P_{t-1} ∩ P_t|
    new_prev = _take(new_c, prev_pos)
    newkept_prev = _take(newkept_c, prev_pos)
    n_prev = _take(counts, prev_pos)
    with np.errstate(divide="ignore", invalid="ignore"):
        entry = n_new / (n_cur if p["d1_denominator"] == "current" else n_prev)
        newshare = v_new / pan.X
        exit_ = (n_prev - kept_prev) / n_prev
        surv = kept_prev / n_prev if p["d6_rule"] == "all" else newkept_prev / new_prev
    inc, se, inc_def, L = sets.inc, sets.se, sets.inc_def, sets.L
    for code, x, m, idx, d in (
        ("1", entry, inc, sets.at_inc, inc_def),
        ("2", entry, se, sets.at_se, L[2]),
        ("3", newshare, inc, sets.at_inc, inc_def),
        ("4", newshare, se, sets.at_se, L[2]),
        ("5", exit_, inc, sets.at_inc, inc_def),
        ("6", surv, sets.two_year, sets.at_two, L[2]),
    ):
        _describe_into(res, blk + code, st.describe_at(idx, x[m], d, 3), _STATS3)


#: the blocks of :func:`_compute`: A1-A12, B1/B3/B4, B2, B5/B6, C1-C6, D1-D6, E1-E6
_BLOCKS = frozenset({"A", "B", "B2", "cells", "C", "D", "E"})


def _blocks(series: tuple[str, ...] | None) -> frozenset[str]:
    """The blocks of :func:`_compute` that the EDD codes ``series`` need (None: all).

    B1 (NaN where A1 is 0) and the C block (rates over A1, A2, A3, A4) read the A block's
    results, so they bring it in; B2 and B5/B6 are blocks of their own.
    """
    if series is None:
        return _BLOCKS
    need: set[str] = set()
    for code in series:
        if code.startswith(("B5", "B6")):
            need.add("cells")
        elif code.startswith("B2"):
            need.add("B2")
        elif code[0] in "BC":
            need |= {"A", code[0]}
        else:
            need.add(code[0])
    return frozenset(need)


def _compute(
    fp: _Table,
    fd: _Table,
    periods: np.ndarray,
    breaks: set[int],
    p: dict[str, Any],
) -> dict[str, np.ndarray]:
    """All 98 series for one (sub-)panel, or the blocks ``p["series"]`` needs (:func:`_blocks`);
    ``periods`` are the observed ordinals (sorted).

    Steps: the trader-period table and its lags (:class:`_Panel`), the entrant / incumbent /
    survivor sets (:class:`_Sets`), then the A, B, C and D/E blocks. For large tables
    (:func:`_worker_pool`) the product and partner neighbours (:func:`_de_flags`) and the
    partner table's trader-periods are submitted to a worker thread while the panel is built,
    then the D block and B5/B6 (:func:`_cell_block`), and the B and C blocks once the A block
    is done, while the calling thread computes the A and E blocks; the calling thread runs
    what the worker has not started when it needs it (:class:`_Task`).
    """
    st = _Stats(periods, p["quantile_method"], p["sd_ddof"])
    L = {k: _linked(periods, breaks, k) for k in (1, 2, 3, 4)}
    span, base = _span_base(periods)
    res: dict[str, np.ndarray] = {}
    res_de: dict[str, dict[str, np.ndarray]] = {"D": {}, "E": {}, "B": {}}
    blocks = _blocks(p.get("series"))
    with _worker_pool(len(fp)) as pool:
        flags = {"D": _Task(pool, _de_flags, fp, span, base)} if "D" in blocks else {}
        fd_keys = _Task(pool, _factorize_tp, fd, periods)  # (mostly run by the panel itself)
        if "E" in blocks:
            flags["E"] = _Task(pool, _de_flags, fd, span, base)
        pan = _Panel(fp, fd, periods, fd_keys)
        sets = _Sets(pan, L, p["incumbent_def"])
        jobs = [_Task(pool, _de_block, res_de["D"], st, pan, sets, "D", flags["D"], p)] if "D" in blocks else []
        if "cells" in blocks:
            jobs.append(_Task(pool, _cell_block, res_de["B"], st, fp, fd, base))
        denom = _a_block(res, st, pan, sets, p) if "A" in blocks else None
        tev = st.total(pan.o, pan.X)
        if blocks & {"B", "B2", "C"}:
            jobs.append(_Task(pool, _bc_blocks, res, st, pan, sets, tev, denom, p, blocks))
        if "E" in blocks:
            _de_block(res_de["E"], st, pan, sets, "E", flags["E"], p)
        for job in jobs[::-1]:  # the last submitted first: run here if not started
            job.result()
    for part in res_de.values():
        res.update(part)
    return res


_THREAD_MIN_ROWS = 100_000  # rows of the product table from which a worker thread is used


@contextmanager
def _worker_pool(n_rows: int) -> Iterator[ThreadPoolExecutor | None]:
    """One worker thread for tables of at least ``_THREAD_MIN_ROWS`` rows on machines with
    more than one CPU (else None: everything runs in the calling thread).

    One worker beside the calling thread keeps to two busy threads (two worker threads and
    the calling one competed for the cores and the GIL); work the worker has not started when
    the caller needs it is run by the caller (:class:`_Task`). numpy and pandas release the
    GIL in their sorts, selections and group sums; every result is computed as on one thread
    (same arrays, same order), so the output does not depend on the threading.
    """
    if n_rows < _THREAD_MIN_ROWS or (os.cpu_count() or 1) < 2:
        yield None
        return
    with ThreadPoolExecutor(1, thread_name_prefix="msme_dynamics") as pool:
        yield pool


class _Task:
    """``fn(*args)`` submitted to ``pool`` (run now without a pool). :meth:`result` runs it in
    the calling thread if the worker has not started it yet, else waits for the worker.
    Each task has one consumer (one thread calls :meth:`result`)."""

    def __init__(self, pool: ThreadPoolExecutor | None, fn: Callable[..., Any], *args: Any) -> None:
        self._call: tuple[Callable[..., Any], tuple[Any, ...]] | None = (fn, args)
        self._future: Future[Any] | None = pool.submit(fn, *args) if pool is not None else None
        self._value: Any = None
        if pool is None:
            self._run()

    def _run(self) -> None:
        assert self._call is not None
        fn, args = self._call
        self._call, self._future = None, None
        self._value = fn(*args)

    def result(self) -> Any:
        """The value of ``fn(*args)``, computed here if no worker has started it."""
        if self._future is not None:
            if not self._future.cancel():
                self._value = self._future.result()
                self._call, self._future = None, None
            else:
                self._run()
        return self._value


# --------------------------------------------------------------------------------------
# register and size classes
# --------------------------------------------------------------------------------------
def size_classes(register: pd.DataFrame, *, sme_threshold: float = 250) -> pd.Series:
    """Map a firm register to size classes ``"SME"`` / ``"large"`` / ``"unknown"``.

    Parameters
    ----------
    register
        Frame with a ``trader`` column and either ``employees`` (SME if
        ``employees < sme_threshold``; missing -> ``"unknown"``) or ``size_class`` (values
        ``SME``/``large``, case-insensitive; missing -> ``"unknown"``).
    sme_threshold
        Employees below which a trader is an SME: 250 (default; OECD/Eurostat TEC and the EU
        definition, MSME = fewer than 250 employees) or 100 (the WBES split, SME = 5-99).

    Returns
    -------
    pandas.Series
        Index ``trader`` (str), values ``"SME"``, ``"large"`` or ``"unknown"``.

    Raises
    ------
    OptionError
        ``register`` is not a DataFrame, or ``sme_threshold`` is not a positive number.
    MissingColumnsError
        No ``trader`` column, or neither ``employees`` nor ``size_class``.
    DuplicateIdError
        A trader appears more than once.
    UnknownCodeError
        A ``size_class`` other than SME / large / unknown.
    InvalidValueError
        Non-numeric or negative ``employees``.

    Examples
    --------
    >>> import pandas as pd
    >>> size_classes(pd.DataFrame({"trader": ["F1", "F2", "F3"], "employees": [12, 400, None]}))
    trader
    F1        SME
    F2      large
    F3    unknown
    Name: size_class, dtype: str
    """
    if not isinstance(register, pd.DataFrame):
        raise OptionError("register must be a pandas DataFrame with columns trader and employees or size_class.")
    if "trader" not in register.columns or not ({"employees", "size_class"} & set(register.columns)):
        raise MissingColumnsError(
            "register: needs a 'trader' column and an 'employees' or 'size_class' column; it has "
            f"{', '.join(map(repr, register.columns))}."
        )
    if not (isinstance(sme_threshold, (int, float)) and sme_threshold > 0):
        raise OptionError(f"sme_threshold={sme_threshold!r} must be a positive number (250 or 100).")
    trader = register["trader"].astype("str").str.strip()
    dup = trader.duplicated(keep=False)
    if dup.any():
        raise DuplicateIdError(
            f"register: column 'trader' repeats {int(trader[dup].nunique())} id(s), e.g. "
            f"{trader[dup].iloc[0]!r}; keep one row per trader."
        )
    if "size_class" in register.columns:
        raw = register["size_class"]
        lab = raw.astype("str").str.strip().str.lower()
        known = {"sme": "SME", "large": "large", "unknown": "unknown"}
        bad = raw.notna() & ~lab.isin(list(known))
        if bad.any():
            raise UnknownCodeError(
                f"register: column 'size_class' has {int(bad.sum())} unknown value(s), e.g. "
                f"{raw[bad].iloc[0]!r}; use 'SME', 'large' or leave it empty."
            )
        cls: pd.Series = lab.map(known).where(raw.notna(), "unknown")
    else:
        emp = pd.to_numeric(register["employees"], errors="coerce")
        bad = register["employees"].notna() & emp.isna()
        if bad.any() or (emp < 0).any():
            raise InvalidValueError(
                "register: column 'employees' must hold non-negative numbers "
                f"({int(bad.sum() + (emp < 0).sum())} bad value(s))."
            )
        cls = pd.Series(np.where(emp < sme_threshold, "SME", "large"), index=register.index)
        cls = cls.where(emp.notna(), "unknown")
    return pd.Series(cls.to_numpy(), index=pd.Index(trader.to_numpy(), name="trader"), name="size_class")


# --------------------------------------------------------------------------------------
# public function
# --------------------------------------------------------------------------------------
_PRESET = {
    "exclude_hs27": (False, True),
    "min_value": (0.0, 1000.0),
    "top_share_k": ("ceil", "ceil"),
    "quantile_method": ("averaged_inverted_cdf", "averaged_inverted_cdf"),
    "sd_ddof": (1, 1),
}


@lru_cache(maxsize=2)
def _edd_unit_map(growth: str) -> dict[str, str]:
    """``unit`` of each EDD code, in the package's one convention (ES, TEC, EDD): ``"share"`` for
    0-1 fractions (entry, exit and survival rates, shares of TEV; never "%"), ``"count"`` (A1-A5,
    B3-B6), ``"value"`` (A6-A10, in the unit of the input values), ``"index"`` (B1 HHI),
    ``"rate"`` (A11-A12 growth X_t / X_t-1 - 1 as a fraction) or ``"log"`` (log growth)."""
    codes = _codes_table()
    units = {}
    for code, base in zip(codes["code"], codes["base_code"], strict=True):
        n = int(base[1:]) if base[1:].isdigit() else 0
        if base[0] == "A":
            unit = "count" if n <= 5 else ("value" if n <= 10 else ("rate" if growth == "pct" else "log"))
        elif base == "B1":
            unit = "index"
        elif base[0] == "B" and n >= 3:
            unit = "count"
        else:
            unit = "share"
        units[code] = unit
    return units


@quiet_allocation
def exporter_dynamics(
    transactions: Any,
    *,
    engine: DynamicsEngine = "pandas",
    period: PeriodGrain = "year",
    series: str | Iterable[str] | None = None,
    register: pd.DataFrame | None = None,
    roles: str | Mapping[str, str] | None = None,
    exit_convention: ExitConvention = "A",
    incumbent_def: IncumbentDef = "continuing",
    survival_index: SurvivalIndex = "t",
    survival_rule: SurvivalRule = "continuous",
    growth: Growth = "pct",
    d1_denominator: D1Denominator = "current",
    d6_rule: D6Rule = "all",
    hhi_scale: int = 1,
    top_share_k: TopShareK | None = None,
    quantile_method: QuantileMethod | None = None,
    sd_ddof: int | None = None,
    exclude_hs27: bool | None = None,
    min_value: float | None = None,
    hs_concordance: pd.DataFrame | Mapping[str, str] | None = None,
    placeholder_ids: PlaceholderIds = "error",
    id_break_years: Iterable[Any] | None = None,
    edd_compat: bool = False,
    sme_threshold: float = 250,
    client: Any = None,
    scheduler: str | None = None,
    threads: int | None = None,
) -> pd.DataFrame:
    """EDD country-period indicators (A1-E6) from customs transactions.

    Definition
    ----------
    With x_{f,p,d,t} >= 0 the value of trader f, HS6 product p, partner d, period t and
    X_{f,t} its sum, E_t = {f: X_{f,t} > 0} (METHODS §4.2-4.4):

    * A1 = |E_t|; A2 entrants Ent_t = E_t minus E_{t-1}; A3 exiters (``exit_convention``);
      A4 surviving entrants SE_t = Ent_{t-1} ∩ E_t; A5 incumbents (``incumbent_def``);
    * A6-A10 mean (i), median (ii), sd (iii), Q1 (iv), Q3 (v) of X_{f,t} over E_t, Ent_t,
      exiters (valued in their last exporting period), SE_t, incumbents; A11/A12 the same of
      growth X_{f,t}/X_{f,t-1} - 1 (or the log difference, ``growth="log"``) over incumbents
      and surviving entrants;
    * B1 = sum of squared shares of TEV_t (x ``hhi_scale``); B2 i/ii/iii share of the top
      k = ceil(q N) exporters, q = 1, 5, 25 % (``top_share_k``); B3/B4 products /
      partners per exporter; B5/B6 exporters per product / partner (mean, median, sd);
    * C1 = A2/A1; C2 = A3 / A1_{t-1} (convention A) or A3 / A1_t (B); C3, C5, C6 the share
      of an entry cohort still exporting 1, 2, 3 periods later (``survival_rule``,
      ``survival_index``); C4 = entrants' share of TEV_t;
    * D1/D2 product entry rate |P_t minus P_{t-1}| / |P_t| (``d1_denominator``) of incumbents /
      surviving entrants; D3/D4 value share of new products; D5 product exit rate
      |P_{t-1} minus P_t| / |P_{t-1}| of incumbents; D6 product survival of traders exporting in
      t-2, t-1 and t (``d6_rule``); E1-E6 the same with partners.

    Source
    ------
    Series names and codes: World Bank API source 30, "Exporter Dynamics Database -
    Indicators at Country-Year Level" (``reference/edd_codes.csv``); conventions: Freund &
    Pierola (2012), Cebeci et al. (2012), METHODS §4 of this project (the formulas are the
    standard reading of the names, ``assumption``).

    Parameters
    ----------
    transactions
        Canonical transactions (:func:`msme_stats.load_transactions`) as a pandas or Dask
        DataFrame, or a path/glob/list of canonical Parquet files or hive-partitioned folders;
        with ``roles`` any source accepted by :func:`~msme_stats.load_transactions`.
    engine
        ``"pandas"`` (in memory), ``"dask"`` (out of core; any dask.distributed cluster) or
        ``"duckdb"`` (optional dependency, ``pip install msme_stats[duckdb]``: the reduction
        in DuckDB SQL straight from the file(s) or DataFrame given with ``roles``, keys
        validated per distinct value as ``load_transactions`` does). All give the same tables
        (sums equal up to rounding, about 1e-15 relative). On 10M transactions the DuckDB
        engine was the fastest on every input form measured (Parquet file, hive folder, CSV,
        DataFrames: 0.9-3.2 s against 1.2-3.3 s for pandas); Dask runs out of core
        (BENCHMARKS.md §6.1.5).
    period
        ``"year"``, ``"quarter"`` or ``"month"``; transactions with finer periods are
        aggregated (month -> quarter -> year).
    series
        EDD codes to compute (default None: all 98): codes such as ``"A1"`` or ``"A6ii"``, or
        a family such as ``"A6"`` for all its statistics (:func:`edd_codes` lists them). Only
        the blocks the codes need are computed (the product and partner blocks D and E, and
        B5/B6, are the costliest); each value equals that of the full run. An unknown code
        raises :class:`~msme_stats.errors.OptionError`.
    register
        Optional firm register (``trader`` plus ``employees`` or ``size_class``); every
        indicator is then also reported for ``size_class`` ``"SME"``, ``"large"`` and
        ``"unknown"`` (traders absent from the register; counted and warned about, never
        dropped). Indicators of a class are those of the sub-panel of its traders.
    roles
        Role mapping or preset for raw files (passed to ``load_transactions``).
    exit_convention
        ``"A"`` (default): Ex_t = E_{t-1} minus E_t, C2 over A1_{t-1}, A8 valued at t-1;
        ``"B"``: Ex_t = E_t minus E_{t+1}, C2 over A1_t, A8 at t (NaN in the last period).
    incumbent_def
        ``"continuing"`` (default): E_t ∩ E_{t-1}; ``"excl_prev_entrants"``: also minus
        Ent_{t-1}.
    survival_index
        ``"t"`` (default): C3/C5/C6 labelled with the survival period; ``"cohort"``: with the
        entry period.
    survival_rule
        ``"continuous"`` (default): present in every period since entry; ``"present"``:
        present in the final period only.
    growth
        ``"pct"`` (default) X_t/X_{t-1} - 1; ``"log"`` ln X_t - ln X_{t-1} (numpy's ``log``, one
        call per trader-period: its last bit can differ between CPUs with and without AVX-512,
        so A11-A12 may differ in the last digit from one machine to another; ``"pct"`` does not).
    d1_denominator
        ``"current"`` (default, |P_t|) or ``"previous"`` (|P_{t-1}|); D1, D2, E1, E2.
    d6_rule
        ``"all"`` (default): |P_{t-1} ∩ P_t| / |P_{t-1}|; ``"new"``: survival into t of the
        products new in t-1.
    hhi_scale
        1 (default, 0-1) or 10000.
    top_share_k
        ``"ceil"`` (default), ``"round"`` (half up) or ``"floor"``; k = 0 gives NaN.
    quantile_method
        numpy quantile method; default ``"averaged_inverted_cdf"`` = Stata ``_pctile``,
        ``summarize, detail``, ``collapse (median|p25|p75)`` (Hyndman-Fan type 2); R
        ``quantile(type = 2)``.
    sd_ddof
        1 (default; Stata ``summarize``, R ``sd``) or 0.
    exclude_hs27
        Drop HS chapter 27 (mineral fuels) rows; default False (True under ``edd_compat``).
    min_value
        Drop trader-periods whose total is below this value; default 0 (1000 under
        ``edd_compat``). Trader-periods with a total of 0 are never exporters.
    hs_concordance
        Mapping (or two-column frame ``from``, ``to``) from reported HS6 to consolidated HS6
        codes; codes absent keep their own code.
    placeholder_ids
        ``"error"`` (default): placeholder ids (trader ``OTH``, partner ``OTH``, products
        ``OT...``) raise :class:`~msme_stats.errors.InvalidValueError` naming the codes and
        row counts; ``"drop"`` drops those rows and warns with the counts.
    id_break_years
        Periods in which trader ids were recoded; no dynamics across them.
    edd_compat
        True applies the preset of METHODS §4.7 (``exclude_hs27=True``, ``min_value=1000``,
        a warning if no ``hs_concordance``); explicit arguments override it.
    sme_threshold
        Employees below which a registered trader is an SME: 250 (default; OECD/TEC) or 100
        (WBES).
    client, scheduler
        Dask only: a ``dask.distributed.Client`` (default: the current one if any) or a
        local scheduler name.
    threads
        DuckDB only: threads of the SQL reduction (default: the CPUs, at most 8). DuckDB adds
        its threads' partial sums in the order they finish, so with two or more threads two
        runs can differ in the last bit; ``threads=1`` gives the same bits in every run (as
        ``SET threads = 1`` in DuckDB; the pandas engine is deterministic).

    Returns
    -------
    pandas.DataFrame
        Columns ``period``, ``edd_code``, ``indicator`` (id of INDICATORS §7), ``value``,
        plus ``size_class`` (``"all"``, ``"SME"``, ``"large"``, ``"unknown"``) when a register
        is given. One row per period x code (x class; the codes of ``series``, in the order
        of :func:`edd_codes`); NaN where undefined.
        ``attrs["params"]`` records every parameter value used; ``attrs["exclusions"]`` the
        row and trader-period counts dropped at each step; ``attrs["unmatched_traders"]`` the
        traders missing from the register.

    Raises
    ------
    OptionError
        An option outside its allowed values (the message lists them), ``client=`` or
        ``scheduler=`` without ``engine="dask"``, ``threads=`` without ``engine="duckdb"`` or
        not a positive integer, a bad ``min_value`` or ``sme_threshold``, an unknown or empty
        ``series``.
    MissingColumnsError
        The transactions (or ``hs_concordance``, ``register``) lack a column.
    InvalidValueError
        Invalid cells (each naming the column, row and value), placeholder ids with
        ``placeholder_ids="error"``, malformed ``hs_concordance`` codes, or no row left.
    MsmeStatsError
        Propagated from :func:`~msme_stats.load_transactions` (``roles``) and from
        :func:`size_classes` (``register``): unreadable files, duplicate or unknown register
        entries; ``engine="duckdb"`` without duckdb installed.

    Examples
    --------
    >>> from msme_stats.samples.transactions import synthetic_transactions
    >>> out = exporter_dynamics(synthetic_transactions(10_000, n_traders=300, seed=1))
    >>> out.query("edd_code == 'A1'").shape[0]
    10
    >>> exporter_dynamics(synthetic_transactions(10_000, n_traders=300, seed=1),
    ...                   series=["A1", "A6", "C1"])["edd_code"].unique().tolist()
    ['A1', 'A6i', 'A6ii', 'A6iii', 'A6iv', 'A6v', 'C1']
    """
    params = _resolve_params(
        locals_=dict(
            engine=engine, period=period, exit_convention=exit_convention,
            incumbent_def=incumbent_def, survival_index=survival_index,
            survival_rule=survival_rule, growth=growth, d1_denominator=d1_denominator,
            d6_rule=d6_rule, hhi_scale=hhi_scale, top_share_k=top_share_k,
            quantile_method=quantile_method, sd_ddof=sd_ddof, exclude_hs27=exclude_hs27,
            min_value=min_value, placeholder_ids=placeholder_ids, edd_compat=edd_compat,
            sme_threshold=sme_threshold, series=series,
        )
    )
    concordance = _concordance(hs_concordance)
    if params["edd_compat"] and concordance is None:
        warnings.warn(
            "edd_compat=True: no hs_concordance supplied, so HS revisions are not consolidated "
            "(EDD consolidates HS 1996/2002/2007/2012 codes; METHODS §4.7).",
            RecodeWarning,
            stacklevel=2,
        )
    params["hs_concordance"] = None if concordance is None else f"{len(concordance)} codes"
    breaks = list(id_break_years or [])
    params["id_break_years"] = breaks
    engine_kwargs: dict[str, Any] = {}
    if client is not None:
        engine_kwargs["client"] = client
    if scheduler is not None:
        engine_kwargs["scheduler"] = scheduler
    if engine_kwargs and params["engine"] != "dask":
        raise OptionError("client= and scheduler= are only used with engine='dask'.")
    if threads is not None:
        if params["engine"] != "duckdb":
            raise OptionError("threads= is only used with engine='duckdb' (the SQL reduction's threads).")
        if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
            raise OptionError(f"threads={threads!r}: give a positive integer (1 for the same bits in every run).")
        engine_kwargs["threads"] = int(threads)
    if roles is not None and params["engine"] == "duckdb":
        engine_kwargs["roles"] = roles  # DuckDB reads the raw source itself (no pandas frame)
    elif roles is not None:
        from ..sources.customs import load_transactions

        transactions = load_transactions(transactions, roles=roles, period=period, engine=params["engine"])
    options = ReduceOptions(period=params["period"], exclude_hs27=params["exclude_hs27"], concordance=concordance)
    reduction = get_engine(params["engine"]).reduce(transactions, options, **engine_kwargs)
    return dynamics_from_reduction(reduction, params=params, register=register, id_break_years=breaks)


def _resolve_params(locals_: dict[str, Any]) -> dict[str, Any]:
    p = dict(locals_)
    p["engine"] = check_choice("engine", p["engine"], ENGINES)
    p["period"] = check_choice("period", p["period"], choices(PeriodGrain))
    p["exit_convention"] = check_choice("exit_convention", p["exit_convention"], choices(ExitConvention))
    p["incumbent_def"] = check_choice("incumbent_def", p["incumbent_def"], choices(IncumbentDef))
    p["survival_index"] = check_choice("survival_index", p["survival_index"], choices(SurvivalIndex))
    p["survival_rule"] = check_choice("survival_rule", p["survival_rule"], choices(SurvivalRule))
    p["growth"] = check_choice("growth", p["growth"], choices(Growth))
    p["d1_denominator"] = check_choice("d1_denominator", p["d1_denominator"], choices(D1Denominator))
    p["d6_rule"] = check_choice("d6_rule", p["d6_rule"], choices(D6Rule))
    p["hhi_scale"] = check_choice("hhi_scale", p["hhi_scale"], (1, 10000))
    p["placeholder_ids"] = check_choice("placeholder_ids", p["placeholder_ids"], choices(PlaceholderIds))
    p["edd_compat"] = check_choice("edd_compat", p["edd_compat"], (False, True))
    compat = 1 if p["edd_compat"] else 0
    for name, values in _PRESET.items():
        if p[name] is None:
            p[name] = values[compat]
    p["top_share_k"] = check_choice("top_share_k", p["top_share_k"], choices(TopShareK))
    p["quantile_method"] = check_choice("quantile_method", p["quantile_method"], _QUANTILE_METHODS)
    p["sd_ddof"] = check_choice("sd_ddof", p["sd_ddof"], (0, 1))
    p["exclude_hs27"] = check_choice("exclude_hs27", p["exclude_hs27"], (False, True))
    mv = p["min_value"]
    if not isinstance(mv, (int, float)) or isinstance(mv, bool) or not math.isfinite(mv) or mv < 0:
        raise OptionError(f"min_value={mv!r} must be a number >= 0 (USD per exporter-period).")
    p["min_value"] = float(mv)
    st = p["sme_threshold"]
    if not isinstance(st, (int, float)) or isinstance(st, bool) or st <= 0:
        raise OptionError(f"sme_threshold={st!r} must be a positive number (250 OECD/TEC, 100 WBES).")
    p["series"] = _resolve_series(p["series"])
    return p


def _resolve_series(series: Any) -> tuple[str, ...] | None:
    """The EDD codes of ``series`` in the order of the code table (None: all 98); a family
    code (``"A6"``, the ``base_code`` of the table) stands for all its statistics."""
    if series is None:
        return None
    asked = [series] if isinstance(series, str) else list(series)
    table = _codes_table()
    known = set(table["code"]) | set(table["base_code"])
    bad = [c for c in asked if not isinstance(c, str) or c not in known]
    if bad:
        raise OptionError(
            f"series: unknown EDD code(s) {', '.join(map(repr, bad))}; use codes such as 'A1' or 'A6ii', "
            "or a family such as 'A6' (msme_stats.edd_codes() lists the 98 series)."
        )
    if not asked:
        raise OptionError("series=[] selects no series; pass None (the default) for all 98, or EDD codes.")
    chosen = table["code"].isin(asked) | table["base_code"].isin(asked)
    return tuple(table.loc[chosen, "code"])


def _concordance(hs_concordance: Any) -> dict[str, str] | None:
    if hs_concordance is None:
        return None
    if isinstance(hs_concordance, pd.DataFrame):
        if not {"from", "to"} <= set(hs_concordance.columns):
            raise MissingColumnsError(
                "hs_concordance: needs columns 'from' and 'to'; it has "
                f"{', '.join(map(repr, hs_concordance.columns))}."
            )
        pairs = zip(hs_concordance["from"].astype("str"), hs_concordance["to"].astype("str"), strict=True)
        mapping = dict(pairs)
    elif isinstance(hs_concordance, Mapping):
        mapping = {str(k): str(v) for k, v in hs_concordance.items()}
    else:
        raise OptionError("hs_concordance must be a mapping or a DataFrame with columns 'from' and 'to'.")
    bad = [c for c in list(mapping) + list(mapping.values()) if not (len(c) == 6 and c.isdigit())]
    if bad:
        raise InvalidValueError(f"hs_concordance: codes must be 6-digit HS6 strings; e.g. {bad[0]!r}.")
    return mapping


def _warn_row_exclusions(reduction: Reduction, params: dict[str, Any]) -> None:
    """Raise on (or warn about) placeholder rows; warn about chapter 27 and concorded rows."""
    counts = reduction.counts
    if counts.get("rows_placeholder", 0):
        detail = ", ".join(f"{k}: {v} row(s)" for k, v in sorted(reduction.placeholder_codes.items()))
        if params["placeholder_ids"] == "error":
            raise InvalidValueError(
                f"transactions hold placeholder ids ({detail}); they are not real traders, "
                "partners or products. Pass placeholder_ids='drop' to drop those rows."
            )
        warnings.warn(f"dropped {counts['rows_placeholder']} row(s) with placeholder ids ({detail}).",
                      ExclusionWarning, stacklevel=4)
    if counts.get("rows_hs27", 0):
        warnings.warn(f"dropped {counts['rows_hs27']} row(s) of HS chapter 27 (exclude_hs27=True).",
                      ExclusionWarning, stacklevel=4)
    if counts.get("rows_concorded", 0):
        logger.info("hs_concordance recoded %d row(s)", counts["rows_concorded"])


def _drop_non_exports(fp: _Table, fd: _Table, periods: np.ndarray, min_value: float, counts: dict[str, int]
                      ) -> tuple[_Table, _Table]:
    """Leave out zero-value cells, then trader-periods whose total is below ``min_value``.

    The counts go to ``counts`` (``trader_periods_zero_cells``,
    ``trader_periods_below_min_value``) and into an :class:`ExclusionWarning`. Totals are
    pandas' grouped sums in row order (:func:`_group_sum`), as ``groupby(...).sum()`` gave.
    """
    zero_p = int(np.count_nonzero(fp.value <= 0))
    zero_d = int(np.count_nonzero(fd.value <= 0))
    if zero_p:
        fp = fp.take(fp.value > 0)
    if zero_d:
        fd = fd.take(fd.value > 0)
    if zero_p or zero_d:
        warnings.warn(
            f"{zero_p} trader-period-product and {zero_d} trader-period-partner cell(s) have a "
            "total value of 0 and are not exports; they were left out.",
            ExclusionWarning, stacklevel=4,
        )
    n_low = 0
    if min_value > 0:  # else every cell left is > 0, so no total is below 0
        span, base = _span_base(periods)
        fk_p = fp.fid.astype(np.int64) * span + (fp.o - base)
        codes, uniq, _, _ = _factorize_first(fk_p)  # ids as groupby(sort=False) numbers them
        low = _group_sum(codes, fp.value, len(uniq)) < min_value
        n_low = int(np.count_nonzero(low))
    counts["trader_periods_zero_cells"] = zero_p
    counts["trader_periods_below_min_value"] = n_low
    if n_low:
        warnings.warn(
            f"dropped {n_low} trader-period(s) with total value below min_value="
            f"{min_value:g}.", ExclusionWarning, stacklevel=4,
        )
        fk_d = fd.fid.astype(np.int64) * span + (fd.o - base)
        fp = fp.take(~low[codes])
        fd = fd.take(_find_sorted(np.sort(uniq[low]), fk_d) < 0)
    return fp, fd


def _codes_of(col: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and their labels of a key column: a categorical's own codes (not
    copied), else ``pd.factorize``."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        cat = col.array
        assert isinstance(cat, pd.Categorical)
        return cat.codes, cat.categories  # int8 ... int32, widened where keys are built
    codes, uniques = pd.factorize(col)
    return codes, pd.Index(uniques)


def _trader_codes(fp: pd.DataFrame, fd: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Shared trader codes of both tables and their labels (no string per row): the
    categorical codes as they are when both tables have the same categories, else the
    categories of ``fd`` mapped onto those of ``fp`` (new ones appended)."""
    cp, lab_p = _codes_of(fp["trader"])
    cd, lab_d = _codes_of(fd["trader"])
    if (cp < 0).any() or (cd < 0).any():  # missing traders: one factorize, as before
        codes, uniques = pd.factorize(pd.concat([fp["trader"], fd["trader"]], ignore_index=True))
        return codes[: len(fp)], codes[len(fp) :], pd.Index(uniques)
    if lab_p is lab_d or lab_p.equals(lab_d):
        return cp, cd, lab_p
    idx = lab_p.get_indexer(lab_d)
    new = idx < 0
    idx[new] = len(lab_p) + np.arange(int(new.sum()))
    return cp, idx[cd], lab_p.append(lab_d[new])


def _period_ordinals(col: pd.Series, per_map: dict[Any, int]) -> np.ndarray:
    """Period ordinal of each row: integer years as they are, other labels by their index."""
    if pd.api.types.is_integer_dtype(col.dtype) and not isinstance(col.dtype, pd.CategoricalDtype):
        return col.to_numpy(dtype=np.int64)  # a year label is its own ordinal
    labels = pd.Index(list(per_map))
    idx = labels.get_indexer(col)
    if (idx < 0).any():  # a label of one table missing from the other: raises as before
        return col.map(per_map).to_numpy(dtype=np.int64)
    return np.asarray(list(per_map.values()), dtype=np.int64)[idx]


def _integer_tables(fp: pd.DataFrame, fd: pd.DataFrame, per_map: dict[Any, int]
                    ) -> tuple[_Table, _Table, pd.Index]:
    """Both tables with integer keys (:class:`_Table`): ``fid`` (shared trader code), ``o``
    (period ordinal), ``pid`` (product or partner code) and ``value``; plus the labels of
    the trader codes (:func:`_trader_codes`)."""
    fid_p, fid_d, traders = _trader_codes(fp, fd)
    fp_i = _Table(fid_p, _period_ordinals(fp["period"], per_map), _codes_of(fp["product"])[0],
                  fp["value"].to_numpy(dtype=float))
    fd_i = _Table(fid_d, _period_ordinals(fd["period"], per_map), _codes_of(fd["partner"])[0],
                  fd["value"].to_numpy(dtype=float))
    return fp_i, fd_i, traders


_Group = tuple[str | None, _Table, _Table]


def _size_groups(fp_i: _Table, fd_i: _Table, traders: pd.Index, register: pd.DataFrame | None,
                 sme_threshold: float) -> tuple[list[_Group], list[str]]:
    """The sub-panels to compute: the whole panel, then one per size class of the register.

    Returns ``(size_class, fp, fd)`` per sub-panel (size class None without a register) and
    the traders missing from the register (warned about; reported as ``"unknown"``), in
    order of first appearance in ``fp`` then ``fd``.
    """
    if register is None:
        return [(None, fp_i, fd_i)], []
    classes = size_classes(register, sme_threshold=sme_threshold)
    used = pd.unique(np.concatenate([fp_i.fid, fd_i.fid]))  # trader codes, first appearance
    trader_uniques = traders.take(used)
    cls_of = pd.Series(trader_uniques).map(classes)
    missing = cls_of.isna().to_numpy()
    unmatched = [str(t) for t in np.asarray(trader_uniques)[missing]]
    if unmatched:
        warnings.warn(
            f"register: {len(unmatched)} of {len(trader_uniques)} trader(s) are not in the "
            f"register (e.g. {unmatched[0]!r}); they are reported as size_class 'unknown'.",
            RecodeWarning, stacklevel=4,
        )
    cls_arr = np.full(len(traders), "unknown", dtype=object)  # by trader code
    cls_arr[used] = cls_of.fillna("unknown").to_numpy()
    groups: list[_Group] = [("all", fp_i, fd_i)]
    for c in SIZE_CLASSES:
        member = cls_arr == c
        groups.append((c, fp_i.take(member[fp_i.fid]), fd_i.take(member[fd_i.fid])))
    return groups, unmatched


def _long_output(groups: list[_Group], periods: np.ndarray, period_labels: list[Any], breaks: set[int],
                 params: dict[str, Any], with_class: bool) -> pd.DataFrame:
    """Compute every sub-panel and stack the series into the long output frame."""
    frames = []
    table = _codes_table()
    code_order = table["code"].tolist()
    if params.get("series") is not None:
        chosen = set(params["series"])
        code_order = [c for c in code_order if c in chosen]
    ids_of = dict(zip(table["code"], table["id"], strict=True))
    for cls, a, b in groups:
        res = _compute(a, b, periods, breaks, params)
        missing_codes = set(code_order) - set(res)
        if missing_codes:  # a programming error, never data-dependent
            raise RuntimeError(f"EDD codes not computed: {sorted(missing_codes)}")
        block = pd.DataFrame({
            "period": np.tile(period_labels, len(code_order)),
            "edd_code": np.repeat(code_order, len(periods)),
            "value": np.concatenate([np.asarray(res[c], dtype=float) for c in code_order]),
        })
        block["indicator"] = block["edd_code"].map(ids_of)
        if cls is not None:
            block.insert(0, "size_class", cls)
        frames.append(block)
    out = pd.concat(frames, ignore_index=True)
    out["unit"] = out["edd_code"].map(dict(_edd_unit_map(params["growth"])))  # (a copy of the cached map)
    cols = (["size_class"] if with_class else []) + ["period", "edd_code", "indicator", "value", "unit"]
    out = out[cols]
    if params["period"] == "year":
        out["period"] = out["period"].astype("int64")
    return out


def dynamics_from_reduction(
    reduction: Reduction,
    *,
    params: dict[str, Any],
    register: pd.DataFrame | None = None,
    id_break_years: list[Any] | None = None,
) -> pd.DataFrame:
    """Shared second stage: EDD indicators from an engine's :class:`Reduction`.

    Steps: placeholder / chapter 27 reports, zero cells and ``min_value``
    (:func:`_drop_non_exports`), integer tables, size classes of the register, then the 98
    series per (sub-)panel. :func:`exporter_dynamics` calls it after the engine's reduction;
    call it directly to compute indicators from a reduction kept from an earlier run.

    Parameters
    ----------
    reduction
        Trader x period x product and x partner tables of an engine
        (:func:`msme_stats.engines.get_engine` ``(name).reduce(...)``).
    params
        Every option of :func:`exporter_dynamics`, resolved (the dictionary that
        ``exporter_dynamics(...).attrs["params"]`` holds).
    register
        Optional firm register, as in :func:`exporter_dynamics`.
    id_break_years
        Periods in which trader ids were recoded, as in :func:`exporter_dynamics`.

    Returns
    -------
    pandas.DataFrame
        The long frame of :func:`exporter_dynamics`.

    Raises
    ------
    InvalidValueError
        Placeholder ids in the reduction with ``placeholder_ids="error"``, or no row left.
    MissingColumnsError, DuplicateIdError, UnknownCodeError, OptionError
        Propagated from :func:`size_classes` for a bad ``register``.

    Examples
    --------
    >>> from msme_stats.engines import ReduceOptions, get_engine
    >>> from msme_stats.samples.transactions import synthetic_transactions
    >>> tx = synthetic_transactions(5_000, n_traders=200, seed=1)
    >>> red = get_engine("pandas").reduce(tx, ReduceOptions())
    >>> params = exporter_dynamics(tx).attrs["params"]
    >>> out = dynamics_from_reduction(red, params=params)
    >>> out.equals(exporter_dynamics(tx))
    True
    """
    counts = dict(reduction.counts)
    _warn_row_exclusions(reduction, params)
    fp = reduction.firm_product
    fd = reduction.firm_partner
    labels = pd.unique(fp["period"]) if len(fp) else np.array([])
    if len(labels) == 0:
        raise InvalidValueError("transactions: no rows left after the row-level exclusions.")
    ords = _ordinal(labels)
    periods = ords[np.argsort(ords)]
    label_of = dict(zip(ords.tolist(), labels.tolist(), strict=True))
    per_map = dict(zip(labels.tolist(), ords.tolist(), strict=True))
    fp_i, fd_i, traders = _integer_tables(fp, fd, per_map)
    fp_i, fd_i = _drop_non_exports(fp_i, fd_i, periods, params["min_value"], counts)
    breaks = _break_ordinals(id_break_years or [], params["period"])
    groups, unmatched = _size_groups(fp_i, fd_i, traders, register, params["sme_threshold"])
    out = _long_output(groups, periods, [label_of[o] for o in periods], breaks, params, register is not None)
    out.attrs["params"] = dict(params)
    out.attrs["exclusions"] = counts
    out.attrs["unmatched_traders"] = FrozenTuple(unmatched)  # shared by copies, never deep-copied
    return out


def kcs_specimen_dynamics(*, period: PeriodGrain = "month", engine: DynamicsEngine = "pandas",
                          **kwargs: Any) -> pd.DataFrame:
    """EDD indicators of the synthetic Korean import declarations (``data/kcs_customs_synthetic``).

    The importer stands in for the exporter and the country of origin for the destination
    (METHODS §5). Needs a source checkout (the data folder is not installed with the package).

    Parameters
    ----------
    period
        ``"month"`` (default), ``"quarter"`` or ``"year"``.
    engine
        As in :func:`exporter_dynamics`.
    **kwargs
        Further options of :func:`exporter_dynamics`.

    Returns
    -------
    pandas.DataFrame
        The long frame of :func:`exporter_dynamics`; ``attrs["params"]["source"]`` is
        ``"kcs_customs_synthetic"``.

    Raises
    ------
    UnreadableFileError
        The specimen CSV files are missing (not a source checkout).
    MsmeStatsError
        Propagated from :func:`exporter_dynamics` (bad options).

    Examples
    --------
    >>> out = kcs_specimen_dynamics(period="year")
    >>> out.attrs["params"]["source"], out["period"].unique().tolist()
    ('kcs_customs_synthetic', [2020, 2021])
    """
    folder = Path(__file__).resolve().parents[2] / "data" / "kcs_customs_synthetic"
    files = sorted(folder.glob("df_syn_*_eng.csv"))
    if not files:
        from ..errors import UnreadableFileError

        raise UnreadableFileError(f"{folder}: the KCS specimen CSV files are missing; run from a source checkout.")
    from ..sources.customs import load_transactions

    tx = load_transactions([str(f) for f in files], roles="kcs", period=period)
    out = exporter_dynamics(tx, engine=engine, period=period, **kwargs)
    out.attrs["params"]["source"] = "kcs_customs_synthetic"
    return out
