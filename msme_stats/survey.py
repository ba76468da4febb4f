"""Design-based estimation for stratified single-stage surveys (World Bank Enterprise Surveys).

The WBES design (METHODS §2.3, §2.9): the establishment is the sampling unit (PSU), strata are
unique within a country survey, weights are probability (expansion) weights, sampling is with
replacement, so there is no finite-population correction. Variances are Taylor-linearised.

The design is declared once with :func:`svyset` (Stata ``svyset``, R ``svydesign``), which returns a
:class:`SurveyDesign` with the methods ``.mean``, ``.proportion``, ``.ratio``, ``.total``,
``.contrast`` and ``.estimate(indicators, by=...)``; the ``svy_*`` functions are
``svyset(data, ...)`` followed by the method. Four estimators share one engine,
:func:`_domain_estimates`, which is vectorised over domains and variables (integer codes and
:func:`numpy.bincount`; no Python loop per domain or stratum):

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
    other strata over them. The count of single-firm strata touched is ``n_lonely_strata``; the
    flag ``lonely_stratum`` is set only when their firms hold a material share of the variability
    (``lonely_share`` > ``lonely_threshold``, default 0.10), so it does not sit on every row of a
    survey with many single-firm strata.
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
``ci_method``
    Applies or raises: proportions take ``"logit"`` (the default, as Stata ``svy: proportion``
    and R ``svyciprop``), ``"wald"`` or ``"korn_graubard"``; means and ratios take ``"wald"``
    (default) and, when declared bounded with ``bounds=(a, b)``, ``"logit"`` (then the
    default); totals take ``"wald"`` only. ``"wald"``: est +/- q * se. ``"logit"``: Wald on the
    logit scale, expit(logit(p) +/- q * se / (p (1 - p))) (R ``svyciprop(method="logit")``,
    Stata ``svy: proportion`` default); for a bounded mean or ratio the same on
    p = (est - a) / (b - a) with se / (b - a) (delta method), mapped back, so the interval stays
    inside [a, b] (R ``svyciprop(~I(y/100), method="logit")``, i.e. ``svyglm(quasibinomial)``;
    goldens in tests/goldens/interval_goldens.csv). The logit and expit use the C library's
    ``log`` and ``exp`` (:mod:`msme_stats._libm`), so the bounds have the same bits on every CPU.
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
``cv``                    coefficient of variation se / |estimate|
``deff``                  design effect var / var_SRS (R ``deff=TRUE``: SRS without
                          replacement; ``svyset(deff="with_replacement")`` = R
                          ``deff="replace"``); goldens in tests/goldens/deff_goldens.csv
``n_lonely_strata``       single-firm strata touched by the firms used
``lonely_share``          share of the sum of squared linearised scores held by firms of
                          single-firm strata (the variance the design cannot estimate)
``top_firm_share``        ratios and totals: the largest single-firm share of sum |w y|
``flags``                 ";"-joined codes, "" when none: ``no_obs`` (n = 0), ``few_firms``
                          (n < ``min_n``, default 30), ``df_nonpos`` (df <= 0),
                          ``lonely_stratum`` (``lonely_share`` > ``lonely_threshold``,
                          default 0.10), ``dominant_firm`` (``top_firm_share`` >
                          ``dominant_share``, default 0.5), ``se_nan`` (se is NaN)
========================  ===============================================================

Rows are ordered by variable, then by the sorted ``by`` values. Domains are the observed
combinations of the ``by`` columns among firms in the ``where`` scope; a domain whose firms all
miss the variable is reported with ``n = 0`` and NaN estimate. ``result.attrs["params"]`` holds the
options used.
"""

from __future__ import annotations

import inspect
import logging
import math
import re
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias, TypedDict, Unpack

import numpy as np
import pandas as pd

from . import _libm
from ._dist import norm_ppf, t_ppf_upper_array
from ._docs import fill_doc
from ._options import (
    CI_METHOD_ALIASES,
    DEFF_ALIASES,
    LONELY_PSU_ALIASES,
    AdjustCenter,
    CiDf,
    CiMethod,
    CiMethodAlias,
    ContrastKind,
    DeffAlias,
    DeffSrs,
    DomainMode,
    LonelyPsu,
    LonelyPsuAlias,
    as_list,
    canonical_weight,
    check_choice,
    check_number,
    choices,
    resolve_weight_column,
)
from .errors import (
    DesignError,
    DuplicateIdError,
    ExclusionWarning,
    InvalidValueError,
    InvalidWeightError,
    LonelyStratumError,
    MissingColumnsError,
    OptionError,
)

logger = logging.getLogger(__name__)

__all__ = [
    "SurveyDesign", "svyset", "svy_mean", "svy_proportion", "svy_ratio", "svy_total", "svy_contrast",
    "DesignOptions", "ContrastDesignOptions",
]

# allowed values of the options, derived from their Literal types (msme_stats._options)
LONELY_CHOICES = choices(LonelyPsu)
LONELY_ALIASES = LONELY_PSU_ALIASES
DOMAIN_MODES = choices(DomainMode)
ADJUST_CENTERS = choices(AdjustCenter)
CI_DFS = choices(CiDf)
CI_METHODS = choices(CiMethod)
CONTRAST_KINDS = choices(ContrastKind)

#: a ``ci_method`` argument: a method or one of its other spellings
CiMethodArg: TypeAlias = CiMethod | CiMethodAlias
#: a ``by`` argument: None, one column or several
By: TypeAlias = str | Sequence[str] | None
#: a ``where`` argument: None, a boolean mask (Series aligned to the frame, or array), a
#: boolean column name or a query string
Where: TypeAlias = pd.Series | np.ndarray | Sequence[bool] | str | None


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


