"""Where the package's large steps get memory: pyarrow's read pool and numpy's huge-page advice.

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

import functools
import importlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ParamSpec, TypeVar, cast

P = ParamSpec("P")
R = TypeVar("R")


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


# --------------------------------------------------------------------------------------
# numpy's huge-page advice, switched off while the package's large steps run
# --------------------------------------------------------------------------------------
_ADVICE_LOCK = threading.Lock()
_advice_depth = 0
_advice_before = True


def _numpy_advice_switch() -> Callable[[bool], bool] | None:
    """numpy's ``_set_madvise_hugepage`` (returns the previous setting), or None if absent."""
    for name in ("numpy._core.multiarray", "numpy.core.multiarray"):
        try:
            module = importlib.import_module(name)
        except ImportError:
            continue
        switch = getattr(module, "_set_madvise_hugepage", None)
        if callable(switch):
            return cast("Callable[[bool], bool]", switch)
    return None


@contextmanager
def no_hugepage_advice() -> Iterator[None]:
    """Run a block with numpy's transparent-huge-page advice off; restore it afterwards.

    numpy (>= 1.20, Linux) advises the kernel to back every array of 4 MB or more with
    transparent huge pages (``madvise(MADV_HUGEPAGE)``). Where the kernel defragments memory
    for such requests (``/sys/kernel/mm/transparent_hugepage/defrag`` = ``madvise``, the Debian
    and Ubuntu default), a fresh large array can stall while the kernel compacts memory:
    on this project's machine ``load_transactions`` + ``exporter_dynamics`` on 10M rows
    took seconds longer with the advice on (BENCHMARKS.md §6.1.4). The package's large steps
    therefore run inside this block, which is what ``NUMPY_MADVISE_HUGEPAGE=0`` does for a
    whole process, but only for the duration of the call: the setting the user chose
    (environment variable or numpy's default) is restored on exit, nested and concurrent
    blocks included (the first block in switches it off, the last one out restores it).
    Results do not depend on it; only where memory comes from does. Where numpy offers no
    such switch the block runs unchanged.

    Returns
    -------
    contextlib.AbstractContextManager
        A context manager (usable as a decorator through :func:`quiet_allocation`).

    Examples
    --------
    >>> import numpy as np
    >>> with no_hugepage_advice():
    ...     total = np.ones(1_000_000).sum()
    >>> float(total)
    1000000.0
    """
    global _advice_depth, _advice_before
    switch = _numpy_advice_switch()
    if switch is None:
        yield
        return
    with _ADVICE_LOCK:
        if _advice_depth == 0:
            _advice_before = switch(False)
        _advice_depth += 1
    try:
        yield
    finally:
        with _ADVICE_LOCK:
            _advice_depth -= 1
            if _advice_depth == 0:
                switch(_advice_before)


def quiet_allocation(func: Callable[P, R]) -> Callable[P, R]:
    """Decorator: run ``func`` inside :func:`no_hugepage_advice` (signature and docstring kept)."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with no_hugepage_advice():
            return func(*args, **kwargs)

    return wrapper
