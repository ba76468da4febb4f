"""Shared docstring pieces, in the manner of seaborn's ``_docstrings``.

A function's docstring may hold a line ``{{name}}``; :func:`fill_doc` replaces that line with
the piece ``name`` (re-indented to the placeholder's indentation). Long parameter lists are
written once, next to the function, and the rendered docstring (``help()``, Sphinx) is
complete.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)


def fill_doc(**pieces: str) -> Callable[[F], F]:
    """Decorator: replace each ``{{name}}`` line of the docstring with ``pieces[name]``.

    Raises ``KeyError`` at import time when a placeholder has no piece or a piece has no
    placeholder, so a docstring can never be published half-filled.
    """

    def decorate(func: F) -> F:
        doc = func.__doc__ or ""
        for name, piece in pieces.items():
            match = re.search(r"^([ \t]*)\{\{" + re.escape(name) + r"\}\}[ \t]*$", doc, re.MULTILINE)
            if match is None:
                raise KeyError(f"{func.__qualname__}: no {{{{{name}}}}} line in the docstring")
            body = textwrap.indent(textwrap.dedent(piece).strip("\n"), match.group(1))
            doc = doc[: match.start()] + body + doc[match.end():]
        left = re.search(r"\{\{(\w+)\}\}", doc)
        if left is not None:
            raise KeyError(f"{func.__qualname__}: no docstring piece for {{{{{left.group(1)}}}}}")
        func.__doc__ = doc
        return func

    return decorate
