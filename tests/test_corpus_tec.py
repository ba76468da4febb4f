"""Corpus of bad and edge inputs for the TEC loaders, TEC indicators and download helpers.

Each case writes a small file in the real publisher format (Eurostat API SDMX-CSV,
Eurostat data-browser SDMX-CSV with labels, Eurostat TSV in the current and legacy
layouts, OECD SDMX-CSV, OECD SDBS business counts) to ``tmp_path``, mutates one thing,
and asserts either the typed error (a :class:`msme_stats.MsmeStatsError` subclass) and that
its message names the culprit (file, line/row, column or value), or the correct,
hand-computed value. The bases are copies of the committed fixtures in ``tests/fixtures/tec``
(themselves excerpts of real downloads, see that folder's README).
"""

from __future__ import annotations

import gzip
import http.client
import math
import os
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msme_stats.errors import (
    DuplicateIdError,
    EmptyInputError,
    ExclusionWarning,
    InvalidValueError,
    MissingColumnsError,
    MsmeStatsError,
    NotRecognisedError,
    OfflineError,
    OptionError,
    UnknownCodeError,
    UnknownCountryError,
    UnreadableFileError,
    WriteError,
)
from msme_stats.indicators.tec import (
    change_between,
    tec_compare_published,
    tec_cross_country_average,
    tec_indicators,
)
from msme_stats.sources.download import download_tec
from msme_stats.sources.tec import load_business_counts, load_tec, plausible_range

# ------------------------------------------------------------------------------------
# base files (real layouts)
# ------------------------------------------------------------------------------------
_API_PREFIX = "ESTAT:EXT_TEC01(1.0),15/01/26 23:00:00,A,TOTAL,"
API = "\n".join([
    "DATAFLOW,LAST UPDATE,freq,nace_r2,sizeclas,stk_flow,partner,unit,geo,TIME_PERIOD,"
    "OBS_VALUE,OBS_FLAG,CONF_STATUS",
    *[f"{_API_PREFIX}{s},EXP,WORLD,THS_EUR,AT,2021,{v},," for s, v in
      [("LT10", 100), ("10-49", 200), ("50-249", 300), ("GE250", 400), ("TOTAL", 1100)]],
    *[f"{_API_PREFIX}{s},EXP,WORLD,NR_ENT,AT,2021,{v},," for s, v in
      [("LT10", 50), ("10-49", 20), ("50-249", 8), ("GE250", 2), ("TOTAL", 90)]],
]) + "\n"
# line 2 = LT10 value, 3 = 10-49, 4 = 50-249, 5 = GE250, 6 = TOTAL value, 7..11 = counts

_B_HEAD = ("STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,freq,Time frequency,unit,Unit of measure,"
           "sizeclas,Size classes in number of employees,stk_flow,Stock or flow,partner,"
           "Geopolitical entity (partner),geo,Geopolitical entity (reporting),TIME_PERIOD,Time,"
           "OBS_VALUE,Observation value,OBS_FLAG,Observation status (Flag) V2 structure,"
           "CONF_STATUS,Confidentiality status (flag)")
_B_ROW = ("dataflow,ESTAT:EXT_TEC10(1.0),Trade by partner country and enterprise size class,"
          "A,Annual,{unit},Thousand euro,{size},Size,EXP,Exports,{partner},{plabel},DE,Germany,"
          "2022,,{value},,,,,")
BROWSER = "\n".join([
    _B_HEAD,
    *[_B_ROW.format(unit="THS_EUR", size=s, partner="WORLD", plabel="All countries",
                    value=v)
      for s, v in [("LT10", 10), ("10-49", 20), ("50-249", 30), ("GE250", 40),
                   ("TOTAL", 100)]],
    _B_ROW.format(unit="THS_EUR", size="TOTAL", partner="KR", plabel='"Korea, Republic of"',
                  value=7),
]) + "\n"

TSV = ("freq,nace_r2,sizeclas,stk_flow,partner,unit,geo\\TIME_PERIOD\t2021 \t2022 \n"
       "A,TOTAL,LT10,EXP,WORLD,THS_EUR,AT\t100 \t150 p\n"
       "A,TOTAL,10-49,EXP,WORLD,THS_EUR,AT\t200\t250\n"
       "A,TOTAL,50-249,EXP,WORLD,THS_EUR,AT\t300 e\t: c\n"
       "A,TOTAL,GE250,EXP,WORLD,THS_EUR,AT\t400\t:\n"
       "A,TOTAL,TOTAL,EXP,WORLD,THS_EUR,AT\t1100\t1000\n")

LEGACY = ("nace_r2,sizeclas,stk_flow,partner,unit,geo\\time\t2014 \t2013 \n"
          "TOTAL,LT10,EXP,WORLD,NR_ENT,AT\t50 \t48 \n"
          "TOTAL,TOTAL,EXP,WORLD,NR_ENT,AT\t110 \t:c\n")

_O_HEAD = ("STRUCTURE,STRUCTURE_ID,ACTION,FREQ,TABLE,REF_AREA,PARTNER_COUNTRY,MEASURE,ACTIVITY,"
           "SIZE_CLASS,TOP_ENT,NBPARTNER,CPC,TTRADER,TOWNERSHIP,EXPINT,FLOW,UNIT_MEASURE,"
           "TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MULT,DECIMALS")
_O_ROW = ("DATAFLOW,OECD.SDD.TPS:DSD_TEC_ISIC4@DF_TEC01(1.1),I,A,TEC01,USA,W,{m},_T,{s},_Z,_Z,"
          "_Z,_Z,_Z,_Z,X,{u},2013,{v},A,{mult},1")
OECD = "\n".join([
    _O_HEAD,
    *[_O_ROW.format(m="TUTT_TEC", s=s, u="USD", v=v, mult=6)
      for s, v in [("S0T9", 10.5), ("S10T49", 20), ("S50T249", 30), ("S_GE250", 100),
                   ("_T", 180.5)]],
    _O_ROW.format(m="ENTR_TEC", s="_T", u="ENT", v=300, mult=0),
]) + "\n"
# line 2 = S0T9 value (10.5 x 10^6 USD)

_C_HEAD = ("STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,MEASURE,ACTIVITY,SIZE_CLASS,"
           "UNIT_MEASURE,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MULT")
