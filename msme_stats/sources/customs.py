"""Transaction-level customs files -> the canonical transaction frame.

:func:`load_transactions` reads customs declarations (CSV, Parquet files, hive-partitioned
Parquet folders, globs, lists of these, or a DataFrame), maps their columns to *roles* and
returns one canonical frame:

=============  ===========================================================================
column         content
=============  ===========================================================================
``trader``     trader (firm) id, categorical of strings
``period``     int year (``period="year"``), ``"YYYYQn"`` (quarter) or ``"YYYY-MM"`` (month),
               ordered categorical
``product``    HS6 code, 6-character string of digits (placeholders ``OT...`` kept as read),
               categorical
``partner``    partner country (destination of exports, origin of imports), upper-case string,
               categorical
``value``      transaction value, float64, >= 0
``quantity``   optional, float64 (missing kept as NaN)
``flow``       optional, categorical of strings
=============  ===========================================================================

Roles: ``trader``, ``date`` or ``year`` (or ``period`` for frames that already hold period
labels), ``product``, ``partner``, ``value``; optionally ``quantity`` and ``flow``. A preset
name (``roles="kcs"``, ``roles="edd"``) takes the mapping from
``msme_stats/reference/customs_roles.csv``.

HS codes with fewer than 6 digits (``short_hs``)
    HS codes have an even number of digits at every level (2, 4, 6, 8, 10). A code with an odd
    number of digits (for example ``10121`` for ``010121``) has lost its leading zero, as
    happens when a spreadsheet or CSV reader stores codes as numbers. ``short_hs="restore"``
    (default) puts the zero back and reports the count as a
    :class:`~msme_stats.errors.RecodeWarning`; codes longer than 6 digits are then cut to HS6
    (their first six digits). Codes that still have fewer than 6 digits (chapters or
    headings) cannot be placed in an HS6 product and raise
    :class:`~msme_stats.errors.InvalidValueError`; ``short_hs="drop"`` drops those rows and
    reports the count (:class:`~msme_stats.errors.ExclusionWarning`); ``short_hs="error"``
    also rejects odd-length codes instead of restoring them.

HS codes written as floats or with dots
    A code read as a number and written back as a float (``"10121.0"``, ``"847130.00"``:
    digits, a dot and zeros only) keeps its integer part, whose lost leading zero is then
    restored (``010121``); a code in HS dotted notation (``"0101.21"``, ``"0101.21.00"``: 2 or 4
    digits then groups of 2) loses its dots. Any other dot (``"1012.1"``, ``"10121.5"``) is
    ambiguous and raises :class:`~msme_stats.errors.InvalidValueError`. Numeric columns must
    hold whole numbers; codes are written with all their digits (never ``%g``).

Strictness
    CSV rows with more or fewer fields than the header, truncated or corrupt (compressed)
    files raise :class:`~msme_stats.errors.UnreadableFileError` naming the file and row;
    missing keys, unparseable dates (``2021-13``), years outside ``valid_years`` (``9999-12-31``),
    missing, infinite or negative values raise :class:`~msme_stats.errors.InvalidValueError`
    naming the file, column, count, first row and its cell.

Speed
    Every key column is coded once per distinct value (pyarrow dictionary encoding for files
    and string columns, integer offsets or :func:`pandas.factorize` for numbers); the distinct
    values are validated and normalised, and the rows get the result through their integer
    codes, so there is no per-row Python and integer codes are never turned into one string
    per row. Files are read with pyarrow (multithreaded CSV and Parquet readers).
"""

from __future__ import annotations

import glob
import os
import re
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._arrow import quiet_allocation, read_pool
from .._options import PeriodGrain, ShortHs, check_choice, choices
from ..errors import (
    EmptyInputError,
    ExclusionWarning,
    InputError,
    InvalidValueError,
    MissingColumnsError,
    OptionError,
    RecodeWarning,
    UnreadableFileError,
)

__all__ = [
    "load_transactions",
    "role_presets",
    "resolve_roles",
    "expand_source",
    "normalise_transactions",
    "CANONICAL_ROLES",
    "CANONICAL_COLUMNS",
]

ROLE_NAMES = ("trader", "date", "year", "period", "product", "partner", "value", "quantity", "flow")
REQUIRED_ROLES = ("trader", "product", "partner", "value")
PERIODS: tuple[str, ...] = choices(PeriodGrain)
CANONICAL_COLUMNS = ("trader", "period", "product", "partner", "value")
#: roles of a frame or Parquet folder that is already canonical
CANONICAL_ROLES: dict[str, str] = {c: c for c in CANONICAL_COLUMNS}

_REFERENCE = Path(__file__).resolve().parent.parent / "reference"
_CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv", ".csv.zip", ".csv.bz2", ".csv.xz")
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")
#: default ``valid_years`` of :func:`load_transactions`: transactions outside are refused
VALID_YEARS = (1900, 2100)
#: frames with at least this many rows code their key columns on several threads
PARALLEL_ROWS = 1_000_000


# --------------------------------------------------------------------------------------
# roles
# --------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _preset_table() -> pd.DataFrame:
    return pd.read_csv(_REFERENCE / "customs_roles.csv", dtype=str)


def role_presets() -> dict[str, dict[str, str]]:
    """Return the role presets of ``reference/customs_roles.csv`` as ``{preset: {role: column}}``.

    Returns
    -------
    dict
        ``{preset name: {role: column}}``, for example ``"kcs"`` (synthetic Korean import
        declarations) and ``"edd"`` (raw EDD extract variables).

    Raises
    ------
    OSError
        The bundled table ``reference/customs_roles.csv`` cannot be read (a broken install).

    Examples
    --------
    >>> role_presets()["edd"]
    {'trader': 'f', 'year': 'y', 'product': 'hs', 'partner': 'd', 'value': 'v'}
    """
    table = _preset_table()
    return {
        str(name): dict(zip(g["role"], g["column"], strict=True)) for name, g in table.groupby("preset")
    }


def resolve_roles(roles: str | Mapping[str, str]) -> dict[str, str]:
    """Validate a role mapping (or look up a preset name) and return ``{role: column}``.

    Parameters
    ----------
    roles
        A preset name of :func:`role_presets` or a mapping from role (``trader``, ``date``,
        ``year``, ``period``, ``product``, ``partner``, ``value``, ``quantity``, ``flow``) to
        column name.

    Returns
    -------
    dict
        ``{role: column}`` with string keys and values.

    Raises
    ------
    OptionError
        Unknown preset, unknown role name, missing required role, or neither ``date``,
        ``year`` nor ``period`` given.

    Examples
    --------
    >>> resolve_roles("kcs")["trader"]
    'Importer ID'
    >>> resolve_roles({"trader": "firm", "year": "y", "product": "hs", "partner": "d", "value": "v"})
    {'trader': 'firm', 'year': 'y', 'product': 'hs', 'partner': 'd', 'value': 'v'}
    """
    if isinstance(roles, str):
        presets = role_presets()
        name = check_choice("roles", roles, sorted(presets))
        mapping = dict(presets[name])
    elif isinstance(roles, Mapping):
        mapping = {str(k): str(v) for k, v in roles.items()}
    else:
        raise OptionError(
            f"roles={roles!r} is not allowed; pass a preset name ({', '.join(sorted(role_presets()))}) "
            "or a mapping from role to column, e.g. {'trader': 'Importer ID', ...}."
        )
    unknown = sorted(set(mapping) - set(ROLE_NAMES))
    if unknown:
        raise OptionError(
            f"roles: unknown role name(s) {', '.join(map(repr, unknown))}; the roles are "
            f"{', '.join(ROLE_NAMES)}."
        )
    missing = [r for r in REQUIRED_ROLES if r not in mapping]
    if missing:
        raise OptionError(
            f"roles: required role(s) {', '.join(map(repr, missing))} not given; map each to a "
            "column of the file."
        )
    time_roles = [r for r in ("date", "year", "period") if r in mapping]
    if len(time_roles) != 1:
        raise OptionError(
            "roles: give exactly one of 'date', 'year' or 'period' (got "
            f"{time_roles or 'none'})."
        )
    return mapping


# --------------------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------------------
def _is_dask_frame(obj: Any) -> bool:
    return hasattr(obj, "to_delayed") and hasattr(obj, "npartitions") and hasattr(obj, "map_partitions")


