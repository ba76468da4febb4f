"""Loaders for Trade by Enterprise Characteristics (TEC) tables.

:func:`load_tec` reads Eurostat TEC datasets (``ext_tec01`` ... ``ext_tec10``) and OECD TEC
dataflows (``DSD_TEC_ISIC4``) from local files into one tidy long frame. The business
counts used as denominators of export participation rates are read by
:mod:`msme_stats.sources.business_counts` (which shares this module's file readers).

File layouts (METHODS §3.2, §3.4), detected from the header, never from column positions:

* Eurostat API SDMX-CSV, codes only: ``DATAFLOW,LAST UPDATE,freq,...,OBS_VALUE,OBS_FLAG[,CONF_STATUS]``;
* Eurostat data-browser SDMX-CSV, with or without label columns:
  ``STRUCTURE,STRUCTURE_ID,STRUCTURE_NAME,freq,Time frequency,...``;
* Eurostat TSV: first column ``freq,<dims>,geo\\TIME_PERIOD`` (or legacy ``<dims>,geo\\time``
  without ``freq``), one column per year, cells ``<number>[ <flags>]`` or ``:``;
* OECD Data Explorer SDMX-CSV (``STRUCTURE,STRUCTURE_ID,...,REF_AREA,...``, upper-case ids),
  with or without label columns.

Code lists (size classes, flows, units and measures, flags, geo exceptions) live in
``msme_stats/reference/tec_codes.csv``; any code not listed there raises
:class:`~msme_stats.errors.UnknownCodeError` naming the code, the column and the file.
"""

from __future__ import annotations

import csv
import datetime as _dt
import glob
import gzip
import io
import logging
import re
import warnings
import zlib
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from .._docs import fill_pieces
from ..errors import (
    DuplicateIdError,
    EmptyInputError,
    InvalidValueError,
    MissingColumnsError,
    NotRecognisedError,
    OptionError,
    UnknownCodeError,
    UnknownCountryError,
    UnreadableFileError,
)

logger = logging.getLogger(__name__)

PathLike = str | Path
Source = PathLike | Sequence[PathLike]

#: Columns of the frame returned by :func:`load_tec`, in order.
TEC_COLUMNS: tuple[str, ...] = (
    "country",
    "geo",
    "is_country",
    "geo_type",
    "year",
    "flow",
    "partner",
    "activity",
    "size_class",
    "measure",
    "value",
    "unit",
    "flag",
    "conf_status",
    "confidential",
    "series_break",
    "source",
    "dataflow",
    "breakdown",
    "size_code",
    "unit_code",
    "file",
)

#: Cell key of a TEC frame: one value per key.
TEC_KEY: tuple[str, ...] = (
    "source",
    "geo",
    "year",
    "flow",
    "partner",
    "activity",
    "size_class",
    "measure",
    "breakdown",
)

_EUROSTAT_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_OECD_ID = re.compile(r"^[A-Z][A-Z0-9_]*$")
_EUROSTAT_SPECIAL = {"TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS", "OBS_STATUS"}
_PREAMBLE = {"DATAFLOW", "LAST UPDATE", "STRUCTURE", "STRUCTURE_ID", "STRUCTURE_NAME", "ACTION"}
_TRIVIAL_CODES = {"TOTAL", "_T", "_Z"}
# TSV cell: optional number (or ':'), optional flags. No exponent: 'e' is a flag.
_TSV_CELL = re.compile(r"^\s*(?P<v>:|[-+]?(?:\d+(?:\.\d*)?|\.\d+))?\s*(?P<f>[A-Za-z@]*)\s*$")
_DATASET_IN_NAME = re.compile(r"(ext_s?tec\d\d)", re.IGNORECASE)
_DATASET_ID = re.compile(r"ext_s?tec\d\d", re.IGNORECASE)
_YEAR = re.compile(r"\d{4}")
_INTEGER = re.compile(r"[+-]?\d+")
# a number written by a float formatter: '2021.0', '10121.0', '6.0', '1e+05'
_FLOATLIKE = re.compile(r"[+-]?(?:\d+\.\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?\d+[eE][+-]?\d+")


# ------------------------------------------------------------------------------------
# reference code lists
# ------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def tec_codes() -> pd.DataFrame:
    """Return the TEC code lists (``msme_stats/reference/tec_codes.csv``).

    Returns
    -------
    pandas.DataFrame
        Columns ``provider`` (eurostat, oecd, oecd_sdbs, eurostat_sbs, all), ``dimension``,
        ``code``, ``value`` (package value), ``unit``, ``multiplier`` (power of ten),
        ``is_country``, ``role``, ``source``, all as text (empty cells as ``""``). Cached:
        do not modify it in place.

    Raises
    ------
    None
        The table is the package's own ``reference/tec_codes.csv``.

    Examples
    --------
    >>> from msme_stats.sources.tec import tec_codes
    >>> codes = tec_codes()
    >>> sizes = codes[(codes["provider"] == "eurostat") & (codes["dimension"] == "sizeclas")]
    >>> dict(zip(sizes["code"], sizes["value"]))["GE250"]
    '250+'
    """
    ref = resources.files("msme_stats.reference").joinpath("tec_codes.csv")
    with ref.open("r", encoding="utf-8") as fh:
        codes = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return codes


def _codemap(provider: str, dimension: str, field: str = "value") -> dict[str, str]:
    codes = tec_codes()
    sel = codes[(codes["provider"] == provider) & (codes["dimension"] == dimension)]
    return dict(zip(sel["code"], sel[field], strict=True))


def series_break_year() -> int:
    """First reference year on the new TEC size basis (employees plus self-employed).

    Read from the ``series_break`` row of ``reference/tec_codes.csv`` (source there); TEC
    rows from this year on get ``series_break=True`` in :func:`load_tec`.

    Returns
    -------
    int
        The first reference year on the new basis.

    Raises
    ------
    None
        The year is the package's own reference data.

    Examples
    --------
    >>> from msme_stats.sources.tec import series_break_year
    >>> series_break_year()
    2022
    """
    codes = tec_codes()
    row = codes[(codes["dimension"] == "series_break") & (codes["code"] == "size_basis")]
    return int(row["value"].iloc[0])


