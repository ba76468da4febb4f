"""Canonical Parquet files -> integer-coded transactions (the engines' fast path).

Canonical Parquet files are streamed with pyarrow in record batches of dictionary-encoded
keys; each batch is summed at once to cells of equal (trader, period, product, partner) with
their row counts (:func:`coded_from_parquet`), and the keys are validated and normalised on
the dictionaries, so no per-row string is ever created and the transactions are never all in
memory. Files that do not fit this path are read whole (:func:`read_parquet_file`,
:func:`read_parquet_files`) and validated row column by column by
:func:`~msme_stats.sources.customs.normalise_transactions`, which raises the documented errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..sources.customs import CANONICAL_ROLES, normalise_transactions
from ._common import _STRING_KEYS, KEYS, READ_BATCH_ROWS, Chunk, Coded

__all__ = ["coded_from_parquet", "read_parquet_file", "read_parquet_files", "parquet_files"]


def _base_dir(files: list[Path]) -> str:
    import os

    base = os.path.commonpath([str(Path(f).parent) for f in files])
    while "=" in Path(base).name:  # the base must sit above the partition folders
        base = str(Path(base).parent)
    return base


def _global_codes(dictionaries: list[Any]) -> tuple[list[np.ndarray], pd.Index] | None:
    """Label codes of each chunk dictionary's entries, and the labels (None if a null shows).

    The dictionaries (not the rows) are concatenated and hashed once.
    """
    import pyarrow as pa

    encoded = pa.concat_arrays(dictionaries).dictionary_encode()
    if encoded.indices.null_count:
        return None
    entry_codes = encoded.indices.to_numpy()
    bounds = np.cumsum([0] + [len(d) for d in dictionaries])
    maps = [entry_codes[lo:hi] for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
    return maps, pd.Index(encoded.dictionary.to_pandas())


def _batch_cells(batch: Any) -> tuple[dict[str, Any], Chunk] | None:
    """Sum one record batch to cells of equal keys (batch-local dictionary indices).

    Returns the batch's dictionaries and the cells (``rows`` = transactions per cell), or None
    when a key or value is missing, a value is negative or not finite, or a type does not fit.
    """
    import pyarrow as pa

    value = batch.column("value")
    if value.null_count:
        return None
    value = value.to_numpy().astype(np.float64, copy=False)
    lo, hi = value.min(), value.max()
    if not (lo >= 0 and hi < np.inf):  # infinite or negative values
        return None
    dictionaries: dict[str, Any] = {}
    idx: dict[str, np.ndarray] = {}
    for k in KEYS:
        col = batch.column(k)
        if col.null_count:
            return None
        if not pa.types.is_dictionary(col.type):
            col = col.dictionary_encode()
        dictionaries[k] = col.dictionary
        idx[k] = col.indices.to_numpy()
    sizes = [max(len(dictionaries[k]), 1) for k in KEYS]
    if int(np.prod(sizes, dtype=object)) >= 2**62:  # keys too wide to combine: keep the rows
        return dictionaries, Chunk(dict.fromkeys(KEYS), idx, value)
    comb = idx[KEYS[0]].astype(np.int64)
    for k, m in zip(KEYS[1:], sizes[1:], strict=True):
        comb *= m
        comb += idx[k]
    group, uniques = pd.factorize(comb)
    sums = np.bincount(group, weights=value, minlength=len(uniques))
    rows = np.bincount(group, minlength=len(uniques))
    rest = np.asarray(uniques, dtype=np.int64)
    cell_idx: dict[str, np.ndarray] = {}
    for k, m in zip(KEYS[:0:-1], sizes[:0:-1], strict=True):
        rest, code = np.divmod(rest, m)
        cell_idx[k] = code.astype(np.int32)
    cell_idx[KEYS[0]] = rest.astype(np.int32)
    return dictionaries, Chunk(dict.fromkeys(KEYS), cell_idx, sums, rows)


def _clean_labels(key: str, labels: pd.Index) -> tuple[Any, Any] | None:
    """Normalise key labels as :func:`normalise_transactions` does for each row.

    Returns the new labels and, for products, a mask of labels whose lost leading zero was
    restored; None when a label needs an error (missing, malformed, too short), so that the
    caller falls back to the row-level loader that raises the documented error.
    """
    from ..sources.customs import _hs6_clean

    s = pd.Series(labels)
    if key in ("trader", "partner"):
        if not pd.api.types.is_string_dtype(s.dtype):
            return None
        s = s.str.strip()
        if key == "partner":
            s = s.str.upper()
        if (s == "").any() or s.isna().any():
            return None
        return s, 0
    if key == "product":
        if not pd.api.types.is_string_dtype(s.dtype):
            return None
        new, masks = _hs6_clean(s, "restore")
        if masks["missing"].any() or masks["bad"].any() or masks["short"].any():
            return None
        return new, np.asarray(masks["odd"], dtype=bool)
    # period (role ``period`` of normalise_transactions)
    if pd.api.types.is_integer_dtype(s.dtype):
        return s.astype("int64"), 0
    text = s.astype("str")
    if not text.str.fullmatch(r"\d{4}(Q[1-4]|-(0[1-9]|1[0-2]))?").all():
        return None
    return (text.astype("int64") if text.str.len().eq(4).all() else text), 0


def coded_from_parquet(files: list[Path], *, label: str | None = None, threads: int = 1) -> Coded | None:
    """Read canonical Parquet files straight into integer-coded cells (fast path).

    The files are streamed with pyarrow in record batches of :data:`READ_BATCH_ROWS` rows
    with dictionary-encoded keys (hive partition keys such as ``period=2001`` from the
    paths). Each batch is summed to cells of equal (trader, period, product, partner) with
    their row counts (:func:`_batch_cells`, on ``threads`` threads), so memory holds cells,
    not transactions. The batch dictionaries are then hashed once into global labels, which
    are validated and normalised exactly as
    :func:`~msme_stats.sources.customs.normalise_transactions` does for each row (trimmed
    ids, upper-case partners, HS6 codes with restored leading zeros, reported as a
    :class:`~msme_stats.errors.RecodeWarning` with the number of rows). Returns None when a
    file does not fit this path (missing column, other types, a missing, malformed or
    negative cell): the caller then reads the files with :func:`read_parquet_files` (or
    :func:`read_parquet_file`), which raises the documented error.
    """
    import pyarrow as pa
    import pyarrow.dataset as ds

    from ..sources.customs import CANONICAL_COLUMNS, _warn_counts

    base = _base_dir(files)
    label = label or base
    fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=list(_STRING_KEYS)))
    try:
        dataset = ds.dataset(
            [str(f) for f in files], format=fmt,
            partitioning=ds.HivePartitioning.discover(infer_dictionary=True), partition_base_dir=base,
        )
    except (OSError, ValueError, pa.ArrowException):
        return None
    schema = dataset.schema
    if any(c not in schema.names for c in CANONICAL_COLUMNS):
        return None
    for c in _STRING_KEYS:
        t = schema.field(c).type
        if not (pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type))):
            return None
    vtype = schema.field("value").type
    if not (pa.types.is_floating(vtype) or pa.types.is_integer(vtype)):
        return None
    cells: list[Chunk] = []
    dictionaries: dict[str, list[Any]] = {k: [] for k in KEYS}
    batches = dataset.to_batches(columns=list(CANONICAL_COLUMNS), batch_size=READ_BATCH_ROWS)
    try:
        if threads > 1:
            from collections import deque
            from concurrent.futures import ThreadPoolExecutor

            done = []
            with ThreadPoolExecutor(threads) as pool:
                pending: deque[Any] = deque()
                for batch in batches:  # at most 2 batches per thread wait in memory
                    if batch.num_rows:
                        pending.append(pool.submit(_batch_cells, batch))
                    if len(pending) >= 2 * threads:
                        done.append(pending.popleft().result())
                done.extend(f.result() for f in pending)
        else:
            done = [_batch_cells(b) for b in batches if b.num_rows]
    except (OSError, ValueError, pa.ArrowException):
        return None
    # give the read's buffers (retained by pyarrow's allocator) back to the OS: on a small
    # machine the memory is needed by the aggregation
    pa.default_memory_pool().release_unused()
    for got in done:
        if got is None:
            return None
        for k, d in got[0].items():
            dictionaries[k].append(d)
        cells.append(got[1])
    del done
    if not cells:
        return None
    labels: dict[str, pd.Index] = {}
    for k in KEYS:
        got = _global_codes(dictionaries[k])
        if got is None:
            return None
        maps, labels[k] = got
        for chunk, m in zip(cells, maps, strict=True):
            chunk.maps[k] = m
    coded = Coded(labels, cells)
    n_restored = 0
    for k in KEYS:
        clean = _clean_labels(k, labels[k])
        if clean is None:
            return None
        new, odd = clean
        if k == "product" and np.any(odd):
            n_restored = int(coded.label_rows("product")[odd].sum())
        coded = coded.relabel(k, new)
    if n_restored:
        _warn_counts(label, "product", n_restored, 0)
    return coded


def read_parquet_file(path: str | Path, partition_keys: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Read one canonical Parquet file with dictionary-encoded keys (categoricals).

    Partition keys of a hive folder (``period=2001``) are added when absent from the file.
    The frame is validated with :func:`~msme_stats.sources.customs.normalise_transactions`.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    table = pq.read_table(path, read_dictionary=["trader", "product", "partner"])
    frame = table.to_pandas()
    keys = dict(partition_keys or {})
    for part in path.parent.parts:
        if "=" in part:
            k, _, v = part.partition("=")
            keys.setdefault(k, int(v) if v.isdigit() else v)
    for k, v in keys.items():
        if k not in frame.columns:
            frame[k] = v
    return normalise_transactions(frame, CANONICAL_ROLES, label=str(path), warn=True)


def read_parquet_files(files: list[Path]) -> pd.DataFrame:
    """Read canonical Parquet files at once (dictionary-encoded keys unified -> categoricals).

    Hive partition keys (``period=2001`` folders) are read from the paths.
    """
    import pyarrow.dataset as ds

    fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=list(_STRING_KEYS)))
    base = _base_dir(files)
    dataset = ds.dataset([str(f) for f in files], format=fmt, partitioning="hive", partition_base_dir=base)
    frame = dataset.to_table().unify_dictionaries().to_pandas()
    return normalise_transactions(frame, CANONICAL_ROLES, label=base, warn=True)


def parquet_files(source: Any) -> list[Path] | None:
    """Parquet files of a path/glob/list source, or None if the source is not Parquet-only."""
    from ..sources.customs import expand_source

    if isinstance(source, pd.DataFrame):
        return None
    try:
        items = expand_source(source)
    except OptionError:
        return None
    files: list[Path] = []
    for kind, path in items:
        if kind == "dataset":
            files.extend(sorted(p for p in path.rglob("*.parquet") if p.is_file()))
        elif kind == "parquet":
            files.append(path)
        else:
            return None
    return files
