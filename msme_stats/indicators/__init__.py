"""The indicator catalogue and :func:`estimate`.

The catalogue is data (``reference/indicators.csv`` for Enterprise Surveys,
``reference/tec_indicators.csv`` for TEC tables); the firm-level definition of each
Enterprise Surveys indicator is a small documented function in
:mod:`msme_stats.indicators.es`; the statistics are :mod:`msme_stats.survey`.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Sequence
from functools import cache

import numpy as np
import pandas as pd

from .._options import as_list, check_choice
from ..classify import sme_group
from ..errors import ExclusionWarning, MissingColumnsError, OptionError, UnknownIndicatorError
from ..reference import reference_path
from .es import DERIVATIONS, Conventions

logger = logging.getLogger(__name__)

CATALOGUE_FILES = ("indicators.csv", "tec_indicators.csv")
CATALOGUE_COLUMNS = [
    "id", "family", "name", "definition", "unit", "estimator", "variables", "scope",
    "wb_code", "aliases", "source", "wtr_ref",
]
#: columns of the table returned by :func:`estimate`, after ``indicator`` and the ``by`` columns
ESTIMATE_COLUMNS = [
    "estimate", "se", "ci_low", "ci_high", "df", "n", "sum_weight", "n_lonely_strata", "flags", "unit",
]
_SIZE_COLUMNS = ("size_class", "size_class_l1", "sme_group")


@cache
def _catalogue() -> pd.DataFrame:
    frames = []
    for name in CATALOGUE_FILES:
        path = reference_path(name)
        if path.exists():
            frames.append(pd.read_csv(path, keep_default_na=False, dtype=str))
    frames.append(_edd_catalogue())
    cat = pd.concat(frames, ignore_index=True).fillna("")
    for c in CATALOGUE_COLUMNS:
        if c not in cat.columns:
            cat[c] = ""
    return cat[CATALOGUE_COLUMNS + [c for c in cat.columns if c not in CATALOGUE_COLUMNS]]


def _edd_catalogue() -> pd.DataFrame:
    """The 98 Exporter Dynamics series (``reference/edd_codes.csv``) in the catalogue's columns."""
    edd = pd.read_csv(reference_path("edd_codes.csv"), keep_default_na=False, dtype=str)
    return pd.DataFrame({
        "id": edd["id"], "family": "edd", "name": edd["name"],
        "definition": "EDD series " + edd["code"] + "; formulas and conventions in msme_stats.exporter_dynamics",
        "unit": "", "estimator": "exporter_dynamics", "variables": "trader|period|product|partner|value",
        "scope": "all", "wb_code": edd["code"], "aliases": "EDD." + edd["api_number"],
        "source": edd["source"], "wtr_ref": "",
    })


def list_indicators(family: str | None = None) -> pd.DataFrame:
    """The indicator registry as a DataFrame.

    Parameters
    ----------
    family
        ``"es"`` (Enterprise Surveys), ``"tec"`` (Trade by Enterprise Characteristics),
        ``"edd"`` (Exporter Dynamics Database series, computed by
        :func:`msme_stats.exporter_dynamics`) or ``None`` for all.

    Returns
    -------
    pandas.DataFrame
        One row per indicator: ``id``, ``family``, ``name``, ``definition``, ``unit``,
        ``estimator`` (mean, proportion, ratio, share_of_total, ...), ``variables`` (the
        canonical columns it needs, ``|``-separated), ``scope`` (``all`` or
        ``manufacturing``), ``wb_code`` (World Bank code where one exists), ``aliases``,
        ``source`` and ``wtr_ref`` (World Trade Report key fact or figure). For EDD series
        ``wb_code`` holds the EDD code (``A1`` ... ``E6``) and ``aliases`` the API number.
    """
    cat = _catalogue().copy()
    if family is not None:
        cat = cat[cat["family"] == family].reset_index(drop=True)
    return cat


def resolve_indicator(name: str) -> str:
    """Return the catalogue id for an id, a World Bank code (``"IC.FRM.TRD.TR5"``) or an alias (``"TR5"``)."""
    cat = _catalogue()
    key = str(name).strip()
    if key in set(cat["id"]):
        return key
    low = key.lower()
    for row in cat.itertuples(index=False):
        names = [row.wb_code, *row.aliases.split("|")]
        if any(n and n.lower() == low for n in names):
            return row.id
    raise UnknownIndicatorError(
        f"Unknown indicator {name!r}. Use an id from msme_stats.list_indicators() "
        f"(e.g. {', '.join(cat['id'].head(4))}) or a World Bank code such as 'IC.FRM.TRD.TR5'."
    )


