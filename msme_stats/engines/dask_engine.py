"""Out-of-core engine: the same per-chunk reduction as the pandas engine, run with Dask.

Each Parquet file (or each partition of a Dask DataFrame) is one task that reads the file
into integer-coded keys (:func:`~._parquet.coded_from_parquet`), applies the shared row-level
steps and aggregates it to
trader x period x product / partner sums; the partial tables are then combined in a tree
(fan-in ``split_every``). Only partial tables, never all transactions, are in memory, so the
memory peak is set by the file size and the number of worker threads, not by the row count.

The graph runs on ``client`` when given, else on the current dask.distributed client if one
exists, else on the local scheduler named by ``scheduler`` (default: Dask's default, the
threaded scheduler).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import OptionError
from ..sources.customs import CANONICAL_ROLES, load_transactions
from ._common import (
    ReduceOptions,
    Reduction,
    coded_from_frame,
    combine_partials,
    finish,
    partial_coded,
    partial_tables,
)
from ._parquet import coded_from_parquet, parquet_files, read_parquet_file

__all__ = ["reduce"]


def _file_partial(path: Any, options: ReduceOptions) -> Any:
    from pathlib import Path

    coded = coded_from_parquet([Path(path)], label=str(path))
    if coded is None:  # other types or invalid cells: the validating loader raises the error
        coded = coded_from_frame(read_parquet_file(path), validate=True)
    return partial_coded(coded, options)


def _frame_partial(frame: pd.DataFrame, options: ReduceOptions) -> Any:
    return partial_tables(frame, options)


def _combine(*parts: Any) -> Any:
    return combine_partials(list(parts))


def reduce(
    source: Any,
    options: ReduceOptions,
    *,
    client: Any = None,
    scheduler: str | None = None,
    split_every: int = 8,
    partition_rows: int = 1_000_000,
) -> Reduction:
    """Reduce canonical transactions with Dask.

    Parameters
    ----------
    source
        Path, glob or list of canonical Parquet files / hive-partitioned folders (one task
        per file), a Dask DataFrame (one task per partition) or a pandas DataFrame (split into
        partitions of ``partition_rows`` rows).
    options
        Row-level options shared by every engine.
    client
        A ``dask.distributed.Client``; default: the current client if any.
    scheduler
        Local scheduler when no client is used: ``"threads"``, ``"processes"``,
        ``"synchronous"``; default Dask's default.
    split_every
        Fan-in of the tree that combines partial tables.
    partition_rows
        Rows per partition when ``source`` is a pandas DataFrame.
    """
    import dask
    from dask import delayed

    if split_every < 2:
        raise OptionError(f"split_every={split_every!r} must be at least 2.")
    if isinstance(source, pd.DataFrame):
        n = max(1, -(-len(source) // partition_rows))
        tasks = [
            delayed(_frame_partial)(source.iloc[i * partition_rows : (i + 1) * partition_rows], options)
            for i in range(n)
        ]
    elif hasattr(source, "to_delayed") and hasattr(source, "npartitions"):
        tasks = [delayed(_frame_partial)(part, options) for part in source.to_delayed()]
    else:
        files = parquet_files(source)
        if files is None:  # CSV and other files: let the loader build the Dask frame
            ddf = load_transactions(source, roles=CANONICAL_ROLES, engine="dask")
            tasks = [delayed(_frame_partial)(part, options) for part in ddf.to_delayed()]
        else:
            tasks = [delayed(_file_partial)(str(f), options) for f in files]
    while len(tasks) > 1:
        tasks = [
            delayed(_combine)(*tasks[i : i + split_every]) for i in range(0, len(tasks), split_every)
        ]
    final = delayed(finish)(tasks[0])
    if client is None:
        try:
            from distributed import default_client

            client = default_client()
        except (ImportError, ValueError):
            client = None
    if client is not None:
        if scheduler is not None:
            raise OptionError("pass either client= or scheduler=, not both.")
        return client.compute(final).result()
    (result,) = dask.compute(final, scheduler=scheduler) if scheduler else dask.compute(final)
    return result
