"""World Bank Enterprise Surveys (WBES) microdata -> the canonical firm frame.

Parsing only: no statistics here. Reads Stata ``.dta`` (value labels decoded), ``.csv`` and
``.parquet`` files, single-country or pooled (comprehensive) files, and returns one row per
establishment with the canonical columns listed by :func:`wbes_columns` (the single place
where they are documented). Variable names that differ across questionnaire waves are
resolved through ``reference/wbes_variables.csv``.

The cleaned frame of each file is cached as Parquet, keyed by the file's path, size,
modification time and every loader option, so a second load reads only the Parquet file.
"""

from __future__ import annotations

import glob as _glob
import hashlib
import json
import logging
import os
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from .._frozen import FrozenTuple
from .._options import check_choice
from ..classify import sector_class, size_class
from ..errors import (
    DuplicateIdError,
    EmptyInputError,
    InputError,
    InvalidValueError,
    InvalidWeightError,
    MissingColumnsError,
    NotRecognisedError,
    RecodeWarning,
    UnknownCountryError,
    UnreadableFileError,
)
from ..reference import reference_path, to_iso3

logger = logging.getLogger(__name__)

Weights = Literal["median", "strict", "weak"]
WEIGHT_VARS = {"median": "wmedian", "strict": "wstrict", "weak": "wweak"}
_WEIGHT_ALIASES = {"wmedian": "median", "wstrict": "strict", "wweak": "weak"}

#: Columns derived by the loader (not read from one WBES variable).
DERIVED_COLUMNS: tuple[tuple[str, str], ...] = (
    ("survey_id", "Survey identifier '<ISO3>_<year>', e.g. 'KEN_2018'"),
    ("country", "ISO3 code of the economy"),
    ("year", "Survey year"),
    ("firm_id", "Establishment id (idstd), unique within a survey"),
    ("strata", "Sampling stratum made unique across surveys: '<survey_id>:<strata>'"),
    ("weight", "The chosen expansion weight (wmedian by default; wstrict/wweak on request)"),
    ("size_class", "Size class under the chosen size_scheme (default: sampling stratum a6a -> small 5-19, medium 20-99, large 100+)"),
    ("size_class_l1", "Size class from permanent full-time employees l1: micro <5, small 5-19, medium 20-99, large 100+"),
    ("sector", "manufacturing / retail / other_services, from the a4a label, else the ISIC division"),
    ("shares_inconsistent", "True where |d3a + d3b + d3c - 100| > share_tolerance (flagged, never fixed)"),
    ("source_file", "File the row was read from"),
)

_NAME_YEAR = re.compile(r"^\s*(?P<name>.*?)[\s_-]*(?P<year>(19|20)\d\d)\s*$")
_FILE_ISO_YEAR = re.compile(r"(?P<iso>[A-Z]{3})[_-](?P<year>(19|20)\d\d)")
_LOADER_VERSION = "2"