def _working_frame(firms: pd.DataFrame, by: list[str], needed: Iterable[str]) -> pd.DataFrame:
    cols = {}
    for c in dict.fromkeys([*by, *needed]):
        if c == "sme_group" and "sme_group" not in firms.columns:
            if "size_class" not in firms.columns:
                raise MissingColumnsError("by='sme_group' needs a size_class column in the firm frame.")
            cols[c] = sme_group(firms["size_class"])
        elif c in firms.columns:
            cols[c] = firms[c]
        else:
            raise MissingColumnsError(
                f"Column {c!r} is not in the firm frame (available: {list(firms.columns)[:20]}...). "
                "'sme_group' is derived from size_class on the fly; other groupings must be columns."
            )
    return pd.DataFrame(cols, index=firms.index)


def estimate(
    firms: pd.DataFrame,
    indicators: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = ("survey_id",),
    where: pd.Series | None = None,
    threshold: float = 10.0,
    partial_missing: str = "strict",
    manufacturing_only: bool = True,
    share_over: str | None = None,
    weight: str = "weight",
    strata: str = "strata",
    survey: str = "survey_id",
    domain_mode: str = "full_design",
    lonely_psu: str = "scaled",
    adjust_center: str = "grand",
    ci_method: str = "wald",
    ci_df: str = "design",
    level: float = 0.95,
    min_n: int = 30,
) -> pd.DataFrame:
    """Estimate Enterprise Surveys indicators with design-based standard errors.

    Parameters
    ----------
    firms
        Canonical firm frame from :func:`msme_stats.load_wbes` (one row per firm of the
        full design: keep every firm, restrict with ``by``/``where``).
    indicators
        One or many catalogue ids, World Bank codes or aliases
        (``"es_direct_export_intensity"``, ``"IC.FRM.TRD.TR5"``, ``"TR5"``).
    by
        Grouping columns, e.g. ``["survey_id", "size_class", "sector"]``. ``"sme_group"``
        (SME = small + medium vs large) is derived from ``size_class`` when asked for.
        Domains are estimated on the full design (R ``svyby``, Stata ``subpop()``).
    where
        Optional boolean mask: a subpopulation (e.g. ``firms.sector == "manufacturing"``),
        kept in the design with zero scores outside (Stata ``subpop()``).
    threshold
        Exporter threshold in % of sales for TR16/TR17 and trader types (default 10).
    partial_missing
        ``"strict"`` or ``"known_component"`` (see :class:`~msme_stats.indicators.es.Conventions`).
    manufacturing_only
        Restrict indicators whose catalogue scope is ``manufacturing`` (TR8, TR11, trader
        types) to manufacturing firms (default True; METHODS 2.5). False uses all firms.
    share_over
        For ``share_of_total`` indicators (size-class shares of exports or employment): the
        size column whose classes share the total. Default: the size column in ``by``, else
        ``sme_group``.
    weight, strata, survey
        Design columns. ``survey`` makes degrees of freedom per survey when pooled.
    domain_mode, lonely_psu, adjust_center, ci_method, ci_df, level, min_n
        Survey conventions, passed to :mod:`msme_stats.survey` (see :func:`~msme_stats.survey.svy_mean`):
        ``lonely_psu="scaled"`` is Stata ``singleunit(scaled)`` = R
        ``options(survey.lonely.psu="average")``; ``domain_mode="full_design"`` is R
        ``svyby(..., na.rm=TRUE)`` = Stata ``subpop()``. ``ci_method`` applies to
        proportions.

    Returns
    -------
    pandas.DataFrame
        Long table: ``indicator``, the ``by`` columns (plus the share column for
        share-of-total indicators), then ``estimate``, ``se``, ``ci_low``, ``ci_high``,
        ``df``, ``n`` (firms used), ``sum_weight``, ``n_lonely_strata``, ``flags`` and
        ``unit``. Shares are in percent. ``.attrs["params"]`` records every convention.
    """
    from .. import survey as svy

    ids = [resolve_indicator(i) for i in as_list(indicators)]
    if not ids:
        raise OptionError("indicators is empty; give at least one indicator id.")
    partial_missing = check_choice("partial_missing", partial_missing, ("strict", "known_component"))
    bylist = as_list(by)
    conv = Conventions(threshold=float(threshold), partial_missing=partial_missing)
    cat = _catalogue().set_index("id")
    base = _working_frame(firms, bylist, [weight, strata] + ([survey] if survey else []))
    if "sector" in firms.columns:
        manuf = (firms["sector"].astype(object) == "manufacturing").to_numpy()
    else:
        manuf = None
    user_where = None
    if where is not None:
        user_where = np.asarray(pd.Series(where, index=firms.index).fillna(False), dtype=bool)
    common = dict(
        weight=weight, strata=strata, survey=survey, domain_mode=domain_mode, lonely_psu=lonely_psu,
        adjust_center=adjust_center, ci_df=ci_df, level=level, min_n=min_n,
    )
    out = []
    for ind in ids:
        meta = cat.loc[ind]
        if meta["family"] != "es" or ind not in DERIVATIONS:
            raise UnknownIndicatorError(
                f"{ind!r} is a {meta['family']!r} indicator; estimate() computes Enterprise Surveys "
                "indicators. Use msme_stats.tec_indicators for TEC tables and "
                "msme_stats.exporter_dynamics for EDD series."
            )
        fv = DERIVATIONS[ind](firms, conv)
        mask = user_where
        if meta["scope"] == "manufacturing" and manufacturing_only:
            if manuf is None:
                raise MissingColumnsError(f"{ind} is computed on manufacturing firms only and needs a 'sector' column.")
            mask = manuf if mask is None else (mask & manuf)
        est = meta["estimator"]
        work = base.copy()
        work["__y"] = fv.y.to_numpy()
        wmask = None if mask is None else pd.Series(mask, index=work.index)
        if est == "share_of_total":
            res = _share_of_total(firms, work, fv, bylist, share_over, wmask, common, svy)
        elif est == "ratio":
            work["__x"] = fv.x.to_numpy()
            res = svy.svy_ratio(work, "__y", "__x", by=bylist or None, where=wmask, scale=100.0, **common)
        elif est == "proportion":
            res = svy.svy_proportion(
                work, "__y", by=bylist or None, where=wmask, scale=100.0, ci_method=ci_method, **common
            )
        else:
            res = svy.svy_mean(work, "__y", by=bylist or None, where=wmask, scale=1.0, **common)
        res.insert(0, "indicator", ind)
        res["unit"] = meta["unit"]
        out.append(res)
    table = pd.concat(out, ignore_index=True)
    lead = ["indicator", *[c for c in table.columns if c not in ESTIMATE_COLUMNS and c != "indicator"]]
    table = table[lead + [c for c in ESTIMATE_COLUMNS if c in table.columns]]
    table.attrs["params"] = {
        "indicators": ids, "by": bylist, "threshold": threshold, "partial_missing": partial_missing,
        "manufacturing_only": manufacturing_only, "weight": weight, "weight_var": firms.attrs.get("weight_var"),
        "size_scheme": firms.attrs.get("size_scheme"), "domain_mode": domain_mode, "lonely_psu": lonely_psu,
        "adjust_center": adjust_center, "ci_method": ci_method, "ci_df": ci_df, "level": level, "min_n": min_n,
    }
    return table


