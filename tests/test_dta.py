"""The .dta header reader (msme_stats.sources._dta) on every format pandas writes, and on the twins."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from msme_stats.sources._dta import decode_text, read_dta_header, redecode

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("version", [114, 117, 118, 119])
def test_label_set_names_in_every_format(tmp_path, version):
    frame = pd.DataFrame({"idstd": [1, 2], "a1": [94, 94], "KENb1": [1, 2], "d3c": [0.5, 1.0]})
    path = tmp_path / f"v{version}.dta"
    frame.to_stata(path, write_index=False, version=version, data_label="SYNTHETIC test",
                   value_labels={"a1": {94: "Kenya"}, "KENb1": {1: "Yes", 2: "No"}})
    h = read_dta_header(str(path))
    assert h.format == version and (h.nvar, h.nobs) == (4, 2)
    assert h.varnames == ("idstd", "a1", "KENb1", "d3c")
    assert h.label_sets == ("", "a1", "KENb1", "")  # pandas names each set after its variable
    assert h.data_label == "SYNTHETIC test"
    with pd.io.stata.StataReader(path) as reader:
        assert set(reader.value_labels()) == {"a1", "KENb1"}


def test_format_115_twins_and_bad_files(tmp_path):
    h = read_dta_header(str(ROOT / "tests" / "fixtures" / "wbes_twins" / "Turkey-2019-full-data.dta"))
    assert (h.format, h.nvar, h.nobs, h.timestamp) == (115, 433, 1663, " 4 Oct 2019 09:21")
    assert dict(zip(h.varnames, h.label_sets, strict=True))["BMj3a"] == "BMJ3A"
    (tmp_path / "x.dta").write_bytes(b"\x73\x02\x01\x00")  # format 115, cut inside the header
    with pytest.raises(ValueError, match="truncated"):
        read_dta_header(str(tmp_path / "x.dta"))
    (tmp_path / "y.dta").write_bytes(b"PK\x03\x04" + b"\x00" * 200)
    with pytest.raises(ValueError, match="format 113-119"):
        read_dta_header(str(tmp_path / "y.dta"))


def test_text_decoding():
    assert decode_text("Don’t".encode() + b"\x00junk") == "Don’t"
    assert decode_text(b"C\xf4te d'Ivoire") == "Côte d'Ivoire"
    assert redecode("Côte") == "Côte"  # genuine latin-1 text stays as it is
    assert redecode("’") == "’"  # not a latin-1 decoding: left alone
