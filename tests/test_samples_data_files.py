"""Tests of the data files of the sample generators: wbes_generator_params.csv (the synthetic
WBES model's parameters) and tec_sample_reporters.csv (the TEC specimen's EU reporters)."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from msme_stats.errors import InvalidValueError
from msme_stats.reference import group_members, to_iso3
from msme_stats.samples import tec as tec_samples
from msme_stats.samples import wbes as wbes_samples

ROOT = Path(__file__).resolve().parents[1]
PUBLISHED = ROOT / "data" / "published_reference_values" / "reference_values.csv"


@pytest.fixture
def params():
    wbes_samples._params.cache_clear()
    yield wbes_samples._params()
    wbes_samples._params.cache_clear()


def test_share_vectors_are_probabilities_that_add_up_to_one(params):
    shares = [n for n in params.vectors if "_share." in n]
    assert len(shares) == 8  # size x (split, unsplit) x (sample, pop); sector x 2 schemes x 2
    for name in shares:
        v = params.vec(name)
        assert (v > 0).all() and v.sum() == pytest.approx(1.0), name
    assert params.vec("size_sample_share.split").size == 4
    assert params.vec("size_sample_share.unsplit").size == 3
    for scheme, codes in wbes_samples._SCHEMES.items():
        assert params.vec(f"sector_sample_share.{scheme}").size == len(codes)
        assert params.vec(f"sector_pop_share.{scheme}").size == len(codes)


def test_rates_and_probabilities_are_in_the_unit_interval(params):
    probs = {n: v for n, v in params.scalars.items() if n.startswith("rate.") or n.endswith("_prob")}
    assert len(probs) >= 20
    assert all(0.0 <= v <= 1.0 for v in probs.values()), probs
    for name in ("foreign_prob", "d12_foreign_prob", "c22a_prob", "c22b_prob", "d30b_cum",
                 "direct_mean"):
        v = params.vec(name)
        assert v.size == 4 and ((v >= 0) & (v <= 1)).all(), name
    assert (np.diff(params.vec("d30b_cum")) > 0).all()
    # the logit tables have one row per sector group and a size gradient in every row
    for table in ("direct_logit", "indirect_logit"):
        t = params.table(table)
        assert t.shape == (3, 4) and (np.diff(t, axis=1) >= 0).all()


def test_every_scalar_and_every_vector_has_a_note():
    with wbes_samples.PARAMS_FILE.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    undocumented = [r["parameter"] for r in rows
                    if r["position"] in ("", "0") and not r["note"].strip()]
    assert undocumented == []


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "params.csv"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a,,1.0,x\na,,2.0,x\n", "repeated rows"),
        ("v,0,1.0,x\nv,2,2.0,x\n", "without gaps"),
        ("a,,high,x\n", "use a number"),
    ],
)
def test_bad_parameter_files_raise(tmp_path, monkeypatch, body, message):
    path = _write(tmp_path, "parameter,position,value,note\n" + body)
    monkeypatch.setattr(wbes_samples, "PARAMS_FILE", path)
    wbes_samples._params.cache_clear()
    try:
        with pytest.raises(InvalidValueError, match=message):
            wbes_samples._params()
    finally:
        wbes_samples._params.cache_clear()


def test_tec_reporters_are_eu_members_and_anchors_equal_the_published_values():
    geos, shares = tec_samples._reporters()
    assert len(geos) == 20 and len(set(geos)) == 20
    members = set(group_members("eu", "eu", 2015))
    assert set(to_iso3(pd.Series(geos), scheme="eurostat")) <= members
    # oracle: the published row and its note ("Others: LV 81; BE 70; ...")
    ref = pd.read_csv(PUBLISHED, dtype=str, keep_default_na=False)
    row = ref[ref["id"] == "ESTAT_CY_2015_INTRA_SME_EXP_VAL"].iloc[0] if "id" in ref.columns \
        else ref[ref.iloc[:, 0] == "ESTAT_CY_2015_INTRA_SME_EXP_VAL"].iloc[0]
    published = {"CY": float(row.iloc[7])}
    published.update({g: float(v) for g, v in re.findall(r"\b([A-Z]{2}) (\d+)", row.iloc[-1])})
    assert shares == published


def test_tec_reporter_outside_the_eu_raises(tmp_path, monkeypatch):
    path = tmp_path / "reporters.csv"
    path.write_text("geo,sme_intra_exp_share_2015,source\nAT,,x\nNO,,x\n", encoding="utf-8")
    monkeypatch.setattr(tec_samples, "REPORTERS_FILE", path)
    with pytest.raises(InvalidValueError, match="NO"):
        tec_samples._reporters()
