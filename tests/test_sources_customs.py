"""Tests of msme_stats.sources.customs.load_transactions."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import msme_stats
from msme_stats.errors import (
    EmptyInputError,
    ExclusionWarning,
    InvalidValueError,
    MissingColumnsError,
    OptionError,
    RecodeWarning,
    UnreadableFileError,
)
from msme_stats.sources.customs import load_transactions, role_presets

ROOT = Path(__file__).resolve().parents[1]
KCS = ROOT / "data" / "kcs_customs_synthetic"
FIX = Path(__file__).resolve().parent / "fixtures" / "customs"
ROLES = {"trader": "firm", "year": "year", "product": "hs", "partner": "dest", "value": "value"}


def test_kcs_specimen_loads_unchanged():
    tx = msme_stats.load_transactions(str(KCS / "df_syn_*_eng.csv"), roles="kcs", period="month")
    assert len(tx) == 54_000  # DATA_SOURCES §6.3: 37,385 + 8,134 + 8,481
    assert list(tx.columns) == ["trader", "period", "product", "partner", "value", "quantity"]
    assert tx["trader"].nunique() == 14_482
    assert tx["period"].nunique() == 18  # 2020-01 .. 2021-06
    assert tx["period"].min() == "2020-01" and tx["period"].max() == "2021-06"
    assert tx["product"].str.len().eq(6).all()
    assert len(tx.attrs["source"]) == 3


def test_kcs_preset_is_data():
    assert role_presets()["kcs"] == {
        "trader": "Importer ID", "date": "Date", "product": "HS6 Code",
        "partner": "Country of Origin", "value": "Item Price", "quantity": "Net Mass",
    }


def test_quarter_and_year_periods():
    q = load_transactions(FIX / "kcs_head.csv", roles="kcs", period="quarter")
    assert set(q["period"]) == {"2021Q2"}
    y = load_transactions(FIX / "kcs_head.csv", roles="kcs")
    assert set(y["period"]) == {2021}


def test_csv_parquet_and_partitioned_folder_agree(tmp_path):
    csv = load_transactions(FIX / "worked_example.csv", roles=ROLES)
    raw = pd.read_csv(FIX / "worked_example.csv", dtype={"hs": str})
    raw.to_parquet(tmp_path / "one.parquet")
    pq = load_transactions(tmp_path / "one.parquet", roles=ROLES)
    raw.to_parquet(tmp_path / "folder", partition_cols=["year"])
    folder = load_transactions(tmp_path / "folder", roles=ROLES)
    key = ["period", "trader", "product", "partner"]
    for other in (pq, folder):
        pd.testing.assert_frame_equal(
            csv.sort_values(key).reset_index(drop=True),
            other.sort_values(key).reset_index(drop=True),
        )
    listed = load_transactions([FIX / "worked_example.csv", tmp_path / "one.parquet"], roles=ROLES)
    assert len(listed) == 2 * len(csv)


def test_leading_zero_restored_and_long_codes_cut():
    df = pd.DataFrame({"f": ["a", "b", "c", "d"], "y": [2001] * 4,
                       "hs": [10121, 101210, 1012101, 8471300000], "d": ["us"] * 4, "v": [1.0] * 4})
    with pytest.warns(RecodeWarning, match="2 HS code"):
        out = load_transactions(df, roles="edd")
    # 10121 -> 010121 (5 digits: zero lost); 1012101 -> 01012101 -> 010121; 10 digits -> first 6
    assert out["product"].tolist() == ["010121", "101210", "010121", "847130"]
    assert out["partner"].tolist() == ["US"] * 4


def test_short_codes_error_or_drop():
    df = pd.DataFrame({"f": ["a", "b"], "y": [2001, 2001], "hs": ["0101", "010121"], "d": ["US", "US"], "v": [1.0, 2.0]})
    with pytest.raises(InvalidValueError, match="'hs'.*shorter than 6 digits"):
        load_transactions(df, roles="edd")
    with pytest.warns(ExclusionWarning, match="dropped 1 row"):
        out = load_transactions(df, roles="edd", short_hs="drop")
    assert out["product"].tolist() == ["010121"]
    with pytest.raises(InvalidValueError, match="odd-length"):
        load_transactions(df.assign(hs=["10121", "010121"]), roles="edd", short_hs="error")


def _write_bad(tmp_path, column, value):
    df = pd.read_csv(FIX / "kcs_head.csv", dtype=str)
    df.loc[3, column] = value
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("column", "value", "pattern"),
    [
        ("Item Price", "-5", r"bad\.csv: column 'Item Price' \(role value\) has 1 negative.*row 4"),
        ("Item Price", "abc", r"'Item Price'.*non-numeric"),
        ("Importer ID", "", r"'Importer ID' \(role trader\) has 1 missing"),
        ("Date", "2021-13-45", r"'Date' \(role date\).*unparseable.*'2021-13-45'"),
        ("HS6 Code", "84A130", r"'HS6 Code'.*non-numeric"),
        ("Country of Origin", " ", r"'Country of Origin'.*missing"),
    ],
)
def test_malformed_inputs_name_file_and_column(tmp_path, column, value, pattern):
    path = _write_bad(tmp_path, column, value)
    with pytest.raises(InvalidValueError, match=pattern):
        load_transactions(path, roles="kcs")


def test_role_errors(tmp_path):
    with pytest.raises(OptionError, match="unknown role name.*'exporter'"):
        load_transactions(FIX / "worked_example.csv", roles={**ROLES, "exporter": "firm"})
    with pytest.raises(OptionError, match="required role.*'value'"):
        load_transactions(FIX / "worked_example.csv", roles={k: v for k, v in ROLES.items() if k != "value"})
    with pytest.raises(OptionError, match="roles='nope'"):
        load_transactions(FIX / "worked_example.csv", roles="nope")
    with pytest.raises(MissingColumnsError, match=r"worked_example\.csv: column\(s\) 'amount'"):
        load_transactions(FIX / "worked_example.csv", roles={**ROLES, "value": "amount"})
    with pytest.raises(OptionError, match="needs a date"):
        load_transactions(FIX / "worked_example.csv", roles=ROLES, period="month")
    with pytest.raises(EmptyInputError, match="matched no file"):
        load_transactions(str(tmp_path / "*.csv"), roles=ROLES)
    with pytest.raises(UnreadableFileError, match="no such file"):
        load_transactions(tmp_path / "absent.csv", roles=ROLES)


def test_dask_loader_matches_pandas(tmp_path):
    pytest.importorskip("dask")
    a = load_transactions(FIX / "kcs_head.csv", roles="kcs", period="month")
    b = load_transactions(FIX / "kcs_head.csv", roles="kcs", period="month", engine="dask").compute(scheduler="synchronous")
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_input_not_mutated():
    df = pd.read_csv(FIX / "worked_example.csv", dtype={"hs": str})
    before = df.copy()
    load_transactions(df, roles=ROLES)
    pd.testing.assert_frame_equal(df, before)


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=1, max_value=999_999))
def test_hs_integer_codes_round_trip(code):
    """An HS6 code stored as a number (leading zeros lost) comes back as the 6-digit string."""
    text = f"{code:06d}"
    df = pd.DataFrame({"f": ["a"], "y": [2001], "hs": [code], "d": ["US"], "v": [1.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        if len(str(code)) in (5, 6):
            assert load_transactions(df, roles="edd")["product"].iloc[0] == text
        else:  # 1-4 digits: chapter or heading only -> cannot be HS6
            with pytest.raises(InvalidValueError):
                load_transactions(df, roles="edd")


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(-(10**6), 10**6), min_size=0, max_size=300),
    cuts=st.lists(st.integers(0, 300), max_size=4),
)
def test_integer_codes_chunk_by_chunk_equal_whole_column(values, cuts):
    # a pyarrow integer column is coded chunk by chunk exactly as the whole column would be
    import numpy as np
    import pyarrow as pa

    from msme_stats.sources.customs import _encode_int, _encode_int_chunks

    v = np.asarray(values, dtype=np.int64)
    bounds = sorted({min(c, len(v)) for c in cuts} | {0, len(v)})
    arr = pa.chunked_array([pa.array(v[a:b], type=pa.int64()) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
                           or [pa.array([], type=pa.int64())])
    codes, uniques, rows = _encode_int(v)
    codes2, uniques2, rows2 = _encode_int_chunks(arr)
    assert np.array_equal(codes, codes2) and codes.dtype == codes2.dtype
    assert uniques.equals(uniques2)
    assert (rows is None and rows2 is None) or np.array_equal(rows, rows2)


def test_block_bincount_equals_numpy():
    import numpy as np

    from msme_stats.sources import customs

    rng = np.random.default_rng(3)
    codes = rng.integers(0, 50, customs._BINCOUNT_ROWS * 2 + 11).astype(np.int32)
    assert np.array_equal(customs._bincount(codes, 60), np.bincount(codes, minlength=60))


def test_columns_from_multi_chunk_arrow_are_new_writeable_arrays():
    # value and year columns read from several Parquet row groups are fresh arrays, not views
    import numpy as np
    import pyarrow as pa

    from msme_stats.sources.customs import normalise_transactions

    table = pa.Table.from_batches([
        pa.record_batch({"trader": ["a", "b"], "period": [2010, 2011], "product": ["010121", "847130"],
                         "partner": ["FRA", "DEU"], "value": [1.0, 2.0]}),
        pa.record_batch({"trader": ["a"], "period": [2011], "product": ["010121"],
                         "partner": ["FRA"], "value": [3.0]}),
    ])
    roles = {c: c for c in ("trader", "period", "product", "partner", "value")}
    out = normalise_transactions(table, roles, warn=False)
    assert out["value"].tolist() == [1.0, 2.0, 3.0] and out["period"].tolist() == [2010, 2011, 2011]
    for c in ("value", "period"):
        a = out[c].to_numpy()
        assert not any(np.shares_memory(a, np.asarray(ch.buffers()[1]))
                       for ch in table.column(c).chunks)


# --- several Parquet files are coded once for all files, with the per-file path's frame ------
_CANON = {c: c for c in ("trader", "period", "product", "partner", "value")}


def _per_file_and_combined(monkeypatch, source):
    from msme_stats.sources import customs

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RecodeWarning)
        combined = load_transactions(source, roles=_CANON)
        monkeypatch.setattr(customs, "_load_combined", lambda *a, **k: None)
        per_file = load_transactions(source, roles=_CANON)
    return combined, per_file


@pytest.mark.parametrize("codes", ["str", "int"])
def test_several_parquet_files_equal_the_per_file_path(tmp_path, monkeypatch, codes):
    from msme_stats.samples.transactions import write_transactions_parquet

    folder = write_transactions_parquet(tmp_path / "hive", 6_000, n_traders=150, years=(2001, 2004), seed=5,
                                        block_rows=1_500, codes=codes)
    assert len(list(folder.rglob("*.parquet"))) > 4
    combined, per_file = _per_file_and_combined(monkeypatch, folder)
    pd.testing.assert_frame_equal(combined, per_file)
    assert combined.attrs == per_file.attrs
    assert all(combined[k].cat.categories.is_monotonic_increasing for k in ("trader", "product", "partner"))


def test_files_of_different_types_and_bad_cells_take_the_per_file_path(tmp_path, monkeypatch):
    from msme_stats.sources import customs

    a = pd.DataFrame({"trader": [1, 2], "period": [2001, 2001], "product": [10121, 847130],
                      "partner": ["FRA", "DEU"], "value": [1.0, 2.0]})
    b = a.assign(product=["010121", "847130"], period=2002)  # product as text in this file
    a.to_parquet(tmp_path / "a.parquet")
    b.to_parquet(tmp_path / "b.parquet")
    files = [tmp_path / "a.parquet", tmp_path / "b.parquet"]
    assert customs._load_combined(customs._items(files), _CANON, {"period": "year", "short_hs": "restore",
                                  "date_format": "ISO8601", "valid_years": customs.VALID_YEARS}) is None
    combined, per_file = _per_file_and_combined(monkeypatch, files)
    pd.testing.assert_frame_equal(combined, per_file)
    assert combined["product"].tolist() == ["010121", "847130"] * 2
    # an invalid value in the second file: the error names that file, not "2 files"
    monkeypatch.undo()
    a.assign(value=[1.0, -3.0], period=2003).to_parquet(tmp_path / "b.parquet")
    with pytest.raises(InvalidValueError, match=r"b\.parquet.*negative"):
        load_transactions(files, roles=_CANON)


@pytest.mark.parametrize("values", [
    pd.Series([3, -5, 0, 2**62, -(2**63)], dtype="int64"),
    pd.Series([1, 2, 7], dtype="int8"),
    pd.Series([7, 8], dtype="Int64"),
    pd.Series(["a ", " b", "12", " 12"], dtype="str"),
    pd.Series([1.0, 2.0, 30.0]),
    pd.Series(["x", 12, 3.0], dtype=object),
])
def test_id_text_fast_paths_equal_the_per_value_path(values):
    # text and signed-integer ids take fast paths in _Col.text; the per-value path of object
    # columns (a type check and str() per value) is the reference
    from msme_stats.sources.customs import _Col

    fast = _Col(values, "trader", "trader", "t").text()
    reference = _Col(values.astype(object), "trader", "trader", "t").text()
    pd.testing.assert_series_equal(fast, reference)


@pytest.mark.parametrize("index_type", ["uint8", "uint16", "uint32", "uint64", "int8", "int32"])
def test_dictionary_columns_with_unsigned_indices(index_type):
    # DuckDB exports categorical columns as dictionaries with unsigned indices
    import pyarrow as pa

    from msme_stats.sources.customs import _encode, normalise_transactions

    def dictionary(indices, values):
        return pa.chunked_array([pa.DictionaryArray.from_arrays(pa.array(indices, type=index_type), pa.array(values))])

    codes, uniques, _ = _encode(dictionary([1, 0, None, 1], ["fr", "DE"]))
    assert codes.tolist() == [1, 0, -1, 1] and uniques.tolist() == ["fr", "DE"]
    table = pa.table({"trader": dictionary([0, 1, 0], ["7", "9"]), "year": [2010, 2011, 2011],
                      "hs": dictionary([0, 1, 0], ["10121", "847130"]), "dest": dictionary([1, 0, 1], ["fr", "DE"]),
                      "usd": [5.0, 2.5, 1.0]})
    roles = {"trader": "trader", "year": "year", "product": "hs", "partner": "dest", "value": "usd"}
    out = normalise_transactions(table, roles, warn=False)
    assert out["partner"].tolist() == ["DE", "FR", "DE"] and out["product"].tolist() == ["010121", "847130", "010121"]
