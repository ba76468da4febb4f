"""replicate_published and `msme-stats replicate`: published official values beside recomputed ones."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import msme_stats as ms
from msme_stats.cli import main

ROOT = Path(__file__).resolve().parents[1]
TWINS = ROOT / "tests" / "fixtures" / "wbes_twins"


@pytest.fixture(scope="module")
def twins():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ms.MsmeStatsWarning)
        return ms.load_wbes(TWINS, cache=False)


def test_published_survey_values_reads_both_sources():
    pub = ms.published_survey_values()
    bol = pub[(pub["country"] == "BOL") & (pub["year"] == 2017)].set_index("wb_code")
    assert bol.loc["IC.FRM.TRD.TR5", "published"] == 7.2  # TR5 extract and WBES_BOL_2017_TR5 agree: kept once
    assert (pub["wb_code"] == "IC.FRM.TRD.TR5").sum() > 200
    ken = pub[(pub["country"] == "KEN") & (pub["year"] == 2018)]
    assert ken[["indicator", "published"]].values.tolist() == [["es_days_clear_exports", 9.7]]


def test_replicate_on_the_twins(twins):
    rep = ms.replicate_published(twins)
    n_official = int(ms.list_indicators("es")["wb_code"].fillna("").str.startswith("IC.").sum())
    assert len(rep) == 3 * n_official
    tr5 = rep[(rep["survey_id"] == "BOL_2017") & (rep["wb_code"] == "IC.FRM.TRD.TR5")].iloc[0]
    est = ms.estimate(twins, "TR5", by="survey_id").set_index("survey_id")["estimate"]
    assert tr5["recomputed"] == pytest.approx(est["BOL_2017"], rel=1e-12)
    assert tr5["recomputed_rounded"] == round(est["BOL_2017"], 1)
    # the twins' answers are synthetic: the published value is not matched, and the table says by how much
    assert tr5["status"] == f"differs by {round(est['BOL_2017'], 1) - 7.2:+.1f}"
    ken = rep[(rep["survey_id"] == "KEN_2018") & (rep["indicator"] == "es_days_clear_exports")].iloc[0]
    assert ken["published"] == 9.7 and ken["status"].startswith("differs by")
    none = rep[(rep["survey_id"] == "TUR_2019") & (rep["wb_code"] == "IC.FRM.TRD.TR16")].iloc[0]
    assert none["status"] == "no published value" and np.isfinite(none["recomputed"])


def test_replicate_match_status_on_a_frame_built_to_match():
    firms = pd.DataFrame({
        "idstd": [1, 2, 3, 4], "country": ["Bolivia2017"] * 4, "a4a": [1, 1, 1, 1], "a6a": [1, 1, 2, 2],
        "d3c": [0.0, 14.4, 0.0, 14.4], "strata": [1, 1, 2, 2], "wmedian": [1.0, 1.0, 1.0, 1.0],
    })
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ms.MsmeStatsWarning)
        loaded = ms.load_wbes(firms, cache=False)
        rep = ms.replicate_published(loaded)
    tr5 = rep[rep["wb_code"] == "IC.FRM.TRD.TR5"].iloc[0]
    assert tr5["recomputed"] == pytest.approx(7.2) and tr5["status"] == "match"


def test_cli_replicate(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MSME_STATS_NO_CACHE", "1")  # no cache folder in the repository's fixtures
    assert main(["replicate", str(TWINS), "--csv", str(tmp_path / "rep.csv")]) == 0
    out = capsys.readouterr()
    assert "BOL_2017  IC.FRM.TRD.TR5     7.2" in out.out and "differs by" in out.out
    assert "published value(s) not matched" in out.err
    assert len(pd.read_csv(tmp_path / "rep.csv")) > 3


WBES_DIR = os.environ.get("MSME_STATS_WBES_DIR")


@pytest.mark.skipif(
    not WBES_DIR or not Path(WBES_DIR).is_dir(),
    reason="set MSME_STATS_WBES_DIR to a local folder of licensed WBES .dta files",
)
def test_real_microdata_match_every_published_value():
    """Every survey found in MSME_STATS_WBES_DIR against its published values (e.g. Bolivia 2017 TR5 = 7.2,
    Kenya 2018 days to clear exports = 9.7), at the published precision."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ms.MsmeStatsWarning)
        firms = ms.load_wbes(WBES_DIR)
    assert not firms.attrs["synthetic"], "MSME_STATS_WBES_DIR holds synthetic files"
    rep = ms.replicate_published(firms)
    published = rep[rep["published"].notna()]
    if published.empty:
        pytest.skip("no survey in MSME_STATS_WBES_DIR has a bundled published value")
    off = published[published["status"] != "match"]
    assert off.empty, off[["survey_id", "wb_code", "published", "recomputed", "status"]].to_string()


def test_published_survey_values_names_a_missing_or_wrong_tr5_file(tmp_path):
    with pytest.raises(ms.errors.UnreadableFileError, match="no_such.csv"):
        ms.published_survey_values(tr5=tmp_path / "no_such.csv")
    wrong = tmp_path / "extract.csv"
    wrong.write_text('"Country Code","Time","Value"\n"KEN",2013,10.9\n', encoding="utf-8")
    with pytest.raises(ms.errors.MissingColumnsError, match="Series Code"):
        ms.published_survey_values(tr5=wrong)
    # the same extract with all four columns is read
    right = tmp_path / "right.csv"
    right.write_text('"Country Code","Series Code","Time","Value"\n"KEN","IC.FRM.TRD.TR5",2013,10.9\n',
                     encoding="utf-8")
    pub = ms.published_survey_values(tr5=right)
    assert pub.loc[pub["source"].str.contains("right.csv"), ["country", "year", "published"]].values.tolist() == [
        ["KEN", 2013, 10.9]
    ]


def test_replicate_published_names_missing_columns():
    with pytest.raises(ms.errors.MissingColumnsError, match="survey_id"):
        ms.replicate_published(pd.DataFrame({"x": [1]}))
