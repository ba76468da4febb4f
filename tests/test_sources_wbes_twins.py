"""The WBES format twins (tests/fixtures/wbes_twins/, see its README) load with no options.

Each twin has the byte layout and metadata of a real World Bank standard file (Stata 115,
label-set names, value labels, notes, design rows) with synthetic answers. Every format
trait of the README has a test here (or in test_corpus_wbes.py / test_inspect.py); the
README's trait table is quoted in the test names and docstrings.
"""

from __future__ import annotations

import logging
import os
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import msme_stats as ms
from msme_stats.errors import DuplicateSurveyError, InputError, OptionError
from msme_stats.outputs.wbes import data_note
from msme_stats.sources._dta import decode_text, read_dta_header, redecode
from msme_stats.sources.wbes import _read_dta, file_name_survey, read_surveys_csv

ROOT = Path(__file__).resolve().parents[1]
TWINS = ROOT / "tests" / "fixtures" / "wbes_twins"
BOL, KEN, TUR = (TWINS / f"{n}-full-data.dta" for n in ("Bolivia-2017", "Kenya-2018", "Turkey-2019"))


def load(src, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ms.MsmeStatsWarning)
        return ms.load_wbes(src, **{"cache": False, **kw})


@pytest.fixture(scope="module")
def twins() -> pd.DataFrame:
    return load(TWINS)


def test_three_surveys_with_no_options(twins):
    n = twins.groupby("survey_id", observed=True).size()
    assert n.to_dict() == {"BOL_2017": 364, "KEN_2018": 1001, "TUR_2019": 1663}  # README nobs
    assert twins.groupby("survey_id", observed=True)["country"].unique().map(list).to_dict() == {
        "BOL_2017": ["BOL"], "KEN_2018": ["KEN"], "TUR_2019": ["TUR"]}
    assert [f["country_source"] for f in twins.attrs["files"]] == ["a1 value label"] * 3
    assert [f["year_source"] for f in twins.attrs["files"]] == ["file name"] * 3


def test_interview_years_across_two_calendar_years_do_not_split_a_survey(twins):
    """README: a14y 2018 (928) / 2019 (73) in Kenya, 2018 (408) / 2019 (1255) in Turkey; no `year` variable."""
    assert twins.groupby("survey_id", observed=True)["year"].nunique().eq(1).all()
    iy = twins.groupby(["survey_id", "interview_year"], observed=True).size()
    assert iy.loc["KEN_2018"].to_dict() == {2018.0: 928, 2019.0: 73}
    assert iy.loc["TUR_2019"].to_dict() == {2018.0: 408, 2019.0: 1255}
    assert iy.loc["BOL_2017"].to_dict() == {2017.0: 364}
    assert sorted(twins.loc[twins["survey_id"] == "TUR_2019", "interview_month"].dropna().unique()) == [
        1, 2, 3, 4, 5, 10, 11, 12]


def test_sector_from_each_surveys_own_a4a_labels(twins):
    """README: a4a codes differ between surveys (1 = Manufacturing in Bolivia, Food in Kenya and Turkey)."""
    sec = twins.groupby(["survey_id", "sector"], observed=True).size()
    assert sec.loc[("KEN_2018", "manufacturing")] == 520
    assert sec.loc[("TUR_2019", "manufacturing")] == 1112
    assert twins["sector"].notna().all()
    ken = twins[twins["survey_id"] == "KEN_2018"]
    assert set(ken.loc[ken["sector_raw"] == "Tourism", "sector"]) == {"other_services"}
    tur = twins[twins["survey_id"] == "TUR_2019"]
    assert set(tur.loc[tur["sector_raw"] == "Machinery & Equipment", "sector"]) == {"manufacturing"}
    bol = twins[twins["survey_id"] == "BOL_2017"]
    assert set(bol["sector_raw"].astype(str)) == {"Manufacturing", "Retail", "Other Services"}


def test_size_classes_from_a6a_labels(twins):
    """README a6a rows: Kenya Small 412, Medium 381, Large 208; Turkey 658/594/411; Bolivia 153/134/77."""
    size = twins.groupby(["survey_id", "size_class"], observed=True).size()
    assert size.loc["KEN_2018"].to_dict() == {"small": 412, "medium": 381, "large": 208}
    assert size.loc["TUR_2019"].to_dict() == {"small": 658, "medium": 594, "large": 411}
    assert size.loc["BOL_2017"].to_dict() == {"small": 153, "medium": 134, "large": 77}


