"""Tests of the WBES loader on tiny specimen files written in the real formats."""

from __future__ import annotations

import gzip
import logging
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import msme_stats as ms
from msme_stats.errors import (
    DuplicateIdError,
    EmptyInputError,
    InvalidValueError,
    InvalidWeightError,
    MissingColumnsError,
    MsmeStatsError,
    NotRecognisedError,
    OptionError,
    RecodeWarning,
    UnknownCountryError,
    UnreadableFileError,
)
from msme_stats.sources.wbes import wbes_columns

ROOT = Path(__file__).resolve().parents[1]

LABELS = {
    "a4a": {1: "Manufacturing", 2: "Retail", 3: "Other Services"},
    "a6a": {1: "Small(5-19)", 2: "Medium(20-99)", 3: "Large(100 And Over)"},
    "d3c": {-9: "Don't know", -8: "Refused", -7: "Does not apply"},
    "l1": {-9: "Don't know"},
    "c22b": {1: "Yes", 2: "No"},
}


def raw_frame(country: str = "Kenya2018") -> pd.DataFrame:
    """Six firms of one survey; firm 4 has -9 codes; firm 1 has l1 < 5 but a6a small."""
    return pd.DataFrame(
        {
            "idstd": [101, 102, 103, 104, 105, 106],
            "country": [country] * 6,
            "a4a": [1, 1, 2, 2, 3, 3],
            "a6a": [1, 2, 3, 1, 2, 3],
            "l1": [3, 25, 150, -9, 19, 99],
            "d2": [1000.0, 5000.0, 90000.0, -9, 2000.0, 40000.0],
            "d3a": [100, 80, 50, -9, 90, 40],
            "d3b": [0, 10, 20, -9, 0, 30],
            "d3c": [0, 10, 30, -9, 10, 30],
            "c22b": [1, 2, 1, 1, 2, 1],
            "strata": [1, 1, 2, 2, 3, 3],
            "wmedian": [10.0, 12.0, 2.0, 8.0, 5.0, 1.5],
            "wstrict": [9.0, 11.0, 2.0, 7.0, 5.0, 1.0],
            "wweak": [11.0, 13.0, 2.5, 9.0, 6.0, 2.0],
        }
    )


def write_dta(frame: pd.DataFrame, path: Path, labels=LABELS) -> Path:
    labels = {k: v for k, v in labels.items() if k in frame.columns}
    frame.to_stata(path, version=118, write_index=False, value_labels=labels)
    return path


@pytest.fixture
def cache_dir(tmp_path):
    return tmp_path / "cache"


