"""Tests of the numeric kernels of msme_stats.indicators.dynamics' second stage: each faster
path gives, bit for bit, what the plain numpy / pandas call it replaces gives."""

from __future__ import annotations

import threading
import typing
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msme_stats._options import QuantileMethod
from msme_stats.indicators import dynamics as dyn

METHODS = typing.get_args(QuantileMethod)


def bits(a):
    """The bit patterns of a float array (so that -0.0 != 0.0 and NaN == NaN)."""
    return np.asarray(a, dtype=float).view(np.int64)


@pytest.mark.parametrize("method", METHODS)
def test_quantiles_equal_numpy_quantile(method):
    """_quantiles (a sorted copy whose partition is a no-op) equals numpy.quantile for every
    method, on continuous values, heavy ties, negatives and zeros of both signs."""
    rng = np.random.default_rng(0)
    samples = [rng.lognormal(9, 1, n) for n in (1, 2, 3, 7, 100, 5_001)]
    samples += [rng.integers(0, 5, n).astype(float) for n in (4, 50, 3_000)]
    samples += [rng.normal(0, 1, 999), np.array([0.0, -0.0, 0.0, 1.0]), np.array([-0.0, -0.0, 2.0, -1.0, 0.0])]
    zeros = rng.random(6_000) < 0.3  # many zeros: -0.0 among them, or +0.0 only
    samples += [np.where(zeros, -0.0, rng.normal(0, 1, 6_000)), np.where(zeros, 0.0, rng.lognormal(0, 1, 6_000))]
    samples += [np.where(zeros, 0.0, -rng.lognormal(0, 1, 6_000)) * np.where(rng.random(6_000) < 0.01, -1.0, 1.0)]
    for v in samples:
        expected = np.quantile(v, [0.5, 0.25, 0.75], method=method)
        got = dyn._quantiles(v, method)
        assert np.array_equal(bits(got), bits(expected)), (method, v[:5])


def test_sorted_view_partitions_other_shapes_as_numpy():
    """_Sorted only skips the partition of 1-d arrays; 2-d arrays are partitioned."""
    a = np.array([[3.0, 1.0, 2.0], [9.0, 7.0, 8.0]]).view(dyn._Sorted)
    a.partition(1, axis=1)
    assert np.asarray(a)[:, 1].tolist() == [2.0, 8.0]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-(2**62), 2**62), max_size=300), st.integers(0, 3))
def test_stable_sort_is_the_stable_argsort(values, spread):
    """_stable_sort gives argsort(kind="stable") and the sorted keys, packed or not."""
    key = np.asarray(values, dtype=np.int64)
    if spread:  # small ranges (the packed path), with ties
        key = key % (10**spread)
    order, ks = dyn._stable_sort(key)
    ref = np.argsort(key, kind="stable")
    assert np.array_equal(order, ref)
    assert np.array_equal(ks, key[ref])


def pandas_sum(codes, values, n):
    grouper = pd.Categorical.from_codes(codes, categories=pd.RangeIndex(n), validate=False)
    return pd.Series(values).groupby(pd.Series(grouper), observed=False).sum().to_numpy(dtype=float)


@pytest.mark.parametrize("case", ["sorted", "shuffled", "nan", "gaps", "strided"])
def test_group_sum_equals_pandas_groupby_sum(case):
    """_group_sum equals pandas' grouped sum bit for bit, whichever path pandas takes (sorted
    codes, other codes, NaN values, codes with no row, non-contiguous values)."""
    rng = np.random.default_rng(1)
    n_groups = 3_000
    codes = np.sort(rng.integers(0, n_groups, 60_000))
    values = rng.lognormal(8, 2, len(codes))
    if case == "shuffled":
        codes = rng.permutation(codes)
    elif case == "nan":
        values[::97] = np.nan
    elif case == "gaps":
        codes = codes * 2
        n_groups *= 2
    elif case == "strided":
        values = np.repeat(values, 2)[::2]
    assert np.array_equal(bits(dyn._group_sum(codes, values, n_groups)), bits(pandas_sum(codes, values, n_groups)))
    starts = dyn._run_starts(codes)
    assert (starts is None) == (case == "shuffled")
    assert np.array_equal(bits(dyn._group_sum(codes, values, n_groups, starts)),
                          bits(pandas_sum(codes, values, n_groups)))


def test_probe_detects_the_reduceat_path():
    """The probe values tell numpy.add.reduceat from pandas' Kahan-compensated loop (the loop
    pandas keeps for unsorted codes), so the probe cannot pass by accident."""
    v = 1.0 / np.arange(1, 13)
    kahan = pandas_sum(np.r_[1, np.zeros(12, dtype=np.intp)], np.r_[5.0, v], 2)[0]
    assert kahan != np.add.reduceat(v, [0])[0]
    assert isinstance(dyn._pandas_sums_runs_by_reduceat(), bool)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 4), st.booleans(), st.booleans()), min_size=1, max_size=60))
def test_run_starts_and_counts_by(runs):
    """_run_starts finds the runs of sorted codes; _counts_by equals numpy.bincount."""
    codes = np.repeat(np.arange(len(runs)), [r[0] for r in runs])
    rng = np.random.default_rng(len(runs))
    flags = [rng.random(len(codes)) < 0.5, np.zeros(len(codes), dtype=bool)]
    starts = dyn._run_starts(codes)
    assert starts is not None
    assert np.array_equal(starts, np.flatnonzero(np.r_[True, codes[1:] != codes[:-1]]))
    for got, f in zip(dyn._counts_by(codes, flags, len(runs), starts), flags, strict=True):
        assert np.array_equal(bits(got), bits(np.bincount(codes, weights=f, minlength=len(runs))))
    if len(runs) > 1:
        assert dyn._run_starts(codes[::-1]) is None


def test_task_runs_unstarted_work_in_the_caller():
    """A _Task the worker has not started runs in the thread that asks for its result; one it
    has started is waited for; without a pool it runs at once."""
    started, release = threading.Event(), threading.Event()

    def block():
        started.set()
        release.wait(5)
        return threading.current_thread().name

    with ThreadPoolExecutor(1, thread_name_prefix="worker") as pool:
        busy = dyn._Task(pool, block)
        queued = dyn._Task(pool, lambda: threading.current_thread().name)
        started.wait(5)
        assert queued.result() == threading.current_thread().name  # not started: run here
        release.set()
        assert busy.result().startswith("worker")
    assert dyn._Task(None, lambda: 7).result() == 7


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(-50, 50), max_size=40), st.integers(-4, 4))
def test_sorted_has_is_sorted_find_found(keys, k):
    """_sorted_has(srt, k) is _sorted_find(srt, k) >= 0 (and srt - k in srt)."""
    srt = np.array(sorted(keys), dtype=np.int64)
    has = dyn._sorted_has(srt, k)
    assert np.array_equal(has, dyn._sorted_find(srt, k) >= 0)
    assert has.tolist() == [(s - k) in keys for s in srt.tolist()]
