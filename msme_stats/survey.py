"""Design-based estimation for stratified single-stage surveys (World Bank Enterprise Surveys).

The WBES design (METHODS §2.3, §2.9): the establishment is the sampling unit (PSU), strata are
unique within a country survey, weights are probability (expansion) weights, sampling is with
replacement, so there is no finite-population correction. Variances are Taylor-linearised.

Four estimators share one engine, :func:`_domain_estimates`, which is vectorised over domains and
variables (integer codes and :func:`numpy.bincount`; no Python loop per domain or stratum):

* :func:`svy_mean` -- Hajek weighted mean, Stata ``svy: mean``, R ``svymean``;
* :func:`svy_proportion` -- weighted mean of a 0/1 variable, with Wald, logit and
  Korn-Graubard intervals (R ``svyciprop``, Stata ``svy: proportion``);
* :func:`svy_ratio` -- ratio of weighted totals, Stata ``svy: ratio``, R ``svyratio``;
* :func:`svy_total` -- weighted total, Stata ``svy: total``, R ``svytotal``.

Conventions (all named parameters; see METHODS §2.9 and §6)
-----------------------------------------------------------
``domain_mode``
    ``"full_design"`` (default): a domain (``by`` group, ``where`` scope, non-missing values) is a
    subpopulation of the full design. Firms outside it keep their strata in the design and count
    as zero scores. Equals R ``svyby(..., na.rm=TRUE)`` / ``subset(design, ...)`` and Stata
    ``svy, subpop()``. ``"drop"``: the design is re-declared on the firms used (R
    ``svydesign`` on a filtered frame, Stata ``if``), so strata can become single-firm strata.
``lonely_psu``
    Contribution of a stratum with a single firm in the design. Stata ``singleunit()`` names with
    R ``options(survey.lonely.psu=)`` equivalents: ``"scaled"`` (= R ``"average"``; the default),
    ``"centered"`` (= R ``"adjust"``), ``"certainty"`` (= R ``"certainty"`` or ``"remove"``,
    identical for linearisation), ``"fail"`` (= R ``"fail"``; raises
    :class:`~msme_stats.errors.LonelyStratumError`). R names are accepted as aliases. The default
    is ``"scaled"`` because real Enterprise Surveys routinely hold single-firm strata (one 2018
    survey has 52 of its 240 strata with one firm): ``"fail"`` would stop the basic workflow,
    ``"certainty"`` understates the variance, and ``"scaled"`` spreads the average variance of the
    other strata over them. Estimates touching a lonely stratum are flagged ``lonely_stratum``.
``adjust_center``
    Centre of ``"centered"``: ``"grand"`` (R survey >= 4.3, c = sum of scores / sum of n_h over
    the strata present) or ``"zero"`` (R survey <= 4.2). Identical for means, proportions and
    ratios (their scores sum to zero); they differ for totals.
Degrees of freedom
    Design df = firms minus strata of the design (Stata ``N_psu - N_strata``, R ``degf``). Rule
    for pooled files in ``"full_design"`` mode: the sum of (firms - strata) over the surveys that
    the estimate's firms come from (one survey for a country estimate; Stata ``subpop()`` keeps
    the full survey's df). In ``"drop"`` mode: firms used minus strata present among them.
``ci_df``
    ``"design"`` (default): t quantile with the df above (R ``confint(m, df=degf(des))``, Stata
    default); bounds are NaN when df <= 0. ``"normal"``: normal quantile (R ``confint`` default).
``ci_method`` (proportions)
    ``"wald"``: est +/- q * se. ``"logit"``: Wald on the logit scale, expit(logit(p) +/- q *
    se / (p (1 - p))) (R ``svyciprop(method="logit")``, Stata ``svy: proportion`` default).
    ``"korn_graubard"``: R ``svyciprop(method="beta")``: n_eff = p (1 - p) / se^2 *
    (t_{n-1} / t_df)^2 at alpha/2, bounds ``qbeta(alpha/2, n_eff p, n_eff (1 - p) + 1)`` and
    ``qbeta(1 - alpha/2, n_eff p + 1, n_eff (1 - p))``, with n = firms used and df as above
    (R uses ``nrow(design)`` and ``degf(design)``, which coincide on a whole design without
    missing values; Stata ``citype(exact)`` also uses the subpopulation n and the design df).
    Logit and Korn-Graubard bounds are NaN when p is 0 or 1 (as R's ``"beta"``). When se = 0
    and 0 < p < 1 (a domain made only of firms in certainty strata) both give [p, p]; R's
    ``"beta"`` returns ``qbeta(q, Inf, Inf)`` = 0.5 there, which is not copied.

Output
------
Every public function returns a new tidy DataFrame with the ``by`` columns (in the order given),
``variable`` (only when ``y`` is a list), then

========================  ===============================================================
``estimate``, ``se``      point estimate and Taylor-linearised standard error (times ``scale``)
``ci_low``, ``ci_high``   confidence interval at ``level`` (times ``scale``)
``df``                    design degrees of freedom (rule above)
``n``                     firms used (domain, scope and non-missing values)
``sum_weight``            sum of the weights of the firms used
``n_lonely_strata``       single-firm strata touched by the firms used
``flags``                 ";"-joined codes, "" when none: ``no_obs`` (n = 0), ``small_n``
                          (n < ``min_n``), ``df_nonpos`` (df <= 0), ``lonely_stratum``,
                          ``se_nan`` (se is NaN)
========================  ===============================================================

Rows are ordered by variable, then by the sorted ``by`` values. Domains are the observed
combinations of the ``by`` columns among firms in the ``where`` scope; a domain whose firms all
miss the variable is reported with ``n = 0`` and NaN estimate. ``result.attrs["params"]`` holds the
options used.
"""