_C_ROW = "DATAFLOW,OECD.SDD.TPS:DSD_SDBSBSC_ISIC4@DF_SDBS_ISIC4(1.0),I,A,USA,ENTR,_T,{s},ENT,2013,{v},A,0"
COUNTS = "\n".join([
    _C_HEAD,
    *[_C_ROW.format(s=s, v=v) for s, v in [("S1T9", 1000), ("S10T19", 60), ("S20T49", 40),
                                            ("S50T249", 50), ("S_GE250", 8), ("_T", 1158)]],
]) + "\n"
# line 3 = S10T19, line 4 = S20T49

BASES = {
    "api": (API, "ext_tec01_api.csv", "tec"),
    "browser": (BROWSER, "ext_tec10_browser.csv", "tec"),
    "tsv": (TSV, "ext_tec01_new.tsv", "tec"),
    "legacy": (LEGACY, "ext_tec01_legacy.tsv", "tec"),
    "oecd": (OECD, "oecd_tec01.csv", "tec"),
    "counts": (COUNTS, "sdbs.csv", "counts"),
}


# ------------------------------------------------------------------------------------
# mutations
# ------------------------------------------------------------------------------------
def sub(line: int, old: str, new: str, count: int = 1) -> Callable[[str], str]:
    """Replace ``old`` by ``new`` in 1-based ``line`` (must occur there)."""
    def f(text: str) -> str:
        lines = text.split("\n")
        assert old in lines[line - 1], (old, lines[line - 1])
        lines[line - 1] = lines[line - 1].replace(old, new, count)
        return "\n".join(lines)
    return f


def rsub(line: int, old: str, new: str) -> Callable[[str], str]:
    """Replace the LAST occurrence of ``old`` in 1-based ``line``."""
    def f(text: str) -> str:
        lines = text.split("\n")
        head, sep, tail = lines[line - 1].rpartition(old)
        assert sep, (old, lines[line - 1])
        lines[line - 1] = head + new + tail
        return "\n".join(lines)
    return f


def dup_line(line: int) -> Callable[[str], str]:
    def f(text: str) -> str:
        return text + text.split("\n")[line - 1] + "\n"
    return f


def insert_blank(after: int) -> Callable[[str], str]:
    def f(text: str) -> str:
        lines = text.split("\n")
        return "\n".join([*lines[:after], "", *lines[after:]])
    return f


def drop_column(name: str) -> Callable[[str], str]:
    def f(text: str) -> str:
        lines = [ln for ln in text.split("\n") if ln]
        idx = lines[0].split(",").index(name)
        out = []
        for ln in lines:
            parts = ln.split(",")
            del parts[idx]
            out.append(",".join(parts))
        return "\n".join(out) + "\n"
    return f


def header_only(text: str) -> str:
    return text.split("\n")[0] + "\n"


def same(text: str) -> str:
    return text


# ------------------------------------------------------------------------------------
# case definitions
# ------------------------------------------------------------------------------------
@dataclass
class Case:
    id: str
    base: str
    mutate: Callable[[str], str] | None = None
    error: type[Exception] | None = None
    names: tuple[str, ...] = ()              # substrings the message must contain
    check: Callable[[pd.DataFrame], None] | None = None
    kwargs: dict = field(default_factory=dict)
    raw: Callable[[str], bytes] | None = None  # write bytes instead of text


def _value(df, **kw):
    sel = df
    for k, v in kw.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, sel
    return sel.iloc[0]


def _api_ok(df):
    assert _value(df, size_class="0-9", measure="trade_value")["value"] == 100_000.0
    assert _value(df, size_class="total", measure="enterprises")["value"] == 90.0
    assert df.attrs["counts"] == {"cells": 10, "confidential": 0, "without_value": 0,
                                  "flagged": 0}