class RecodeLog(FrozenTuple):
    """Immutable record of the negative codes set to missing (one dict per file, variable, code).

    Kept in ``firms.attrs["recodes"]`` and shared, not copied, by pandas operations.
    ``pd.DataFrame(log)`` or :meth:`to_frame` gives columns ``file``, ``variable``,
    ``code``, ``label``, ``n``.
    """

    __slots__ = ()

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame."""
        return pd.DataFrame(list(self), columns=["file", "variable", "code", "label", "n"])


@dataclass(frozen=True)
class _VarSpec:
    canonical: str
    candidates: tuple[str, ...]
    kind: str
    negative_missing: bool
    required: bool
    description: str


@cache
def _variable_map() -> tuple[_VarSpec, ...]:
    table = pd.read_csv(reference_path("wbes_variables.csv"), keep_default_na=False)
    return tuple(
        _VarSpec(
            r.canonical,
            tuple(c.strip().lower() for c in r.wbes_vars.split("|")),
            r.kind,
            r.negative_codes == "missing",
            r.required == "yes",
            r.description,
        )
        for r in table.itertuples(index=False)
    )


def wbes_columns() -> pd.DataFrame:
    """The canonical columns of the firm frame returned by :func:`load_wbes`.

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``wbes_variables`` (the raw WBES names tried, in order;
        empty for derived columns), ``kind`` and ``description``. This table is the one
        place where the canonical names are documented.
    """
    rows = [(c, "", "derived", d) for c, d in DERIVED_COLUMNS]
    rows += [
        (v.canonical, "|".join(v.candidates), v.kind, v.description)
        for v in _variable_map()
        if v.canonical not in {"firm_id", "strata"}
    ]
    return pd.DataFrame(rows, columns=["column", "wbes_variables", "kind", "description"])


# --------------------------------------------------------------------------- reading
@dataclass
class _RawFile:
    name: str  # for messages
    frame: pd.DataFrame  # raw columns, lower-cased names
    value_labels: dict[str, dict[float, str]] = field(default_factory=dict)


def _expand_sources(source) -> list[str | pd.DataFrame]:
    if isinstance(source, pd.DataFrame):
        return [source]
    if isinstance(source, (str, os.PathLike)):
        s = os.fspath(source)
        if any(ch in s for ch in "*?["):
            found = sorted(_glob.glob(s))
            if not found:
                raise EmptyInputError(f"The pattern {s!r} matched no file. Check the folder and the pattern.")
            return list(found)
        p = Path(s)
        if p.is_dir():
            # a folder of WBES files: its Stata files; only if there are none, its CSV/Parquet files
            found = sorted(str(f) for f in p.iterdir() if f.suffix.lower() == ".dta") or sorted(
                str(f) for f in p.iterdir() if f.suffix.lower() in {".csv", ".parquet", ".pq"}
            )
            if not found:
                raise EmptyInputError(f"The folder {s!r} holds no .dta, .csv or .parquet file.")
            return found
        return [s]
    if isinstance(source, Iterable):
        out: list[str | pd.DataFrame] = []
        for item in source:
            out.extend(_expand_sources(item))
        if not out:
            raise EmptyInputError("load_wbes got an empty list of sources.")
        return out
    raise InputError(
        f"load_wbes: source must be a path, a glob, a folder, a list of paths or a DataFrame; "
        f"got {type(source).__name__}."
    )


def _needed_raw(columns_lower: Sequence[str], keep: Sequence[str] | Literal["all"] | None) -> list[str]:
    present = set(columns_lower)
    wanted: list[str] = []
    for spec in _variable_map():
        wanted += [c for c in spec.candidates if c in present]
    wanted += ["wmedian", "wstrict", "wweak"]
    if keep == "all":
        wanted += list(columns_lower)
    elif keep:
        wanted += [k.lower() for k in keep]
    seen: dict[str, None] = {}
    for c in wanted:
        if c in present:
            seen.setdefault(c, None)
    return list(seen)


def _read_dta(path: str, keep) -> _RawFile:
    try:
        reader = pd.io.stata.StataReader(path)
        with reader:
            varlist = list(reader.variable_labels())  # public; keys are the variable names
            lower = [v.lower() for v in varlist]
            wanted_lower = set(_needed_raw(lower, keep))
            cols = [v for v, low in zip(varlist, lower, strict=True) if low in wanted_lower]
            frame = reader.read(columns=cols, convert_categoricals=False, convert_missing=False)
            all_labels = reader.value_labels()
            lbllist = dict(zip(varlist, getattr(reader, "_lbllist", varlist), strict=False))
    except (ValueError, OSError, EOFError, UnicodeDecodeError, KeyError, IndexError, TypeError) as exc:
        raise UnreadableFileError(
            f"Could not read {path!r} as a Stata file ({type(exc).__name__}: {exc}). "
            "The file may be truncated or not a .dta file; download it again."
        ) from exc
    labels = {}
    for v in frame.columns:
        lab = lbllist.get(v) or v
        if lab in all_labels:
            labels[v.lower()] = {float(k): str(val) for k, val in all_labels[lab].items()}
    frame.columns = [c.lower() for c in frame.columns]
    return _RawFile(path, frame, labels)


def _read_csv(path: str, keep) -> _RawFile:
    try:
        header = pd.read_csv(path, nrows=0)
    except pd.errors.EmptyDataError as exc:
        raise EmptyInputError(f"{path!r} is empty (no header line). Download the file again.") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UnreadableFileError(f"Could not read {path!r} as CSV ({exc}).") from exc
    lower = [c.lower() for c in header.columns]
    wanted = set(_needed_raw(lower, keep))
    cols = [c for c, low in zip(header.columns, lower, strict=True) if low in wanted]
    try:
        frame = pd.read_csv(path, usecols=cols, low_memory=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UnreadableFileError(f"Could not read {path!r} as CSV ({exc}). The file may be truncated.") from exc
    frame.columns = [c.lower() for c in frame.columns]
    return _RawFile(path, frame)


def _read_parquet(path: str, keep) -> _RawFile:
    import pyarrow.parquet as pq

    try:
        schema = pq.read_schema(path)
        lower = [c.lower() for c in schema.names]
        wanted = set(_needed_raw(lower, keep))
        cols = [c for c, low in zip(schema.names, lower, strict=True) if low in wanted]
        frame = pd.read_parquet(path, columns=cols)
    except (OSError, ValueError) as exc:
        raise UnreadableFileError(f"Could not read {path!r} as Parquet ({exc}).") from exc
    frame.columns = [c.lower() for c in frame.columns]
    return _RawFile(path, frame)


def _read_any(src: str | pd.DataFrame, keep) -> _RawFile:
    if isinstance(src, pd.DataFrame):
        frame = src.copy()
        frame.columns = [str(c).lower() for c in frame.columns]
        return _RawFile("<DataFrame>", frame)
    path = Path(src)
    if not path.exists():
        raise UnreadableFileError(f"File not found: {src!r}. Check the path (set MSME_STATS_WBES_DIR for real data).")
    if path.stat().st_size == 0:
        raise EmptyInputError(f"{src!r} is empty (0 bytes). Download the file again.")
    suffix = path.suffix.lower()
    if suffix == ".dta":
        return _read_dta(str(path), keep)
    if suffix == ".csv":
        return _read_csv(str(path), keep)
    if suffix in {".parquet", ".pq"}:
        return _read_parquet(str(path), keep)
    raise UnreadableFileError(f"{src!r}: unsupported file type {suffix!r}; use .dta, .csv or .parquet.")


# --------------------------------------------------------------------------- cleaning
def _resolve_columns(raw: _RawFile) -> dict[str, str]:
    """canonical -> raw column name (first candidate present)."""
    present = set(raw.frame.columns)
    found = {}
    for spec in _variable_map():
        for c in spec.candidates:
            if c in present:
                found[spec.canonical] = c
                break
    return found


def _numeric(raw: _RawFile, col: str, canonical: str) -> pd.Series:
    s = raw.frame[col]
    if pd.api.types.is_numeric_dtype(s):
        return s.astype("float64")
    text = s.astype("string").str.strip()
    num = pd.to_numeric(text.replace("", pd.NA), errors="coerce")
    bad = num.isna() & text.notna() & (text != "")
    if bad.any():
        rows = list(np.flatnonzero(bad.to_numpy())[:5])
        examples = ", ".join(f"row {r + 1}: {text.iloc[r]!r}" for r in rows)
        raise InvalidValueError(
            f"{raw.name}: column {col!r} ({canonical}) must be numeric but holds text in "
            f"{int(bad.sum())} cell(s) ({examples}). Fix those cells or recode them to a "
            "WBES missing code (-9)."
        )
    return num.astype("float64")


def _decode(raw: _RawFile, col: str) -> pd.Series:
    """Value-labelled numeric -> label text; other values kept as text."""
    s = raw.frame[col]
    labels = raw.value_labels.get(col)
    if labels and pd.api.types.is_numeric_dtype(s):
        mapped = s.astype("float64").map(labels)
        return mapped.where(mapped.notna(), s.astype("float64").map(lambda v: None if pd.isna(v) else f"{v:g}"))
    return s.astype(object).where(s.notna(), None)


def _survey_keys(raw: _RawFile, cols: dict[str, str], country: str | None, year: int | None) -> tuple[pd.Series, pd.Series]:
    """ISO3 and year per row, from the file's country/year variables, the options or the file name."""
    n = len(raw.frame)
    idx = raw.frame.index
    year_s = pd.Series(np.nan, index=idx)
    name_s = pd.Series([None] * n, index=idx, dtype=object)
    if "country_raw" in cols:
        text = _decode(raw, cols["country_raw"]).astype(object)
        uniq = pd.unique(text.dropna())
        parsed = {}
        for u in uniq:
            m = _NAME_YEAR.match(str(u))
            parsed[u] = (m.group("name"), float(m.group("year"))) if m else (str(u), np.nan)
        name_s = text.map(lambda v: parsed[v][0] if v in parsed else None)
        year_s = text.map(lambda v: parsed[v][1] if v in parsed else np.nan).astype(float)
    if "year_raw" in cols:
        y = _numeric(raw, cols["year_raw"], "year")
        year_s = year_s.where(year_s.notna(), y.where(y > 0))
    stem_match = _FILE_ISO_YEAR.search(Path(raw.name).name) if raw.name != "<DataFrame>" else None
    if country is not None:
        name_s = pd.Series([country] * n, index=idx, dtype=object)
    elif name_s.isna().all() and stem_match:
        name_s = pd.Series([stem_match.group("iso")] * n, index=idx, dtype=object)
    if year is not None:
        year_s = pd.Series(float(year), index=idx)
    elif year_s.isna().all() and stem_match:
        year_s = pd.Series(float(stem_match.group("year")), index=idx)
    if name_s.isna().any() or year_s.isna().any():
        what = "country" if name_s.isna().any() else "year"
        raise InputError(
            f"{raw.name}: cannot tell the survey {what} of {int((name_s.isna() | year_s.isna()).sum())} "
            "row(s): the file has no usable 'country'/'a1' or 'year' variable. Pass "
            "country='KEN' and year=2018 to load_wbes (for a single-survey file)."
        )
    try:
        iso = to_iso3(name_s)
    except UnknownCountryError as exc:
        raise UnknownCountryError(f"{raw.name}: {exc}") from exc
    return iso, year_s.astype(int)