from __future__ import annotations

import logging
import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from ._options import as_list, check_choice
from .errors import (
    DesignError,
    ExclusionWarning,
    InvalidValueError,
    InvalidWeightError,
    LonelyStratumError,
    MissingColumnsError,
    OptionError,
)

logger = logging.getLogger(__name__)

__all__ = ["svy_mean", "svy_proportion", "svy_ratio", "svy_total"]

LONELY_CHOICES = ("scaled", "centered", "certainty", "fail")
LONELY_ALIASES = {"average": "scaled", "adjust": "centered", "remove": "certainty"}
DOMAIN_MODES = ("full_design", "drop")
ADJUST_CENTERS = ("grand", "zero")
CI_DFS = ("design", "normal")
CI_METHODS = ("wald", "logit", "korn_graubard")
CI_METHOD_ALIASES = {"beta": "korn_graubard", "kg": "korn_graubard", "mean": "wald"}


# ======================================================================================
# array engine
# ======================================================================================
def _compact(key: np.ndarray, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Codes 0..U-1 of non-negative int keys in sorted key order, and the sorted unique keys.

    Uses a bincount remap (O(n + span), no hashing or sorting of n values) when the key range
    is compact, else a hash factorisation and a sort of the (few) unique keys.
    """
    if span <= 4 * key.size + 4096:
        present = np.bincount(key, minlength=span) > 0
        return (np.cumsum(present) - 1)[key], np.flatnonzero(present)
    codes, uniq = pd.factorize(key)
    order = np.argsort(uniq, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    return rank[codes], np.asarray(uniq)[order]


def _domain_estimates(
    y: np.ndarray,
    x: np.ndarray | None,
    w: np.ndarray,
    strata_codes: np.ndarray,
    domain_codes: np.ndarray,
    *,
    n_domains: int | None = None,
    n_strata: int | None = None,
    stratum_survey: np.ndarray | None = None,
    kind: str = "mean",
    domain_mode: str = "full_design",
    lonely_psu: str = "scaled",
    adjust_center: str = "grand",
    stratum_labels: Sequence[Any] | None = None,
) -> dict[str, np.ndarray]:
    """Domain estimates and Taylor-linearised variances for many variables at once.

    All the mathematics of the module (METHODS §2.9): the design arrays describe **every** firm
    of the design (the full frame); domains and missing values only decide which firms are in S.

    Parameters
    ----------
    y
        Shape (n,) or (n, k) float; NaN = missing (outside S for that variable).
    x
        Denominator for ``kind="ratio"``, same shape as ``y``; ignored otherwise.
    w
        Shape (n,) weights, finite and >= 0 (a zero weight gives a zero score; the public
        functions require > 0).
    strata_codes
        Shape (n,) int codes 0..H-1 of the strata, unique over the pooled file (survey x stratum).
    domain_codes
        Shape (n,) int codes 0..D-1; -1 = in no domain (outside the scope), still in the design.
    n_domains, n_strata
        D and H (default: max code + 1).
    stratum_survey
        Shape (H,) int survey code of each stratum, for the df rule; None = one survey.
    kind
        ``"mean"`` (also proportions), ``"ratio"`` or ``"total"``.
    domain_mode, lonely_psu, adjust_center
        Canonical values (see the module docstring); R aliases are not resolved here.
    stratum_labels
        Optional labels of the strata, used in the LonelyStratumError message.

    Returns
    -------
    dict of arrays of shape (k, D): ``estimate``, ``se``, ``var``, ``n`` (firms used),
    ``sum_weight``, ``n_lonely`` (lonely strata touched), ``n_strata`` (strata present), ``df``.
    """
    y = np.asarray(y, dtype=float)
    squeeze = y.ndim == 1
    if squeeze:
        y = y[:, None]
    n_rows, k = y.shape
    w = np.asarray(w, dtype=float)
    strata_codes = np.asarray(strata_codes, dtype=np.int64)
    domain_codes = np.asarray(domain_codes, dtype=np.int64)
    H = int(n_strata if n_strata is not None else (strata_codes.max() + 1 if n_rows else 0))
    D = int(n_domains if n_domains is not None else (domain_codes.max() + 1 if n_rows else 0))
    if stratum_survey is None:
        stratum_survey = np.zeros(H, dtype=np.int64)
    stratum_survey = np.asarray(stratum_survey, dtype=np.int64)
    n_surv = int(stratum_survey.max()) + 1 if H else 1

    # full design: PSUs per stratum, df per survey (firms - strata with >= 1 firm)
    nh_full = np.bincount(strata_codes, minlength=H)
    surv_firms = np.bincount(stratum_survey, weights=nh_full, minlength=n_surv)
    surv_strata = np.bincount(stratum_survey, weights=nh_full > 0, minlength=n_surv)
    surv_df = surv_firms - surv_strata

    # restrict to firms in some domain (others only matter through nh_full and zero scores)
    if n_rows and domain_codes.min() >= 0:
        yd, wd, sd, dd = y, w, strata_codes, domain_codes
        xd = x
    else:
        rows = np.flatnonzero(domain_codes >= 0)
        yd, wd, sd, dd = y[rows], w[rows], strata_codes[rows], domain_codes[rows]
        xd = None if x is None else np.asarray(x)[rows]
    valid = ~np.isnan(yd)
    if kind == "ratio":
        if xd is None:
            raise ValueError("kind='ratio' needs x")
        xd = np.asarray(xd, dtype=float)
        if xd.ndim == 1:
            xd = xd[:, None]
        valid &= ~np.isnan(xd)
    vflat = valid.ravel()
    wv = (wd[:, None] * valid).ravel()  # weight in S, 0 outside
    wy = np.where(vflat, wv * yd.ravel(), 0.0)
    wx = np.where(vflat, wv * xd.ravel(), 0.0) if kind == "ratio" else wv

    # (domain, stratum) pairs present among the domain firms (hash factorisation, O(n))
    pkey = dd * H + sd
    if D * H <= pkey.size:
        pair, uniq = _compact(pkey, D * H)
    else:  # order of pairs is irrelevant: plain hash factorisation
        pair, uniq = pd.factorize(pkey)
    pair = pair.astype(np.int64, copy=False)
    P = uniq.size
    pair_dom, pair_str = uniq // H, uniq % H
    jj = np.arange(k, dtype=np.int64)
    pidx = pair if k == 1 else (pair[:, None] + P * jj).ravel()  # (pair, variable) cell
    DK, PK = D * k, P * k
    pk_dom = np.tile(pair_dom, k) + D * np.repeat(jj, P)  # (domain, variable) cell of a pair
    pk_str = np.tile(pair_str, k)

    # per pair, then per domain: firms in S, weights, weighted totals
    if vflat.all():
        m = np.bincount(pidx, minlength=PK).astype(np.float64)
    else:
        m = np.bincount(pidx, weights=vflat, minlength=PK)
    sw_p = np.bincount(pidx, weights=wv, minlength=PK)
    ty_p = np.bincount(pidx, weights=wy, minlength=PK)
    tx_p = np.bincount(pidx, weights=wx, minlength=PK) if kind == "ratio" else sw_p
    n_used = np.bincount(pk_dom, weights=m, minlength=DK)
    sum_w = np.bincount(pk_dom, weights=sw_p, minlength=DK)
    ty = np.bincount(pk_dom, weights=ty_p, minlength=DK)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "total":
            est = np.where(n_used > 0, ty, np.nan)
            z = wy
            sz = ty_p
        else:
            tx = np.bincount(pk_dom, weights=tx_p, minlength=DK) if kind == "ratio" else sum_w
            est = np.where((n_used > 0) & (tx != 0), ty / tx, np.nan)
            e_p, inv_p = est[pk_dom], 1.0 / tx[pk_dom]
            # z_i = w_i (y_i - est x_i) / sum_S w x  (x = 1 for means); 0 outside S
            z = np.where(vflat, (wy - wx * e_p[pidx]) * inv_p[pidx], 0.0)
            sz = (ty_p - e_p * tx_p) * inv_p  # = sum of z over the pair

    # per (pair, variable): PSUs of the stratum in the design (full design or drop)
    nh = m if domain_mode == "drop" else nh_full[pk_str].astype(float)
    present = m > 0
    with np.errstate(divide="ignore", invalid="ignore"):
        zbar = np.where(nh > 0, sz / nh, 0.0)
        dev = np.where(vflat, z - zbar[pidx], 0.0)
        ss = np.bincount(pidx, weights=dev * dev, minlength=PK)
        ok = present & (nh >= 2)
        contrib = np.where(ok, nh / (nh - 1) * (ss + (nh - m) * zbar * zbar), 0.0)
    lonely = present & (nh < 2)

    if lonely.any() and lonely_psu == "fail":
        bad = np.unique(pk_str[lonely])
        labels = [stratum_labels[h] if stratum_labels is not None else h for h in bad[:10]]
        more = f" (and {bad.size - 10} more)" if bad.size > 10 else ""
        raise LonelyStratumError(
            f"{bad.size} stratum/strata with a single firm in the design are used by the "
            f"estimate: {', '.join(map(str, labels))}{more}; lonely_psu='fail' was chosen. Use "
            "lonely_psu='scaled' (Stata singleunit(scaled), R 'average'), 'centered' or "
            "'certainty', or merge the stratum with a neighbour."
        )

    n_lonely = np.bincount(pk_dom, weights=lonely, minlength=DK)
    n_present = np.bincount(pk_dom, weights=present, minlength=DK)
    n_ok = np.bincount(pk_dom, weights=ok, minlength=DK)
    if lonely_psu == "centered" and lonely.any():
        if adjust_center == "grand":
            tot_z = np.bincount(pk_dom, weights=sz, minlength=DK)
            tot_n = np.bincount(pk_dom, weights=np.where(present, nh, 0.0), minlength=DK)
            with np.errstate(divide="ignore", invalid="ignore"):
                centre = np.where(tot_n > 0, tot_z / tot_n, 0.0)[pk_dom]
        else:
            centre = 0.0
        # a lonely stratum holds a single firm of S, whose score is sz
        contrib = contrib + np.where(lonely, (sz - centre) ** 2, 0.0)
    var = np.bincount(pk_dom, weights=contrib, minlength=DK)
    if lonely_psu == "scaled":
        with np.errstate(divide="ignore", invalid="ignore"):
            var = np.where(n_lonely > 0, var * n_present / n_ok, var)
            var = np.where((n_lonely > 0) & (n_ok == 0), np.nan, var)
    var = np.where(n_used > 0, var, np.nan)

    # degrees of freedom
    if domain_mode == "drop":
        df = n_used - n_present
    else:
        cell_surv = pk_dom[present] * n_surv + stratum_survey[pk_str[present]]
        cell_surv = np.unique(cell_surv)
        df = np.bincount(cell_surv // n_surv, weights=surv_df[cell_surv % n_surv], minlength=DK)

    def shape(a: np.ndarray) -> np.ndarray:
        return a.reshape(k, D)

    return {
        "estimate": shape(est),
        "se": shape(np.sqrt(var)),
        "var": shape(var),
        "n": shape(n_used).astype(np.int64),
        "sum_weight": shape(sum_w),
        "n_lonely": shape(n_lonely).astype(np.int64),
        "n_strata": shape(n_present).astype(np.int64),
        "df": shape(df).astype(np.int64),
    }


# ======================================================================================
# confidence intervals and flags
# ======================================================================================
def _quantile(level: float, df: np.ndarray, ci_df: str) -> np.ndarray:
    """Two-sided quantile: t with ``df`` (NaN when df <= 0) or normal."""
    upper = 1 - (1 - level) / 2
    if ci_df == "normal":
        return np.full(df.shape, stats.norm.ppf(upper))
    dff = df.astype(float)
    with np.errstate(invalid="ignore"):
        return np.where(dff > 0, stats.t.ppf(upper, np.where(dff > 0, dff, 1.0)), np.nan)


def _confidence_interval(
    est: np.ndarray,
    se: np.ndarray,
    df: np.ndarray,
    n: np.ndarray,
    *,
    level: float,
    ci_df: str,
    ci_method: str,
) -> tuple[np.ndarray, np.ndarray]:
    """CI bounds (unscaled) for arrays of estimates; see the module docstring."""
    q = _quantile(level, df, ci_df)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ci_method == "wald":
            return est - q * se, est + q * se
        inside = (est > 0) & (est < 1)
        p = np.where(inside, est, 0.5)
        if ci_method == "logit":
            centre = special.logit(p)
            half = q * se / (p * (1 - p))
            lo = special.expit(centre - half)
            hi = special.expit(centre + half)
        else:  # korn_graubard, as R svyciprop(method = "beta")
            alpha = 1 - level
            n_eff = p * (1 - p) / (se * se)
            nf = n.astype(float)
            t_n = np.where(nf > 1, stats.t.ppf(alpha / 2, np.where(nf > 1, nf - 1, 1.0)), np.nan)
            if ci_df == "normal":
                t_df = stats.norm.ppf(alpha / 2)
            else:
                dff = df.astype(float)
                t_df = np.where(
                    dff > 0, stats.t.ppf(alpha / 2, np.where(dff > 0, dff, 1.0)), np.nan
                )
            n_eff = n_eff * (t_n / t_df) ** 2
            lo = stats.beta.ppf(alpha / 2, n_eff * p, n_eff * (1 - p) + 1)
            hi = stats.beta.ppf(1 - alpha / 2, n_eff * p + 1, n_eff * (1 - p))
            # se = 0 gives n_eff = Inf: return the limit [p, p] (R's qbeta(q, Inf, Inf) returns
            # 0.5 whatever p is, an artefact we do not copy)
            lo = np.where(np.isposinf(n_eff), p, lo)
            hi = np.where(np.isposinf(n_eff), p, hi)
        bad = ~inside | np.isnan(se)
        return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)


def _flags(
    n: np.ndarray, df: np.ndarray, n_lonely: np.ndarray, se: np.ndarray, min_n: int
) -> list[str]:
    codes = [
        ("no_obs", n == 0),
        ("small_n", n < min_n),
        ("df_nonpos", df <= 0),
        ("lonely_stratum", n_lonely > 0),
        ("se_nan", np.isnan(se)),
    ]
    out = np.full(n.shape, "", dtype=object)
    for code, mask in codes:
        if mask.any():
            out = np.where(mask, np.where(out == "", code, out + ";" + code), out)
    return out.tolist()


# ======================================================================================
# DataFrame layer
# ======================================================================================
def _check_options(
    domain_mode: str,
    lonely_psu: str,
    adjust_center: str,
    ci_df: str,
    level: float,
    min_n: int,
    scale: float,
    ci_method: str = "wald",
) -> dict[str, Any]:
    opts = {
        "domain_mode": check_choice("domain_mode", domain_mode, DOMAIN_MODES),
        "lonely_psu": check_choice(
            "lonely_psu", lonely_psu, LONELY_CHOICES, aliases=LONELY_ALIASES
        ),
        "adjust_center": check_choice("adjust_center", adjust_center, ADJUST_CENTERS),
        "ci_df": check_choice("ci_df", ci_df, CI_DFS),
        "ci_method": check_choice("ci_method", ci_method, CI_METHODS, aliases=CI_METHOD_ALIASES),
    }
    if not (isinstance(level, int | float) and 0 < level < 1):
        raise OptionError(f"level={level!r} is not allowed; use a number strictly between 0 and 1.")
    if not (isinstance(min_n, int | np.integer) and min_n >= 0):
        raise OptionError(f"min_n={min_n!r} is not allowed; use an integer >= 0.")
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise OptionError(
            f"scale={scale!r} is not allowed; use a positive number (100 for percent)."
        )
    return opts


def _numeric(data: pd.DataFrame, col: str) -> np.ndarray:
    s = data[col]
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiub":
        return s.to_numpy().astype(np.float64, copy=False)
    try:
        if isinstance(s.dtype, pd.CategoricalDtype):
            raise TypeError
        return s.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        raise InvalidValueError(
            f"column {col!r} has dtype {s.dtype} and cannot be read as numbers; recode it to "
            "numeric (NaN = missing) before estimating."
        ) from None


def _factor(s: pd.Series, cache: dict | None = None) -> tuple[np.ndarray, pd.Index]:
    """Sorted integer codes (-1 = missing) and the sorted unique values of a column.

    Integer columns with a compact range use a bincount remap (O(n), no hashing); ``cache``
    (keyed by column name) avoids factorising a column twice in one call.
    """
    name = s.name
    if cache is not None and name in cache:
        return cache[name]
    v = s.to_numpy() if s.dtype.kind in "iu" else None
    lo, hi = (int(v.min()), int(v.max())) if v is not None and v.size else (0, 0)
    if v is not None and v.size and hi - lo < 4 * v.size + 1024:
        present = np.bincount(v - lo) > 0
        codes = (np.cumsum(present) - 1)[v - lo].astype(np.int64)
        uniques = pd.Index((np.flatnonzero(present) + lo).astype(v.dtype))
    elif isinstance(s.dtype, pd.CategoricalDtype):  # category order, not lexical order
        codes, uniques = pd.factorize(s, sort=True)
        codes, uniques = codes.astype(np.int64), pd.Index(uniques)
    else:
        codes, uniques = pd.factorize(s)
        try:  # sort the few unique values rather than let pandas re-sort via the n codes
            uo = np.asarray(uniques, dtype=object)
            order = np.argsort(uo, kind="stable")
            rank = np.empty_like(order)
            rank[order] = np.arange(order.size)
            codes = np.where(codes >= 0, rank[codes], -1).astype(np.int64)
            uniques = pd.Index(uniques.take(order))
        except TypeError:  # mixed types that do not compare: pandas' own sort
            codes, uniques = pd.factorize(s, sort=True)
            codes, uniques = codes.astype(np.int64), pd.Index(uniques)
    if cache is not None:
        cache[name] = (codes, uniques)
    return codes, uniques


class _StratumLabels:
    """Readable stratum names, built only when a message needs them (no loop over strata)."""

    def __init__(
        self, keys: np.ndarray, base: int, h_uniq: pd.Index, s_uniq: pd.Index, pooled: bool
    ):
        self._keys, self._base, self._h, self._s, self._pooled = keys, base, h_uniq, s_uniq, pooled

    def __getitem__(self, code: int) -> str:
        key = int(self._keys[code])
        label = _show(self._h[key % self._base])
        return f"{label} of survey {_show(self._s[key // self._base])}" if self._pooled else label


def _show(value: Any) -> str:
    """repr of a label without numpy's type wrapper (np.int64(8) -> 8)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def _design_arrays(
    data: pd.DataFrame,
    weight: str | None,
    strata: str | None,
    survey: str | None,
    cache: dict | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int, _StratumLabels, pd.Index]:
    """Weights, stratum codes (unique per survey), survey code per stratum, labels."""
    n = len(data)
    if survey is not None:
        s_codes, s_uniq = _factor(data[survey], cache)
        if s_codes.min() < 0:
            raise DesignError(
                f"column {survey!r} (survey) has {(s_codes < 0).sum()} missing values; every firm "
                "must belong to a survey. Fill it or pass survey=None for a single survey."
            )
    else:
        s_codes, s_uniq = np.zeros(n, dtype=np.int64), pd.Index(["(all)"])
    if strata is not None:
        h_codes, h_uniq = _factor(data[strata], cache)
        if h_codes.min() < 0:
            where_missing = [_show(v) for v in s_uniq[np.unique(s_codes[h_codes < 0])][:10]]
            raise DesignError(
                f"column {strata!r} (strata) has {(h_codes < 0).sum()} missing values, in "
                f"survey(s) [{', '.join(where_missing)}]; every firm needs a stratum. Fix the file "
                "(METHODS §2.1: strata = size x sector x region cell)."
            )
    else:
        h_codes, h_uniq = np.zeros(n, dtype=np.int64), pd.Index(["(none)"])
    key = s_codes * max(len(h_uniq), 1) + h_codes
    st_codes, st_uniq = _compact(key, len(s_uniq) * max(len(h_uniq), 1))
    st_codes = st_codes.astype(np.int64)
    stratum_survey = (st_uniq // max(len(h_uniq), 1)).astype(np.int64)
    stratum_labels = _StratumLabels(
        st_uniq, max(len(h_uniq), 1), h_uniq, s_uniq, survey is not None
    )

    if weight is None:
        w = np.ones(n)
    else:
        try:
            w = _numeric(data, weight)
        except InvalidValueError as err:
            raise InvalidWeightError(str(err)) from None
        if not (w.size == 0 or (w.min() > 0 and np.isfinite(w.max()))):
            bad = ~np.isfinite(w) | (w <= 0)
            nan_n = int(np.isnan(w).sum())
            places = sorted({stratum_labels[c] for c in st_codes[bad][:50]})[:5]
            raise InvalidWeightError(
                f"weight column {weight!r} has {int(bad.sum())} missing, zero, negative or "
                f"infinite values ({nan_n} missing), e.g. in stratum {', '.join(places)}. "
                "Weights must be positive; drop or fix these firms explicitly before estimating."
            )
    return w, st_codes, stratum_survey, len(st_uniq), stratum_labels, s_uniq


def _domain_arrays(
    data: pd.DataFrame, by: list[str], where: Any, cache: dict | None = None
) -> tuple[np.ndarray, int, pd.DataFrame, dict[str, int]]:
    """Domain codes (-1 = none), number of domains, frame of domain labels, exclusion counts."""
    n = len(data)
    counts = {"where_false": 0, "where_missing": 0, "by_missing": 0}
    scope = np.ones(n, dtype=bool)
    if where is not None:
        if isinstance(where, str):
            wser = data[where]
            wname = repr(where)
        else:
            wser = where
            wname = "where mask"
            if not isinstance(wser, pd.Series):
                wser = pd.Series(np.asarray(wser), index=data.index)
            elif not wser.index.equals(data.index):
                raise InvalidValueError(
                    "the where= Series is not aligned to data (different index); pass "
                    "data[...]-derived masks or a column name."
                )
        if len(wser) != n:
            raise InvalidValueError(f"{wname} has {len(wser)} values for {n} rows of data.")
        miss = wser.isna().to_numpy()
        vals = wser.where(~miss, False)
        if not (pd.api.types.is_bool_dtype(vals.dtype) or set(pd.unique(vals)) <= {0, 1}):
            raise InvalidValueError(
                f"{wname} must be boolean (True = in scope); got dtype {wser.dtype}."
            )
        scope = vals.to_numpy(dtype=bool) & ~miss
        counts["where_missing"] = int(miss.sum())
        if miss.any():
            warnings.warn(
                f"{int(miss.sum())} firms have a missing value in {wname}; they are treated as "
                "outside the scope (they stay in the design).",
                ExclusionWarning,
                stacklevel=4,
            )
        counts["where_false"] = int((~scope).sum()) - int(miss.sum())

    if not by:
        codes = np.where(scope, 0, -1).astype(np.int64)
        return codes, 1, pd.DataFrame(index=range(1)), counts

    col_codes, col_uniq = [], []
    for b in by:
        c, u = _factor(data[b], cache)
        col_codes.append(c)
        col_uniq.append(u)
    has_missing = [bool(c.min() < 0) for c in col_codes]
    keep = scope if where is not None else None  # None = every firm
    if any(has_missing):
        by_missing = np.zeros(n, dtype=bool)
        for c, miss_b in zip(col_codes, has_missing, strict=True):
            if miss_b:
                by_missing |= c < 0
        in_scope_missing = by_missing & scope
        n_by_missing = int(in_scope_missing.sum())
        counts["by_missing"] = n_by_missing
        if n_by_missing:
            cols = [b for b, c in zip(by, col_codes, strict=True) if ((c < 0) & scope).any()]
            warnings.warn(
                f"{n_by_missing} firms have a missing value in the by column(s) {cols}; they are "
                "in no domain (they stay in the design, with zero scores).",
                ExclusionWarning,
                stacklevel=4,
            )
        keep = scope & ~by_missing
    # mixed-radix key over the sorted codes: ordering the keys orders the domains by value
    key = np.maximum(col_codes[0], 0) if has_missing[0] else col_codes[0]
    span = max(len(col_uniq[0]), 1)
    for c, u, miss_b in zip(col_codes[1:], col_uniq[1:], has_missing[1:], strict=True):
        if span * max(len(u), 1) >= 2**53:  # keep the mixed-radix key inside int64
            key, uniq_keys = _compact(key, span)
            span = uniq_keys.size
        key = key * max(len(u), 1) + (np.maximum(c, 0) if miss_b else c)
        span *= max(len(u), 1)
    if keep is None:
        codes, sorted_keys = _compact(key, span)
    else:
        kcodes, sorted_keys = _compact(key[keep], span)
        codes = np.full(n, -1, dtype=np.int64)
        codes[keep] = kcodes
    n_dom = sorted_keys.size
    # one representative firm per domain gives its labels
    rep = np.empty(n_dom, dtype=np.int64)
    inside = np.flatnonzero(codes >= 0) if keep is not None else np.arange(n)
    rep[codes[inside]] = inside
    label_frame = pd.DataFrame(
        {b: u.take(c[rep]) for b, c, u in zip(by, col_codes, col_uniq, strict=True)}
    )
    for b in by:  # keep the original dtype of the by columns where possible
        if isinstance(data[b].dtype, pd.CategoricalDtype):
            label_frame[b] = pd.Categorical(label_frame[b], dtype=data[b].dtype)
    return codes.astype(np.int64, copy=False), int(n_dom), label_frame, counts


def _estimate(
    data: pd.DataFrame,
    ys: str | Sequence[str],
    x: str | None,
    *,
    kind: str,
    estimator: str,
    by: str | Sequence[str] | None,
    where: Any,
    weight: str | None,
    strata: str | None,
    survey: str | None,
    domain_mode: str,
    lonely_psu: str,
    adjust_center: str,
    ci_df: str,
    level: float,
    min_n: int,
    scale: float,
    ci_method: str = "wald",
) -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise InvalidValueError(f"data must be a pandas DataFrame, got {type(data).__name__}.")
    opts = _check_options(
        domain_mode, lonely_psu, adjust_center, ci_df, level, min_n, scale, ci_method
    )
    multi = not isinstance(ys, str)
    ylist = as_list(ys)
    if not ylist:
        raise OptionError("y is empty; give a column name or a list of column names.")
    bylist = as_list(by)
    needed = [*ylist, *([x] if x is not None else []), *bylist]
    needed += [c for c in (weight, strata, survey) if c is not None]
    if isinstance(where, str):
        needed.append(where)
    missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing:
        raise MissingColumnsError(
            f"data lacks the column(s) {missing} needed by {estimator}; available: "
            f"{list(data.columns)[:30]}. Pass the right names with y=/x=/by=/weight=/strata=/survey=."
        )
    if len(data) == 0:
        raise DesignError(f"{estimator}: data has no rows.")

    cache: dict = {}
    w, st_codes, st_survey, H, st_labels, _ = _design_arrays(data, weight, strata, survey, cache)
    dom_codes, D, labels, counts = _domain_arrays(data, bylist, where, cache)

    yarr = np.column_stack([_numeric(data, c) for c in ylist])
    xarr = None
    if x is not None:
        xarr = np.repeat(_numeric(data, x)[:, None], len(ylist), axis=1)
    for arr, names in ((yarr, ylist), (xarr, [x])):
        if arr is not None and np.isinf(arr).any():
            bad_cols = [c for c, b in zip(names, np.isinf(arr).any(axis=0), strict=False) if b]
            raise InvalidValueError(
                f"column(s) {bad_cols} hold infinite values; set them to NaN (missing) or fix "
                "them before estimating."
            )
    if estimator == "svy_proportion":
        bad = ~np.isnan(yarr) & (yarr != 0) & (yarr != 1)
        if bad.any():
            cols = [c for c, b in zip(ylist, bad.any(axis=0), strict=True) if b]
            raise InvalidValueError(
                f"svy_proportion needs 0/1 (or boolean) variables with NaN = missing; column(s) "
                f"{cols} hold other values ({int(bad.sum())} cells). Recode them first."
            )
    for j, c in enumerate(ylist if logger.isEnabledFor(logging.INFO) else []):
        n_miss = int((np.isnan(yarr[:, j]) & (dom_codes >= 0)).sum())
        if n_miss:
            logger.info(
                "%s: %d firms in scope have a missing %r and are left out of S",
                estimator,
                n_miss,
                c,
            )

    res = _domain_estimates(
        yarr,
        xarr,
        w,
        st_codes,
        dom_codes,
        n_domains=D,
        n_strata=H,
        stratum_survey=st_survey,
        kind=kind,
        domain_mode=opts["domain_mode"],
        lonely_psu=opts["lonely_psu"],
        adjust_center=opts["adjust_center"],
        stratum_labels=st_labels,
    )
    k = len(ylist)
    est, se = res["estimate"].ravel(), res["se"].ravel()
    df, n = res["df"].ravel(), res["n"].ravel()
    lo, hi = _confidence_interval(
        est, se, df, n, level=level, ci_df=opts["ci_df"], ci_method=opts["ci_method"]
    )
    n_lonely = res["n_lonely"].ravel()
    cols: dict[str, Any] = {}
    if bylist:
        for b in bylist:
            col = labels[b]
            cols[b] = col if k == 1 else pd.concat([col] * k, ignore_index=True)
    if multi:
        cols["variable"] = np.repeat(np.array(ylist, dtype=object), D)
    cols.update(
        estimate=est * scale,
        se=se * scale,
        ci_low=lo * scale,
        ci_high=hi * scale,
        df=df,
        n=n,
        sum_weight=res["sum_weight"].ravel(),
        n_lonely_strata=n_lonely,
        flags=_flags(n, df, n_lonely, se, min_n),
    )
    out = pd.DataFrame(cols, index=pd.RangeIndex(D * k))
    out.attrs["params"] = {
        "estimator": estimator,
        "y": ylist if multi else ylist[0],
        "x": x,
        "by": bylist,
        "where": where if isinstance(where, str) else ("mask" if where is not None else None),
        "weight": weight,
        "strata": strata,
        "survey": survey,
        "domain_mode": opts["domain_mode"],
        "lonely_psu": opts["lonely_psu"],
        "adjust_center": opts["adjust_center"],
        "ci_df": opts["ci_df"],
        "ci_method": opts["ci_method"],
        "level": level,
        "min_n": min_n,
        "scale": scale,
        "design": "stratified single-stage, with replacement, no fpc, Taylor linearisation",
        "n_firms_design": len(data),
        "n_strata_design": H,
        "excluded": counts,
    }
    return out


_DOC_COMMON = """
    by
        None, a column name or a list of columns; one row per observed combination (domain).
        Firms with a missing ``by`` value are in no domain but stay in the design
        (ExclusionWarning with the count).
    where
        None, a boolean Series aligned to ``data`` or the name of a boolean column: a scope
        restriction (e.g. manufacturing only) treated as a subpopulation of the full design
        (Stata ``subpop()``); NaN counts as outside (ExclusionWarning).
    weight, strata, survey
        Column names. ``weight=None`` gives unweighted estimates; ``strata=None`` one stratum;
        ``survey=None`` one survey. Strata are made unique per survey (R
        ``interaction(survey, strata)``).
    domain_mode
        ``"full_design"`` (R ``svyby(na.rm=TRUE)``, Stata ``subpop()``) or ``"drop"`` (design
        re-declared on the firms used; R ``svydesign`` on a subset, Stata ``if``).
    lonely_psu
        ``"scaled"`` (R ``"average"``), ``"centered"`` (R ``"adjust"``), ``"certainty"`` (R
        ``"certainty"``/``"remove"``) or ``"fail"``; R names accepted.
    adjust_center
        ``"grand"`` (R survey >= 4.3) or ``"zero"`` (R survey <= 4.2); only for ``"centered"``.
    ci_df
        ``"design"`` (t with the design df; Stata default, R ``confint(df=degf(des))``) or
        ``"normal"`` (R ``confint`` default).
    level
        Confidence level.
    min_n
        Estimates from fewer firms are flagged ``small_n`` (default 30, a common publication
        rule of thumb for survey cells; the ES website does not document its own threshold).
    scale
        Multiplies estimate, SE and CI bounds (100 for percentages; METHODS §1).

    Returns
    -------
    pandas.DataFrame
        ``by`` columns, ``variable`` (when ``y`` is a list), ``estimate``, ``se``, ``ci_low``,
        ``ci_high``, ``df``, ``n``, ``sum_weight``, ``n_lonely_strata``, ``flags``; options in
        ``.attrs["params"]``. See the module docstring for the conventions.

    Raises
    ------
    MissingColumnsError, InvalidWeightError, DesignError, LonelyStratumError, InvalidValueError,
    OptionError
"""


def svy_mean(
    data: pd.DataFrame,
    y: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    where: pd.Series | str | None = None,
    weight: str | None = "weight",
    strata: str | None = "strata",
    survey: str | None = "survey_id",
    domain_mode: str = "full_design",
    lonely_psu: str = "scaled",
    adjust_center: str = "grand",
    ci_df: str = "design",
    level: float = 0.95,
    min_n: int = 30,
    scale: float = 1.0,
) -> pd.DataFrame:
    """Weighted (Hajek) mean with Taylor-linearised SE, by domain.

    *Definition*: y_hat = sum_S w y / sum_S w over S = firms in the domain and scope with
    non-missing y; scores z_i = w_i (y_i - y_hat) / sum_S w (METHODS §2.9).

    *Source*: METHODS §2.9; Stata ``svy: mean``; R ``svymean``/``svyby(..., svymean,
    na.rm=TRUE)``. Checked against R survey to 1e-10 (tests/test_survey.py).

    Parameters
    ----------
    data
        One row per firm (PSU) of the full design.
    y
        Column name, or a list of column names (adds a ``variable`` column). NaN = missing.
    """
    return _estimate(
        data,
        y,
        None,
        kind="mean",
        estimator="svy_mean",
        by=by,
        where=where,
        weight=weight,
        strata=strata,
        survey=survey,
        domain_mode=domain_mode,
        lonely_psu=lonely_psu,
        adjust_center=adjust_center,
        ci_df=ci_df,
        level=level,
        min_n=min_n,
        scale=scale,
    )


def svy_proportion(
    data: pd.DataFrame,
    y: str | Sequence[str],
    *,
    ci_method: str = "wald",
    by: str | Sequence[str] | None = None,
    where: pd.Series | str | None = None,
    weight: str | None = "weight",
    strata: str | None = "strata",
    survey: str | None = "survey_id",
    domain_mode: str = "full_design",
    lonely_psu: str = "scaled",
    adjust_center: str = "grand",
    ci_df: str = "design",
    level: float = 0.95,
    min_n: int = 30,
    scale: float = 1.0,
) -> pd.DataFrame:
    """Weighted proportion of a 0/1 variable with Taylor-linearised SE and CI, by domain.

    *Definition*: p_hat = sum_S w y / sum_S w with y in {0, 1}; the SE is that of the mean.
    CI by ``ci_method``: ``"wald"`` (p +/- q se), ``"logit"`` (R ``svyciprop(method="logit")``,
    Stata ``svy: proportion``) or ``"korn_graubard"`` (R ``svyciprop(method="beta")``; alias
    ``"beta"``); see the module docstring for the formulas and the n/df used.

    *Source*: METHODS §2.9; Korn & Graubard (1998), Survey Methodology 24(2); R survey
    ``svyciprop``.

    Parameters
    ----------
    data
        One row per firm (PSU) of the full design.
    y
        0/1 or boolean column (NaN = missing), or a list of them.
    ci_method
        ``"wald"``, ``"logit"`` or ``"korn_graubard"``.
    """
    return _estimate(
        data,
        y,
        None,
        kind="mean",
        estimator="svy_proportion",
        by=by,
        where=where,
        weight=weight,
        strata=strata,
        survey=survey,
        domain_mode=domain_mode,
        lonely_psu=lonely_psu,
        adjust_center=adjust_center,
        ci_df=ci_df,
        level=level,
        min_n=min_n,
        scale=scale,
        ci_method=ci_method,
    )


def svy_ratio(
    data: pd.DataFrame,
    y: str,
    x: str,
    *,
    by: str | Sequence[str] | None = None,
    where: pd.Series | str | None = None,
    weight: str | None = "weight",
    strata: str | None = "strata",
    survey: str | None = "survey_id",
    domain_mode: str = "full_design",
    lonely_psu: str = "scaled",
    adjust_center: str = "grand",
    ci_df: str = "design",
    level: float = 0.95,
    min_n: int = 30,
    scale: float = 1.0,
) -> pd.DataFrame:
    """Ratio of weighted totals with Taylor-linearised SE, by domain.

    *Definition*: R_hat = sum_S w y / sum_S w x over firms with both y and x non-missing;
    scores z_i = w_i (y_i - R_hat x_i) / sum_S w x. NaN when sum_S w x = 0.

    *Source*: METHODS §2.6 (``es_export_sales_ratio``) and §2.9; Stata ``svy: ratio``; R
    ``svyratio``/``svyby(..., svyratio, na.rm=TRUE)``.

    Parameters
    ----------
    data
        One row per firm (PSU) of the full design.
    y, x
        Numerator and denominator columns (NaN = missing).
    """
    if not isinstance(y, str) or not isinstance(x, str):
        raise OptionError("svy_ratio takes one numerator column y and one denominator column x.")
    return _estimate(
        data,
        y,
        x,
        kind="ratio",
        estimator="svy_ratio",
        by=by,
        where=where,
        weight=weight,
        strata=strata,
        survey=survey,
        domain_mode=domain_mode,
        lonely_psu=lonely_psu,
        adjust_center=adjust_center,
        ci_df=ci_df,
        level=level,
        min_n=min_n,
        scale=scale,
    )


def svy_total(
    data: pd.DataFrame,
    y: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = None,
    where: pd.Series | str | None = None,
    weight: str | None = "weight",
    strata: str | None = "strata",
    survey: str | None = "survey_id",
    domain_mode: str = "full_design",
    lonely_psu: str = "scaled",
    adjust_center: str = "grand",
    ci_df: str = "design",
    level: float = 0.95,
    min_n: int = 30,
    scale: float = 1.0,
) -> pd.DataFrame:
    """Weighted total with Taylor-linearised SE, by domain.

    *Definition*: T_hat = sum_S w y; scores z_i = w_i y_i. NaN when no firm is used.

    *Source*: METHODS §2.9; Stata ``svy: total``; R ``svytotal``/``svyby(..., svytotal,
    na.rm=TRUE)``.

    Parameters
    ----------
    data
        One row per firm (PSU) of the full design.
    y
        Column name or list of column names (NaN = missing).
    """
    return _estimate(
        data,
        y,
        None,
        kind="total",
        estimator="svy_total",
        by=by,
        where=where,
        weight=weight,
        strata=strata,
        survey=survey,
        domain_mode=domain_mode,
        lonely_psu=lonely_psu,
        adjust_center=adjust_center,
        ci_df=ci_df,
        level=level,
        min_n=min_n,
        scale=scale,
    )


for _f in (svy_mean, svy_proportion, svy_ratio, svy_total):
    _f.__doc__ = (_f.__doc__ or "") + _DOC_COMMON
