"""Tests of msme_stats.sources.tec (TEC loaders) and msme_stats.samples.tec."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msme_stats.errors import (
    DuplicateIdError,
    EmptyInputError,
    ExclusionWarning,
    InvalidValueError,
    MsmeStatsError,
    NotRecognisedError,
    UnknownCodeError,
    UnknownCountryError,
    UnreadableFileError,
)
from msme_stats.samples.tec import write_tec_samples
from msme_stats.sources.tec import TEC_COLUMNS, load_business_counts, load_tec

FIX = Path(__file__).parent / "fixtures" / "tec"
REAL = Path(__file__).parent.parent / "data" / "eurostat_ext_tec10" / "ext_tec10.csv.gz"


def _cell(df, **kw):
    sel = df
    for k, v in kw.items():
        sel = sel[sel[k] == v]
    assert len(sel) == 1, kw
    return sel.iloc[0]


# --- Eurostat API SDMX-CSV ----------------------------------------------------------
def test_api_sdmx_columns_units_and_geo():
    df = load_tec(FIX / "ext_tec01_api.csv")
    assert list(df.columns) == list(TEC_COLUMNS)
    assert len(df) == 40
    c = _cell(df, geo="AT", year=2021, flow="exports", partner="WORLD", size_class="0-9",
              measure="trade_value")
    # 100 thousand EUR -> 100,000 EUR
    assert c["value"] == 100_000.0 and c["unit"] == "EUR" and c["unit_code"] == "THS_EUR"
    assert c["country"] == "AUT" and c["source"] == "ext_tec01" and c["activity"] == "TOTAL"
    n = _cell(df, geo="AT", year=2021, measure="enterprises", size_class="total")
    assert n["value"] == 110 and n["unit"] == "enterprises"
    assert set(df.loc[df["geo"] == "EL", "country"]) == {"GRC"}
    assert set(df.loc[df["geo"] == "UK", "country"]) == {"GBR"}
    eu = df[df["geo"] == "EU27_2020"]
    assert (~eu["is_country"]).all() and (eu["geo_type"] == "aggregate").all()
    assert set(df["flow"]) == {"exports", "imports"}


def test_confidential_cell_is_nan_with_flag_kept_and_not_backed_out():
    df = load_tec(FIX / "ext_tec01_api.csv")
    c = _cell(df, geo="EL", size_class="0-9", measure="trade_value")
    assert math.isnan(c["value"]) and c["confidential"] and c["conf_status"] == "C"
    # TOTAL (800) minus other classes (80+120+500=700) would give 100: never done
    assert df.loc[df["geo"] == "EL", "value"].isna().sum() == 1


def test_flags_kept_and_series_break():
    df = load_tec(FIX / "ext_tec01_api.csv")
    assert _cell(df, geo="AT", year=2021, flow="exports", partner="WORLD",
                 size_class="50-249", measure="trade_value")["flag"] == "e"
    assert not df.loc[df["year"] == 2021, "series_break"].any()
    assert df.loc[df["year"] == 2022, "series_break"].all()


def test_gzip_and_glob_and_list():
    a = load_tec(FIX / "ext_tec01_api.csv.gz")
    b = load_tec(str(FIX / "ext_tec01_api.csv"))
    pd.testing.assert_frame_equal(a.drop(columns="file"), b.drop(columns="file"))
    both = load_tec([FIX / "ext_tec01_api.csv", FIX / "oecd_tec01.csv"])
    assert set(both["source"]) == {"ext_tec01", "DF_TEC01"}
    globbed = load_tec(str(FIX / "oecd_tec01.c*v"))
    assert len(globbed) == 9


# --- data browser with labels -------------------------------------------------------
def test_browser_labels_de_2022():
    df = load_tec(FIX / "ext_tec10_browser.csv")
    de = df[(df["geo"] == "DE") & (df["year"] == 2022) & (df["partner"] == "WORLD")]
    v = de[de["measure"] == "trade_value"].set_index("size_class")["value"]
    # METHODS 3.5: 47,686,953.12 + 75,327,933.41 + 167,404,120.45 + 1,087,186,665.26
    # = 1,377,605,672.24 thousand EUR
    assert v["total"] == pytest.approx(1_377_605_672.24e3, rel=1e-12)
    assert v[["0-9", "10-49", "50-249", "250+"]].sum() == pytest.approx(v["total"], rel=1e-12)
    assert de[(de["measure"] == "enterprises") & (de["size_class"] == "total")][
        "value"].iloc[0] == 266_698
    eu = df[df["geo"] == "EU"]
    assert (eu["country"] == "EU").all() and (~eu["is_country"]).all()
    assert df["confidential"].sum() == 2
    assert (df["flag"] == "n").sum() == 1


# --- TSV ------------------------------------------------------------------------------
def test_tsv_new_layout_cells_and_flags():
    df = load_tec(FIX / "ext_tec01_new.tsv")
    assert len(df) == 12 and set(df["source"]) == {"ext_tec01"}
    p = _cell(df, geo="AT", year=2022, size_class="0-9")
    assert p["value"] == 150_000 and p["flag"] == "p"
    c = _cell(df, geo="AT", year=2022, size_class="50-249")
    assert math.isnan(c["value"]) and c["confidential"] and c["flag"] == "c"
    m = _cell(df, geo="AT", year=2022, size_class="250+")
    assert math.isnan(m["value"]) and not m["confidential"]
    at = _cell(df, geo="EL", year=2021)
    assert at["confidential"] and at["conf_status"] == "C" and math.isnan(at["value"])
    bp = _cell(df, geo="EL", year=2022)
    assert bp["value"] == 12_500 and bp["flag"] == "bp"


def test_tsv_legacy_geo_time_without_freq():
    df = load_tec(FIX / "ext_tec01_legacy.tsv")
    assert set(df["year"]) == {2013, 2014}
    t = _cell(df, year=2013, size_class="total")
    assert t["confidential"] and math.isnan(t["value"])
    assert _cell(df, year=2014, size_class="0-9")["value"] == 50


def test_tsv_without_dataset_name_needs_option(tmp_path):
    p = tmp_path / "download.tsv"
    p.write_text((FIX / "ext_tec01_new.tsv").read_text())
    with pytest.raises(NotRecognisedError, match="dataset="):
        load_tec(p)
    assert set(load_tec(p, dataset="ext_tec01")["source"]) == {"ext_tec01"}


# --- OECD -----------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["oecd_tec01.csv", "oecd_tec01_labels.csv"])
def test_oecd_with_and_without_labels(name):
    df = load_tec(FIX / name)
    assert set(df["source"]) == {"DF_TEC01"} and set(df["country"]) == {"USA"}
    v = _cell(df, size_class="0-9", measure="trade_value")
    assert v["value"] == pytest.approx(10.5e6) and v["unit"] == "USD"  # 10.5 x 10^6
    assert _cell(df, size_class="unknown", measure="trade_value")["value"] == 20e6
    q = _cell(df, size_class="0-9", measure="enterprises")
    assert q["confidential"] and math.isnan(q["value"]) and q["flag"] == "Q"
    assert set(df["partner"]) == {"WORLD"} and set(df["activity"]) == {"TOTAL"}
    own = df[df["breakdown"] != ""]
    assert list(own["breakdown"]) == ["TOWNERSHIP=FOR"]
    assert (df["flow"] == "exports").all()


# --- malformed files ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "error", "pattern"),
    [
        ("wrong_header.csv", NotRecognisedError, "wrong_header.csv"),
        ("unknown_sizeclas.csv", UnknownCodeError, r"'UNK'.*'sizeclas'.*unknown_sizeclas.csv"),
        ("duplicated.csv", DuplicateIdError, r"duplicated.csv"),
        ("ext_tec01_stray_flag.tsv", UnknownCodeError, r"'x'.*stray_flag.tsv.*'2021 '"),
        ("ext_tec01_bad_cell.tsv", InvalidValueError, r"bad_cell.tsv.*row 1.*'100 200'"),
        ("ext_tec01_short_key.tsv", InvalidValueError, r"short_key.tsv.*row 1"),
        ("empty.csv", EmptyInputError, "empty.csv"),
        ("header_only.csv", EmptyInputError, "header_only.csv"),
        ("truncated.csv.gz", UnreadableFileError, "truncated.csv.gz"),
        ("unknown_flag.csv", UnknownCodeError, r"'x'.*OBS_FLAG.*unknown_flag.csv"),
        ("bad_value.csv", InvalidValueError, r"bad_value.csv.*'5a'"),
        ("unknown_geo.csv", UnknownCountryError, r"unknown_geo.csv.*QQ"),
    ],
)
def test_malformed_files_raise_typed_errors(name, error, pattern):
    with pytest.raises(error, match=pattern) as info:
        load_tec(FIX / name)
    assert isinstance(info.value, MsmeStatsError)


def test_missing_file_and_empty_glob():
    with pytest.raises(UnreadableFileError, match="nope.csv"):
        load_tec(FIX / "nope.csv")
    with pytest.raises(EmptyInputError, match="matched no file"):
        load_tec(str(FIX / "zzz*.csv"))
    with pytest.raises(EmptyInputError):
        load_tec([])


def test_duplicates_across_files_named():
    with pytest.raises(DuplicateIdError, match="ext_tec01_api.csv.gz"):
        load_tec([FIX / "ext_tec01_api.csv", FIX / "ext_tec01_api.csv.gz"])


# --- business counts ------------------------------------------------------------------
def test_business_counts_small_is_sum_and_nan_if_part_missing():
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        bc = load_business_counts(FIX / "sdbs.csv")
    msgs = [str(w.message) for w in rec if issubclass(w.category, ExclusionWarning)]
    assert any("EMPE" in m for m in msgs) and any("S1T249" in m for m in msgs)
    s13 = _cell(bc, year=2013, size_class="10-49")
    assert s13["enterprises"] == 100 and s13["size_code"] == "S10T19+S20T49"  # 60 + 40
    s14 = _cell(bc, year=2014, size_class="10-49")
    assert math.isnan(s14["enterprises"]) and s14["confidential"]  # S10T19 suppressed
    m = _cell(bc, year=2013, size_class="0-9")
    assert m["size_code"] == "S1T9" and m["enterprises"] == 1000
    assert _cell(bc, year=2013, size_class="total")["activity"] == "TOTAL"


def test_business_counts_unknown_size_raises():
    with pytest.raises(UnknownCodeError, match=r"S3T7.*SIZE_CLASS.*sdbs_unknown_size.csv"):
        load_business_counts(FIX / "sdbs_unknown_size.csv")


# --- samples -----------------------------------------------------------------------------
def test_samples_are_reproducible_and_loadable(tmp_path):
    a = write_tec_samples(tmp_path / "a", seed=3)
    b = write_tec_samples(tmp_path / "b", seed=3)
    for k in a:
        assert a[k].read_bytes() == b[k].read_bytes(), k
        assert "synthetic" in a[k].name
    sdmx = load_tec(a["eurostat_sdmx"])
    assert sdmx["country"].nunique() >= 20 and sdmx["confidential"].any()
    assert set(sdmx["flow"]) == {"exports", "imports"}
    tsv = load_tec(a["eurostat_tsv"])
    legacy = load_tec(a["eurostat_tsv_legacy"])
    pd.testing.assert_series_equal(tsv["value"], legacy["value"])
    # the TSV holds the TOTAL/WORLD subset of the SDMX cells: same values where both exist
    key = ["geo", "year", "flow", "size_class", "measure"]
    sub = sdmx[(sdmx["partner"] == "WORLD") & (sdmx["activity"] == "TOTAL")
               & (sdmx["geo"] != "EU27_2020")]
    m = sub.merge(tsv, on=key, suffixes=("_s", "_t"))
    assert len(m) == len(tsv)
    both = m["value_s"].notna() & m["value_t"].notna()
    np.testing.assert_allclose(m.loc[both, "value_s"], m.loc[both, "value_t"])
    assert load_tec(a["oecd_sdmx"])["source"].eq("DF_TEC01").all()
    with pytest.warns(ExclusionWarning):
        assert len(load_business_counts(a["oecd_sdbs"])) > 0


# --- the real ext_tec10 download --------------------------------------------------------
@pytest.mark.skipif(not REAL.exists(), reason="data/eurostat_ext_tec10 not present")
def test_real_ext_tec10_facts():
    df = load_tec(REAL)
    assert len(df) == 191_820
    assert int(df["confidential"].sum()) == 12_115  # METHODS 3.3
    assert df.loc[df["confidential"], "value"].isna().all()
    assert df["flag"].value_counts().to_dict() == {"": 190_807, "n": 585, "e": 418, "u": 10}
    assert (df["measure"] == "trade_value").sum() == 95_910
    assert df["geo"].nunique() == 38 and df["partner"].nunique() == 79
    de = df[(df["geo"] == "DE") & (df["year"] == 2022) & (df["partner"] == "WORLD")]
    v = de[de["measure"] == "trade_value"].set_index("size_class")["value"]
    assert v["total"] == pytest.approx(1_377_605_672.24e3, rel=1e-12)
    assert v.drop("total").sum() == pytest.approx(v["total"], rel=1e-12)
    n = de[de["measure"] == "enterprises"].set_index("size_class")["value"]
    # 170,885 + 65,013 + 22,612 + 8,188 = 266,698 exporters
    assert n.drop("total").sum() == n["total"] == 266_698
    # counts are not additive across partners: INT_EU + EXT_EU > WORLD (235,603 + 116,771)
    de_t = df[(df["geo"] == "DE") & (df["year"] == 2022) & (df["size_class"] == "total")
              & (df["measure"] == "enterprises")].set_index("partner")["value"]
    assert de_t["INT_EU"] == 235_603 and de_t["EXT_EU"] == 116_771
    assert set(df.loc[df["geo"] == "UKN", "geo_type"]) == {"subnational"}
    assert set(df.loc[df["geo"] == "XK", "country"]) == {"XKX"}
