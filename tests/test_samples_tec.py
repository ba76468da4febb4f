"""The partly synthetic TEC specimen generator (msme_stats.samples.tec)."""

from __future__ import annotations

from pathlib import Path

import pytest

from msme_stats.errors import InvalidValueError
from msme_stats.samples import tec
from msme_stats.samples.tec import write_tec_samples

ROOT = Path(__file__).resolve().parents[1]
BUNDLED = ROOT / "data" / "tec_samples"


def test_bundled_specimen_files_equal_generator_output(tmp_path):
    """Drift guard: the default seed regenerates the committed files byte for byte."""
    files = write_tec_samples(tmp_path)
    assert sorted(files) == ["eurostat_sdmx", "eurostat_tsv", "eurostat_tsv_legacy", "oecd_sdbs", "oecd_sdmx"]
    for path in files.values():
        assert path.read_bytes() == (BUNDLED / path.name).read_bytes(), f"{path.name} drifted from the generator"
    # written atomically: nothing but the five files is left in the folder
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in files.values())


def test_a_non_eu_reporter_is_refused(tmp_path, monkeypatch):
    table = tmp_path / "reporters.csv"
    table.write_text("geo,sme_intra_exp_share_2015\nAT,40.1\nNO,\n", encoding="utf-8")
    monkeypatch.setattr(tec, "REPORTERS_FILE", table)
    with pytest.raises(InvalidValueError, match="NO"):
        write_tec_samples(tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
