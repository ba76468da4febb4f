"""The pyarrow memory pool for the package's large reads (customs transactions).

pyarrow's default pool on Linux is mimalloc. On a machine whose kernel hands out transparent
huge pages on request (``/sys/kernel/mm/transparent_hugepage/enabled`` = ``madvise``, with
``defrag`` = ``madvise``, the Debian and Ubuntu default), the first touch of mimalloc's large
regions can stall on huge-page faults: on this project's machine, reading a 10M-row customs
Parquet file in :func:`msme_stats.load_transactions` took 2.6-4.0 s with the default pool and
0.56-0.63 s with jemalloc, in five alternating rounds (BENCHMARKS.md §6.1.3). The reads of
:mod:`msme_stats.sources.customs` therefore pass :func:`read_pool` explicitly; the process-wide
default pool (what ``ARROW_DEFAULT_MEMORY_POOL`` or ``pyarrow.set_memory_pool`` choose) is left
as the user set it, and the tables returned are the same whichever pool holds them.
"""

from __future__ import annotations

from typing import Any


def read_pool() -> Any:
    """jemalloc where pyarrow is built with it, else pyarrow's default pool.

    Returns
    -------
    pyarrow.MemoryPool
        The pool to pass as ``memory_pool=`` to large pyarrow reads.
    """
    import pyarrow as pa

    try:
        return pa.jemalloc_memory_pool()
    except NotImplementedError:  # pyarrow built without jemalloc (some platforms)
        return pa.default_memory_pool()
