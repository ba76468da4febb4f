"""Engines: the reduction from transactions to trader-period tables.

Only this step touches every transaction, so only this step depends on the engine. Every
engine module exposes one function with the same signature::

    reduce(source, options: ReduceOptions, **engine_kwargs) -> Reduction

``source`` is a canonical transaction frame (see :func:`msme_stats.load_transactions`) or a
path/glob to canonical Parquet files; :class:`Reduction` holds the trader x period x product
and trader x period x partner value tables plus the counts of excluded rows. The row-level
steps (period coarsening, HS concordance, chapter 27, placeholder ids) and the per-chunk
aggregation are the shared pandas functions of :mod:`msme_stats.engines._common`, so every
engine runs the same computation.

Engines: ``"pandas"`` (:mod:`.pandas_engine`, in memory, pyarrow reading) and ``"dask"``
(:mod:`.dask_engine`, out of core on one machine or on a dask.distributed cluster).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .._options import check_choice
from ._common import ReduceOptions, Reduction

ENGINES = ("pandas", "dask")

__all__ = ["ENGINES", "ReduceOptions", "Reduction", "get_engine"]


def get_engine(name: str) -> ModuleType:
    """Return the engine module ``name`` (``"pandas"`` or ``"dask"``)."""
    name = check_choice("engine", name, ENGINES)
    return importlib.import_module(f"{__name__}.{name}_engine")
