"""Engines: pandas and Dask give the same reduction and the same indicators."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import msme_stats
from msme_stats.engines import ReduceOptions, get_engine
from msme_stats.engines._common import (
    Chunk,
    Coded,
    coded_from_frame,
    group_sums_coded,
    text_order,
)
from msme_stats.engines._parquet import _batch_cells, coded_from_parquet
from msme_stats.errors import ExclusionWarning, InvalidValueError, OptionError, RecodeWarning
from msme_stats.indicators.dynamics import exporter_dynamics
from msme_stats.samples.transactions import synthetic_transactions, write_transactions_parquet

pytest.importorskip("dask")
pytest.importorskip("duckdb")

KCS = Path(__file__).resolve().parents[1] / "data" / "kcs_customs_synthetic"
ARGS = {"n_traders": 400, "years": (2001, 2006), "seed": 7, "block_rows": 7_000}


@pytest.fixture(scope="module")
def parquet_panel(tmp_path_factory):
    path = tmp_path_factory.mktemp("tx") / "panel"
    write_transactions_parquet(path, 30_000, **ARGS)
    return path


def _sorted(frame, keys):
    return frame.sort_values(keys).reset_index(drop=True)


def test_generator_is_seeded_and_writer_matches(parquet_panel):
    a = synthetic_transactions(30_000, **ARGS)
    b = synthetic_transactions(30_000, **ARGS)
    pd.testing.assert_frame_equal(a, b)
    assert len(a) == 30_000
    files = sorted(parquet_panel.rglob("*.parquet"))
    assert len(files) > 6  # several blocks per year folder: written in chunks
    back = msme_stats.load_transactions(parquet_panel, roles={"trader": "trader", "period": "period",
                                                               "product": "product", "partner": "partner",
                                                               "value": "value"})
    keys = ["period", "trader", "product", "partner", "value"]
    # the loader returns the key columns as categoricals of strings (coded once per value)
    assert all(isinstance(back[c].dtype, pd.CategoricalDtype) for c in ("trader", "product", "partner"))
    back = back.astype({c: "str" for c in ("trader", "product", "partner")})
    pd.testing.assert_frame_equal(_sorted(a, keys), _sorted(back, keys), check_dtype=False)
    assert not a.equals(synthetic_transactions(30_000, **{**ARGS, "seed": 8}))


def test_reductions_equal(parquet_panel):
    opts = ReduceOptions()
    p = get_engine("pandas").reduce(parquet_panel, opts)
    d = get_engine("dask").reduce(parquet_panel, opts, scheduler="synchronous", split_every=3)
    for name, keys in (("firm_product", ["trader", "period", "product"]),
                       ("firm_partner", ["trader", "period", "partner"])):
        pd.testing.assert_frame_equal(_sorted(getattr(p, name), keys), _sorted(getattr(d, name), keys),
                                      check_dtype=False, rtol=1e-12)
    assert p.counts == d.counts


def test_indicators_equal_sync_and_local_cluster(parquet_panel):
    a = exporter_dynamics(parquet_panel)
    b = exporter_dynamics(parquet_panel, engine="dask", scheduler="synchronous")
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2,
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        c = exporter_dynamics(parquet_panel, engine="dask", client=client)
    pd.testing.assert_frame_equal(a, c, rtol=1e-9)
    assert c.attrs["params"]["engine"] == "dask"


def test_dask_dataframe_and_pandas_frame_inputs(parquet_panel):
    import dask.dataframe as dd

    a = exporter_dynamics(parquet_panel)
    frame = synthetic_transactions(30_000, **ARGS)
    b = exporter_dynamics(frame, engine="dask", scheduler="synchronous")
    ddf = dd.from_pandas(frame, npartitions=4)
    c = exporter_dynamics(ddf, engine="dask", scheduler="synchronous")
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)
    pd.testing.assert_frame_equal(a, c, rtol=1e-9)


def test_kcs_specimen_identical_under_both_engines():
    files = sorted(str(f) for f in KCS.glob("df_syn_*_eng.csv"))
    a = exporter_dynamics(files, roles="kcs", period="month")
    b = exporter_dynamics(files, roles="kcs", period="month", engine="dask", scheduler="synchronous")
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)
    assert a["period"].nunique() == 18
    # quarter from month labels of an already-loaded frame (coarsening in the engine)
    tx = msme_stats.load_transactions(files, roles="kcs", period="month")
    q = exporter_dynamics(tx, period="quarter")
    assert sorted(q["period"].unique()) == ["2020Q1", "2020Q2", "2020Q3", "2020Q4", "2021Q1", "2021Q2"]


def test_engine_options():
    frame = synthetic_transactions(2_000, n_traders=50, years=(2001, 2002), seed=1)
    with pytest.raises(OptionError, match="engine='spark'"):
        exporter_dynamics(frame, engine="spark")
    with pytest.raises(OptionError, match="takes no engine options"):
        get_engine("pandas").reduce(frame, ReduceOptions(), scheduler="threads")
    with pytest.raises(OptionError, match="split_every"):
        get_engine("dask").reduce(frame, ReduceOptions(), split_every=1)


# --------------------------------------------------------------------------------------
# integer-coded reduction (msme_stats.engines._common)
# --------------------------------------------------------------------------------------
def _write_hive(root: Path, frame: pd.DataFrame, row_group_size: int) -> Path:
    """Hive-partitioned Parquet (period=YYYY/part.parquet) with small row groups, so that each
    file holds several chunks with their own dictionaries."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    for year, g in frame.groupby("period"):
        (root / f"period={year}").mkdir(parents=True)
        table = pa.Table.from_pandas(g.drop(columns="period"), preserve_index=False)
        pq.write_table(table, root / f"period={year}" / "part-0.parquet", row_group_size=row_group_size)
    return root


