"""Engines: the reduction from transactions to trader-period tables.

Only this step touches every transaction, so only this step depends on the engine. Every
engine module exposes one function with the same signature::

    reduce(source, options: ReduceOptions, **engine_kwargs) -> Reduction

``source`` is a canonical transaction frame (see :func:`msme_stats.load_transactions`; its
trader, product and partner columns are categoricals, coded once per distinct value, so the
engines read the codes and never hash a string per row), a Dask DataFrame, or a path/glob to
canonical Parquet files; a frame of raw codes (integer ids, HS6 codes that lost their leading
zero) is normalised per distinct value first, exactly as ``load_transactions`` would; :class:`Reduction` holds the trader x period x product
and trader x period x partner value tables plus the counts of excluded rows. Every engine runs
the same code of :mod:`msme_stats.engines._common` on integer-coded transactions: Parquet
keys are read as pyarrow dictionaries and validated, normalised and filtered per distinct
label (period coarsening, HS concordance, chapter 27, placeholder ids), and the two tables
are summed by hashing one int64 per row, block by block (:func:`._common.group_sums_coded`).

Engines: ``"pandas"`` (:mod:`.pandas_engine`, in memory, blocks on all cores) and ``"dask"``
(:mod:`.dask_engine`, one task per file, out of core on one machine or on a
dask.distributed cluster); ``"duckdb"`` (:mod:`.duckdb_engine`, optional dependency
``msme_stats[duckdb]``: the same reduction in SQL from a path or a DataFrame, keys validated
per distinct value by the loader's functions, same tables).
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .._options import DynamicsEngine, check_choice, choices
from ._common import ReduceOptions, Reduction

ENGINES: tuple[str, ...] = choices(DynamicsEngine)

__all__ = ["ENGINES", "ReduceOptions", "Reduction", "get_engine"]


def get_engine(name: str) -> ModuleType:
    """Return the engine module ``name`` (``"pandas"``, ``"dask"`` or ``"duckdb"``).

    Parameters
    ----------
    name
        One of :data:`ENGINES`.

    Returns
    -------
    module
        The engine module; its ``reduce(source, options, **engine_kwargs)`` returns a
        :class:`Reduction`.

    Raises
    ------
    OptionError
        Unknown engine name.
    ImportError
        The engine's optional dependency (Dask) is not installed.

    Examples
    --------
    >>> get_engine("pandas").__name__
    'msme_stats.engines.pandas_engine'
    """
    name = check_choice("engine", name, ENGINES)
    return importlib.import_module(f"{__name__}.{name}_engine")