def plausible_range(name: str) -> tuple[int, int]:
    """Return a documented plausible range from ``tec_codes.csv`` (``plausible_range`` rows).

    ``name`` is ``"tec_year"`` (reference years of TEC tables, default 2000 to the current
    year), ``"counts_year"`` (business counts, 1990 to the current year) or ``"unit_mult"``
    (SDMX ``UNIT_MULT`` exponents, 0 to 24). A bound written ``current`` is the current
    calendar year (UTC) at the time of the call. Sources are in the ``source`` column.

    Parameters
    ----------
    name
        ``"tec_year"``, ``"counts_year"`` or ``"unit_mult"``.

    Returns
    -------
    tuple of (int, int)
        The lowest and the highest plausible value, both included.

    Raises
    ------
    OptionError
        ``name`` is not one of the ranges in ``tec_codes.csv``.

    Examples
    --------
    >>> from msme_stats.sources.tec import plausible_range
    >>> plausible_range("unit_mult")
    (0, 24)
    >>> plausible_range("tec_year")  # up to the current year
    (2000, ...)
    """
    codes = tec_codes()
    sel = codes[codes["dimension"] == "plausible_range"].set_index("code")["value"]
    names = sorted({c.rsplit("_", 1)[0] for c in sel.index})
    if name not in names:
        raise OptionError(f"plausible_range({name!r}): use one of {names} (tec_codes.csv).")
    bounds = []
    for end in ("min", "max"):
        text = sel[f"{name}_{end}"]
        bounds.append(_dt.datetime.now(_dt.UTC).year if text == "current" else int(text))
    return bounds[0], bounds[1]


def _year_range_option(year_range, name: str) -> tuple[int, int]:
    if year_range is None:
        return plausible_range(name)
    ok = (isinstance(year_range, tuple | list) and len(year_range) == 2
          and all(isinstance(y, int | np.integer) and not isinstance(y, bool)
                  for y in year_range) and year_range[0] <= year_range[1])
    if not ok:
        raise OptionError(
            f"year_range={year_range!r}: give (first, last) as two integers with first <= last, "
            f"or None for the documented range {plausible_range(name)} (tec_codes.csv).")
    return int(year_range[0]), int(year_range[1])


def _to_iso3(values: Iterable[str], path: Path | None = None, column: str = "") -> dict[str, str]:
    """Map ISO2/ISO3 country codes to ISO3 with :func:`msme_stats.reference.to_iso3`."""
    from ..reference import to_iso3

    values = list(values)
    if not values:
        return {}
    try:
        out = to_iso3(pd.Series(values, dtype=object))
    except UnknownCountryError as exc:
        where = f" in column {column!r} of file {str(path)!r}" if path is not None else ""
        raise UnknownCountryError(
            f"unknown reporter code{where}: {exc}. Aggregates and sub-national codes must be "
            "listed in msme_stats/reference/tec_codes.csv."
        ) from exc
    return dict(zip(values, [str(v) for v in out], strict=True))


# ------------------------------------------------------------------------------------
# file handling
# ------------------------------------------------------------------------------------
def _resolve_paths(source: Source, what: str = "load_tec") -> list[Path]:
    items: list[PathLike]
    if isinstance(source, str | Path):
        items = [source]
    elif isinstance(source, Iterable) and not isinstance(source, bytes | pd.DataFrame):
        items = list(source)
        if not items:
            raise EmptyInputError(f"{what}: the list of files is empty; pass at least one path.")
    else:
        raise OptionError(
            f"{what}: source must be a path, a glob pattern or a list of paths, not "
            f"{type(source).__name__}.")
    paths: list[Path] = []
    for item in items:
        if not isinstance(item, str | Path):
            raise OptionError(f"{what}: {item!r} ({type(item).__name__}) is not a path.")
        text = str(item)
        if not text.strip():
            raise OptionError(f"{what}: an empty string is not a path.")
        if any(ch in text for ch in "*?[") and not Path(text).exists():
            matched = sorted(glob.glob(text))
            if not matched:
                raise EmptyInputError(f"the pattern {text!r} matched no file.")
            paths.extend(Path(m) for m in matched)
        else:
            p = Path(text)
            try:
                is_dir, is_file = p.is_dir(), p.is_file()
            except OSError as exc:  # name too long, symlink loop, ...
                raise UnreadableFileError(f"cannot open {text!r}: {exc.strerror or exc}.") from exc
            if is_dir:
                raise UnreadableFileError(
                    f"{text!r} is a folder, not a file; pass the file inside it or a glob "
                    f"pattern such as {str(Path(text) / '*.csv*')!r}.")
            if not is_file:
                raise UnreadableFileError(f"file {text!r} does not exist or is not a file.")
            paths.append(p)
    return paths