def test_label_sets_paired_through_the_header_not_by_position():
    """README: label sets are upper(name) (a1 -> A1), four CamelCase stratification sets; no private attribute."""
    h = read_dta_header(str(KEN))
    assert (h.format, h.byteorder, h.nvar, h.nobs) == (115, "<", 312, 1001)
    sets = dict(zip(h.varnames, h.label_sets, strict=True))
    assert sets["a1"] == "A1" and sets["a4a"] == "A4A"
    assert sets["stratificationregioncode"] == "StratificationRegionCode"
    raw = _read_dta(str(KEN), ["stratificationsizecode", "a6b"])
    assert raw.value_labels["a1"] == {94.0: "Kenya"}  # not the "-9 Don't know" set of another variable
    assert raw.value_labels["stratificationsizecode"]  # CamelCase set found
    assert 94.0 not in raw.value_labels.get("a6b", {})


def test_variables_naming_undefined_label_sets_are_unlabelled():
    """README: 24 / 24 / 67 variables name a set that is not defined (idstd -> IDSTD, a14y -> A14Y)."""
    counts = [len(_read_dta(str(p), "all").meta["undefined_label_sets"]) for p in (BOL, KEN, TUR)]
    assert counts == [24, 24, 67]
    raw = _read_dta(str(KEN), None)
    assert "idstd" not in raw.value_labels and raw.frame["idstd"].iloc[0] == 9200001


def test_turkey_a1_set_lists_42_countries_but_the_code_present_decides(twins):
    raw = _read_dta(str(TUR), None)
    assert len(raw.value_labels["a1"]) == 42
    assert raw.value_labels["a1"][53.0] == "Turkey"
    assert set(twins.loc[twins["source_file"].astype(str) == str(TUR), "country"].astype(str)) == {"TUR"}


def test_repeated_labels_tolerated_where_pandas_categoricals_raise():
    """README: BMj3a/b/c give one label to two codes; pandas.read_stata(convert_categoricals=True) raises."""
    with pytest.raises(ValueError, match="not unique"):
        pd.read_stata(TUR, convert_categoricals=True, columns=["BMj3a"])
    raw = _read_dta(str(TUR), ["bmj3a", "BMj3b", "bmJ3C"])  # keep= is case-insensitive
    assert raw.meta["repeated_label_sets"] == ["BMj3a->BMJ3A", "BMj3b->BMJ3B", "BMj3c->BMJ3C"]
    firms = load(TUR, keep=["BMJ3A"])
    assert "bmj3a" in firms.columns and len(firms) == 1663


def test_mixed_case_variable_names_matched_case_insensitively():
    """README: 59 / 57 / 158 variables with mixed-case names (ASC*, KEN*, MM*, BM*, BMG*)."""
    firms = load(KEN, keep=["KENB1"])  # the file spells it KENb1
    assert "kenb1" in firms.columns
    h = read_dta_header(str(TUR))
    assert sum(v != v.lower() for v in h.varnames) == 158


def test_utf8_bytes_in_a_format_without_encoding_are_decoded():
    """README: value labels hold UTF-8 (’ = E2 80 99); pandas shows 'â\\x80\\x99'. Bolivia notes are latin-1."""
    texts = {}
    for p in (BOL, KEN, TUR):
        raw = _read_dta(str(p), "all")
        texts[p.name] = [lab for d in raw.value_labels.values() for lab in d.values() if any(ord(c) > 127 for c in lab)]
    assert [len(v) for v in texts.values()] == [6, 11, 4]
    everything = [t for v in texts.values() for t in v]
    assert all("\u00e2\u0080" not in t for t in everything)
    assert "DON’T KNOW (SPONTANEOUS)" in texts[KEN.name]
    assert redecode("DONâ\x80\x99T") == "DON’T"
    assert decode_text("Se\xf1or".encode("latin-1")) == "Señor"  # latin-1 bytes are not valid UTF-8


def test_a12_stored_as_int_or_string_loads_pooled():
    """README: a12 (interviewer) is int in Bolivia, str6 in Kenya, str5 in Turkey."""
    firms = load([BOL, KEN, TUR], keep=["a12"])
    assert firms["a12"].notna().any() and len(firms) == 3028


