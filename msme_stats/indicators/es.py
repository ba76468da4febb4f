"""Enterprise Surveys indicators: the firm-level variable behind each catalogue entry.

Each function below defines one indicator (or one family) of the catalogue in
``reference/indicators.csv``: it turns the canonical firm frame of
:func:`msme_stats.load_wbes` into the firm-level quantity that the survey estimator of
:mod:`msme_stats.survey` averages. Missing values stay missing (available-case analysis,
METHODS 2.2): a firm without a valid answer leaves both numerator and denominator.

Every function takes the firm frame and the keyword-only conventions it uses and returns a
:class:`FirmVariable` (``y`` and, for ratios of totals, ``x``), never modifying its input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .._docs import PARAMS, doc_filler
from .._options import PartialMissing, check_choice, choices
from ..errors import MissingColumnsError

#: numpydoc sections shared by the 21 firm-variable functions below (see :mod:`msme_stats._docs`)
_FIRM_PIECES: dict[str, str] = {
    "firm_params": """\
Parameters
----------
firms
    Canonical firm frame (:func:`msme_stats.load_wbes`), or any frame holding the
    canonical columns named in the Definition; it is not modified.
conv
    :class:`Conventions` (exporter ``threshold``, ``partial_missing`` rule); only the
    exporter and trader-type variables read it.""",
    "firm_returns": """\
Returns
-------
FirmVariable
    ``y``: one float per firm with the index of ``firms`` (0/1 for an indicator, NaN
    where the answer is missing); ``x`` is None.""",
    "firm_returns_ratio": """\
Returns
-------
FirmVariable
    ``y`` (numerator) and ``x`` (denominator) per firm, floats with the index of
    ``firms``; NaN where an input is missing. The estimate is a ratio of totals.""",
    "firm_raises": """\
Raises
------
MissingColumnsError
    The frame lacks a column the definition needs (the message names it).""",
    "firm_raises_conv": """\
Raises
------
MissingColumnsError
    The frame lacks a column the definition needs (the message names it).
OptionError
    ``conv.partial_missing`` is not ``"strict"`` or ``"known_component"``.""",
    "trader_frame": """\
>>> firms = pd.DataFrame({"indirect_export_pct": [0.0, 0.0, 20.0, 0.0],
...                       "direct_export_pct": [15.0, 0.0, 0.0, 0.0],
...                       "foreign_input_pct": [30.0, 30.0, 0.0, 0.0]})""",
}
# the three sections every definition shares, in the order numpydoc wants them
for _name, _parts in {
    "firm_sections": ("firm_params", "firm_returns", "firm_raises"),
    "firm_sections_conv": ("firm_params", "firm_returns", "firm_raises_conv"),
    "firm_sections_ratio": ("firm_params", "firm_returns_ratio", "firm_raises"),
}.items():
    _FIRM_PIECES[_name] = "\n\n".join(_FIRM_PIECES[k] for k in _parts)
# the four trader types share their source, sections and example frame
_FIRM_PIECES["trader_sections"] = "\n\n".join([
    "Source\n------\nWTR 2016 Section B.2 (assumption).",
    _FIRM_PIECES["firm_sections_conv"],
    "Examples\n--------\n" + _FIRM_PIECES["trader_frame"],
])
_fill_firm_doc = doc_filler({**PARAMS, **_FIRM_PIECES})


@dataclass(frozen=True)
class FirmVariable:
    """Firm-level values of one indicator: ``y`` (and ``x`` for a ratio of totals)."""

    y: pd.Series
    x: pd.Series | None = None


@dataclass(frozen=True)
class Conventions:
    """Conventions shared by the Enterprise Surveys indicators (METHODS 2.6 and 6).

    Attributes
    ----------
    threshold
        Exporter threshold theta in % of sales (default 10, the TR16/TR17 rule). A firm is a
        (direct) exporter if its export share is >= theta. Stata: ``gen exp = d3c >= 10 if
        !missing(d3c)``.
    partial_missing
        When only one of d3b/d3c is known: ``"strict"`` (default) leaves "any exporter"
        missing; ``"known_component"`` counts the firm as an exporter if the known
        component alone reaches theta, and missing otherwise.
    """

    threshold: float = 10.0
    partial_missing: PartialMissing = "strict"


def _need(firms: pd.DataFrame, *cols: str) -> None:
    missing = [c for c in cols if c not in firms.columns]
    if missing:
        raise MissingColumnsError(
            f"This indicator needs column(s) {missing}, which the firm frame lacks. "
            "Load the data with msme_stats.load_wbes, or add the columns under their canonical names "
            "(see msme_stats.wbes_columns())."
        )


def _indicator01(cond: pd.Series, valid: pd.Series) -> pd.Series:
    return pd.Series(np.where(valid, cond.astype(float), np.nan), index=cond.index)


@_fill_firm_doc
def direct_export_pct(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Direct exports as % of sales (TR5).

    Definition
    ----------
    ``d3c``, the % of the establishment's sales exported directly; non-exporters enter
    with 0. Country value: sum(w * d3c) / sum(w) over firms with a valid d3c.

    Source
    ------
    World Bank Enterprise Surveys indicator IC.FRM.TRD.TR5; formula confirmed on real
    microdata (METHODS 2.6). WTR 2016 B.1(a).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"direct_export_pct": [0.0, 25.0, np.nan]})
    >>> direct_export_pct(firms, Conventions()).y.tolist()
    [0.0, 25.0, nan]
    """
    _need(firms, "direct_export_pct")
    return FirmVariable(firms["direct_export_pct"].astype(float))