TINY = pd.DataFrame(
    {
        "trader": ["A", "A", "A", "B", "B", "OTH", "A", "B"],
        "period": [2001, 2001, 2001, 2001, 2002, 2001, 2001, 2002],
        "product": ["010101", "010101", "020202", "010101", "10101", "010101", "270900", "010101"],
        "partner": ["FR", "DE", "FR", "fr ", "FR", "FR", "FR", "FR"],
        "value": [10.0, 5.0, 1.0, 2.0, 3.0, 100.0, 7.0, 0.5],
    }
)


@pytest.mark.parametrize("engine", ["pandas", "dask", "duckdb"])
def test_tiny_parquet_by_hand(tmp_path, engine):
    root = _write_hive(tmp_path / "tiny", TINY, row_group_size=2)
    kw = {"scheduler": "synchronous"} if engine == "dask" else {}
    with pytest.warns(RecodeWarning, match="restored the lost leading zero of 1 HS code"):
        red = get_engine(engine).reduce(root, ReduceOptions(exclude_hs27=True), **kw)
    fp = _sorted(red.firm_product, ["trader", "period", "product"])
    fd = _sorted(red.firm_partner, ["trader", "period", "partner"])
    # the OTH row (placeholder trader) and the 270900 row (chapter 27) are dropped;
    # 'fr ' -> 'FR' and '10101' -> '010101' (lost leading zero) as in load_transactions
    # A 2001 010101: 10 + 5 = 15; A 2001 020202: 1; B 2001 010101: 2; B 2002 010101: 3 + 0.5
    assert fp.to_dict("list") == {
        "trader": ["A", "A", "B", "B"], "period": [2001, 2001, 2001, 2002],
        "product": ["010101", "020202", "010101", "010101"], "value": [15.0, 1.0, 2.0, 3.5],
    }
    # A 2001 DE: 5; A 2001 FR: 10 + 1 = 11; B 2001 FR: 2; B 2002 FR: 3 + 0.5
    assert fd.to_dict("list") == {
        "trader": ["A", "A", "B", "B"], "period": [2001, 2001, 2001, 2002],
        "partner": ["DE", "FR", "FR", "FR"], "value": [5.0, 11.0, 2.0, 3.5],
    }
    assert red.counts["rows"] == 8
    assert red.counts["rows_hs27"] == 1
    assert red.counts["rows_placeholder_trader"] == red.counts["rows_placeholder"] == 1
    assert red.placeholder_codes == {"trader=OTH": 1}


def _messy_panel() -> pd.DataFrame:
    frame = synthetic_transactions(20_000, n_traders=300, years=(2001, 2004), seed=11)
    frame.loc[frame.index[::97], "trader"] = "OTH"
    frame.loc[frame.index[::89], "partner"] = "OTH"
    frame.loc[frame.index[::83], "product"] = "OT0001"
    frame.loc[frame.index[::79], "product"] = "270900"
    low = frame.index[::5]
    frame.loc[low, "partner"] = " " + frame.loc[low, "partner"].str.lower()
    return frame


def test_parquet_fast_path_equals_validating_loader(tmp_path):
    frame = _messy_panel()
    root = _write_hive(tmp_path / "messy", frame, row_group_size=1_500)
    conc = {frame["product"].iloc[3]: "010101", frame["product"].iloc[9]: "270000"}
    opts = ReduceOptions(exclude_hs27=True, concordance=conc)
    roles = {c: c for c in ("trader", "period", "product", "partner", "value")}
    loaded = msme_stats.load_transactions(root, roles=roles)  # row-level validation
    files = sorted(root.rglob("*.parquet"))
    assert coded_from_parquet(files) is not None  # the files fit the fast path
    a = get_engine("pandas").reduce(root, opts)  # dictionary-level fast path
    b = get_engine("pandas").reduce(loaded, opts)
    c = get_engine("dask").reduce(root, opts, scheduler="synchronous", split_every=2)
    d = get_engine("duckdb").reduce(root, opts)  # the cells go through prepare_coded
    for name, keys in (("firm_product", ["trader", "period", "product"]),
                       ("firm_partner", ["trader", "period", "partner"])):
        for other in (b, c, d):
            pd.testing.assert_frame_equal(_sorted(getattr(a, name), keys), _sorted(getattr(other, name), keys),
                                          check_dtype=False, rtol=1e-12)
    assert a.counts == b.counts == c.counts == d.counts
    assert a.placeholder_codes == b.placeholder_codes == c.placeholder_codes == d.placeholder_codes
    assert a.counts["rows_hs27"] > 0 and a.counts["rows_concorded"] > 0 and a.counts["rows_placeholder"] > 0
    assert set(a.firm_partner["partner"]) == set(a.firm_partner["partner"].str.strip().str.upper())


