"""One ``unit`` convention across ES, TEC and EDD results: "%" for 0-100, "share" for 0-1."""

from __future__ import annotations

import warnings
from pathlib import Path

import msme_stats as ms
from msme_stats.indicators import result_unit
from msme_stats.samples.transactions import synthetic_transactions

ROOT = Path(__file__).resolve().parents[1]


def test_es_units() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f = ms.load_wbes(ROOT / "data" / "wbes_synthetic" / "KEN_2013_synthetic.dta", cache=False)
        t = ms.estimate(f, ["TR5", "TR16", "TR1", "es_export_sales_ratio"])
    assert dict(zip(t["indicator"], t["unit"], strict=True)) == {
        "es_direct_export_intensity": "%", "es_direct_exporter_share_10": "%",
        "es_days_clear_exports": "days", "es_export_sales_ratio": "%",
    }
    pct = t[t["unit"] == "%"]
    assert ((pct["estimate"] >= 0) & (pct["estimate"] <= 100)).all()


def test_edd_units() -> None:
    out = ms.exporter_dynamics(synthetic_transactions(5_000, n_traders=200, seed=3))
    units = dict(zip(out["edd_code"], out["unit"], strict=False))
    assert units["A1"] == "count" and units["A6i"] == "value" and units["B1"] == "index"
    assert units["B3i"] == "count"
    assert units["C1"] == "share" and units["B2i"] == "share" and units["A11i"] == "rate"
    share = out.loc[(out["unit"] == "share") & ~out["edd_code"].str.endswith("iii"), "value"].dropna()
    assert len(share) and ((share >= 0) & (share <= 1 + 1e-12)).all()
    log = ms.exporter_dynamics(synthetic_transactions(5_000, n_traders=200, seed=3), growth="log")
    assert set(log.loc[log["edd_code"].str.startswith("A11"), "unit"]) == {"log"}


def test_result_unit_mapping() -> None:
    assert result_unit("% of sales") == "%" and result_unit("percent") == "%"
    assert result_unit("share") == "share" and result_unit("days") == "days"