@_fill_firm_doc
def indirect_export_pct(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Indirect exports as % of sales.

    Definition
    ----------
    ``d3b``, the % of sales sold domestically to a third party that exports the products.

    Source
    ------
    METHODS 2.6 (mirrors TR5; assumption); WTR 2016 B.2(a).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"indirect_export_pct": [10.0, 0.0, np.nan]})
    >>> indirect_export_pct(firms, Conventions()).y.tolist()
    [10.0, 0.0, nan]
    """
    _need(firms, "indirect_export_pct")
    return FirmVariable(firms["indirect_export_pct"].astype(float))


def _export_total(firms: pd.DataFrame) -> pd.Series:
    _need(firms, "indirect_export_pct", "direct_export_pct")
    return firms["indirect_export_pct"].astype(float) + firms["direct_export_pct"].astype(float)


@_fill_firm_doc
def total_export_pct(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Direct plus indirect exports as % of sales.

    Definition
    ----------
    ``d3b + d3c``; missing when either part is missing.

    Source
    ------
    INDICATORS 3 (derived; assumption).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"indirect_export_pct": [10.0, 0.0, 5.0],
    ...                       "direct_export_pct": [20.0, 0.0, np.nan]})
    >>> total_export_pct(firms, Conventions()).y.tolist()
    [30.0, 0.0, nan]
    """
    return FirmVariable(_export_total(firms))


@_fill_firm_doc
def direct_exporter_10(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Direct exporter indicator (TR16).

    Definition
    ----------
    1 if ``d3c >= threshold`` (default 10), 0 otherwise, missing if d3c is missing.

    Source
    ------
    World Bank Enterprise Surveys indicator IC.FRM.TRD.TR16 (threshold published).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"direct_export_pct": [0.0, 9.5, 10.0, np.nan]})
    >>> direct_exporter_10(firms, Conventions()).y.tolist()
    [0.0, 0.0, 1.0, nan]
    >>> direct_exporter_10(firms, Conventions(threshold=5)).y.tolist()
    [0.0, 1.0, 1.0, nan]
    """
    d3c = direct_export_pct(firms, conv).y
    return FirmVariable(_indicator01(d3c >= conv.threshold, d3c.notna()))


def _any_exporter(firms: pd.DataFrame, conv: Conventions) -> pd.Series:
    check_choice("partial_missing", conv.partial_missing, choices(PartialMissing))
    d3b = firms["indirect_export_pct"].astype(float)
    d3c = firms["direct_export_pct"].astype(float)
    both = d3b.notna() & d3c.notna()
    total = d3b.fillna(0) + d3c.fillna(0)
    out = _indicator01(total >= conv.threshold, both)
    if conv.partial_missing == "known_component":
        one = d3b.notna() ^ d3c.notna()
        out = out.where(~(one & (total >= conv.threshold)), 1.0)
    return out


@_fill_firm_doc
def exporter_10(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Direct or indirect exporter indicator (TR17).

    Definition
    ----------
    1 if ``d3b + d3c >= threshold`` (default 10), 0 otherwise. Firms with only one of the
    two shares known follow ``partial_missing``.

    Source
    ------
    World Bank Enterprise Surveys indicator IC.FRM.TRD.TR17 (threshold published; the sum
    and the half-missing rule are assumptions, METHODS 2.6).

    {firm_sections_conv}

    Examples
    --------
    >>> firms = pd.DataFrame({"indirect_export_pct": [5.0, 5.0, 12.0, np.nan],
    ...                       "direct_export_pct": [0.0, 5.0, np.nan, 0.0]})
    >>> exporter_10(firms, Conventions()).y.tolist()
    [0.0, 1.0, nan, nan]
    >>> exporter_10(firms, Conventions(partial_missing="known_component")).y.tolist()
    [0.0, 1.0, 1.0, nan]
    """
    _need(firms, "indirect_export_pct", "direct_export_pct")
    return FirmVariable(_any_exporter(firms, conv))