def test_strata_kept_apart_and_single_firm_strata_counted(twins):
    """README: 46 / 240 / 508 strata with 1 / 52 / 104 single-firm strata."""
    per = twins.groupby(["survey_id", "strata"], observed=True).size()
    assert per.groupby(level=0).size().to_dict() == {"BOL_2017": 46, "KEN_2018": 240, "TUR_2019": 508}
    assert per.eq(1).groupby(level=0).sum().to_dict() == {"BOL_2017": 1, "KEN_2018": 52, "TUR_2019": 104}
    assert twins["strata"].astype(str).str.split(":").str[0].eq(twins["survey_id"].astype(str)).all()


def test_weights_match_the_readme(twins):
    sums = twins.groupby("survey_id", observed=True)["wmedian"].sum()
    np.testing.assert_allclose(sums.to_numpy(), [7597.01, 10266.9, 126353], rtol=1e-5)
    assert twins["weight"].gt(0).all()


# ----------------------------------------------------------------------------- R goldens
GOLDENS = ROOT / "tests" / "goldens" / "wbes_twins_goldens.csv"


def test_goldens_were_made_on_these_files():
    import hashlib

    md5 = pd.read_csv(ROOT / "tests" / "goldens" / "wbes_twins_md5.csv")
    for r in md5.itertuples(index=False):
        assert hashlib.md5((TWINS / r.file).read_bytes()).hexdigest() == r.md5


@pytest.mark.parametrize(("indicator", "scale"), [("TR5", 1.0), ("TR16", 100.0), ("TR17", 100.0), ("TR1", 1.0)])
def test_twins_estimates_equal_r_survey(twins, indicator, scale):
    """ms.estimate on the no-option load against R svyby (tests/r/make_goldens_twins.R), overall and by size."""
    gold = pd.read_csv(GOLDENS)
    gold = gold[gold["indicator"] == indicator]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ms.MsmeStatsWarning)
        by_survey = ms.estimate(twins, indicator, by="survey_id")
        by_size = ms.estimate(twins, indicator, by=["survey_id", "size_class"])
    code = {"small": "1", "medium": "2", "large": "3"}
    ours = pd.concat([
        by_survey.assign(by="survey", key=by_survey["survey_id"].astype(str)),
        by_size.assign(by="survey+a6a",
                       key=by_size["survey_id"].astype(str) + "|" + by_size["size_class"].astype(str).map(code)),
    ])
    both = gold.merge(ours, on=["by", "key"], suffixes=("_r", ""))
    assert len(both) == len(gold) == 12
    assert (both["n"] == both["n_r"]).all()
    np.testing.assert_allclose(both["estimate"], scale * both["estimate_r"], rtol=1e-10)
    np.testing.assert_allclose(both["se"], scale * both["se_r"], rtol=1e-10)


# ----------------------------------------------------------------------------- survey identity
def test_survey_year_from_the_catalogue_when_the_name_says_nothing(tmp_path):
    shutil.copy(KEN, tmp_path / "enterprise_survey.dta")
    firms = load(tmp_path / "enterprise_survey.dta")
    assert firms["survey_id"].astype(str).unique().tolist() == ["KEN_2018"]
    assert firms.attrs["files"][0]["year_source"].startswith("survey catalogue (fieldwork 2018-05 to 2019-01)")


def test_overrides_apply_and_contradictions_raise(tmp_path):
    shutil.copy(KEN, tmp_path / "data.dta")
    firms = load(tmp_path / "data.dta", surveys={"data.dta": ("KEN", 2018)})
    assert firms.attrs["files"][0]["year_source"] == "surveys= override 'data.dta'"
    with pytest.raises(InputError, match=r"Bolivia-2017-full-data\.dta.*KEN.*BOL"):
        load([KEN, BOL], country="KEN")
    with pytest.raises(InputError, match=r"survey year is 2019 but the file name says 2018"):
        load(KEN, surveys={"Kenya*.dta": ("KEN", 2019)})
    with pytest.raises(OptionError, match=r"'Ghana\*\.dta'.*matched none"):
        load(KEN, surveys={"Ghana*.dta": ("GHA", 2013)})


def test_read_surveys_csv(tmp_path):
    csv = tmp_path / "surveys.csv"
    csv.write_text("FILE,iso3,Year\ndata.dta,KEN,2018\nBol*.dta,BOL,2017\n")
    assert read_surveys_csv(csv) == {"data.dta": ("KEN", 2018), "Bol*.dta": ("BOL", 2017)}
    shutil.copy(KEN, tmp_path / "data.dta")
    assert load(tmp_path / "data.dta", surveys={"data.dta": ("KEN", 2018)})["survey_id"].iloc[0] == "KEN_2018"
    csv.write_text("file,iso3,year\ndata.dta,KEN,18\n")
    with pytest.raises(ms.InvalidValueError, match="row 1"):
        read_surveys_csv(csv)
    csv.write_text("file,year\ndata.dta,2018\n")
    with pytest.raises(ms.MissingColumnsError, match="iso3"):
        read_surveys_csv(csv)