def _as_design_arrays(
    y: np.ndarray, w: np.ndarray, strata_codes: np.ndarray, domain_codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The inputs of :func:`_domain_estimates` as arrays: ``y`` (n, k) float, ``w`` float, codes int64."""
    y = np.asarray(y, dtype=float)
    if y.ndim == 1:
        y = y[:, None]
    w = np.asarray(w, dtype=float)
    return y, w, np.asarray(strata_codes, dtype=np.int64), np.asarray(domain_codes, dtype=np.int64)


def _design_counts(
    strata_codes: np.ndarray,
    domain_codes: np.ndarray,
    *,
    n_strata: int | None,
    n_domains: int | None,
    stratum_survey: np.ndarray | None,
) -> tuple[int, int, np.ndarray, int, np.ndarray, np.ndarray]:
    """Counts of the full design: strata, domains, PSUs per stratum and df per survey.

    Returns ``(H, D, stratum_survey, n_surv, nh_full, surv_df)``; a survey's df is its firms
    minus its strata with at least one firm.
    """
    n_rows = strata_codes.size
    H = int(n_strata if n_strata is not None else (strata_codes.max() + 1 if n_rows else 0))
    D = int(n_domains if n_domains is not None else (domain_codes.max() + 1 if n_rows else 0))
    if stratum_survey is None:
        stratum_survey = np.zeros(H, dtype=np.int64)
    stratum_survey = np.asarray(stratum_survey, dtype=np.int64)
    n_surv = int(stratum_survey.max()) + 1 if H else 1
    nh_full = np.bincount(strata_codes, minlength=H)
    surv_firms = np.bincount(stratum_survey, weights=nh_full, minlength=n_surv)
    surv_strata = np.bincount(stratum_survey, weights=nh_full > 0, minlength=n_surv)
    return H, D, stratum_survey, n_surv, nh_full, surv_firms - surv_strata


def _prepare_domain_inputs(
    y: np.ndarray,
    x: np.ndarray | None,
    w: np.ndarray,
    strata_codes: np.ndarray,
    domain_codes: np.ndarray,
    *,
    kind: str,
) -> tuple[np.ndarray, ...]:
    """Restrict to the firms in some domain and form the weighted values in S.

    Returns ``(yd, sd, dd, vflat, wv, wy, wx)``: the domain firms' values, stratum and domain
    codes, the flattened in-S mask, the weight in S (0 outside), ``w y`` and ``w x`` (``wv`` for
    means and totals). Firms outside every domain only matter through the design counts.
    """
    n_rows = y.shape[0]
    if n_rows and domain_codes.min() >= 0:
        yd, wd, sd, dd = y, w, strata_codes, domain_codes
        xd = x
    else:
        rows = np.flatnonzero(domain_codes >= 0)
        yd, wd, sd, dd = y[rows], w[rows], strata_codes[rows], domain_codes[rows]
        xd = None if x is None else np.asarray(x)[rows]
    valid = ~np.isnan(yd)
    xr: np.ndarray | None = None  # the denominators of a ratio, shape (n, k)
    if kind == "ratio":
        if xd is None:
            raise ValueError("kind='ratio' needs x")
        xr = np.asarray(xd, dtype=float)
        if xr.ndim == 1:
            xr = xr[:, None]
        valid &= ~np.isnan(xr)
    vflat = valid.ravel()
    wv = (wd[:, None] * valid).ravel()  # weight in S, 0 outside
    wy = np.where(vflat, wv * yd.ravel(), 0.0)
    wx = np.where(vflat, wv * xr.ravel(), 0.0) if xr is not None else wv
    return yd, sd, dd, vflat, wv, wy, wx


def _pair_cells(
    sd: np.ndarray, dd: np.ndarray, *, H: int, D: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Index the (domain, stratum) pairs present among the domain firms (hash factorisation, O(n)).

    Returns ``(pidx, pk_dom, pk_str, P)``: the (pair, variable) cell of each flattened value,
    the (domain, variable) cell and the stratum of each (pair, variable) cell, and the number
    of pairs.
    """
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
    pk_dom = np.tile(pair_dom, k) + D * np.repeat(jj, P)  # (domain, variable) cell of a pair
    pk_str = np.tile(pair_str, k)
    return pidx, pk_dom, pk_str, P


def _domain_scores(
    pidx: np.ndarray,
    pk_dom: np.ndarray,
    vflat: np.ndarray,
    wv: np.ndarray,
    wy: np.ndarray,
    wx: np.ndarray,
    *,
    PK: int,
    DK: int,
    kind: str,
) -> tuple[np.ndarray, ...]:
    """Per pair, then per domain: firms in S, weights, totals, the estimate and the scores.

    Returns ``(m, n_used, sum_w, est, z, sz)``: the firms in S per pair; per domain the firms
    used, sum of weights and estimate; the linearised score of each value ``z`` and its sum
    over each pair ``sz``.
    """
    m: np.ndarray
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
    return m, n_used, sum_w, est, z, sz


def _check_lonely(
    lonely: np.ndarray,
    pk_str: np.ndarray,
    *,
    lonely_psu: str,
    stratum_labels: _StratumLabels | Sequence[Any] | None,
) -> None:
    """Raise :class:`LonelyStratumError` when ``lonely_psu="fail"`` and a used stratum has one firm."""
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


def _domain_variance(
    pidx: np.ndarray,
    pk_dom: np.ndarray,
    pk_str: np.ndarray,
    vflat: np.ndarray,
    z: np.ndarray,
    sz: np.ndarray,
    m: np.ndarray,
    n_used: np.ndarray,
    nh_full: np.ndarray,
    *,
    PK: int,
    DK: int,
    domain_mode: str,
    lonely_psu: str,
    adjust_center: str,
    stratum_labels: _StratumLabels | Sequence[Any] | None,
) -> tuple[np.ndarray, ...]:
    """Between-PSU variance of the scores per stratum, summed per domain, with the lonely rule.

    Returns ``(var, lonely, present, n_lonely, n_present)``: the variance per domain, the
    lonely and present (pair, variable) cells, and per domain the lonely and present strata.
    """
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
    _check_lonely(lonely, pk_str, lonely_psu=lonely_psu, stratum_labels=stratum_labels)

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
    return var, lonely, present, n_lonely, n_present


def _lonely_share(
    pidx: np.ndarray,
    pk_dom: np.ndarray,
    z: np.ndarray,
    lonely: np.ndarray,
    n_lonely: np.ndarray,
    *,
    PK: int,
    DK: int,
) -> np.ndarray:
    """Share of the sum of squared scores held by firms of single-firm strata, per domain.

    The part of the linearised variability that the design cannot estimate.
    """
    zz_p = np.bincount(pidx, weights=z * z, minlength=PK)
    zz = np.bincount(pk_dom, weights=zz_p, minlength=DK)
    zz_l = np.bincount(pk_dom, weights=np.where(lonely, zz_p, 0.0), minlength=DK)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(zz > 0, zz_l / zz, np.where(n_lonely > 0, 1.0, 0.0))


def _top_share(cell: np.ndarray, wy: np.ndarray, *, DK: int) -> np.ndarray:
    """Largest single-firm share of the weighted numerator ``|w y|`` per domain."""
    a = np.abs(wy)
    mx = np.zeros(DK)
    np.maximum.at(mx, cell, a)
    tot_a = np.bincount(cell, weights=a, minlength=DK)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(tot_a > 0, mx / tot_a, np.nan)


def _design_effect(
    cell: np.ndarray,
    yd: np.ndarray,
    vflat: np.ndarray,
    wv: np.ndarray,
    z: np.ndarray,
    var: np.ndarray,
    n_used: np.ndarray,
    sum_w: np.ndarray,
    *,
    DK: int,
    kind: str,
    deff_srs: str,
) -> np.ndarray:
    """Design effect against simple random sampling (R svymean/svytotal/svyratio ``deff=``)."""
    if kind == "ratio":
        with np.errstate(divide="ignore", invalid="ignore"):
            u = np.where(wv > 0, z / np.where(wv > 0, wv, 1.0), 0.0)
    else:
        u = np.where(vflat, yd.ravel(), 0.0)
    su = np.bincount(cell, weights=wv * u, minlength=DK)
    with np.errstate(divide="ignore", invalid="ignore"):
        ubar = su / sum_w
        dev_u = np.where(vflat, u - ubar[cell], 0.0)
        s2 = np.bincount(cell, weights=wv * dev_u * dev_u, minlength=DK) / sum_w
        s2 = s2 * n_used / (n_used - 1)
        f = sum_w * sum_w if kind in ("total", "ratio") else 1.0
        if deff_srs == "with_replacement":
            vsrs = s2 * f / n_used
        else:
            vsrs = np.where(sum_w > n_used, s2 * f * (sum_w - n_used) / (sum_w * n_used), np.nan)
        return np.where((n_used > 1) & (vsrs > 0), var / vsrs, np.nan)


def _domain_diagnostics(
    pidx: np.ndarray,
    pk_dom: np.ndarray,
    yd: np.ndarray,
    vflat: np.ndarray,
    wv: np.ndarray,
    wy: np.ndarray,
    z: np.ndarray,
    lonely: np.ndarray,
    n_lonely: np.ndarray,
    var: np.ndarray,
    n_used: np.ndarray,
    sum_w: np.ndarray,
    *,
    PK: int,
    DK: int,
    kind: str,
    deff_srs: str,
    extras: bool,
) -> dict[str, np.ndarray]:
    """Diagnostics per domain: ``lonely_share``, ``top_share`` and ``deff``.

    ``lonely_share`` is the share of the sum of squared scores held by firms of single-firm
    strata; ``top_share`` the largest single-firm share of sum ``|w y|`` (ratios and totals;
    NaN otherwise); ``deff`` the design effect (NaN when the weights sum to no more than n
    under ``"without_replacement"``, as R's NA). ``top_share`` and ``deff`` are NaN unless
    ``extras``.
    """
    lonely_share = _lonely_share(pidx, pk_dom, z, lonely, n_lonely, PK=PK, DK=DK)
    top_share, deff = np.full(DK, np.nan), np.full(DK, np.nan)
    if extras:
        cell = pk_dom[pidx]
        if kind in ("ratio", "total"):
            top_share = _top_share(cell, wy, DK=DK)
        deff = _design_effect(
            cell, yd, vflat, wv, z, var, n_used, sum_w, DK=DK, kind=kind, deff_srs=deff_srs
        )
    return {"lonely_share": lonely_share, "top_share": top_share, "deff": deff}


def _domain_df(
    pk_dom: np.ndarray,
    pk_str: np.ndarray,
    present: np.ndarray,
    n_used: np.ndarray,
    n_present: np.ndarray,
    stratum_survey: np.ndarray,
    surv_df: np.ndarray,
    *,
    DK: int,
    n_surv: int,
    domain_mode: str,
) -> np.ndarray:
    """Degrees of freedom per domain: firms - strata (``drop``) or the surveys' design df."""
    if domain_mode == "drop":
        return n_used - n_present
    cell_surv = pk_dom[present] * n_surv + stratum_survey[pk_str[present]]
    cell_surv = np.unique(cell_surv)
    return np.bincount(cell_surv // n_surv, weights=surv_df[cell_surv % n_surv], minlength=DK)


#: results of :func:`_domain_estimates` that are counts (returned as int64)
_COUNT_RESULTS = ("n", "n_lonely", "n_strata", "df")


def _as_kd(a: np.ndarray, k: int, D: int, *, count: bool) -> np.ndarray:
    """Reshape a flat (variable, domain) result to (k, D), as int64 for counts."""
    return a.reshape(k, D).astype(np.int64) if count else a.reshape(k, D)


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
    stratum_labels: _StratumLabels | Sequence[Any] | None = None,
    deff_srs: str = "without_replacement",
    extras: bool = True,
) -> dict[str, np.ndarray]:
    """Domain estimates and Taylor-linearised variances for many variables at once.

    All the mathematics of the module (METHODS §2.9): the design arrays describe **every** firm
    of the design (the full frame); domains and missing values only decide which firms are in S.
    The steps: :func:`_design_counts`, :func:`_prepare_domain_inputs`, :func:`_pair_cells`,
    :func:`_domain_scores`, :func:`_domain_variance`, :func:`_domain_diagnostics`,
    :func:`_domain_df`.

    Parameters
    ----------
    y, x
        Shape (n,) or (n, k) float; NaN = missing (outside S for that variable). ``x`` is the
        denominator for ``kind="ratio"``, same shape as ``y``; ignored otherwise.
    w
        Shape (n,) weights, finite and >= 0 (a zero weight gives a zero score).
    strata_codes, domain_codes
        Shape (n,) int codes 0..H-1 of the strata, unique over the pooled file (survey x
        stratum), and 0..D-1 of the domains (-1 = in no domain, still in the design).
    n_domains, n_strata, stratum_survey
        D and H (default: max code + 1); shape (H,) survey code of each stratum (df rule).
    kind, domain_mode, lonely_psu, adjust_center
        ``"mean"`` (also proportions), ``"ratio"`` or ``"total"``; canonical option values.
    stratum_labels
        Optional labels of the strata, used in the LonelyStratumError message.
    deff_srs
        ``"without_replacement"`` (R ``deff=TRUE``) or ``"with_replacement"`` (R
        ``deff="replace"``). ``extras=False`` skips ``top_share`` and ``deff``.

    Returns
    -------
    dict of arrays of shape (k, D): ``estimate``, ``se``, ``var``, ``n``, ``sum_weight``,
    ``n_lonely``, ``n_strata``, ``df``, ``lonely_share``, ``top_share`` and ``deff`` (see
    :func:`_domain_diagnostics`; NaN when the weights sum to no more than n, as R's NA).
    """
    y, w, strata_codes, domain_codes = _as_design_arrays(y, w, strata_codes, domain_codes)
    k = y.shape[1]
    H, D, stratum_survey, n_surv, nh_full, surv_df = _design_counts(
        strata_codes, domain_codes, n_strata=n_strata, n_domains=n_domains,
        stratum_survey=stratum_survey,
    )
    yd, sd, dd, vflat, wv, wy, wx = _prepare_domain_inputs(
        y, x, w, strata_codes, domain_codes, kind=kind
    )
    pidx, pk_dom, pk_str, P = _pair_cells(sd, dd, H=H, D=D, k=k)
    DK, PK = D * k, P * k
    m, n_used, sum_w, est, z, sz = _domain_scores(
        pidx, pk_dom, vflat, wv, wy, wx, PK=PK, DK=DK, kind=kind
    )
    var, lonely, present, n_lonely, n_present = _domain_variance(
        pidx, pk_dom, pk_str, vflat, z, sz, m, n_used, nh_full, PK=PK, DK=DK,
        domain_mode=domain_mode, lonely_psu=lonely_psu, adjust_center=adjust_center,
        stratum_labels=stratum_labels,
    )
    diag = _domain_diagnostics(pidx, pk_dom, yd, vflat, wv, wy, z, lonely, n_lonely, var, n_used,
                               sum_w, PK=PK, DK=DK, kind=kind, deff_srs=deff_srs, extras=extras)
    df = _domain_df(pk_dom, pk_str, present, n_used, n_present, stratum_survey, surv_df,
                    DK=DK, n_surv=n_surv, domain_mode=domain_mode)
    out = dict(estimate=est, se=np.sqrt(var), var=var, n=n_used, sum_weight=sum_w,
               n_lonely=n_lonely, n_strata=n_present, df=df, **diag)
    return {name: _as_kd(a, k, D, count=name in _COUNT_RESULTS) for name, a in out.items()}


# ======================================================================================
# confidence intervals and flags
# ======================================================================================
def _quantile(level: float, df: np.ndarray, ci_df: str) -> np.ndarray:
    """Two-sided quantile: t with ``df`` (NaN when df <= 0) or normal."""
    upper = 1 - (1 - level) / 2
    if ci_df == "normal":
        return np.full(df.shape, norm_ppf(upper))
    dff = df.astype(float)
    with np.errstate(invalid="ignore"):
        return t_ppf_upper_array(upper, dff)


def _confidence_interval(
    est: np.ndarray,
    se: np.ndarray,
    df: np.ndarray,
    n: np.ndarray,
    *,
    level: float,
    ci_df: str,
    ci_method: str,
    bounds: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """CI bounds (unscaled) for arrays of estimates; see the module docstring.

    ``bounds=(a, b)`` with ``ci_method="logit"``: the logit interval of (est - a) / (b - a)
    with SE se / (b - a) (delta method), mapped back to [a, b] (bounded means and ratios).
    """
    if bounds is not None and ci_method != "wald":
        a, b = bounds
        span = b - a
        lo, hi = _confidence_interval(
            (est - a) / span, se / span, df, n, level=level, ci_df=ci_df, ci_method=ci_method
        )
        return a + span * lo, a + span * hi
    q = _quantile(level, df, ci_df)
    with np.errstate(divide="ignore", invalid="ignore"):
        if ci_method == "wald":
            return est - q * se, est + q * se
        inside = (est > 0) & (est < 1)
        p = np.where(inside, est, 0.5)
        if ci_method == "logit":
            # exp and log through the C library: np.exp's AVX-512 kernel differs in the last bit,
            # and built tables must not depend on the CPU (see msme_stats._libm)
            centre = _libm.log(p / (1 - p))
            half = q * se / (p * (1 - p))
            lo = 1.0 / (1.0 + _libm.exp(-(centre - half)))
            hi = 1.0 / (1.0 + _libm.exp(-(centre + half)))
        else:  # korn_graubard, as R svyciprop(method = "beta")
            from scipy import special  # beta quantiles: imported only when asked for

            alpha = 1 - level
            n_eff = p * (1 - p) / (se * se)
            nf = n.astype(float)
            t_n = np.where(nf > 1, special.stdtrit(np.where(nf > 1, nf - 1, 1.0), alpha / 2), np.nan)
            t_df: np.ndarray | np.floating[Any]
            if ci_df == "normal":
                t_df = special.ndtri(alpha / 2)
            else:
                dff = df.astype(float)
                t_df = np.where(
                    dff > 0, special.stdtrit(np.where(dff > 0, dff, 1.0), alpha / 2), np.nan
                )
            n_eff = n_eff * (t_n / t_df) ** 2
            lo = special.betaincinv(n_eff * p, n_eff * (1 - p) + 1, alpha / 2)
            hi = special.betaincinv(n_eff * p + 1, n_eff * (1 - p), 1 - alpha / 2)
            # se = 0 gives n_eff = Inf: return the limit [p, p] (R's qbeta(q, Inf, Inf) returns
            # 0.5 whatever p is, an artefact we do not copy)
            lo = np.where(np.isposinf(n_eff), p, lo)
            hi = np.where(np.isposinf(n_eff), p, hi)
        bad = ~inside | np.isnan(se)
        return np.where(bad, np.nan, lo), np.where(bad, np.nan, hi)




#: flag codes of the ``flags`` column, in the order they are listed
FLAG_CODES = ("no_obs", "few_firms", "df_nonpos", "lonely_stratum", "dominant_firm", "se_nan")


def _flags(
    n: np.ndarray,
    df: np.ndarray,
    lonely_share: np.ndarray,
    top_share: np.ndarray,
    se: np.ndarray,
    *,
    min_n: int,
    lonely_threshold: float,
    dominant_share: float,
) -> list[str]:
    codes = [
        ("no_obs", n == 0),
        ("few_firms", n < min_n),
        ("df_nonpos", df <= 0),
        ("lonely_stratum", lonely_share > lonely_threshold),
        ("dominant_firm", np.nan_to_num(top_share, nan=0.0) > dominant_share),
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
DEFF_SRS = choices(DeffSrs)


def _check_options(
    domain_mode: str,
    lonely_psu: str,
    adjust_center: str,
    ci_df: str,
    level: float,
    min_n: int,
    deff: Any = "without_replacement",
    dominant_share: float = 0.5,
    lonely_threshold: float = 0.10,
) -> dict[str, Any]:
    opts = {
        "domain_mode": check_choice("domain_mode", domain_mode, DOMAIN_MODES),
        "lonely_psu": check_choice(
            "lonely_psu", lonely_psu, LONELY_CHOICES, aliases=LONELY_ALIASES
        ),
        "adjust_center": check_choice("adjust_center", adjust_center, ADJUST_CENTERS),
        "ci_df": check_choice("ci_df", ci_df, CI_DFS),
        "deff": check_choice("deff", deff, DEFF_SRS, aliases=DEFF_ALIASES),
    }
    opts["level"] = check_number("level", level, low=0.0, high=1.0, high_open=True)
    if not (isinstance(min_n, int | np.integer) and not isinstance(min_n, bool) and min_n >= 0):
        raise OptionError(f"min_n={min_n!r} is not allowed; use an integer >= 0.")
    opts["min_n"] = int(min_n)
    opts["dominant_share"] = check_number("dominant_share", dominant_share, low=0.0, high=1.0)
    opts["lonely_threshold"] = check_number(
        "lonely_threshold", lonely_threshold, low=0.0, high=1.0, low_open=False
    )
    return opts


def _check_scale(scale: Any) -> float:
    return check_number("scale", scale, low=0.0)


#: which ci_method each estimator accepts (first = default; bounded = with ``bounds``)
_CI_ALLOWED = {
    "svy_proportion": ("logit", "wald", "korn_graubard"),
    "svy_mean": ("wald",),
    "svy_mean_bounded": ("logit", "wald"),
    "svy_ratio": ("wald",),
    "svy_ratio_bounded": ("logit", "wald"),
    "svy_total": ("wald",),
}


def _resolve_ci_method(estimator: str, ci_method: Any, bounds: Any) -> str:
    """Canonical ci_method for an estimator, or OptionError when it does not apply."""
    key = estimator + ("_bounded" if bounds is not None and estimator in ("svy_mean", "svy_ratio") else "")
    allowed = _CI_ALLOWED[key]
    if ci_method is None:
        return allowed[0]
    canon = check_choice("ci_method", ci_method, CI_METHODS, aliases=CI_METHOD_ALIASES)
    if canon not in allowed:
        hint = (
            " Give bounds=(0, 100) (or (0, 1)) for a mean or ratio of a bounded quantity to use "
            "the logit interval." if estimator in ("svy_mean", "svy_ratio") and canon == "logit" else ""
        )
        raise OptionError(
            f"ci_method={ci_method!r} does not apply to {estimator}"
            + (" with bounds" if key.endswith("_bounded") else "")
            + f"; allowed: {', '.join(map(repr, allowed))}.{hint}"
        )
    return canon


def _check_bounds(bounds: Any) -> tuple[float, float] | None:
    if bounds is None:
        return None
    try:
        a, b = (float(v) for v in bounds)
    except (TypeError, ValueError):
        raise OptionError(f"bounds={bounds!r} is not allowed; use a pair (low, high) or None.") from None
    if not (math.isfinite(a) and math.isfinite(b) and a < b):
        raise OptionError(f"bounds={bounds!r} is not allowed; use finite low < high, e.g. (0, 100).")
    return a, b


def _numeric(data: pd.DataFrame, col: str) -> np.ndarray:
    s = data[col]
    if isinstance(s.dtype, np.dtype) and s.dtype.kind in "fiub":
        return s.to_numpy().astype(np.float64, copy=False)
    try:
        if isinstance(s.dtype, pd.CategoricalDtype):
            raise TypeError
        return s.to_numpy(dtype="float64", na_value=np.nan)
    except (TypeError, ValueError):
        pass
    conv = pd.to_numeric(s.astype(object), errors="coerce") if not isinstance(
        s.dtype, pd.CategoricalDtype) else None
    bad = "" if conv is None else _first_bad_cell(s, conv)
    raise InvalidValueError(
        f"column {col!r} has dtype {s.dtype} and cannot be read as numbers{bad}; recode it to "
        "numeric (NaN = missing) before estimating."
    ) from None


def _first_bad_cell(s: pd.Series, conv: pd.Series) -> str:
    """Text naming the first cell of ``s`` that is not missing but did not convert."""
    badm = conv.isna().to_numpy() & s.notna().to_numpy()
    if not badm.any():
        return ""
    i = int(np.flatnonzero(badm)[0])
    return f" (e.g. row {s.index[i]!r} holds {s.iloc[i]!r}; {int(badm.sum())} such cell(s))"


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
            if order.size:
                codes = np.where(codes >= 0, rank[np.maximum(codes, 0)], -1).astype(np.int64)
            else:  # every value missing
                codes = np.full(codes.shape, -1, dtype=np.int64)
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




def _resolve_where(
    data: pd.DataFrame, where: Any, *, who: str
) -> tuple[np.ndarray | None, int, str]:
    """Scope of ``where`` as a boolean array (NaN = outside, counted), its NaN count and label.

    ``where`` is None, a boolean (or 0/1) Series with exactly ``data``'s index, a boolean
    numpy array of ``len(data)``, the name of a boolean column, or a query string evaluated
    on ``data`` as :meth:`pandas.DataFrame.eval` does (``"sector == 'manufacturing'"``).
    Anything else raises :class:`OptionError`/:class:`InvalidValueError`.
    """
    if where is None:
        return None, 0, ""
    wser, wname = _where_series(data, where, who=who)
    scope, n_miss = _where_scope(wser, wname, who=who)
    return scope, n_miss, wname


def _where_series(data: pd.DataFrame, where: Any, *, who: str) -> tuple[pd.Series, str]:
    """The ``where`` of :func:`_resolve_where` (not None) as a Series aligned to ``data``, and its label."""
    n = len(data)
    if isinstance(where, str):
        if where in data.columns:
            wser, wname = data[where], f"where column {where!r}"
        else:
            try:
                names = set(re.findall(r"[A-Za-z_]\w*", where)) & set(map(str, data.columns))
                value: object
                if "`" in where or "@" in where:
                    value = data.eval(where, engine="python")
                else:  # resolve only the columns the query names (DataFrame.eval builds all)
                    res = {c: data[c] for c in names}
                    value = pd.eval(where, engine="python", resolvers=[res])
            except Exception as err:  # any parse or eval error comes from the user's query
                raise OptionError(
                    f"{who}: where={where!r} is neither a column nor a query that can be evaluated on "
                    f"the frame ({type(err).__name__}: {err}). Write it as pandas.DataFrame.eval "
                    "would, e.g. \"sector == 'manufacturing'\", or pass a boolean mask."
                ) from None
            wname = f"where={where!r}"
            if not isinstance(value, pd.Series) or len(value) != n:
                raise OptionError(
                    f"{who}: where={where!r} does not give one True/False per firm; write a "
                    "comparison such as \"sector == 'manufacturing'\"."
                )
            wser = value
    elif isinstance(where, pd.Series):
        wname = "where mask"
        if len(where) != n or not where.index.equals(data.index):
            raise InvalidValueError(
                f"{who}: the where= Series is not aligned to the frame (its index differs: "
                f"{len(where)} values for {n} rows); build the mask from the same frame, e.g. "
                "where=firms.sector == 'manufacturing', or pass a query string."
            )
        wser = where
    elif isinstance(where, np.ndarray | list | tuple):
        arr = np.asarray(where)
        if arr.ndim != 1 or len(arr) != n:
            raise InvalidValueError(f"{who}: where mask has shape {arr.shape} for {n} rows of data.")
        wser, wname = pd.Series(arr, index=data.index), "where mask"
    else:
        raise OptionError(
            f"{who}: where={type(where).__name__} is not allowed; pass a boolean mask aligned to "
            "the frame, a boolean column name or a query string."
        )
    return wser, wname


def _where_scope(wser: pd.Series, wname: str, *, who: str) -> tuple[np.ndarray, int]:
    """Check that a ``where`` Series is boolean or 0/1; its scope array and the count of NaN (warned)."""
    n = len(wser)
    miss = wser.isna().to_numpy()
    vals = wser[~miss] if miss.any() else wser
    dt = vals.dtype
    if pd.api.types.is_bool_dtype(dt):
        pass
    elif pd.api.types.is_numeric_dtype(dt) and not isinstance(dt, pd.CategoricalDtype):
        if not np.isin(vals.to_numpy(dtype=float), (0.0, 1.0)).all():
            raise InvalidValueError(
                f"{who}: {wname} must be boolean (True = in scope) or 0/1; it holds other numbers."
            )
    else:
        raise InvalidValueError(
            f"{who}: {wname} must be boolean (True = in scope); got dtype {wser.dtype} (e.g. "
            f"{_show(vals.iloc[0]) if len(vals) else 'nothing'}). A column such as firms.sector is "
            "not a mask: write where=\"sector == 'manufacturing'\" or firms.sector == 'manufacturing'."
        )
    scope = np.zeros(n, dtype=bool)
    if miss.any():
        scope[~miss] = vals.to_numpy(dtype=bool)
        warnings.warn(
            f"{int(miss.sum())} firms have a missing value in {wname}; they are treated as "
            "outside the scope (they stay in the design).",
            ExclusionWarning,
            stacklevel=5,
        )
    else:
        scope = wser.to_numpy(dtype=bool)
    return scope, int(miss.sum())


def _domain_arrays(
    column: Any, n: int, by: list[str], scope: np.ndarray | None, cache: dict | None = None
) -> tuple[np.ndarray, int, pd.DataFrame, dict[str, int]]:
    """Domain codes (-1 = none), number of domains, frame of domain labels, exclusion counts.

    ``column(name)`` returns the Series of a ``by`` column.
    """
    counts = {"where_false": 0, "where_missing": 0, "by_missing": 0}
    if scope is not None:
        counts["where_false"] = int((~scope).sum())
    if not by:
        if scope is None:
            return np.zeros(n, dtype=np.int64), 1, pd.DataFrame(index=range(1)), counts
        codes = np.where(scope, 0, -1).astype(np.int64)
        return codes, 1, pd.DataFrame(index=range(1)), counts

    col_codes, col_uniq, series = [], [], []
    for b in by:
        s = column(b)
        c, u = _factor(s, cache)
        col_codes.append(c)
        col_uniq.append(u)
        series.append(s)
    has_missing = [bool(c.min() < 0) for c in col_codes]
    keep = _domain_keep(by, col_codes, has_missing, scope, counts, n=n)
    key, span = _mixed_radix_key(col_codes, col_uniq, has_missing)
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
    for b, s in zip(by, series, strict=True):  # keep the original dtype of categorical by columns
        if isinstance(s.dtype, pd.CategoricalDtype):
            label_frame[b] = pd.Categorical(label_frame[b], dtype=s.dtype)
    return codes.astype(np.int64, copy=False), int(n_dom), label_frame, counts


def _domain_keep(
    by: list[str],
    col_codes: list[np.ndarray],
    has_missing: list[bool],
    scope: np.ndarray | None,
    counts: dict[str, int],
    *,
    n: int,
) -> np.ndarray | None:
    """Firms in some domain (None = every firm): in scope with no missing ``by`` value.

    Firms missing a ``by`` value are counted in ``counts["by_missing"]`` and warned about;
    raises :class:`InvalidValueError` when no firm is left.
    """
    keep = scope  # None = every firm
    if any(has_missing):
        by_missing = np.zeros(n, dtype=bool)
        for c, miss_b in zip(col_codes, has_missing, strict=True):
            if miss_b:
                by_missing |= c < 0
        in_scope = scope if scope is not None else np.ones(n, dtype=bool)
        in_scope_missing = by_missing & in_scope
        n_by_missing = int(in_scope_missing.sum())
        counts["by_missing"] = n_by_missing
        if n_by_missing and n_by_missing == int(in_scope.sum()):
            cols = [b for b, c in zip(by, col_codes, strict=True) if ((c < 0) & in_scope).all()]
            raise InvalidValueError(
                f"the by column(s) {cols or by} are missing for every firm in scope "
                f"({n_by_missing} firms), so there is no domain to estimate. Fill the column(s) "
                "or group by other columns."
            )
        if n_by_missing:
            cols = [b for b, c in zip(by, col_codes, strict=True) if ((c < 0) & in_scope).any()]
            warnings.warn(
                f"{n_by_missing} firms have a missing value in the by column(s) {cols}; they are "
                "in no domain (they stay in the design, with zero scores).",
                ExclusionWarning,
                stacklevel=5,
            )
        keep = in_scope & ~by_missing
    if keep is not None and not keep.any():
        raise InvalidValueError(
            "the where= scope selects no firm, so there is no domain to estimate; check the "
            "condition (e.g. the spelling of the category)."
        )
    return keep


def _mixed_radix_key(
    col_codes: list[np.ndarray], col_uniq: list[Any], has_missing: list[bool]
) -> tuple[np.ndarray, int]:
    """Mixed-radix key over the sorted codes and its span: ordering the keys orders the domains."""
    key = np.maximum(col_codes[0], 0) if has_missing[0] else col_codes[0]
    span = max(len(col_uniq[0]), 1)
    for c, u, miss_b in zip(col_codes[1:], col_uniq[1:], has_missing[1:], strict=True):
        if span * max(len(u), 1) >= 2**53:  # keep the mixed-radix key inside int64
            key, uniq_keys = _compact(key, span)
            span = uniq_keys.size
        key = key * max(len(u), 1) + (np.maximum(c, 0) if miss_b else c)
        span *= max(len(u), 1)
    return key, span



def _check_values(
    yarr: np.ndarray,
    xarr: np.ndarray | None,
    *,
    names: list[str],
    kind: str,
    estimator: str,
    bounds: tuple[float, float] | None,
) -> None:
    """Raise :class:`InvalidValueError` for infinite values, non-0/1 proportions or values outside ``bounds``."""
    for arr, nm in ((yarr, names), (xarr, names)):
        if arr is not None and np.isinf(arr).any():
            bad_cols = [c for c, b in zip(nm, np.isinf(arr).any(axis=0), strict=False) if b]
            raise InvalidValueError(
                f"column(s) {bad_cols} hold infinite values; set them to NaN (missing) or fix "
                "them before estimating."
            )
    if estimator == "svy_proportion":
        bad = ~np.isnan(yarr) & (yarr != 0) & (yarr != 1)
        if bad.any():
            cols = [c for c, b in zip(names, bad.any(axis=0), strict=True) if b]
            raise InvalidValueError(
                f"svy_proportion needs 0/1 (or boolean) variables with NaN = missing; column(s) "
                f"{cols} hold other values ({int(bad.sum())} cells). Recode them first."
            )
    if bounds is not None:
        a, b = bounds
        outside = ~np.isnan(yarr) & ((yarr < a) | (yarr > b))
        if kind != "ratio" and outside.any():
            cols = [c for c, m in zip(names, outside.any(axis=0), strict=True) if m]
            raise InvalidValueError(
                f"{estimator}: column(s) {cols} hold {int(outside.sum())} value(s) outside "
                f"bounds={bounds}; fix them or estimate without bounds (Wald interval)."
            )


def _match_level(lv: Any, present: set) -> Any:
    """A contrast level: the exact value, else a unique case-insensitive text match, else as given."""
    if lv in present or not isinstance(lv, str):
        return lv
    hits = [v for v in present if isinstance(v, str) and v.casefold() == lv.casefold()]
    return hits[0] if len(hits) == 1 else lv


def _contrast_levels(
    column: Any, between: Any, levels: Any, by: list[str]
) -> tuple[pd.Series, Any, Any]:
    """Check ``between`` and ``levels`` of a contrast; its column and the two levels as they occur.

    ``column(name)`` returns the Series of a column.
    """
    if not isinstance(between, str):
        raise OptionError(f"contrast: between={between!r} must be one column name.")
    if between in by:
        raise OptionError(f"contrast: between={between!r} cannot also be a by column.")
    try:
        la, lb = levels
    except (TypeError, ValueError):
        raise OptionError(
            f"contrast: levels={levels!r} must be a pair of values of {between!r}, e.g. "
            "('sme', 'large'); the difference is first minus second."
        ) from None
    col = column(between)
    present = set(pd.unique(col.dropna()))
    la, lb = _match_level(la, present), _match_level(lb, present)
    for lv in (la, lb):
        if lv not in present:
            raise InvalidValueError(
                f"contrast: level {lv!r} does not occur in column {between!r} (values: "
                f"{sorted(map(str, present))[:12]})."
            )
    if la == lb:
        raise OptionError(f"contrast: levels={levels!r} name the same domain twice.")
    return col, la, lb


def _contrast_scores(
    yv: np.ndarray, xv: np.ndarray | None, w: np.ndarray, dom_codes: np.ndarray,
    est: np.ndarray, sw: np.ndarray, *, D: int, kind: str,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-firm linearised scores ``z`` of each firm's own domain estimate.

    Returns ``(z, inside, dc)``: the scores, the firms in some domain with a valid value, and
    the domain code of each firm (0 outside).
    """
    valid = ~np.isnan(yv) if xv is None else ~np.isnan(yv) & ~np.isnan(xv)
    inside = (dom_codes >= 0) & valid
    dc = np.where(inside, dom_codes, 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        if kind == "total":
            z = w * yv
        elif kind == "ratio":
            tx = np.bincount(dc[inside], weights=(w * xv)[inside], minlength=D)
            z = w * (yv - est[dc] * xv) / tx[dc]
        else:
            z = w * (yv - est[dc]) / sw[dc]
    return z, inside, dc


def _t_test(diff: np.ndarray, se: np.ndarray, df: np.ndarray, ci_df: str) -> tuple[np.ndarray, np.ndarray]:
    """t statistic and two-sided p-value (t with ``df``, NaN when df <= 0; normal for ``ci_df="normal"``)."""
    from scipy import special  # p-values: t distribution tail (imported on first contrast)

    with np.errstate(divide="ignore", invalid="ignore"):
        tstat = diff / se
        if ci_df == "normal":
            p = 2 * special.ndtr(-np.abs(tstat))
        else:
            p = np.where(df > 0, 2 * special.stdtr(np.where(df > 0, df, 1), -np.abs(tstat)), np.nan)
    return tstat, p


# ======================================================================================
# the survey design object
# ======================================================================================
class SurveyDesign:
    """A declared survey design: the firm frame, its weights and strata, and the conventions.

    Build it with :func:`svyset` (Stata ``svyset``, R ``svydesign``); every estimator is a
    method, so the design is declared once. The design arrays (weights, strata codes) are
    computed once at declaration, and ``by`` columns are factorised once per design.
    Declare the design after preparing the frame: the frame is not copied, and changing it
    afterwards is not seen by the cached codes.

    Attributes
    ----------
    data
        The frame (one row per firm of the full design).
    weight, strata, survey, firm_id
        Column names (``weight`` resolved from the weight vocabulary).
    options
        The conventions (``lonely_psu``, ``domain_mode``, ``adjust_center``, ``ci_df``,
        ``level``, ``min_n``, ``deff``, ``dominant_share``, ``lonely_threshold``).
    """

    def __init__(
        self,
        data: pd.DataFrame,
        *,
        weight: str | None,
        strata: str | None,
        survey: str | None,
        firm_id: str | None,
        options: dict[str, Any],
        who: str = "svyset",
    ) -> None:
        if not isinstance(data, pd.DataFrame):
            raise InvalidValueError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}.")
        weight = resolve_weight_column(data, weight, who=who)
        for name, col in (("strata", strata), ("survey", survey), ("firm_id", firm_id)):
            if col is not None and not isinstance(col, str):
                raise OptionError(f"{who}: {name}={col!r} must be a column name or None.")
        needed = [c for c in (weight, strata, survey, firm_id) if c is not None]
        missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
        if missing:
            raise MissingColumnsError(
                f"{who}: the frame lacks the design column(s) {missing}; available: "
                f"{list(data.columns)[:30]}. Pass the right names with weight=/strata=/survey=/firm_id=."
            )
        if len(data) == 0:
            raise DesignError(f"{who}: data has no rows.")
        # pandas deep-copies .attrs on every column access and operation: work on a shallow,
        # attrs-free view of the same columns (no data copied) and keep the attrs aside
        self.attrs = data.attrs
        self.data = pd.DataFrame(data, copy=False) if data.attrs else data
        self.weight, self.strata, self.survey, self.firm_id = weight, strata, survey, firm_id
        self.options = options
        self._cache: dict = {}
        self._derived: dict[str, pd.Series] = {}
        self._domains: dict = {}
        (self._w, self._st_codes, self._st_survey, self._H, self._st_labels, self._s_uniq) = (
            _design_arrays(self.data, weight, strata, survey, self._cache)
        )
        if firm_id is not None:
            self._check_unique(who)

    # ---- construction helpers -------------------------------------------------------
    def _check_unique(self, who: str) -> None:
        """Raise DuplicateIdError when a (survey, firm id) pair repeats (sort of integer keys)."""
        fcol = self.data[self.firm_id]
        s_codes = (
            _factor(self.data[self.survey], self._cache)[0] if self.survey is not None
            else np.zeros(len(self.data), dtype=np.int64)
        )
        n_s = int(s_codes.max()) + 1 if len(s_codes) else 1
        fv = fcol.to_numpy() if fcol.dtype.kind in "iu" else None
        if fv is not None and fv.size:
            lo, hi = int(fv.min()), int(fv.max())
            span = hi - lo + 1
        if fv is not None and fv.size and span <= 8 * fv.size + 4096:
            # ids unique over the whole frame cannot repeat within a survey: one bincount
            if np.bincount(fv.astype(np.int64) - lo, minlength=span).max(initial=0) <= 1:
                return
        if fv is not None and fv.size:
            # ids offset by each survey's smallest id: compact when ids are ranges per survey
            mins = np.full(n_s, hi, dtype=np.int64)
            np.minimum.at(mins, s_codes, fv.astype(np.int64))
            local = fv.astype(np.int64) - mins[s_codes]
            lspan = int(local.max()) + 1
            if n_s * lspan <= 8 * fv.size + 4096:
                if np.bincount(s_codes * lspan + local, minlength=n_s * lspan).max(initial=0) <= 1:
                    return
        if fv is not None and fv.size and span * n_s < 2**62:
            key = s_codes * span + (fv.astype(np.int64) - lo)
        else:
            f_codes, f_uniq = _factor(fcol, self._cache)
            if f_codes.min() < 0:
                raise InvalidValueError(
                    f"{who}: column {self.firm_id!r} (firm id) has {int((f_codes < 0).sum())} missing "
                    "value(s); every firm needs an id."
                )
            key = s_codes * max(len(f_uniq), 1) + f_codes
        kmax = int(key.max()) + 1 if key.size else 0
        if kmax <= 8 * key.size + 4096:  # compact keys: one bincount, O(n)
            if np.bincount(key, minlength=kmax).max(initial=0) <= 1:
                return
        else:
            ks = np.sort(key)
            if not (ks[1:] == ks[:-1]).any():
                return
        dup = pd.Series(key).duplicated(keep=False).to_numpy()
        first = int(np.flatnonzero(dup)[0])
        sid = self.data[self.survey].iloc[first] if self.survey is not None else None
        fid = fcol.iloc[first]
        where = f"survey {_show(sid)}, " if sid is not None else ""
        raise DuplicateIdError(
            f"{who}: {int(dup.sum())} rows repeat a ({self.survey}, {self.firm_id}) pair, e.g. "
            f"{where}firm {_show(fid)}: the same firm would be counted more than once (was a "
            "survey loaded or concatenated twice?). Keep one row per firm, e.g. "
            f"firms.drop_duplicates([{self.survey!r}, {self.firm_id!r}]) after checking why."
        )

    def _column(self, name: str) -> pd.Series:
        if name in self._derived:
            return self._derived[name]
        if name not in self.data.columns:
            raise MissingColumnsError(
                f"column {name!r} is not in the frame (available: {list(self.data.columns)[:20]})."
            )
        return self.data[name]

    def _domain(self, by: list[str], scope: np.ndarray | None, key: Any = None):
        """Domain arrays, cached per (by, key) when ``key`` is given."""
        ck = (tuple(by), key)
        if key is not None and ck in self._domains:
            return self._domains[ck]
        res = _domain_arrays(self._column, len(self.data), by, scope, self._cache)
        if key is not None:
            self._domains[ck] = res
        return res

    def __repr__(self) -> str:
        o = self.options
        return (
            f"SurveyDesign({len(self.data)} firms, {self._H} strata, "
            f"{len(self._s_uniq) if self.survey else 1} survey(s); weight={self.weight!r}, "
            f"strata={self.strata!r}, survey={self.survey!r}, lonely_psu={o['lonely_psu']!r}, "
            f"domain_mode={o['domain_mode']!r})"
        )

    # ---- the engine call ------------------------------------------------------------
    def _arrays(self, cols: list[str]) -> np.ndarray:
        return np.column_stack([_numeric(self.data, c) for c in cols])

    def _run(
        self,
        yarr: np.ndarray,
        xarr: np.ndarray | None,
        *,
        names: list[str],
        multi: bool,
        kind: str,
        estimator: str,
        by: list[str],
        scope: np.ndarray | None,
        scope_key: Any = None,
        where_label: Any = None,
        where_missing: int = 0,
        scale: float = 1.0,
        ci_method: str = "wald",
        bounds: tuple[float, float] | None = None,
        domain: tuple | None = None,
        lead: dict[str, Any] | None = None,
        tail: dict[str, Any] | None = None,
    ) -> pd.DataFrame:
        """Check the values, estimate by domain and assemble the tidy result with its ``params``."""
        o = self.options
        _check_values(yarr, xarr, names=names, kind=kind, estimator=estimator, bounds=bounds)
        dom_codes, D, labels, counts = domain if domain is not None else self._domain(by, scope, scope_key)
        counts = {**counts, "where_missing": where_missing}
        res = _domain_estimates(
            yarr, xarr, self._w, self._st_codes, dom_codes,
            n_domains=D, n_strata=self._H, stratum_survey=self._st_survey, kind=kind,
            domain_mode=o["domain_mode"], lonely_psu=o["lonely_psu"],
            adjust_center=o["adjust_center"], stratum_labels=self._st_labels,
            deff_srs=o["deff"],
        )
        k = yarr.shape[1]
        est, se = res["estimate"].ravel(), res["se"].ravel()
        df, n = res["df"].ravel(), res["n"].ravel()
        lo, hi = _confidence_interval(
            est, se, df, n, level=o["level"], ci_df=o["ci_df"], ci_method=ci_method, bounds=bounds
        )
        n_lonely = res["n_lonely"].ravel()
        lonely_share, top_share = res["lonely_share"].ravel(), res["top_share"].ravel()
        cols: dict[str, Any] = dict(lead) if lead else {}
        for b in by:
            col = labels[b]
            cols[b] = col if k == 1 else pd.concat([col] * k, ignore_index=True)
        if multi:
            cols["variable"] = np.repeat(np.array(names, dtype=object), D)
        with np.errstate(divide="ignore", invalid="ignore"):
            cv = np.where(est != 0, se / np.abs(est), np.nan)
        cols.update(
            estimate=est * scale,
            se=se * scale,
            ci_low=lo * scale,
            ci_high=hi * scale,
            df=df,
            n=n,
            sum_weight=res["sum_weight"].ravel(),
            cv=cv,
            deff=res["deff"].ravel(),
            n_lonely_strata=n_lonely,
            lonely_share=lonely_share,
            top_firm_share=top_share,
            flags=_flags(
                n, df, lonely_share, top_share, se, min_n=o["min_n"],
                lonely_threshold=o["lonely_threshold"], dominant_share=o["dominant_share"],
            ),
        )
        if tail:
            cols.update(tail)
        out = pd.DataFrame(cols, index=pd.RangeIndex(D * k))
        out.attrs["params"] = self._params(
            estimator=estimator, y=names if multi else names[0], by=by, where=where_label,
            ci_method=ci_method, bounds=bounds, scale=scale, excluded=counts,
        )
        return out

    def _params(
        self, *, estimator: str, y: Any, by: list[str], where: Any, ci_method: str,
        bounds: tuple[float, float] | None, scale: float, excluded: dict[str, int],
    ) -> dict[str, Any]:
        """The ``attrs["params"]`` record of an estimate: its call, the design and its exclusions."""
        o = self.options
        return {
            "estimator": estimator,
            "y": y,
            "by": by,
            "where": where,
            "weight": self.weight,
            "strata": self.strata,
            "survey": self.survey,
            **{key: o[key] for key in ("domain_mode", "lonely_psu", "adjust_center", "ci_df", "level",
                                       "min_n", "deff", "dominant_share", "lonely_threshold")},
            "ci_method": ci_method,
            "bounds": bounds,
            "scale": scale,
            "design": "stratified single-stage, with replacement, no fpc, Taylor linearisation",
            "n_firms_design": len(self.data),
            "n_strata_design": self._H,
            "excluded": excluded,
        }

    def _public(
        self, ys: Any, x: Any, *, kind: str, estimator: str, by: Any, where: Any, scale: Any,
        ci_method: Any, bounds: Any = None,
    ) -> pd.DataFrame:
        multi = not isinstance(ys, str)
        ylist = as_list(ys)
        if not ylist:
            raise OptionError("y is empty; give a column name or a list of column names.")
        bylist = as_list(by)
        bounds = _check_bounds(bounds)
        ci = _resolve_ci_method(estimator, ci_method, bounds)
        scale = _check_scale(scale)
        needed = [*ylist, *([x] if x is not None else []), *bylist]
        missing = [c for c in dict.fromkeys(needed) if c not in self.data.columns and c not in self._derived]
        if missing:
            raise MissingColumnsError(
                f"data lacks the column(s) {missing} needed by {estimator}; available: "
                f"{list(self.data.columns)[:30]}. Pass the right names with y=/x=/by=."
            )
        scope, n_miss, wlabel = _resolve_where(self.data, where, who=estimator)
        yarr = self._arrays(ylist)
        xarr = None
        if x is not None:
            xarr = np.repeat(_numeric(self.data, x)[:, None], len(ylist), axis=1)
        out = self._run(
            yarr, xarr, names=ylist, multi=multi, kind=kind, estimator=estimator, by=bylist,
            scope=scope, scope_key=None if where is not None else "all",
            where_label=(where if isinstance(where, str) else ("mask" if where is not None else None)),
            where_missing=n_miss, scale=scale, ci_method=ci, bounds=bounds,
        )
        out.attrs["params"]["x"] = x
        return out

    # ---- estimators -----------------------------------------------------------------
    @fill_doc
    def mean(
        self, y: str | Sequence[str], *, by: By = None, where: Where = None,
        ci_method: CiMethodArg | None = None, bounds: tuple[float, float] | None = None,
        scale: float = 1.0,
    ) -> pd.DataFrame:
        """Weighted (Hajek) mean by domain, with Taylor-linearised SE; see :func:`svy_mean`.

        Parameters
        ----------
        y
            Column name, or a list of column names (adds a ``variable`` column). NaN = missing.
        {svy_options_mean}

        {svy_sections_mean}

        Examples
        --------
        {svy_example_design}
        >>> des.mean("exporter", by="size_class")[["size_class", "estimate", "n"]]
          size_class  estimate  n
        0      large       0.7  4
        1      small       0.1  4
        """
        return self._public(y, None, kind="mean", estimator="svy_mean", by=by, where=where,
                            scale=scale, ci_method=ci_method, bounds=bounds)

    @fill_doc
    def proportion(
        self, y: str | Sequence[str], *, by: By = None, where: Where = None,
        ci_method: CiMethodArg = "logit", scale: float = 1.0,
    ) -> pd.DataFrame:
        """Weighted proportion of a 0/1 variable by domain; see :func:`svy_proportion`.

        Parameters
        ----------
        y
            0/1 or boolean column (NaN = missing), or a list of them.
        {svy_options_proportion}

        {svy_sections_proportion}

        Examples
        --------
        {svy_example_design}
        >>> des.proportion("exporter", scale=100)[["estimate", "ci_low", "ci_high"]].round(1)
           estimate  ci_low  ci_high
        0      40.0     ...     ...
        """
        return self._public(y, None, kind="mean", estimator="svy_proportion", by=by, where=where,
                            scale=scale, ci_method=ci_method)

    @fill_doc
    def ratio(
        self, y: str, x: str, *, by: By = None, where: Where = None,
        ci_method: CiMethodArg | None = None, bounds: tuple[float, float] | None = None,
        scale: float = 1.0,
    ) -> pd.DataFrame:
        """Ratio of weighted totals by domain; see :func:`svy_ratio`.

        Parameters
        ----------
        y, x
            Numerator and denominator columns (NaN = missing); one of each.
        {svy_options_ratio}

        {svy_sections_ratio}

        Examples
        --------
        {svy_example_design}
        >>> des.ratio("exports", "sales", scale=100)[["estimate", "n"]].round(2)
           estimate  n
        0      ...   8
        """
        if not isinstance(y, str) or not isinstance(x, str):
            raise OptionError("svy_ratio takes one numerator column y and one denominator column x.")
        return self._public(y, x, kind="ratio", estimator="svy_ratio", by=by, where=where,
                            scale=scale, ci_method=ci_method, bounds=bounds)

    @fill_doc
    def total(
        self, y: str | Sequence[str], *, by: By = None, where: Where = None,
        ci_method: CiMethodArg | None = None, scale: float = 1.0,
    ) -> pd.DataFrame:
        """Weighted total by domain; see :func:`svy_total`.

        Parameters
        ----------
        y
            Column name or list of column names (NaN = missing).
        {svy_options_total}

        {svy_sections_total}

        Examples
        --------
        {svy_example_design}
        >>> des.total("exporter", by="size_class")[["size_class", "estimate"]]
          size_class  estimate
        0      large      35.0
        1      small       5.0
        """
        return self._public(y, None, kind="total", estimator="svy_total", by=by, where=where,
                            scale=scale, ci_method=ci_method)

    @fill_doc
    def contrast(
        self, y: str, *, between: str, levels: tuple[Any, Any], x: str | None = None,
        kind: ContrastKind = "mean", by: By = None, where: Where = None, scale: float = 1.0,
    ) -> pd.DataFrame:
        """Difference of a mean, proportion, ratio or total between two domains; see :func:`svy_contrast`.

        Parameters
        ----------
        {svy_options_contrast}

        {svy_sections_contrast}

        Examples
        --------
        {svy_example_design}
        >>> d = des.contrast("exporter", between="size_class", levels=("large", "small"))
        >>> d[["level_a", "level_b", "difference", "n_a", "n_b"]].round(2)
          level_a level_b  difference  n_a  n_b
        0   large   small         0.6    4    4
        """
        kind = check_choice("kind", kind, CONTRAST_KINDS)
        if not isinstance(y, str):
            raise OptionError("contrast takes one column y.")
        if (kind == "ratio") != (x is not None):
            raise OptionError("contrast: give x= (the denominator) exactly when kind='ratio'.")
        needed = [y, *([x] if x else []), *as_list(by)]
        missing = [c for c in needed if c not in self.data.columns and c not in self._derived]
        if missing:
            raise MissingColumnsError(f"contrast: data lacks the column(s) {missing}.")
        scope, n_miss, _ = _resolve_where(self.data, where, who="contrast")
        yv = _numeric(self.data, y)
        xv = _numeric(self.data, x) if x is not None else None
        if kind == "proportion":
            bad = ~np.isnan(yv) & (yv != 0) & (yv != 1)
            if bad.any():
                raise InvalidValueError(f"contrast(kind='proportion'): column {y!r} holds values other than 0/1.")
        return self._contrast(
            yv, xv, kind="ratio" if kind == "ratio" else ("total" if kind == "total" else "mean"),
            between=between, levels=levels, by=as_list(by), scope=scope, scale=_check_scale(scale),
            label=y,
        )

    def _contrast(
        self, yv: np.ndarray, xv: np.ndarray | None, *, kind: str, between: Any, levels: Any,
        by: list[str], scope: np.ndarray | None, scale: float, label: str,
    ) -> pd.DataFrame:
        """Difference between two domains with the cross-domain covariance (steps in helpers)."""
        o = self.options
        col, la, lb = _contrast_levels(self._column, between, levels, by)
        in_pair = col.isin([la, lb]).to_numpy()
        pscope = in_pair if scope is None else (in_pair & scope)
        dom_codes, D, labels, _ = _domain_arrays(self._column, len(self.data), [*by, between], pscope, self._cache)
        y2 = yv[:, None]
        x2 = None if xv is None else xv[:, None]
        res = _domain_estimates(
            y2, x2, self._w, self._st_codes, dom_codes, n_domains=D, n_strata=self._H,
            stratum_survey=self._st_survey, kind=kind, domain_mode=o["domain_mode"],
            lonely_psu=o["lonely_psu"], adjust_center=o["adjust_center"],
            stratum_labels=self._st_labels, extras=False,
        )
        est, n_dom, sw = res["estimate"].ravel(), res["n"].ravel(), res["sum_weight"].ravel()
        # groups (by values) and the domain of each level within its group
        lab = labels.reset_index(drop=True)
        is_a = (lab[between] == la).to_numpy()
        if by:
            g_codes, G, g_labels, _ = _domain_arrays(
                lambda c: lab[c], len(lab), by, None, None)
        else:
            g_codes, G, g_labels = np.zeros(D, dtype=np.int64), 1, pd.DataFrame(index=range(1))
        dom_a = np.full(G, -1)
        dom_b = np.full(G, -1)
        dom_a[g_codes[is_a]] = np.flatnonzero(is_a)
        dom_b[g_codes[~is_a]] = np.flatnonzero(~is_a)
        # per-firm linearised scores of each firm's own domain estimate, signed +a / -b
        w = self._w
        z, inside, dc = _contrast_scores(yv, xv, w, dom_codes, est, sw, D=D, kind=kind)
        sign = np.where(is_a[dc], 1.0, -1.0)
        d_over_w = np.where(inside, sign * z / w, np.nan)
        grp = np.where(dom_codes >= 0, np.asarray(g_codes)[dc], -1)
        vres = _domain_estimates(
            d_over_w, None, w, self._st_codes, grp, n_domains=G, n_strata=self._H,
            stratum_survey=self._st_survey, kind="total", domain_mode=o["domain_mode"],
            lonely_psu=o["lonely_psu"], adjust_center=o["adjust_center"],
            stratum_labels=self._st_labels, extras=False,
        )
        have = (dom_a >= 0) & (dom_b >= 0)
        ea = np.where(dom_a >= 0, est[np.maximum(dom_a, 0)], np.nan)
        eb = np.where(dom_b >= 0, est[np.maximum(dom_b, 0)], np.nan)
        na = np.where(dom_a >= 0, n_dom[np.maximum(dom_a, 0)], 0)
        nb = np.where(dom_b >= 0, n_dom[np.maximum(dom_b, 0)], 0)
        diff = ea - eb
        se = np.where(have & (na > 0) & (nb > 0), vres["se"].ravel(), np.nan)
        df = vres["df"].ravel()
        q = _quantile(o["level"], df, o["ci_df"])
        tstat, p = _t_test(diff, se, df, o["ci_df"])
        flags = _flags(
            np.minimum(na, nb), df, np.zeros(G), np.full(G, np.nan), se, min_n=o["min_n"],
            lonely_threshold=1.0, dominant_share=1.0,
        )
        cols: dict[str, Any] = {b: g_labels[b].to_numpy() for b in by} if by else {}
        cols.update(
            variable=label, between=between, level_a=la, level_b=lb,
            estimate_a=ea * scale, estimate_b=eb * scale, difference=diff * scale, se=se * scale,
            ci_low=(diff - q * se) * scale, ci_high=(diff + q * se) * scale, df=df,
            t=tstat, p_value=p, n_a=na, n_b=nb, n_lonely_strata=vres["n_lonely"].ravel(), flags=flags,
        )
        out = pd.DataFrame(cols, index=pd.RangeIndex(G))
        out.attrs["params"] = {
            "estimator": "contrast", "kind": kind, "between": between, "levels": (la, lb), "by": by,
            "scale": scale, **{key: o[key] for key in ("domain_mode", "lonely_psu", "adjust_center",
                                                      "ci_df", "level", "min_n")},
            "variance": "Taylor linearisation of the difference (cross-domain covariance included; "
                        "R svyby(covmat=TRUE) + svycontrast on the design restricted to the two domains)",
        }
        return out

    def estimate(self, indicators: str | Sequence[str], **options: Any) -> pd.DataFrame:
        """Catalogue indicators on this design: :func:`msme_stats.estimate` with the design's conventions.

        Parameters
        ----------
        indicators
            One or many catalogue ids, World Bank codes or aliases (``"TR5"``,
            ``"es_direct_export_intensity"``).
        **options
            The estimation options of :func:`msme_stats.estimate` (``by``, ``where``,
            ``threshold``, ``ci_method``, ...); the design options (``weight``,
            ``lonely_psu``, ...) are the design's and cannot be given again.

        Returns
        -------
        pandas.DataFrame
            One row per indicator and domain, as :func:`msme_stats.estimate`.

        Raises
        ------
        OptionError
            A design option given again (declare it in :func:`svyset`), or an option value
            that is not allowed.
        MsmeStatsError
            Propagated from :func:`msme_stats.estimate` (unknown indicator, missing or
            invalid columns, lonely strata with ``lonely_psu="fail"``).

        Stata/R equivalent
        ------------------
        Stata ``svy: mean``/``svy: ratio``/``svy: proportion`` of the catalogue variable,
        ``over(by)``; R ``svyby(~y, ~by, design, svymean, na.rm=TRUE)`` (``svyratio``,
        ``svyciprop``), one call per indicator.

        Examples
        --------
        >>> import msme_stats as ms
        >>> from msme_stats._paths import data_dir
        >>> firms = ms.load_wbes(data_dir() / "wbes_synthetic" / "BOL_2017_synthetic.dta")
        >>> des = ms.svyset(firms, lonely_psu="centered")
        >>> res = des.estimate("TR5", by="size_class")
        >>> res[["size_class", "n"]]
          size_class   n
        0      small  91
        1     medium  79
        2      large  47
        >>> res.attrs["params"]["lonely_psu"]
        'centered'
        """
        from .indicators import estimate as _est

        # estimate() takes a SurveyDesign as well as a frame; its annotation names the frame only
        return _est(self, indicators, **options)  # type: ignore[arg-type]


@fill_doc
def svyset(
    data: pd.DataFrame,
    *,
    weight: str | None = "weight",
    strata: str | None = "strata",
    survey: str | None = "survey_id",
    firm_id: str | None = None,
    lonely_psu: LonelyPsu | LonelyPsuAlias = "scaled",
    domain_mode: DomainMode = "full_design",
    adjust_center: AdjustCenter = "grand",
    ci_df: CiDf = "design",
    level: float = 0.95,
    min_n: int = 30,
    deff: DeffSrs | DeffAlias = "without_replacement",
    dominant_share: float = 0.5,
    lonely_threshold: float = 0.10,
    _who: str = "svyset",
) -> SurveyDesign:
    """Declare a stratified single-stage survey design once (Stata ``svyset``, R ``svydesign``).

    *Definition*: firms are the PSUs, sampled with replacement within strata (unique per
    survey) with probability weights; no finite-population correction; Taylor-linearised
    variances (module docstring). The returned :class:`SurveyDesign` has ``.mean``,
    ``.proportion``, ``.ratio``, ``.total``, ``.contrast`` and ``.estimate(indicators, by=...)``.

    *Source*: METHODS §2.9; R survey (Lumley 2004); Stata ``[SVY] svyset``.

    Parameters
    ----------
    {svy_data}
    {svy_design}

    Returns
    -------
    SurveyDesign
        The frame with its design arrays and conventions (``.options``).

    Raises
    ------
    MissingColumnsError
        A design column is not in the frame.
    {svy_design_errors}
    InvalidValueError
        ``data`` is not a DataFrame, or a firm id is missing.
    OptionError
        An option value that is not allowed (listing the allowed ones).

    Stata/R equivalent
    ------------------
    Stata ``svyset firm_id [pweight=weight], strata(strata) singleunit(scaled)``; R
    ``svydesign(ids=~1, strata=~interaction(survey_id, strata), weights=~weight)`` with
    ``options(survey.lonely.psu="average")``.

    Examples
    --------
    {svy_example_firms}
    >>> des = ms.svyset(firms, lonely_psu="adjust")
    >>> des
    SurveyDesign(8 firms, 2 strata, 1 survey(s); weight='weight', strata='strata', survey='survey_id', lonely_psu='centered', domain_mode='full_design')
    >>> des.mean("sales")[["estimate", "n"]]
       estimate  n
    0     270.0  8
    """
    opts = _check_options(
        domain_mode, lonely_psu, adjust_center, ci_df, level, min_n, deff, dominant_share,
        lonely_threshold,
    )
    return SurveyDesign(data, weight=weight, strata=strata, survey=survey, firm_id=firm_id, options=opts,
                        who=_who)


class ContrastDesignOptions(TypedDict, total=False):
    """The design keywords of :func:`svy_contrast` (``**design``), passed to :func:`svyset`.

    Each is optional; a key left out takes the :func:`svyset` default.
    """

    weight: str | None
    strata: str | None
    survey: str | None
    firm_id: str | None
    domain_mode: DomainMode
    lonely_psu: LonelyPsu | LonelyPsuAlias
    adjust_center: AdjustCenter
    ci_df: CiDf
    level: float
    min_n: int


class DesignOptions(ContrastDesignOptions, total=False):
    """The design keywords of :func:`svy_mean`, :func:`svy_proportion`, :func:`svy_ratio` and
    :func:`svy_total` (``**design``): those of :class:`ContrastDesignOptions` and the
    diagnostics options of :func:`svyset`."""

    deff: DeffSrs | DeffAlias
    dominant_share: float
    lonely_threshold: float


#: the svyset defaults of the design keywords (the one place they are written is svyset)
_SVYSET_DEFAULTS: dict[str, Any] = {
    name: p.default for name, p in inspect.signature(svyset).parameters.items()
    if p.kind is inspect.Parameter.KEYWORD_ONLY and not name.startswith("_")
}


def _precheck(data: Any, who: str, cols: list[Any], weight: Any, design_cols: list[Any]) -> None:
    """All missing columns at once (y, x, by, where column, weight, strata, survey, firm id)."""
    if not isinstance(data, pd.DataFrame):
        raise InvalidValueError(f"{who}: data must be a pandas DataFrame, got {type(data).__name__}.")
    needed = [c for c in cols if isinstance(c, str)]
    if isinstance(weight, str) and weight not in data.columns and canonical_weight(weight) is None:
        needed.append(weight)
    needed += [c for c in design_cols if isinstance(c, str)]
    missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing:
        raise MissingColumnsError(
            f"{who}: data lacks the column(s) {missing}; available: {list(data.columns)[:30]}. "
            "Pass the right names with y=/x=/by=/weight=/strata=/survey=."
        )


def _check_keywords(design: Mapping[str, Any], options: type, *, who: str) -> None:
    """TypeError for a keyword that is not a key of the TypedDict ``options`` (as Python says it)."""
    for key in design:
        if key not in options.__optional_keys__:  # type: ignore[attr-defined]  # a TypedDict class
            raise TypeError(f"{who}() got an unexpected keyword argument {key!r}")


def _design_of(data: Any, design: Mapping[str, Any], *, who: str, cols: Sequence[Any]) -> SurveyDesign:
    """``svyset(data, **design)`` after checking the keywords and every needed column at once."""
    _check_keywords(design, DesignOptions, who=who)
    opts = {**_SVYSET_DEFAULTS, **design}
    _precheck(data, who, list(cols), opts["weight"], [opts["strata"], opts["survey"], opts["firm_id"]])
    return svyset(data, **design)


@fill_doc
def svy_mean(
    data: pd.DataFrame,
    y: str | Sequence[str],
    *,
    by: By = None,
    where: Where = None,
    ci_method: CiMethodArg | None = None,
    bounds: tuple[float, float] | None = None,
    scale: float = 1.0,
    **design: Unpack[DesignOptions],
) -> pd.DataFrame:
    """Weighted (Hajek) mean with Taylor-linearised SE, by domain.

    *Definition*: y_hat = sum_S w y / sum_S w over S = firms in the domain and scope with
    non-missing y; scores z_i = w_i (y_i - y_hat) / sum_S w (METHODS §2.9).

    *Source*: METHODS §2.9; Stata ``svy: mean``; R ``svymean``/``svyby(..., svymean,
    na.rm=TRUE)``. Checked against R survey to 1e-10 (tests/test_survey.py).

    Parameters
    ----------
    {svy_data}
    y
        Column name, or a list of column names (adds a ``variable`` column). NaN = missing.
    {svy_options_mean}
    {svy_design_forwarded}

    {svy_sections_mean}

    Examples
    --------
    {svy_example_firms}
    >>> ms.svy_mean(firms, "exporter", by="size_class")[["size_class", "estimate", "n", "flags"]]
      size_class  estimate  n      flags
    0      large       0.7  4  few_firms
    1      small       0.1  4  few_firms
    """
    d = _design_of(data, design, who="svy_mean", cols=[*as_list(y), *as_list(by)])
    return d.mean(y, by=by, where=where, ci_method=ci_method, bounds=bounds, scale=scale)


@fill_doc
def svy_proportion(
    data: pd.DataFrame,
    y: str | Sequence[str],
    *,
    ci_method: CiMethodArg = "logit",
    by: By = None,
    where: Where = None,
    scale: float = 1.0,
    **design: Unpack[DesignOptions],
) -> pd.DataFrame:
    """Weighted proportion of a 0/1 variable with Taylor-linearised SE and CI, by domain.

    *Definition*: p_hat = sum_S w y / sum_S w with y in {0, 1}; the SE is that of the mean.
    CI by ``ci_method``: ``"logit"`` (default, as Stata ``svy: proportion`` and R
    ``svyciprop(method="logit")``), ``"wald"`` (p +/- q se) or ``"korn_graubard"`` (R
    ``svyciprop(method="beta")``; alias ``"beta"``); see the module docstring for the formulas
    and the n/df used.

    *Source*: METHODS §2.9; Korn & Graubard (1998), Survey Methodology 24(2); R survey
    ``svyciprop``.

    Parameters
    ----------
    {svy_data}
    y
        0/1 or boolean column (NaN = missing), or a list of them.
    {svy_options_proportion}
    {svy_design_forwarded}

    {svy_sections_proportion}

    Examples
    --------
    {svy_example_firms}
    >>> p = ms.svy_proportion(firms, "exporter", scale=100, ci_method="korn_graubard")
    >>> float(p["estimate"].iloc[0]), bool(p["ci_low"].iloc[0] < 40 < p["ci_high"].iloc[0])
    (40.0, True)
    """
    d = _design_of(data, design, who="svy_proportion", cols=[*as_list(y), *as_list(by)])
    return d.proportion(y, by=by, where=where, ci_method=ci_method, scale=scale)


@fill_doc
def svy_ratio(
    data: pd.DataFrame,
    y: str,
    x: str,
    *,
    by: By = None,
    where: Where = None,
    ci_method: CiMethodArg | None = None,
    bounds: tuple[float, float] | None = None,
    scale: float = 1.0,
    **design: Unpack[DesignOptions],
) -> pd.DataFrame:
    """Ratio of weighted totals with Taylor-linearised SE, by domain.

    *Definition*: R_hat = sum_S w y / sum_S w x over firms with both y and x non-missing;
    scores z_i = w_i (y_i - R_hat x_i) / sum_S w x. NaN when sum_S w x = 0.

    *Source*: METHODS §2.6 (``es_export_sales_ratio``) and §2.9; Stata ``svy: ratio``; R
    ``svyratio``/``svyby(..., svyratio, na.rm=TRUE)``.

    Parameters
    ----------
    {svy_data}
    y, x
        Numerator and denominator columns (NaN = missing).
    {svy_options_ratio}
    {svy_design_forwarded}

    {svy_sections_ratio}

    Examples
    --------
    {svy_example_firms}
    >>> r = ms.svy_ratio(firms, "exports", "sales", by="size_class", scale=100)
    >>> r[["size_class", "estimate"]].round(2)
      size_class  estimate
    0      large     ...
    1      small     ...
    """
    d = _design_of(data, design, who="svy_ratio", cols=[y, x, *as_list(by)])
    return d.ratio(y, x, by=by, where=where, ci_method=ci_method, bounds=bounds, scale=scale)


@fill_doc
def svy_total(
    data: pd.DataFrame,
    y: str | Sequence[str],
    *,
    by: By = None,
    where: Where = None,
    ci_method: CiMethodArg | None = None,
    scale: float = 1.0,
    **design: Unpack[DesignOptions],
) -> pd.DataFrame:
    """Weighted total with Taylor-linearised SE, by domain.

    *Definition*: T_hat = sum_S w y; scores z_i = w_i y_i. NaN when no firm is used.

    *Source*: METHODS §2.9; Stata ``svy: total``; R ``svytotal``/``svyby(..., svytotal,
    na.rm=TRUE)``.

    Parameters
    ----------
    {svy_data}
    y
        Column name or list of column names (NaN = missing).
    {svy_options_total}
    {svy_design_forwarded}

    {svy_sections_total}

    Examples
    --------
    {svy_example_firms}
    >>> ms.svy_total(firms, "exporter", where="size_class == 'large'")[["estimate", "n"]]
       estimate  n
    0      35.0  4
    """
    d = _design_of(data, design, who="svy_total", cols=[*as_list(y), *as_list(by)])
    return d.total(y, by=by, where=where, ci_method=ci_method, scale=scale)


@fill_doc
def svy_contrast(
    data: pd.DataFrame,
    y: str,
    *,
    between: str,
    levels: tuple[Any, Any],
    kind: ContrastKind = "mean",
    x: str | None = None,
    by: By = None,
    where: Where = None,
    scale: float = 1.0,
    **design: Unpack[ContrastDesignOptions],
) -> pd.DataFrame:
    """Difference of a domain statistic between two levels of a column, with design-based SE.

    *Definition*: theta_a - theta_b with theta the mean, proportion, ratio (``x``) or total of
    ``y`` in the domains ``between == levels[0]`` and ``between == levels[1]`` (within each
    ``by`` group). Var = Var(theta_a) + Var(theta_b) - 2 Cov(theta_a, theta_b), computed in one
    step as the Taylor variance of the total of the signed scores z_a - z_b over the union of
    the two domains (so strata shared by the two domains give the cross-domain covariance).
    The CI is theta_a - theta_b +/- q se (t with the df rule of the module docstring, or
    normal with ``ci_df="normal"``); ``p_value`` is the two-sided test of no difference.

    With ``lonely_psu="scaled"`` the single-firm-strata scaling counts the strata of the
    union of the two domains, which is what R gives on the design restricted to them
    (``svyby(~y, ~between, subset(des, between %in% levels), svymean, covmat=TRUE)`` then
    ``svycontrast(b, c(1, -1))``); R's ``svyby(covmat=TRUE)`` on the unrestricted design
    scales the whole covariance matrix by the strata of the full design, which gives a
    diagonal that differs from its own reported SEs. The other rules need no choice.

    *Source*: Stata ``svy: mean y, over(g)`` + ``lincom``; R ``svyby(..., covmat=TRUE)`` +
    ``svycontrast``. Checked against R to 1e-10 (tests/goldens/contrast_goldens.csv).

    Parameters
    ----------
    {svy_data}
    {svy_options_contrast}
    {svy_contrast_forwarded}

    {svy_sections_contrast}

    Examples
    --------
    {svy_example_firms}
    >>> d = ms.svy_contrast(firms, "exports", x="sales", kind="ratio", between="size_class",
    ...                     levels=("large", "small"), scale=100)
    >>> d[["level_a", "level_b", "n_a", "n_b"]]
      level_a level_b  n_a  n_b
    0   large   small    4    4
    """
    _check_keywords(design, ContrastDesignOptions, who="svy_contrast")
    d = svyset(data, **design)
    return d.contrast(y, between=between, levels=levels, x=x, kind=kind, by=by, where=where, scale=scale)
