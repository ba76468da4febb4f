"""Renamed options: the old keyword keeps working for one release, with a DeprecationWarning.

One name per concept across the public API (issue 15): where an option is renamed, the old
keyword stays as an alias for one release. :func:`renamed_option` resolves the pair.

Renamed so far
--------------
``group_by`` -> ``by`` in :func:`msme_stats.cross_country_average` and
:func:`msme_stats.aggregate.headline_sme_vs_large` (``by`` is the grouping keyword of
:func:`msme_stats.estimate`, :func:`msme_stats.contrast`, the ``svy_*`` functions and
:func:`msme_stats.tec_indicators`).
"""

from __future__ import annotations

import warnings
from typing import Any

from .errors import OptionError


class _NotGiven:
    """Default of a deprecated keyword: tells "not given" apart from any value (None included)."""

    def __repr__(self) -> str:
        return "<not given>"


_NOT_GIVEN: Any = _NotGiven()


def renamed_option(who: str, old: str, old_value: Any, new: str, new_value: Any, *,
                   new_default: Any = None) -> Any:
    """The value of a renamed option: ``new_value``, or ``old_value`` (warned) when the old keyword is given.

    Giving both keywords (the new one away from its default ``new_default``) raises
    :class:`~msme_stats.errors.OptionError`, so an alias never silently overrides.
    """
    if old_value is _NOT_GIVEN:
        return new_value
    warnings.warn(
        f"{who}: {old}= is deprecated and will be removed in the next release; use {new}= "
        "(same meaning).", DeprecationWarning, stacklevel=3,
    )
    if new_value is not new_default:
        raise OptionError(f"{who}: give {new}= only ({old}= is its deprecated alias), not both.")
    return old_value