LOADER_CASES = [
    # --- Eurostat API SDMX-CSV --------------------------------------------------------
    Case("api-negative-value", "api", sub(3, ",200,", ",-5000,"), InvalidValueError,
         ("-5000", "negative", "OBS_VALUE", "line 3", "ext_tec01_api.csv")),
    Case("api-inf-value", "api", sub(3, ",200,", ",inf,"), InvalidValueError,
         ("'inf'", "infinite", "line 3")),
    Case("api-minus-inf-value", "api", sub(4, ",300,", ",-inf,"), InvalidValueError,
         ("-inf", "line 4")),
    Case("api-nan-text", "api", sub(2, ",100,", ",NaN,"), InvalidValueError,
         ("'NaN'", "not a number", "line 2")),
    Case("api-percent-text", "api", sub(2, ",100,", ",12%,"), InvalidValueError,
         ("'12%'", "line 2")),
    Case("api-decimal-comma-quoted", "api", sub(2, ",100,", ',"1,5",'), InvalidValueError,
         ("'1,5'", "line 2")),
    Case("api-year-1850", "api", sub(2, ",2021,", ",1850,"), InvalidValueError,
         ("'1850'", "TIME_PERIOD", "plausible range", "line 2", "year_range")),
    Case("api-year-2099", "api", sub(5, ",2021,", ",2099,"), InvalidValueError,
         ("'2099'", "line 5")),
    Case("api-year-float", "api", sub(2, ",2021,", ",2021.0,"), InvalidValueError,
         ("'2021.0'", "floating-point", "line 2")),
    Case("api-year-quarter", "api", sub(2, ",2021,", ",2021-Q1,"), InvalidValueError,
         ("'2021-Q1'", "not a year", "line 2")),
    Case("api-year-empty", "api", sub(6, ",2021,", ",,"), InvalidValueError,
         ("TIME_PERIOD", "''", "line 6")),
    Case("api-year-two-digit", "api", sub(2, ",2021,", ",21,"), InvalidValueError,
         ("'21'", "not a year")),
    Case("api-field-too-many", "api", sub(4, ",300,", ",300,99,"), InvalidValueError,
         ("line 4 has 14", "13 fields", "ext_tec01_api.csv")),
    Case("api-field-too-few", "api", sub(5, ",AT,", ","), InvalidValueError,
         ("line 5 has 12", "13 fields")),
    Case("api-duplicate-row", "api", dup_line(3), DuplicateIdError,
         ("lines [3, 12]", "size_class='10-49'", "ext_tec01_api.csv")),
    Case("api-partner-WLD", "api", sub(2, ",WORLD,", ",WLD,"), UnknownCodeError,
         ("'WLD'", "'partner'", "line 2", "WORLD")),
    Case("api-partner-unknown-XX", "api", sub(7, ",WORLD,", ",XX,"), UnknownCodeError,
         ("'XX'", "line 7")),
    Case("api-partner-float", "api", sub(2, ",WORLD,", ",1.0,"), InvalidValueError,
         ("'1.0'", "'partner'", "floating-point", "line 2")),
    Case("api-activity-float", "api", sub(2, ",TOTAL,", ",10121.0,"), InvalidValueError,
         ("'10121.0'", "'nace_r2'", "leading")),
    Case("api-unknown-size", "api", sub(2, ",LT10,", ",LT5,"), UnknownCodeError,
         ("'LT5'", "'sizeclas'")),
    Case("api-unknown-flow", "api", sub(2, ",EXP,", ",EXPX,"), UnknownCodeError,
         ("'EXPX'", "'stk_flow'")),
    Case("api-unknown-unit", "api", sub(2, ",THS_EUR,", ",THS_USD,"), UnknownCodeError,
         ("'THS_USD'", "'unit'")),
    Case("api-unknown-freq", "api", sub(2, ",A,", ",Q,"), UnknownCodeError,
         ("'Q'", "'freq'")),
    Case("api-unknown-flag", "api", rsub(2, ",,", ",x,"), UnknownCodeError,
         ("'x'", "OBS_FLAG")),
    Case("api-unknown-conf-status", "api", rsub(2, ",", ",Z"), UnknownCodeError,
         ("'Z'", "CONF_STATUS")),
    Case("api-unknown-geo", "api", sub(2, ",AT,", ",QQ,"), UnknownCountryError,
         ("QQ", "'geo'")),
    Case("api-missing-obs-value", "api", drop_column("OBS_VALUE"), MissingColumnsError,
         ("OBS_VALUE", "ext_tec01_api.csv")),
    Case("api-duplicate-header", "api", sub(1, ",OBS_FLAG,", ",OBS_VALUE,"),
         NotRecognisedError, ("'OBS_VALUE'", "twice")),
    Case("api-header-only", "api", header_only, EmptyInputError, ("ext_tec01_api.csv",)),
    Case("api-empty-file", "api", lambda t: "", EmptyInputError, ("empty",)),
    Case("api-whitespace-file", "api", lambda t: "\n \n", EmptyInputError, ("empty",)),
    Case("api-truncated-gz", "api", None, UnreadableFileError, ("truncated", "gzip"),
         raw=lambda t: gzip.compress(t.encode())[:60]),
    Case("api-latin1", "api", None, UnreadableFileError, ("not UTF-8",),
         raw=lambda t: t.replace("15/01/26", "15/01/26\xe9", 1).encode("latin-1")),
    Case("api-nul-byte", "api", sub(3, ",200,", ",2\x0000,"), UnreadableFileError,
         ("NUL", "line 3")),
    Case("api-not-tec", "api", lambda t: "a,b,c\n1,2,3\n", NotRecognisedError,
         ("not a recognised TEC file",)),
    # --- legitimate edge cases (correct values) -----------------------------------------
    Case("api-gzip-ok", "api", None, check=_api_ok, raw=lambda t: gzip.compress(t.encode())),
    Case("api-bom-ok", "api", None, check=_api_ok, raw=lambda t: b"\xef\xbb\xbf" + t.encode()),
    Case("api-crlf-ok", "api", lambda t: t.replace("\n", "\r\n"), check=_api_ok),
    Case("api-blank-line-ok", "api", insert_blank(4), check=_api_ok),
    Case("api-blank-line-dup-names-line", "api",
         lambda t: dup_line(3)(insert_blank(4)(t)), DuplicateIdError, ("lines [3, 13]",)),
    Case("api-confidential-cell", "api", rsub(3, ",200,,", ",200,,C"),
         check=lambda df: (math.isnan(_value(df, size_class="10-49",
                                              measure="trade_value")["value"])
                           and _value(df, size_class="10-49",
                                      measure="trade_value")["confidential"]
                           and df.attrs["counts"]["confidential"] == 1
                           and df.attrs["counts"]["without_value"] == 1) or
         pytest.fail("confidential cell kept its value or was not counted")),
    Case("api-missing-flag-m", "api", sub(4, ",300,,", ",,m,"),
         check=lambda df: math.isnan(_value(df, size_class="50-249",
                                               measure="trade_value")["value"])),
    Case("api-zero-value-ok", "api", sub(5, ",400,", ",0,"),
         check=lambda df: _value(df, size_class="250+", measure="trade_value")["value"] == 0),
    Case("api-year-range-option", "api", sub(2, ",2021,", ",1850,"),
         check=lambda df: sorted(df["year"].unique().tolist()) == [1850, 2021] or
         pytest.fail("year_range not applied"), kwargs={"year_range": (1800, 2030)}),
    Case("api-exponent-value-ok", "api", sub(2, ",100,", ",1e2,"), check=_api_ok),
    # --- options --------------------------------------------------------------------------
    Case("opt-dataset-int", "api", same, OptionError, ("dataset=5",), kwargs={"dataset": 5}),
    Case("opt-dataset-bad", "api", same, OptionError, ("'tec1'",), kwargs={"dataset": "tec1"}),
    Case("opt-year-range-reversed", "api", same, OptionError, ("(2030, 2000)",),
         kwargs={"year_range": (2030, 2000)}),
    Case("opt-year-range-float", "api", same, OptionError, ("year_range",),
         kwargs={"year_range": (2000.5, 2030)}),
    # --- Eurostat data-browser SDMX-CSV with labels -----------------------------------
    Case("browser-quoted-comma-label-ok", "browser", same,
         check=lambda df: _value(df, partner="KR")["value"] == 7000.0),
    Case("browser-unquoted-comma-label", "browser",
         sub(7, '"Korea, Republic of"', "Korea, Republic of"), InvalidValueError,
         ("line 7 has 24", "23 fields", "ext_tec10_browser.csv")),
    Case("browser-multiline-label-ok", "browser",
         sub(7, '"Korea, Republic of"', '"Korea,\nRepublic of"'),
         check=lambda df: _value(df, partner="KR")["value"] == 7000.0),
    Case("browser-multiline-label-short-row", "browser",
         lambda t: sub(7, '"Korea, Republic of"', '"Korea,\nRepublic of"')(
             sub(3, ",20,", ",")(t)), InvalidValueError, ("record 3 has 22", "header = record 1")),
    Case("browser-negative", "browser", sub(2, ",10,", ",-10,"), InvalidValueError,
         ("'-10'", "negative", "line 2")),
    Case("browser-year-1850", "browser", sub(2, ",2022,", ",1850,"), InvalidValueError,
         ("'1850'", "line 2")),
    Case("browser-partner-WLD", "browser", sub(2, ",WORLD,", ",WLD,"), UnknownCodeError,
         ("'WLD'",)),
    Case("browser-duplicate", "browser", dup_line(2), DuplicateIdError, ("lines [2, 8]",)),
    # --- Eurostat TSV (current layout) --------------------------------------------------
    Case("tsv-ok", "tsv", same, check=lambda df: (
        _value(df, year=2021, size_class="0-9")["value"] == 100_000.0
        and math.isnan(_value(df, year=2022, size_class="50-249")["value"])) or
        pytest.fail("tsv values")),
    Case("tsv-negative-cell", "tsv", sub(3, "\t200", "\t-5000"), InvalidValueError,
         ("'-5000'", "negative", "line 3", "'2021 '")),
    Case("tsv-inf-cell", "tsv", sub(3, "\t200", "\tinf"), InvalidValueError,
         ("'inf'", "column '2021 '")),
    Case("tsv-year-1850", "tsv", sub(1, "2021 ", "1850 "), InvalidValueError,
         ("'1850'", "plausible range")),
    Case("tsv-year-float-header", "tsv", sub(1, "2021 ", "2021.0"), InvalidValueError,
         ("'2021.0'", "not a year")),
    Case("tsv-extra-tab", "tsv", sub(4, "\t: c", "\t: c\t5"), InvalidValueError,
         ("line 4 has 4", "3 fields")),
    Case("tsv-missing-tab", "tsv", sub(5, "\t:", ""), InvalidValueError,
         ("line 5 has 2",)),
    Case("tsv-duplicate-key", "tsv", dup_line(2), DuplicateIdError,
         ("lines [2, 7]", "ext_tec01_new.tsv")),
    Case("tsv-unknown-partner", "tsv", sub(2, ",WORLD,", ",WLD,"), UnknownCodeError,
         ("'WLD'", "line 2")),
    Case("tsv-short-key", "tsv", sub(2, "A,TOTAL,", "A,"), InvalidValueError,
         ("data row 1", "7 comma-separated codes")),
    Case("tsv-bad-cell", "tsv", sub(2, "100 ", "100 200"), InvalidValueError,
         ("'100 200'", "data row 1")),
    Case("tsv-confidential-ok", "tsv", sub(2, "\t100 ", "\t: @C"),
         check=lambda df: bool(_value(df, year=2021, size_class="0-9")["confidential"]) or
         pytest.fail("@C not confidential")),
    Case("tsv-no-dataset-name", "tsv", same, OptionError, ("dataset=",),
         kwargs={"dataset": "EXT-TEC01"}),
    # --- Eurostat TSV (legacy layout) ---------------------------------------------------
    Case("legacy-ok", "legacy", same, check=lambda df: (
        _value(df, year=2014, size_class="0-9")["value"] == 50
        and bool(_value(df, year=2013, size_class="total")["confidential"])) or
        pytest.fail("legacy values")),
    Case("legacy-negative", "legacy", sub(2, "\t50 ", "\t-50 "), InvalidValueError,
         ("'-50'", "negative")),
    Case("legacy-year-1850", "legacy", sub(1, "2013 ", "1850 "), InvalidValueError,
         ("'1850'",)),
    Case("legacy-extra-field", "legacy", sub(2, "\t48 ", "\t48 \t7"), InvalidValueError,
         ("line 2 has 4",)),
    Case("legacy-unknown-flag", "legacy", sub(2, "48 ", "48 x"), UnknownCodeError, ("'x'",)),
    # --- OECD SDMX-CSV ------------------------------------------------------------------
    Case("oecd-ok", "oecd", same, check=lambda df: (
        _value(df, size_class="0-9")["value"] == 10.5e6
        and _value(df, measure="enterprises")["value"] == 300) or pytest.fail("oecd")),
    Case("oecd-unit-mult-400", "oecd", sub(2, ",A,6,1", ",A,400,1"), InvalidValueError,
         ("UNIT_MULT '400'", "SDMX", "line 2", "oecd_tec01.csv")),
    Case("oecd-unit-mult-float", "oecd", sub(2, ",A,6,1", ",A,6.0,1"), InvalidValueError,
         ("'6.0'", "floating-point")),
    Case("oecd-unit-mult-negative", "oecd", sub(3, ",A,6,1", ",A,-3,1"), InvalidValueError,
         ("'-3'", "outside", "line 3")),
    Case("oecd-unit-mult-text", "oecd", sub(2, ",A,6,1", ",A,six,1"), InvalidValueError,
         ("'six'", "integer")),
    Case("oecd-unit-mult-empty-ok", "oecd", sub(2, ",A,6,1", ",A,,1"),
         check=lambda df: _value(df, size_class="0-9")["value"] == 10.5),
    Case("oecd-negative", "oecd", sub(3, ",20,", ",-20,"), InvalidValueError,
         ("'-20'", "line 3")),
    Case("oecd-partner-WLD", "oecd", sub(2, ",W,", ",WLD,"), UnknownCodeError,
         ("'WLD'", "PARTNER_COUNTRY")),
    Case("oecd-partner-iso3-ok", "oecd", sub(2, ",W,", ",DEU,"),
         check=lambda df: "DEU" in set(df["partner"]) or pytest.fail("DEU")),
    Case("oecd-year-1850", "oecd", sub(4, ",2013,", ",1850,"), InvalidValueError,
         ("'1850'", "line 4")),
    Case("oecd-field-too-many", "oecd", sub(6, ",A,6,1", ",A,6,1,extra"), InvalidValueError,
         ("line 6 has 24",)),
    Case("oecd-measure-unit-clash", "oecd", sub(7, ",ENT,", ",USD,"), InvalidValueError,
         ("MEASURE", "UNIT_MEASURE", "line 7")),
    # --- business counts (OECD SDBS) ------------------------------------------------------
    Case("counts-ok", "counts", same, check=lambda df: (
        _value(df, size_class="10-49")["enterprises"] == 100
        and _value(df, size_class="10-49")["size_code"] == "S10T19+S20T49") or
        pytest.fail("counts")),
    Case("counts-negative", "counts", sub(3, ",60,", ",-60,"), InvalidValueError,
         ("'-60'", "negative", "line 3", "sdbs.csv")),
    Case("counts-inf", "counts", sub(3, ",60,", ",inf,"), InvalidValueError, ("'inf'",)),
    Case("counts-year-float", "counts", sub(2, ",2013,", ",2013.0,"), InvalidValueError,
         ("'2013.0'", "floating-point")),
    Case("counts-year-text", "counts", sub(2, ",2013,", ",abc,"), InvalidValueError,
         ("'abc'", "not a year")),
    Case("counts-year-1850", "counts", sub(2, ",2013,", ",1850,"), InvalidValueError,
         ("'1850'",)),
    Case("counts-unit-mult-400", "counts", rsub(2, ",0", ",400"), InvalidValueError,
         ("'400'", "UNIT_MULT")),
    Case("counts-unit-mult-text", "counts", rsub(2, ",0", ",x"), InvalidValueError,
         ("UNIT_MULT 'x'",)),
    Case("counts-duplicate", "counts", dup_line(3), DuplicateIdError,
         ("lines [3, 8]", "sdbs.csv")),
    Case("counts-field-too-few", "counts", sub(4, ",ENT,", ","), InvalidValueError,
         ("line 4 has 12",)),
    Case("counts-unknown-size", "counts", sub(2, ",S1T9,", ",S3T7,"), UnknownCodeError,
         ("'S3T7'", "SIZE_CLASS", "line 2")),
    Case("counts-float-size-code", "counts", sub(6, ",S_GE250,", ",250.0,"),
         InvalidValueError, ("'250.0'", "floating-point")),
]


