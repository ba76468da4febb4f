"""A corpus of bad and edge inputs for the WBES loader, one data-driven case per row.

Each case builds a small file (or frame) in the real format, loads it with
``ms.load_wbes`` and asserts either the typed error (a subclass of MsmeStatsError) with a
message naming the culprit (file, column, row, code, option), or the correct value.
"""

from __future__ import annotations

import gzip
import shutil
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import msme_stats as ms
from msme_stats import errors as E

ROOT = Path(__file__).resolve().parents[1]
TWINS = ROOT / "tests" / "fixtures" / "wbes_twins"
LABELS = {"a4a": {1: "Manufacturing", 2: "Retail", 3: "Other Services"},
          "a6a": {1: "Small", 2: "Medium", 3: "Large"}}


def base(**over) -> pd.DataFrame:
    frame = pd.DataFrame({
        "idstd": [101, 102, 103, 104], "country": ["Kenya2018"] * 4, "a4a": [1, 2, 3, 1], "a6a": [1, 2, 3, 1],
        "l1": [10, 30, 150, -9], "d3a": [100, 80, 50, 90], "d3b": [0, 10, 20, 0], "d3c": [0, 10, 30, 10],
        "strata": [1, 1, 2, 2], "wmedian": [10.0, 12.0, 2.0, 8.0], "wstrict": [9.0, 11.0, 2.0, 7.0],
    })
    for k, v in over.items():
        if v is None:
            frame = frame.drop(columns=k)
        else:
            frame[k] = v
    return frame


def dta(frame: pd.DataFrame, path: Path, labels=None) -> Path:
    labels = {k: v for k, v in {**LABELS, **(labels or {})}.items() if k in frame.columns}
    frame.to_stata(path, write_index=False, value_labels=labels, version=118)
    return path


def csv(frame: pd.DataFrame, path: Path) -> Path:
    frame = frame.copy()
    for k, lab in LABELS.items():
        if k in frame:
            frame[k] = frame[k].map(lab)
    frame.to_csv(path, index=False)
    return path


def _extra_field(t: Path) -> tuple:
    p = csv(base(), t / "k.csv")
    lines = p.read_text().splitlines()
    lines[3] += ",999"
    p.write_text("\n".join(lines) + "\n")
    return p, {}


def _missing_field(t: Path) -> tuple:
    p = csv(base(), t / "k.csv")
    lines = p.read_text().splitlines()
    lines[2] = lines[2].rsplit(",", 1)[0]
    p.write_text("\n".join(lines) + "\n")
    return p, {}


def _write(name: str, data: bytes) -> Callable:
    def make(t: Path) -> tuple:
        (t / name).write_bytes(data)
        return t / name, {}
    return make


def _twin_renamed(src: str, name: str, **kw) -> Callable:
    def make(t: Path) -> tuple:
        shutil.copy(TWINS / src, t / name)
        return t / name, kw
    return make


def _dta_case(name="k.dta", labels=None, kw=None, **over) -> Callable:
    def make(t: Path) -> tuple:
        return dta(base(**over), t / name, labels), dict(kw or {})
    return make


def _csv_case(name="k.csv", kw=None, **over) -> Callable:
    def make(t: Path) -> tuple:
        return csv(base(**over), t / name), dict(kw or {})
    return make


def _frame_case(frame_fn: Callable, kw=None) -> Callable:
    def make(t: Path) -> tuple:
        return frame_fn(), dict(kw or {})
    return make


