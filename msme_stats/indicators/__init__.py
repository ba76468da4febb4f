"""The indicator catalogue and :func:`estimate`.

The catalogue is data (``reference/indicators.csv`` for Enterprise Surveys,
``reference/tec_indicators.csv`` for TEC tables); the firm-level definition of each
Enterprise Surveys indicator is a small documented function in
:mod:`msme_stats.indicators.es`; the statistics are :mod:`msme_stats.survey`.
"""

from __future__ import annotations

import csv
import logging
import warnings
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import numpy as np
import pandas as pd

from .._docs import fill_doc
from .._options import (
    AdjustCenter,
    CiDf,
    CiMethod,
    CiMethodAlias,
    DeffAlias,
    DeffSrs,
    DomainMode,
    IndicatorFamily,
    LonelyPsu,
    LonelyPsuAlias,
    PartialMissing,
    as_list,
    check_choice,
    check_number,
    choices,
)
from ..classify import sme_group
from ..errors import (
    ExclusionWarning,
    InvalidValueError,
    MissingColumnsError,
    OptionError,
    UnknownIndicatorError,
)
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
    "estimate", "se", "ci_low", "ci_high", "df", "n", "sum_weight", "cv", "deff", "n_lonely_strata",
    "lonely_share", "top_firm_share", "flags", "unit",
]
_SIZE_COLUMNS = ("size_class", "size_class_l1", "sme_group")


@cache
def _catalogue() -> pd.DataFrame:
    frames = []
    for name in CATALOGUE_FILES:
        path = reference_path(name)
        if path.exists():
            frames.append(_read_text_csv(path))
    frames.append(_edd_catalogue())
    cat = pd.concat(frames, ignore_index=True).fillna("")
    for c in CATALOGUE_COLUMNS:
        if c not in cat.columns:
            cat[c] = ""
    return cat[CATALOGUE_COLUMNS + [c for c in cat.columns if c not in CATALOGUE_COLUMNS]]


def _read_text_csv(path) -> pd.DataFrame:
    """A small reference CSV as text columns ('' for empty), with the csv module (no parser start-up)."""
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    header, body = rows[0], rows[1:]
    return pd.DataFrame({h: [r[i] if i < len(r) else "" for r in body] for i, h in enumerate(header)}, dtype=object)


def _edd_catalogue() -> pd.DataFrame:
    """The 98 Exporter Dynamics series (``reference/edd_codes.csv``) in the catalogue's columns."""
    edd = _read_text_csv(reference_path("edd_codes.csv"))
    return pd.DataFrame({
        "id": edd["id"], "family": "edd", "name": edd["name"],
        "definition": "EDD series " + edd["code"] + "; formulas and conventions in msme_stats.exporter_dynamics",
        "unit": "", "estimator": "exporter_dynamics", "variables": "trader|period|product|partner|value",
        "scope": "all", "wb_code": edd["code"], "aliases": "EDD." + edd["api_number"],
        "source": edd["source"], "wtr_ref": "",
    })


