"""Immutable containers for ``DataFrame.attrs``.

pandas deep-copies ``attrs`` on every operation that returns a new object, so a long list
kept there (recodes, unmatched ids) makes every column access slow. These tuples are
immutable and return themselves from ``deepcopy``: they are shared, not copied.
"""

from __future__ import annotations


class FrozenTuple(tuple):
    """A tuple that ``copy.deepcopy`` returns as is (safe: tuples are immutable)."""

    __slots__ = ()

    def __deepcopy__(self, memo: dict) -> FrozenTuple:
        return self