@_fill_firm_doc
def any_exporter(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Any-export indicator.

    Definition
    ----------
    1 if ``d3b + d3c > 0``; missing if either share is missing.

    Source
    ------
    INDICATORS 3, ``es_exporter_share`` with threshold "> 0" (assumption).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"indirect_export_pct": [0.0, 1.0, np.nan],
    ...                       "direct_export_pct": [0.0, 0.0, 5.0]})
    >>> any_exporter(firms, Conventions()).y.tolist()
    [0.0, 1.0, nan]
    """
    total = _export_total(firms)
    return FirmVariable(_indicator01(total > 0, total.notna()))


@_fill_firm_doc
def export_sales_ratio(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Exports as a share of all firms' sales (ratio of totals).

    Definition
    ----------
    ``y = d2 * (d3b + d3c) / 100`` (export value), ``x = d2`` (sales); the estimate is
    sum(w * y) / sum(w * x) over firms with both known. Sales-weighted, hence not TR5.

    Source
    ------
    METHODS 2.6 ``es_export_sales_ratio`` (assumption).

    {firm_sections_ratio}

    Examples
    --------
    >>> firms = pd.DataFrame({"sales": [100.0, 200.0], "indirect_export_pct": [0.0, 10.0],
    ...                       "direct_export_pct": [50.0, 0.0]})
    >>> fv = export_sales_ratio(firms, Conventions())
    >>> fv.y.tolist(), fv.x.tolist()
    ([50.0, 20.0], [100.0, 200.0])
    """
    _need(firms, "sales")
    sales = firms["sales"].astype(float)
    return FirmVariable(sales * _export_total(firms) / 100.0, sales)


@_fill_firm_doc
def export_value(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Export value of each firm, for the size-class share of a survey's exports.

    Definition
    ----------
    ``d2 * (d3b + d3c) / 100`` in local currency. The share of size class s is
    sum_{i in s}(w * value) / sum(w * value) over the survey (a ratio of totals).

    Source
    ------
    INDICATORS 3 ``es_size_share_of_exports`` (assumption). Report weighted and unweighted
    versions: a single high-weight firm can dominate it (METHODS 2.10).

    {firm_sections_ratio}

    Examples
    --------
    >>> firms = pd.DataFrame({"sales": [100.0, 200.0], "indirect_export_pct": [0.0, 10.0],
    ...                       "direct_export_pct": [50.0, 0.0]})
    >>> export_value(firms, Conventions()).y.tolist()
    [50.0, 20.0]
    """
    _need(firms, "sales")
    value = firms["sales"].astype(float) * _export_total(firms) / 100.0
    return FirmVariable(value, value)


@_fill_firm_doc
def employment(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Permanent full-time employment, for the size-class share of employment.

    Definition
    ----------
    ``l1``; the share of size class s is sum_{i in s}(w * l1) / sum(w * l1).

    Source
    ------
    INDICATORS 3 ``es_sme_employment_share`` (assumption).

    {firm_sections_ratio}

    Examples
    --------
    >>> firms = pd.DataFrame({"employees": [3, 120]})
    >>> employment(firms, Conventions()).y.tolist()
    [3.0, 120.0]
    """
    _need(firms, "employees")
    emp = firms["employees"].astype(float)
    return FirmVariable(emp, emp)


@_fill_firm_doc
def foreign_input_user(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Foreign-input user indicator (TR11).

    Definition
    ----------
    1 if ``d12b > 0`` (some material inputs of foreign origin), else 0.

    Source
    ------
    World Bank Enterprise Surveys indicator IC.FRM.TRD.TR11 (variable and manufacturing
    scope: assumption, METHODS 2.5).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"foreign_input_pct": [0.0, 40.0, np.nan]})
    >>> foreign_input_user(firms, Conventions()).y.tolist()
    [0.0, 1.0, nan]
    """
    _need(firms, "foreign_input_pct")
    d12b = firms["foreign_input_pct"].astype(float)
    return FirmVariable(_indicator01(d12b > 0, d12b.notna()))


@_fill_firm_doc
def foreign_input_pct(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Foreign share of material inputs (TR8).

    Definition
    ----------
    ``d12b``, % of material inputs of foreign origin.

    Source
    ------
    World Bank Enterprise Surveys indicator IC.FRM.TRD.TR8 (assumption as to variable and
    scope).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"foreign_input_pct": [0.0, 40.0, np.nan]})
    >>> foreign_input_pct(firms, Conventions()).y.tolist()
    [0.0, 40.0, nan]
    """
    _need(firms, "foreign_input_pct")
    return FirmVariable(firms["foreign_input_pct"].astype(float))


