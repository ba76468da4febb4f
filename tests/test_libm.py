"""msme_stats._libm: exp and log with the C library's bits on every CPU."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from msme_stats import _libm
from msme_stats.survey import _confidence_interval, _quantile

floats = st.floats(allow_nan=True, allow_infinity=True, width=64)


@given(st.lists(floats, max_size=50))
def test_exp_is_math_exp_with_numpy_edges(xs: list[float]) -> None:
    got = _libm.exp(np.array(xs, dtype=float))
    assert got.shape == (len(xs),)
    with np.errstate(over="ignore", invalid="ignore"):
        ref = np.exp(np.array(xs, dtype=float))
    for x, g, r in zip(xs, got.tolist(), ref.tolist(), strict=True):
        if math.isnan(x):
            assert math.isnan(g)
        elif x > 709.8:
            assert g == math.inf  # np.exp overflows to inf; math.exp raises
        else:
            assert g == math.exp(x)
            assert g == r or abs(g - r) <= 2 * math.ulp(r)  # numpy's own kernel: within 2 ulp


@given(st.lists(floats, max_size=50))
def test_log_is_math_log_with_numpy_edges(xs: list[float]) -> None:
    a = np.array(xs, dtype=float)
    got = _libm.log(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        ref = np.log(a)
    for x, g, r in zip(xs, got.tolist(), ref.tolist(), strict=True):
        if math.isnan(x) or x < 0:
            assert math.isnan(g) and math.isnan(r)
        elif x == 0:
            assert g == r == -math.inf
        else:
            assert g == math.log(x)
            assert g == r or abs(g - r) <= 2 * math.ulp(r)


def test_keeps_shape_and_empty() -> None:
    assert _libm.exp(np.zeros((2, 3))).shape == (2, 3)
    assert _libm.log(np.empty(0)).shape == (0,)


def test_logit_interval_has_the_c_library_bits() -> None:
    """The logit bounds are computed with math.exp/math.log, element by element, whatever the CPU.

    On a CPU with AVX-512, np.exp/np.log differ from the C library in the last bit for some of
    these values (the built table of TR5 by survey changed in its last digit from one machine to
    the next); the bounds must equal a scalar recomputation exactly.
    """
    rng = np.random.default_rng(7)
    est = rng.uniform(0.001, 0.999, 2_000)
    se = rng.uniform(0.001, 0.2, 2_000)
    df = np.full(2_000, 30.0)
    n = np.full(2_000, 100)
    lo, hi = _confidence_interval(est, se, df, n, level=0.95, ci_df="design", ci_method="logit")
    q = float(_quantile(0.95, df[:1], "design")[0])
    for p, s, a, b in zip(est.tolist(), se.tolist(), lo.tolist(), hi.tolist(), strict=True):
        centre = math.log(p / (1 - p))
        half = q * s / (p * (1 - p))
        assert a == 1.0 / (1.0 + math.exp(-(centre - half)))
        assert b == 1.0 / (1.0 + math.exp(-(centre + half)))
