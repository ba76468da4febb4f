"""The read pool of the customs loader (msme_stats._arrow) changes where memory lives, not what is read."""

from __future__ import annotations

import warnings

import pandas as pd
import pyarrow as pa
import pytest

from msme_stats import _arrow
from msme_stats.errors import RecodeWarning
from msme_stats.samples.transactions import write_transactions_csv, write_transactions_parquet
from msme_stats.sources import customs
from msme_stats.sources.customs import load_transactions

ARGS = {"n_traders": 200, "years": (2001, 2004), "seed": 11, "block_rows": 3_000}
ROLES = {c: c for c in ("trader", "period", "product", "partner", "value")}


def test_read_pool_is_jemalloc_or_the_default(monkeypatch):
    pool = _arrow.read_pool()
    assert isinstance(pool, pa.MemoryPool)

    def no_jemalloc():
        raise NotImplementedError("built without jemalloc")

    monkeypatch.setattr(pa, "jemalloc_memory_pool", no_jemalloc)
    assert _arrow.read_pool().backend_name == pa.default_memory_pool().backend_name


@pytest.mark.parametrize("form", ["parquet", "csv"])
def test_same_frame_whichever_pool_reads(tmp_path, monkeypatch, form):
    if form == "parquet":
        path = write_transactions_parquet(tmp_path / "tx.parquet", 9_000, **ARGS, codes="int",
                                          layout="file", row_group_size=2_000)
    else:
        path = write_transactions_csv(tmp_path / "tx.csv", 9_000, **ARGS, codes="int")
    used: list[str] = []

    def tracking(pool):
        def read_pool():
            used.append(pool.backend_name)
            return pool
        return read_pool

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        monkeypatch.setattr(customs, "read_pool", tracking(pa.system_memory_pool()))
        a = load_transactions(path, roles=ROLES)
        monkeypatch.setattr(customs, "read_pool", tracking(_arrow.read_pool()))
        b = load_transactions(path, roles=ROLES)
    assert used and used[0] == "system"  # the reader asked for the pool (and got the one given)
    assert len(a) == 9_000
    pd.testing.assert_frame_equal(a, b)


# --- numpy's huge-page advice: off inside the package's large steps, restored after ---------
def _advice_now(switch):
    before = switch(True)
    switch(before)
    return before


@pytest.mark.parametrize("user_setting", [True, False])
def test_hugepage_advice_is_off_inside_and_restored_after(user_setting):
    switch = _arrow._numpy_advice_switch()
    if switch is None:
        pytest.skip("this numpy has no huge-page switch")
    switch(user_setting)
    try:
        with _arrow.no_hugepage_advice():
            assert _advice_now(switch) is False
            with _arrow.no_hugepage_advice():  # nested: still off
                assert _advice_now(switch) is False
            assert _advice_now(switch) is False  # the inner exit did not restore early
        assert _advice_now(switch) is user_setting
        with pytest.raises(ZeroDivisionError), _arrow.no_hugepage_advice():
            raise ZeroDivisionError
        assert _advice_now(switch) is user_setting  # restored after an error too
    finally:
        switch(True)


def test_hugepage_advice_concurrent_blocks_restore_the_users_setting():
    import threading

    switch = _arrow._numpy_advice_switch()
    if switch is None:
        pytest.skip("this numpy has no huge-page switch")
    switch(True)
    inside = threading.Barrier(2)
    seen = []

    def work():
        with _arrow.no_hugepage_advice():
            inside.wait(timeout=10)  # both blocks are open at once
            seen.append(_advice_now(switch))
            inside.wait(timeout=10)

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == [False, False]
    assert _advice_now(switch) is True


def test_quiet_allocation_keeps_signature_and_runs_without_a_switch(monkeypatch):
    import inspect

    assert "roles" in inspect.signature(load_transactions).parameters
    assert load_transactions.__doc__.startswith("Load transaction-level customs records")
    monkeypatch.setattr(_arrow, "_numpy_advice_switch", lambda: None)
    with _arrow.no_hugepage_advice():
        pass

    @_arrow.quiet_allocation
    def double(x: int) -> int:
        return 2 * x

    assert double(21) == 42


@pytest.mark.parametrize("engine", ["pandas", "duckdb"])
def test_engine_reductions_run_with_the_advice_off(monkeypatch, engine):
    from msme_stats.engines import ReduceOptions, get_engine
    from msme_stats.samples.transactions import synthetic_transactions

    if engine == "duckdb":
        pytest.importorskip("duckdb")
    calls: list[bool] = []
    state = {"on": True}

    def switch(on: bool) -> bool:
        calls.append(on)
        before, state["on"] = state["on"], on
        return before

    monkeypatch.setattr(_arrow, "_numpy_advice_switch", lambda: switch)
    get_engine(engine).reduce(synthetic_transactions(500, n_traders=20, seed=3), ReduceOptions())
    assert calls == [False, True] and state["on"] is True  # off for the call, the user's setting back
