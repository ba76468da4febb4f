"""WTO-style charts of SME-in-trade statistics and the msme_stats house style.

Chart functions (seaborn manner: tidy frame first, keyword options, optional ``ax=``,
return the Axes): :func:`bars_by_size`, :func:`direct_vs_indirect`, :func:`country_dots`,
:func:`vintage_change`, :func:`size_shares`, :func:`time_lines`.

Modules by chart family: ``bars.py`` (bars_by_size, direct_vs_indirect, size_shares),
``dots.py`` (country_dots, vintage_change), ``lines.py`` (time_lines); shared drawing helpers
in ``_common.py`` and shared docstring pieces in ``_docs.py``. Every chart passes other
keyword arguments to the matplotlib call that draws its marks (documented per function).

House style: :func:`house_style` (context manager), :func:`use_house_style`,
:func:`palette`, :func:`palettes`, :func:`size_order`, :func:`add_source_note`,
:func:`source_note`. The style sheet ``msme.mplstyle``, ``palettes.csv`` and ``columns.csv``
(palette and axis label of each known column) are data files in this folder.
"""

from __future__ import annotations

from .bars import bars_by_size, direct_vs_indirect, size_shares
from .dots import country_dots, vintage_change
from .lines import time_lines
from .style import (
    PALETTES_PATH,
    STYLE_PATH,
    add_source_note,
    canonical_order,
    house_style,
    palette,
    palettes,
    size_order,
    source_note,
    use_house_style,
)

__all__ = [
    "PALETTES_PATH",
    "STYLE_PATH",
    "add_source_note",
    "bars_by_size",
    "canonical_order",
    "country_dots",
    "direct_vs_indirect",
    "house_style",
    "palette",
    "palettes",
    "size_order",
    "size_shares",
    "source_note",
    "time_lines",
    "use_house_style",
    "vintage_change",
]
