"""In-memory engine: pyarrow-streamed, integer-coded keys, block-wise hashing on all cores.

Canonical Parquet files are streamed by pyarrow in record batches of dictionary-encoded keys,
each summed at once to cells of equal keys (:func:`~._parquet.coded_from_parquet`); strings
are only handled per distinct label, never per row, and the transactions are never all in
memory. Frames (and CSV files, loaded with
:func:`~msme_stats.sources.customs.load_transactions`) are integer-coded with
:func:`pandas.factorize`. Batches and blocks run on ``os.cpu_count()`` threads (at most 8);
the result does not depend on the number of threads.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from .._arrow import quiet_allocation
from .._options import PeriodGrain
from ..errors import OptionError
from ..sources.customs import CANONICAL_ROLES, load_transactions
from ._common import (
    ReduceOptions,
    Reduction,
    coded_from_frame,
    finish,
    partial_coded,
)
from ._parquet import coded_from_parquet, parquet_files, read_parquet_files

__all__ = ["reduce"]


@quiet_allocation
def reduce(source: Any, options: ReduceOptions, **engine_kwargs: Any) -> Reduction:
    """Reduce canonical transactions to trader x period x product / partner tables in memory.

    Parameters
    ----------
    source
        Canonical transaction frame (pandas) or a path, glob or list of canonical Parquet
        files or hive-partitioned folders (read with dictionary-encoded keys) or CSV files.
    options
        Row-level options shared by every engine.
    **engine_kwargs
        None accepted (an error names any given).

    Returns
    -------
    Reduction
        ``firm_product`` and ``firm_partner`` tables (string keys as sorted categoricals),
        ``counts`` of rows read and dropped, ``placeholder_codes``.

    Raises
    ------
    OptionError
        Any engine option given.
    MsmeStatsError
        Propagated from :func:`~msme_stats.load_transactions` (unreadable files, missing
        columns, invalid cells, each naming the file, column and row).

    Examples
    --------
    >>> from msme_stats.engines import ReduceOptions
    >>> from msme_stats.samples.transactions import synthetic_transactions
    >>> red = reduce(synthetic_transactions(1_000, n_traders=50, seed=1), ReduceOptions())
    >>> red.firm_product.columns.tolist(), red.counts["rows"]
    (['trader', 'period', 'product', 'value'], 1000)
    """
    if engine_kwargs:
        raise OptionError(
            f"engine='pandas' takes no engine options; got {', '.join(sorted(engine_kwargs))} "
            "(client= and scheduler= are for engine='dask')."
        )
    threads = min(os.cpu_count() or 1, 8)
    if isinstance(source, pd.DataFrame):
        coded = coded_from_frame(source, validate=True)
    else:
        files = parquet_files(source)
        if files is None:
            coded = coded_from_frame(load_transactions(source, roles=CANONICAL_ROLES, period=_grain_of(source)),
                                     validate=True)
        else:
            # fast path; files it cannot take (other types, invalid cells) go through the
            # validating loader, which raises the documented errors
            fast = coded_from_parquet(files, threads=threads)
            coded = coded_from_frame(read_parquet_files(files), validate=True) if fast is None else fast
    return finish(partial_coded(coded, options, threads=threads))


def _grain_of(source: Any) -> PeriodGrain:
    return "year"