def expand_source(source: Any) -> list[tuple[str, Path]]:
    """Expand a source into ``[(kind, path)]`` with kind ``"csv"``, ``"parquet"`` or ``"dataset"``.

    Globs are sorted; a folder is a (possibly hive-partitioned) Parquet dataset.

    Parameters
    ----------
    source
        A path, a glob or a list of these (strings or :class:`pathlib.Path`).

    Returns
    -------
    list of (str, pathlib.Path)
        One entry per file or folder, in order (globs sorted).

    Raises
    ------
    OptionError
        A source of another type (a DataFrame is not a file source).
    EmptyInputError
        An empty list, or a glob that matches nothing.
    UnreadableFileError
        A missing or inaccessible path, or an unknown file type.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in ("b.csv", "a.csv.gz"):
    ...     _ = (folder / name).write_bytes(b"")
    >>> [(kind, p.name) for kind, p in expand_source(str(folder / "*.csv*"))]
    [('csv', 'a.csv.gz'), ('csv', 'b.csv')]
    """
    if isinstance(source, (str, Path)):
        items: Sequence[Any] = [source]
    elif isinstance(source, Iterable) and not isinstance(source, (pd.DataFrame, bytes, Mapping)) \
            and not _is_dask_frame(source):
        items = list(source)
    else:
        raise OptionError(
            f"source of type {type(source).__name__} is not supported; pass a path, a glob, a "
            "list of paths, a pandas DataFrame or a Dask DataFrame."
        )
    if not items:
        raise EmptyInputError("source is an empty list; pass at least one file.")
    out: list[tuple[str, Path]] = []
    for item in items:
        if not isinstance(item, (str, Path)):
            raise OptionError(
                f"source list item of type {type(item).__name__} is not supported; a list holds paths."
            )
        text = str(item)
        if any(ch in text for ch in "*?["):
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                raise EmptyInputError(f"{text}: the glob matched no file; check the pattern.")
            out.extend(_classify(Path(m)) for m in matches)
        else:
            out.append(_classify(Path(text)))
    return out


def _classify(path: Path) -> tuple[str, Path]:
    try:
        if path.is_dir():
            return "dataset", path
        exists = path.exists()
    except OSError as exc:  # name too long, symlink loop, permission
        raise UnreadableFileError(f"{path}: cannot be accessed ({exc.strerror or exc}).") from exc
    if not exists:
        raise UnreadableFileError(f"{path}: no such file or folder.")
    name = path.name.lower()
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet", path
    if name.endswith(_CSV_SUFFIXES):
        return "csv", path
    raise UnreadableFileError(
        f"{path}: unknown file type; use .csv (optionally compressed) or .parquet files, or a "
        "folder of Parquet files."
    )


def _check_columns(label: str, have: Iterable[str], need: Iterable[str]) -> None:
    have = set(have)
    missing = [c for c in need if c not in have]
    if missing:
        raise MissingColumnsError(
            f"{label}: column(s) {', '.join(map(repr, missing))} not found; the file has "
            f"{', '.join(map(repr, sorted(have)))}. Fix the roles mapping."
        )


def _dataset_files(path: Path) -> list[Path]:
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(_PARQUET_SUFFIXES))
    if not files:
        raise EmptyInputError(f"{path}: the folder holds no Parquet file.")
    return files


def _partition_keys(path: Path, base: Path | None) -> dict[str, Any]:
    """Hive partition keys (``period=2001``) of the folders between ``base`` and the file."""
    keys: dict[str, Any] = {}
    parts = path.parent.relative_to(base).parts if base is not None else ()
    for part in parts:
        if "=" in part:
            key, _, val = part.partition("=")
            keys[key] = int(val) if val.isdigit() and not (len(val) > 1 and val[0] == "0") else val
    return keys


# --- readers: every reader returns {column: pyarrow.ChunkedArray or pandas.Series} ----
def _read_parquet(path: Path, columns: list[str], string_cols: list[str], *, base: Path | None = None,
                  row_groups: list[int] | None = None) -> tuple[dict[str, Any], int]:
    """Read the needed columns of one Parquet file (string columns dictionary-encoded)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    label = str(path)
    try:
        pf = pq.ParquetFile(path)
        schema = pf.schema_arrow
        names = schema.names
        dict_cols = [c for c in string_cols if c in names
                     and (pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type))]
        if dict_cols:
            pf = pq.ParquetFile(path, read_dictionary=dict_cols)
        keys = {k: v for k, v in _partition_keys(path, base).items() if k not in names}
        _check_columns(label, list(names) + list(keys), columns)
        present = [c for c in columns if c in names]
        if row_groups is None:
            # the dataset reader decodes row groups and columns in parallel (ParquetFile.read
            # took 2-3x as long on a 10M-row file of one-million-row groups), into the
            # package's read pool (msme_stats._arrow: huge-page stalls of the default pool)
            import pyarrow.dataset as ds

            fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=dict_cols))
            table = ds.dataset(str(path), format=fmt).to_table(columns=present, memory_pool=read_pool())
        else:
            table = pf.read_row_groups(row_groups, columns=present)
    except (MissingColumnsError, EmptyInputError):
        raise
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise UnreadableFileError(f"{label}: cannot be read as Parquet ({exc}).") from exc
    n = table.num_rows
    out: dict[str, Any] = {c: table.column(c) for c in present}
    for k, v in keys.items():
        if k in columns:
            out[k] = pa.chunked_array([pa.DictionaryArray.from_arrays(
                pa.array(np.zeros(n, dtype=np.int32)), pa.array([v]))])
    return out, n


_BAD_FIELDS = re.compile(r"Expected (\d+) columns, got (\d+)")


def _open_text(path: Path) -> Any:
    import bz2
    import gzip
    import io
    import lzma
    import zipfile

    name = path.name.lower()
    if name.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path), encoding="utf-8", newline="")
    if name.endswith(".bz2"):
        return io.TextIOWrapper(bz2.open(path), encoding="utf-8", newline="")
    if name.endswith(".xz"):
        return io.TextIOWrapper(lzma.open(path), encoding="utf-8", newline="")
    if name.endswith(".zip"):
        zf = zipfile.ZipFile(path)
        return io.TextIOWrapper(zf.open(zf.namelist()[0]), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def _bad_row(path: Path, sep: str) -> tuple[int, int, int] | None:
    """First data row whose number of fields differs from the header's: (row, fields, header)."""
    import csv

    with _open_text(path) as fh:
        reader = csv.reader(fh, delimiter=sep)
        header = next(reader, [])
        for i, row in enumerate(reader, start=1):
            if row and len(row) != len(header):
                return i, len(row), len(header)
    return None


def _field_count_error(path: Path, sep: str, detail: str) -> UnreadableFileError:
    try:
        found = _bad_row(path, sep)
    except (OSError, EOFError, UnicodeDecodeError, ValueError):
        found = None
    if found is None:
        return UnreadableFileError(f"{path}: malformed CSV ({detail}). Fix the file (every row needs as "
                                   "many fields as the header).")
    row, got, want = found
    return UnreadableFileError(
        f"{path}: data row {row} (1-based, header excluded) has {got} fields but the header has {want}; "
        "the row would be shifted into the wrong columns. Fix the row (quote fields holding the "
        "delimiter) or drop it."
    )


_ARROW_CSV_SUFFIXES = (".csv", ".txt", ".tsv", ".csv.gz", ".csv.bz2")


