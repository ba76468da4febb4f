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
temporary directory next to ``out_dir``; only when all succeeded are the files moved into
``out_dir`` (replacing older files of the same ids), together with ``manifest.json``. A
failed or interrupted build leaves ``out_dir`` exactly as it was.

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
import importlib
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import pandas as pd

from ._atomic import atomic_write_text, sha256_file
from ._options import as_list, check_choice
from ._paths import ENV_DATA_DIR as _ENV_DATA_DIR
from ._paths import data_dir as _bundled_data_dir
from .errors import BuildError, MsmeStatsError, OptionError
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
    "register_input",
    "register_output",
    "registered_outputs",
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
    """A named input: files matched by ``pattern`` under the data directory, and a loader.

    ``loader(paths)`` receives the sorted list of matched paths and returns anything (a
    frame, a dict of frames, ...). ``pattern`` is a glob relative to the data directory;
    an absolute path is used as is.
    """

    name: str
    pattern: str
    loader: Callable[[list[Path]], Any] | None = None
    description: str = ""


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
    ) -> InputSpec:
        """Register a named input (see :class:`InputSpec`)."""
        _check_id("input name", name)
        spec = InputSpec(name, pattern, loader, description)
        old = self._inputs.get(name)
        if old is not None and (old.pattern, _qualname(old.loader)) != (pattern, _qualname(loader)):
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
    """Register an output in the package registry (see :meth:`Registry.register_output`)."""
    return REGISTRY.register_output(
        id, kind=kind, title=title, inputs=inputs, func=func, float_format=float_format
    )


def register_input(
    name: str,
    *,
    pattern: str,
    loader: Callable[[list[Path]], Any] | None = None,
    description: str = "",
) -> InputSpec:
    """Register a named input in the package registry (see :class:`InputSpec`)."""
    return REGISTRY.register_input(name, pattern=pattern, loader=loader, description=description)