def test_one_survey_is_counted_once(tmp_path):
    shutil.copy(KEN, tmp_path / "Kenya-2018-copy.dta")
    with pytest.raises(DuplicateSurveyError, match=r"Kenya-2018-copy\.dta.*Kenya-2018-full-data\.dta|Kenya-2018-full-data\.dta.*Kenya-2018-copy\.dta"):
        load([KEN, tmp_path / "Kenya-2018-copy.dta"])
    sample = ROOT / "data" / "wbes_synthetic" / "BOL_2017_synthetic.dta"
    with pytest.raises(DuplicateSurveyError, match=r"BOL_2017.*Bolivia-2017-full-data\.dta.*BOL_2017_synthetic\.dta"):
        load([BOL, sample])
    with pytest.raises(DuplicateSurveyError, match="loaded twice"):
        load([KEN, KEN])


# ----------------------------------------------------------------------------- cache
def test_cache_beside_the_source_and_off_switches(tmp_path, monkeypatch):
    monkeypatch.delenv("MSME_STATS_CACHE", raising=False)
    monkeypatch.delenv("MSME_STATS_NO_CACHE", raising=False)
    src = tmp_path / "Kenya-2018-full-data.dta"
    shutil.copy(KEN, src)
    load(src, cache=False)
    assert not (tmp_path / ".msme_stats_cache").exists()
    monkeypatch.setenv("MSME_STATS_NO_CACHE", "1")
    load(src, cache=True)
    assert not (tmp_path / ".msme_stats_cache").exists()
    monkeypatch.delenv("MSME_STATS_NO_CACHE")
    first = load(src, cache=True)
    assert len(list((tmp_path / ".msme_stats_cache").glob("*.parquet"))) == 1
    again = load(src, cache=True)
    pd.testing.assert_frame_equal(first, again)
    assert again.attrs["files"][0]["year_source"] == "file name"


def test_rewrite_with_same_size_and_mtime_is_not_served_stale(tmp_path, monkeypatch):
    monkeypatch.delenv("MSME_STATS_CACHE", raising=False)
    src = tmp_path / "Kenya-2018-full-data.dta"
    shutil.copy(KEN, src)
    before = load(src, cache=True)
    st = os.stat(src)
    data = bytearray(src.read_bytes())
    # the weight wmedian of the last record: same size, new content, same mtime
    frame = pd.read_stata(KEN, columns=["wmedian"])
    old = np.float32(frame["wmedian"].iloc[-1]).tobytes()
    pos = data.rfind(old)
    assert pos > 0
    data[pos:pos + 4] = np.float32(frame["wmedian"].iloc[-1] * 2).tobytes()
    src.write_bytes(bytes(data))
    os.utime(src, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert os.stat(src).st_size == st.st_size and os.stat(src).st_mtime_ns == st.st_mtime_ns
    after = load(src, cache=True)
    assert after["wmedian"].sum() != pytest.approx(before["wmedian"].sum())


def test_unwritable_cache_folder_is_skipped_with_a_log(tmp_path, monkeypatch, caplog):
    monkeypatch.delenv("MSME_STATS_CACHE", raising=False)
    src = tmp_path / "Kenya-2018-full-data.dta"
    shutil.copy(KEN, src)
    (tmp_path / ".msme_stats_cache").write_text("a file where the cache folder would go")
    with caplog.at_level(logging.INFO, logger="msme_stats.sources.wbes"):
        firms = load(src, cache=True)
    assert len(firms) == 1001
    assert "cache not written" in caplog.text


# ----------------------------------------------------------------------------- captions
def test_captions_name_the_data_loaded(twins, tmp_path):
    assert data_note(twins) == "SYNTHETIC sample data"  # the twins' data label says SYNTHETIC
    real = pd.DataFrame({
        "idstd": [1, 2, 3, 4], "country": ["Kenya2018"] * 4, "a4a": [1, 1, 2, 2], "a6a": [1, 2, 3, 1],
        "d3c": [0, 10, 20, 5], "strata": [1, 1, 2, 2], "wmedian": [1.0, 2.0, 3.0, 4.0],
    })
    real.to_stata(tmp_path / "ken.dta", write_index=False,
                  value_labels={"a4a": {1: "Manufacturing", 2: "Retail"}, "a6a": {1: "Small", 2: "Medium", 3: "Large"}})
    firms = load(tmp_path / "ken.dta")
    assert data_note(firms) == "Enterprise Surveys microdata, 1 file"
    assert "SYNTHETIC" not in data_note(firms)
    mixed = load([tmp_path / "ken.dta", BOL])
    assert data_note(mixed) == "includes SYNTHETIC data: 1 of 2 files"


def test_touched_file_with_same_content_is_served_after_a_hash(tmp_path, monkeypatch):
    monkeypatch.delenv("MSME_STATS_CACHE", raising=False)
    src = tmp_path / "Kenya-2018-full-data.dta"
    shutil.copy(KEN, src)
    first = load(src, cache=True)
    os.utime(src, ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))  # new mtime and ctime, same bytes
    calls = []
    real_digest = __import__("msme_stats.sources.wbes", fromlist=["_content_digest"])._content_digest
    monkeypatch.setattr("msme_stats.sources.wbes._content_digest", lambda p: calls.append(p) or real_digest(p))

    def boom(*a, **k):
        raise AssertionError("the .dta file was read again")

    monkeypatch.setattr("msme_stats.sources.wbes._read_dta", boom)
    pd.testing.assert_frame_equal(first, load(src, cache=True))
    assert len(calls) == 1  # hashed once, then the new signature is recorded
    pd.testing.assert_frame_equal(first, load(src, cache=True))
    assert len(calls) == 1  # unchanged signature: no hash