def _trader_type(firms: pd.DataFrame, conv: Conventions, kind: str) -> FirmVariable:
    _need(firms, "indirect_export_pct", "direct_export_pct", "foreign_input_pct")
    exp = _any_exporter(firms, conv)
    d12b = firms["foreign_input_pct"].astype(float)
    imp = _indicator01(d12b > 0, d12b.notna())
    valid = exp.notna() & imp.notna()
    e, m = exp == 1, imp == 1
    cond = {"two_way": e & m, "exporter_only": e & ~m, "importer_only": ~e & m, "neither": ~e & ~m}[kind]
    return FirmVariable(_indicator01(cond, valid))


@_fill_firm_doc
def trader_two_way(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Two-way trader indicator (simple GVC participation).

    Definition
    ----------
    1 if the firm exports (``d3b + d3c >= threshold``) and uses foreign inputs
    (``d12b > 0``); missing if either is unknown. The four trader types partition the
    firms with both known, so their shares add to 100.

    Source
    ------
    WTR 2016 Section B.2 (trader types as GVC participation; definition assumption).

    {firm_sections_conv}

    Examples
    --------
    {trader_frame}
    >>> trader_two_way(firms, Conventions()).y.tolist()
    [1.0, 0.0, 0.0, 0.0]
    """
    return _trader_type(firms, conv, "two_way")


@_fill_firm_doc
def trader_exporter_only(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Exporter-only indicator.

    Definition
    ----------
    Exports (``d3b + d3c >= threshold``) and no foreign inputs (``d12b = 0``).

    {trader_sections}
    >>> trader_exporter_only(firms, Conventions()).y.tolist()
    [0.0, 0.0, 1.0, 0.0]
    """
    return _trader_type(firms, conv, "exporter_only")


@_fill_firm_doc
def trader_importer_only(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Importer-only indicator.

    Definition
    ----------
    Uses foreign inputs (``d12b > 0``) and does not export (``d3b + d3c < threshold``).

    {trader_sections}
    >>> trader_importer_only(firms, Conventions()).y.tolist()
    [0.0, 1.0, 0.0, 0.0]
    """
    return _trader_type(firms, conv, "importer_only")


@_fill_firm_doc
def trader_neither(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Non-trader indicator.

    Definition
    ----------
    Neither exports (``d3b + d3c < threshold``) nor uses foreign inputs (``d12b = 0``).

    {trader_sections}
    >>> trader_neither(firms, Conventions()).y.tolist()
    [0.0, 0.0, 0.0, 1.0]
    """
    return _trader_type(firms, conv, "neither")


@_fill_firm_doc
def foreign_owned_10(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Foreign-owned indicator (CAR7).

    Definition
    ----------
    1 if ``b2b >= 10`` (at least 10% foreign ownership).

    Source
    ------
    World Bank Enterprise Surveys indicator IC.FRM.FCHAR.CAR7 (variable b2b: assumption).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"foreign_owned_pct": [0.0, 10.0, 51.0, np.nan]})
    >>> foreign_owned_10(firms, Conventions()).y.tolist()
    [0.0, 1.0, 1.0, nan]
    """
    _need(firms, "foreign_owned_pct")
    b2b = firms["foreign_owned_pct"].astype(float)
    return FirmVariable(_indicator01(b2b >= 10, b2b.notna()))


@_fill_firm_doc
def days_clear_exports(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Days to clear direct exports (TR1 / IC.CUS.DURS.EX).

    Definition
    ----------
    ``d4`` in days, over direct exporters who answered (others have -7 "does not apply",
    recoded to missing).

    Source
    ------
    World Bank Enterprise Surveys IC.FRM.TRD.TR1, WDI IC.CUS.DURS.EX (confirmed on
    microdata with wmedian, METHODS 2.3).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"days_to_clear_exports": [3, np.nan]})
    >>> days_clear_exports(firms, Conventions()).y.tolist()
    [3.0, nan]
    """
    _need(firms, "days_to_clear_exports")
    return FirmVariable(firms["days_to_clear_exports"].astype(float))


@_fill_firm_doc
def days_clear_imports(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Days to clear imports (TR2 / IC.CUS.DURS.IM).

    Definition
    ----------
    ``d14`` in days, over importers who answered.

    Source
    ------
    World Bank Enterprise Surveys IC.FRM.TRD.TR2 (variable d14: assumption).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"days_to_clear_imports": [7, np.nan]})
    >>> days_clear_imports(firms, Conventions()).y.tolist()
    [7.0, nan]
    """
    _need(firms, "days_to_clear_imports")
    return FirmVariable(firms["days_to_clear_imports"].astype(float))


@_fill_firm_doc
def customs_major_constraint(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Customs as a major constraint (TR9).

    Definition
    ----------
    1 if customs and trade regulations (``d30b``) are rated 3 (major) or 4 (very severe)
    on the 0-4 obstacle scale.

    Source
    ------
    World Bank Enterprise Surveys IC.FRM.TRD.TR9 (coding: assumption).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"customs_obstacle": [0, 2, 3, 4, np.nan]})
    >>> customs_major_constraint(firms, Conventions()).y.tolist()
    [0.0, 0.0, 1.0, 1.0, nan]
    """
    _need(firms, "customs_obstacle")
    v = firms["customs_obstacle"].astype(float)
    return FirmVariable(_indicator01(v >= 3, v.notna()))


