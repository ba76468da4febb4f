"""inspect_wbes and `msme-stats inspect` on the WBES format twins and on broken files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

import msme_stats as ms
from msme_stats.cli import main

ROOT = Path(__file__).resolve().parents[1]
TWINS = ROOT / "tests" / "fixtures" / "wbes_twins"


def test_inspect_wbes_on_the_twins():
    table = ms.inspect_wbes(TWINS)
    assert table["usable"].all()
    t = table.set_index(table["file"].map(lambda f: Path(f).name))
    ken = t.loc["Kenya-2018-full-data.dta"]
    assert (ken.survey_id, ken.country, ken.year) == ("KEN_2018", "KEN", "2018")
    assert ken.country_source == "a1 value label" and ken.year_source == "file name"
    assert (ken.firms, ken.strata, ken.single_firm_strata) == (1001, 240, 52)
    assert ken.weights == "wmedian,wstrict,wweak"
    assert "manufacturing 520" in ken.sectors
    assert "1 Food->manufacturing" in ken.sector_labels and "6 Tourism->other_services" in ken.sector_labels
    assert ken.interview_years == "2018 928; 2019 73"
    assert "d3c: -9 x" in ken.recoded
    assert "SYNTHETIC data" in ken.odd and "IDSTD" in ken.odd
    tur = t.loc["Turkey-2019-full-data.dta"]
    assert (tur.strata, tur.single_firm_strata) == (508, 104)
    assert "one label to two codes (tolerated; codes kept): BMJ3A (BMj3a), BMJ3B (BMj3b), BMJ3C (BMj3c)" in tur.odd
    assert "one label to two codes" not in ken.odd
    assert t.loc["Bolivia-2017-full-data.dta", "single_firm_strata"] == 1


def test_inspect_flags_unusable_and_duplicate_files(tmp_path):
    (tmp_path / "broken.dta").write_bytes(b"not a stata file" * 10)
    shutil.copy(TWINS / "Kenya-2018-full-data.dta", tmp_path / "Kenya-2018-full-data.dta")
    shutil.copy(TWINS / "Kenya-2018-full-data.dta", tmp_path / "kenya_copy.dta")
    table = ms.inspect_wbes([tmp_path])
    by = table.set_index(table["file"].map(lambda f: Path(f).name))
    assert not by.loc["broken.dta", "usable"] and "broken.dta" in by.loc["broken.dta", "error"]
    assert by.loc["Kenya-2018-full-data.dta", "usable"]
    assert not by.loc["kenya_copy.dta", "usable"]
    assert "KEN_2018 is also in" in by.loc["kenya_copy.dta", "error"]
    assert by.loc["kenya_copy.dta", "year_source"].startswith("survey catalogue")


def test_cli_inspect_exit_status_and_lines(tmp_path, capsys):
    assert main(["inspect", str(TWINS), "--csv", str(tmp_path / "inspect.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 3 and all(line.startswith("OK") for line in out)
    assert "KEN_2018 (country KEN from a1 value label; year 2018 from file name); 1001 firms; 240 strata (52 single-firm)" in out[1]
    assert len(pd.read_csv(tmp_path / "inspect.csv")) == 3
    (tmp_path / "bad.dta").write_bytes(b"")
    assert main(["inspect", str(TWINS / "Bolivia-2017-full-data.dta"), str(tmp_path / "bad.dta")]) == 1
    captured = capsys.readouterr()
    assert "UNUSABLE  bad.dta:" in captured.out and "1 of 2 file(s) cannot be used" in captured.err
    assert main(["inspect", str(tmp_path / "missing_folder*")]) == 1