@pytest.mark.parametrize("engine", ["pandas", "dask", "duckdb"])
@pytest.mark.parametrize(("column", "cell", "match"), [
    ("value", -1.0, "negative"),
    ("product", "12", "shorter than 6 digits"),
    ("trader", " ", "missing"),
])
def test_parquet_invalid_cells_raise_the_loader_error(tmp_path, engine, column, cell, match):
    frame = TINY.copy()
    frame.loc[2, column] = cell
    root = _write_hive(tmp_path / "bad", frame, row_group_size=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        assert coded_from_parquet(sorted(root.rglob("*.parquet"))) is None  # -> validating loader
    kw = {"scheduler": "synchronous"} if engine == "dask" else {}
    with pytest.raises(InvalidValueError, match=match), warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        get_engine(engine).reduce(root, ReduceOptions(), **kw)


def test_frame_missing_keys_and_values_are_reported():
    frame = TINY.iloc[:5].copy()
    frame["partner"] = frame["partner"].str.strip().str.upper()
    frame["product"] = frame["product"].str.zfill(6)
    frame.loc[1, "trader"] = None
    frame.loc[3, "value"] = float("nan")
    with pytest.warns(ExclusionWarning, match=r"left out 1 row\(s\) with a missing key \(trader: 1\)"), \
            pytest.warns(RecodeWarning, match="1 row"):
        red = get_engine("pandas").reduce(frame, ReduceOptions())
    fp = _sorted(red.firm_product, ["trader", "period", "product"])
    # A 2001 010101: 10 (the 5 has no trader); B 2001 010101: NaN adds nothing -> 0
    assert fp["value"].tolist() == [10.0, 1.0, 0.0, 3.0]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 6), st.integers(0, 2), st.integers(0, 4),
                       st.floats(0, 1e6, allow_nan=False)), min_size=1, max_size=60),
    st.integers(1, 9),
    st.sampled_from([1, 2]),
)
def test_group_sums_match_pandas_groupby(rows, block_rows, threads):
    frame = pd.DataFrame(rows, columns=["trader", "period", "product", "value"]).astype({"trader": "str"})
    frame["partner"] = "FR"
    coded = coded_from_frame(frame)
    (got,) = group_sums_coded(coded, [["trader", "period", "product"]], block_rows=block_rows, threads=threads)
    want = frame.groupby(["trader", "period", "product"], sort=False)["value"].sum().reset_index()
    # same cells in the same order (first appearance), same sums up to rounding
    pd.testing.assert_frame_equal(got, want, check_dtype=False, rtol=1e-12)


def test_group_sums_wide_keys_fall_back_to_stepwise_hashing():
    # 2**21 labels per key: 2**63 combined codes do not fit an int64, so the keys are
    # combined step by step (factorize after each key)
    n = 2**21
    labels = {k: pd.Index([f"{k}{i}" for i in range(n)]) for k in ("trader", "period", "product")}
    idx = {"trader": np.array([0, n - 1, 0, n - 1]), "period": np.array([5, n - 1, 5, n - 1]),
           "product": np.array([n - 1, 0, n - 1, 1])}
    chunk = Chunk(dict.fromkeys(idx), idx, np.array([1.0, 2.0, 4.0, 8.0]))
    (got,) = group_sums_coded(Coded(labels, [chunk]), [["trader", "period", "product"]])
    # rows 0 and 2 share a cell: 1 + 4 = 5
    assert got.to_dict("list") == {
        "trader": ["trader0", f"trader{n - 1}", f"trader{n - 1}"],
        "period": ["period5", f"period{n - 1}", f"period{n - 1}"],
        "product": [f"product{n - 1}", "product0", "product1"],
        "value": [5.0, 2.0, 8.0],
    }


def test_batch_cells_sum_equal_keys_and_keep_rows_when_keys_are_too_wide():
    import pyarrow as pa

    def dict_col(indices, size, prefix):
        return pa.DictionaryArray.from_arrays(pa.array(indices, pa.int32()),
                                              pa.array([f"{prefix}{i}" for i in range(size)]))

    def batch(size):
        return pa.record_batch({
            "trader": dict_col([0, 1, 0], size, "t"), "period": dict_col([0, 0, 0], size, "2"),
            "product": dict_col([0, 0, 0], size, "p"), "partner": dict_col([0, 0, 0], size, "d"),
            "value": pa.array([1.0, 2.0, 4.0]),
        })

    # rows 0 and 2 have equal keys: one cell of 2 rows worth 1 + 4 = 5
    _, cells = _batch_cells(batch(3))
    assert cells.value.tolist() == [5.0, 2.0] and cells.rows.tolist() == [2, 1]
    assert cells.idx["trader"].tolist() == [0, 1]
    # 70,000 ** 4 > 2 ** 62 dictionary entries: the keys cannot be combined, rows are kept
    _, rows = _batch_cells(batch(70_000))
    assert rows.rows is None and rows.value.tolist() == [1.0, 2.0, 4.0]