def _write(case: Case, tmp_path: Path) -> Path:
    text, name, _ = BASES[case.base]
    if case.raw is not None:
        data = case.raw(text)
        if case.id.endswith("gz") or data[:2] == b"\x1f\x8b":
            name += ".gz"
        path = tmp_path / name
        path.write_bytes(data)
        return path
    path = tmp_path / name
    path.write_text(case.mutate(text) if case.mutate else text, encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize("case", LOADER_CASES, ids=[c.id for c in LOADER_CASES])
def test_loader_corpus(case: Case, tmp_path):
    path = _write(case, tmp_path)
    loader = load_business_counts if BASES[case.base][2] == "counts" else load_tec
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExclusionWarning)
        if case.error is not None:
            with pytest.raises(case.error) as info:
                loader(path, **case.kwargs)
            assert isinstance(info.value, MsmeStatsError)
            msg = str(info.value)
            for part in case.names:
                assert part in msg, f"{part!r} not in message: {msg}"
            if case.kwargs == {} and case.id not in {"api-empty-file", "api-whitespace-file"}:
                assert path.name in msg, f"file not named: {msg}"
        else:
            df = loader(path, **case.kwargs)
            result = case.check(df)
            assert result is None or result is True or result is np.True_


# ------------------------------------------------------------------------------------
# paths and source types
# ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "error", "part"),
    [
        (lambda p: p, UnreadableFileError, "is a folder"),
        (lambda p: p / "missing.csv", UnreadableFileError, "missing.csv"),
        (lambda p: str(p / "nothing*.csv"), EmptyInputError, "matched no file"),
        (lambda p: [], EmptyInputError, "list of files is empty"),
        (lambda p: 42, OptionError, "not int"),
        (lambda p: [None], OptionError, "is not a path"),
        (lambda p: "", OptionError, "empty string"),
        (lambda p: p / ("x" * 300 + ".csv"), UnreadableFileError, "x" * 20),
        (lambda p: pd.DataFrame({"a": [1]}), OptionError, "DataFrame"),
    ],
    ids=["directory", "missing", "empty-glob", "empty-list", "int", "none-item",
         "empty-string", "name-too-long", "dataframe"],
)
def test_paths_and_source_types(make, error, part, tmp_path):
    for loader in (load_tec, load_business_counts):
        with pytest.raises(error, match=None) as info:
            loader(make(tmp_path))
        assert part in str(info.value)