def load(src, cache_dir, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        return ms.load_wbes(src, cache_dir=cache_dir, **kw)


def test_canonical_frame_from_dta(tmp_path, cache_dir):
    path = write_dta(raw_frame(), tmp_path / "kenya.dta")
    with pytest.warns(RecodeWarning, match=r"d2 1.*d3a 1.*d3b 1.*d3c 1.*l1 1"):
        firms = ms.load_wbes(path, cache_dir=cache_dir)
    for col in ["survey_id", "country", "year", "firm_id", "strata", "weight", "size_class", "sector",
                "employees", "sales", "national_sales_pct", "indirect_export_pct", "direct_export_pct"]:
        assert col in firms.columns
    assert list(firms["survey_id"].astype(str).unique()) == ["KEN_2018"]
    assert list(firms["country"].astype(str).unique()) == ["KEN"]
    assert firms["year"].unique().tolist() == [2018]
    assert firms["firm_id"].tolist() == [101, 102, 103, 104, 105, 106]
    assert firms["weight"].tolist() == [10.0, 12.0, 2.0, 8.0, 5.0, 1.5]  # wmedian by default
    assert firms["strata"].astype(str).tolist()[:2] == ["KEN_2018:1", "KEN_2018:1"]
    assert firms["size_class"].astype(str).tolist() == ["small", "medium", "large", "small", "medium", "large"]
    # l1 classes disagree with a6a for firms 1 (3 employees -> micro) and 5 (19 -> small)
    assert firms["size_class_l1"].astype(object).tolist()[:3] == ["micro", "medium", "large"]
    assert pd.isna(firms["size_class_l1"].iloc[3])
    assert firms["size_class_l1"].iloc[4] == "small"
    assert firms["sector"].astype(str).tolist() == ["manufacturing"] * 2 + ["retail"] * 2 + ["other_services"] * 2
    # -9 became missing, never zero
    assert firms.loc[3, ["sales", "direct_export_pct", "employees"]].isna().all()
    assert firms["direct_export_pct"].tolist()[:3] == [0, 10, 30]
    assert firms["has_website"].tolist() == [True, False, True, True, False, True]
    rec = pd.DataFrame(firms.attrs["recodes"])
    assert set(rec["variable"]) == {"l1", "d2", "d3a", "d3b", "d3c"}
    assert (rec["n"] == 1).all()
    assert rec.loc[rec["variable"] == "d3c", "label"].item() == "Don't know"
    assert firms.attrs["weight_var"] == "wmedian"


def test_weights_option(tmp_path, cache_dir):
    path = write_dta(raw_frame(), tmp_path / "k.dta")
    assert load(path, cache_dir, weights="strict")["weight"].tolist() == [9.0, 11.0, 2.0, 7.0, 5.0, 1.0]
    assert load(path, cache_dir, weights="wweak")["weight"].iloc[0] == 11.0
    with pytest.raises(OptionError, match="weights='heavy'"):
        load(path, cache_dir, weights="heavy")


def test_size_scheme_l1_keeps_micro(tmp_path, cache_dir):
    path = write_dta(raw_frame(), tmp_path / "k.dta")
    firms = load(path, cache_dir, size_scheme="l1")
    assert firms["size_class"].iloc[0] == "micro"
    merged = load(path, cache_dir, size_scheme="l1", below5="merge_small")
    assert merged["size_class"].iloc[0] == "small"
    assert len(firms) == 6  # nobody dropped


def test_csv_parquet_and_frame_give_the_same_frame(tmp_path, cache_dir):
    raw = raw_frame()
    dta = load(write_dta(raw, tmp_path / "k.dta"), cache_dir)
    raw_csv = raw.assign(a4a=raw["a4a"].map(LABELS["a4a"]), a6a=raw["a6a"].map(LABELS["a6a"]))
    raw_csv.to_csv(tmp_path / "k.csv", index=False)
    raw_csv.to_parquet(tmp_path / "k.parquet", index=False)
    cols = ["survey_id", "firm_id", "strata", "weight", "size_class", "sector", "direct_export_pct", "employees"]
    for other in (load(tmp_path / "k.csv", cache_dir), load(tmp_path / "k.parquet", cache_dir), load(raw_csv, cache_dir)):
        pd.testing.assert_frame_equal(
            dta[cols].astype({"survey_id": str, "strata": str}),
            other[cols].astype({"survey_id": str, "strata": str}),
        )


def test_pooled_files_glob_list_and_folder(tmp_path, cache_dir):
    folder = tmp_path / "wbes"
    folder.mkdir()
    write_dta(raw_frame("Kenya2018"), folder / "a.dta")
    write_dta(raw_frame("Namibia 2014"), folder / "b.dta")
    by_glob = load(str(folder / "*.dta"), cache_dir)
    by_list = load([folder / "a.dta", folder / "b.dta"], cache_dir)
    by_dir = load(folder, cache_dir)
    assert len(by_glob) == len(by_list) == len(by_dir) == 12
    assert sorted(by_glob["survey_id"].astype(str).unique()) == ["KEN_2018", "NAM_2014"]
    # same raw stratum code 1 in both surveys -> two different strata
    s1 = by_glob.loc[by_glob["strata"].astype(str).str.endswith(":1"), "strata"].astype(str).unique()
    assert sorted(s1) == ["KEN_2018:1", "NAM_2014:1"]


def test_single_pooled_file_with_many_surveys(tmp_path, cache_dir):
    pooled = pd.concat([raw_frame("Kenya2018"), raw_frame("Ghana2013"), raw_frame("Côte d'Ivoire2016")], ignore_index=True)
    firms = load(write_dta(pooled, tmp_path / "pooled.dta"), cache_dir)
    assert sorted(firms["survey_id"].astype(str).unique()) == ["CIV_2016", "GHA_2013", "KEN_2018"]


def test_country_from_a1_label_year_variable_and_options(tmp_path, cache_dir):
    raw = raw_frame().drop(columns="country").assign(a1=7, year=2019)
    labels = {**LABELS, "a1": {7: "Namibia"}}
    firms = load(write_dta(raw, tmp_path / "n.dta", labels), cache_dir)
    assert firms["survey_id"].astype(str).unique().tolist() == ["NAM_2019"]
    bare = raw_frame().drop(columns="country")
    with pytest.raises(MsmeStatsError, match="country='KEN' and year=2018"):
        load(write_dta(bare, tmp_path / "bare.dta"), cache_dir)
    firms = load(tmp_path / "bare.dta", cache_dir, country="NA", year=2014)  # Namibia's ISO2 code
    assert firms["country"].astype(str).unique().tolist() == ["NAM"]
    named = write_dta(bare, tmp_path / "ZMB_2019_extract.dta")
    assert load(named, cache_dir)["survey_id"].astype(str).unique().tolist() == ["ZMB_2019"]


def test_keep_other_variables(tmp_path, cache_dir):
    raw = raw_frame().assign(k3a=[1, 2, 3, 4, 5, 6])
    path = write_dta(raw, tmp_path / "k.dta")
    assert "k3a" not in load(path, cache_dir).columns
    assert load(path, cache_dir, keep=["k3a"])["k3a"].tolist() == [1, 2, 3, 4, 5, 6]
    assert "k3a" in load(path, cache_dir, keep="all").columns
    with pytest.raises(MissingColumnsError, match="zz9"):
        load(path, cache_dir, keep=["zz9"])


def test_inconsistent_shares_are_flagged_not_fixed(tmp_path, cache_dir):
    raw = raw_frame()
    raw.loc[0, "d3a"] = 90  # 90 + 0 + 0 = 90
    firms = load(write_dta(raw, tmp_path / "k.dta"), cache_dir)
    assert firms["shares_inconsistent"].tolist() == [True, False, False, False, False, False]
    assert firms.loc[0, "national_sales_pct"] == 90


def test_cached_reload_reads_parquet_and_reports_recodes_again(tmp_path, cache_dir, monkeypatch):
    path = write_dta(raw_frame(), tmp_path / "k.dta")
    first = load(path, cache_dir)
    assert len(list(cache_dir.glob("*.parquet"))) == 1

    def boom(*a, **k):
        raise AssertionError("the .dta file was read again")

    monkeypatch.setattr("msme_stats.sources.wbes._read_dta", boom)
    with pytest.warns(RecodeWarning):
        second = ms.load_wbes(path, cache_dir=cache_dir)
    pd.testing.assert_frame_equal(first, second)
    # other options -> other cache entry -> file read again
    with pytest.raises(AssertionError, match="read again"):
        load(path, cache_dir, weights="strict")


def test_wbes_columns_documents_every_canonical_column(tmp_path, cache_dir):
    doc = wbes_columns()
    firms = load(write_dta(raw_frame(), tmp_path / "k.dta"), cache_dir)
    assert set(firms.columns) - {"wmedian", "wstrict", "wweak"} <= set(doc["column"])
    assert doc["description"].str.len().gt(5).all()


# ----------------------------------------------------------------------------- bad input
def test_missing_required_columns_are_listed_at_once(tmp_path, cache_dir):
    raw = raw_frame().drop(columns=["strata", "wmedian", "a6a"])
    with pytest.raises(MissingColumnsError) as err:
        load(write_dta(raw, tmp_path / "k.dta"), cache_dir)
    msg = str(err.value)
    assert "k.dta" in msg and "strata" in msg and "wmedian" in msg and "a6a" in msg


def test_text_in_numeric_column(tmp_path, cache_dir):
    raw = raw_frame().astype({"d3c": object})
    raw.loc[2, "d3c"] = "thirty"
    raw.to_csv(tmp_path / "k.csv", index=False)
    with pytest.raises(InvalidValueError, match=r"k\.csv.*'d3c'.*row 3: 'thirty'"):
        load(tmp_path / "k.csv", cache_dir)


def test_duplicate_firm_ids(tmp_path, cache_dir):
    raw = raw_frame()
    raw.loc[5, "idstd"] = 101
    with pytest.raises(DuplicateIdError, match=r"KEN_2018/101"):
        load(write_dta(raw, tmp_path / "k.dta"), cache_dir)
    write_dta(raw_frame(), tmp_path / "a.dta")
    write_dta(raw_frame(), tmp_path / "b.dta")
    with pytest.raises(DuplicateIdError, match="loaded twice"):
        load([tmp_path / "a.dta", tmp_path / "b.dta"], cache_dir)


@pytest.mark.parametrize(("value", "word"), [(np.nan, "missing"), (0.0, "zero"), (-1.0, "negative")])
def test_bad_weights(tmp_path, cache_dir, value, word):
    raw = raw_frame()
    raw.loc[1, "wmedian"] = value
    with pytest.raises(InvalidWeightError, match=rf"'wmedian'.*1 {word}.*\[102\]"):
        load(write_dta(raw, tmp_path / "k.dta"), cache_dir)


def test_unknown_country(tmp_path, cache_dir):
    with pytest.raises(UnknownCountryError, match="Atlantis"):
        load(write_dta(raw_frame("Atlantis2018"), tmp_path / "k.dta"), cache_dir)


def test_empty_truncated_and_foreign_files(tmp_path, cache_dir):
    (tmp_path / "empty.dta").write_bytes(b"")
    with pytest.raises(EmptyInputError, match="empty.dta"):
        load(tmp_path / "empty.dta", cache_dir)
    good = write_dta(raw_frame(), tmp_path / "good.dta").read_bytes()
    (tmp_path / "trunc.dta").write_bytes(good[: len(good) // 2])
    with pytest.raises(UnreadableFileError, match="trunc.dta"):
        load(tmp_path / "trunc.dta", cache_dir)
    (tmp_path / "gz.dta").write_bytes(gzip.compress(good))
    with pytest.raises(UnreadableFileError, match="gz.dta"):
        load(tmp_path / "gz.dta", cache_dir)
    pd.DataFrame({"price": [1, 2], "qty": [3, 4]}).to_stata(tmp_path / "sales.dta", write_index=False)
    with pytest.raises(NotRecognisedError, match="sales.dta"):
        load(tmp_path / "sales.dta", cache_dir)
    header_only = tmp_path / "h.csv"
    header_only.write_text(",".join(raw_frame().columns) + "\n")
    with pytest.raises(EmptyInputError, match="h.csv"):
        load(header_only, cache_dir)
    with pytest.raises(UnreadableFileError, match="nope.dta"):
        load(tmp_path / "nope.dta", cache_dir)
    with pytest.raises(EmptyInputError, match="matched no file"):
        load(str(tmp_path / "none*.dta"), cache_dir)


def test_errors_are_value_errors_and_msme_errors(tmp_path, cache_dir):
    raw = raw_frame().drop(columns=["strata"])
    with pytest.raises(ValueError):
        load(write_dta(raw, tmp_path / "k.dta"), cache_dir)


def test_inputs_are_not_mutated(cache_dir):
    raw = raw_frame()
    before = raw.copy()
    load(raw, cache_dir)
    pd.testing.assert_frame_equal(raw, before)


def test_loader_logs_cache_hits(tmp_path, cache_dir, caplog):
    path = write_dta(raw_frame(), tmp_path / "k.dta")
    load(path, cache_dir)
    with caplog.at_level(logging.INFO, logger="msme_stats.sources.wbes"):
        load(path, cache_dir)
    assert "from cache" in caplog.text


# ----------------------------------------------------------------------------- bundled data
SAMPLES = sorted((ROOT / "data" / "wbes_synthetic").glob("*_synthetic.dta"))


def test_bundled_samples_load_pooled(cache_dir):
    assert len(SAMPLES) >= 30, "bundled synthetic WBES samples are missing: run `make data`"
    one = load(SAMPLES[0], cache_dir)
    assert {"survey_id", "country", "year", "firm_id", "strata", "weight", "size_class", "sector"} <= set(one.columns)
    pooled = load(ROOT / "data" / "wbes_synthetic", cache_dir)
    assert pooled["survey_id"].nunique() == len(SAMPLES)
    assert pooled["country"].nunique() >= 30
    assert not pooled.duplicated(["survey_id", "firm_id"]).any()
    assert pooled["weight"].gt(0).all()
    assert pooled["size_class"].notna().all()


WBES_DIR = os.environ.get("MSME_STATS_WBES_DIR")


@pytest.mark.skipif(
    not WBES_DIR or not Path(WBES_DIR).is_dir(),
    reason="set MSME_STATS_WBES_DIR to a local folder of licensed WBES .dta files",
)
def test_real_wbes_microdata_loads(cache_dir):
    firms = load(WBES_DIR, cache_dir)
    assert len(firms) > 0
    assert firms["weight"].gt(0).all()
    assert not firms.duplicated(["survey_id", "firm_id"]).any()
    assert firms["size_class"].notna().all()



@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.integers(-9, -1), st.integers(0, 100)), min_size=6, max_size=6),
       st.lists(st.one_of(st.sampled_from([-9.0, -8.0, -7.0, -3.0]), st.floats(0, 1e7)), min_size=6, max_size=6))