def _yes(firms: pd.DataFrame, col: str) -> FirmVariable:
    _need(firms, col)
    v = firms[col].astype("boolean")
    return FirmVariable(pd.Series(np.where(v.isna(), np.nan, v.fillna(False).astype(float)), index=firms.index))


@_fill_firm_doc
def website(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """Own-website indicator (T5).

    Definition
    ----------
    1 if the firm has its own website (``c22b`` = yes).

    Source
    ------
    World Bank Enterprise Surveys IC.FRM.INNOV.T5 (variable c22b: assumption); WTR 2016 B.3.

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"has_website": [True, False, None]})
    >>> website(firms, Conventions()).y.tolist()
    [1.0, 0.0, nan]
    """
    return _yes(firms, "has_website")


@_fill_firm_doc
def email(firms: pd.DataFrame, conv: Conventions) -> FirmVariable:
    """E-mail use indicator (T6).

    Definition
    ----------
    1 if the firm uses e-mail with clients or suppliers (``c22a`` = yes).

    Source
    ------
    World Bank Enterprise Surveys IC.FRM.INNOV.T6 (variable c22a: assumption).

    {firm_sections}

    Examples
    --------
    >>> firms = pd.DataFrame({"uses_email": [True, False, None]})
    >>> email(firms, Conventions()).y.tolist()
    [1.0, 0.0, nan]
    """
    return _yes(firms, "uses_email")


#: indicator id -> function giving its firm-level variable
DERIVATIONS: dict[str, Callable[[pd.DataFrame, Conventions], FirmVariable]] = {
    "es_direct_export_intensity": direct_export_pct,
    "es_indirect_export_intensity": indirect_export_pct,
    "es_total_export_intensity": total_export_pct,
    "es_direct_exporter_share_10": direct_exporter_10,
    "es_exporter_share_10": exporter_10,
    "es_any_exporter_share": any_exporter,
    "es_export_sales_ratio": export_sales_ratio,
    "es_size_share_of_exports": export_value,
    "es_foreign_input_user_share": foreign_input_user,
    "es_foreign_input_share": foreign_input_pct,
    "es_trader_two_way": trader_two_way,
    "es_trader_exporter_only": trader_exporter_only,
    "es_trader_importer_only": trader_importer_only,
    "es_trader_neither": trader_neither,
    "es_foreign_owned_share_10": foreign_owned_10,
    "es_days_clear_exports": days_clear_exports,
    "es_days_clear_imports": days_clear_imports,
    "es_customs_major_constraint_share": customs_major_constraint,
    "es_website_share": website,
    "es_email_share": email,
    "es_sme_employment_share": employment,
}