def load_output_modules() -> None:
    """Import :mod:`msme_stats.outputs` (which imports every output-definition module).

    A module that fails to import makes this raise :class:`~msme_stats.errors.BuildError`
    naming the module, never a silently shorter list of outputs.
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
    """Outputs of ``registry`` (default: the package registry, after importing the outputs)."""
    if registry is None:
        load_output_modules()
        registry = REGISTRY
    return registry.outputs()


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

    def paths(self, name: str) -> list[Path]:
        """Sorted files of a declared input."""
        self._check_declared(name)
        return list(self._resolved[name])

    def load(self, name: str, loader: Callable[[list[Path]], Any] | None = None) -> Any:
        """Load a declared input once per build (cached) and return it.

        The loader is the registered one, or ``loader`` for an input declared as a glob.
        Treat the result as read-only: other outputs receive the same object.
        """
        self._check_declared(name)
        spec = self.registry.input(name)
        fn = loader or (spec.loader if spec else None)
        if fn is None:
            raise BuildError(
                f"output {self.output.id if self.output else '?'!r}: input {name!r} has no "
                "loader; register it with register_input(..., loader=) or pass ctx.load(name, "
                "loader=...)."
            )
        key = (name, _qualname(fn))
        if key not in self.cache:
            logger.info("loading input %s (%d file(s))", name, len(self._resolved[name]))
            self.cache[key] = fn(list(self._resolved[name]))
        return self.cache[key]

    def _check_declared(self, name: str) -> None:
        if self.output is not None and name not in self.output.inputs:
            raise BuildError(
                f"output {self.output.id!r} uses input {name!r} without declaring it; add it "
                f"to inputs= of register_output (declared: {list(self.output.inputs)})."
            )
        if name not in self._resolved:
            raise BuildError(f"input {name!r} was not resolved for this build.")


def _resolve_input(name: str, registry: Registry, data_dir: Path | None) -> list[Path]:
    spec = registry.input(name)
    pattern = spec.pattern if spec else name
    if Path(pattern).is_absolute():
        base, rel = Path(pattern).anchor, str(Path(pattern).relative_to(Path(pattern).anchor))
        matches = sorted(Path(base).glob(rel))
    else:
        if data_dir is None:
            raise BuildError(
                f"input {name!r} ({pattern}) needs a data directory: pass --data DIR (or "
                f"build(data_dir=...)), or set {_ENV_DATA_DIR}. `msme-stats make-samples --out "
                "DIR` writes sample data."
            )
        matches = sorted(data_dir.glob(pattern))
    files = [p for p in matches if p.is_file()]
    if not files:
        where = pattern if Path(pattern).is_absolute() else f"{data_dir}/{pattern}"
        raise BuildError(
            f"input {name!r}: no file matches {where}. Put the data there or pass another "
            "--data directory (`msme-stats make-samples --out DIR` writes sample data)."
        )
    return files


# --------------------------------------------------------------------------- manifest
@dataclass(frozen=True)
class Manifest:
    """The manifest of a build: a JSON-compatible dict and where it was written."""

    path: Path
    data: Mapping[str, Any]

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
    atomic_write_text(md, table_to_markdown(df, float_format=spec.float_format))
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


# --------------------------------------------------------------------------- build
def build(
    *,
    data_dir: str | os.PathLike[str] | None = None,
    out_dir: str | os.PathLike[str] = "figures",
    only: Iterable[str] | str | None = None,
    params: Mapping[str, Any] | None = None,
    progress: bool = True,
    registry: Registry | None = None,
) -> Manifest:
    """Regenerate the registered figures and tables atomically; return the manifest.

    Parameters
    ----------
    data_dir
        Directory that input patterns are relative to. Default: the environment variable
        ``MSME_STATS_DATA_DIR``, else none (outputs with inputs then fail with a clear
        message).
    out_dir
        Destination directory (created if needed). Files of other ids are never touched.
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

    Returns
    -------
    Manifest
        ``manifest.json`` of ``out_dir``: package, Python and library versions, data
        directory, parameters, input files (path relative to the data directory, sha256,
        bytes) and, per output, id, kind, title, module, inputs and files (name, sha256,
        bytes). Outputs of earlier builds that were not rebuilt (``only=``) keep their
        entries, so the manifest describes every output file in ``out_dir``.

    Raises
    ------
    BuildError
        When an input is missing, an output function raises or returns the wrong type.
        ``out_dir`` is then exactly as before (also after :class:`KeyboardInterrupt`).
    """
    if registry is None:
        load_output_modules()
        registry = REGISTRY
    params = _json_params(params)
    if data_dir is None:
        default = _bundled_data_dir()  # $MSME_STATS_DATA_DIR, else the bundled data/ folder
        data_dir = default if default.is_dir() else None
    data_path = Path(data_dir).resolve() if data_dir is not None else None
    if data_path is not None and not data_path.is_dir():
        raise BuildError(f"data directory {data_path} does not exist or is not a directory.")
    out_path = Path(out_dir)

    wanted = as_list(only)
    specs = [registry.output(i) for i in dict.fromkeys(wanted)] if wanted else registry.outputs()
    if not specs:
        logger.warning(
            "no output is registered; only the manifest is written (output modules are in "
            "msme_stats/outputs/)."
        )

    # resolve every input before running anything: fail fast, hash them for the manifest
    input_names = sorted({name for s in specs for name in s.inputs})
    resolved = {name: _resolve_input(name, registry, data_path) for name in input_names}
    input_entries = {
        name: {"name": name, "files": [_file_entry(p, data_path) for p in files]}
        for name, files in resolved.items()
    }

    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=out_path.parent, prefix=f".{out_path.name}.", suffix=".build"))
    bar = _Progress(len(specs), progress)
    ctx = BuildContext(data_dir=data_path, params=MappingProxyType(params), registry=registry,
                       _resolved=resolved)
    try:
        entries: dict[str, dict[str, Any]] = {}
        for spec in specs:
            bar.step(spec.id)
            entries[spec.id] = _build_one(spec, ctx, tmp, input_entries)
            bar.advance()
        manifest = _manifest(out_path, specs, entries, params, data_dir, input_entries)
        atomic_write_text(tmp / MANIFEST_NAME, json.dumps(manifest, indent=2, sort_keys=False) + "\n")
        _commit(tmp, out_path, specs)
    except BaseException:
        bar.close("msme-stats build: failed; output directory left unchanged")
        raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    bar.close(f"msme-stats build: {len(specs)} output(s) written to {out_path}")
    return Manifest(out_path / MANIFEST_NAME, manifest)


def _build_one(
    spec: OutputSpec, ctx: BuildContext, tmp: Path, input_entries: Mapping[str, Any]
) -> dict[str, Any]:
    from .plots.style import house_style

    ctx.output = spec
    logger.info("building %s (%s)", spec.id, spec.kind)
    try:
        with house_style():
            result = spec.func(ctx)
            files = _write_result(spec, result, tmp)
    except Exception as exc:
        if isinstance(exc, BuildError) and spec.id in str(exc):
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
) -> dict[str, Any]:
    from . import __version__

    outputs = dict(entries)
    old_path = out_path / MANIFEST_NAME
    if old_path.is_file():
        try:
            old = json.loads(old_path.read_text(encoding="utf-8"))
            for entry in old.get("outputs", []):
                keep = entry.get("id") not in outputs and all(
                    (out_path / f["name"]).is_file() for f in entry.get("files", [])
                )
                if keep:
                    outputs[entry["id"]] = entry
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            logger.warning("previous %s unreadable (%s); starting a new one", old_path, exc)
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
    }


def _commit(tmp: Path, out_path: Path, specs: Sequence[OutputSpec]) -> None:
    """Move the built files into ``out_path``; on any interruption restore the old state."""
    out_path.mkdir(parents=True, exist_ok=True)
    backup = tmp / ".replaced"
    backup.mkdir()
    new_files = sorted(p.name for p in tmp.iterdir() if p.is_file())
    stale = sorted(
        f"{s.id}.{ext}" for s in specs for ext in _ALL_EXTENSIONS
        if (out_path / f"{s.id}.{ext}").exists() and f"{s.id}.{ext}" not in new_files
    )
    journal: list[tuple[str, str]] = []  # (action, name)
    try:
        for name in stale:
            os.replace(out_path / name, backup / name)
            journal.append(("removed", name))
        for name in new_files:
            target = out_path / name
            if target.exists():
                os.replace(target, backup / name)
                journal.append(("replaced", name))
            else:
                journal.append(("added", name))
            os.replace(tmp / name, target)
    except BaseException:
        for action, name in reversed(journal):
            with contextlib.suppress(OSError):
                if action in ("added", "replaced") and (out_path / name).exists():
                    os.replace(out_path / name, tmp / name)
                if action in ("removed", "replaced") and (backup / name).exists():
                    os.replace(backup / name, out_path / name)
        raise


def digest_dir(path: str | os.PathLike[str]) -> dict[str, str]:
    """``{file name: sha256}`` of the files in a directory (to compare two builds)."""
    return {p.name: sha256_file(p) for p in sorted(Path(path).iterdir()) if p.is_file()}