def _read_bytes(path: Path) -> bytes:
    """Read a (possibly gzip-compressed) file and return the decompressed bytes."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableFileError(
            f"cannot read file {str(path)!r}: {exc.strerror or exc}. Check that it exists and "
            "that you may read it.") from exc
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (EOFError, OSError, zlib.error) as exc:
            raise UnreadableFileError(
                f"file {str(path)!r} is a truncated or corrupt gzip archive ({exc}); "
                "download it again."
            ) from exc
    return raw


def _decode(raw: bytes, path: Path) -> str:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(
            f"file {str(path)!r} is not UTF-8 text ({exc}); is it really a CSV/TSV file?"
        ) from exc
    if not text.strip():
        raise EmptyInputError(f"file {str(path)!r} is empty.")
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        lone_cr = re.search("\r(?!\n)", text)
        assert lone_cr is not None  # the counts differ, so a lone \r exists
        pos = lone_cr.start()
        raise UnreadableFileError(
            f"file {str(path)!r}, line {text.count(chr(10), 0, pos) + 1}: a carriage return "
            "(\\r) that does not end a line; the file is corrupt or uses old Mac line endings. "
            "Download it again.")
    if "\x00" in text:
        pos = text.index("\x00")
        raise UnreadableFileError(
            f"file {str(path)!r}, line {text.count(chr(10), 0, pos) + 1}: NUL byte in a text "
            "file; the file is corrupt or binary. Download it again.")
    return text


def _read_text(path: Path) -> str:
    """Read a (possibly gzip-compressed) text file; errors name the file."""
    return _decode(_read_bytes(path), path)


def _check_field_counts(raw: bytes, sep: str, path: Path) -> np.ndarray | None:
    """Raise if a line has more or fewer fields than the header (pandas does not check this
    when ``usecols`` is given, and pads short rows). Return the 1-based file line of each
    data row, or None when quoted fields span lines (then data row k is line k + 1).

    Vectorised: separators are counted per line with numpy; only lines with quotes are
    re-parsed with :mod:`csv`.
    """
    arr = np.frombuffer(raw, dtype=np.uint8)
    nl = np.flatnonzero(arr == 10)
    if arr.size and arr[-1] != 10:
        nl = np.append(nl, arr.size)
    starts = np.concatenate([[0], nl[:-1] + 1])
    length = nl - starts
    first = starts.clip(max=max(arr.size - 1, 0))
    blank = (length == 0) | ((length == 1) & (arr[first] == 13))
    seps = np.flatnonzero(arr == ord(sep))
    counts = np.diff(np.searchsorted(seps, nl), prepend=0) + 1
    quotes = np.flatnonzero(arr == 34)
    if quotes.size:
        qcount = np.diff(np.searchsorted(quotes, nl), prepend=0)
        if (qcount % 2).any():  # a quoted field spans lines: count records with csv
            text = raw.decode("utf-8-sig", errors="replace")
            sizes = [len(r) for r in csv.reader(io.StringIO(text), delimiter=sep) if r]
            bad_records = [i for i, k in enumerate(sizes) if k != sizes[0]]
            if bad_records:
                raise _field_count_error(path, [b + 1 for b in bad_records], sizes[0],
                                         [sizes[b] for b in bad_records], "record")
            return None
        for i in np.flatnonzero(qcount > 0):
            line = raw[starts[i]:nl[i]].decode("utf-8-sig", errors="replace").rstrip("\r")
            counts[i] = len(next(csv.reader([line], delimiter=sep)))
    expected = counts[0]
    bad = np.flatnonzero((counts != expected) & ~blank)
    if bad.size:
        raise _field_count_error(path, [int(b) + 1 for b in bad], int(expected),
                                 [int(counts[b]) for b in bad], "line")
    data_lines = np.flatnonzero(~blank)[1:] + 1
    return data_lines


def _field_count_error(path: Path, lines: list[int], expected: int, seen: list[int],
                       unit: str) -> InvalidValueError:
    shown = ", ".join(f"{unit} {ln} has {k}" for ln, k in zip(lines[:5], seen[:5], strict=True))
    more = f" (and {len(lines) - 5} more)" if len(lines) > 5 else ""
    if unit == "record":
        more += " (header = record 1; a quoted value spans lines)"
    return InvalidValueError(
        f"file {str(path)!r}: {len(lines)} row(s) do not have the {expected} fields of the "
        f"header: {shown}{more}. A value with an unquoted separator or a lost field shifts the "
        "columns; fix the row(s) or download the file again.")


def _first_line(text: str) -> str:
    end = text.find("\n")
    return (text if end < 0 else text[:end]).rstrip("\r")


def _layout(header: str) -> str:
    first = header.split("\t", 1)[0]
    if "\t" in header and ("\\TIME_PERIOD" in first or "\\time" in first):
        return "tsv"
    fields = next(csv.reader([header]))
    if fields and fields[0] == "DATAFLOW":
        return "sdmx_eurostat"
    if fields and fields[0] == "STRUCTURE":
        if "REF_AREA" in fields:
            return "sdmx_oecd"
        if "geo" in fields:
            return "sdmx_eurostat"
    return "unknown"


def _not_recognised(path: Path, header: str) -> NotRecognisedError:
    return NotRecognisedError(
        f"file {str(path)!r} is not a recognised TEC file: header starts with "
        f"{header[:120]!r}. Expected Eurostat SDMX-CSV ('DATAFLOW,LAST UPDATE,...' or "
        "'STRUCTURE,STRUCTURE_ID,...' with a 'geo' column), Eurostat TSV (first column "
        "'...,geo\\TIME_PERIOD' or '...,geo\\time') or OECD SDMX-CSV (with 'REF_AREA')."
    )


def _check_codes(
    series: pd.Series, mapping: dict[str, str], column: str, path: Path, *, what: str,
    frame: pd.DataFrame | None = None,
) -> None:
    uniques = pd.unique(series)
    bad = [u for u in uniques if u not in mapping]
    if bad:
        code = bad[0]
        row = int(np.flatnonzero((series == code).to_numpy())[0])
        where = _where(frame, row) if frame is not None else f"data row {row + 1}"
        raise UnknownCodeError(
            f"unknown {what} code {code!r} in column {column!r} of file {str(path)!r} "
            f"({where}); known codes: {sorted(mapping)}. Add it to "
            "msme_stats/reference/tec_codes.csv with its source if it is genuine."
        )


def _map(series: pd.Series, mapping: Mapping[str, object]) -> np.ndarray:
    codes, uniques = pd.factorize(series, use_na_sentinel=False)
    mapped = np.array([mapping[u] for u in uniques], dtype=object)
    return mapped[codes]


# ------------------------------------------------------------------------------------
# layout readers -> raw frame with canonical column names
# ------------------------------------------------------------------------------------
def _read_sdmx(text: str, path: Path, provider: str,
               raw: bytes | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read an SDMX-CSV file; return the id columns and the list of dimension ids."""
    header = next(csv.reader([_first_line(text)]))
    idpat = _OECD_ID if provider == "oecd" else _EUROSTAT_ID
    keep: list[int] = []
    names: list[str] = []
    dims: list[str] = []
    seen_time = False
    for i, name in enumerate(header):
        if name in names and (name in _PREAMBLE or name in _EUROSTAT_SPECIAL):
            raise NotRecognisedError(
                f"file {str(path)!r}: column {name!r} appears twice in the header; download "
                "the file again.")
        if name in _PREAMBLE:
            keep.append(i)
            names.append(name)
        elif name == "TIME_PERIOD":
            keep.append(i)
            names.append(name)
            seen_time = True
        elif provider == "eurostat" and name in _EUROSTAT_SPECIAL:
            keep.append(i)
            names.append(name)
        elif idpat.match(name):
            if name in names:
                raise NotRecognisedError(
                    f"file {str(path)!r}: column {name!r} appears twice in the header; "
                    "download the file again."
                )
            keep.append(i)
            names.append(name)
            if not seen_time:
                dims.append(name)
        # anything else is a label column and is skipped
    frame, lines = _parse_csv(text, path, header, sorted(keep), raw)
    # keep is in file order; rename by position to the header ids
    frame.columns = [header[i] for i in sorted(keep)]
    if frame.empty:
        raise EmptyInputError(f"file {str(path)!r} has a header but no data rows.")
    frame["_line"] = lines if lines is not None and len(lines) == len(frame) else \
        np.arange(2, len(frame) + 2)
    return frame, dims