def _truncated(t: Path) -> tuple:
    good = dta(base(), t / "good.dta").read_bytes()
    (t / "trunc.dta").write_bytes(good[: len(good) // 2])
    return t / "trunc.dta", {}


def _gzipped(t: Path) -> tuple:
    good = dta(base(), t / "good.dta").read_bytes()
    (t / "zipped.dta").write_bytes(gzip.compress(good))
    return t / "zipped.dta", {}


def _two_files_one_survey(t: Path) -> tuple:
    dta(base(), t / "first.dta")
    dta(base(idstd=[201, 202, 203, 204]), t / "second.dta")
    return [t / "first.dta", t / "second.dta"], {}


def _pooled_missing_country(t: Path) -> tuple:
    frame = pd.concat([base(), base(country="Ghana2013")], ignore_index=True)
    frame.loc[5, "country"] = ""
    return csv(frame, t / "pooled.csv"), {}


def _empty_folder(t: Path) -> tuple:
    (t / "empty").mkdir()
    return t / "empty", {}


def _latin1_csv(t: Path) -> tuple:
    p = t / "civ.csv"
    p.write_bytes(csv(base(country=["Côte d'Ivoire2016"] * 4), t / "tmp.csv").read_text().encode("latin-1"))
    return p, {}


def _repeated_labels(t: Path) -> tuple:
    return dta(base(d3c=[0, 1, 2, 10]), t / "k.dta", {"d3c": {1: "Same", 2: "Same"}}), {}


@dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[Path], tuple]
    error: type | None = None
    match: str = ""
    check: Callable[[pd.DataFrame], bool] | None = None


def sid(frame: pd.DataFrame) -> list[str]:
    return sorted(frame["survey_id"].astype(str).unique())


CASES = [
    # ---- file level
    Case("csv_row_with_one_field_too_many", _extra_field, E.InvalidValueError, r"k\.csv.*data row 3.*12 fields.*11"),
    Case("csv_row_with_one_field_too_few", _missing_field, E.InvalidValueError, r"k\.csv.*data row 2.*10 fields"),
    Case("empty_dta", _write("empty.dta", b""), E.EmptyInputError, r"empty\.dta"),
    Case("empty_csv", _write("empty.csv", b""), E.EmptyInputError, r"empty\.csv"),
    Case("header_only_csv", _write("h.csv", b"idstd,country,a4a,a6a,strata,wmedian\n"), E.EmptyInputError, r"h\.csv"),
    Case("truncated_dta", _truncated, E.UnreadableFileError, r"trunc\.dta"),
    Case("gzipped_dta", _gzipped, E.UnreadableFileError, r"zipped\.dta"),
    Case("text_file_named_dta", _write("notes.dta", b"hello, this is not stata\n" * 20), E.UnreadableFileError, r"notes\.dta"),
    Case("unsupported_extension", _write("k.xlsx", b"PK\x03\x04"), E.UnreadableFileError, r"k\.xlsx.*\.xlsx"),
    Case("file_not_found", lambda t: (t / "nope.dta", {}), E.UnreadableFileError, r"nope\.dta"),
    Case("glob_matches_nothing", lambda t: (str(t / "none*.dta"), {}), E.EmptyInputError, "matched no file"),
    Case("empty_folder", _empty_folder, E.EmptyInputError, r"empty.*no \.dta"),
    Case("latin1_csv", _latin1_csv, E.UnreadableFileError, r"civ\.csv"),
    Case("not_a_wbes_file", lambda t: (dta(pd.DataFrame({"price": [1, 2], "qty": [3, 4]}), t / "sales.dta"), {}),
         E.NotRecognisedError, r"sales\.dta"),
    # ---- columns
    Case("missing_strata_column", _dta_case(strata=None), E.MissingColumnsError, r"k\.dta.*strata"),
    Case("missing_weight_column", _dta_case(wmedian=None), E.MissingColumnsError, r"k\.dta.*wmedian"),
    Case("strict_weight_requested_but_absent", _dta_case(wstrict=None, kw={"weights": "strict"}),
         E.MissingColumnsError, r"wstrict"),
    Case("keep_unknown_column", _dta_case(kw={"keep": ["zz9"]}), E.MissingColumnsError, r"zz9"),
    Case("names_differ_only_by_case_csv", _csv_case(D3C=[1, 2, 3, 4]), E.InvalidValueError, r"k\.csv.*'d3c'.*'D3C'"),
    Case("names_differ_only_by_case_frame", _frame_case(lambda: base(D3C=[1, 2, 3, 4])), E.InvalidValueError,
         r"<DataFrame>.*'d3c'.*'D3C'"),
    Case("text_in_numeric_column", _csv_case(d3c=["0", "10", "thirty", "10"]), E.InvalidValueError,
         r"k\.csv.*'d3c'.*row 3: 'thirty'"),
    # ---- rows and cells
    Case("zero_weight", _dta_case(wmedian=[10.0, 0.0, 2.0, 8.0]), E.InvalidWeightError, r"'wmedian'.*1 zero.*\[102\]"),
    Case("negative_weight", _dta_case(wmedian=[10.0, 12.0, -2.0, 8.0]), E.InvalidWeightError, r"1 negative.*\[103\]"),
    Case("missing_weight", _dta_case(wmedian=[np.nan, 12.0, 2.0, 8.0]), E.InvalidWeightError, r"1 missing.*\[101\]"),
    Case("duplicate_firm_id", _dta_case(idstd=[101, 102, 103, 101]), E.DuplicateIdError, r"k\.dta.*KEN_2018/101"),
    Case("missing_firm_id", _dta_case(idstd=[101.0, np.nan, 103.0, 104.0]), E.InvalidValueError, r"'idstd'.*1 row"),
    Case("missing_stratum", _dta_case(strata=[1.0, np.nan, 2.0, 2.0]), E.InvalidValueError, r"'strata'.*\[102\]"),
    # ---- survey identity
    Case("unknown_country_name", _dta_case(country=["Atlantis2018"] * 4), E.UnknownCountryError, "Atlantis"),
    Case("a1_code_without_any_label", _dta_case(country=None, a1=[94] * 4, labels={}), E.UnknownCountryError,
         r"'a1'.*94.*without value labels"),
    Case("a1_code_missing_from_its_label_set", _dta_case(country=None, a1=[94, 94, 95, 94], labels={"a1": {94: "Kenya"}}),
         E.UnknownCountryError, r"code\(s\) 95 of 'a1' \(1 row"),
    Case("no_country_anywhere", _dta_case(country=None), E.InputError, r"k\.dta: cannot tell the survey country"),
    Case("country_but_no_year_anywhere", _dta_case(country=None, a1=[7] * 4, labels={"a1": {7: "Namibia"}}),
         E.InputError, r"cannot tell the survey year.*no catalogue entry"),
    Case("interview_dates_outside_the_catalogue",
         _dta_case(country=None, a1=[94] * 4, a14y=[2015] * 4, a14m=[3] * 4, labels={"a1": {94: "Kenya"}}),
         E.InputError, r"0 catalogue surveys of KEN match"),
    Case("file_name_contradicts_a1", _twin_renamed("Bolivia-2017-full-data.dta", "Kenya-2018-full-data.dta"),
         E.InputError, r"file name says KEN but the file's a1 value label says BOL"),
    Case("file_name_year_contradicts_year_variable", _dta_case(name="Kenya-2017-full-data.dta", country=["Kenya"] * 4,
                                                               year=[2018] * 4),
         E.InputError, r"file name says survey year 2017.*says 2018"),
    Case("country_option_contradicts_file", _dta_case(kw={"country": "GHA"}), E.InputError,
         r"k\.dta: country=/year= option says the survey is of GHA but the file's country variable says KEN"),
    Case("override_contradicts_file", _dta_case(kw={"surveys": {"k.dta": ("KEN", 2019)}}), E.InputError,
         r"surveys= override 'k\.dta' says the survey year is 2019.*2018"),
    Case("override_bad_year", _dta_case(kw={"surveys": {"k.dta": ("KEN", "2O18")}}), E.OptionError, r"k\.dta.*'2O18'"),
    Case("override_unknown_country", _dta_case(kw={"surveys": {"k.dta": ("Atlantis", 2018)}}), E.OptionError, "Atlantis"),
    Case("override_not_a_mapping", _dta_case(kw={"surveys": [("KEN", 2018)]}), E.OptionError, "mapping"),
    Case("override_matches_no_file", _dta_case(kw={"surveys": {"Ghana*.dta": ("GHA", 2013)}}), E.OptionError,
         r"'Ghana\*\.dta'.*matched none.*k\.dta"),
    Case("two_files_one_survey", _two_files_one_survey, E.DuplicateSurveyError,
         r"KEN_2018.*first\.dta.*second\.dta"),
    Case("pooled_row_without_country", _pooled_missing_country, E.InvalidValueError,
         r"pooled\.csv.*economy.*missing in 1 row"),
    # ---- edge cases that must load, with the right values
    Case("upper_case_variable_names", _frame_case(lambda: base().rename(columns=str.upper)),
         check=lambda f: sid(f) == ["KEN_2018"] and f["direct_export_pct"].tolist() == [0, 10, 30, 10]),
    Case("year_and_country_from_world_bank_file_name",
         _dta_case(name="Kenya-2018-full-data.dta", country=None, a14y=[2018, 2018, 2019, 2019]),
         check=lambda f: sid(f) == ["KEN_2018"] and f["interview_year"].tolist() == [2018, 2018, 2019, 2019]),
    Case("iso3_year_file_name", _dta_case(name="ZMB_2019_extract.dta", country=None), check=lambda f: sid(f) == ["ZMB_2019"]),
    Case("country_name_with_space_before_year", _dta_case(country=["Namibia 2014"] * 4), check=lambda f: sid(f) == ["NAM_2014"]),
    Case("repeated_labels_in_a_set_tolerated", _repeated_labels,
         check=lambda f: f["direct_export_pct"].tolist() == [0, 1, 2, 10]),
    Case("negative_code_becomes_missing_and_counted", _dta_case(),
         check=lambda f: np.isnan(f["employees"].iloc[3]) and pd.DataFrame(list(f.attrs["recodes"]))["n"].sum() == 1),
    Case("override_names_an_unnamed_file", _dta_case(country=None, kw={"surveys": {"k.dta": ("GHA", 2013)}}),
         check=lambda f: sid(f) == ["GHA_2013"]),
    Case("unlabelled_a1_named_by_an_override", _dta_case(country=None, a1=[94] * 4, labels={},
                                                        kw={"surveys": {"k.dta": ("KEN", 2018)}}),
         check=lambda f: sid(f) == ["KEN_2018"] and f.attrs["files"][0]["country_source"] == "surveys= override 'k.dta'"),
    Case("explicit_options_agreeing_with_the_file", _dta_case(kw={"country": "KEN", "year": 2018}),
         check=lambda f: sid(f) == ["KEN_2018"]),
]


def test_corpus_is_large_enough():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus(case: Case, tmp_path):
    src, kw = case.make(tmp_path)
    kw = {"cache": False, **kw}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ms.MsmeStatsWarning)
        if case.error is not None:
            with pytest.raises(case.error, match=case.match) as err:
                ms.load_wbes(src, **kw)
            assert isinstance(err.value, E.MsmeStatsError)
        else:
            firms = ms.load_wbes(src, **kw)
            assert case.check(firms)
