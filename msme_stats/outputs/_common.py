"""Helpers shared by the output-definition modules.

Outputs call the library as any user would: its warnings (recodes, exclusions, flags) are
not hidden here. The build records them per input and per output in ``manifest.json``
(``report``) and prints a short summary on stderr (see :mod:`msme_stats.build`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def cached(ctx: Any, key: tuple, fn: Callable[[], Any]) -> Any:
    """``fn()`` computed once per build and kept in the build context's cache."""
    if key not in ctx.cache:
        ctx.cache[key] = fn()
    return ctx.cache[key]