def test_symlink_loop(tmp_path):
    link = tmp_path / "loop.csv"
    os.symlink(link, link)
    with pytest.raises(UnreadableFileError, match="loop.csv"):
        load_tec(link)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads all")
def test_permission_denied(tmp_path):
    path = tmp_path / "ext_tec01_api.csv"
    path.write_text(API)
    path.chmod(0)
    try:
        with pytest.raises(UnreadableFileError, match="ext_tec01_api.csv"):
            load_tec(path)
    finally:
        path.chmod(0o600)


def test_plausible_ranges_are_documented_data():
    lo, hi = plausible_range("tec_year")
    assert lo == 2000 and hi >= 2026
    assert plausible_range("unit_mult") == (0, 24)


def test_plausible_range_unknown_name():
    with pytest.raises(OptionError, match=r"'tec_years'.*'counts_year', 'tec_year', 'unit_mult'"):
        plausible_range("tec_years")


# ------------------------------------------------------------------------------------
# tec_indicators
# ------------------------------------------------------------------------------------
@pytest.fixture()
def api_tec(tmp_path):
    path = tmp_path / "ext_tec01_api.csv"
    path.write_text(API)
    return load_tec(path)


def _set(frame, value, **kw):
    out = frame.copy()
    sel = np.ones(len(out), dtype=bool)
    for k, v in kw.items():
        sel &= (out[k] == v).to_numpy()
    assert sel.sum() == 1
    out.loc[sel, "value"] = value
    return out