def _share_of_total(firms, work, fv, bylist, share_over, wmask, common, svy) -> pd.DataFrame:
    col = share_over or next((c for c in bylist if c in _SIZE_COLUMNS), "sme_group")
    classes = _working_frame(firms, [col], [])[col]
    rest = [c for c in bylist if c != col]
    n_unclassified = int(classes.isna().sum())
    if n_unclassified:
        warnings.warn(
            f"{n_unclassified} firm(s) have no {col}; they count in the total but in no class.",
            ExclusionWarning, stacklevel=3,
        )
    work = work.copy()
    work["__x"] = fv.x.to_numpy()
    cats = list(classes.cat.categories) if isinstance(classes.dtype, pd.CategoricalDtype) else sorted(classes.dropna().unique())
    parts = []
    for c in cats:
        if not (classes == c).any():
            continue
        work["__y"] = np.where(classes.to_numpy() == c, fv.y.to_numpy(), np.where(np.isnan(fv.y.to_numpy()), np.nan, 0.0))
        r = svy.svy_ratio(work, "__y", "__x", by=rest or None, where=wmask, scale=100.0, **common)
        r.insert(len(rest), col, c)
        parts.append(r)
    res = pd.concat(parts, ignore_index=True)
    if isinstance(classes.dtype, pd.CategoricalDtype):
        res[col] = pd.Categorical(res[col], categories=classes.cat.categories, ordered=classes.cat.ordered)
    return res
