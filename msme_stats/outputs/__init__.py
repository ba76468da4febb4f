"""Output definitions: importing this package registers every figure and table.

Each module below registers its outputs with :func:`msme_stats.build.register_output` at
import time. The modules are imported one by one; if one fails, a
:class:`~msme_stats.errors.BuildError` names it, so that a build never silently misses
outputs. Add a new module by creating it here and appending its name to ``MODULES``.
"""

from __future__ import annotations

import importlib

from ..errors import BuildError

#: output-definition modules, imported in this order
MODULES: tuple[str, ...] = ("wbes", "tec", "dynamics")

for _name in MODULES:
    try:
        importlib.import_module(f"{__name__}.{_name}")
    except Exception as _exc:
        raise BuildError(
            f"output module {__name__}.{_name} failed to import "
            f"({type(_exc).__name__}: {_exc}); fix it before building, so that no registered "
            "output is missed."
        ) from _exc