IND_ERROR_CASES = [
    ("negative-austrian-cell",
     lambda t: _set(t, -5000.0, size_class="10-49", measure="trade_value"), {},
     InvalidValueError, ("-5000.0", "country='AUT'", "size_class='10-49'")),
    ("inf-cell", lambda t: _set(t, np.inf, size_class="total", measure="trade_value"), {},
     InvalidValueError, ("inf", "size_class='total'")),
    ("text-value", lambda t: t.assign(value=t["value"].astype(object).where(
        t["size_class"] != "0-9", "12%")), {}, InvalidValueError, ("'12%'", "'value'")),
    ("duplicated-world-cell", lambda t: pd.concat([t, t.iloc[[0]]]), {},
     DuplicateIdError, ("partner='WORLD'", "size_class='0-9'", "positions [0, 10]")),
    ("partner-WLD", lambda t: t, {"partner": "WLD"}, UnknownCodeError,
     ("'WLD'", "'WORLD'")),
    ("partners-unknown", lambda t: t, {"partners": ["XX"]}, UnknownCodeError, ("'XX'",)),
    ("activity-absent", lambda t: t, {"activity": "C"}, UnknownCodeError,
     ("activity='C'", "TOTAL")),
    ("breakdown-absent", lambda t: t, {"breakdown": "TOWNERSHIP=FOR"}, UnknownCodeError,
     ("TOWNERSHIP=FOR",)),
    ("year-float", lambda t: t.assign(year=t["year"].astype(float) + 0.5), {},
     InvalidValueError, ("'year'", "2021.5")),
    ("year-missing", lambda t: t.assign(year=t["year"].astype(float).where(
        t["size_class"] != "0-9")), {}, InvalidValueError, ("'year'",)),
    ("confidential-text", lambda t: t.assign(confidential="yes"), {}, InvalidValueError,
     ("'confidential'", "'yes'")),
    ("not-a-frame", lambda t: t.to_dict(), {}, OptionError, ("DataFrame", "dict")),
    ("business-counts-list", lambda t: t, {"business_counts": [1, 2]}, OptionError,
     ("business_counts", "list")),
    ("participation-activity-int", lambda t: t, {"participation_activity": 5}, OptionError,
     ("participation_activity=5",)),
    ("out-of-range-option", lambda t: t, {"out_of_range": "clip"}, OptionError,
     ("out_of_range",)),
    ("missing-column", lambda t: t.drop(columns="measure"), {}, MissingColumnsError,
     ("measure",)),
    ("nan-country", lambda t: t.assign(country=t["country"].where(t["size_class"] != "0-9")),
     {}, InvalidValueError, ("'country' is missing", "size_class='0-9'")),
    ("nan-partner", lambda t: t.assign(partner=t["partner"].where(t["size_class"] != "0-9")),
     {}, InvalidValueError, ("'partner' is missing",)),
    ("measure-unknown", lambda t: t.assign(measure=t["measure"].where(
        t["size_class"] != "0-9", "foo")), {}, InvalidValueError, ("['foo']", "'measure'")),
    ("size-unknown", lambda t: t.assign(size_class=t["size_class"].replace("0-9", "micro")),
     {}, InvalidValueError, ("['micro']", "'size_class'")),
    ("flow-unknown", lambda t: t.assign(flow="shipments"), {}, InvalidValueError,
     ("['shipments']",)),
    ("year-text", lambda t: t.assign(year=t["year"].astype(str)), {}, InvalidValueError,
     ("'year'", "'2021'", "astype(int)")),
    ("value-bool", lambda t: t.assign(value=True), {}, InvalidValueError, ("'value'",)),
    ("empty-frame", lambda t: t.iloc[0:0], {}, EmptyInputError, ("no rows",)),
    ("mixed-currency-cell", lambda t: t.assign(unit=np.where(
        np.arange(len(t)) % 2 == 0, "EUR", "USD")), {}, InvalidValueError,
     ("several units", "'EUR', 'USD'")),
    ("indicators-int", lambda t: t, {"indicators": 5}, OptionError, ("indicators=5",)),
    ("indicators-unknown", lambda t: t, {"indicators": "msme_share"}, MsmeStatsError,
     ("msme_share",)),
    ("by-absent-column", lambda t: t, {"by": "region"}, MissingColumnsError, ("region",)),
    ("tec-denominator-unknown", lambda t: t, {"tec_denominator": "sum"}, OptionError,
     ("tec_denominator",)),
    ("indicators-empty-list", lambda t: t, {"indicators": []}, OptionError,
     ("indicators=[]",)),
    ("no-world-partner", lambda t: t.assign(partner="INT_EU"),
     {"indicators": "msme_share_export_value"}, UnknownCodeError,
     ("partner='WORLD'", "INT_EU", "partner=None")),
    ("share-over-100-raise",
     lambda t: _set(t, 500_000.0, size_class="total", measure="trade_value"),
     {"out_of_range": "raise", "indicators": "msme_share_export_value"},
     InvalidValueError, ("outside [0, 100]", "120.0", "numerator 600000.0")),
]


@pytest.mark.parametrize(("cid", "edit", "kwargs", "error", "names"), IND_ERROR_CASES,
                         ids=[c[0] for c in IND_ERROR_CASES])
def test_tec_indicators_errors(cid, edit, kwargs, error, names, api_tec):
    kwargs = dict(kwargs)
    ids = kwargs.pop("indicators", None)
    with pytest.raises(error) as info:
        tec_indicators(edit(api_tec), ids, **kwargs)
    assert isinstance(info.value, MsmeStatsError)
    for part in names:
        assert part in str(info.value), f"{part!r} not in {info.value}"


def _est(est, indicator, size_class):
    sel = est[(est["indicator"] == indicator) & (est["size_class"] == size_class)]
    assert len(sel) == 1
    return sel.iloc[0]


def test_object_dtype_numbers_are_accepted(api_tec):
    obj = api_tec.assign(value=api_tec["value"].astype(object))
    est = tec_indicators(obj, "msme_share_export_value")
    assert est["estimate"].iloc[0] == pytest.approx(600 / 1100 * 100)


def test_hand_computed_shares(api_tec):
    est = tec_indicators(api_tec, ["msme_share_export_value", "msme_share_exporters"])
    # (100 + 200 + 300) / 1100 x 100 and (50 + 20 + 8) / 90 x 100
    assert _est(est, "msme_share_export_value", "0-249")["estimate"] == pytest.approx(
        600 / 1100 * 100, rel=1e-12)
    assert _est(est, "msme_share_exporters", "0-249")["estimate"] == pytest.approx(
        78 / 90 * 100, rel=1e-12)
    assert set(est["status"]) == {"ok"}


def test_share_over_100_is_flagged_not_returned(api_tec):
    # TOTAL 500 < SME classes 600: an impossible 120 % share
    bad = _set(api_tec, 500_000.0, size_class="total", measure="trade_value")
    with pytest.warns(ExclusionWarning, match="outside"):
        est = tec_indicators(bad, ["msme_share_export_value", "tec_value_share_by_size"])
    row = _est(est, "msme_share_export_value", "0-249")
    assert row["status"] == "out_of_range" and math.isnan(row["estimate"])
    assert "120" in row["flags"]
    # 250+ share 400/500 = 80 % is still a valid share
    assert _est(est, "tec_value_share_by_size", "250+")["estimate"] == pytest.approx(80.0)


def test_negative_residual_is_kept_and_flagged(api_tec):
    # classes sum 1000 > TOTAL 990: implicit unknown share = -10/990 x 100
    bad = _set(api_tec, 990_000.0, size_class="total", measure="trade_value")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExclusionWarning)
        est = tec_indicators(bad, "tec_implicit_unknown_value_share")
    row = _est(est, "tec_implicit_unknown_value_share", "unknown")
    assert row["estimate"] == pytest.approx(-10 / 990 * 100)
    assert "classes exceed TOTAL" in row["flags"]


