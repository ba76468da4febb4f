"""Registry of figures and tables, and the atomic ``msme-stats build``.

Output-definition modules (``msme_stats/outputs/*.py``) register outputs at import time::

    from msme_stats.build import register_input, register_output

    register_input("tec10", pattern="eurostat_ext_tec10/ext_tec10.csv.gz",
                   loader=lambda paths: ms.load_tec(paths[0]))

    @register_output("tec_size_shares", kind="figure", title="Exports by size class",
                     inputs=("tec10",))
    def _tec_size_shares(ctx):
        frame = ctx.load("tec10")          # loaded once per build, shared by outputs
        ...
        return ax.figure                   # a Figure (kind="figure") or a DataFrame (table)

:func:`build` regenerates every registered output (or those named in ``only``) into a
work folder next to ``out_dir``; only when all succeeded are the files moved into
``out_dir`` (replacing the files of the same ids that the previous ``manifest.json``
lists), together with ``manifest.json``, by the journaled commit of
:mod:`msme_stats._commit`. A failed or interrupted build (an error, SIGINT, SIGTERM) leaves
``out_dir`` exactly as it was; after SIGKILL or a power loss during the commit, the next
build (or :func:`recover`) completes or undoes it from the journal, so ``out_dir`` always
holds either the old or the new files, consistent with its manifest. A lock file keeps two
builds out of one folder. The build never replaces or removes a file it did not write: a
user's file or folder named like an output file is an error naming it.

Inputs read one named folder each (``DIR/wbes/`` for a user's WBES files; the bundled
samples in ``wbes_synthetic/`` only when the data folder holds no ``wbes/``: a folder with
both is an error). What loading the inputs did to the data (recodes, exclusions, flags) is
recorded per input in the manifest's ``report`` and summarised by :func:`report_summary`.

Output files, named after the output id:

* figures: ``<id>.png`` (150 dpi, no timestamp or software metadata) and ``<id>.svg``
  (``metadata={"Date": None}``, ``svg.hashsalt`` fixed, so the SVG is reproducible);
* tables: ``<id>.csv`` (all digits), ``<id>.md`` (pipe table) and ``<id>.tex`` (booktabs
  tabular), numbers in the last two formatted with the output's ``float_format``.

The same inputs and parameters give byte-identical tables (and, with the same library
versions, byte-identical figures).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import importlib
import inspect
import json
import logging
import os
import platform
import stat
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import pandas as pd

from ._atomic import atomic_write_text, sha256_file
from ._commit import Op, SignalGuard, WorkDir, commit
from ._commit import recover as _commit_recover
from ._docs import fill_pieces
from ._lock import BuildLock
from ._options import as_list, check_choice
from ._paths import ENV_DATA_DIR as _ENV_DATA_DIR
from ._paths import data_dir as _bundled_data_dir
from .errors import (
    AmbiguousInputError,
    BuildError,
    InputLoadError,
    MsmeStatsError,
    MsmeStatsWarning,
    OptionError,
    OutputClashError,
    OutputDirError,
    RecoveryError,
)
from .tables import table_to_latex, table_to_markdown

__all__ = [
    "REGISTRY",
    "BuildContext",
    "InputSpec",
    "Manifest",
    "OutputSpec",
    "Registry",
    "build",
    "digest_dir",
    "load_output_modules",
    "recover",
    "register_input",
    "register_output",
    "registered_outputs",
    "report_summary",
    "table_to_latex",
    "table_to_markdown",
]

logger = logging.getLogger(__name__)

Kind = Literal["figure", "table"]

#: file extensions written per kind (also the ones replaced for an id on rebuild)
EXTENSIONS: dict[str, tuple[str, ...]] = {"figure": ("png", "svg"), "table": ("csv", "md", "tex")}
_ALL_EXTENSIONS = tuple(e for exts in EXTENSIONS.values() for e in exts)
MANIFEST_NAME = "manifest.json"
PNG_DPI = 150
SVG_HASHSALT = "msme_stats"
#: libraries whose versions are recorded in the manifest
_LIBRARIES = ("pandas", "numpy", "matplotlib", "scipy", "pyarrow")


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class InputSpec:
    """A named input: the files of ONE named folder under the data directory, and a loader.

    ``pattern`` is ``"FOLDER/GLOB"`` relative to the data directory (the folder part holds
    no wildcard: an input reads one named folder, never several pooled by a glob); an
    absolute path is used as is. ``alternatives`` are other patterns for the same input
    (e.g. the bundled SYNTHETIC samples ``"wbes_synthetic/*.dta"`` beside the user's
    ``"wbes/*.dta"``): exactly one of the candidate folders may exist in a data directory;
    when several do, the build stops with :class:`~msme_stats.errors.AmbiguousInputError`
    naming them, so that a user's files are never pooled with the samples.

    ``loader(paths)`` receives the sorted list of matched paths and returns anything (a
    frame, a dict of frames, ...).
    """

    name: str
    pattern: str
    loader: Callable[[list[Path]], Any] | None = None
    description: str = ""
    alternatives: tuple[str, ...] = ()

    @property
    def candidates(self) -> tuple[str, ...]:
        return (self.pattern, *self.alternatives)


_GLOB_CHARS = frozenset("*?[")


def _check_pattern(name: str, pattern: str) -> str:
    if not isinstance(pattern, str) or not pattern.strip():
        raise OptionError(f"input {name!r}: pattern must be a non-empty 'FOLDER/GLOB' string.")
    folder = Path(pattern).parent.as_posix()
    if _GLOB_CHARS & set(folder) or ".." in Path(pattern).parts:
        raise OptionError(
            f"input {name!r}: pattern {pattern!r} must read one named folder (no wildcard or "
            "'..' in its folder part, e.g. 'wbes/*.dta'); list other folders in alternatives=."
        )
    return pattern


@dataclass(frozen=True)
class OutputSpec:
    """A registered figure or table."""

    id: str
    kind: Kind
    title: str
    inputs: tuple[str, ...]
    func: Callable[[BuildContext], Any]
    float_format: str = "{:.2f}"

    @property
    def module(self) -> str:
        return getattr(self.func, "__module__", "?")

    @property
    def extensions(self) -> tuple[str, ...]:
        return EXTENSIONS[self.kind]


def _check_id(kind_of_id: str, value: str) -> str:
    if not isinstance(value, str) or not value or value.strip() != value or any(
        ch in value for ch in "/\\:*?\"<>| "
    ) or value.startswith("."):
        raise OptionError(
            f"{kind_of_id} {value!r} is not allowed: use a non-empty name without spaces, "
            "path separators or wildcards (it becomes a file name), e.g. 'wtr16_f1_sme_vs_large'."
        )
    return value


class Registry:
    """A set of registered inputs and outputs (the package uses :data:`REGISTRY`)."""

    def __init__(self) -> None:
        self._outputs: dict[str, OutputSpec] = {}
        self._inputs: dict[str, InputSpec] = {}

    # -- inputs
    def register_input(
        self,
        name: str,
        *,
        pattern: str,
        loader: Callable[[list[Path]], Any] | None = None,
        description: str = "",
        alternatives: Sequence[str] = (),
    ) -> InputSpec:
        """Register a named input (see :class:`InputSpec`)."""
        _check_id("input name", name)
        alternatives = tuple(as_list(alternatives))
        for pat in (pattern, *alternatives):
            _check_pattern(name, pat)
        spec = InputSpec(name, pattern, loader, description, alternatives)
        old = self._inputs.get(name)
        if old is not None and (old.candidates, _qualname(old.loader)) != (
            spec.candidates, _qualname(loader)
        ):
            raise BuildError(
                f"input {name!r} is registered twice with different patterns or loaders "
                f"({old.pattern!r} and {pattern!r}); give one of them another name."
            )
        self._inputs[name] = spec
        return spec

    # -- outputs
    def register_output(
        self,
        id: str,
        *,
        kind: Kind = "figure",
        title: str,
        inputs: Sequence[str] = (),
        func: Callable[[BuildContext], Any] | None = None,
        float_format: str = "{:.2f}",
    ) -> Any:
        """Register an output; usable directly (``func=``) or as a decorator.

        Parameters
        ----------
        id
            Output id, also the file name stem (``<id>.png``, ``<id>.csv``, ...).
        kind
            ``"figure"`` (func returns a matplotlib Figure, or an Axes whose figure is used)
            or ``"table"`` (func returns a DataFrame; a non-default index is written as
            columns).
        title
            Human title, listed by ``msme-stats list`` and written to the manifest.
        inputs
            Names of inputs the output uses (registered with :func:`register_input`, or a
            glob relative to the data directory). Only declared inputs can be loaded
            through the context, and all of them are hashed into the manifest.
        func
            ``func(ctx: BuildContext)``. When omitted, a decorator is returned.
        float_format
            Format of floats in the Markdown and LaTeX versions of a table (CSV keeps all
            digits).
        """
        kind = check_choice("kind", kind, ("figure", "table"))
        _check_id("output id", id)
        if not title or not str(title).strip():
            raise OptionError(f"output {id!r}: title= must be a non-empty string.")
        inputs = tuple(as_list(inputs))
        try:
            float_format.format(1.5)
        except (ValueError, IndexError, KeyError) as exc:
            raise OptionError(
                f"output {id!r}: float_format={float_format!r} is not a format string like "
                "'{:.2f}'."
            ) from exc

        def decorate(f: Callable[[BuildContext], Any]) -> Callable[[BuildContext], Any]:
            if not callable(f):
                raise OptionError(f"output {id!r}: func must be callable, got {type(f).__name__}.")
            old = self._outputs.get(id)
            if old is not None and _qualname(old.func) != _qualname(f):
                raise BuildError(
                    f"output id {id!r} is registered twice: by {_qualname(old.func)} and by "
                    f"{_qualname(f)}; output ids must be unique (they are file names)."
                )
            self._outputs[id] = OutputSpec(id, kind, str(title), inputs, f, float_format)
            return f

        if func is None:
            return decorate
        decorate(func)
        return func

    def unregister(self, id: str) -> None:
        """Remove an output (for tests and interactive use)."""
        self._outputs.pop(id, None)

    def unregister_input(self, name: str) -> None:
        """Remove an input (for tests and interactive use)."""
        self._inputs.pop(name, None)

    def outputs(self) -> list[OutputSpec]:
        """Registered outputs, sorted by id."""
        return [self._outputs[k] for k in sorted(self._outputs)]

    def output(self, id: str) -> OutputSpec:
        try:
            return self._outputs[id]
        except KeyError:
            raise OptionError(
                f"output {id!r} is not registered; registered outputs: {sorted(self._outputs)} "
                "(see `msme-stats list`)."
            ) from None

    def input(self, name: str) -> InputSpec | None:
        return self._inputs.get(name)


def _qualname(obj: Any) -> str | None:
    if obj is None:
        return None
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


#: the package-wide registry, filled by importing :mod:`msme_stats.outputs`
REGISTRY = Registry()


def register_output(
    id: str,
    *,
    kind: Kind = "figure",
    title: str,
    inputs: Sequence[str] = (),
    func: Callable[[BuildContext], Any] | None = None,
    float_format: str = "{:.2f}",
) -> Any:
    """Register a figure or table in the package registry; usable as a decorator.

    The output-definition modules of :mod:`msme_stats.outputs` call it at import time;
    :func:`build` (``make figures``, ``msme-stats build``) then regenerates every
    registered output.

    Parameters
    ----------
    id
        Output id, also the file name stem (``<id>.png``, ``<id>.csv``, ...): no spaces,
        path separators or wildcards.
    kind
        ``"figure"`` (the function returns a matplotlib Figure, or an Axes whose figure is
        used; written as PNG and SVG) or ``"table"`` (it returns a DataFrame; written as
        CSV, Markdown and LaTeX; a non-default index is written as columns).
    title
        Human title, listed by ``msme-stats list`` and written to the manifest.
    inputs
        Names of the inputs the output uses (registered with :func:`register_input`, or a
        glob relative to the data directory). Only declared inputs can be loaded through
        the context, and all of them are hashed into the manifest.
    func
        ``func(ctx: BuildContext)``. When omitted, a decorator is returned.
    float_format
        Format of floats in the Markdown and LaTeX versions of a table (the CSV keeps all
        digits), e.g. ``"{:.1f}"``.

    Returns
    -------
    callable
        ``func`` itself when given, else a decorator that registers the function it
        decorates and returns it unchanged.

    Raises
    ------
    OptionError
        When ``id`` is not usable as a file name, ``kind`` is not ``"figure"`` or
        ``"table"``, ``title`` is empty, ``float_format`` is not a format string, or
        ``func`` is not callable.
    BuildError
        When another function is already registered under ``id`` (registering the same
        function again is allowed).

    See Also
    --------
    Registry.register_output : the same on a registry of one's own.

    Examples
    --------
    >>> import pandas as pd
    >>> from msme_stats.build import REGISTRY, register_output
    >>> @register_output("demo_shares", kind="table", title="Demo shares")
    ... def _demo(ctx):
    ...     return pd.DataFrame({"size": ["SME", "large"], "share": [31.25, 68.75]})
    >>> spec = REGISTRY.output("demo_shares")
    >>> spec.kind, spec.extensions
    ('table', ('csv', 'md', 'tex'))
    >>> REGISTRY.unregister("demo_shares")  # a demonstration only: leave the registry as it was
    """
    return REGISTRY.register_output(
        id, kind=kind, title=title, inputs=inputs, func=func, float_format=float_format
    )


def register_input(
    name: str,
    *,
    pattern: str,
    loader: Callable[[list[Path]], Any] | None = None,
    description: str = "",
    alternatives: Sequence[str] = (),
) -> InputSpec:
    """Register a named input in the package registry (see :class:`InputSpec`).

    An input is the files of ONE named folder under the data directory and the function
    that loads them; outputs name the inputs they use, and a build loads each input once.

    Parameters
    ----------
    name
        Input name, as listed in an output's ``inputs``.
    pattern
        ``"FOLDER/GLOB"`` relative to the data directory (e.g. ``"wbes/*.dta"``); the folder
        part holds no wildcard and no ``..``. An absolute path is used as is.
    loader
        ``loader(paths)`` receives the sorted list of matched files and returns anything (a
        frame, a dict of frames, ...); a loader that names a ``params`` argument also
        receives the build parameters. ``None``: outputs pass a loader to ``ctx.load``.
    description
        One line for ``msme-stats list`` and the manifest.
    alternatives
        Other patterns for the same input (e.g. the bundled samples
        ``"wbes_synthetic/*.dta"`` beside ``"wbes/*.dta"``); a data directory holding more
        than one of these folders makes the build stop with
        :class:`~msme_stats.errors.AmbiguousInputError`.

    Returns
    -------
    InputSpec
        The registered input.

    Raises
    ------
    OptionError
        When ``name`` is not usable as a name, or a pattern is empty or has a wildcard or
        ``..`` in its folder part.
    BuildError
        When ``name`` is already registered with other patterns or another loader.

    Examples
    --------
    >>> from msme_stats.build import REGISTRY, register_input
    >>> from msme_stats.sources.tec import load_tec
    >>> spec = register_input("demo_tec01", pattern="tec_samples/ext_tec01_synthetic_sdmx.csv",
    ...                       loader=load_tec, description="ext_tec01 specimen")
    >>> spec.candidates
    ('tec_samples/ext_tec01_synthetic_sdmx.csv',)
    >>> register_input("demo_tec01", pattern="my_tec/*.csv", loader=load_tec)
    Traceback (most recent call last):
    ...
    msme_stats.errors.BuildError: input 'demo_tec01' is registered twice with different patterns or loaders ...
    >>> REGISTRY.unregister_input("demo_tec01")  # a demonstration only
    """
    return REGISTRY.register_input(name, pattern=pattern, loader=loader, description=description,
                                   alternatives=alternatives)


def load_output_modules() -> None:
    """Import :mod:`msme_stats.outputs` (which imports every output-definition module).

    Importing the modules registers their inputs and outputs in :data:`REGISTRY`; importing
    them again does nothing.

    Raises
    ------
    BuildError
        When an output-definition module fails to import; the message names the module, so
        that a build never runs with a silently shorter list of outputs.

    Examples
    --------
    >>> from msme_stats.build import REGISTRY, load_output_modules
    >>> load_output_modules()
    >>> "wbes_headline_sme_vs_large" in {spec.id for spec in REGISTRY.outputs()}
    True
    >>> REGISTRY.input("wbes").candidates
    ('wbes/*.dta', 'wbes_synthetic/*.dta')
    """
    try:
        importlib.import_module("msme_stats.outputs")
    except MsmeStatsError:
        raise
    except Exception as exc:
        raise BuildError(
            f"could not import the output definitions (msme_stats.outputs): "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def registered_outputs(registry: Registry | None = None) -> list[OutputSpec]:
    """The registered outputs, sorted by id (what ``msme-stats list`` shows).

    Parameters
    ----------
    registry
        Registry to list (default: the package registry :data:`REGISTRY`, after importing
        :mod:`msme_stats.outputs` with :func:`load_output_modules`).

    Returns
    -------
    list of OutputSpec
        One per output: ``id``, ``kind`` (``"figure"`` or ``"table"``), ``title``,
        ``inputs``, ``func``, ``float_format``, and the ``module`` that defines it and the
        file ``extensions`` it writes.

    Raises
    ------
    BuildError
        Propagated from :func:`load_output_modules` when an output module fails to import.

    Examples
    --------
    >>> from msme_stats.build import registered_outputs
    >>> tables = [spec for spec in registered_outputs() if spec.kind == "table"]
    >>> spec = next(spec for spec in tables if spec.id == "wbes_headline_sme_vs_large")
    >>> spec.inputs, spec.extensions
    (('wbes',), ('csv', 'md', 'tex'))
    """
    if registry is None:
        load_output_modules()
        registry = REGISTRY
    return registry.outputs()


# --------------------------------------------------------------------------- data report
class _Report:
    """What loading an input or computing an output did to the data (warnings, log records,
    recode and exclusion logs kept in a frame's ``attrs``), for the manifest and stderr."""

    def __init__(self, data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self.inputs: dict[str, dict[str, Any]] = {}
        self.outputs: dict[str, dict[str, Any]] = {}

    def _clean(self, text: str) -> str:
        text = " ".join(str(text).split())
        if self.data_dir is not None:  # file names relative to the data folder
            text = text.replace(f"{self.data_dir}{os.sep}", "")
        return text

    @contextlib.contextmanager
    def capture(self, record: dict[str, Any]) -> Iterator[None]:
        """Record msme_stats warnings and WARNING log records of the block into ``record``."""
        pkg_logger = logging.getLogger("msme_stats")
        outer = [h for h in pkg_logger.handlers if isinstance(h, _ListHandler)]
        for h in outer:  # a nested capture (an input loaded by an output) records alone
            pkg_logger.removeHandler(h)
        handler = _ListHandler()
        pkg_logger.addHandler(handler)
        propagate, pkg_logger.propagate = pkg_logger.propagate, False
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                yield
        finally:
            pkg_logger.removeHandler(handler)
            for h in outer:
                pkg_logger.addHandler(h)
            pkg_logger.propagate = propagate
            others = []
            items = record.setdefault("warnings", [])
            for w in caught:
                if issubclass(w.category, MsmeStatsWarning):
                    items.append({"category": w.category.__name__, "message": self._clean(str(w.message))})
                else:
                    others.append(w)
            for rec in handler.records:
                items.append({"category": f"log {rec.levelname.lower()}",
                              "message": self._clean(rec.getMessage())})
            for w in others:  # not ours: shown as Python would show them
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)

    def attrs(self, record: dict[str, Any], value: Any) -> None:
        """Summarise the recode and exclusion logs a loader left in ``value.attrs``."""
        attrs = getattr(value, "attrs", None)
        if not isinstance(attrs, Mapping):
            return
        recodes = attrs.get("recodes")
        if recodes:
            by_var: dict[str, int] = {}
            try:
                for entry in recodes:
                    var = str(entry["variable"])
                    by_var[var] = by_var.get(var, 0) + int(entry["n"])
            except (TypeError, KeyError, ValueError):
                by_var = {}
            if by_var:
                record["recodes"] = {
                    "what": "codes set to missing (negative WBES codes: don't know, refused, "
                            "not applicable, ...), by variable; per file in the frame's "
                            ".attrs['recodes']",
                    "cells": sum(by_var.values()),
                    "by_variable": dict(sorted(by_var.items())),
                }
        exclusions = attrs.get("exclusions")
        if isinstance(exclusions, Mapping) and exclusions:
            try:
                record["exclusions"] = json.loads(json.dumps(dict(exclusions), default=str))
            except (TypeError, ValueError):
                pass

    def as_json(self) -> dict[str, Any]:
        keep = lambda d: {k: v for k, v in sorted(d.items()) if any(v.values())}  # noqa: E731
        return {"inputs": keep(self.inputs), "outputs": keep(self.outputs)}


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def report_summary(manifest: Manifest, *, width: int = 150) -> list[str]:
    """Short lines on what the build did to the data (the CLI prints them on stderr).

    Summarises the manifest's ``report``: per input and per output, the cells set to
    missing (recodes), the exclusions counted, and each distinct msme_stats warning or
    WARNING log record, so that nothing the loaders did to the data goes unseen.

    Parameters
    ----------
    manifest
        The manifest returned by :func:`build`.
    width
        Longest warning message shown in full; longer ones are cut with ``...`` (the
        manifest keeps them whole).

    Returns
    -------
    list of str
        A heading naming the manifest file and one line per input or output with anything
        to report; empty when there is nothing.

    Raises
    ------
    KeyError
        When the manifest's ``report`` was not written by :func:`build` (a recode record
        without its ``cells`` or ``by_variable`` count).

    Examples
    --------
    A build of one table from the SYNTHETIC WBES samples of one economy, written into a
    data folder of its own:

    >>> import pathlib, tempfile
    >>> import msme_stats as ms
    >>> from msme_stats.build import Registry, build, report_summary
    >>> from msme_stats.samples.wbes import write_wbes_samples
    >>> registry = Registry()
    >>> spec = registry.register_input("wbes", pattern="wbes/*.dta",
    ...                                loader=lambda paths: ms.load_wbes(paths, cache=False))
    >>> @registry.register_output("firms_per_survey", kind="table", title="Firms per survey",
    ...                           inputs=("wbes",))
    ... def _firms(ctx):
    ...     return ctx.load("wbes").groupby("survey_id").size().rename("firms").reset_index()
    >>> with tempfile.TemporaryDirectory() as data, tempfile.TemporaryDirectory() as out:
    ...     files = write_wbes_samples(pathlib.Path(data) / "wbes", n_countries=1, write_readme=False)
    ...     manifest = build(data_dir=data, out_dir=out, registry=registry, progress=False)
    ...     for line in report_summary(manifest, width=60):
    ...         print(line)
    msme-stats build: what the build did to the data (details: .../manifest.json, "report"):
      input wbes: 2,980 cell(s) set to missing in 15 variable(s); load_wbes: 10 firm(s) have d3a+d3b+d3c off 100 by mo...
    """
    report = manifest.data.get("report") or {}
    lines = []
    for kind, items in (("input", report.get("inputs", {})), ("output", report.get("outputs", {}))):
        for name, rec in items.items():
            parts = []
            if rec.get("recodes"):
                r = rec["recodes"]
                parts.append(f"{r['cells']:,} cell(s) set to missing in {len(r['by_variable'])} "
                             "variable(s)")
            if rec.get("exclusions"):
                parts.append("exclusions " + ", ".join(f"{k} {v}" for k, v in rec["exclusions"].items()))
            seen = set()
            for w in rec.get("warnings", []):
                msg = w["message"]
                if rec.get("recodes") and "set to missing" in msg:
                    continue  # already counted above
                if msg in seen:
                    continue
                seen.add(msg)
                parts.append(msg if len(msg) <= width else msg[: width - 3] + "...")
            if parts:
                lines.append(f"  {kind} {name}: " + "; ".join(parts))
    if not lines:
        return []
    return [f"msme-stats build: what the build did to the data (details: {manifest.path}, \"report\"):",
            *lines]


# --------------------------------------------------------------------------- context
@dataclass
class BuildContext:
    """What an output function receives.

    Attributes
    ----------
    data_dir
        The data directory (None when the build was given none).
    params
        Read-only build parameters (``build(params=...)``, ``msme-stats build --param``).
    output
        The output being built.
    cache
        Loaded inputs, shared by all outputs of one build (each input is loaded once).
    """

    data_dir: Path | None
    params: Mapping[str, Any]
    registry: Registry
    cache: dict[Any, Any] = field(default_factory=dict)
    output: OutputSpec | None = None
    _resolved: dict[str, list[Path]] = field(default_factory=dict)
    _report: _Report | None = None

    def paths(self, name: str) -> list[Path]:
        """Sorted files of a declared input."""
        self._check_declared(name)
        return list(self._resolved[name])

    def load(self, name: str, loader: Callable[[list[Path]], Any] | None = None) -> Any:
        """Load a declared input once per build (cached) and return it.

        The loader is the registered one, or ``loader`` for an input declared as a glob.
        Treat the result as read-only: other outputs receive the same object. Warnings and
        the recode/exclusion logs of the load are recorded in the manifest's ``report``; a
        file that cannot be read raises :class:`~msme_stats.errors.InputLoadError` naming it.
        """
        self._check_declared(name)
        spec = self.registry.input(name)
        # a loader takes the file list, and the build parameters when it names ``params``
        fn: Callable[..., Any] | None = loader or (spec.loader if spec else None)
        if fn is None:
            raise BuildError(
                f"output {self.output.id if self.output else '?'!r}: input {name!r} has no "
                "loader; register it with register_input(..., loader=) or pass ctx.load(name, "
                "loader=...)."
            )
        key = (name, _qualname(fn))
        if key not in self.cache:
            paths = list(self._resolved[name])
            logger.info("loading input %s (%d file(s))", name, len(paths))
            report = self._report or _Report(self.data_dir)
            record = report.inputs.setdefault(name, {})
            try:
                with report.capture(record):
                    value = fn(paths, params=self.params) if _takes_params(fn) else fn(paths)
            except Exception as exc:
                raise _load_error(name, fn, paths, exc) from exc
            report.attrs(record, value)
            self.cache[key] = value
        return self.cache[key]

    def _check_declared(self, name: str) -> None:
        if self.output is not None and name not in self.output.inputs:
            raise BuildError(
                f"output {self.output.id!r} uses input {name!r} without declaring it; add it "
                f"to inputs= of register_output (declared: {list(self.output.inputs)})."
            )
        if name not in self._resolved:
            raise BuildError(f"input {name!r} was not resolved for this build.")


def _takes_params(fn: Callable[..., Any]) -> bool:
    """Whether a loader accepts the build parameters as ``params=`` (e.g. ``--surveys``)."""
    try:
        return "params" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


def _names_a_file(exc: BaseException, paths: Sequence[Path]) -> bool:
    text = str(exc)
    return any(str(p) in text or p.name in text for p in paths)


def _load_error(name: str, fn: Callable[[list[Path]], Any], paths: list[Path],
                exc: Exception) -> MsmeStatsError:
    """An error of a loader, as an error naming the input file concerned."""
    if isinstance(exc, MsmeStatsError):  # a deliberate error: its message says what to do
        where = "" if _names_a_file(exc, paths) else (
            f" ({len(paths)} file(s) in {paths[0].parent})" if paths else "")
        return InputLoadError(f"input {name!r}{where}: {' '.join(str(exc).split())}")
    culprit: Path | None = None
    if isinstance(exc, OSError) and exc.filename:
        culprit = Path(exc.filename)
    elif len(paths) == 1:
        culprit = paths[0]
    else:  # find the file: load each one alone (only on this error path)
        for p in paths:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fn([p])
            except Exception as one:
                if type(one) is type(exc):
                    culprit = p
                    break
    what = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    if culprit is None:
        return InputLoadError(
            f"input {name!r}: its {len(paths)} file(s) in {paths[0].parent if paths else '?'} "
            f"could not be loaded ({what}); check that they are complete files of the expected "
            "format."
        )
    return InputLoadError(
        f"input {name!r}: cannot read {culprit} ({what}); the file is truncated, damaged or not "
        f"in the expected format: replace it with a complete copy or move it out of "
        f"{culprit.parent}."
    )


def _resolve_input(
    name: str, registry: Registry, data_dir: Path | None
) -> tuple[list[Path], str | None]:
    """Files of an input and the folder they come from (relative to ``data_dir``)."""
    spec = registry.input(name)
    candidates = spec.candidates if spec else (name,)
    if Path(candidates[0]).is_absolute():
        absolute = Path(candidates[0])
        base, rel = absolute.anchor, str(absolute.relative_to(absolute.anchor))
        files = [p for p in sorted(Path(base).glob(rel)) if p.is_file()]
        if not files:
            raise BuildError(f"input {name!r}: no file matches {absolute}. Put the data there.")
        return files, None
    if data_dir is None:
        raise BuildError(
            f"input {name!r} ({candidates[0]}) needs a data directory: pass --data DIR (or "
            f"build(data_dir=...)), or set {_ENV_DATA_DIR}. `msme-stats make-samples --out "
            "DIR` writes sample data."
        )
    present = [c for c in candidates if (data_dir / c).parent.is_dir()]
    if len(present) > 1:
        folders = " and ".join(str(data_dir / Path(c).parent) for c in present)
        raise AmbiguousInputError(
            f"input {name!r}: {folders} both exist; the build reads ONE folder per input and "
            "never pools them (your files would be mixed with the samples). Move one of them "
            "out of the data folder, or point --data at a folder that holds only one."
        )
    pattern = present[0] if present else candidates[0]
    files = [p for p in sorted(data_dir.glob(pattern)) if p.is_file()]
    if not files:
        tried = " or ".join(f"{data_dir}/{c}" for c in candidates)
        raise BuildError(
            f"input {name!r}: no file matches {tried}. Put the data there or pass another "
            "--data directory (`msme-stats make-samples --out DIR` writes sample data)."
        )
    return files, Path(pattern).parent.as_posix()


# --------------------------------------------------------------------------- manifest
@dataclass(frozen=True)
class Manifest:
    """The manifest of a build: a JSON-compatible dict and where it was written."""

    path: Path
    data: Mapping[str, Any]
    #: seconds spent per phase of this build (not written to the file: it is reproducible)
    timings: Mapping[str, float] = field(default_factory=dict, compare=False)
    #: what was done to an unfinished commit of an earlier build ("forward", "back",
    #: "removed") or None
    recovered: str | None = field(default=None, compare=False)

    @property
    def outputs(self) -> list[dict[str, Any]]:
        return list(self.data["outputs"])

    @property
    def built(self) -> list[str]:
        """Ids rebuilt by this build."""
        return list(self.data["built"])

    def files(self) -> list[Path]:
        """Every output file listed in the manifest (absolute paths)."""
        return [self.path.parent / f["name"] for o in self.outputs for f in o["files"]]

    def __getitem__(self, key: str) -> Any:
        return self.data[key]


def _versions() -> dict[str, str]:
    out = {}
    for lib in _LIBRARIES:
        try:
            out[lib] = importlib.import_module(lib).__version__
        except Exception:  # recorded as absent, not an error
            out[lib] = "not installed"
    return out


def _file_entry(path: Path, base: Path | None) -> dict[str, Any]:
    if base is not None:
        try:
            shown = path.relative_to(base).as_posix()
        except ValueError:
            shown = path.as_posix()
    else:
        shown = path.as_posix()
    return {"path": shown, "sha256": sha256_file(path), "bytes": path.stat().st_size}


def _json_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    params = dict(params or {})
    try:
        json.dumps(params, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise OptionError(
            f"params={params!r} must be JSON-serialisable (strings, numbers, booleans, lists, "
            f"dicts) so that the manifest can record them: {exc}."
        ) from exc
    return params


# --------------------------------------------------------------------------- writers
def _save_figure(fig: Any, tmp: Path, output_id: str) -> list[Path]:
    import matplotlib.pyplot as plt

    png, svg = tmp / f"{output_id}.png", tmp / f"{output_id}.svg"
    with plt.rc_context({"svg.hashsalt": SVG_HASHSALT, "svg.fonttype": "path"}):
        fig.savefig(png, format="png", dpi=PNG_DPI, bbox_inches="tight", metadata={"Software": None})
        fig.savefig(svg, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return [png, svg]


def _save_table(df: pd.DataFrame, tmp: Path, spec: OutputSpec) -> list[Path]:
    if not isinstance(df.index, pd.RangeIndex) or df.index.start != 0 or df.index.step != 1:
        df = df.reset_index()
    if df.columns.duplicated().any():
        raise BuildError(
            f"output {spec.id!r}: the table has duplicate column names "
            f"{list(df.columns[df.columns.duplicated()])}; rename them."
        )
    csv, md, tex = (tmp / f"{spec.id}.{ext}" for ext in ("csv", "md", "tex"))
    atomic_write_text(csv, df.to_csv(index=False, lineterminator="\n"))
    atomic_write_text(md, table_to_markdown(df, float_format=spec.float_format, title=spec.title))
    atomic_write_text(tex, table_to_latex(df, float_format=spec.float_format, title=spec.title))
    return [csv, md, tex]


# --------------------------------------------------------------------------- progress
class _Progress:
    """A tiny progress bar on stderr (redrawn in place on a terminal, one line otherwise)."""

    def __init__(self, total: int, enabled: bool, stream: Any = None) -> None:
        self.total, self.enabled = total, enabled and total > 0
        self.stream = stream if stream is not None else sys.stderr
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.done = 0

    def step(self, label: str) -> None:
        if not self.enabled:
            return
        width = 24
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "-" * (width - filled)
        text = f"msme-stats build [{bar}] {self.done}/{self.total} {label}"
        if self.tty:
            self.stream.write("\r" + text[:110].ljust(110))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()

    def advance(self) -> None:
        self.done += 1

    def close(self, message: str) -> None:
        if not self.enabled:
            return
        self.stream.write(("\r" if self.tty else "") + message.ljust(110 if self.tty else 0) + "\n")
        self.stream.flush()


# --------------------------------------------------------------------------- output folder
_HINTS = {
    errno.ENAMETOOLONG: "the name is too long for the file system; use a shorter --out path",
    errno.ELOOP: "it is a loop of symbolic links; fix the link or choose another --out",
    errno.EACCES: "permission denied; choose a folder you can write to",
    errno.EPERM: "the operating system does not allow it there; choose a normal folder you "
                 "can write to",
    errno.EROFS: "the file system is read-only; choose another --out",
    errno.ENOSPC: "the disk is full; free some space and build again",
    errno.ENOTDIR: "a part of the path is a file, not a folder; choose another --out",
    errno.EEXIST: "a file is in the way; choose another --out",
    errno.ENOENT: "a parent folder does not exist and cannot be created there; choose "
                  "another --out",
    errno.EXDEV: "the output folder is on another file system than its parent folder (a "
                 "mount point); use a folder inside it as --out",
}
if hasattr(errno, "EDQUOT"):
    _HINTS[errno.EDQUOT] = "the disk quota is exceeded; free some space and build again"


def _out_error(exc: OSError, out: Path, doing: str) -> OutputDirError:
    where = exc.filename or out
    hint = _HINTS.get(exc.errno or -1, "check the path and choose another --out if needed")
    return OutputDirError(
        f"output folder {out}: cannot {doing} {where} ({exc.strerror or exc}): {hint}."
    )


def _check_out_dir(out: Path) -> Path:
    """``out`` usable as an output folder (symlinks resolved), else :class:`OutputDirError`."""
    if out.name in ("", ".", ".."):  # "." or "..": the work folder needs the folder's name
        out = Path(os.path.abspath(out))
    try:
        st = os.stat(out)
    except FileNotFoundError:
        if os.path.islink(out):
            raise OutputDirError(
                f"output folder {out} is a symbolic link to {os.readlink(out)}, which does not "
                "exist; create the target folder or choose another --out."
            ) from None
        st = None
    except OSError as exc:
        raise _out_error(exc, out, "use") from exc
    if st is not None and not stat.S_ISDIR(st.st_mode):
        raise OutputDirError(
            f"output folder {out} is an existing file, not a folder; choose a folder name for "
            "--out (e.g. figures)."
        )
    if st is not None and os.path.islink(out):
        out = out.resolve()
    if st is not None:
        try:
            parent_dev = os.stat(out.parent).st_dev
        except OSError as exc:
            raise _out_error(exc, out, "use") from exc
        if parent_dev != st.st_dev:
            raise _out_error(OSError(errno.EXDEV, os.strerror(errno.EXDEV), str(out)), out, "use")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _out_error(exc, out, "create the parent folder of") from exc
    return out


def _safe_name(name: Any) -> bool:
    return (isinstance(name, str) and bool(name) and "/" not in name and "\\" not in name
            and not name.startswith(".") and name not in (MANIFEST_NAME,))


def _previous_manifest(out: Path) -> dict[str, Any] | None:
    """The manifest of the previous build in ``out`` (None when there is none).

    It says which files the build owns. A ``manifest.json`` that is not one of ours is a
    clash: the build never overwrites it.
    """
    path = out / MANIFEST_NAME
    if not os.path.lexists(path):
        return None
    bad = None
    if path.is_symlink() or not path.is_file():
        bad = "is not a regular file"
    else:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            bad = f"is not a manifest of msme-stats build ({type(exc).__name__}: {exc})"
        else:
            if not (isinstance(data, dict) and isinstance(data.get("manifest_version"), int)
                    and isinstance(data.get("outputs"), list)):
                bad = "is not a manifest of msme-stats build (no manifest_version/outputs)"
    if bad:
        raise OutputClashError(
            f"{path} {bad}; the build writes its manifest there and never overwrites a file it "
            "did not write. Move that file away or choose another --out."
        )
    outputs = []
    for entry in data["outputs"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("files"), list):
            continue
        files = [f for f in entry["files"] if isinstance(f, dict) and _safe_name(f.get("name"))]
        outputs.append({**entry, "files": files})
    return {**data, "outputs": outputs}


def _owned(previous: Mapping[str, Any] | None) -> set[str]:
    """File names that the previous build wrote (the only ones a build replaces or removes)."""
    if previous is None:
        return set()
    return {f["name"] for o in previous["outputs"] for f in o["files"]} | {MANIFEST_NAME}


def _clash(target: Path) -> OutputClashError:
    kind = ("folder" if target.is_dir() and not target.is_symlink()
            else "symbolic link" if target.is_symlink() else "file")
    return OutputClashError(
        f"{target} is a {kind} that msme-stats build did not write (it is not in "
        f"{target.parent / MANIFEST_NAME}), but the build writes a file of that name; nothing "
        "was changed. Move or rename it, or choose another --out."
    )


def _check_clashes(out: Path, names: Iterable[str], owned: set[str]) -> None:
    for name in names:
        target = out / name
        try:
            st = os.lstat(target)
        except FileNotFoundError:
            continue
        if name not in owned or not stat.S_ISREG(st.st_mode):
            raise _clash(target)


def _plan(
    out: Path, new_dir: Path, specs: Sequence[OutputSpec], entries: Mapping[str, Any],
    previous: Mapping[str, Any] | None, manifest_sha: str,
) -> list[Op]:
    """The operations of the commit: puts (sorted), stale deletions, the manifest last."""
    owned = _owned(previous)
    sha = {f["name"]: f["sha256"] for e in entries.values() for f in e["files"]}
    sha[MANIFEST_NAME] = manifest_sha
    new_files = sorted(p.name for p in new_dir.iterdir())
    _check_clashes(out, new_files, owned)
    ops = [Op("put", n, os.path.lexists(out / n), sha.get(n)) for n in new_files
           if n != MANIFEST_NAME]
    old_files = {e["id"]: [f["name"] for f in e["files"]] for e in (previous or {}).get("outputs", [])
                 if isinstance(e.get("id"), str)}
    for spec in specs:
        for name in old_files.get(spec.id, []):
            target = out / name
            if name not in new_files and os.path.lexists(target):
                if not stat.S_ISREG(os.lstat(target).st_mode):
                    continue  # not ours any more: left alone
                ops.append(Op("delete", name))
    ops.append(Op("put", MANIFEST_NAME, os.path.lexists(out / MANIFEST_NAME), manifest_sha))
    return ops


# --------------------------------------------------------------------------- build
def _data_path(data_dir: str | os.PathLike[str] | None) -> tuple[Any, Path | None]:
    """The data directory as given (default: ``$MSME_STATS_DATA_DIR``, else the bundled
    ``data/`` folder) and resolved; raise :class:`~msme_stats.errors.BuildError` when it is
    not a directory."""
    if data_dir is None:
        default = _bundled_data_dir()  # $MSME_STATS_DATA_DIR, else the bundled data/ folder
        data_dir = default if default.is_dir() else None
    data_path = Path(data_dir).resolve() if data_dir is not None else None
    if data_path is not None and not data_path.is_dir():
        raise BuildError(
            f"data directory {data_path} does not exist or is not a directory; pass --data DIR "
            "with your data folders in it (e.g. DIR/wbes/*.dta)."
        )
    return data_dir, data_path


def _select_specs(registry: Registry, only: Iterable[str] | str | None) -> list[OutputSpec]:
    """The outputs to build (``only=`` ids, in order, else all; unknown ids raise)."""
    wanted = as_list(only)
    specs = [registry.output(i) for i in dict.fromkeys(wanted)] if wanted else registry.outputs()
    if not specs:
        logger.warning(
            "no output is registered; only the manifest is written (output modules are in "
            "msme_stats/outputs/)."
        )
    return specs


def _resolve_inputs(specs: list[OutputSpec], registry: Registry,
                    data_path: Path | None) -> tuple[dict[str, list[Path]], dict[str, dict]]:
    """Resolve every input the outputs need to its files, and hash them for the manifest."""
    input_names = sorted({name for s in specs for name in s.inputs})
    resolved, folders = {}, {}
    for name in input_names:
        resolved[name], folders[name] = _resolve_input(name, registry, data_path)
    input_entries = {
        name: {"name": name, **({"folder": folders[name]} if folders[name] else {}),
               "files": [_file_entry(p, data_path) for p in files]}
        for name, files in resolved.items()
    }
    return resolved, input_entries


_BUILD_PARAMETERS = """\
    Parameters
    ----------
    data_dir
        Directory that input patterns are relative to. Default: the environment variable
        ``MSME_STATS_DATA_DIR``, else the bundled ``data/`` folder. Each input reads one
        named folder in it (e.g. ``wbes/`` for a user's WBES files, ``wbes_synthetic/`` for
        the bundled samples); a data folder holding both raises
        :class:`~msme_stats.errors.AmbiguousInputError`.
    out_dir
        Destination directory (created if needed). Only files listed in its previous
        ``manifest.json`` are ever replaced or removed; a file or folder of another origin
        that has the name of an output file raises
        :class:`~msme_stats.errors.OutputClashError` before anything runs.
    only
        Output ids to build (default: all). Unknown ids raise
        :class:`~msme_stats.errors.OptionError`.
    params
        JSON-serialisable parameters passed to every output as ``ctx.params`` and written
        to the manifest.
    progress
        Show a progress bar on stderr.
    registry
        Registry to build from (default: the package registry, after importing
        :mod:`msme_stats.outputs`).
    lock_timeout
        Seconds to wait when another build holds the lock of ``out_dir`` (default 0: fail
        at once with :class:`~msme_stats.errors.BuildLockedError`).
"""


@fill_pieces(build_parameters=_BUILD_PARAMETERS)
def build(
    *,
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] = "figures",
    only: Iterable[str] | str | None = None,
    params: Mapping[str, Any] | None = None,
    progress: bool = True,
    registry: Registry | None = None,
    lock_timeout: float = 0.0,
) -> Manifest:
    """Regenerate the registered figures and tables atomically; return the manifest.

    {build_parameters}

    Returns
    -------
    Manifest
        ``manifest.json`` of ``out_dir``: package, Python and library versions, data
        directory, parameters, input files (path relative to the data directory, sha256,
        bytes, and the folder each input was read from), per output id, kind, title,
        module, inputs and files (name, sha256, bytes), and ``report``: what loading each
        input and computing each output did to the data (recodes, exclusions, warnings,
        flags). Outputs of earlier builds that were not rebuilt (``only=``) keep their
        entries, so the manifest describes every output file in ``out_dir``.

    Raises
    ------
    BuildError
        (or a subclass) when an input is missing, ambiguous
        (:class:`~msme_stats.errors.AmbiguousInputError`) or unreadable
        (:class:`~msme_stats.errors.InputLoadError`), an output function raises or returns
        the wrong type, the output folder cannot be used
        (:class:`~msme_stats.errors.OutputDirError`) or holds a file the build did not write
        under an output's name (:class:`~msme_stats.errors.OutputClashError`), another build
        holds its lock (:class:`~msme_stats.errors.BuildLockedError`), or an interrupted
        commit cannot be completed or undone (:class:`~msme_stats.errors.RecoveryError`).
        ``out_dir`` is then exactly as before; also after SIGINT or SIGTERM (raised as
        :class:`KeyboardInterrupt`), which make the commit undo its renames. After SIGKILL
        or a power loss, the next build (or :func:`recover`) completes or undoes the commit
        from its journal (see :mod:`msme_stats._commit`).
    OptionError
        When ``only`` names an output that is not registered, or ``params`` is not
        JSON-serialisable.

    See Also
    --------
    report_summary : what loading the inputs did to the data.
    register_output : add a figure or table to the build.

    Examples
    --------
    A build of one table, defined on a registry of its own, into a temporary folder
    (``make figures`` builds every registered output from the bundled ``data/`` folder):

    >>> import pathlib, tempfile
    >>> import pandas as pd
    >>> from msme_stats.build import Registry, build, digest_dir
    >>> registry = Registry()
    >>> @registry.register_output("sme_shares", kind="table", title="Export value by size",
    ...                           float_format="{:.1f}")
    ... def _shares(ctx):
    ...     return pd.DataFrame({"size": ["SME", "large"], "share": [31.25, 68.75]})
    >>> with tempfile.TemporaryDirectory() as out:
    ...     manifest = build(out_dir=out, registry=registry, progress=False)
    ...     print(manifest.built, sorted(digest_dir(out)))
    ...     print((pathlib.Path(out) / "sme_shares.md").read_text())
    ['sme_shares'] ['manifest.json', 'sme_shares.csv', 'sme_shares.md', 'sme_shares.tex']
    **Export value by size**
    <BLANKLINE>
    | size | share |
    |:---|---:|
    | SME | 31.2 |
    | large | 68.8 |
    <BLANKLINE>
    """
    t_start = time.perf_counter()
    if registry is None:
        load_output_modules()
        registry = REGISTRY
    params = _json_params(params)
    data_dir, data_path = _data_path(data_dir)
    out_path = Path(out_dir)
    specs = _select_specs(registry, only)
    # resolve every input before running anything: fail fast, hash them for the manifest
    resolved, input_entries = _resolve_inputs(specs, registry, data_path)
    out_path = _check_out_dir(out_path)
    work = WorkDir(out_path)
    report = _Report(data_path)
    with SignalGuard() as guard:
        lock = _acquire_lock(work, lock_timeout)
        try:
            with guard.deferred():  # a recovery runs to its end
                recovered = _recover(work)
            guard.raise_pending()
            previous = _previous_manifest(out_path) if out_path.is_dir() else None
            expected = [f"{s.id}.{ext}" for s in specs for ext in s.extensions]
            _check_clashes(out_path, [*expected, MANIFEST_NAME], _owned(previous))
            manifest, timings = _build_and_commit(
                work, specs, registry, data_path, data_dir, params, input_entries, resolved,
                report, previous, progress, guard,
            )
        finally:
            lock.release()
        # a signal during the final clean-up: the build is complete, but exit as asked
        guard.raise_pending(completed=True)
    timings["total"] = time.perf_counter() - t_start
    return Manifest(out_path / MANIFEST_NAME, manifest, timings, recovered)


def _acquire_lock(work: WorkDir, timeout: float) -> BuildLock:
    """Take the output folder's build lock (shared by ``build`` and ``recover``)."""
    try:
        lock = BuildLock(work.lock, timeout=timeout, what=f"output folder {work.out}")
        lock.acquire()
    except OSError as exc:
        raise _out_error(exc, work.out, "create the lock file") from exc
    return lock


def _build_and_commit(
    work: WorkDir, specs: Sequence[OutputSpec], registry: Registry, data_path: Path | None,
    data_dir: Any, params: dict[str, Any], input_entries: dict[str, Any],
    resolved: dict[str, list[Path]], report: _Report, previous: Mapping[str, Any] | None,
    progress: bool, guard: SignalGuard,
) -> tuple[dict[str, Any], dict[str, float]]:
    out_path = work.out
    bar = _Progress(len(specs), progress)
    ctx = BuildContext(data_dir=data_path, params=MappingProxyType(params), registry=registry,
                       _resolved=resolved, _report=report)
    t0 = time.perf_counter()
    try:
        try:
            tmp = work.create()
        except OSError as exc:
            raise _out_error(exc, out_path, "create the work folder") from exc
        entries: dict[str, dict[str, Any]] = {}
        for spec in specs:
            bar.step(spec.id)
            entries[spec.id] = _build_one(spec, ctx, tmp, input_entries, report)
            bar.advance()
        manifest = _manifest(out_path, specs, entries, params, data_dir, input_entries, previous,
                             report)
        text = json.dumps(manifest, indent=2, sort_keys=False) + "\n"
        atomic_write_text(tmp / MANIFEST_NAME, text)
        manifest_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
        ops = _plan(out_path, tmp, specs, entries, previous, manifest_sha)
        t1 = time.perf_counter()
        try:
            phases = commit(work, ops, guard)
        except OSError as exc:
            if work.journal.exists():
                raise RecoveryError(
                    f"the commit into {out_path} failed ({exc}) and could not be undone; run "
                    f"`msme-stats build --recover --out {out_path}` once the cause is fixed."
                ) from exc
            raise _out_error(exc, out_path, "write into") from exc
    except OSError as exc:
        bar.close("msme-stats build: failed; output directory left unchanged")
        raise _out_error(exc, out_path, "write") from exc
    except BaseException:
        bar.close("msme-stats build: failed; output directory left unchanged")
        raise
    finally:
        with guard.deferred():  # the clean-up itself is not interrupted
            if work.is_ours() and not work.journal.exists():
                work.remove()
    bar.close(f"msme-stats build: {len(specs)} output(s) written to {out_path}")
    timings = {"outputs": t1 - t0, "commit": sum(phases.values()),
               **{f"commit_{k}": v for k, v in phases.items()}}
    return manifest, timings


def _recover(work: WorkDir) -> str | None:
    """Recover an unfinished commit (lock held); OS errors become typed errors."""
    try:
        done = _commit_recover(work)
    except OSError as exc:
        raise RecoveryError(
            f"the unfinished commit of an earlier build in {work.out} could not be completed or "
            f"undone ({exc}); fix the cause and run `msme-stats build --recover --out "
            f"{work.out}`."
        ) from exc
    if done in ("forward", "back"):
        logger.warning(
            "an earlier build into %s was interrupted during its commit; it was %s from its "
            "journal, so the folder is consistent with its manifest again.",
            work.out, "completed" if done == "forward" else "undone",
        )
    return done


def recover(out_dir: str | os.PathLike[str] = "figures", *, lock_timeout: float = 0.0) -> str | None:
    """Finish or undo the commit of a build into ``out_dir`` that was killed (SIGKILL, power
    loss), and remove its work folder (``msme-stats build --recover``).

    Afterwards ``out_dir`` holds exactly the files its ``manifest.json`` lists (the old or
    the new ones, never a mix). :func:`build` does the same before it starts, so this is
    needed only to repair a folder without building.

    Parameters
    ----------
    out_dir
        The output folder of the interrupted build.
    lock_timeout
        Seconds to wait when a build holds the folder's lock (default 0: fail at once).

    Returns
    -------
    str or None
        ``None`` when there was nothing to do, ``"removed"`` when an unfinished build that
        had not started its commit was cleaned up, ``"forward"`` or ``"back"`` when its
        commit was completed or undone from its journal.

    Raises
    ------
    OutputDirError
        When ``out_dir`` is a file, a dangling symbolic link, or cannot be used.
    BuildLockedError
        When another build holds the folder's lock for longer than ``lock_timeout``.
    RecoveryError
        When the unfinished commit can be neither completed nor undone (the message says
        what failed; fix the cause and run it again).

    Examples
    --------
    >>> import tempfile
    >>> from msme_stats.build import recover
    >>> with tempfile.TemporaryDirectory() as out:
    ...     print(recover(out))
    None
    """
    out_path = _check_out_dir(Path(out_dir))
    work = WorkDir(out_path)
    with SignalGuard() as guard:
        lock = _acquire_lock(work, lock_timeout)
        try:
            with guard.deferred():
                done = _recover(work)
        finally:
            lock.release()
    guard.raise_pending()
    return done


def _build_one(
    spec: OutputSpec, ctx: BuildContext, tmp: Path, input_entries: Mapping[str, Any],
    report: _Report,
) -> dict[str, Any]:
    from .plots.style import house_style

    ctx.output = spec
    logger.info("building %s (%s)", spec.id, spec.kind)
    try:
        with house_style(), report.capture(report.outputs.setdefault(spec.id, {})):
            result = spec.func(ctx)
            files = _write_result(spec, result, tmp)
    except Exception as exc:
        if isinstance(exc, OSError) and str(exc.filename or "").startswith(str(tmp)):
            hint = _HINTS.get(exc.errno or -1, "check the disk and the folder's permissions")
            raise OutputDirError(
                f"output {spec.id!r}: cannot write {exc.filename} ({exc.strerror}): {hint}."
            ) from exc
        if isinstance(exc, BuildError) and (spec.id in str(exc) or isinstance(exc, InputLoadError)):
            raise
        raise BuildError(
            f"output {spec.id!r} ({spec.module}) failed: {type(exc).__name__}: {exc}. "
            "Nothing was written; the output directory is unchanged."
        ) from exc
    finally:
        ctx.output = None
    return {
        "id": spec.id,
        "kind": spec.kind,
        "title": spec.title,
        "module": spec.module,
        "inputs": [input_entries[name] for name in spec.inputs],
        "files": [
            {"name": p.name, "sha256": sha256_file(p), "bytes": p.stat().st_size} for p in files
        ],
    }


def _write_result(spec: OutputSpec, result: Any, tmp: Path) -> list[Path]:
    if spec.kind == "figure":
        from matplotlib.axes import Axes
        from matplotlib.figure import Figure

        if isinstance(result, Axes):
            result = result.figure
        if not isinstance(result, Figure):
            raise BuildError(
                f"output {spec.id!r} is a figure but its function returned "
                f"{type(result).__name__}; return a matplotlib Figure (e.g. ax.figure)."
            )
        return _save_figure(result, tmp, spec.id)
    if not isinstance(result, pd.DataFrame):
        raise BuildError(
            f"output {spec.id!r} is a table but its function returned {type(result).__name__}; "
            "return a pandas DataFrame."
        )
    return _save_table(result, tmp, spec)


def _display_path(path: Path) -> str:
    """``path`` relative to the working directory when inside it (reproducible manifests)."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return resolved.as_posix()


def _manifest(
    out_path: Path,
    specs: Sequence[OutputSpec],
    entries: Mapping[str, dict[str, Any]],
    params: Mapping[str, Any],
    data_dir: Any,
    input_entries: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
    report: _Report,
) -> dict[str, Any]:
    from . import __version__

    outputs = dict(entries)
    for entry in (previous or {}).get("outputs", []):
        keep = isinstance(entry.get("id"), str) and entry["id"] not in outputs and all(
            (out_path / f["name"]).is_file() and not (out_path / f["name"]).is_symlink()
            for f in entry["files"]
        )
        if keep:
            outputs[entry["id"]] = entry
    return {
        "manifest_version": 1,
        "package": {"name": "msme_stats", "version": __version__},
        "python": platform.python_version(),
        "libraries": _versions(),
        "data_dir": None if data_dir is None else _display_path(Path(data_dir)),
        "params": dict(params),
        "inputs": [input_entries[k] for k in sorted(input_entries)],
        "built": [s.id for s in specs],
        "outputs": [outputs[k] for k in sorted(outputs)],
        "report": report.as_json(),
    }


def digest_dir(path: str | os.PathLike[str]) -> dict[str, str]:
    """``{file name: sha256}`` of the files in a directory (to compare two builds).

    Parameters
    ----------
    path
        A directory, e.g. the ``out_dir`` of a build. Sub-folders are not read.

    Returns
    -------
    dict of str to str
        File name to the hex SHA-256 of its bytes, sorted by name.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist (:class:`NotADirectoryError` when it is a file).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from msme_stats.build import digest_dir
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (pathlib.Path(folder) / "a.csv").write_text("x,y")
    ...     digest_dir(folder)
    {'a.csv': '...'}
    """
    return {p.name: sha256_file(p) for p in sorted(Path(path).iterdir()) if p.is_file()}