def test_recode_property_negative_codes_only(d3c, d2):
    """Every negative code becomes missing and is counted; every other value is kept as it is."""
    raw = raw_frame().assign(d3c=d3c, d2=d2)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        firms = ms.load_wbes(raw, cache=False)
    for col, src in (("direct_export_pct", d3c), ("sales", d2)):
        src = pd.Series(src, dtype=float)
        out = firms[col]
        assert out.isna().equals(src < 0)
        pd.testing.assert_series_equal(out[src >= 0], src[src >= 0], check_names=False)
    rec = pd.DataFrame(list(firms.attrs["recodes"]), columns=["file", "variable", "code", "label", "n"])
    for var, src in (("d3c", d3c), ("d2", d2)):
        assert rec.loc[rec["variable"] == var, "n"].sum() == sum(v < 0 for v in src)
    if any(v < 0 for v in [*d3c, *d2]):
        assert any(issubclass(w.category, RecodeWarning) for w in caught)


def test_float_strata_codes_keep_every_digit(tmp_path, cache_dir):
    """Issue 11: strata stored as floats near 1e6 stay distinct (``f"{v:g}"`` merged them)."""
    src = pd.read_stata("data/wbes_synthetic/KEN_2013_synthetic.dta", convert_categoricals=False)
    shifted = src.assign(strata=src["strata"].astype("float64") + 1e6)
    path = tmp_path / "KEN_2013_shifted.dta"
    shifted.to_stata(path, write_index=False, version=118)
    plain = load("data/wbes_synthetic/KEN_2013_synthetic.dta", cache_dir)
    firms = load(path, cache_dir)
    assert firms["strata"].nunique() == plain["strata"].nunique() == 45
    assert firms["strata"].str.endswith(":1000029").any()
    a = ms.estimate(plain, "TR5")
    b = ms.estimate(firms, "TR5")
    assert a["se"].iloc[0] == pytest.approx(b["se"].iloc[0], rel=1e-12)