def _read_csv(path: Path, columns: list[str], string_cols: list[str]) -> tuple[dict[str, Any], int]:
    """Read the needed columns of a CSV file, checking every row's number of fields.

    pyarrow's multithreaded reader is used for plain, gzip and bzip2 files (string columns
    read dictionary-encoded); a cell it cannot convert (or a zip/xz file) is read again with
    pandas, without ``usecols=`` (which would switch off pandas' field-count check), so that
    the validation names the cell.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    label = str(path)
    name = path.name.lower()
    sep = "\t" if name.endswith((".tsv", ".tsv.gz")) else ","
    try:
        header = pd.read_csv(path, nrows=0, sep=sep).columns
    except pd.errors.EmptyDataError as exc:
        raise EmptyInputError(f"{label}: the file is empty.") from exc
    except (OSError, EOFError, ValueError, UnicodeDecodeError) as exc:
        raise UnreadableFileError(f"{label}: cannot be read ({exc}).") from exc
    _check_columns(label, header, columns)
    if name.endswith(_ARROW_CSV_SUFFIXES):
        dict_type = pa.dictionary(pa.int32(), pa.string())
        types = {c: (dict_type if c in string_cols else pa.float64()) for c in columns}
        try:
            table = pacsv.read_csv(
                path,
                memory_pool=read_pool(),
                parse_options=pacsv.ParseOptions(delimiter=sep),
                convert_options=pacsv.ConvertOptions(
                    include_columns=columns, column_types=types, null_values=[""],
                    strings_can_be_null=True, quoted_strings_can_be_null=True,
                ),
            )
            return {c: table.column(c) for c in columns}, table.num_rows
        except pa.ArrowInvalid as exc:
            if _BAD_FIELDS.search(str(exc)):
                raise _field_count_error(path, sep, str(exc)) from exc
        except (OSError, pa.ArrowException) as exc:  # truncated or corrupt compressed file
            raise UnreadableFileError(f"{label}: cannot be read; the file is truncated or corrupt ({exc}). "
                                      "Download or decompress it again.") from exc
    # cells pyarrow cannot convert, or zip/xz: pandas, every column, field counts checked
    try:
        frame = pd.read_csv(path, sep=sep, dtype={c: str for c in string_cols}, keep_default_na=False,
                            na_values=[""], index_col=False)
    except pd.errors.EmptyDataError as exc:
        raise EmptyInputError(f"{label}: the file is empty.") from exc
    except pd.errors.ParserError as exc:
        raise _field_count_error(path, sep, str(exc)) from exc
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"{label}: is not UTF-8 text ({exc.reason} at byte {exc.start}); save it "
                                  "as UTF-8 and load it again.") from exc
    except (OSError, EOFError, ValueError) as exc:
        raise UnreadableFileError(f"{label}: cannot be read; the file is truncated or corrupt ({exc}).") from exc
    if len(frame.columns) != len(header):
        raise _field_count_error(path, sep, "rows have more fields than the header")
    return {c: frame[c] for c in columns}, len(frame)


# --------------------------------------------------------------------------------------
# per-distinct-value coding
# --------------------------------------------------------------------------------------
#: rows per block of :func:`_bincount`
_BINCOUNT_ROWS = 1 << 20


def _bincount(codes: np.ndarray, n: int) -> np.ndarray:
    """``numpy.bincount(codes, minlength=n)`` as int64, block by block: bincount converts its
    input to intp, so int32 codes of 10M rows would otherwise make an 80 MB temporary."""
    if len(codes) <= _BINCOUNT_ROWS:
        return np.bincount(codes, minlength=n).astype(np.int64, copy=False)
    out = np.zeros(n, dtype=np.int64)
    for lo in range(0, len(codes), _BINCOUNT_ROWS):
        out += np.bincount(codes[lo : lo + _BINCOUNT_ROWS], minlength=n)
    return out


def _encode_int(v: np.ndarray) -> tuple[np.ndarray, pd.Index, np.ndarray | None]:
    """Codes of an integer array: offsets when the range is dense, else a hash (no Python loop).

    Returns the codes, the distinct values and the rows per value (None when not counted).
    """
    if v.size == 0:
        return np.zeros(0, dtype=np.int32), pd.Index(np.zeros(0, dtype=np.int64)), np.zeros(0, dtype=np.int64)
    lo, hi = int(v.min()), int(v.max())
    span = hi - lo + 1
    if span <= max(4 * v.size, 1 << 16) and span <= 1 << 27:
        off = np.subtract(v, lo, dtype=np.int32 if v.dtype.itemsize <= 8 else np.int64)
        counts = _bincount(off, span)
        used = counts > 0
        if used.all():  # every value in the range occurs: the offsets are the codes
            return off, pd.Index(np.arange(lo, hi + 1, dtype=np.int64)), counts
        remap = (np.cumsum(used) - 1).astype(np.int32)
        return remap[off], pd.Index(np.flatnonzero(used).astype(np.int64) + lo), counts[used]
    codes, uniques = pd.factorize(v)
    return codes, pd.Index(uniques), None
def _encode_int_chunks(arr: Any) -> tuple[np.ndarray, pd.Index, np.ndarray | None]:
    """:func:`_encode_int` of a pyarrow integer column without nulls, chunk by chunk.

    The offsets are written straight into one int32 array (no int64 copy of the column is
    made); a sparse range falls back to :func:`_encode_int` on the whole column.
    """
    import pyarrow.compute as pc

    n = len(arr)
    if n == 0:
        return _encode_int(np.zeros(0, dtype=np.int64))
    bounds = pc.min_max(arr)
    lo, hi = int(bounds["min"].as_py()), int(bounds["max"].as_py())
    span = hi - lo + 1
    if not (span <= max(4 * n, 1 << 16) and span <= 1 << 27):
        return _encode_int(arr.to_numpy())
    off = np.empty(n, dtype=np.int32)
    counts = np.zeros(span, dtype=np.int64)
    pos = 0
    for chunk in arr.chunks:
        seg = off[pos : pos + len(chunk)]
        np.subtract(chunk.to_numpy(), lo, out=seg, casting="unsafe")
        counts += _bincount(seg, span)
        pos += len(chunk)
    used = counts > 0
    if used.all():  # every value in the range occurs: the offsets are the codes
        return off, pd.Index(np.arange(lo, hi + 1, dtype=np.int64)), counts
    remap = (np.cumsum(used) - 1).astype(np.int32)
    for start in range(0, n, _BINCOUNT_ROWS):  # in place: each code depends on its own offset only
        seg = off[start : start + _BINCOUNT_ROWS]
        seg[:] = remap[seg]
    return off, pd.Index(np.flatnonzero(used).astype(np.int64) + lo), counts[used]


def _signed(indices: Any) -> Any:
    """Dictionary indices as a signed type (DuckDB, for one, exports unsigned ones), so that -1
    can mark a missing value."""
    import pyarrow as pa

    if pa.types.is_unsigned_integer(indices.type):
        return indices.cast(pa.int64() if indices.type.bit_width >= 32 else pa.int32())
    return indices


def _encode_arrow(arr: Any) -> tuple[np.ndarray, pd.Index, np.ndarray | None]:
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(arr, pa.Array):
        arr = pa.chunked_array([arr])
    if arr.num_chunks == 0:
        arr = pa.chunked_array([pa.array([], type=arr.type)])
    t = arr.type
    if pa.types.is_integer(t) and arr.null_count == 0:
        return _encode_int_chunks(arr)
    if not pa.types.is_dictionary(t):
        arr = pc.dictionary_encode(arr)
    arr = pa.table({"x": arr}).unify_dictionaries().column(0)
    dictionary = arr.chunk(0).dictionary if arr.num_chunks else pa.array([], type=arr.type.value_type)
    parts = [pc.fill_null(_signed(c.indices), -1).to_numpy(zero_copy_only=False) for c in arr.chunks]
    codes = np.concatenate(parts) if len(parts) > 1 else (parts[0] if parts else np.zeros(0, dtype=np.int32))
    return codes, pd.Index(dictionary.to_pandas()), None


def _encode(col: Any) -> tuple[np.ndarray, pd.Index, np.ndarray | None]:
    """Integer codes (-1 for missing) and distinct values of one column (arrow or pandas)."""
    import pyarrow as pa

    if isinstance(col, (pa.ChunkedArray, pa.Array)):
        return _encode_arrow(col)
    dt = col.dtype
    if isinstance(dt, pd.CategoricalDtype):
        return col.cat.codes.to_numpy(), pd.Index(col.cat.categories), None
    if isinstance(dt, np.dtype) and dt.kind in "iu":
        return _encode_int(col.to_numpy())
    if isinstance(dt, (pd.ArrowDtype, pd.StringDtype)) or (
            isinstance(dt, pd.api.extensions.ExtensionDtype) and dt.kind in "iuf"):
        try:
            arrow = col.array.__arrow_array__()  # zero-copy for pyarrow-backed and masked arrays
            return _encode_arrow(arrow if isinstance(arrow, pa.ChunkedArray) else pa.chunked_array([arrow]))
        except (pa.ArrowException, TypeError, AttributeError):
            pass
    codes, uniques = pd.factorize(col)
    return codes, pd.Index(uniques), None


def _cell(raw: Any, i: int) -> Any:
    import pyarrow as pa

    if isinstance(raw, (pa.ChunkedArray, pa.Array)):
        return raw[i].as_py()
    cell = raw.iloc[i]
    return cell.item() if isinstance(cell, np.generic) else cell


class _Col:
    """One role column coded per distinct value: ``codes`` index ``uniques`` (-1 missing)."""

    def __init__(self, raw: Any, role: str, column: str, label: str) -> None:
        self.raw, self.role, self.column, self.label = raw, role, column, label
        self.codes, self.uniques, rows = _encode(raw)
        self.n_missing = int(np.count_nonzero(self.codes < 0)) if rows is None else 0
        self._has_missing = self.n_missing > 0
        self._rows = rows
        self._used: np.ndarray | None = None

    @classmethod
    def of_distinct(cls, uniques: pd.Index, rows: np.ndarray, role: str, column: str, label: str) -> _Col:
        """The column of ``uniques`` (distinct, none missing), each its own code, with ``rows``
        source rows each: what ``_Col(pd.Series(uniques), ...)`` gives up to the order of the
        codes, without hashing the values again (the DuckDB engine's distinct keys)."""
        self = cls.__new__(cls)
        self.raw, self.role, self.column, self.label = pd.Series(uniques), role, column, label
        self.codes, self.uniques = np.arange(len(uniques), dtype=np.int32), uniques
        self.n_missing, self._has_missing, self._used = 0, False, None
        self._rows = np.asarray(rows, dtype=np.int64)
        return self

    @property
    def rows(self) -> np.ndarray:
        """Number of rows of each distinct value (counted on first use)."""
        if self._rows is None:
            c = self.codes[self.codes >= 0] if self._has_missing else self.codes
            self._rows = _bincount(c, len(self.uniques))
        return self._rows

    @property
    def used(self) -> np.ndarray:
        """Distinct values that occur in a row (categories or dictionaries may hold others)."""
        if self._used is None:
            self._used = self.rows > 0
        return self._used

    def hits(self, umask: Any) -> bool:
        """Whether a value flagged in ``umask`` occurs in a row (counts rows only when needed)."""
        umask = np.asarray(umask, dtype=bool)
        return bool(umask.any()) and bool((umask & self.used).any())

    def row_mask(self, umask: np.ndarray, *, missing: bool = False) -> np.ndarray:
        """Row mask from a mask on the distinct values (missing rows -> ``missing``)."""
        ext = np.append(np.asarray(umask, dtype=bool), missing)
        return ext[self.codes]

    def error(self, umask: np.ndarray | None, what: str, todo: str, *, missing: bool = False,
              cls: type[InputError] = InvalidValueError) -> InputError:
        """Typed error naming the file, column, count, first row and its cell."""
        if umask is None:
            umask = np.zeros(len(self.uniques), dtype=bool)
        umask = np.asarray(umask, dtype=bool) & self.used
        rows = self.row_mask(umask, missing=missing)
        n = int(np.count_nonzero(rows))
        first = int(np.argmax(rows))
        cell = _cell(self.raw, first)
        return cls(
            f"{self.label}: column {self.column!r} (role {self.role}) has {n} {what} value(s); first "
            f"at data row {first + 1} (1-based, header excluded): {cell!r}. {todo}"
        )

    def text(self) -> pd.Series:
        """The distinct values as stripped strings (integral floats written as integers)."""
        import pyarrow as pa

        u = self.uniques
        if isinstance(u.dtype, pd.StringDtype):  # text: every distinct value is a str, only stripped
            return pd.Series(u, dtype="str").str.strip().reset_index(drop=True)
        if isinstance(u.dtype, np.dtype) and u.dtype.kind == "i":  # signed integers: Arrow writes the digits
            text = pa.array(u.to_numpy(), type=pa.int64()).cast(pa.string())
            return pd.Series(text.to_pandas(types_mapper={pa.string(): pd.StringDtype(na_value=np.nan)}.get))
        if pd.api.types.is_bool_dtype(u.dtype):
            raise self.error(np.ones(len(u), dtype=bool), "boolean", "Codes must be text or integers.")
        if pd.api.types.is_float_dtype(u.dtype):
            vals = u.to_numpy(dtype="float64", na_value=np.nan)
            bad = ~np.isfinite(vals) | (np.mod(vals, 1) != 0)
            if self.hits(bad):
                raise self.error(bad, "non-integer", "Codes stored as numbers must be whole numbers.")
            vals = np.where(bad, 0, vals)
            if np.abs(vals).max(initial=0) >= 2**53:
                raise self.error(np.abs(vals) >= 2**53, "too large to be exact as a float",
                                 "Read the column as text.")
            return pd.Series(vals.astype(np.int64).astype(str), dtype="str")
        if pd.api.types.is_integer_dtype(u.dtype):
            return pd.Series(u.astype("int64").astype(str), dtype="str")
        if pd.api.types.is_string_dtype(u.dtype) or u.dtype == object:
            s = pd.Series(u, dtype=object)
            nonstr = ~s.map(lambda x: isinstance(x, str)).to_numpy(dtype=bool)
            if nonstr.any():  # mixed objects: numbers written as numbers, others as text
                s = s.map(_object_text)
            return pd.Series(s, dtype="str").str.strip()
        raise self.error(np.ones(len(u), dtype=bool), f"{u.dtype}-typed",
                         "Codes must be text or integers.")


def _object_text(x: Any) -> Any:
    if isinstance(x, float) and np.isfinite(x) and x == int(x):
        return str(int(x))
    if isinstance(x, (bool, np.bool_)):
        return None
    return x if isinstance(x, str) else (None if x is None or (isinstance(x, float) and np.isnan(x)) else str(x))


def _categorical(col: _Col, labels: Any, keep: np.ndarray | None = None, *, ordered: bool = False) -> pd.Categorical:
    """Categorical of the rows from new labels per distinct value (equal labels merged, sorted).

    Categories are sorted as text, except for integer codes coded by value (ascending): they
    keep their numeric order, so the row codes need no remapping.
    """
    labels = pd.Series(labels)
    sel = np.flatnonzero(col.used)
    remap = np.full(len(col.uniques) + 1, -1, dtype=np.int32)
    numeric = pd.api.types.is_integer_dtype(col.uniques.dtype) and col.uniques.is_monotonic_increasing
    inv, cats = pd.factorize(labels.iloc[sel], sort=not numeric)
    remap[sel] = inv
    if len(sel) == len(col.uniques) and np.array_equal(inv, np.arange(len(inv))):
        codes = col.codes  # labels already distinct and sorted: the codes stand
    else:
        codes = remap[col.codes]  # indexing, not take: take copies int32 codes to intp first
    if keep is not None:
        codes = codes[keep]
    return pd.Categorical.from_codes(codes, categories=pd.Index(cats, dtype=labels.dtype),
                                     ordered=ordered, validate=False)


def _required(col: _Col, text: pd.Series, what: str) -> None:
    if not col.n_missing and isinstance(col.uniques.dtype, np.dtype) and col.uniques.dtype.kind in "iu":
        return  # every integer writes digits: no empty text to look for
    empty = (text == "").to_numpy() | text.isna().to_numpy()
    if col.n_missing or col.hits(empty):
        raise col.error(empty, "missing", f"Every row needs {what}; fill or drop those rows first.", missing=True)


# --------------------------------------------------------------------------------------
# HS codes
# --------------------------------------------------------------------------------------
_HS_DOTTED = r"(?:\d{2}|\d{4})(?:\.\d{2})+"   # HS notation: 0101.21, 0101.21.00, 01.01.21
_HS_FLOAT = r"\d+\.0+"                         # a number written as a float: 10121.0, 847130.00


def _hs6_clean(s: pd.Series, short_hs: str) -> tuple[pd.Series, dict[str, Any]]:
    """Normalise distinct HS strings; return codes and masks of odd/short/bad/float codes.

    ``s`` holds distinct values (not rows). A code written as a float (``10121.0``: a number
    read as a float and written back) keeps its integer part (then its lost leading zero is
    restored); a code in HS dotted notation (``0101.21``) loses its dots; any other dot is
    ambiguous and reported as ``bad``.
    """
    s = s.str.strip().str.replace(r"\s+", "", regex=True)
    missing = (s == "").to_numpy() | s.isna().to_numpy()
    s = s.fillna("")
    has_dot = s.str.contains(".", regex=False).to_numpy(dtype=bool, na_value=False)
    floaty = np.zeros(len(s), dtype=bool)
    if has_dot.any():
        dotted = s.str.fullmatch(_HS_DOTTED).to_numpy(dtype=bool, na_value=False)
        floaty = has_dot & ~dotted & s.str.fullmatch(_HS_FLOAT).to_numpy(dtype=bool, na_value=False)
        s = s.where(~dotted, s.str.replace(".", "", regex=False))
        s = s.where(~floaty, s.str.replace(r"\.0+$", "", regex=True))
    placeholder = s.str.upper().str.startswith("OT").to_numpy(dtype=bool)
    digits = s.str.fullmatch(r"\d+").to_numpy(dtype=bool, na_value=False)
    bad = ~digits & ~placeholder & ~missing
    length = s.str.len().to_numpy()
    odd = digits & (length % 2 == 1)
    if short_hs != "error":
        s = s.where(~odd, "0" + s)
        length = length + odd
    short = digits & (length < 6)
    s = s.where(placeholder | (length <= 6), s.str.slice(0, 6))
    return s, {"missing": missing, "bad": bad, "odd": odd, "short": short, "float": floaty}


def _hs6(col: _Col, short_hs: str) -> tuple[pd.Series, int, np.ndarray]:
    """HS6 labels per distinct value, rows whose zero was restored, mask of values to drop."""
    text = col.text()
    if pd.api.types.is_numeric_dtype(col.uniques.dtype) and not pd.api.types.is_bool_dtype(col.uniques.dtype):
        neg = text.str.startswith("-").to_numpy(dtype=bool)
        if col.hits(neg):
            raise col.error(neg, "negative", "Product codes must be HS codes.")
    s, m = _hs6_clean(text, short_hs)
    if col.n_missing or col.hits(m["missing"]):
        raise col.error(m["missing"], "missing", "Every row needs an HS code.", missing=True)
    if col.hits(m["bad"]):
        raise col.error(m["bad"], "non-numeric or malformed", "HS codes are digits; dots are allowed only in HS notation "
                        "(0101.21) or after a number written as a float (10121.0).")
    if short_hs == "error" and col.hits(m["odd"]):
        raise col.error(m["odd"], "odd-length (leading zero lost?)",
                        "Pass short_hs='restore' to put the leading zero back.")
    drop = m["short"] & col.used if m["short"].any() else m["short"]
    if drop.any() and short_hs != "drop":
        raise col.error(m["short"], "shorter than 6 digits (chapter or heading)",
                        "They cannot be placed in an HS6 product; pass short_hs='drop' to drop them.")
    n_restored = int(col.rows[m["odd"]].sum()) if m["odd"].any() else 0
    return s, n_restored, drop


# --------------------------------------------------------------------------------------
# periods
# --------------------------------------------------------------------------------------
_PERIOD_RE = r"(\d{4})(?:Q[1-4]|-(?:0[1-9]|1[0-2]))?"


def _check_years(col: _Col, years: np.ndarray, valid_years: tuple[int, int], what: str) -> None:
    lo, hi = valid_years
    out = (years < lo) | (years > hi)
    if col.hits(out):
        raise col.error(out, f"out-of-range {what}",
                        f"Years must lie within valid_years={valid_years}; fix the cells (placeholder "
                        "dates such as 9999-12-31 are not transactions) or widen valid_years.")


def _period_from_dates(col: _Col, period: str, date_format: str | None,
                       valid_years: tuple[int, int]) -> pd.Series:
    u = col.uniques
    if isinstance(u, pd.DatetimeIndex) or pd.api.types.is_datetime64_any_dtype(u.dtype):
        dates = pd.DatetimeIndex(u)
        if dates.tz is not None:
            dates = dates.tz_localize(None)
    else:
        text = pd.Series(u, dtype=object).map(lambda x: x if isinstance(x, str) else str(x)).str.strip()
        try:
            dates = pd.DatetimeIndex(pd.to_datetime(text, format=date_format, errors="coerce"))
        except (ValueError, TypeError) as exc:
            raise OptionError(f"date_format={date_format!r} cannot be used: {exc}") from exc
    bad = np.asarray(dates.isna(), dtype=bool)
    if col.n_missing or col.hits(bad):
        raise col.error(bad, "missing or unparseable",
                        f"Dates must follow date_format={date_format!r}; fix the cells or pass date_format.",
                        missing=True)
    years = np.where(bad, valid_years[0], dates.year)
    _check_years(col, years, valid_years, "date")
    if period == "year":
        return pd.Series(years.astype(np.int64))
    if period == "quarter":
        return pd.Series([f"{y}Q{q}" for y, q in zip(years, np.where(bad, 1, dates.quarter), strict=True)],
                         dtype="str")
    return pd.Series([f"{y}-{m:02d}" for y, m in zip(years, np.where(bad, 1, dates.month), strict=True)],
                     dtype="str")


def _years(col: _Col, valid_years: tuple[int, int]) -> pd.Series:
    u = col.uniques
    vals = pd.to_numeric(pd.Series(u, dtype=object if not pd.api.types.is_numeric_dtype(u.dtype) else u.dtype),
                         errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    bad = ~np.isfinite(vals) | (np.mod(np.nan_to_num(vals), 1) != 0)
    if col.n_missing or col.hits(bad):
        raise col.error(bad, "missing or non-integer", "Years must be integers such as 2008.", missing=True)
    years = np.where(bad, valid_years[0], vals).astype(np.int64)
    _check_years(col, years, valid_years, "year")
    return pd.Series(years)


def _period_labels(col: _Col, valid_years: tuple[int, int]) -> pd.Series:
    u = col.uniques
    if pd.api.types.is_integer_dtype(u.dtype):
        text = pd.Series(u.astype("int64").astype(str), dtype="str")
    else:
        text = col.text() if not pd.api.types.is_float_dtype(u.dtype) else col.text()
    ok = text.str.fullmatch(_PERIOD_RE).to_numpy(dtype=bool, na_value=False)
    if col.n_missing or col.hits(~ok):
        raise col.error(~ok, "malformed period",
                        "Period labels are years (2008), quarters (2008Q1) or months (2008-01).", missing=True)
    years = np.where(ok, pd.to_numeric(text.str.slice(0, 4), errors="coerce").fillna(0), 0).astype(np.int64)
    _check_years(col, np.where(ok, years, valid_years[0]), valid_years, "period")
    lengths = text.str.len()
    if len(lengths) and (lengths.eq(4).all() or lengths[col.used].eq(4).all()):
        return pd.Series(np.where(ok, years, 0).astype(np.int64))
    return text


def _period_column(col: _Col, labels: pd.Series, keep: np.ndarray | None) -> Any:
    if pd.api.types.is_integer_dtype(labels.dtype):
        import pyarrow as pa

        raw = col.raw
        same = np.array_equal(labels.to_numpy(), col.uniques.to_numpy())
        # integer years as given: no gather through the codes (a view of the input is copied
        # once, by _frame_of_columns; a multi-chunk arrow column is already a new array)
        if same and isinstance(raw, pd.Series) and raw.dtype == np.int64:
            arr = raw.to_numpy()
        elif same and isinstance(raw, pa.ChunkedArray) and pa.types.is_int64(raw.type) and raw.null_count == 0:
            arr = _arrow_numpy(raw)
        else:
            arr = np.append(labels.to_numpy(dtype=np.int64), 0)[col.codes]
        return arr if keep is None else arr[keep]
    return _categorical(col, labels, keep, ordered=True)


# --------------------------------------------------------------------------------------
# numbers
# --------------------------------------------------------------------------------------
def _arrow_numpy(arr: Any) -> np.ndarray:
    """numpy values of a pyarrow array without nulls; several chunks give one new array that
    owns its memory (``base`` None), so :func:`_frame_of_columns` need not copy it again."""
    import pyarrow as pa

    if isinstance(arr, pa.ChunkedArray) and arr.num_chunks > 1:
        return np.concatenate([c.to_numpy(zero_copy_only=False) for c in arr.chunks])
    return np.asarray(arr.to_numpy(zero_copy_only=False))


def _numbers(raw: Any) -> np.ndarray:
    """float64 values of a column (NaN where missing or not a number)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(raw, (pa.ChunkedArray, pa.Array)):
        t = raw.type
        if pa.types.is_dictionary(t):
            raw = raw.cast(t.value_type) if isinstance(raw, pa.Array) else pa.chunked_array(
                [c.dictionary_decode() for c in raw.chunks], type=t.value_type)
            t = raw.type
        if pa.types.is_floating(t) or pa.types.is_integer(t) or pa.types.is_decimal(t):
            arr = pc.cast(raw, pa.float64()) if not pa.types.is_float64(t) else raw
            return np.asarray(_arrow_numpy(arr), dtype=np.float64) if raw.null_count == 0 \
                else pc.fill_null(arr, np.nan).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
        raw = raw.to_pandas()
    if pd.api.types.is_bool_dtype(raw.dtype):
        return np.full(len(raw), np.nan)
    if pd.api.types.is_numeric_dtype(raw.dtype):
        return raw.to_numpy(dtype="float64", na_value=np.nan)
    return pd.to_numeric(raw, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _number_error(raw: Any, mask: np.ndarray, label: str, role: str, column: str, what: str,
                  todo: str) -> InvalidValueError:
    n = int(np.count_nonzero(mask))
    first = int(np.argmax(mask))
    return InvalidValueError(
        f"{label}: column {column!r} (role {role}) has {n} {what} value(s); first at data row "
        f"{first + 1} (1-based, header excluded): {_cell(raw, first)!r}. {todo}"
    )


def _is_null(raw: Any) -> np.ndarray:
    import pyarrow as pa

    if isinstance(raw, (pa.ChunkedArray, pa.Array)):
        return np.asarray(raw.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    return raw.isna().to_numpy()


# --------------------------------------------------------------------------------------
# normalisation (one frame or one file; used per file and per Dask partition)
# --------------------------------------------------------------------------------------
def _frame_columns(frame: Any, roles: Mapping[str, str], label: str) -> tuple[Mapping[str, Any], int]:
    """Columns of a DataFrame, pyarrow Table or mapping by name, and the number of rows
    (the mapped columns must exist: :class:`MissingColumnsError` otherwise)."""
    import pyarrow as pa

    columns: Mapping[str, Any]
    if isinstance(frame, pa.Table):
        columns = {c: frame.column(c) for c in frame.column_names}
        n_rows = frame.num_rows
    else:
        columns = frame
        n_rows = len(frame) if not isinstance(frame, Mapping) else len(next(iter(frame.values()), []))
    names = list(columns.columns) if isinstance(columns, pd.DataFrame) else list(columns)
    _check_columns(label, names, list(dict.fromkeys(roles.values())))
    return columns, n_rows


class _KeyColumns:
    """The key role columns coded per distinct value (:class:`_Col`), on demand.

    Large frames (``PARALLEL_ROWS`` rows or more) code every key column at once, one column
    per thread (numpy and pyarrow release the GIL); otherwise each column is coded when first
    asked for, so errors come in the order the roles are checked.
    """

    def __init__(self, columns: Mapping[str, Any], roles: Mapping[str, str], label: str, n_rows: int) -> None:
        self.columns, self.roles, self.label = columns, roles, label
        self.cols: dict[str, _Col] = {}
        key_roles = [r for r in ("product", "trader", "date", "year", "period", "partner", "flow") if r in roles]
        if n_rows >= PARALLEL_ROWS and len(key_roles) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(min(os.cpu_count() or 1, len(key_roles), 8)) as pool:
                futures = {r: pool.submit(_Col, columns[roles[r]], r, roles[r], label) for r in key_roles}
                self.cols.update({r: f.result() for r, f in futures.items()})

    def __call__(self, role: str) -> _Col:
        """The coded column of ``role``."""
        if role not in self.cols:
            self.cols[role] = _Col(self.columns[self.roles[role]], role, self.roles[role], self.label)
        return self.cols[role]


def _period_out(coded: _KeyColumns, roles: Mapping[str, str], period: str, date_format: str | None,
                valid_years: tuple[int, int], label: str, keep: np.ndarray | None) -> Any:
    """The canonical ``period`` column from the ``date``, ``year`` or ``period`` role."""
    if "date" in roles:
        col = coded("date")
        return _period_column(col, _period_from_dates(col, period, date_format, valid_years), keep)
    if "year" in roles:
        if period != "year":
            raise OptionError(f"period={period!r} needs a date role; {label} gives only a year (role 'year').")
        return _period_column(coded("year"), _years(coded("year"), valid_years), keep)
    return _period_column(coded("period"), _period_labels(coded("period"), valid_years), keep)


def _value_out(columns: Mapping[str, Any], roles: Mapping[str, str], label: str,
               keep: np.ndarray | None) -> np.ndarray:
    """The ``value`` column as float64; missing, infinite or negative values raise."""
    vcol = roles["value"]
    raw = columns[vcol]
    value = _numbers(raw)
    bad = ~np.isfinite(value)
    if bad.any():
        raise _number_error(raw, bad, label, "value", vcol, "missing, non-numeric or infinite",
                            "Values must be finite numbers.")
    neg = value < 0
    if neg.any():
        raise _number_error(raw, neg, label, "value", vcol, "negative",
                            "Export values must be >= 0; net out corrections or drop those rows first.")
    return value if keep is None else value[keep]


def _quantity_out(columns: Mapping[str, Any], roles: Mapping[str, str], label: str,
                  keep: np.ndarray | None) -> np.ndarray:
    """The optional ``quantity`` column as float64 (missing kept as NaN; others must be >= 0)."""
    qcol = roles["quantity"]
    qraw = columns[qcol]
    q = _numbers(qraw)
    unparsed = np.isnan(q) & ~_is_null(qraw)
    if unparsed.any():
        raise _number_error(qraw, unparsed, label, "quantity", qcol, "non-numeric", "Quantities must be numbers.")
    badq = np.isinf(q) | (q < 0)
    if badq.any():
        raise _number_error(qraw, badq, label, "quantity", qcol, "negative or infinite",
                            "Quantities must be finite and >= 0.")
    return q if keep is None else q[keep]


def _frame_of_columns(out: dict[str, Any]) -> pd.DataFrame:
    """One block per column (no consolidation copy); arrays that may view the input are copied."""
    for k in ("value", "quantity", "period"):
        a = out.get(k)
        if isinstance(a, np.ndarray) and (a.base is not None or not a.flags.writeable):
            out[k] = a.copy()
    return pd.DataFrame({k: pd.Series(v, copy=False) for k, v in out.items()}, copy=False)


def normalise_transactions(
    frame: Any,
    roles: Mapping[str, str],
    *,
    period: str = "year",
    label: str = "<DataFrame>",
    short_hs: str = "restore",
    date_format: str | None = "ISO8601",
    valid_years: tuple[int, int] = VALID_YEARS,
    warn: bool = True,
) -> pd.DataFrame:
    """Map one raw frame to the canonical columns, validating every role column.

    Every key column (trader, date/year/period, product, partner) is coded once per distinct
    value (:func:`pandas.factorize`, pyarrow dictionary encoding, or integer offsets); the
    distinct values are validated and normalised and the result is mapped back to the rows
    through the integer codes, so no per-row Python runs and integer inputs stay integer.
    The frame is not modified. :func:`load_transactions` calls it once per file (or Dask
    partition) after checking its options.

    Parameters
    ----------
    frame
        A pandas DataFrame, a pyarrow Table or a mapping from column name to a pandas Series
        or pyarrow array.
    roles
        Validated mapping from role to column (:func:`resolve_roles`).
    period, short_hs, date_format, valid_years
        As in :func:`load_transactions` (already checked there).
    label
        Name of the input used in error messages and warnings (a file path).
    warn
        Issue the restored / dropped HS code warnings (the counts are in ``attrs`` anyway).

    Returns
    -------
    pandas.DataFrame
        The canonical frame of :func:`load_transactions`; ``attrs["recoded_hs"]`` and
        ``attrs["dropped_short_hs"]`` count the rows whose leading zero was restored and the
        rows dropped as too short.

    Raises
    ------
    MissingColumnsError
        A mapped column is absent.
    InvalidValueError
        Missing ids, unparseable dates, years outside ``valid_years``, non-numeric, infinite
        or negative values, malformed or ambiguous HS codes (the message names ``label``,
        the column, the count, the first row and its cell).
    OptionError
        ``period`` finer than a ``year`` role allows, or an unusable ``date_format``.

    Examples
    --------
    >>> import pandas as pd
    >>> raw = pd.DataFrame({"firm": [7, 7, 9], "yr": [2010, 2011, 2011],
    ...                     "hs": [10121, 847130, 10121], "dest": ["fra", "DEU", "fra"],
    ...                     "usd": [5.0, 2.5, 1.0]})
    >>> roles = {"trader": "firm", "year": "yr", "product": "hs", "partner": "dest", "value": "usd"}
    >>> out = normalise_transactions(raw, roles, warn=False)
    >>> out["product"].tolist(), out["partner"].tolist(), out.attrs["recoded_hs"]
    (['010121', '847130', '010121'], ['FRA', 'DEU', 'FRA'], 2)
    """
    columns, n_rows = _frame_columns(frame, roles, label)
    coded = _KeyColumns(columns, roles, label, n_rows)
    # HS first: short_hs='drop' decides which rows every other column keeps
    product = coded("product")
    hs_labels, n_restored, drop_u = _hs6(product, short_hs)
    n_dropped = int(product.rows[drop_u].sum())
    keep = ~product.row_mask(drop_u) if n_dropped else None
    out: dict[str, Any] = {}
    trader = coded("trader")
    t_text = trader.text()
    _required(trader, t_text, "a trader id")
    out["trader"] = _categorical(trader, t_text, keep)
    out["period"] = _period_out(coded, roles, period, date_format, valid_years, label, keep)
    out["product"] = _categorical(product, hs_labels, keep)
    partner = coded("partner")
    p_text = partner.text().str.upper()
    _required(partner, p_text, "a partner")
    out["partner"] = _categorical(partner, p_text, keep)
    out["value"] = _value_out(columns, roles, label, keep)
    if "quantity" in roles:
        out["quantity"] = _quantity_out(columns, roles, label, keep)
    if "flow" in roles:
        flow = coded("flow")
        out["flow"] = _categorical(flow, flow.text(), keep)
    result = _frame_of_columns(out)
    if len(result) != (n_rows - n_dropped):  # a programming error, never data-dependent
        raise RuntimeError("normalise_transactions: row count changed")
    result.attrs["recoded_hs"] = n_restored
    result.attrs["dropped_short_hs"] = n_dropped
    if warn:
        _warn_counts(label, roles["product"], n_restored, n_dropped)
    return result


def _warn_counts(label: str, column: str, n_restored: int, n_dropped: int) -> None:
    if n_restored:
        warnings.warn(
            f"{label}: column {column!r}: restored the lost leading zero of {n_restored} HS "
            "code(s) with an odd number of digits (short_hs='restore').",
            RecodeWarning,
            stacklevel=3,
        )
    if n_dropped:
        warnings.warn(
            f"{label}: column {column!r}: dropped {n_dropped} row(s) whose HS code has fewer "
            "than 6 digits (short_hs='drop').",
            ExclusionWarning,
            stacklevel=3,
        )


def _concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate canonical frames, uniting the categories of the key columns (codes remapped)."""
    from pandas.api.types import union_categoricals

    if len(parts) == 1:
        return parts[0]
    out: dict[str, Any] = {}
    for c in parts[0].columns:
        cols = [p[c] for p in parts]
        if all(isinstance(s.dtype, pd.CategoricalDtype) for s in cols):
            cat = union_categoricals([s.array for s in cols], sort_categories=True, ignore_order=True)
            if cols[0].cat.ordered:
                cat = cat.as_ordered()
            out[c] = cat
        else:
            out[c] = pd.concat(cols, ignore_index=True)
    return pd.DataFrame(out)


# --------------------------------------------------------------------------------------
# categories the loader validated (the engines need not validate them again)
# --------------------------------------------------------------------------------------
#: ``(id(categories), key) -> weak reference`` of the key categories of frames this module
#: returned; an entry goes with its Index
_VALIDATED: dict[tuple[int, str], weakref.ref[pd.Index]] = {}
_CATEGORY_KEYS = ("trader", "product", "partner")


def _mark_validated(frame: pd.DataFrame) -> None:
    """Record the key categories of a frame :func:`load_transactions` built and validated."""
    for key in _CATEGORY_KEYS:
        if key in frame.columns and isinstance(frame[key].dtype, pd.CategoricalDtype):
            cats = frame[key].cat.categories
            _VALIDATED[(id(cats), key)] = weakref.ref(cats, _forget((id(cats), key)))


def _forget(entry: tuple[int, str]) -> Callable[[Any], None]:
    """Callback removing ``entry`` from the register when its Index is collected."""

    def drop(_ref: Any) -> None:
        _VALIDATED.pop(entry, None)

    return drop


def _validated_categories(column: pd.Series, key: str) -> pd.Index | None:
    """The categories of ``column`` if :func:`load_transactions` validated them as ``key`` labels.

    True only for the very Index object the loader built (pandas keeps it through copies,
    row selections and slices): renamed, added or united categories are new objects and get
    validated again, as does a column moved to another key. The categories are immutable
    labels; the row codes are the caller's to check (missing codes are -1).
    """
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return None
    cats = column.cat.categories
    ref = _VALIDATED.get((id(cats), key))
    return cats if ref is not None and ref() is cats else None


def _load_combined(items: list[tuple[Any, ...]], mapping: Mapping[str, str], kw: dict[str, Any]
                   ) -> pd.DataFrame | None:
    """Several Parquet files (a hive folder, a list) normalised as one table, or None.

    Each file is read as by the per-file path (its columns checked, read errors naming it);
    their columns are then joined without copying and every key is coded once for all files,
    instead of once per file followed by a union of categories. The frame equals the per-file
    path's (categories sorted as text, as :func:`_concat` sorts them). None (the caller then
    loads file by file) for a single file or any CSV, when the files' column types differ, or
    when a value is invalid, so that the error raised names the file that holds it.
    """
    import pyarrow as pa

    if len(items) < 2 or any(it[0] != "parquet" or it[3] is not None for it in items):
        return None
    columns = list(dict.fromkeys(mapping.values()))
    datas = [_read_parquet(it[1], columns, _string_roles(mapping), base=it[2])[0] for it in items]
    joined: dict[str, Any] = {}
    for c in columns:
        arrays = [d[c] for d in datas]
        types = {a.type for a in arrays}
        if len(types) != 1:
            return None
        joined[c] = pa.chunked_array([chunk for a in arrays for chunk in a.chunks], type=types.pop())
    try:
        out = normalise_transactions(joined, mapping, label=f"{len(items)} files", warn=False, **kw)
    except InputError:
        return None
    for c in out.columns:
        if isinstance(out[c].dtype, pd.CategoricalDtype) and not out[c].cat.categories.is_monotonic_increasing:
            out[c] = out[c].cat.reorder_categories(out[c].cat.categories.sort_values())
    return out


# --------------------------------------------------------------------------------------
# public loader
# --------------------------------------------------------------------------------------
@quiet_allocation
def load_transactions(
    source: Any,
    *,
    roles: str | Mapping[str, str],
    period: PeriodGrain = "year",
    short_hs: ShortHs = "restore",
    date_format: str | None = "ISO8601",
    valid_years: tuple[int, int] = VALID_YEARS,
    engine: str = "pandas",
) -> Any:
    """Load transaction-level customs records into the canonical transaction frame.

    Parameters
    ----------
    source
        A CSV file (``.csv``, ``.tsv``, optionally compressed), a Parquet file, a folder of
        (hive-partitioned) Parquet files, a glob, a list of these, a pandas DataFrame (numpy,
        pyarrow or nullable dtypes) or a Dask DataFrame.
    roles
        Mapping from role to column name (roles ``trader``, ``date`` or ``year`` or
        ``period``, ``product``, ``partner``, ``value``, optional ``quantity``, ``flow``), or
        a preset name from ``reference/customs_roles.csv``: ``"kcs"`` (synthetic Korean
        import declarations) or ``"edd"`` (raw EDD extract variables ``f, y, hs, d, v, q``).
    period
        ``"year"`` (default), ``"quarter"`` or ``"month"``; quarter and month need a date.
    short_hs
        ``"restore"`` (default), ``"error"`` or ``"drop"``: how HS codes with fewer than 6
        digits are handled (see the module docstring).
    date_format
        ``strftime`` format of the date column; default ``"ISO8601"``.
    valid_years
        ``(first, last)`` years a transaction may fall in (default ``(1900, 2100)``); dates,
        years or periods outside raise :class:`~msme_stats.errors.InvalidValueError` (placeholder
        dates such as 9999-12-31 are not transactions).
    engine
        ``"pandas"`` returns a pandas DataFrame; ``"dask"`` returns a lazy Dask DataFrame
        with one partition per file (or per block of row groups of a large Parquet file, or
        per partition of a Dask DataFrame); errors are then raised when it is computed.

    Returns
    -------
    pandas.DataFrame or dask.dataframe.DataFrame
        Columns ``trader``, ``period``, ``product``, ``partner``, ``value`` (and ``quantity``,
        ``flow`` when mapped). ``trader``, ``product``, ``partner`` (and ``flow``) are
        categoricals of strings (categories sorted as text; integer codes keep their numeric
        order): the codes are computed once per
        distinct value and never expanded to one string per row. ``period`` is int64 for
        years and an ordered categorical of ``"YYYYQn"`` / ``"YYYY-MM"`` labels otherwise.
        ``attrs["source"]``, ``attrs["roles"]``, ``attrs["period"]``, ``attrs["recoded_hs"]``
        and ``attrs["dropped_short_hs"]`` describe the load.

    Raises
    ------
    OptionError
        Bad ``roles``, ``period``, ``short_hs``, ``valid_years`` or ``engine``.
    MissingColumnsError
        A mapped column is absent (the message names the file).
    InvalidValueError
        Missing ids, unparseable dates, years outside ``valid_years``, non-numeric, infinite
        or negative values, malformed or ambiguous HS codes (the message names the file,
        column, count, first row and its cell).
    UnreadableFileError, EmptyInputError
        Missing, truncated or corrupt files, CSV rows with more or fewer fields than the
        header (the message names the file and the row), globs matching nothing.

    Examples
    --------
    A raw extract with integer codes (HS6 codes that lost their leading zero):

    >>> import pandas as pd
    >>> raw = pd.DataFrame({"f": [7, 7, 9], "y": [2010, 2011, 2011], "hs": [10121, 847130, 10121],
    ...                     "d": ["fra", "DEU", "fra"], "v": [5.0, 2.5, 1.0]})
    >>> tx = load_transactions(raw, roles="edd")
    >>> tx
      trader  period product partner  value
    0      7    2010  010121     FRA    5.0
    1      7    2011  847130     DEU    2.5
    2      9    2011  010121     FRA    1.0
    >>> tx.attrs["recoded_hs"]
    2

    The same from a CSV file (any number of files, globs, Parquet files or folders):

    >>> import tempfile
    >>> from pathlib import Path
    >>> path = Path(tempfile.mkdtemp()) / "extract.csv"
    >>> raw.to_csv(path, index=False)
    >>> load_transactions(path, roles="edd")["product"].tolist()
    ['010121', '847130', '010121']
    """
    mapping = resolve_roles(roles)
    period = check_choice("period", period, PERIODS)
    short_hs = check_choice("short_hs", short_hs, choices(ShortHs))
    engine = check_choice("engine", engine, ("pandas", "dask"))
    valid_years = _check_valid_years(valid_years)
    if "year" in mapping and period != "year":
        raise OptionError(f"period={period!r} needs a date role; roles give only a year.")
    kw: dict[str, Any] = {"period": period, "short_hs": short_hs, "date_format": date_format, "valid_years": valid_years}
    if engine == "dask":
        return _load_dask(source, mapping, **kw)
    if _is_dask_frame(source):
        source = source.compute()
    if isinstance(source, pd.DataFrame):
        out = normalise_transactions(source, mapping, label="<DataFrame>", **kw)
        labels = ["<DataFrame>"]
    else:
        items = _items(source)
        labels = [str(item[1]) for item in items]
        combined = _load_combined(items, mapping, kw)
        if combined is not None:
            out = combined
        else:
            parts = [_load_item(item, mapping, kw, warn=False) for item in items]
            out = _concat(parts)
            out.attrs = {
                "recoded_hs": sum(p.attrs["recoded_hs"] for p in parts),
                "dropped_short_hs": sum(p.attrs["dropped_short_hs"] for p in parts),
            }
        label = labels[0] if len(labels) == 1 else f"{len(labels)} files"
        _warn_counts(label, mapping["product"], out.attrs["recoded_hs"], out.attrs["dropped_short_hs"])
    if out.empty:
        raise EmptyInputError(f"{', '.join(labels)}: no transaction rows.")
    out.attrs.update({"source": labels, "roles": dict(mapping), "period": period})
    _mark_validated(out)
    return out


def _check_valid_years(valid_years: Any) -> tuple[int, int]:
    try:
        lo, hi = (int(v) for v in valid_years)
        ok = lo <= hi and all(float(v) == int(v) for v in valid_years)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise OptionError(f"valid_years={valid_years!r} must be two integers (first, last), first <= last.")
    return lo, hi


def _string_roles(mapping: Mapping[str, str]) -> list[str]:
    return [mapping[r] for r in ("trader", "product", "partner", "flow", "date", "year", "period") if r in mapping]


#: a Parquet file with more rows is split into Dask tasks of about this many rows (row groups)
DASK_PARQUET_ROWS = 4_000_000


def _items(source: Any, *, split: bool = False) -> list[tuple[Any, ...]]:
    """``(kind, path, base, row_groups)`` per file to read (folders expanded to their files)."""
    items: list[tuple[Any, ...]] = []
    for kind, path in expand_source(source):
        if kind == "dataset":
            items.extend(("parquet", f, path, None) for f in _dataset_files(path))
        else:
            items.append((kind, path, None, None))
    if not split:
        return items
    out: list[tuple[Any, ...]] = []
    for item in items:
        if item[0] != "parquet":
            out.append(item)
            continue
        import pyarrow.parquet as pq

        try:
            meta = pq.ParquetFile(item[1]).metadata
        except Exception:  # the reader raises the typed error later
            out.append(item)
            continue
        if meta.num_rows <= DASK_PARQUET_ROWS or meta.num_row_groups < 2:
            out.append(item)
            continue
        group: list[int] = []
        rows = 0
        for i in range(meta.num_row_groups):
            group.append(i)
            rows += meta.row_group(i).num_rows
            if rows >= DASK_PARQUET_ROWS // 2:
                out.append((item[0], item[1], item[2], group))
                group, rows = [], 0
        if group:
            out.append((item[0], item[1], item[2], group))
    return out


def _load_item(item: tuple[Any, ...], mapping: Mapping[str, str], kw: dict[str, Any], *,
               warn: bool) -> pd.DataFrame:
    kind, path, base, row_groups = item
    columns = list(dict.fromkeys(mapping.values()))
    if kind == "csv":
        data, _ = _read_csv(path, columns, _string_roles(mapping))
    else:
        data, _ = _read_parquet(path, columns, _string_roles(mapping), base=base, row_groups=row_groups)
    label = str(path) if row_groups is None else f"{path} (row groups {row_groups[0]}-{row_groups[-1]})"
    return normalise_transactions(data, mapping, label=label, warn=warn, **kw)


def _meta(mapping: Mapping[str, str], period: str) -> pd.DataFrame:
    from dask.dataframe.utils import UNKNOWN_CATEGORIES

    def cat(ordered: bool = False) -> pd.Series:
        return pd.Series(pd.Categorical([], categories=pd.Index([UNKNOWN_CATEGORIES], dtype="str"), ordered=ordered))

    cols: dict[str, Any] = {
        "trader": cat(),
        "period": pd.Series(dtype="int64") if period == "year" else cat(True),
        "product": cat(),
        "partner": cat(),
        "value": pd.Series(dtype="float64"),
    }
    if "quantity" in mapping:
        cols["quantity"] = pd.Series(dtype="float64")
    if "flow" in mapping:
        cols["flow"] = cat()
    return pd.DataFrame(cols)


def _normalise_part(frame: pd.DataFrame, mapping: Mapping[str, str], kw: dict[str, Any], label: str) -> pd.DataFrame:
    out = normalise_transactions(frame, mapping, label=label, warn=True, **kw)
    out.attrs = {}
    return out


def _load_dask(source: Any, mapping: dict[str, str], **kw: Any) -> Any:
    import dask.dataframe as dd

    meta = _meta(mapping, kw["period"])
    if isinstance(source, pd.DataFrame):
        source = dd.from_pandas(source, npartitions=max(1, len(source) // 1_000_000))
    if _is_dask_frame(source):
        return source.map_partitions(_normalise_part, mapping, kw, "<DataFrame>", meta=meta,
                                     enforce_metadata=False)
    return dd.from_map(_load_dask_item, _items(source, split=True), mapping=mapping, kw=kw, meta=meta,
                       enforce_metadata=False)


def _load_dask_item(item: tuple[Any, ...], mapping: dict[str, str], kw: dict[str, Any]) -> pd.DataFrame:
    out = _load_item(item, mapping, kw, warn=True)
    out.attrs = {}
    return out


def key_labels(column: Any, key: str, *, label: str = "transactions",
               valid_years: tuple[int, int] = VALID_YEARS) -> tuple[np.ndarray, pd.Series, int]:
    """Code one key column of a canonical frame and normalise its distinct values.

    Used by the engines to validate a canonical frame per distinct value, as
    :func:`normalise_transactions` does.

    Parameters
    ----------
    column
        The key column (pandas Series or pyarrow array).
    key
        ``"trader"``, ``"period"``, ``"product"`` or ``"partner"``.
    label
        Name of the input used in error messages.
    valid_years
        ``(first, last)`` years a period may fall in.

    Returns
    -------
    tuple
        The row codes (-1 for a missing key, left to the caller), the normalised label of each
        code (trimmed ids, upper-case partners, HS6 codes with restored leading zeros,
        validated periods) and the number of rows whose HS code got its leading zero back.

    Raises
    ------
    InvalidValueError
        Invalid non-missing values (malformed HS codes or periods, years outside
        ``valid_years``), as :func:`normalise_transactions` raises them.

    Examples
    --------
    >>> import pandas as pd
    >>> codes, labels, restored = key_labels(pd.Series([10121, 847130, 10121]), "product")
    >>> codes.tolist(), labels.tolist(), restored
    ([0, 1, 0], ['010121', '847130'], 2)
    """
    col = _Col(column, key, key, label)
    col.n_missing = 0  # missing keys are counted and left out by the caller
    if key == "product":
        labels, n_restored, _ = _hs6(col, "restore")
        return col.codes, labels, n_restored
    if key == "period":
        return col.codes, _period_labels(col, valid_years), 0
    text = col.text()
    if key == "partner":
        text = text.str.upper()
    _required(col, text, f"a {key}")
    return col.codes, text, 0