def test_zero_denominator_status(api_tec):
    zero = api_tec.copy()
    zero.loc[zero["measure"] == "trade_value", "value"] = 0.0
    est = tec_indicators(zero, "msme_share_export_value")
    assert est["status"].tolist() == ["zero_denominator"] and est["estimate"].isna().all()


def test_confidential_component_gives_nan(api_tec):
    conf = api_tec.copy()
    sel = (conf["size_class"] == "10-49") & (conf["measure"] == "trade_value")
    conf.loc[sel, "value"] = np.nan
    conf.loc[sel, "confidential"] = True
    est = tec_indicators(conf, "msme_share_export_value")
    assert est["status"].tolist() == ["confidential"] and est["estimate"].isna().all()


# ------------------------------------------------------------------------------------
# cross-country averaging and the published comparison
# ------------------------------------------------------------------------------------
def _two_countries(api_tec):
    other = api_tec.copy()
    other["geo"] = "BE"
    other["country"] = "BEL"
    other.loc[(other["size_class"] == "total") & (other["measure"] == "trade_value"),
              "value"] = 2_000_000.0
    return tec_indicators(pd.concat([api_tec, other], ignore_index=True),
                          "msme_share_export_value")


def test_country_mean_and_pooled_hand_computed(api_tec):
    est = _two_countries(api_tec)
    mean = tec_cross_country_average(est)
    assert mean["estimate"].iloc[0] == pytest.approx((600 / 1100 + 600 / 2000) / 2 * 100)
    assert mean["n_countries"].iloc[0] == 2
    pooled = tec_cross_country_average(est, aggregation="pooled", year_rule=2021)
    assert pooled["estimate"].iloc[0] == pytest.approx(1200 / 3100 * 100)


AVG_ERROR_CASES = [
    ("year-rule-float", {"year_rule": 2021.5}, OptionError, ("2021.5",)),
    ("year-rule-none", {"year_rule": None}, OptionError, ("year_rule=None",)),
    ("year-rule-reversed", {"year_rule": (2022, 2020)}, OptionError, ("(2022, 2020)",)),
    ("year-rule-strings", {"year_rule": ("a", "b")}, OptionError, ("('a', 'b')",)),
    ("year-rule-text-year", {"year_rule": "2021"}, OptionError, ("2021",)),
    ("year-rule-bool", {"year_rule": True}, OptionError, ("True",)),
    ("countries-unknown", {"countries": ["XXX"]}, UnknownCodeError, ("'XXX'", "AUT")),
    ("aggregation-unknown", {"aggregation": "median"}, OptionError, ("median",)),
]


@pytest.mark.parametrize(("cid", "kwargs", "error", "names"), AVG_ERROR_CASES,
                         ids=[c[0] for c in AVG_ERROR_CASES])
def test_average_option_errors(cid, kwargs, error, names, api_tec):
    est = _two_countries(api_tec)
    with pytest.raises(error) as info:
        tec_cross_country_average(est, **kwargs)
    for part in names:
        assert part in str(info.value), f"{part!r} not in {info.value}"


AVG_FRAME_CASES = [
    ("share-120", lambda e: e.assign(estimate=120.0), {}, InvalidValueError,
     ("outside [0, 100]", "120.0")),
    ("share-negative", lambda e: e.assign(estimate=-1.0), {}, InvalidValueError, ("-1.0",)),
    ("estimate-inf", lambda e: e.assign(estimate=np.inf), {}, InvalidValueError, ("inf",)),
    ("estimate-text", lambda e: e.assign(estimate="54%"), {}, InvalidValueError, ("'54%'",)),
    ("duplicated-country", lambda e: pd.concat([e, e.iloc[[0]]]), {}, DuplicateIdError,
     ("country would count twice",)),
    ("pooled-negative-numerator", lambda e: e.assign(numerator=-1.0),
     {"aggregation": "pooled"}, InvalidValueError, ("numerator",)),
    ("not-a-frame", lambda e: e.to_numpy(), {}, OptionError, ("ndarray",)),
]


@pytest.mark.parametrize(("cid", "edit", "kwargs", "error", "names"), AVG_FRAME_CASES,
                         ids=[c[0] for c in AVG_FRAME_CASES])
def test_average_frame_errors(cid, edit, kwargs, error, names, api_tec):
    est = _two_countries(api_tec)
    with pytest.raises(error) as info:
        tec_cross_country_average(edit(est), **kwargs)
    for part in names:
        assert part in str(info.value), f"{part!r} not in {info.value}"


def test_compare_published_reference_errors(api_tec, tmp_path):
    with pytest.raises(UnreadableFileError, match="reference"):
        tec_compare_published(api_tec, reference_values=tmp_path)  # a folder
    with pytest.raises(OptionError, match="reference_values"):
        tec_compare_published(api_tec, reference_values=5)
    with pytest.raises(MissingColumnsError, match="value"):
        tec_compare_published(api_tec, reference_values=pd.DataFrame({"ref_id": ["x"]}))
    bad = tmp_path / "refs.csv"
    bad.write_bytes(b"ref_id,value\n\xff\xfe,1\n")
    with pytest.raises(MsmeStatsError):
        tec_compare_published(api_tec, reference_values=bad)


# ------------------------------------------------------------------------------------
# download helpers (no network: urlopen is replaced)
# ------------------------------------------------------------------------------------
class _Resp:
    def __init__(self, data: bytes):
        self.data = data

    def __enter__(self):
        return self

    def __exit__(self, *a):
        return False

    def read(self):
        return self.data


def _raiser(exc):
    def f(*a, **k):
        raise exc
    return f


DOWNLOAD_CASES = [
    ("dataset-int", {"dataset": 5}, None, OptionError, ("dataset=5",)),
    ("key-with-space", {"key": "A. THS"}, None, OptionError, ("key=",)),
    ("key-int", {"key": 3}, None, OptionError, ("key=3",)),
    ("version-bad", {"version": "v1/../x"}, None, OptionError, ("version=",)),
    ("timeout-negative", {"timeout": -1}, None, OptionError, ("timeout=-1",)),
    ("timeout-nan", {"timeout": float("nan")}, None, OptionError, ("timeout=nan",)),
    ("cache-dir-none", {"cache_dir": None}, None, OptionError, ("cache_dir=None",)),
    ("connection-reset", {}, _raiser(ConnectionResetError("reset by peer")), OfflineError,
     ("ext_tec01", "reset by peer")),
    ("incomplete-read", {}, _raiser(http.client.IncompleteRead(b"ab", 10)), OfflineError,
     ("IncompleteRead",)),
    ("bad-status-line", {}, _raiser(http.client.BadStatusLine("x")), OfflineError,
     ("BadStatusLine",)),
    ("empty-payload", {}, lambda *a, **k: _Resp(b""), UnreadableFileError,
     ("empty file", "nothing was cached")),
]