def _recode_negative(series: pd.Series, raw_name: str, col: str, labels: dict | None, counts: list) -> pd.Series:
    neg = series < 0
    if neg.any():
        vc = series[neg].value_counts()
        for code, k in vc.items():
            label = (labels or {}).get(float(code), "")
            counts.append({"file": raw_name, "variable": col, "code": float(code), "label": label, "n": int(k)})
        return series.where(~neg)
    return series


def _clean_one(
    raw: _RawFile,
    *,
    weight_var: str,
    size_scheme: str,
    below5: str,
    split_large: bool,
    keep,
    country: str | None,
    year: int | None,
    share_tolerance: float,
    isic_revision: str,
) -> tuple[pd.DataFrame, list[dict]]:
    if len(raw.frame) == 0:
        raise EmptyInputError(f"{raw.name} holds no rows. Download the file again.")
    cols = _resolve_columns(raw)
    specs = {s.canonical: s for s in _variable_map()}
    n_known = sum(1 for c in cols if c not in {"country_raw", "year_raw"})
    if n_known < 3:
        raise NotRecognisedError(
            f"{raw.name} does not look like an Enterprise Surveys file: it has none or almost none "
            f"of the WBES variables (idstd, strata, wmedian, a6a, d3c, ...). Columns seen: "
            f"{list(raw.frame.columns)[:15]}. Check that this is a WBES standardized or comprehensive file."
        )
    required = [s.canonical for s in _variable_map() if s.required and s.canonical != "wmedian"]
    missing = [c for c in required if c not in cols]
    if weight_var not in raw.frame.columns:
        missing.append(weight_var)
    if missing:
        detail = ", ".join(
            f"{m} (WBES name: {'|'.join(specs[m].candidates) if m in specs else m})" for m in missing
        )
        raise MissingColumnsError(
            f"{raw.name}: required column(s) missing: {detail}. "
            "Use the WBES standardized file, or rename your columns to the WBES names."
        )

    recodes: list[dict] = []
    out: dict[str, pd.Series] = {}
    iso, yr = _survey_keys(raw, cols, country, year)
    survey_id = iso.astype(str) + "_" + yr.astype(str)
    out["survey_id"] = survey_id
    out["country"] = iso
    out["year"] = yr

    fid = raw.frame[cols["firm_id"]]
    if pd.api.types.is_float_dtype(fid) and fid.notna().all() and (fid == np.round(fid)).all():
        fid = fid.astype("int64")
    elif pd.api.types.is_integer_dtype(fid):
        fid = fid.astype("int64")
    if fid.isna().any():
        raise InvalidValueError(
            f"{raw.name}: column {cols['firm_id']!r} (firm id) is missing in {int(fid.isna().sum())} row(s). "
            "Every establishment needs an id."
        )
    dup = pd.DataFrame({"s": survey_id, "f": fid}).duplicated(keep=False)
    if dup.any():
        dups = pd.DataFrame({"s": survey_id[dup], "f": fid[dup]}).drop_duplicates()
        shown = ", ".join(f"{s}/{f}" for s, f in dups.head(5).itertuples(index=False))
        raise DuplicateIdError(
            f"{raw.name}: {len(dups)} firm id(s) repeat within a survey (survey/firm: {shown}). "
            f"Each establishment must appear once; check for appended files or remove the duplicates."
        )
    out["firm_id"] = fid

    strata_raw = _decode(raw, cols["strata"]) if cols["strata"] in raw.value_labels else raw.frame[cols["strata"]]
    if strata_raw.isna().any():
        raise InvalidValueError(
            f"{raw.name}: column {cols['strata']!r} (sampling stratum) is missing for "
            f"{int(strata_raw.isna().sum())} firm(s) (first firm ids: {list(fid[strata_raw.isna()].head(5))}). "
            "Every firm needs a stratum for design-based standard errors."
        )
    st = strata_raw.map(lambda v: f"{v:g}" if isinstance(v, float) else str(v))
    out["strata"] = survey_id + ":" + st

    w = _numeric(raw, weight_var, "weight")
    bad_w = w.isna() | (w <= 0)
    if bad_w.any():
        kinds = {"missing": int(w.isna().sum()), "zero": int((w == 0).sum()), "negative": int((w < 0).sum())}
        desc = ", ".join(f"{v} {k}" for k, v in kinds.items() if v)
        raise InvalidWeightError(
            f"{raw.name}: weight {weight_var!r} is not positive for {int(bad_w.sum())} firm(s) ({desc}; "
            f"first firm ids: {list(fid[bad_w].head(5))}). Choose another weight (weights='strict'|'weak') "
            "or remove those firms explicitly before estimating."
        )
    out["weight"] = w

    stratum_label = _decode(raw, cols["size_stratum"])
    out["size_stratum"] = stratum_label
    emp = None
    if "employees" in cols:
        emp = _recode_negative(_numeric(raw, cols["employees"], "employees"), raw.name, cols["employees"], raw.value_labels.get(cols["employees"]), recodes)
    tmp = pd.DataFrame({"size_stratum": stratum_label, "employees": emp if emp is not None else np.nan})
    if size_scheme == "a6a":
        out["size_class"] = size_class(tmp, scheme="a6a", split_large=split_large)
    else:
        out["size_class"] = size_class(tmp, scheme="l1", below5=below5)
    out["size_class_l1"] = size_class(tmp, scheme="l1", below5=below5)

    sector_frame = pd.DataFrame(index=raw.frame.index)
    if "sector_raw" in cols:
        sector_frame["sector_raw"] = _decode(raw, cols["sector_raw"])
    if "isic" in cols:
        sector_frame["isic"] = _recode_negative(_numeric(raw, cols["isic"], "isic"), raw.name, cols["isic"], None, recodes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sector = sector_class(sector_frame, isic_revision=isic_revision)
    for wmsg in caught:
        warnings.warn(f"{raw.name}: {wmsg.message}", wmsg.category, stacklevel=4)
    out["sector"] = sector

    for spec in _variable_map():
        if spec.canonical in out or spec.canonical in {"firm_id", "strata", "country_raw", "year_raw", "size_stratum", "isic", "employees"} or spec.canonical not in cols:
            continue
        col = cols[spec.canonical]
        if spec.kind in ("label",):
            out[spec.canonical] = _decode(raw, col)
            continue
        values = _numeric(raw, col, spec.canonical)
        if spec.negative_missing:
            values = _recode_negative(values, raw.name, col, raw.value_labels.get(col), recodes)
        if spec.kind == "yesno":
            values = values.map({1.0: True, 2.0: False}).astype("boolean")
        out[spec.canonical] = values
    if "isic" in sector_frame:
        out["isic"] = sector_frame["isic"]
    if emp is not None:
        out["employees"] = emp

    for wname in ("wmedian", "wstrict", "wweak"):
        if wname in raw.frame.columns:
            out[wname] = _numeric(raw, wname, wname)

    frame = pd.DataFrame(out, index=raw.frame.index)
    shares = [c for c in ("national_sales_pct", "indirect_export_pct", "direct_export_pct") if c in frame]
    if len(shares) == 3:
        total = frame[shares].sum(axis=1, min_count=3)
        frame["shares_inconsistent"] = (total - 100).abs() > share_tolerance
    else:
        frame["shares_inconsistent"] = False
    frame["source_file"] = raw.name

    if keep:
        mapped = set(cols.values()) | {"wmedian", "wstrict", "wweak"}
        extra = list(raw.frame.columns) if keep == "all" else [k.lower() for k in keep]
        absent = [k for k in extra if k not in raw.frame.columns]
        if absent and keep != "all":
            raise MissingColumnsError(f"{raw.name}: keep= asks for column(s) {absent} that the file does not have.")
        for k in extra:
            if k not in mapped and k not in frame.columns:
                frame[k] = raw.frame[k]
    return frame.reset_index(drop=True), recodes


# --------------------------------------------------------------------------- caching
def _default_cache_dir() -> Path:
    env = os.environ.get("MSME_STATS_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "msme_stats" / "wbes"


@cache
def _maps_digest() -> str:
    maps = "".join(
        reference_path(n).read_text()
        for n in ("wbes_variables.csv", "wbes_size_codes.csv", "wbes_sector_labels.csv", "isic_sectors.csv", "country_aliases.csv", "countries.csv")
        if reference_path(n).exists()
    )
    return hashlib.sha256(maps.encode()).hexdigest()


def _cache_key(path: str, options: dict) -> str:
    st = os.stat(path)
    payload = json.dumps(
        {"path": os.path.abspath(path), "size": st.st_size, "mtime": st.st_mtime_ns, "opts": options,
         "maps": _maps_digest(), "v": _LOADER_VERSION},
        sort_keys=True, default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _write_cache(frame: pd.DataFrame, recodes: list[dict], target: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    target.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"msme_stats_recodes"] = json.dumps(recodes).encode()
    # float columns keep NaN as NaN in non-nullable columns: no definition levels to decode and
    # a copy-free conversion back to pandas (the values read back are the same)
    arrays, fields = [], []
    for name, fld in zip(table.column_names, table.schema, strict=True):
        if pa.types.is_floating(fld.type):
            arrays.append(pa.array(frame[name].to_numpy(dtype=fld.type.to_pandas_dtype()), from_pandas=False))
            fields.append(fld.with_nullable(False))
        else:
            arrays.append(table.column(name))
            fields.append(fld)
    table = pa.Table.from_arrays(arrays, schema=pa.schema(fields, metadata=meta))
    tmp = target.with_suffix(f".tmp{os.getpid()}")
    try:
        # uncompressed, dictionary-encoded only where pandas has categories: the cache is read
        # far more often than written, and decoding dominates a reload
        categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
        pq.write_table(table, tmp, compression="none", use_dictionary=categorical, write_statistics=False)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


def _read_cache(target: Path) -> tuple[pd.DataFrame, list[dict]] | None:
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(target, memory_map=True).read()
    except (OSError, ValueError):
        return None
    recodes = json.loads((table.schema.metadata or {}).get(b"msme_stats_recodes", b"[]"))
    return table.to_pandas(split_blocks=True), recodes


# --------------------------------------------------------------------------- public
def load_wbes(
    source,
    *,
    weights: Weights = "median",
    size_scheme: Literal["a6a", "l1"] = "a6a",
    below5: Literal["separate", "merge_small"] = "separate",
    split_large: bool = False,
    keep: Sequence[str] | Literal["all"] | None = None,
    country: str | None = None,
    year: int | None = None,
    share_tolerance: float = 1.0,
    isic_revision: Literal["3.1", "4"] = "3.1",
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Load World Bank Enterprise Surveys microdata into the canonical firm frame.

    Parameters
    ----------
    source
        A path, a glob (``"data/wbes/*.dta"``), a folder (its ``.dta`` files, or its
        ``.csv``/``.parquet`` files when it has no ``.dta``), a list of those, or a DataFrame
        with WBES variable names. Stata ``.dta`` (value labels decoded), ``.csv`` and
        ``.parquet``; single-country files and pooled (comprehensive) files alike.
    weights
        Which expansion weight becomes the ``weight`` column: ``"median"`` (``wmedian``,
        the official one, default), ``"strict"`` (``wstrict``) or ``"weak"`` (``wweak``).
        Stata: ``svyset idstd [pweight=wmedian], strata(strata)``; R:
        ``svydesign(ids=~1, strata=~strata, weights=~wmedian)``.
    size_scheme
        ``"a6a"`` (default): ``size_class`` is the sampling stratum (official WBES
        breakdown); ``"l1"``: it is cut from employees. ``size_class_l1`` is always added.
    below5
        Employee-based classes: ``"separate"`` keeps firms with fewer than 5 employees as
        ``micro`` (default); ``"merge_small"`` counts them as small. Never dropped.
    split_large
        Keep a 250+ sampling stratum apart as ``large_250plus`` (default folds it into large).
    keep
        Other original variables to carry (list of WBES names) or ``"all"``.
    country, year
        The survey's economy and year when the file does not say (single-survey files).
    share_tolerance
        Rows with ``|d3a + d3b + d3c - 100| > share_tolerance`` get
        ``shares_inconsistent=True`` (flagged, never fixed; METHODS 2.2).
    isic_revision
        Revision of the ISIC codes used when the sector label is missing.
    cache, cache_dir
        Cache each cleaned file as Parquet (default folder ``$MSME_STATS_CACHE`` or
        ``~/.cache/msme_stats/wbes``) and reload from there while the file and the options
        are unchanged.

    Returns
    -------
    pandas.DataFrame
        One row per establishment; columns as listed by :func:`wbes_columns`. Negative
        WBES codes (-9 don't know, -8 refused, -7 does not apply, any other negative code on
        a quantity) are set to missing, and the count per variable is reported with a
        :class:`~msme_stats.errors.RecodeWarning` and kept in ``.attrs["recodes"]``.
        ``.attrs`` also records ``weight_var``, ``size_scheme`` and the source files.

    Raises
    ------
    MsmeStatsError
        Subclasses name the file and column: missing required columns (all listed),
        text in numeric columns, duplicate firm ids, bad weights, unknown country, empty,
        truncated or non-WBES files.
    """
    weights = check_choice("weights", weights, tuple(WEIGHT_VARS), aliases=_WEIGHT_ALIASES)
    size_scheme = check_choice("size_scheme", size_scheme, ("a6a", "l1"))
    below5 = check_choice("below5", below5, ("separate", "merge_small"))
    isic_revision = check_choice("isic_revision", str(isic_revision), ("3.1", "4"))
    weight_var = WEIGHT_VARS[weights]
    opts = {
        "weight_var": weight_var, "size_scheme": size_scheme, "below5": below5, "split_large": split_large,
        "keep": keep if keep in (None, "all") else sorted(keep), "country": country, "year": year,
        "share_tolerance": share_tolerance, "isic_revision": isic_revision,
    }
    sources = _expand_sources(source)
    cdir = Path(cache_dir) if cache_dir is not None else _default_cache_dir()
    frames, recodes, names = [], [], []
    for src in sources:
        target = None
        if cache and not isinstance(src, pd.DataFrame) and Path(src).exists():
            target = cdir / f"{Path(src).stem}-{_cache_key(str(src), opts)}.parquet"
            hit = _read_cache(target) if target.exists() else None
            if hit is not None:
                logger.info("load_wbes: %s read from cache %s", src, target)
                frames.append(hit[0])
                recodes += hit[1]
                names.append(str(src))
                continue
        raw = _read_any(src, keep)
        frame, rec = _clean_one(
            raw, weight_var=weight_var, size_scheme=size_scheme, below5=below5, split_large=split_large,
            keep=keep, country=country, year=year, share_tolerance=share_tolerance, isic_revision=isic_revision,
        )
        frame = _finalise_dtypes(frame)
        if target is not None:
            try:
                _write_cache(frame, rec, target)
            except OSError as exc:  # a read-only cache must not stop the load
                logger.warning("load_wbes: could not write cache %s (%s)", target, exc)
        frames.append(frame)
        recodes += rec
        names.append(raw.name)

    if len(frames) == 1:  # checked for duplicates when it was cleaned
        firms = frames[0]
        dup = pd.Series(False, index=firms.index)
    else:
        firms = _finalise_dtypes(pd.concat(frames, ignore_index=True))
        # a firm can only repeat across files if a survey appears in more than one file
        seen: dict[str, int] = {}
        for fr in frames:
            for sid in fr["survey_id"].cat.categories if isinstance(fr["survey_id"].dtype, pd.CategoricalDtype) else fr["survey_id"].unique():
                seen[sid] = seen.get(sid, 0) + 1
        shared = [sid for sid, k in seen.items() if k > 1]
        dup = pd.Series(False, index=firms.index)
        if shared:
            dup = firms["survey_id"].isin(shared) & firms.duplicated(["survey_id", "firm_id"], keep=False)
    if dup.any():
        d = firms.loc[dup, ["survey_id", "firm_id", "source_file"]].drop_duplicates()
        raise DuplicateIdError(
            f"{int(dup.sum())} rows share a survey and firm id across the files loaded together "
            f"(e.g. {d.head(3).to_dict('records')}). The same survey seems to be loaded twice; "
            "load each survey once."
        )
    if recodes:
        per_var: dict[str, int] = {}
        for r in recodes:
            per_var[r["variable"]] = per_var.get(r["variable"], 0) + r["n"]
        warnings.warn(
            "load_wbes: negative WBES codes set to missing: "
            + ", ".join(f"{v} {per_var[v]}" for v in sorted(per_var))
            + " (details in .attrs['recodes']).",
            RecodeWarning,
            stacklevel=2,
        )
    n_bad = int(firms["shares_inconsistent"].sum())
    if n_bad:
        logger.warning("load_wbes: %d firm(s) have d3a+d3b+d3c off 100 by more than %s (flagged in shares_inconsistent).", n_bad, share_tolerance)
    firms.attrs = {
        "weight_var": weight_var,
        "size_scheme": size_scheme,
        "below5": below5,
        "source_files": tuple(names),
        "recodes": RecodeLog(recodes),
    }
    return firms


_CATEGORICAL = ("survey_id", "country", "strata", "source_file")


def _finalise_dtypes(firms: pd.DataFrame) -> pd.DataFrame:
    firms = firms.copy()
    labels = [v.canonical for v in _variable_map() if v.kind == "label" and v.canonical in firms.columns]
    for c in (*_CATEGORICAL, *labels):
        firms[c] = firms[c].astype("category")
    firms["year"] = firms["year"].astype("int64")
    from ..classify import SECTOR_ORDER, WBES_SIZE_ORDER

    size_order = list(WBES_SIZE_ORDER) + (["large_250plus"] if (firms["size_class"].astype(object) == "large_250plus").any() else [])
    firms["size_class"] = pd.Categorical(firms["size_class"].astype(object), categories=size_order, ordered=True)
    firms["size_class_l1"] = pd.Categorical(firms["size_class_l1"].astype(object), categories=list(WBES_SIZE_ORDER), ordered=True)
    firms["sector"] = pd.Categorical(firms["sector"].astype(object), categories=list(SECTOR_ORDER), ordered=True)
    front = [c for c, _ in DERIVED_COLUMNS if c in firms.columns and c not in ("shares_inconsistent", "source_file")]
    rest = [c for c in firms.columns if c not in front]
    return firms[front + rest]