def list_indicators(family: IndicatorFamily | None = None) -> pd.DataFrame:
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

    Raises
    ------
    OptionError
        ``family`` is not ``"es"``, ``"tec"``, ``"edd"`` or None.

    Examples
    --------
    >>> es = list_indicators("es")
    >>> len(es), len(list_indicators("edd"))
    (21, 98)
    >>> es.set_index("id").loc["es_direct_exporter_share_10", ["wb_code", "unit", "estimator"]].tolist()
    ['IC.FRM.TRD.TR16', '% of firms', 'proportion']
    """
    cat = _catalogue().copy()
    if family is not None:
        family = check_choice("family", family, choices(IndicatorFamily))
        cat = cat[cat["family"] == family].reset_index(drop=True)
    return cat


def resolve_indicator(name: str) -> str:
    """Return the catalogue id for an id, a World Bank code (``"IC.FRM.TRD.TR5"``) or an alias (``"TR5"``).

    Parameters
    ----------
    name
        A catalogue id, a World Bank code or an alias (codes and aliases are matched without
        regard to case; surrounding spaces are ignored).

    Returns
    -------
    str
        The catalogue id (column ``id`` of :func:`list_indicators`).

    Raises
    ------
    UnknownIndicatorError
        ``name`` is none of these; the message lists example ids.

    Examples
    --------
    >>> resolve_indicator("TR5")
    'es_direct_export_intensity'
    >>> resolve_indicator("ic.frm.trd.tr16")
    'es_direct_exporter_share_10'
    """
    key = str(name).strip()
    ids, names = _lookup()
    if key in ids:
        return key
    hit = names.get(key.lower())
    if hit is not None:
        return hit
    cat = _catalogue()
    raise UnknownIndicatorError(
        f"Unknown indicator {name!r}. Use an id from msme_stats.list_indicators() "
        f"(e.g. {', '.join(cat['id'].head(4))}) or a World Bank code such as 'IC.FRM.TRD.TR5'."
    )


@cache
def _lookup() -> tuple[frozenset, dict[str, str]]:
    """Catalogue ids, and lower-cased World Bank codes and aliases -> id (first entry wins)."""
    cat = _catalogue()
    names: dict[str, str] = {}
    for i, code, aliases in zip(cat["id"], cat["wb_code"], cat["aliases"], strict=True):
        for n in [code, *str(aliases).split("|")]:
            if n:
                names.setdefault(n.lower(), i)
    return frozenset(cat["id"]), names


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


class _Unset:
    """Marker of an option left at its default (so a SurveyDesign's conventions can win)."""

    def __repr__(self) -> str:
        return "<default>"


_UNSET: Any = _Unset()
#: defaults of the design options of :func:`estimate` (the svyset defaults)
_DESIGN_DEFAULTS = {
    "weight": "weight", "strata": "strata", "survey": "survey_id", "domain_mode": "full_design",
    "lonely_psu": "scaled", "adjust_center": "grand", "ci_df": "design", "level": 0.95, "min_n": 30,
    "deff": "without_replacement", "dominant_share": 0.5, "lonely_threshold": 0.10,
}
#: WBES "not a value" codes (-9 don't know, -8 refused, -7 does not apply, ...)
_WBES_NEGATIVE_CODES = "-9 don't know, -8 refused, -7 does not apply, -6/-5/-4 other non-answers"
#: ci_method accepted per catalogue estimator (first = default); "bounded" = unit in %
_CI_BY_ESTIMATOR = {
    "proportion": ("logit", "wald", "korn_graubard"),
    "mean_bounded": ("logit", "wald"),
    "mean": ("wald",),
    "ratio_bounded": ("logit", "wald"),
    "ratio": ("wald",),
    "share_of_total_bounded": ("logit", "wald"),
    "share_of_total": ("wald",),
}


def result_unit(catalogue_unit: str) -> str:
    """The ``unit`` column of results: ``"%"`` for percentages (0-100), ``"share"`` for 0-1
    fractions, else the catalogue unit (``"days"``). One convention for ES, TEC and EDD.

    Parameters
    ----------
    catalogue_unit
        The ``unit`` text of a catalogue row (``"% of sales"``, ``"percent"``, ``"days"``, ...).

    Returns
    -------
    str
        ``"%"``, ``"share"`` or the catalogue unit stripped of surrounding spaces.

    Raises
    ------
    None
        Any value is turned into text; nothing is raised.

    Examples
    --------
    >>> result_unit("% of sales"), result_unit("share of firms"), result_unit("days")
    ('%', 'share', 'days')
    """
    u = str(catalogue_unit).strip()
    low = u.lower()
    if low.startswith("%") or low.startswith("percent") or low in ("pct", "per cent"):
        return "%"
    if low.startswith("share") or low == "fraction":
        return "share"
    return u


def _design_for(firms: Any, design_opts: dict[str, Any], *, who: str):
    """The SurveyDesign of an estimate call: the one given, or svyset on the frame."""
    from ..survey import SurveyDesign, svyset

    given = {k: v for k, v in design_opts.items() if v is not _UNSET}
    if isinstance(firms, SurveyDesign):
        if given:
            raise OptionError(
                f"{who}: the design options {sorted(given)} cannot be changed on a declared design; "
                "declare them in msme_stats.svyset(...) (the design's conventions are used)."
            )
        return firms
    if not isinstance(firms, pd.DataFrame):
        raise InvalidValueError(
            f"{who}: firms must be a pandas DataFrame (msme_stats.load_wbes) or a SurveyDesign "
            f"(msme_stats.svyset), got {type(firms).__name__}."
        )
    opts = {**_DESIGN_DEFAULTS, **given}
    survey = opts["survey"]
    firm_id = "firm_id" if "firm_id" in firms.columns else None
    needed = [c for c in (opts["strata"], survey) if c is not None]
    missing = [c for c in needed if c not in firms.columns]
    if missing:
        raise MissingColumnsError(
            f"{who}: the firm frame lacks the design column(s) {missing}; load it with "
            "msme_stats.load_wbes or pass strata=/survey= naming your columns."
        )
    return svyset(firms, firm_id=firm_id, _who=who, **opts)


def _numeric_columns(frame: pd.DataFrame, cols: Iterable[str], *, who: str) -> pd.DataFrame:
    """Check the indicator variables: numbers (text such as '12%' raises, naming the cell) and
    no raw negative WBES codes. Returns the frame, with numeric text converted (a new frame)."""
    conv: dict[str, pd.Series] = {}
    for c in cols:
        if c not in frame.columns:
            continue
        s = frame[c]
        dt = s.dtype
        if pd.api.types.is_bool_dtype(dt) or isinstance(dt, pd.CategoricalDtype):
            continue
        if not pd.api.types.is_numeric_dtype(dt):
            num = pd.to_numeric(s.astype(object), errors="coerce")
            badm = num.isna().to_numpy() & s.notna().to_numpy()
            if badm.any():
                i = int(np.flatnonzero(badm)[0])
                raise InvalidValueError(
                    f"{who}: column {c!r} holds text that is not a number: row {s.index[i]!r} is "
                    f"{s.iloc[i]!r} ({int(badm.sum())} such cell(s)). Write numbers only (12, not "
                    "'12%'; NaN = missing), or load the file with msme_stats.load_wbes."
                )
            s = num.astype(float)
            conv[c] = s
        vals = s.to_numpy(dtype=float, na_value=np.nan) if not isinstance(s.dtype, np.dtype) else s.to_numpy()
        if vals.size and np.nanmin(vals, initial=0.0) < 0:
            neg = vals[vals < 0]
            uniq, cnt = np.unique(neg, return_counts=True)
            shown = ", ".join(f"{u:g}: {k}" for u, k in list(zip(uniq, cnt, strict=True))[:6])
            raise InvalidValueError(
                f"{who}: column {c!r} holds {neg.size} negative value(s) ({shown}); these look like raw "
                f"WBES codes ({_WBES_NEGATIVE_CODES}), which are not values. Load the file with "
                "msme_stats.load_wbes (it sets them to missing and reports the counts) or set them "
                "to NaN yourself before estimating."
            )
    return frame.assign(**conv) if conv else frame


def _manufacturing_mask(frame: pd.DataFrame) -> np.ndarray | None:
    """sector == 'manufacturing' without an object-array comparison when sector is categorical."""
    if "sector" not in frame.columns:
        return None
    s = frame["sector"]
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        if "manufacturing" not in cats:
            return np.zeros(len(s), dtype=bool)
        return s.cat.codes.to_numpy() == cats.get_loc("manufacturing")
    return (s == "manufacturing").to_numpy(dtype=bool, na_value=False)


def _ci_for(ind: str, estimator: str, unit: str, ci_method: Any) -> tuple[str, bool]:
    from ..survey import CI_METHOD_ALIASES, CI_METHODS

    bounded = result_unit(unit) == "%"
    key = estimator + ("_bounded" if bounded and estimator != "proportion" else "")
    allowed = _CI_BY_ESTIMATOR.get(key, ("wald",))
    if ci_method is None:
        return allowed[0], bounded
    canon = check_choice("ci_method", ci_method, CI_METHODS, aliases=CI_METHOD_ALIASES)
    if canon not in allowed:
        raise OptionError(
            f"ci_method={ci_method!r} does not apply to {ind} (a {estimator}"
            + (" of a percentage" if bounded and estimator != "proportion" else "")
            + f"); allowed: {', '.join(map(repr, allowed))}. Leave ci_method=None for each "
            "indicator's default (logit for proportions and percentages, Wald otherwise)."
        )
    return canon, bounded


@fill_doc
def estimate(
    firms: pd.DataFrame,
    indicators: str | Sequence[str],
    *,
    by: str | Sequence[str] | None = ("survey_id",),
    where: pd.Series | str | None = None,
    threshold: float = 10.0,
    partial_missing: PartialMissing = "strict",
    manufacturing_only: bool = True,
    share_over: str | None = None,
    ci_method: CiMethod | CiMethodAlias | None = None,
    weight: str = _UNSET, strata: str = _UNSET, survey: str = _UNSET,
    domain_mode: DomainMode = _UNSET, lonely_psu: LonelyPsu | LonelyPsuAlias = _UNSET,
    adjust_center: AdjustCenter = _UNSET, ci_df: CiDf = _UNSET,
    level: float = _UNSET, min_n: int = _UNSET, deff: DeffSrs | DeffAlias = _UNSET,
    dominant_share: float = _UNSET, lonely_threshold: float = _UNSET,
) -> pd.DataFrame:
    """Estimate Enterprise Surveys indicators with design-based standard errors.

    Parameters
    ----------
    {firms}
    indicators
        One or many catalogue ids, World Bank codes or aliases
        (``"es_direct_export_intensity"``, ``"IC.FRM.TRD.TR5"``, ``"TR5"``).
    {by_domains}
    {where}
    {threshold}
    {partial_missing}
    {manufacturing_only}
    share_over
        For ``share_of_total`` indicators (size-class shares of exports or employment): the
        size column whose classes share the total. Default: the size column in ``by``, else
        ``sme_group``.
    ci_method
        ``None`` (default): each indicator's default interval, ``"logit"`` for proportions
        (Stata ``svy: proportion``, R ``svyciprop``) and for every indicator in % (means of
        percentages, ratios and shares: the logit interval of estimate/100 with the
        delta-method SE, so the interval stays inside [0, 100]), ``"wald"`` otherwise (days).
        ``"wald"`` applies to all; ``"korn_graubard"`` to proportions only. A method that does
        not apply to one of the indicators raises OptionError.
    weight, strata, survey, domain_mode, lonely_psu, adjust_center, ci_df, level, min_n, deff, dominant_share, lonely_threshold
        {design_options}

    Returns
    -------
    pandas.DataFrame
        Long table: ``indicator``, the ``by`` columns (plus the share column for
        share-of-total indicators), then ``estimate``, ``se``, ``ci_low``, ``ci_high``,
        ``df``, ``n`` (firms used), ``sum_weight``, ``cv``, ``deff``, ``n_lonely_strata``,
        ``lonely_share``, ``top_firm_share``, ``flags`` and ``unit`` (``"%"`` for
        percentages, as TEC and EDD results; ``"days"``). ``.attrs["params"]`` records every
        convention.

    Raises
    ------
    UnknownIndicatorError
        An indicator is not in the catalogue, or is not an Enterprise Surveys indicator.
    OptionError
        An option value is not allowed (``ci_method`` that does not apply to an indicator,
        ``threshold`` outside (0, 100], empty ``indicators``, design options given with a
        declared design).
    MissingColumnsError
        A ``by`` column, a design column or an indicator's variable is missing.
    InvalidValueError
        Text or raw negative WBES codes in a variable, percentages outside [0, 100], a
        ``by`` column missing for every firm, an empty scope; ``firms`` is neither a frame
        nor a design.
    DuplicateIdError, InvalidWeightError, DesignError
        Propagated from :func:`msme_stats.svyset` (repeated firm ids, invalid weights, a
        design that cannot be estimated).

    Stata/R equivalent
    ------------------
    Stata ``svyset idstd [pw=wmedian], strata(strata) singleunit(scaled)`` then
    ``svy: mean d3c, over(size)`` (``svy: proportion`` for 0/1 indicators, ``svy: ratio``
    for ratios of totals); R ``svyby(~d3c, ~size, svydesign(ids=~1, strata=~strata,
    weights=~wmedian, data=d), svymean, na.rm=TRUE)`` (``svyciprop`` for the logit interval
    of a proportion, ``svyratio`` for ratios).

    Examples
    --------
    A synthetic WBES survey bundled with the package (``data/wbes_synthetic``):

    >>> import warnings
    >>> import msme_stats as ms
    >>> from msme_stats._paths import data_dir
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # load_wbes reports its recodes of missing codes
    ...     firms = ms.load_wbes(data_dir() / "wbes_synthetic" / "KEN_2013_synthetic.dta")
    >>> res = estimate(firms, ["TR5", "TR16"], by=["survey_id", "sme_group"])
    >>> res[["indicator", "sme_group", "estimate", "se", "ci_low", "ci_high", "n"]].round(1)
                         indicator sme_group  estimate   se  ci_low  ci_high    n
    0   es_direct_export_intensity       SME      10.3  1.3     8.0     13.2  311
    1   es_direct_export_intensity     large      19.6  2.7    14.9     25.3  101
    2  es_direct_exporter_share_10       SME      26.0  3.1    20.5     32.5  311
    3  es_direct_exporter_share_10     large      54.8  6.6    41.9     67.1  101
    """
    design_opts = dict(weight=weight, strata=strata, survey=survey, domain_mode=domain_mode,
                       lonely_psu=lonely_psu, adjust_center=adjust_center, ci_df=ci_df, level=level,
                       min_n=min_n, deff=deff, dominant_share=dominant_share,
                       lonely_threshold=lonely_threshold)
    ids, threshold, partial_missing = _es_options(indicators, threshold, partial_missing,
                                                  manufacturing_only)
    metas = _es_metas(ids, ci_method)
    design = _design_for(firms, design_opts, who="estimate")
    bylist = as_list(by)
    _derive_by(design, bylist + ([share_over] if share_over else []))
    from ..survey import _resolve_where
    scope, n_where_missing, wlabel = _resolve_where(design.data, where, who="estimate")
    conv = Conventions(threshold=threshold, partial_missing=partial_missing)
    out = _estimate_all(design, metas, conv, by=bylist, scope=scope, where_label=wlabel or None,
                        where_missing=n_where_missing, user_scope=where is not None,
                        share_over=share_over, manufacturing_only=manufacturing_only)
    table = _order_estimate_columns(pd.concat(out, ignore_index=True) if len(out) > 1 else out[0])
    table.attrs = {"params": _estimate_params(
        design, ids=ids, by=bylist, where=wlabel or None, threshold=threshold, ci_method=ci_method,
        partial_missing=partial_missing, manufacturing_only=manufacturing_only)}
    return table


def _es_options(
    indicators: Any, threshold: Any, partial_missing: Any, manufacturing_only: Any
) -> tuple[list[str], float, PartialMissing]:
    """Check the options of :func:`estimate`: resolved ids, threshold and partial_missing."""
    ids = [resolve_indicator(i) for i in as_list(indicators)]
    if not ids:
        raise OptionError("indicators is empty; give at least one indicator id.")
    partial_missing = check_choice("partial_missing", partial_missing, choices(PartialMissing))
    threshold = check_number("threshold", threshold, low=0.0, high=100.0)
    if not isinstance(manufacturing_only, bool | np.bool_):
        raise OptionError(f"manufacturing_only={manufacturing_only!r} must be True or False.")
    return ids, threshold, partial_missing


def _estimate_all(
    design: Any, metas: list[tuple[str, Any, str, bool]], conv: Conventions, *, by: list[str],
    scope: np.ndarray | None, where_label: Any, where_missing: int, user_scope: bool,
    share_over: str | None, manufacturing_only: bool,
) -> list[pd.DataFrame]:
    """Derive each indicator's firm values and estimate it on the design, one frame each."""
    variables = {v for _, meta, _, _ in metas for v in meta["variables"].split("|") if v}
    frame = _numeric_columns(design.data, sorted(variables), who="estimate")
    manuf = None
    if manufacturing_only and any(meta["scope"] == "manufacturing" for _, meta, _, _ in metas):
        manuf = _manufacturing_mask(frame)
    out = []
    local: dict = {}  # domain arrays of this call (a user scope is never cached on the design)
    for ind, meta, ci, bounded in metas:
        fv = DERIVATIONS[ind](frame, conv)
        mask, manuf_scope = _indicator_scope(ind, meta, scope, manuf, manufacturing_only)
        common = dict(by=by, scope=mask, where_label=where_label,
                      where_missing=where_missing, ci_method=ci,
                      lead={"indicator": ind}, tail={"unit": result_unit(meta["unit"])})
        if meta["estimator"] != "share_of_total":
            if not user_scope:  # the design's own cache: the scope depends on the frame only
                common["scope_key"] = "manufacturing" if manuf_scope else "all"
            else:
                lk = (tuple(by), manuf_scope)
                if lk not in local:
                    local[lk] = design._domain(by, mask, None)
                common["domain"] = local[lk]
        out.append(_estimate_one(design, frame, fv, ind, meta, ci, bounded, by, share_over, common))
    return out


def _es_metas(ids: list[str], ci_method: str | None) -> list[tuple[str, Any, str, bool]]:
    """Catalogue row, interval method and boundedness of each Enterprise Surveys indicator id.

    Raises :class:`UnknownIndicatorError` for an indicator of another family.
    """
    cat = _catalogue_index()
    metas = []
    for ind in ids:
        meta = cat.loc[ind]
        if meta["family"] != "es" or ind not in DERIVATIONS:
            raise UnknownIndicatorError(
                f"{ind!r} is a {meta['family']!r} indicator; estimate() computes Enterprise Surveys "
                "indicators. Use msme_stats.tec_indicators for TEC tables and "
                "msme_stats.exporter_dynamics for EDD series."
            )
        metas.append((ind, meta, *_ci_for(ind, str(meta["estimator"]), str(meta["unit"]), ci_method)))
    return metas


def _indicator_scope(
    ind: str, meta: Any, scope: np.ndarray | None, manuf: np.ndarray | None, manufacturing_only: bool
) -> tuple[np.ndarray | None, bool]:
    """Scope of one indicator: the user's ``where`` and, for manufacturing-scope indicators, manufacturing firms.

    Returns the mask (None = every firm) and whether the manufacturing restriction applies.
    """
    if meta["scope"] == "manufacturing" and manufacturing_only:
        if manuf is None:
            raise MissingColumnsError(f"{ind} is computed on manufacturing firms only and needs a 'sector' column.")
        return (manuf if scope is None else (scope & manuf)), True
    return scope, False


def _estimate_one(
    design: Any, frame: pd.DataFrame, fv: Any, ind: str, meta: Any, ci: str, bounded: bool,
    bylist: list[str], share_over: str | None, common: dict[str, Any],
) -> pd.DataFrame:
    """Estimate one indicator with the design estimator its catalogue row names."""
    est = meta["estimator"]
    y = fv.y.to_numpy(dtype=float, na_value=np.nan)
    if est == "share_of_total":
        return _share_of_total(design, frame, fv, bylist, share_over, common, bounded)
    if est == "ratio":
        x = fv.x.to_numpy(dtype=float, na_value=np.nan)
        return design._run(y[:, None], x[:, None], names=[ind], multi=False, kind="ratio",
                           estimator="svy_ratio", scale=100.0,
                           bounds=(0.0, 1.0) if bounded and ci != "wald" else None, **common)
    if est == "proportion":
        return design._run(y[:, None], None, names=[ind], multi=False, kind="mean",
                           estimator="svy_proportion", scale=100.0, **common)
    bnd = (0.0, 100.0) if bounded else None
    if bnd is not None:
        _check_range(ind, meta, y, bnd)
    return design._run(y[:, None], None, names=[ind], multi=False, kind="mean",
                       estimator="svy_mean", scale=1.0,
                       bounds=bnd if ci != "wald" else None, **common)


def _order_estimate_columns(table: pd.DataFrame) -> pd.DataFrame:
    """``indicator``, the key columns, then :data:`ESTIMATE_COLUMNS` in their order."""
    lead = ["indicator", *[c for c in table.columns if c not in ESTIMATE_COLUMNS and c != "indicator"]]
    order = lead + [c for c in ESTIMATE_COLUMNS if c in table.columns]
    if list(table.columns) != order:
        table = table[order]
    return table


def _estimate_params(
    design: Any, *, ids: list[str], by: list[str], where: Any, threshold: float,
    partial_missing: str, manufacturing_only: bool, ci_method: str | None,
) -> dict[str, Any]:
    """The ``attrs["params"]`` record of :func:`estimate`: every convention used."""
    o = design.options
    attrs = design.attrs or {}
    return {
        "indicators": ids, "by": by, "where": where, "threshold": threshold,
        "partial_missing": partial_missing, "manufacturing_only": manufacturing_only,
        "weight": design.weight, "weight_var": attrs.get("weight_var"), "size_scheme": attrs.get("size_scheme"),
        "ci_method": ci_method if ci_method is not None else "default (logit for %, Wald otherwise)",
        **{k: o[k] for k in ("domain_mode", "lonely_psu", "adjust_center", "ci_df", "level", "min_n",
                             "deff", "dominant_share", "lonely_threshold")},
    }


def _check_range(ind: str, meta: Any, y: np.ndarray, bounds: tuple[float, float]) -> None:
    a, b = bounds
    bad = ~np.isnan(y) & ((y < a) | (y > b))
    if bad.any():
        raise InvalidValueError(
            f"{ind}: {int(bad.sum())} firm value(s) of {meta['variables'].replace('|', ' + ')} are "
            f"outside [{a:g}, {b:g}] (a percentage), e.g. {y[bad][:3].tolist()}; fix or set them "
            "to NaN before estimating."
        )


def _derive_by(design: Any, cols: list[str]) -> None:
    """Columns that estimate derives on the fly (``sme_group`` from ``size_class``)."""
    frame = design.data
    for c in cols:
        if c in frame.columns or c in design._derived:
            continue
        if c == "sme_group":
            if "size_class" not in frame.columns:
                raise MissingColumnsError("by='sme_group' needs a size_class column in the firm frame.")
            design._derived[c] = sme_group(frame["size_class"]).rename("sme_group")
        else:
            raise MissingColumnsError(
                f"Column {c!r} is not in the firm frame (available: {list(frame.columns)[:20]}...). "
                "'sme_group' is derived from size_class on the fly; other groupings must be columns."
            )


def _share_of_total(design, frame, fv, bylist, share_over, common, bounded) -> pd.DataFrame:
    col = share_over or next((c for c in bylist if c in _SIZE_COLUMNS), "sme_group")
    _derive_by(design, [col])
    classes = design._column(col)
    rest = [c for c in bylist if c != col]
    n_unclassified = int(classes.isna().sum())
    if n_unclassified:
        warnings.warn(
            f"{n_unclassified} firm(s) have no {col}; they count in the total but in no class.",
            ExclusionWarning, stacklevel=3,
        )
    y = fv.y.to_numpy(dtype=float, na_value=np.nan)
    x = fv.x.to_numpy(dtype=float, na_value=np.nan)
    if isinstance(classes.dtype, pd.CategoricalDtype):
        cats = [c for i, c in enumerate(classes.cat.categories) if (classes.cat.codes.to_numpy() == i).any()]
        codes = classes.cat.codes.to_numpy()
        pos = {c: i for i, c in enumerate(classes.cat.categories)}
        member = [codes == pos[c] for c in cats]
    else:
        cats = sorted(classes.dropna().unique())
        cl = classes.to_numpy()
        member = [cl == c for c in cats]
    zero = np.where(np.isnan(y), np.nan, 0.0)
    ys = np.column_stack([np.where(m, y, zero) for m in member])
    xs = np.repeat(x[:, None], len(cats), axis=1)
    c2 = {**common, "by": rest}
    res = design._run(ys, xs, names=[str(c) for c in cats], multi=True, kind="ratio", estimator="svy_ratio",
                      scale=100.0, bounds=(0.0, 1.0) if bounded and common["ci_method"] != "wald" else None, **c2)
    # the variable column holds the class: put it in `col`, in class order within each rest domain
    codes_of = {str(c): c for c in cats}
    res[col] = res.pop("variable").map(codes_of)
    order = rest + [col]
    res = res[[*order, *[c for c in res.columns if c not in order]]]
    if isinstance(classes.dtype, pd.CategoricalDtype):
        res[col] = pd.Categorical(res[col], categories=classes.cat.categories, ordered=classes.cat.ordered)
    if rest:
        res = res.sort_values(rest, kind="stable").reset_index(drop=True)
    return res


@fill_doc
def contrast(
    firms: pd.DataFrame,
    indicator: str,
    *,
    between: str,
    levels: tuple[Any, Any],
    by: str | Sequence[str] | None = None,
    where: pd.Series | str | None = None,
    threshold: float = 10.0,
    partial_missing: PartialMissing = "strict",
    manufacturing_only: bool = True,
    weight: str = _UNSET, strata: str = _UNSET, survey: str = _UNSET,
    domain_mode: DomainMode = _UNSET, lonely_psu: LonelyPsu | LonelyPsuAlias = _UNSET,
    adjust_center: AdjustCenter = _UNSET, ci_df: CiDf = _UNSET,
    level: float = _UNSET, min_n: int = _UNSET,
) -> pd.DataFrame:
    """Difference of an indicator between two domains, with its design-based SE and p-value.

    Definition
    ----------
    ``estimate(between == levels[0]) - estimate(between == levels[1])`` within each ``by``
    group, e.g. ``between="sme_group", levels=("sme", "large"), by="survey_id"``. The SE
    includes the cross-domain covariance (strata shared by the two domains): the Taylor
    variance of the total of the signed linearised scores over the union of the two domains
    (see :func:`msme_stats.survey.svy_contrast`). CI: difference +/- t_df se; ``p_value``:
    two-sided test of no difference with the design df.

    Source
    ------
    Stata ``svy: mean y, over(g)`` then ``lincom [y]sme - [y]large``; R
    ``svyby(~y, ~g, design, svymean, covmat=TRUE)`` then ``svycontrast(b, c(1, -1))``. Equal
    to R to 1e-10 (tests/goldens/contrast_goldens.csv).

    Parameters
    ----------
    {firms}
    indicator
        One catalogue id, World Bank code or alias (mean, proportion or ratio indicators;
        share-of-total indicators raise: their levels are the classes that share the total).
    between, levels
        Column and the pair of its values to compare (first minus second). ``"sme_group"``
        is derived from ``size_class`` when the frame has no such column.
    {by_domains}
    {where}
    {threshold}
    {partial_missing}
    {manufacturing_only}
    weight, strata, survey, domain_mode, lonely_psu, adjust_center, ci_df, level, min_n
        {design_options}

    Returns
    -------
    pandas.DataFrame
        ``indicator``, ``by`` columns, ``between``, ``level_a``, ``level_b``, ``estimate_a``,
        ``estimate_b``, ``difference``, ``se``, ``ci_low``, ``ci_high``, ``df``, ``t``,
        ``p_value``, ``n_a``, ``n_b``, ``n_lonely_strata``, ``flags``, ``unit`` (``"%"``
        points for percentages).

    Raises
    ------
    OptionError
        ``indicator`` is not one string, is a share-of-total indicator, ``between`` is not
        one column name, or an option value is not allowed.
    UnknownIndicatorError
        ``indicator`` is not in the catalogue or not an Enterprise Surveys indicator.
    MissingColumnsError
        A ``by``/``between`` column, a design column or a variable is missing.
    InvalidValueError
        Text or raw negative WBES codes in a variable; ``firms`` is neither a frame nor a
        design.
    DuplicateIdError, InvalidWeightError, DesignError
        Propagated from :func:`msme_stats.svyset` when the design is declared.

    Stata/R equivalent
    ------------------
    Stata ``svy: mean d3c, over(sme)`` then ``lincom [d3c]SME - [d3c]large``; R
    ``svyby(~d3c, ~sme, design, svymean, covmat=TRUE)`` then
    ``svycontrast(b, c(1, -1))``.

    Examples
    --------
    >>> import warnings
    >>> import msme_stats as ms
    >>> from msme_stats._paths import data_dir
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # load_wbes reports its recodes of missing codes
    ...     firms = ms.load_wbes(data_dir() / "wbes_synthetic" / "KEN_2013_synthetic.dta")
    >>> d = contrast(firms, "TR5", between="sme_group", levels=("SME", "large"), by="survey_id")
    >>> d[["survey_id", "estimate_a", "estimate_b", "difference", "se", "df"]].round(2)
      survey_id  estimate_a  estimate_b  difference    se  df
    0  KEN_2013       10.32       19.57       -9.24  2.82  375
    >>> bool(d["p_value"].iloc[0] < 0.01)
    True
    """
    design_opts = dict(weight=weight, strata=strata, survey=survey, domain_mode=domain_mode,
                       lonely_psu=lonely_psu, adjust_center=adjust_center, ci_df=ci_df, level=level,
                       min_n=min_n)
    ind, meta = _contrast_indicator(indicator)
    conv = _conventions(threshold, partial_missing)
    design = _design_for(firms, design_opts, who="contrast")
    frame = design.data
    bylist = as_list(by)
    if not isinstance(between, str):
        raise OptionError(f"contrast: between={between!r} must be one column name.")
    _derive_by(design, bylist + [between])
    from ..survey import _resolve_where
    scope, _, _ = _resolve_where(frame, where, who="contrast")
    frame = _numeric_columns(frame, [v for v in meta["variables"].split("|") if v], who="contrast")
    if meta["scope"] == "manufacturing" and manufacturing_only:
        scope, _ = _indicator_scope(ind, meta, scope, _manufacturing_mask(frame), manufacturing_only)
    y, x, kind, scale = _contrast_values(DERIVATIONS[ind](frame, conv), meta["estimator"])
    res = design._contrast(y, x, kind=kind, between=between, levels=levels, by=bylist, scope=scope,
                           scale=scale, label=ind)
    res = res.drop(columns="variable")
    res.insert(0, "indicator", ind)
    res["unit"] = result_unit(meta["unit"])
    return res


def _contrast_indicator(indicator: Any) -> tuple[str, Any]:
    """The id and catalogue row of the one indicator of :func:`contrast` (mean, proportion or ratio)."""
    if not isinstance(indicator, str):
        raise OptionError(f"contrast takes one indicator, got {indicator!r}; call it once per indicator.")
    ind = resolve_indicator(indicator)
    meta = _catalogue_index().loc[ind]
    if meta["family"] != "es" or ind not in DERIVATIONS:
        raise UnknownIndicatorError(f"{ind!r} is not an Enterprise Surveys indicator; contrast() needs one.")
    if meta["estimator"] == "share_of_total":
        raise OptionError(
            f"contrast: {ind} is a share of a total split by size class; its classes are the shares "
            "themselves. Compare indicators that are means, proportions or ratios."
        )
    return ind, meta


def _conventions(threshold: Any, partial_missing: Any) -> Conventions:
    """Checked :class:`Conventions` of the firm-level derivations."""
    partial_missing = check_choice("partial_missing", partial_missing, choices(PartialMissing))
    threshold = check_number("threshold", threshold, low=0.0, high=100.0)
    return Conventions(threshold=threshold, partial_missing=partial_missing)


def _contrast_values(fv: Any, estimator: str) -> tuple[np.ndarray, np.ndarray | None, str, float]:
    """Firm values, denominators (ratios), kind and scale of the indicator compared by :func:`contrast`."""
    y = fv.y.to_numpy(dtype=float, na_value=np.nan)
    kind = "ratio" if estimator == "ratio" else "mean"
    x = fv.x.to_numpy(dtype=float, na_value=np.nan) if kind == "ratio" else None
    scale = 1.0 if estimator == "mean" else 100.0
    return y, x, kind, scale


def _catalogue_index() -> pd.DataFrame:
    return _catalogue_indexed()


@cache
def _catalogue_indexed() -> pd.DataFrame:
    return _catalogue().set_index("id")