def test_everything_filtered_gives_empty_tables(tmp_path):
    frame = TINY.assign(trader="OTH")
    root = _write_hive(tmp_path / "oth", frame, row_group_size=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        red = get_engine("pandas").reduce(root, ReduceOptions())
    assert red.firm_product.empty and list(red.firm_product.columns) == ["trader", "period", "product", "value"]
    assert red.firm_partner.empty and red.counts["rows_placeholder"] == 8 == red.placeholder_codes["trader=OTH"]


# --------------------------------------------------------------------------------------
# every input form reaches the same coded reduction (issue 14)
# --------------------------------------------------------------------------------------
FORM_ARGS = {"n_traders": 300, "years": (2001, 2005), "seed": 5, "block_rows": 4_000}
CANON = {c: c for c in ("trader", "period", "product", "partner", "value")}


@pytest.fixture(scope="module")
def forms(tmp_path_factory):
    from msme_stats.samples.transactions import write_transactions_csv

    root = tmp_path_factory.mktemp("forms")
    n = 15_000
    s = synthetic_transactions(n, **FORM_ARGS)
    i = synthetic_transactions(n, **FORM_ARGS, codes="int")
    out = {
        "frame_str": s,
        "frame_int": i,
        "frame_int_pyarrow": i.astype({c: "int64[pyarrow]" for c in ("trader", "product", "partner")}),
        "frame_int_nullable": i.astype({c: "Int64" for c in ("trader", "product", "partner", "period")}),
        "parquet_file_int": write_transactions_parquet(root / "int.parquet", n, **FORM_ARGS, codes="int",
                                                       layout="file", row_group_size=3_000),
        "hive_str": write_transactions_parquet(root / "hive", n, **FORM_ARGS),
        "csv_int": write_transactions_csv(root / "int.csv", n, **FORM_ARGS, codes="int"),
        "csv_gz_str": write_transactions_csv(root / "str.csv.gz", n, **FORM_ARGS),
    }
    return out


FORMS = ["frame_str", "frame_int", "frame_int_pyarrow", "frame_int_nullable", "parquet_file_int", "hive_str",
         "csv_int", "csv_gz_str"]


def _dyn(source, engine, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        return exporter_dynamics(source, engine=engine, **kw)


@pytest.fixture(scope="module")
def reference(forms):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        return exporter_dynamics(msme_stats.load_transactions(forms["frame_str"], roles=CANON))


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize("engine", ["pandas", "dask"])
def test_every_input_form_gives_the_same_indicators(forms, reference, form, engine):
    kw = {"scheduler": "synchronous"} if engine == "dask" else {}
    src = forms[form]
    # the user path: load_transactions (roles) then exporter_dynamics
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        tx = msme_stats.load_transactions(src, roles=CANON, engine=engine)
    got = _dyn(tx, engine, **kw)
    pd.testing.assert_frame_equal(got, reference, check_exact=False, rtol=1e-12)
    # and in one call
    got = _dyn(src, engine, roles=CANON, **kw)
    pd.testing.assert_frame_equal(got, reference, check_exact=False, rtol=1e-12)


def test_dask_dataframe_of_integer_codes(forms, reference):
    import dask.dataframe as dd

    ddf = dd.from_pandas(forms["frame_int"], npartitions=3)
    got = _dyn(msme_stats.load_transactions(ddf, roles=CANON, engine="dask"), "dask", scheduler="synchronous")
    pd.testing.assert_frame_equal(got, reference, check_exact=False, rtol=1e-12)
    got = _dyn(msme_stats.load_transactions(ddf, roles=CANON), "pandas")
    pd.testing.assert_frame_equal(got, reference, check_exact=False, rtol=1e-12)


def test_large_parquet_file_is_split_into_dask_tasks(forms, monkeypatch):
    from msme_stats.sources import customs

    monkeypatch.setattr(customs, "DASK_PARQUET_ROWS", 6_000)
    ddf = msme_stats.load_transactions(forms["parquet_file_int"], roles=CANON, engine="dask")
    assert ddf.npartitions >= 4  # 15,000 rows in row groups of 3,000 -> tasks of about 3,000 rows
    whole = msme_stats.load_transactions(forms["parquet_file_int"], roles=CANON)
    parts = ddf.compute(scheduler="synchronous")
    assert len(parts) == len(whole)
    keys = ["trader", "period", "product", "partner", "value"]
    pd.testing.assert_frame_equal(_sorted(whole.astype({c: str for c in keys[:4]}), keys),
                                  _sorted(parts.astype({c: str for c in keys[:4]}), keys), check_dtype=False)


# --------------------------------------------------------------------------------------
# the optional DuckDB engine (issue 14): same tables, same typed errors
# --------------------------------------------------------------------------------------
def _no_fallback(caplog):
    return not [r for r in caplog.records if "read by the pandas path" in r.getMessage()]


@pytest.mark.parametrize("form", FORMS)
def test_duckdb_engine_every_input_form(forms, reference, form, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="msme_stats.engines.duckdb_engine")
    src = forms[form]
    got = _dyn(src, "duckdb", roles=CANON)  # DuckDB reads the raw source itself
    pd.testing.assert_frame_equal(got, reference, check_exact=False, rtol=1e-12)
    assert _no_fallback(caplog), "the SQL path was not used"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        tx = msme_stats.load_transactions(src, roles=CANON)
    got = _dyn(tx, "duckdb")  # a loaded (canonical) frame
    pd.testing.assert_frame_equal(got, reference, check_exact=False, rtol=1e-12)
    assert _no_fallback(caplog)


@pytest.mark.parametrize("form", ["frame_int", "frame_str", "parquet_file_int", "hive_str", "csv_int"])
@pytest.mark.parametrize("entries", ["slices", "masks"])
def test_duckdb_engine_tables_are_tidy_as_the_pandas_engines(forms, form, entries, monkeypatch):
    from msme_stats.engines import duckdb_engine

    if entries == "masks":  # grouping sets returned interleaved: boolean masks instead of slices
        monkeypatch.setattr(duckdb_engine, "_entries", lambda flag: (flag, ~flag))
    src = forms[form]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        want = get_engine("pandas").reduce(msme_stats.load_transactions(src, roles=CANON), ReduceOptions())
        got = get_engine("duckdb").reduce(src, ReduceOptions(), roles=CANON)
    for name, keys in (("firm_product", ["trader", "period", "product"]),
                       ("firm_partner", ["trader", "period", "partner"])):
        a, b = getattr(want, name), getattr(got, name)
        assert a.dtypes.to_dict() == b.dtypes.to_dict()
        for key in (keys[0], keys[2]):  # the same categories: used labels only, text, sorted
            pd.testing.assert_index_equal(b[key].cat.categories, a[key].cat.categories, exact=True)
            assert b[key].cat.categories.is_monotonic_increasing
            assert np.bincount(b[key].cat.codes, minlength=len(b[key].cat.categories)).all()
        pd.testing.assert_frame_equal(_sorted(a, keys), _sorted(b, keys), check_exact=False, rtol=1e-12)
    assert got.firm_product["trader"].cat.categories is got.firm_partner["trader"].cat.categories
    assert got.counts == want.counts


def test_duckdb_engine_entries_of_the_grouping_sets():
    from msme_stats.engines.duckdb_engine import _as_mask, _entries

    flag = np.array([True, True, True, False, False])
    prod, part = _entries(flag)
    assert (prod, part) == (slice(0, 3), slice(3, None))  # product cells first: views
    assert (_as_mask(prod, 5) == flag).all() and (_as_mask(part, 5) == ~flag).all()
    flag = np.array([True, False, True, False])
    prod, part = _entries(flag)
    assert (prod == flag).all() and (part == ~flag).all()  # interleaved: masks


@pytest.mark.parametrize("threads", [1, 2])
def test_duckdb_engine_key_jobs_give_the_first_keys_error(threads):
    import pyarrow as pa

    from msme_stats.engines.duckdb_engine import _labelled

    columns = {"trader": pa.chunked_array([["A1", " "]]), "period": pa.chunked_array([[2001, 2002]]),
               "product": pa.chunked_array([["0101x1", "010121"]]), "partner": pa.chunked_array([["de", "fr"]])}
    with pytest.raises(InvalidValueError, match="'trader'"):  # the product is malformed too
        _labelled(columns, np.array([1, 1]), CANON, "test.parquet", "year", threads)
    columns["trader"] = pa.chunked_array([["A1", "B2"]])
    with pytest.raises(InvalidValueError, match="'product'"):
        _labelled(columns, np.array([1, 1]), CANON, "test.parquet", "year", threads)
    columns["product"] = pa.chunked_array([["10121", "010121"]])
    raw, to_label, labels, restored = _labelled(columns, np.array([3, 1]), CANON, "test.parquet", "year", threads)
    assert labels["product"].tolist() == ["010121"] and restored == 3  # 10121 -> 010121, its 3 rows
    assert labels["partner"].tolist() == ["DE", "FR"] and labels["trader"].tolist() == ["A1", "B2"]
    assert (to_label["product"][raw["product"]] == 0).all()


def test_duckdb_engine_reports_restored_zeros_and_row_counts(forms):
    with pytest.warns(RecodeWarning, match="restored the lost leading zero") as rec:
        red = get_engine("duckdb").reduce(forms["parquet_file_int"], ReduceOptions(), roles=CANON)
    with pytest.warns(RecodeWarning) as rec_pd:
        msme_stats.load_transactions(forms["parquet_file_int"], roles=CANON)
    n = [str(w.message).split("zero of ")[1].split(" ")[0] for w in rec if "zero of" in str(w.message)]
    n_pd = [str(w.message).split("zero of ")[1].split(" ")[0] for w in rec_pd if "zero of" in str(w.message)]
    assert n == n_pd and int(n[0]) > 0
    assert red.counts["rows"] == 15_000


@pytest.mark.parametrize(("column", "cell", "error"), [
    ("product", -10121, InvalidValueError),       # negative HS code
    ("product", 12, InvalidValueError),           # shorter than 6 digits
    ("period", 1850, InvalidValueError),          # year outside valid_years
    ("value", -1.0, InvalidValueError),           # negative value
    ("value", float("nan"), InvalidValueError),   # missing value
    ("value", float("inf"), InvalidValueError),   # infinite value
    ("trader", None, InvalidValueError),          # missing id
])
@pytest.mark.parametrize("form", ["frame", "parquet", "csv"])
def test_duckdb_engine_raises_the_loaders_errors(tmp_path, forms, column, cell, error, form):
    frame = forms["frame_int"].iloc[:3_000].copy()
    if cell is None:
        frame[column] = frame[column].astype("Int64")
    frame.loc[frame.index[1_234], column] = cell
    src: object = frame
    if form == "parquet":
        src = tmp_path / "bad.parquet"
        frame.to_parquet(src)
    elif form == "csv":
        src = tmp_path / "bad.csv"
        frame.to_csv(src, index=False)
    with pytest.raises(error) as want, warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        exporter_dynamics(src, roles=CANON)
    with pytest.raises(error) as got, warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        exporter_dynamics(src, roles=CANON, engine="duckdb")
    assert str(got.value) == str(want.value)  # same message: file, column, first row and cell


def test_duckdb_engine_options_and_missing_dependency(monkeypatch):
    import sys

    frame = synthetic_transactions(2_000, n_traders=50, years=(2001, 2002), seed=1)
    with pytest.raises(OptionError, match="engine='duckdb' takes no options"):
        get_engine("duckdb").reduce(frame, ReduceOptions(), scheduler="threads")
    with pytest.raises(OptionError, match="only used with engine='dask'"):
        exporter_dynamics(frame, engine="duckdb", scheduler="threads")
    monkeypatch.setitem(sys.modules, "duckdb", None)  # import duckdb -> ImportError
    with pytest.raises(msme_stats.MsmeStatsError, match=r"pip install 'msme_stats\[duckdb\]'"):
        exporter_dynamics(frame, engine="duckdb")


def test_duckdb_engine_threads_do_not_change_the_tables(forms):
    a = get_engine("duckdb").reduce(forms["frame_str"], ReduceOptions(), roles=CANON, threads=1)
    b = get_engine("duckdb").reduce(forms["frame_str"], ReduceOptions(), roles=CANON, threads=2)
    for name, keys in (("firm_product", ["trader", "period", "product"]),
                       ("firm_partner", ["trader", "period", "partner"])):
        pd.testing.assert_frame_equal(_sorted(getattr(a, name), keys), _sorted(getattr(b, name), keys),
                                      check_dtype=False, rtol=1e-12)


def test_exporter_dynamics_threads_reach_duckdb(forms, monkeypatch):
    from msme_stats.engines import duckdb_engine

    seen = []
    fetch = duckdb_engine._fetch

    def spy(source, cols, roles, threads, sql):
        seen.append(threads)
        return fetch(source, cols, roles, threads, sql)

    monkeypatch.setattr(duckdb_engine, "_fetch", spy)
    src = forms["parquet_file_int"]
    one = [exporter_dynamics(src, roles=CANON, engine="duckdb", threads=1) for _ in range(2)]
    two = exporter_dynamics(src, roles=CANON, engine="duckdb", threads=2)
    assert seen == [1, 1, 2]
    assert one[0].equals(one[1])  # one thread: the same bits in every run
    pd.testing.assert_frame_equal(one[0], two, rtol=1e-12)
    with pytest.raises(OptionError, match="only used with engine='duckdb'"):
        exporter_dynamics(forms["frame_str"], threads=1)
    for bad in (0, -2, 1.5, True, "2"):
        with pytest.raises(OptionError, match="positive integer"):
            exporter_dynamics(src, roles=CANON, engine="duckdb", threads=bad)


def test_duckdb_engine_dates_years_and_integer_values(tmp_path, caplog):
    import logging

    caplog.set_level(logging.INFO, logger="msme_stats.engines.duckdb_engine")
    files = sorted(KCS.glob("df_syn_*_eng.csv"))
    # a date role (KCS import declarations), yearly: dates parsed per distinct value in SQL
    a = _dyn(files, "pandas", roles="kcs", period="year")
    b = _dyn(files, "duckdb", roles="kcs", period="year")
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
    assert _no_fallback(caplog)
    # monthly labels from dates: read by the pandas path, same result
    pd.testing.assert_frame_equal(_dyn(files, "pandas", roles="kcs", period="month"),
                                  _dyn(files, "duckdb", roles="kcs", period="month"), check_exact=False, rtol=1e-12)
    # a year role and whole-number values in a CSV (DuckDB reads them as integers)
    frame = synthetic_transactions(5_000, n_traders=80, years=(2001, 2004), seed=3, codes="int")
    frame = frame.rename(columns={"period": "yr"}).assign(value=lambda f: f["value"].round().astype("int64"))
    path = tmp_path / "years.csv"
    frame.to_csv(path, index=False)
    roles = {**CANON, "year": "yr"}
    del roles["period"]
    caplog.clear()
    pd.testing.assert_frame_equal(_dyn(path, "pandas", roles=roles), _dyn(path, "duckdb", roles=roles),
                                  check_exact=False, rtol=1e-12)
    assert _no_fallback(caplog)


def test_duckdb_engine_boolean_values_raise_the_loaders_error():
    frame = synthetic_transactions(1_000, n_traders=30, years=(2001, 2002), seed=2).assign(value=True)
    with pytest.raises(InvalidValueError) as want:
        exporter_dynamics(frame, roles=CANON)
    with pytest.raises(InvalidValueError) as got:
        exporter_dynamics(frame, roles=CANON, engine="duckdb")
    assert str(got.value) == str(want.value)


def test_duckdb_engine_bad_quantity_raises_the_loaders_error():
    frame = synthetic_transactions(1_000, n_traders=30, years=(2001, 2002), seed=2).assign(kg=1.0)
    frame.loc[frame.index[17], "kg"] = -2.0
    roles = {**CANON, "quantity": "kg"}
    with pytest.raises(InvalidValueError) as want:
        exporter_dynamics(frame, roles=roles)
    with pytest.raises(InvalidValueError) as got:
        exporter_dynamics(frame, roles=roles, engine="duckdb")
    assert str(got.value) == str(want.value) and "negative" in str(got.value)
    frame.loc[frame.index[17], "kg"] = None  # a missing quantity is allowed
    pd.testing.assert_frame_equal(exporter_dynamics(frame, roles=roles),
                                  exporter_dynamics(frame, roles=roles, engine="duckdb"), check_exact=False, rtol=1e-12)


# --- the loader's validated categories are not validated again by the engines ------------------
_CANON = {c: c for c in ("trader", "period", "product", "partner", "value")}


def _int_extract(n=4_000, seed=3):
    return synthetic_transactions(n, n_traders=120, years=(2001, 2004), seed=seed, codes="int")  # HS codes lost zeros


def test_loaded_frame_skips_revalidation_with_the_same_tables(monkeypatch):
    from msme_stats.sources import customs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        tx = msme_stats.load_transactions(_int_extract(), roles=_CANON)
    calls: list[str] = []
    real = customs.key_labels

    def counting(column, key, **kw):
        calls.append(key)
        return real(column, key, **kw)

    monkeypatch.setattr(customs, "key_labels", counting)
    trusted = get_engine("pandas").reduce(tx, ReduceOptions())
    assert calls == ["period"]  # trader, product and partner labels come from the loader
    # the same rows with freshly built categories (not the loader's objects) are validated
    fresh = tx.astype({k: "str" for k in ("trader", "product", "partner")}).astype(
        {k: "category" for k in ("trader", "product", "partner")})
    calls.clear()
    checked = get_engine("pandas").reduce(fresh, ReduceOptions())
    assert sorted(calls) == ["partner", "period", "product", "trader"]
    for name in ("firm_product", "firm_partner"):
        pd.testing.assert_frame_equal(getattr(trusted, name), getattr(checked, name))
    # copies, row selections and slices keep the loader's categories (and the trust)
    calls.clear()
    get_engine("pandas").reduce(tx[tx["period"] > 2001].copy(), ReduceOptions())
    assert calls == ["period"]


def test_edited_categories_are_validated_again():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        tx = msme_stats.load_transactions(_int_extract(), roles=_CANON)
    want = exporter_dynamics(tx)
    # renamed categories (HS codes that lost their zero again) are a new object: restored again
    short = tx.assign(product=tx["product"].cat.rename_categories(lambda c: c.lstrip("0")))
    with pytest.warns(RecodeWarning, match="leading zero"):
        pd.testing.assert_frame_equal(exporter_dynamics(short), want)
    # an invalid label put in by the user is caught, not trusted
    bad = tx.assign(product=tx["product"].cat.rename_categories(
        lambda c: "12x456" if c == tx["product"].cat.categories[0] else c))
    with pytest.raises(InvalidValueError, match="product"):
        exporter_dynamics(bad)
    # a key column moved to another key is validated as that key (partners are upper-cased)
    moved = tx.assign(partner=tx["trader"].cat.rename_categories(lambda c: f"p{c}"))
    moved_back = tx.assign(partner=tx["trader"].cat.rename_categories(lambda c: f"P{c}"))
    pd.testing.assert_frame_equal(exporter_dynamics(moved), exporter_dynamics(moved_back))


def test_validated_categories_are_forgotten_with_their_frame():
    import gc

    from msme_stats.sources import customs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        tx = msme_stats.load_transactions(_int_extract(n=500, seed=4), roles=_CANON)
    key = (id(tx["product"].cat.categories), "product")
    assert key in customs._VALIDATED
    del tx
    gc.collect()
    assert key not in customs._VALIDATED


# the DuckDB engine's two grouping sets and its row-level steps (each case against the pandas engine)
def _steps_frame(case: str) -> tuple[pd.DataFrame, ReduceOptions]:
    frame = synthetic_transactions(6_000, n_traders=120, years=(2001, 2004), seed=13)
    opts = ReduceOptions()
    rows = frame.index
    if case == "trader_placeholder":
        frame.loc[rows[::37], "trader"] = "OTH"
    elif case == "partner_placeholder":  # partner rows must leave the product table too: four keys
        frame.loc[rows[::41], "partner"] = "OTH"
    elif case == "product_placeholder":
        frame.loc[rows[::43], "product"] = "OT0001"
    elif case == "exclude_hs27":
        frame.loc[rows[::29], "product"] = "270900"
        opts = ReduceOptions(exclude_hs27=True)
    elif case == "concordance":  # two products merge into one label; one is recoded to chapter 27
        p = frame["product"]
        opts = ReduceOptions(concordance={p.iloc[0]: p.iloc[1], p.iloc[2]: "010101"})
    elif case == "concordance_to_hs27":
        opts = ReduceOptions(exclude_hs27=True, concordance={frame["product"].iloc[0]: "270000"})
    elif case in ("months_to_years", "months_to_quarters"):
        month = np.random.default_rng(3).integers(1, 13, len(frame))
        frame["period"] = [f"{y}-{m:02d}" for y, m in zip(frame["period"], month, strict=True)]
        opts = ReduceOptions(period="year" if case == "months_to_years" else "quarter")
    elif case == "trader_ids_merge":  # ' 12' and '12' are one trader after trimming, as in the loader
        frame.loc[rows[::3], "trader"] = "12"
        frame.loc[rows[1::7], "trader"] = " 12"
        frame.loc[rows[2::11], "partner"] = frame.loc[rows[2::11], "partner"].str.lower() + " "
    return frame, opts


STEP_CASES = ["trader_placeholder", "partner_placeholder", "product_placeholder", "exclude_hs27", "concordance",
              "concordance_to_hs27", "months_to_years", "months_to_quarters", "trader_ids_merge"]
FOUR_KEYS = {"partner_placeholder", "product_placeholder", "exclude_hs27", "concordance_to_hs27"}


@pytest.mark.parametrize("form", ["frame", "parquet"])
@pytest.mark.parametrize("case", STEP_CASES)
def test_duckdb_engine_row_level_steps_equal_pandas(tmp_path, caplog, case, form):
    import logging

    frame, opts = _steps_frame(case)
    src: object = frame
    if form == "parquet":
        src = tmp_path / "tx.parquet"
        frame.to_parquet(src, row_group_size=1_000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        want = get_engine("pandas").reduce(msme_stats.load_transactions(src, roles=CANON), opts)
        caplog.set_level(logging.INFO, logger="msme_stats.engines.duckdb_engine")
        got = get_engine("duckdb").reduce(src, opts, roles=CANON)
    for name, keys in (("firm_product", ["trader", "period", "product"]),
                       ("firm_partner", ["trader", "period", "partner"])):
        a, b = _sorted(getattr(want, name), keys), _sorted(getattr(got, name), keys)
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-12)
    assert got.counts == want.counts and got.placeholder_codes == want.placeholder_codes
    assert _no_fallback(caplog), "the SQL path was not used"
    four = [r for r in caplog.records if "summed by the four keys" in r.getMessage()]
    assert bool(four) == (case in FOUR_KEYS)
    if case == "trader_ids_merge":
        assert "12" in set(got.firm_product["trader"]) and " 12" not in set(got.firm_product["trader"])
    if case.startswith("concordance"):
        assert got.counts["rows_concorded"] > 0
    if case == "months_to_quarters":
        assert set(got.firm_partner["period"].str[4]) == {"Q"}


@pytest.mark.parametrize("case", ["trader_placeholder", "partner_placeholder", "exclude_hs27", "trader_ids_merge"])
def test_duckdb_engine_row_level_steps_give_the_same_indicators(case):
    frame, opts = _steps_frame(case)
    kw = {"placeholder_ids": "drop", "exclude_hs27": opts.exclude_hs27}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        want = exporter_dynamics(frame, roles=CANON, **kw)
        got = exporter_dynamics(frame, roles=CANON, engine="duckdb", **kw)
    pd.testing.assert_frame_equal(got, want, check_exact=False, rtol=1e-12)
    if case == "trader_placeholder":  # the default placeholder_ids='error' raises the same error
        with pytest.raises(InvalidValueError) as err_pd, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exporter_dynamics(frame, roles=CANON)
        with pytest.raises(InvalidValueError) as err_dd, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exporter_dynamics(frame, roles=CANON, engine="duckdb")
        assert str(err_dd.value) == str(err_pd.value)


def test_duckdb_engine_all_rows_placeholders():
    frame = TINY.assign(trader="OTH")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        red = get_engine("duckdb").reduce(frame, ReduceOptions(), roles=CANON)
    assert red.firm_product.empty and list(red.firm_product.columns) == ["trader", "period", "product", "value"]
    assert red.firm_partner.empty and red.counts["rows_placeholder"] == 8 == red.placeholder_codes["trader=OTH"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(st.characters(codec=None), max_size=6), unique=True, max_size=40))
@example(["b", "a\ud800", "\udfff", "é", "a"])
def test_text_order_is_python_string_order(labels):
    """Arrow's byte order of UTF-8 is Python's code-point order; text Arrow cannot encode (lone
    surrogates, which st.text generates) takes Python's sort."""
    for index in (pd.Index(labels, dtype=object), pd.Index(labels, dtype="str")) if all(
            "\ud800" > c or c > "\udfff" for label in labels for c in label) else (pd.Index(labels, dtype=object),):
        order = text_order(index)
        assert [labels[i] for i in order] == sorted(labels)
        assert order.dtype == np.intp
