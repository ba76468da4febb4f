"""Former home of the chart functions, kept as an import path for one release.

The charts now live by family: :mod:`msme_stats.plots.bars` (:func:`bars_by_size`,
:func:`direct_vs_indirect`, :func:`size_shares`), :mod:`msme_stats.plots.dots`
(:func:`country_dots`, :func:`vintage_change`) and :mod:`msme_stats.plots.lines`
(:func:`time_lines`), with shared helpers in ``_common.py`` and shared docstring pieces in
``_docs.py``. Import them from :mod:`msme_stats.plots`.
"""

from __future__ import annotations

import warnings

from .bars import bars_by_size, direct_vs_indirect, size_shares
from .dots import country_dots, vintage_change
from .lines import time_lines

warnings.warn(
    "msme_stats.plots.charts is deprecated and will be removed in the next release; "
    "import the chart functions from msme_stats.plots.",
    DeprecationWarning,
    stacklevel=2,
)

__all__ = [
    "bars_by_size",
    "country_dots",
    "direct_vs_indirect",
    "size_shares",
    "time_lines",
    "vintage_change",
]