def test_design_variables_of_the_readme():
    """README: stratification codes (3/10/13 regions, 3/7/9 sectors), panel codes 0/1, wstrict and wweak sums."""
    firms = load(TWINS, keep=["stratificationpanelcode", "StratificationRegionCode", "stratificationsectorcode"],
                 weights="strict")
    g = firms.groupby("survey_id", observed=True)
    assert g["stratificationregioncode"].nunique().tolist() == [3, 10, 13]
    assert g["stratificationsectorcode"].nunique().tolist() == [3, 7, 9]
    panel = firms.groupby(["survey_id", "stratificationpanelcode"], observed=True).size()
    assert panel.tolist() == [197, 167, 708, 293, 1054, 609]
    np.testing.assert_allclose(g["weight"].sum().to_numpy(), [5443.61, 7675, 95986.1], rtol=1e-5)  # wstrict
    np.testing.assert_allclose(g["wweak"].sum().to_numpy(), [10711.5, 33925.3, 397668], rtol=1e-5)


def test_negative_codes_recoded_with_their_labels(twins):
    """README: -9 'Don't know (spontaneous)', -7 'Does not apply', ...: set to missing, counted, labelled."""
    rec = twins.attrs["recodes"].to_frame()
    d4 = rec[(rec["variable"] == "d4") & rec["file"].str.endswith("Turkey-2019-full-data.dta")].set_index("code")
    assert d4.loc[-9.0, "label"] == "Don't know (spontaneous)" and d4.loc[-7.0, "label"] == "Does not apply"
    tur = twins[twins["survey_id"] == "TUR_2019"]
    assert tur["days_to_clear_exports"].dropna().ge(0).all()
    assert int(rec.loc[(rec["variable"] == "d3c") & rec["file"].str.endswith("Turkey-2019-full-data.dta"), "n"].sum()) == 66


_COUNTRIES = ms.countries()


@settings(max_examples=60, deadline=None)
@given(st.integers(0, len(_COUNTRIES) - 1), st.integers(1990, 2035), st.sampled_from(["-", "_", " "]),
       st.sampled_from(["-full-data.dta", "_public.dta", ".dta", "-full-data.csv"]))
def test_file_name_survey_property(i, year, sep, tail):
    """Any World Bank economy name + year, as the Microdata Library or a user spells it, names that survey."""
    row = _COUNTRIES.iloc[i]
    name = row["name"].replace(" ", sep)
    assert file_name_survey(f"{name}{sep}{year}{tail}") == (row["iso3"], year)
    assert file_name_survey(f"{row['iso3']}_{year}_synthetic.dta") == (row["iso3"], year)
    assert file_name_survey(f"extract{sep}{year}{tail}") == (None, None)