def _parse_csv(text: str, path: Path, header: list[str], keep: list[int],
               raw: bytes | None) -> tuple[pd.DataFrame, np.ndarray | None]:
    """Parse the columns ``keep`` of an SDMX-CSV file as strings, refusing rows whose number
    of fields differs from the header's.

    pyarrow's CSV reader checks the field count of every row even when only some columns
    are converted (pandas does not when ``usecols`` is given, and pads short rows); it is
    also several times faster on the real ext_tec10 download (BENCHMARKS.md). When it
    refuses a file, the lines at fault are found with :func:`_check_field_counts`.
    Returns the frame and the 1-based file line of each data row (None = data row k is
    line k + 1).
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    data = raw if raw is not None else text.encode("utf-8")
    names = [f"c{i}" for i in range(len(header))]
    try:
        table = pacsv.read_csv(
            pa.py_buffer(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                include_columns=[names[i] for i in keep],
                column_types={names[i]: pa.string() for i in keep},
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        frame = table.to_pandas()
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        _check_field_counts(data, ",", path)  # raises naming the lines if counts differ
        try:  # e.g. a quoted value spanning lines: the slower pandas parser copes
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                                usecols=keep, engine="c")
        except (pd.errors.ParserError, ValueError) as exc2:
            raise UnreadableFileError(
                f"file {str(path)!r} cannot be parsed as CSV: {exc2} ({exc})") from exc2
        return frame, _check_field_counts(data, ",", path)
    lines = None
    if b"\n\n" in data or b"\n\r\n" in data:  # blank lines are skipped: find data lines
        lines = _check_field_counts(data, ",", path)
    return frame, lines


def _read_tsv(text: str, path: Path, raw: bytes | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Read a Eurostat TSV into long form with OBS_VALUE/OBS_FLAG/CONF_STATUS columns."""
    lines = _check_field_counts(raw if raw is not None else text.encode("utf-8"), "\t", path)
    try:
        wide = pd.read_csv(io.StringIO(text), sep="\t", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise UnreadableFileError(f"file {str(path)!r} cannot be parsed as TSV: {exc}") from exc
    if wide.empty:
        raise EmptyInputError(f"file {str(path)!r} has a header but no data rows.")
    first = wide.columns[0]
    dim_part, _, time_name = first.partition("\\")
    dims = [d.strip() for d in dim_part.split(",")]
    if time_name.strip() not in {"TIME_PERIOD", "time"}:
        raise NotRecognisedError(f"file {str(path)!r}: first header cell {first!r} is not TSV.")
    year_cols = list(wide.columns[1:])
    years = []
    for col in year_cols:
        label = str(col).strip()
        if not label.isdigit():
            raise InvalidValueError(
                f"file {str(path)!r}: column header {col!r} is not a year; only annual TEC "
                "tables are supported."
            )
        years.append(int(label))
    keys = wide[first].str.split(",", expand=True)
    if keys.shape[1] != len(dims) or keys.isna().any().any():
        bad = int(np.flatnonzero(wide[first].str.count(",").to_numpy() != len(dims) - 1)[0])
        raise InvalidValueError(
            f"file {str(path)!r}, data row {bad + 1}: key {wide[first].iloc[bad]!r} does not "
            f"have the {len(dims)} comma-separated codes named in the header ({first!r})."
        )
    keys.columns = dims
    n_rows, n_years = len(wide), len(years)
    cells = pd.Series(wide[year_cols].to_numpy(dtype=object).ravel(), dtype=object)
    parts = cells.str.extract(_TSV_CELL)
    # a cell is '<number>[ flags]' or ':[ flags]' (or empty); flags alone ('inf', 'e') are
    # not a cell: 'inf' would otherwise read as the flags i, n, f with no value
    badmask = (parts["v"].isna() & parts["f"].isna()) | (parts["v"].isna() & (parts["f"] != ""))
    if badmask.any():
        pos = int(np.flatnonzero(badmask.to_numpy())[0])
        r, c = divmod(pos, n_years)
        raise InvalidValueError(
            f"file {str(path)!r}, data row {r + 1} ({wide[first].iloc[r]}), column "
            f"{year_cols[c]!r}: cell {cells.iloc[pos]!r} is not '<number>[ <flags>]' or ':'."
        )
    flags = parts["f"].fillna("")
    conf = np.where(flags.str.contains("@C", regex=False), "C", "")
    flags = flags.str.replace("@C", "", regex=False)
    long = pd.DataFrame({d: np.repeat(keys[d].to_numpy(dtype=object), n_years) for d in dims})
    long["TIME_PERIOD"] = np.tile(np.array([str(y) for y in years], dtype=object), n_rows)
    long["OBS_VALUE"] = parts["v"].fillna("").to_numpy(dtype=object)
    long["OBS_FLAG"] = flags.to_numpy(dtype=object)
    long["CONF_STATUS"] = conf
    long["_row"] = np.repeat(np.arange(n_rows), n_years)
    long["_col"] = np.tile(np.array(year_cols, dtype=object), n_rows)
    line_of_row = lines if lines is not None and len(lines) == n_rows else \
        np.arange(2, n_rows + 2)
    long["_line"] = np.repeat(line_of_row, n_years)
    return long, dims


# ------------------------------------------------------------------------------------
# canonicalisation
# ------------------------------------------------------------------------------------
def _flag_error(path: Path, column: str, frame: pd.DataFrame, pos: int, code: str, known):
    where = f"data row {pos + 1}"
    if "_row" in frame.columns:
        where = f"data row {int(frame['_row'].iloc[pos]) + 1}, column {frame['_col'].iloc[pos]!r}"
    return UnknownCodeError(
        f"unknown flag {code!r} in column {column!r} of file {str(path)!r} ({where}); "
        f"known flags: {sorted(known)}."
    )


def _flag_roles(flags: pd.Series, provider: str, column: str, path: Path, frame) -> pd.DataFrame:
    """Validate flag strings (each character a flag for Eurostat) and derive roles."""
    table = _codemap(provider, column, "role")
    multi_char = provider == "eurostat" and column == "OBS_FLAG"
    uniq = pd.unique(flags)
    conf_of: dict[str, bool] = {}
    miss_of: dict[str, bool] = {}
    for u in uniq:
        parts = list(u) if multi_char else ([u] if u else [])
        for p in parts:
            if p not in table:
                pos = int(np.flatnonzero((flags == u).to_numpy())[0])
                raise _flag_error(path, column, frame, pos, p, table)
        conf_of[u] = any(table[p] == "confidential" for p in parts)
        miss_of[u] = any(table[p] == "missing" for p in parts)
    return pd.DataFrame({"conf": flags.map(conf_of), "missing": flags.map(miss_of)})


def _where(frame: pd.DataFrame, pos: int) -> str:
    """'line L (data row R)' of position ``pos`` of a raw frame (TSV: with the year column)."""
    line = int(frame["_line"].iloc[pos]) if "_line" in frame.columns else pos + 2
    if "_row" in frame.columns:
        return (f"data row {int(frame['_row'].iloc[pos]) + 1} (line {line}), column "
                f"{frame['_col'].iloc[pos]!r}")
    return f"data row {line - 1} (line {line})"


def _numeric(values: pd.Series, path: Path, frame: pd.DataFrame, column: str) -> np.ndarray:
    """Parse OBS_VALUE: numbers, '' or ':' (missing). Negative and infinite values raise:
    trade values and enterprise counts cannot be negative (METHODS §3.2)."""
    cleaned = values.str.strip()
    empty = cleaned.isin(["", ":"])
    num = pd.to_numeric(cleaned.where(~empty), errors="coerce")
    bad = num.isna() & ~empty
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise InvalidValueError(
            f"file {str(path)!r}, {_where(frame, pos)}: {column} {values.iloc[pos]!r} is not a "
            f"number ({int(bad.sum())} such cell(s)); fix the cell or download the file again."
        )
    arr = num.to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        impossible = np.isinf(arr) | (arr < 0)
    if impossible.any():
        pos = int(np.flatnonzero(impossible)[0])
        what = "infinite" if np.isinf(arr[pos]) else "negative"
        raise InvalidValueError(
            f"file {str(path)!r}, {_where(frame, pos)}: {column} {values.iloc[pos]!r} is "
            f"{what}; trade values and enterprise counts are finite and >= 0 "
            f"({int(impossible.sum())} impossible cell(s)). The file is corrupt or not a TEC "
            "table; download it again."
        )
    return arr


def _check_float_codes(raw: pd.DataFrame, columns: Iterable[str], path: Path) -> None:
    """Codes that look like floats ('10121.0', '2021.0') were read and written as numbers."""
    for col in columns:
        if col not in raw.columns:
            continue
        for u in pd.unique(raw[col]):
            if isinstance(u, str) and _FLOATLIKE.fullmatch(u.strip()):
                pos = int(np.flatnonzero((raw[col] == u).to_numpy())[0])
                raise InvalidValueError(
                    f"file {str(path)!r}, {_where(raw, pos)}: column {col!r} holds {u!r}, a "
                    "code formatted as a floating-point number (the file went through a "
                    "spreadsheet or a numeric parser, which may also have dropped leading "
                    "zeros). Use the file as published, with codes as text.")


def _years(raw: pd.DataFrame, path: Path, year_range: tuple[int, int],
           option: str = "year_range") -> np.ndarray:
    """TIME_PERIOD as int years: 'YYYY' only, inside the plausible range."""
    col = raw["TIME_PERIOD"].str.strip()
    uniq = pd.unique(col)
    value: dict[str, int] = {}
    for u in uniq:
        if not _YEAR.fullmatch(u):
            pos = int(np.flatnonzero((col == u).to_numpy())[0])
            hint = ("it is formatted as a floating-point number; use the file as published"
                    if _FLOATLIKE.fullmatch(u) else
                    "only annual data with 4-digit years (YYYY) are supported")
            raise InvalidValueError(
                f"file {str(path)!r}, {_where(raw, pos)}: TIME_PERIOD "
                f"{raw['TIME_PERIOD'].iloc[pos]!r} is not a year; {hint}.")
        y = int(u)
        if not year_range[0] <= y <= year_range[1]:
            pos = int(np.flatnonzero((col == u).to_numpy())[0])
            raise InvalidValueError(
                f"file {str(path)!r}, {_where(raw, pos)}: TIME_PERIOD {u!r} is outside the "
                f"plausible range {year_range[0]}-{year_range[1]} of reference years "
                f"({int((col == u).sum())} cell(s)). Check the file; if the year is genuine, "
                f"pass {option}=(first, last).")
        value[u] = y
    return _map(col, value).astype(np.int64)


def _unit_mult(raw: pd.DataFrame, path: Path) -> np.ndarray:
    """UNIT_MULT exponents (empty = 0): integers inside the SDMX range of tec_codes.csv."""
    if "UNIT_MULT" not in raw.columns:
        return np.zeros(len(raw))
    um = raw["UNIT_MULT"].str.strip()
    lo, hi = plausible_range("unit_mult")
    value: dict[str, float] = {}
    for u in pd.unique(um):
        if u == "":
            value[u] = 0.0
            continue
        pos = int(np.flatnonzero((um == u).to_numpy())[0])
        if not _INTEGER.fullmatch(u):
            hint = (" (formatted as a floating-point number)" if _FLOATLIKE.fullmatch(u)
                    else "")
            raise InvalidValueError(
                f"file {str(path)!r}, {_where(raw, pos)}: UNIT_MULT {u!r} is not an integer "
                f"power of ten{hint}; SDMX UNIT_MULT is the base-10 exponent (3 = thousands).")
        if not lo <= int(u) <= hi:
            raise InvalidValueError(
                f"file {str(path)!r}, {_where(raw, pos)}: UNIT_MULT {u!r} is outside the SDMX "
                f"range {lo}-{hi} (CL_UNIT_MULT exponents, tec_codes.csv); the file is "
                "corrupt or the column is not a unit multiplier.")
        value[u] = float(int(u))
    return _map(um, value).astype(float)


def _check_partners(codes: pd.Series, provider: str, column: str, path: Path,
                    raw: pd.DataFrame) -> None:
    """Partner codes must be WORLD, a listed aggregate or a country code."""
    from ..reference import to_iso3

    known = set(_codemap(provider, column))
    geo_dim = "geo" if provider == "eurostat" else "REF_AREA"
    known |= set(_codemap(provider, geo_dim))
    rest = [u for u in pd.unique(codes) if u not in known]
    if not rest:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        iso = to_iso3(pd.Series(rest, dtype=object),
                      scheme="eurostat" if provider == "eurostat" else "iso3",
                      errors="coerce")
    unknown = [u for u, v in zip(rest, iso, strict=True) if not isinstance(v, str)]
    if unknown:
        code = unknown[0]
        pos = int(np.flatnonzero((codes == code).to_numpy())[0])
        kind = "ISO 3166 alpha-2 (Eurostat: EL, UK, XK)" if provider == "eurostat" else \
            "ISO 3166 alpha-3"
        raise UnknownCodeError(
            f"unknown partner code {code!r} in column {column!r} of file {str(path)!r} "
            f"({_where(raw, pos)}; {len(unknown)} unknown code(s): {unknown[:10]}). Partner "
            f"codes are the world total {sorted(_codemap(provider, column))}, {kind} country "
            "codes or the aggregates listed in msme_stats/reference/tec_codes.csv; add a "
            "genuine aggregate there with its source.")


def _geo_columns(geo: pd.Series, provider: str, column: str,
                 path: Path | None = None) -> dict[str, np.ndarray]:
    codes = tec_codes()
    sel = codes[(codes["provider"] == provider) & (codes["dimension"] == column)]
    exc_value = dict(zip(sel["code"], sel["value"], strict=True))
    exc_country = dict(zip(sel["code"], sel["is_country"] == "True", strict=True))
    exc_type = dict(zip(sel["code"], sel["role"].replace("", "country"), strict=True))
    uniques = [u for u in pd.unique(geo)]
    ordinary = [u for u in uniques if u not in exc_value]
    iso = _to_iso3(ordinary, path, column)
    country = {**exc_value, **iso}
    is_country = {**exc_country, **dict.fromkeys(ordinary, True)}
    gtype = {**exc_type, **dict.fromkeys(ordinary, "country")}
    return {
        "country": _map(geo, country),
        "is_country": _map(geo, is_country).astype(bool),
        "geo_type": _map(geo, gtype),
    }


def _dataset_id(raw: pd.DataFrame, provider: str, path: Path, dataset: str | None):
    """Return (source, dataflow) arrays from the DATAFLOW/STRUCTURE_ID column or the name."""
    col = "DATAFLOW" if "DATAFLOW" in raw.columns else "STRUCTURE_ID"
    if col in raw.columns:
        flows = raw[col]
        uniq = pd.unique(flows)
        short = {}
        for u in uniq:
            if provider == "oecd":
                m = re.search(r"@([A-Za-z0-9_]+)", u)
                short[u] = m.group(1) if m else u
            else:
                m = re.match(r"^[A-Z]+:([A-Za-z0-9_]+)", u)
                short[u] = m.group(1).lower() if m else u.lower()
        return _map(flows, short), flows.to_numpy(dtype=object)
    if dataset is None:
        m = _DATASET_IN_NAME.search(path.name)
        if not m:
            raise NotRecognisedError(
                f"file {str(path)!r}: a TSV does not name its dataset and none was found in "
                "the file name; pass dataset='ext_tec01' (for example)."
            )
        dataset = m.group(1).lower()
    n = len(raw)
    return np.full(n, dataset, dtype=object), np.full(n, f"ESTAT:{dataset.upper()}", dtype=object)


def _tec_dimension_names(raw: pd.DataFrame, provider: str, path: Path) -> tuple[dict[str, str], set[str]]:
    """The provider's column names per role and its known dimensions; raise
    :class:`~msme_stats.errors.MissingColumnsError` when a required column is absent."""
    if provider == "eurostat":
        names = {"geo": "geo", "flow": "stk_flow", "size": "sizeclas", "partner": "partner",
                 "activity": "nace_r2", "unit": "unit", "freq": "freq"}
        required = ["geo", "stk_flow", "unit", "TIME_PERIOD", "OBS_VALUE"]
        known_dims = set(names.values())
    else:
        names = {"geo": "REF_AREA", "flow": "FLOW", "size": "SIZE_CLASS",
                 "partner": "PARTNER_COUNTRY", "activity": "ACTIVITY", "unit": "UNIT_MEASURE",
                 "freq": "FREQ", "measure": "MEASURE"}
        required = ["REF_AREA", "FLOW", "MEASURE", "UNIT_MEASURE", "TIME_PERIOD", "OBS_VALUE"]
        known_dims = set(names.values()) | {"TABLE"}
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise MissingColumnsError(
            f"file {str(path)!r} lacks required column(s) {missing}; header has "
            f"{[c for c in raw.columns if not c.startswith('_')]}."
        )
    return names, known_dims


def _tec_dimensions(raw: pd.DataFrame, dims: list[str], provider: str, path: Path, names: dict[str, str],
                    year_range: tuple[int, int], out: dict[str, object]) -> None:
    """Add geo, year, flow, partner, activity and size-class columns to ``out``.

    Codes are checked against ``tec_codes.csv``; partner and activity codes are mapped where
    the code list knows them and kept otherwise; a file without the dimension holds all
    partners / all activities / all sizes.
    """
    n = len(raw)
    geo = raw[names["geo"]]
    out.update(_geo_columns(geo, provider, names["geo"], path))
    out["geo"] = geo.to_numpy(dtype=object)
    _check_float_codes(raw, [d for d in dims if d in raw.columns], path)
    out["year"] = _years(raw, path, year_range)
    if names["freq"] in raw.columns:
        fmap = _codemap(provider, names["freq"])
        _check_codes(raw[names["freq"]], fmap, names["freq"], path, what="frequency", frame=raw)
    fmap = _codemap(provider, names["flow"])
    _check_codes(raw[names["flow"]], fmap, names["flow"], path, what="flow", frame=raw)
    out["flow"] = _map(raw[names["flow"]], fmap)
    # partner and activity codes: mapped where the code list knows them, kept otherwise;
    # a file without the dimension holds all partners / all activities
    for key, default in (("partner", "WORLD"), ("activity", "TOTAL")):
        if names[key] in raw.columns:
            cmap = _codemap(provider, names[key])
            codes = raw[names[key]]
            if key == "partner":
                _check_partners(codes, provider, names[key], path, raw)
            out[key] = _map(codes, {u: cmap.get(u, u) for u in pd.unique(codes)})
        else:
            out[key] = np.full(n, default, dtype=object)
    if names["size"] in raw.columns:
        smap = _codemap(provider, names["size"])
        _check_codes(raw[names["size"]], smap, names["size"], path, what="size-class", frame=raw)
        out["size_class"] = _map(raw[names["size"]], smap)
        out["size_code"] = raw[names["size"]].to_numpy(dtype=object)
    else:
        out["size_class"] = np.full(n, "total", dtype=object)
        out["size_code"] = np.full(n, "", dtype=object)


def _tec_measure_unit(raw: pd.DataFrame, provider: str, path: Path,
                      unit_col: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Measure, unit and power-of-ten multiplier per row (OECD: MEASURE must fit UNIT_MEASURE)."""
    if provider == "eurostat":
        umap = _codemap(provider, "unit")
        _check_codes(raw[unit_col], umap, unit_col, path, what="unit", frame=raw)
        measure = _map(raw[unit_col], umap)
        unit = _map(raw[unit_col], _codemap(provider, "unit", "unit"))
        mult = _map(raw[unit_col], _codemap(provider, "unit", "multiplier")).astype(float)
    else:
        mmap = _codemap(provider, "MEASURE")
        _check_codes(raw["MEASURE"], mmap, "MEASURE", path, what="measure", frame=raw)
        measure = _map(raw["MEASURE"], mmap)
        umap = _codemap(provider, "UNIT_MEASURE", "unit")
        _check_codes(raw[unit_col], umap, unit_col, path, what="unit", frame=raw)
        unit = _map(raw[unit_col], umap)
        umeasure = _map(raw[unit_col], _codemap(provider, "UNIT_MEASURE"))
        clash = measure != umeasure
        if clash.any():
            pos = int(np.flatnonzero(clash)[0])
            raise InvalidValueError(
                f"file {str(path)!r}, {_where(raw, pos)}: MEASURE {raw['MEASURE'].iloc[pos]!r} "
                f"does not fit UNIT_MEASURE {raw[unit_col].iloc[pos]!r}."
            )
        mult = _unit_mult(raw, path)
    return measure, unit, mult


def _tec_values(raw: pd.DataFrame, provider: str, path: Path, mult: np.ndarray,
                out: dict[str, object]) -> None:
    """Add value, flag, conf_status and confidential columns to ``out``.

    A confidential or missing-flagged cell that carries a value is set to NaN (logged).
    """
    n = len(raw)
    flag_col = "OBS_FLAG" if provider == "eurostat" else "OBS_STATUS"
    flags = raw[flag_col].str.strip() if flag_col in raw.columns else pd.Series([""] * n)
    roles = _flag_roles(flags.reset_index(drop=True), provider, flag_col, path, raw)
    conf_s = (raw["CONF_STATUS"].str.strip() if "CONF_STATUS" in raw.columns
              else pd.Series([""] * n)).reset_index(drop=True)
    croles = _flag_roles(conf_s, provider, "CONF_STATUS", path, raw)
    confidential = (roles["conf"] | croles["conf"]).to_numpy(dtype=bool)
    value = _numeric(raw["OBS_VALUE"], path, raw, "OBS_VALUE") * np.power(10.0, mult)
    drop_value = (confidential | roles["missing"].to_numpy(dtype=bool)) & ~np.isnan(value)
    if drop_value.any():
        logger.info("%s: %d confidential/missing-flagged cells carried a value; set to NaN",
                    path, int(drop_value.sum()))
        value = np.where(drop_value, np.nan, value)
    out["value"] = value
    out["flag"] = flags.to_numpy(dtype=object)
    out["conf_status"] = conf_s.to_numpy(dtype=object)
    out["confidential"] = confidential


def _tec_breakdown(raw: pd.DataFrame, dims: list[str], known_dims: set[str]) -> np.ndarray:
    """Breakdown per row: any further dimension with a non-total code, as ``dim=code;...``."""
    n = len(raw)
    extra = [d for d in dims if d not in known_dims and d not in _PREAMBLE]
    if extra:
        parts = []
        for d in extra:
            col = raw[d]
            parts.append(np.where(col.isin(_TRIVIAL_CODES), "", d + "=" + col))
        joined = pd.DataFrame(parts).T.apply(lambda r: ";".join(x for x in r if x), axis=1) \
            if len(extra) > 1 else pd.Series(parts[0])
        return joined.to_numpy(dtype=object)
    return np.full(n, "", dtype=object)


def _canonical_tec(raw: pd.DataFrame, dims: list[str], provider: str, path: Path,
                   dataset: str | None, year_range: tuple[int, int]) -> pd.DataFrame:
    """Turn one parsed TEC file into the columns of :data:`TEC_COLUMNS` (one row per cell)."""
    n = len(raw)
    names, known_dims = _tec_dimension_names(raw, provider, path)
    out: dict[str, object] = {}
    _tec_dimensions(raw, dims, provider, path, names, year_range, out)
    unit_col = names["unit"]
    measure, unit, mult = _tec_measure_unit(raw, provider, path, unit_col)
    out["measure"] = measure
    out["unit"] = unit
    out["unit_code"] = raw[unit_col].to_numpy(dtype=object)
    _tec_values(raw, provider, path, mult, out)
    year = out["year"]
    assert isinstance(year, np.ndarray)  # set by _tec_dimensions
    out["series_break"] = year >= series_break_year()
    out["source"], out["dataflow"] = _dataset_id(raw, provider, path, dataset)
    out["breakdown"] = _tec_breakdown(raw, dims, known_dims)
    out["file"] = np.full(n, str(path), dtype=object)
    frame = pd.DataFrame(out)
    _check_duplicates(frame, TEC_KEY, "load_tec", raw["_line"].to_numpy())
    return frame.loc[:, list(TEC_COLUMNS)]


def _read_one_tec(path: Path, dataset: str | None, year_range: tuple[int, int]) -> pd.DataFrame:
    data = _read_bytes(path)
    text = _decode(data, path)
    header = _first_line(text)
    layout = _layout(header)
    if layout == "tsv":
        raw, dims = _read_tsv(text, path, data)
        provider = "eurostat"
    elif layout in {"sdmx_eurostat", "sdmx_oecd"}:
        provider = "oecd" if layout == "sdmx_oecd" else "eurostat"
        raw, dims = _read_sdmx(text, path, provider, data)
    else:
        raise _not_recognised(path, header)
    return _canonical_tec(raw, dims, provider, path, dataset, year_range)


def _check_duplicates(frame: pd.DataFrame, key: Sequence[str], what: str,
                      lines: np.ndarray | None = None) -> None:
    """Raise DuplicateIdError naming the key, the file(s) and (for one file) the lines."""
    dup = frame.duplicated(list(key), keep=False)
    if dup.any():
        mask = dup.to_numpy()
        rows = frame.loc[mask, [*key, "file"]]
        first = rows.iloc[0]
        same = (rows[list(key)] == first[list(key)]).all(axis=1).to_numpy()
        cell = ", ".join(f"{k}={_plain(first[k])!r}" for k in key)
        files = sorted(set(rows.loc[same, "file"]))
        at = ""
        if lines is not None:
            shown = [int(x) for x in lines[np.flatnonzero(mask)[same]][:5]]
            at = f" at lines {shown}"
        raise DuplicateIdError(
            f"{what}: {int(dup.sum())} rows share a cell key; first: {cell}{at}, in file(s) "
            f"{files}. Each cell must appear once: remove duplicated rows or load one file "
            "format per dataset."
        )


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


def _cell_counts(out: pd.DataFrame, n_files: int) -> dict[str, int]:
    """Count the cells, the confidential ones, those without a value and the flagged ones (logged)."""
    n_conf = int(out["confidential"].sum())
    n_missing = int(out["value"].isna().sum())
    logger.info("load_tec: %d cells from %d file(s); %d confidential, %d without value",
                len(out), n_files, n_conf, n_missing)
    return {"cells": len(out), "confidential": n_conf,
            "without_value": n_missing,
            "flagged": int((out["flag"] != "").sum())}


_LOAD_TEC_RETURNS = """\
    Returns
    -------
    pandas.DataFrame
        One row per published cell, columns:

        ``country``
            ISO3 code (Eurostat ``EL`` -> GRC, ``UK`` -> GBR, ``XK`` -> XKX), or the aggregate
            code (``EU``, ``EU27_2020``) or ``GB-NIR`` for the sub-national ``UKN``;
        ``geo``
            the reporter code as in the file; ``is_country`` False for aggregates and
            sub-national units; ``geo_type`` country / aggregate / subnational;
        ``year``
            reference year (int);
        ``flow``
            ``exports`` or ``imports``;
        ``partner``
            partner code as in the file, with the world total as ``WORLD`` (OECD ``W``/``_T``);
        ``activity``
            activity code as in the file (NACE Rev. 2 or ISIC Rev. 4), all activities as
            ``TOTAL``; ``TOTAL`` when the dataset has no activity dimension;
        ``size_class``
            ``0-9``, ``10-49``, ``50-249``, ``250+``, ``unknown`` (OECD ``_X``), ``total``
            (and ``0-249`` for the OECD ``S0T249`` cross-check class); ``total`` when the
            dataset has no size dimension;
        ``measure``
            ``trade_value`` or ``enterprises``;
        ``value``
            float; trade values in units of ``unit`` after applying the multiplier
            (Eurostat ``THS_EUR`` x 1000 -> EUR; OECD x 10**UNIT_MULT); counts in enterprises.
            NaN for confidential and missing cells (never backed out from totals);
        ``unit``
            ``EUR``, ``USD`` or ``enterprises``;
        ``flag``
            observation status as in the file (Eurostat ``OBS_FLAG`` letters, legacy TSV
            flags, OECD ``OBS_STATUS``); ``conf_status`` the ``CONF_STATUS`` code (TSV
            ``@C`` -> ``C``);
        ``confidential``
            True for ``CONF_STATUS`` C/N/P, legacy flag ``c``, OECD ``Q``;
        ``series_break``
            True from reference year 2022 (size basis employees plus self-employed);
        ``source``
            dataset id (``ext_tec10``, ``DF_TEC01``); ``dataflow`` the full id in the file;
        ``breakdown``
            ``"dim=code;..."`` for any further dimension with a non-total code (e.g. OECD
            ``TOWNERSHIP``), else empty;
        ``size_code``, ``unit_code``
            the source codes; ``file`` the file read.
"""


@fill_pieces(load_tec_returns=_LOAD_TEC_RETURNS)
def load_tec(source: Source, *, dataset: str | None = None,
             year_range: tuple[int, int] | None = None) -> pd.DataFrame:
    """Read Eurostat or OECD TEC tables from local files into one tidy long frame.

    Parameters
    ----------
    source
        A path, a glob pattern (``"data/ext_tec*.csv.gz"``) or a list of paths/patterns.
        Files may be gzip-compressed (detected from the content, not the name).
    dataset
        Dataset id for TSV files whose name does not contain it (``"ext_tec01"``). SDMX-CSV
        files carry their dataflow id and ignore this option.
    year_range
        ``(first, last)`` plausible reference years; a ``TIME_PERIOD`` outside raises
        :class:`~msme_stats.errors.InvalidValueError`. None (default) = the documented range
        of ``tec_codes.csv`` (2000 to the current year; see :func:`plausible_range`).

    {load_tec_returns}

    Raises
    ------
    EmptyInputError, UnreadableFileError, NotRecognisedError, MissingColumnsError,
    UnknownCodeError, InvalidValueError, DuplicateIdError, OptionError
        Messages name the file, the column and the data row / line. Refused: rows with
        more or fewer fields than the header; ``OBS_VALUE`` negative, infinite or not a
        number; ``UNIT_MULT`` not an integer in the SDMX range (0-24); ``TIME_PERIOD`` not
        ``YYYY`` or outside ``year_range``; codes formatted as floats (``2021.0``); unknown
        size, flow, unit, flag, reporter or partner codes; duplicated cells (the lines are
        named). Confidential and missing-flagged cells are kept with ``value`` NaN and
        counted in the log.

    Stata/R equivalent
    ------------------
    R: ``eurostat::get_eurostat("ext_tec01")`` (downloads and tidies a Eurostat table) or
    ``read.csv()`` on a downloaded SDMX-CSV file; Stata: ``import delimited``. Neither
    applies the unit multiplier (``THS_EUR`` x 1000, OECD ``UNIT_MULT``), maps the size,
    partner and reporter codes, or keeps confidential cells apart as this function does.

    Notes
    -----
    ``attrs["counts"]`` counts the cells, the confidential ones, those without a value and
    those with an observation flag; ``attrs["params"]`` records ``year_range``.
    Confidential cells stay in the frame with ``value`` NaN; a suppressed size class is never
    recomputed as TOTAL minus the other classes (METHODS §3.3). Enterprise counts are not
    additive across partners or flows (METHODS §3.1).

    Examples
    --------
    A bundled Eurostat TSV specimen (PARTLY SYNTHETIC values in the real ``ext_tec01``
    layout, written by :mod:`msme_stats.samples.tec`); downloads and SDMX-CSV files load
    the same way:

    >>> import msme_stats as ms
    >>> from msme_stats._paths import data_dir
    >>> tec = ms.load_tec(data_dir() / "tec_samples" / "ext_tec01_synthetic.tsv")
    >>> tec.shape, tec.attrs["counts"]["confidential"]
    ((2800, 22), 77)
    >>> aut = tec.query("country == 'AUT' and year == 2016 and flow == 'exports' "
    ...                 "and measure == 'trade_value'")
    >>> aut.set_index("size_class")["value"].div(1e6).round(1).to_dict()  # THS_EUR x 1000 -> EUR
    {'10-49': 4588.1, '50-249': 5243.6, '250+': 15451.7, '0-9': 3277.2, 'total': 29143.4}
    """
    if dataset is not None and not (isinstance(dataset, str) and _DATASET_ID.fullmatch(dataset)):
        raise OptionError(
            f"dataset={dataset!r} is not a Eurostat TEC dataset id; use e.g. 'ext_tec01' or "
            "'ext_tec10'.")
    years = _year_range_option(year_range, "tec_year")
    paths = _resolve_paths(source)
    frames = [_read_one_tec(p, dataset, years) for p in paths]
    out = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    if len(frames) > 1:  # within a file, duplicates are checked (with lines) on reading
        _check_duplicates(out, TEC_KEY, "load_tec")
    out.attrs["counts"] = _cell_counts(out, len(paths))
    out.attrs["params"] = {"year_range": years}
    return out


def __getattr__(name: str):
    # business counts moved to msme_stats.sources.business_counts; still importable from here
    # (lazily: business_counts imports this module's readers).
    if name in ("load_business_counts", "BUSINESS_COUNT_COLUMNS"):
        from . import business_counts

        return getattr(business_counts, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["load_tec", "load_business_counts", "tec_codes", "series_break_year",  # noqa: F822
           "plausible_range",
           "TEC_COLUMNS", "BUSINESS_COUNT_COLUMNS", "TEC_KEY"]