@pytest.mark.parametrize(("cid", "kwargs", "urlopen", "error", "names"), DOWNLOAD_CASES,
                         ids=[c[0] for c in DOWNLOAD_CASES])
def test_download_errors(cid, kwargs, urlopen, error, names, tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen",
                        urlopen or _raiser(AssertionError("no request expected")))
    args = {"dataset": "ext_tec01", "cache_dir": tmp_path / "cache", **kwargs}
    dataset = args.pop("dataset")
    with pytest.raises(error) as info:
        download_tec(dataset, **args)
    for part in names:
        assert part in str(info.value), f"{part!r} not in {info.value}"
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


def test_download_cache_dir_is_a_file(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: _Resp(b"x,y\n"))
    f = tmp_path / "afile"
    f.write_text("")
    with pytest.raises(WriteError, match="afile"):
        download_tec("ext_tec01", cache_dir=f)


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes all")
def test_download_cache_not_writable(tmp_path, monkeypatch):
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: _Resp(b"x,y\n"))
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        with pytest.raises(WriteError, match="ro"):
            download_tec("ext_tec01", cache_dir=ro)
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o700)


def test_permission_denied_simulated(tmp_path, monkeypatch):
    """As root the chmod test above is skipped; simulate the OS error instead."""
    path = tmp_path / "ext_tec01_api.csv"
    path.write_text(API)

    def denied(self):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(UnreadableFileError, match="Permission denied"):
        load_tec(path)


def _disk_full(fd):
    raise OSError(28, "No space left on device")


def _rename_denied(src, dst):
    raise PermissionError(13, "Permission denied", str(src), None, str(dst))


@pytest.mark.parametrize(("step", "failure", "message"),
                         [("fsync", _disk_full, "No space left on device"),
                          ("replace", _rename_denied, "Permission denied")],
                         ids=["disk-full-while-writing", "rename-denied"])
def test_cache_not_writable_simulated(step, failure, message, tmp_path, monkeypatch):
    """As root the chmod test above is skipped; make the OS fail inside the atomic writer
    instead (while the bytes are flushed, or at the final rename). A refresh that fails
    leaves the previously cached file and its sidecar as they were and no temporary file."""
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: _Resp(b"x,y\n1,2\n"))
    cache = tmp_path / "c"
    first = download_tec("ext_tec01", cache_dir=cache)
    sidecar = first.with_name(first.name + ".json")
    before = {p.name: p.read_bytes() for p in cache.iterdir()}
    assert set(before) == {first.name, sidecar.name} and before[first.name] == b"x,y\n1,2\n"
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **k: _Resp(b"x,y\n3,4\n"))
    monkeypatch.setattr(os, step, failure)
    with pytest.raises(WriteError, match=message):
        download_tec("ext_tec01", cache_dir=cache, refresh=True)
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in cache.iterdir()} == before


@pytest.mark.parametrize(
    ("start", "end", "error", "part"),
    [(2021.0, 2021, OptionError, "start=2021.0"), (2021, "2022", OptionError, "end='2022'"),
     (2021, 2030, InvalidValueError, "end=2030")],
    ids=["start-float", "end-text", "end-absent"])
def test_change_between_errors(start, end, error, part, api_tec):
    est = tec_indicators(api_tec, "msme_share_export_value")
    with pytest.raises(error, match=None) as info:
        change_between(est, start, end)
    assert part in str(info.value)


def test_compare_published_unknown_country(api_tec):
    with pytest.raises(UnknownCodeError, match="XXX"):
        tec_compare_published(api_tec, countries=["XXX"])
    res = tec_compare_published(api_tec, countries=["AUT"])
    row = res[(res["indicator"] == "msme_share_export_value")
              & (res["aggregation"] == "country_mean")].iloc[0]
    assert row["recomputed"] == pytest.approx(600 / 1100 * 100)


def test_stray_carriage_return(tmp_path):
    path = tmp_path / "ext_tec01_api.csv"
    path.write_text(sub(3, ",AT,", ",A\rT,")(API), newline="")
    with pytest.raises(UnreadableFileError, match="line 3: a carriage return"):
        load_tec(path)


@pytest.mark.parametrize("base", sorted(BASES))
def test_random_corruptions_never_leak(base, tmp_path):
    """Seeded random byte edits (delete/insert/replace 1-3 characters) of each base file:
    the loader returns a frame or raises a MsmeStatsError, never a raw pandas/csv/numpy
    exception (this found a csv.Error from a stray carriage return)."""
    import random

    rng = random.Random(f"tec-corpus-{base}")
    text, name, kind = BASES[base]
    loader = load_business_counts if kind == "counts" else load_tec
    alphabet = [*",\t\n\":.-0123456789aZ eE@", "\r", "\x00", "é", "inf"]
    path = tmp_path / name
    for _ in range(60):
        chars = list(text)
        for _ in range(rng.randint(1, 3)):
            op, pos = rng.random(), rng.randrange(len(chars))
            if op < 0.33:
                del chars[pos]
            elif op < 0.66:
                chars.insert(pos, rng.choice(alphabet))
            else:
                chars[pos] = rng.choice(alphabet)
        path.write_text("".join(chars), encoding="utf-8", newline="")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                loader(path)
            except MsmeStatsError:
                pass


_DATA = Path(__file__).resolve().parent.parent / "data"
_BUNDLED = sorted(p for p in (_DATA / "tec_samples").iterdir() if p.suffix in {".csv", ".tsv"}) \
    + [_DATA / "eurostat_ext_tec10" / "ext_tec10.csv.gz"]


@pytest.mark.parametrize("path", _BUNDLED, ids=[p.name for p in _BUNDLED])
def test_bundled_files_load_without_options(path):
    """The real ext_tec10 download and every specimen still load with no options, and pass
    the invariants the strict loader enforces."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ExclusionWarning)
        if "SDBS" in path.name:
            df = load_business_counts(path)
            values = df["enterprises"]
        else:
            df = load_tec(path)
            values = df["value"]
            assert not df.duplicated(["source", "geo", "year", "flow", "partner", "activity",
                                      "size_class", "measure", "breakdown"]).any()
    lo, hi = plausible_range("tec_year")
    assert len(df) > 0 and df["year"].between(lo, hi).all()
    assert (values.dropna() >= 0).all() and np.isfinite(values.dropna()).all()
