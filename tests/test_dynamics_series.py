"""Tests of exporter_dynamics(series=...): a selection of EDD codes, computed by the blocks it needs."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from msme_stats.errors import OptionError
from msme_stats.indicators.dynamics import edd_codes, exporter_dynamics
from msme_stats.samples.transactions import synthetic_transactions

CODES = edd_codes()["code"].tolist()
FAMILIES = sorted(set(edd_codes()["base_code"]))
#: the core indicators of the DuckDB peer of the benchmark matrix
CORE = ["A1", "A2", "A3", "A6i", "A6ii", "A6iii", "B1", "B3i", "B4i", "C1"]


@pytest.fixture(scope="module")
def tx():
    return synthetic_transactions(20_000, n_traders=600, seed=11)


@pytest.fixture(scope="module")
def register(tx):
    traders = pd.unique(tx["trader"])
    rng = np.random.default_rng(2)
    return pd.DataFrame({"trader": traders[:-20], "employees": rng.integers(1, 900, len(traders) - 20)})


def _dyn(tx, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return exporter_dynamics(tx, **kw)


def _expand(series):
    """The codes a selection stands for, in table order (an oracle from the code table)."""
    asked = {series} if isinstance(series, str) else set(series)
    table = edd_codes()
    return [c for c, base in zip(table["code"], table["base_code"], strict=True) if c in asked or base in asked]


def _subset(full, codes):
    return full[full["edd_code"].isin(codes)].reset_index(drop=True)


@pytest.fixture(scope="module")
def full(tx):
    return _dyn(tx)


@pytest.mark.parametrize("series", [CORE, ["D1", "E6"], ["B5", "B6"], ["C3", "C5", "C6"], ["B2"], ["A11"],
                                    ["D"], "A1"], ids=str)
def test_selection_equals_the_full_run(tx, full, series):
    if series == ["D"]:  # not a code: a block letter is rejected, not guessed
        with pytest.raises(OptionError, match="unknown EDD code"):
            _dyn(tx, series=series)
        return
    got = _dyn(tx, series=series)
    want_codes = _expand(series)
    assert got["edd_code"].unique().tolist() == want_codes
    pd.testing.assert_frame_equal(got, _subset(full, want_codes))
    assert got.attrs["params"]["series"] == tuple(want_codes)


def test_family_codes_and_table_order(tx, full):
    got = _dyn(tx, series=["C1", "A6", "A1", "A1"])  # asked out of order, with a repeat
    want = ["A1", "A6i", "A6ii", "A6iii", "A6iv", "A6v", "C1"]
    assert got["edd_code"].unique().tolist() == want
    pd.testing.assert_frame_equal(got, _subset(full, want))


def test_selection_with_a_register_and_options(tx, register):
    kw = {"register": register, "exit_convention": "B", "growth": "log", "d6_rule": "new",
          "survival_index": "cohort"}
    full = _dyn(tx, **kw)
    for series in (CORE, ["A12", "C5", "D6", "E2", "B6"]):
        got = _dyn(tx, series=series, **kw)
        pd.testing.assert_frame_equal(got, _subset(full, _expand(series)))
        assert set(got["size_class"]) == {"all", "SME", "large", "unknown"}


@pytest.mark.parametrize("bad", [["A99"], ["a1"], [1], [], ["A1", None]], ids=str)
def test_bad_series_raise(tx, bad):
    with pytest.raises(OptionError, match="series"):
        _dyn(tx, series=bad)


def test_engines_agree_on_a_selection(tx):
    pytest.importorskip("duckdb")
    roles = {c: c for c in ("trader", "period", "product", "partner", "value")}
    a = _dyn(tx, series=CORE)
    b = _dyn(tx, series=CORE, engine="duckdb", roles=roles)
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(CODES + FAMILIES), min_size=1, max_size=8))
def test_any_selection_is_the_full_run_filtered(series):
    tx = synthetic_transactions(3_000, n_traders=120, seed=4)
    full = _dyn(tx)
    got = _dyn(tx, series=series)
    want = _expand(series)
    pd.testing.assert_frame_equal(got, _subset(full, want))


@pytest.mark.parametrize(("series", "skipped"), [(CORE, {"_de_flags", "_cell_block", "_top_shares"}),
                                                 (["B5"], {"_de_flags", "_a_block", "_top_shares"}),
                                                 (["E1"], {"_cell_block", "_a_block", "_top_shares"}),
                                                 (["B2"], {"_de_flags", "_cell_block", "_a_block"})], ids=str)
def test_blocks_not_asked_are_not_computed(tx, full, series, skipped, monkeypatch):
    from msme_stats.indicators import dynamics

    def refuse(*args, **kwargs):
        raise AssertionError("a block that was not asked for ran")

    for name in skipped:
        monkeypatch.setattr(dynamics, name, refuse)
    got = _dyn(tx, series=series)
    pd.testing.assert_frame_equal(got, _subset(full, _expand(series)))
    with pytest.raises(AssertionError, match="not asked"):
        _dyn(tx)  # the full run needs them
