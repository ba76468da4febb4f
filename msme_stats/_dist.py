"""Student t and normal quantiles without importing scipy (whose import alone takes ~0.4 s).

The confidence intervals of :mod:`msme_stats.survey` need the two-sided t quantile at the
(integer) design degrees of freedom. For integer df nu the t distribution function has an
exact finite series (Abramowitz & Stegun 26.7.3-26.7.4; with theta = arctan(t / sqrt(nu))):

* nu odd: A(t|nu) = 2/pi [theta + sin(theta) cos(theta) (1 + 2/3 cos^2 + 2*4/(3*5) cos^4 + ...
  + 2*4*...*(nu-3)/(1*3*...*(nu-2)) cos^(nu-3))]
* nu even: A(t|nu) = sin(theta) [1 + 1/2 cos^2 + 1*3/(2*4) cos^4 + ... + 1*3*...*(nu-3)/(2*4*...*(nu-2))
  cos^(nu-2)]

where A = P(|T| <= t). The quantile solves A(t) = level by Newton's method (dA/dt = 2 f(t))
from the Cornish-Fisher start, to full double precision; tests/test_survey_design.py checks it
against scipy.stats.t.ppf (relative difference < 1e-12 for df 1 to 200,000). Non-integer df
fall back to scipy. The normal quantile is :meth:`statistics.NormalDist.inv_cdf` (Wichura's
AS241, accurate to about 1e-16).
"""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np

_CACHE: dict[tuple[float, float], float] = {}


def norm_ppf(p: float) -> float:
    """Normal quantile."""
    return NormalDist().inv_cdf(p)


def _t_two_sided(t: float, nu: int) -> float:
    """A(t|nu) = P(|T| <= t) for integer nu >= 1 and t >= 0 (exact finite series)."""
    r = nu + t * t
    c2 = nu / r  # cos^2(theta)
    s = t / math.sqrt(r)  # sin(theta)
    if nu % 2 == 1:
        theta = math.atan2(t, math.sqrt(nu))
        if nu == 1:
            return 2.0 / math.pi * theta
        k = np.arange(1, (nu - 3) // 2 + 1, dtype=float)
        terms = np.cumprod((2 * k) / (2 * k + 1) * c2) if k.size else np.empty(0)
        total = 1.0 + float(np.sum(terms[::-1]))  # small terms first
        return 2.0 / math.pi * (theta + s * math.sqrt(c2) * total)
    k = np.arange(1, (nu - 2) // 2 + 1, dtype=float)
    terms = np.cumprod((2 * k - 1) / (2 * k) * c2) if k.size else np.empty(0)
    return s * (1.0 + float(np.sum(terms[::-1])))


def _t_pdf(t: float, nu: int) -> float:
    logc = math.lgamma((nu + 1) / 2) - math.lgamma(nu / 2) - 0.5 * math.log(nu * math.pi)
    return math.exp(logc - (nu + 1) / 2 * math.log1p(t * t / nu))


def t_ppf_upper(upper: float, df: float) -> float:
    """The t quantile at probability ``upper`` (> 0.5) with ``df`` degrees of freedom."""
    key = (upper, df)
    hit = _CACHE.get(key)
    if hit is not None:
        return hit
    if not (df >= 1 and float(df).is_integer()) or not (0.5 < upper < 1):
        from scipy.special import stdtrit  # non-integer df: scipy (rare)

        val = float(stdtrit(df, upper))
    else:
        nu = int(df)
        level = 2 * upper - 1
        if nu == 1:
            val = math.tan(math.pi * (upper - 0.5))
        elif nu == 2:
            val = (2 * upper - 1) / math.sqrt(2 * upper * (1 - upper))
        else:
            z = norm_ppf(upper)
            t = z + (z**3 + z) / (4 * nu) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * nu * nu)
            for _ in range(30):  # Newton: quadratic convergence, 3-5 steps from this start
                step = (_t_two_sided(t, nu) - level) / (2 * _t_pdf(t, nu))
                t -= step
                if abs(step) <= 1e-13 * abs(t):  # the next step would be below rounding noise
                    break
            val = t
    if len(_CACHE) < 100_000:
        _CACHE[key] = val
    return val


def t_ppf_upper_array(upper: float, df: np.ndarray) -> np.ndarray:
    """Vectorised :func:`t_ppf_upper` over an array of df (NaN where df <= 0)."""
    dff = np.asarray(df, dtype=float)
    out = np.full(dff.shape, np.nan)
    ok = dff > 0
    if ok.any():
        uniq, inv = np.unique(dff[ok], return_inverse=True)
        vals = np.array([t_ppf_upper(upper, float(d)) for d in uniq])
        out[ok] = vals[inv]
    return out
