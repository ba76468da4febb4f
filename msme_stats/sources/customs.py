"""Transaction-level customs files -> the canonical transaction frame.

:func:`load_transactions` reads customs declarations (CSV, Parquet files, hive-partitioned
Parquet folders, globs, lists of these, or a DataFrame), maps their columns to *roles* and
returns one canonical frame:

=============  ===========================================================================
column         content
=============  ===========================================================================
``trader``     trader (firm) id, string
``period``     int year (``period="year"``), ``"YYYYQn"`` (quarter) or ``"YYYY-MM"`` (month)
``product``    HS6 code, 6-character string of digits (placeholders ``OT...`` kept as read)
``partner``    partner country (destination of exports, origin of imports), upper-case string
``value``      transaction value, float64, >= 0
``quantity``   optional, float64 (missing kept as NaN)
``flow``       optional, string
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
"""

from __future__ import annotations

import glob
import warnings
from collections.abc import Iterable, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._options import check_choice
from ..errors import (
    EmptyInputError,
    ExclusionWarning,
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
PERIODS = ("year", "quarter", "month")
CANONICAL_COLUMNS = ("trader", "period", "product", "partner", "value")
#: roles of a frame or Parquet folder that is already canonical
CANONICAL_ROLES: dict[str, str] = {c: c for c in CANONICAL_COLUMNS}

_REFERENCE = Path(__file__).resolve().parent.parent / "reference"
_CSV_SUFFIXES = (".csv", ".csv.gz", ".txt", ".tsv", ".csv.zip", ".csv.bz2", ".csv.xz")
_PARQUET_SUFFIXES = (".parquet", ".pq", ".parq")


# --------------------------------------------------------------------------------------
# roles
# --------------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def _preset_table() -> pd.DataFrame:
    return pd.read_csv(_REFERENCE / "customs_roles.csv", dtype=str)


def role_presets() -> dict[str, dict[str, str]]:
    """Return the role presets of ``reference/customs_roles.csv`` as ``{preset: {role: column}}``."""
    table = _preset_table()
    return {
        name: dict(zip(g["role"], g["column"], strict=True)) for name, g in table.groupby("preset")
    }


def resolve_roles(roles: str | Mapping[str, str]) -> dict[str, str]:
    """Validate a role mapping (or look up a preset name) and return ``{role: column}``.

    Raises
    ------
    OptionError
        Unknown preset, unknown role name, missing required role, or neither ``date``,
        ``year`` nor ``period`` given.
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
def expand_source(source: Any) -> list[tuple[str, Path]]:
    """Expand a source into ``[(kind, path)]`` with kind ``"csv"``, ``"parquet"`` or ``"dataset"``.

    Globs are sorted; a folder is a (possibly hive-partitioned) Parquet dataset.
    """
    if isinstance(source, (str, Path)):
        items: Sequence[Any] = [source]
    elif isinstance(source, Iterable):
        items = list(source)
    else:
        raise OptionError(
            f"source of type {type(source).__name__} is not supported; pass a path, a glob, a "
            "list of paths or a pandas DataFrame."
        )
    if not items:
        raise EmptyInputError("source is an empty list; pass at least one file.")
    out: list[tuple[str, Path]] = []
    for item in items:
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
    if path.is_dir():
        return "dataset", path
    if not path.exists():
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


def _read_one(kind: str, path: Path, columns: list[str], string_cols: list[str]) -> pd.DataFrame:
    """Read the needed columns of one file or Parquet folder, checking they exist."""
    label = str(path)
    try:
        if kind == "csv":
            sep = "\t" if path.name.lower().endswith(".tsv") else ","
            header = pd.read_csv(path, nrows=0, sep=sep).columns
            _check_columns(label, header, columns)
            return pd.read_csv(
                path,
                usecols=columns,
                sep=sep,
                dtype={c: str for c in string_cols},
                keep_default_na=False,
                na_values=[""],
            )
        import pyarrow.dataset as ds

        dataset = ds.dataset(str(path), format="parquet", partitioning="hive")
        _check_columns(label, dataset.schema.names, columns)
        return dataset.to_table(columns=columns).to_pandas()
    except (MissingColumnsError, EmptyInputError):
        raise
    except pd.errors.EmptyDataError as exc:
        raise EmptyInputError(f"{label}: the file is empty.") from exc
    except (OSError, ValueError) as exc:
        raise UnreadableFileError(f"{label}: cannot be read ({exc}).") from exc


def _check_columns(label: str, have: Iterable[str], need: Iterable[str]) -> None:
    have = set(have)
    missing = [c for c in need if c not in have]
    if missing:
        raise MissingColumnsError(
            f"{label}: column(s) {', '.join(map(repr, missing))} not found; the file has "
            f"{', '.join(map(repr, sorted(have)))}. Fix the roles mapping."
        )


# --------------------------------------------------------------------------------------
# normalisation (one frame; used per file and per Dask partition)
# --------------------------------------------------------------------------------------
def _first_row(mask: np.ndarray | pd.Series) -> int:
    return int(np.flatnonzero(np.asarray(mask))[0]) + 1


def _bad(label: str, role: str, column: str, mask: Any, what: str, values: pd.Series, todo: str) -> InvalidValueError:
    mask = np.asarray(mask, dtype=bool)
    n = int(mask.sum())
    row = _first_row(mask)
    cell = values.iloc[row - 1]
    return InvalidValueError(
        f"{label}: column {column!r} (role {role}) has {n} {what} value(s); first at data row "
        f"{row} (1-based, header excluded): {cell!r}. {todo}"
    )


def _map_strings(raw: pd.Series, func: Any) -> tuple[pd.Series, dict[str, np.ndarray]]:
    """Apply ``func`` (str Series -> (Series, {name: mask})) to values or to categories.

    For a categorical column only its categories are processed (fast on dictionary-encoded
    Parquet); the result stays categorical and the masks are expanded to rows.
    """
    if isinstance(raw.dtype, pd.CategoricalDtype):
        cats = pd.Series(raw.cat.categories.astype("str"))
        new, masks = func(cats)
        codes = raw.cat.codes.to_numpy()
        row_missing = codes < 0
        row_masks: dict[str, np.ndarray] = {}
        for k, m in masks.items():
            m = np.asarray(m, dtype=bool)
            row = m[np.maximum(codes, 0)] & ~row_missing if m.any() else np.zeros(len(codes), dtype=bool)
            row_masks[k] = row | row_missing if k == "missing" else row
        row_masks.setdefault("missing", row_missing)
        if new.equals(cats):
            return raw, row_masks
        new_codes, uniques = pd.factorize(new)
        row_codes = np.where(row_missing, -1, new_codes[np.maximum(codes, 0)])
        out = pd.Series(
            pd.Categorical.from_codes(row_codes, categories=pd.Index(uniques, dtype="str")),
            index=raw.index,
        )
        return out, row_masks
    new, masks = func(raw.astype("str"))
    masks = {k: np.asarray(m) for k, m in masks.items()}
    masks["missing"] = masks.get("missing", np.zeros(len(raw), dtype=bool)) | raw.isna().to_numpy()
    return new, masks


def _string_col(frame: pd.DataFrame, role: str, column: str, label: str, *, upper: bool) -> pd.Series:
    raw = frame[column]

    def clean(s: pd.Series) -> tuple[pd.Series, dict[str, Any]]:
        s = s.str.strip()
        if upper:
            s = s.str.upper()
        return s, {"missing": (s == "").to_numpy() | s.isna().to_numpy()}

    s, masks = _map_strings(raw, clean)
    if masks["missing"].any():
        raise _bad(label, role, column, masks["missing"], "missing", raw, "Every row needs one; fill or drop those rows first.")
    return s


def _hs6_clean(s: pd.Series, short_hs: str) -> tuple[pd.Series, dict[str, Any]]:
    """Normalise unique-ish HS strings; return codes and masks of odd/short/bad codes."""
    s = s.str.strip().str.replace(r"[.\s]", "", regex=True)
    missing = (s == "").to_numpy() | s.isna().to_numpy()
    s = s.fillna("")
    placeholder = s.str.upper().str.startswith("OT").to_numpy()
    digits = s.str.fullmatch(r"\d+").to_numpy(dtype=bool, na_value=False)
    bad = ~digits & ~placeholder & ~missing
    length = s.str.len().to_numpy()
    odd = digits & (length % 2 == 1)
    if short_hs != "error":
        s = s.where(~odd, "0" + s)
        length = length + odd
    short = digits & (length < 6)
    s = s.where(placeholder | (length <= 6), s.str.slice(0, 6))
    return s, {"missing": missing, "bad": bad, "odd": odd, "short": short}


def _hs6(raw: pd.Series, column: str, label: str, short_hs: str) -> tuple[pd.Series, int, int, np.ndarray]:
    """Return (HS6 codes, n restored leading zeros, n dropped, keep mask)."""
    if pd.api.types.is_numeric_dtype(raw.dtype) and not pd.api.types.is_bool_dtype(raw.dtype):
        values = pd.to_numeric(raw)
        na = values.isna().to_numpy()
        nonint = ~na & (np.asarray(values.fillna(0)) % 1 != 0)
        if na.any() or nonint.any():
            raise _bad(label, "product", column, na | nonint, "missing or non-integer", raw, "Product codes must be HS codes.")
        raw = pd.Series(values.astype("int64").astype("str"), index=raw.index)
    s, m = _map_strings(raw, lambda x: _hs6_clean(x, short_hs))
    if m["missing"].any():
        raise _bad(label, "product", column, m["missing"], "missing", raw, "Every row needs an HS code.")
    if m["bad"].any():
        raise _bad(label, "product", column, m["bad"], "non-numeric", raw, "HS codes are digits (dots and spaces are removed).")
    if m["odd"].any() and short_hs == "error":
        raise _bad(label, "product", column, m["odd"], "odd-length (leading zero lost?)", raw,
                   "Pass short_hs='restore' to put the leading zero back.")
    keep = np.ones(len(s), dtype=bool)
    n_dropped = 0
    if m["short"].any():
        if short_hs != "drop":
            raise _bad(label, "product", column, m["short"], "shorter than 6 digits (chapter or heading)", raw,
                       "They cannot be placed in an HS6 product; pass short_hs='drop' to drop them.")
        keep = ~m["short"]
        n_dropped = int(m["short"].sum())
    return s, int(m["odd"].sum()), n_dropped, keep


def _period_labels(dates: pd.Series, period: str) -> pd.Series:
    if period == "year":
        return dates.dt.year.astype("int64")
    if period == "quarter":
        return dates.dt.year.astype("str") + "Q" + dates.dt.quarter.astype("str")
    return dates.dt.strftime("%Y-%m").astype("str")


def normalise_transactions(
    frame: pd.DataFrame,
    roles: Mapping[str, str],
    *,
    period: str = "year",
    label: str = "<DataFrame>",
    short_hs: str = "restore",
    date_format: str | None = "ISO8601",
    warn: bool = True,
) -> pd.DataFrame:
    """Map one raw frame to the canonical columns, validating every role column.

    The frame is not modified. Counts of restored leading zeros and dropped short codes are in
    ``result.attrs["recoded_hs"]`` and ``result.attrs["dropped_short_hs"]``; warnings are issued
    when ``warn`` is true.
    """
    need = list(dict.fromkeys(roles.values()))
    _check_columns(label, frame.columns, need)
    out: dict[str, Any] = {}
    out["trader"] = _string_col(frame, "trader", roles["trader"], label, upper=False)
    if "date" in roles:
        col = roles["date"]
        raw = frame[col]
        if pd.api.types.is_datetime64_any_dtype(raw.dtype):
            dates = raw
        else:
            try:
                dates = pd.to_datetime(raw, format=date_format, errors="coerce")
            except (ValueError, TypeError) as exc:
                raise OptionError(f"date_format={date_format!r} cannot be used: {exc}") from exc
        bad = dates.isna().to_numpy()
        if bad.any():
            what = "missing or unparseable"
            raise _bad(label, "date", col, bad, what, raw,
                       f"Dates must follow date_format={date_format!r}; fix the cells or pass date_format.")
        out["period"] = _period_labels(dates, period)
    elif "year" in roles:
        col = roles["year"]
        raw = frame[col]
        years = pd.to_numeric(raw, errors="coerce")
        bad = years.isna().to_numpy() | (np.asarray(years.fillna(0)) % 1 != 0)
        if bad.any():
            raise _bad(label, "year", col, bad, "missing or non-integer", raw, "Years must be integers such as 2008.")
        if period != "year":
            raise OptionError(
                f"period={period!r} needs a date role; {label} gives only a year (role 'year')."
            )
        out["period"] = years.astype("int64")
    else:
        col = roles["period"]
        raw = frame[col]
        if pd.api.types.is_integer_dtype(raw.dtype):
            out["period"] = raw.astype("int64")
        else:
            labels = raw.astype("str")
            ok = labels.str.fullmatch(r"\d{4}(Q[1-4]|-(0[1-9]|1[0-2]))?").to_numpy() & raw.notna().to_numpy()
            if not ok.all():
                raise _bad(label, "period", col, ~ok, "malformed period", raw,
                           "Period labels are years (2008), quarters (2008Q1) or months (2008-01).")
            out["period"] = labels.astype("int64") if labels.str.len().eq(4).all() else labels
    product, n_restored, n_dropped, keep = _hs6(frame[roles["product"]], roles["product"], label, short_hs)
    out["product"] = product
    out["partner"] = _string_col(frame, "partner", roles["partner"], label, upper=True)
    vcol = roles["value"]
    raw = frame[vcol]
    value = pd.to_numeric(raw, errors="coerce").astype("float64")
    bad = value.isna().to_numpy() | ~np.isfinite(value.to_numpy())
    if bad.any():
        raise _bad(label, "value", vcol, bad, "missing or non-numeric", raw, "Values must be numbers.")
    neg = value.to_numpy() < 0
    if neg.any():
        raise _bad(label, "value", vcol, neg, "negative", raw,
                   "Export values must be >= 0; net out corrections or drop those rows first.")
    out["value"] = value
    if "quantity" in roles:
        qcol = roles["quantity"]
        q = pd.to_numeric(frame[qcol], errors="coerce").astype("float64")
        unparsed = q.isna().to_numpy() & frame[qcol].notna().to_numpy()
        if unparsed.any():
            raise _bad(label, "quantity", qcol, unparsed, "non-numeric", frame[qcol], "Quantities must be numbers.")
        if (q.to_numpy() < 0).any():
            raise _bad(label, "quantity", qcol, q.to_numpy() < 0, "negative", frame[qcol], "Quantities must be >= 0.")
        out["quantity"] = q
    if "flow" in roles:
        out["flow"] = frame[roles["flow"]].astype("str")
    result = pd.DataFrame(out, index=frame.index)
    if n_dropped:
        result = result.loc[keep]
    result = result.reset_index(drop=True)
    for c in ("trader", "product", "partner"):
        if not isinstance(result[c].dtype, pd.CategoricalDtype):
            result[c] = result[c].astype("str")
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


# --------------------------------------------------------------------------------------
# public loader
# --------------------------------------------------------------------------------------
def load_transactions(
    source: Any,
    *,
    roles: str | Mapping[str, str],
    period: str = "year",
    short_hs: str = "restore",
    date_format: str | None = "ISO8601",
    engine: str = "pandas",
) -> Any:
    """Load transaction-level customs records into the canonical transaction frame.

    Parameters
    ----------
    source
        A CSV file (``.csv``, ``.tsv``, optionally compressed), a Parquet file, a folder of
        (hive-partitioned) Parquet files, a glob, a list of these, or a pandas DataFrame.
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
    engine
        ``"pandas"`` returns a pandas DataFrame; ``"dask"`` returns a lazy Dask DataFrame
        with one partition per file (errors are then raised when it is computed).

    Returns
    -------
    pandas.DataFrame or dask.dataframe.DataFrame
        Columns ``trader``, ``period``, ``product``, ``partner``, ``value`` (and ``quantity``,
        ``flow`` when mapped). ``attrs["source"]``, ``attrs["roles"]``, ``attrs["period"]``,
        ``attrs["recoded_hs"]`` and ``attrs["dropped_short_hs"]`` describe the load.

    Raises
    ------
    OptionError
        Bad ``roles``, ``period``, ``short_hs`` or ``engine``.
    MissingColumnsError
        A mapped column is absent (the message names the file).
    InvalidValueError
        Missing ids, unparseable dates, non-numeric or negative values, malformed HS codes
        (the message names the file, column, count and first row).
    UnreadableFileError, EmptyInputError
        Missing or unreadable files, globs matching nothing.

    Examples
    --------
    >>> tx = load_transactions("data/kcs_customs_synthetic/df_syn_*_eng.csv",
    ...                        roles="kcs", period="month")  # doctest: +SKIP
    """
    mapping = resolve_roles(roles)
    period = check_choice("period", period, PERIODS)
    short_hs = check_choice("short_hs", short_hs, ("restore", "error", "drop"))
    engine = check_choice("engine", engine, ("pandas", "dask"))
    if "year" in mapping and period != "year":
        raise OptionError(f"period={period!r} needs a date role; roles give only a year.")
    kw = {"period": period, "short_hs": short_hs, "date_format": date_format}
    if engine == "dask":
        return _load_dask(source, mapping, **kw)
    if isinstance(source, pd.DataFrame):
        out = normalise_transactions(source, mapping, label="<DataFrame>", **kw)
        labels = ["<DataFrame>"]
    else:
        parts = []
        labels = []
        for kind, path in expand_source(source):
            raw = _read_one(kind, path, list(dict.fromkeys(mapping.values())), _string_roles(mapping))
            parts.append(normalise_transactions(raw, mapping, label=str(path), **kw))
            labels.append(str(path))
        out = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
        out.attrs = {
            "recoded_hs": sum(p.attrs["recoded_hs"] for p in parts),
            "dropped_short_hs": sum(p.attrs["dropped_short_hs"] for p in parts),
        }
    if out.empty:
        raise EmptyInputError(f"{', '.join(labels)}: no transaction rows.")
    out.attrs.update({"source": labels, "roles": dict(mapping), "period": period})
    return out


def _string_roles(mapping: Mapping[str, str]) -> list[str]:
    return [mapping[r] for r in ("trader", "product", "partner", "flow") if r in mapping]


def _load_one_for_dask(item: tuple[str, Path], mapping: dict[str, str], kw: dict[str, Any]) -> pd.DataFrame:
    kind, path = item
    raw = _read_one(kind, path, list(dict.fromkeys(mapping.values())), _string_roles(mapping))
    out = normalise_transactions(raw, mapping, label=str(path), **kw)
    out.attrs = {}
    return out


def _meta(mapping: Mapping[str, str], period: str) -> pd.DataFrame:
    cols: dict[str, Any] = {
        "trader": pd.Series(dtype="str"),
        "period": pd.Series(dtype="int64" if period == "year" else "str"),
        "product": pd.Series(dtype="str"),
        "partner": pd.Series(dtype="str"),
        "value": pd.Series(dtype="float64"),
    }
    if "quantity" in mapping:
        cols["quantity"] = pd.Series(dtype="float64")
    if "flow" in mapping:
        cols["flow"] = pd.Series(dtype="str")
    return pd.DataFrame(cols)


def _load_dask(source: Any, mapping: dict[str, str], **kw: Any) -> Any:
    import dask.dataframe as dd

    if isinstance(source, pd.DataFrame):
        ddf = dd.from_pandas(source, npartitions=max(1, len(source) // 1_000_000))
        return ddf.map_partitions(
            normalise_transactions, mapping, label="<DataFrame>", warn=True,
            meta=_meta(mapping, kw["period"]), **kw,
        )
    items: list[tuple[str, Path]] = []
    for kind, path in expand_source(source):
        if kind == "dataset":  # one partition per Parquet file of the folder
            files = sorted(p for p in path.rglob("*") if p.is_file() and p.name.lower().endswith(_PARQUET_SUFFIXES))
            if not files:
                raise EmptyInputError(f"{path}: the folder holds no Parquet file.")
            items.extend(("dataset_file", f) for f in files)
        else:
            items.append((kind, path))
    return dd.from_map(
        _load_dask_item, items, mapping=mapping, kw=kw, meta=_meta(mapping, kw["period"]),
        enforce_metadata=False,
    )


def _load_dask_item(item: tuple[str, Path], mapping: dict[str, str], kw: dict[str, Any]) -> pd.DataFrame:
    kind, path = item
    if kind != "dataset_file":
        return _load_one_for_dask(item, mapping, kw)
    # a file inside a hive-partitioned folder: add the partition keys from the folder names
    import pyarrow.parquet as pq

    table = pq.read_table(path)
    frame = table.to_pandas()
    for part in path.parent.parts:
        if "=" in part:
            key, _, val = part.partition("=")
            if key not in frame.columns:
                frame[key] = int(val) if val.isdigit() else val
    _check_columns(str(path), frame.columns, list(dict.fromkeys(mapping.values())))
    out = normalise_transactions(frame[list(dict.fromkeys(mapping.values()))], mapping, label=str(path), **kw)
    out.attrs = {}
    return out
