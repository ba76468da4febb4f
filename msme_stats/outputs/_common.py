"""Helpers shared by the output-definition modules."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ..errors import MsmeStatsWarning


def quiet(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call ``fn`` without showing msme_stats warnings.

    Registered outputs run on known inputs whose recodes and exclusions are documented in
    the data READMEs and kept in the frames' ``attrs``; the build log stays readable.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MsmeStatsWarning)
        return fn(*args, **kwargs)


def cached(ctx: Any, key: tuple, fn: Callable[[], Any]) -> Any:
    """``fn()`` computed once per build and kept in the build context's cache."""
    if key not in ctx.cache:
        ctx.cache[key] = fn()
    return ctx.cache[key]