def test_outlier_screen_at_load_flags_and_never_drops(tmp_path, cache_dir):
    """Issue 11 item 5: sales 1e6 times the survey's typical value are flagged, the firm kept."""
    rng = np.random.default_rng(7)
    n = 40
    frame = pd.DataFrame({
        "idstd": np.arange(1, n + 1), "country": ["Kenya2018"] * n, "a4a": [1] * n, "a6a": [1, 2] * (n // 2),
        "l1": rng.integers(5, 90, n), "d2": np.exp(rng.normal(10, 1, n)).round(),
        "d3a": [100] * n, "d3b": [0] * n, "d3c": [0] * n, "strata": [1, 2] * (n // 2),
        "wmedian": [3.0] * n, "wstrict": [3.0] * n, "wweak": [3.0] * n,
    })
    frame.loc[7, "d2"] = frame["d2"].median() * 1e6
    firms = load(write_dta(frame, tmp_path / "KEN_2018_outlier.dta"), cache_dir)
    assert len(firms) == n
    assert firms.loc[firms["firm_id"] == 8, "outlier_sales"].item()
    assert firms["outlier_sales"].sum() == 1
    assert firms.attrs["screens"]["flagged"]["sales"] == 1
    reloaded = load(tmp_path / "KEN_2018_outlier.dta", cache_dir)  # from the cache: same flags
    assert reloaded["outlier_any"].sum() == firms["outlier_any"].sum()
    none = load(tmp_path / "KEN_2018_outlier.dta", cache_dir, outlier_k=1e9)
    assert not none["outlier_any"].any()
    with pytest.raises(ms.MsmeStatsError, match="outlier_k"):
        load(tmp_path / "KEN_2018_outlier.dta", cache_dir, outlier_k=-1)


def test_cache_never_written_into_a_folder_marked_read_only(tmp_path, monkeypatch):
    """Issue 10 item 6: licensed data stays as the user left it, even for a process running as root."""
    monkeypatch.delenv("MSME_STATS_CACHE", raising=False)
    monkeypatch.delenv("MSME_STATS_NO_CACHE", raising=False)
    folder = tmp_path / "licensed"
    folder.mkdir()
    write_dta(raw_frame(), folder / "KEN_2018.dta")
    folder.chmod(0o555)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            firms = ms.load_wbes(folder / "KEN_2018.dta")
        assert len(firms) == 6
        assert sorted(p.name for p in folder.iterdir()) == ["KEN_2018.dta"]
    finally:
        folder.chmod(0o755)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ms.load_wbes(folder / "KEN_2018.dta")
    assert (folder / ".msme_stats_cache").is_dir()  # writable again: the cache goes beside the file
