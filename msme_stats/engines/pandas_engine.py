"""In-memory engine: pandas groupby on pyarrow-read, dictionary-encoded keys."""

from __future__ import annotations

from typing import Any

import pandas as pd

from ..errors import OptionError
from ..sources.customs import CANONICAL_ROLES, load_transactions
from ._common import (
    ReduceOptions,
    Reduction,
    finish,
    parquet_files,
    partial_tables,
    read_parquet_files,
)

__all__ = ["reduce"]


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
    """
    if engine_kwargs:
        raise OptionError(
            f"engine='pandas' takes no engine options; got {', '.join(sorted(engine_kwargs))} "
            "(client= and scheduler= are for engine='dask')."
        )
    if isinstance(source, pd.DataFrame):
        frame = source
    else:
        files = parquet_files(source)
        if files is None:
            frame = load_transactions(source, roles=CANONICAL_ROLES, period=_grain_of(source))
        else:
            frame = read_parquet_files(files)
    return finish(partial_tables(frame, options))


def _grain_of(source: Any) -> str:
    return "year"
