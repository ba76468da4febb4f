"""Central validation of options (keyword arguments), in the manner of pyfixest.

Every public function checks its options through :func:`check_choice` so that a wrong
value always gives the same kind of error (:class:`~msme_stats.errors.OptionError`) with
the allowed values listed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .errors import OptionError


def check_choice(
    name: str,
    value: Any,
    choices: Iterable[Any],
    *,
    aliases: Mapping[Any, Any] | None = None,
) -> Any:
    """Return ``value`` (or what its alias maps to) if allowed, else raise OptionError.

    Parameters
    ----------
    name
        Name of the option, used in the message.
    value
        The value passed by the user.
    choices
        Allowed canonical values.
    aliases
        Optional map of accepted alternative spellings to canonical values
        (for example R names of Stata options).
    """
    choices = list(choices)
    if aliases and value in aliases:
        return aliases[value]
    if value in choices:
        return value
    allowed = ", ".join(repr(c) for c in choices)
    if aliases:
        allowed += " (aliases: " + ", ".join(f"{k!r}->{v!r}" for k, v in aliases.items()) + ")"
    raise OptionError(f"{name}={value!r} is not allowed; use one of {allowed}.")


def as_list(value: str | Iterable[str] | None) -> list[str]:
    """Turn ``None``, a single string or an iterable of strings into a list of strings."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)
