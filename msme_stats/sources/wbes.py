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

import fnmatch
import glob as _glob
import hashlib
import json
import logging
import os
import re
import struct
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd

from .._atomic import atomic_write_bytes
from .._docs import fill_pieces
from .._frozen import FrozenTuple
from .._options import (
    WEIGHT_ALIASES,
    WEIGHT_VARS,
    IsicRevision,
    WbesBelow5,
    WbesSizeScheme,
    WbesWeight,
    check_choice,
    check_number,
    choices,
    format_code,
)
from ..classify import sector_class, size_class
from ..errors import (
    DuplicateIdError,
    DuplicateSurveyError,
    EmptyInputError,
    InputError,
    InvalidValueError,
    InvalidWeightError,
    MissingColumnsError,
    NotRecognisedError,
    OptionError,
    RecodeWarning,
    UnknownCountryError,
    UnreadableFileError,
)
from ..reference import reference_path, to_iso3
from ..screens import DEFAULT_SCREENS, screen_outliers

logger = logging.getLogger(__name__)

Weights = WbesWeight

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
    ("interview_year", "Calendar year of the interview (a14y, negative codes -> missing); present when the file has a14y. Informative only: a survey's fieldwork can span two calendar years, so it never tells surveys apart"),
    ("interview_month", "Month of the interview (a14m, negative codes -> missing); present when the file has a14m"),
    ("shares_inconsistent", "True where |d3a + d3b + d3c - 100| > share_tolerance (flagged, never fixed)"),
    ("outlier_sales", "True where sales (d2) lie more than outlier_k robust SDs (1.4826 MAD of logs) from the survey's median (flagged, never dropped; msme_stats.screens)"),
    ("outlier_employees", "Same screen on employees (l1)"),
    ("outlier_sales_per_employee", "Same screen on sales per employee (d2 / l1)"),
    ("outlier_any", "True where any of the three screens flags the firm"),
    ("source_file", "File the row was read from"),
)

_NAME_YEAR = re.compile(r"^\s*(?P<name>.*?)[\s_-]*(?P<year>(19|20)\d\d)\s*$")
_FILE_ISO_YEAR = re.compile(r"(?:^|[^A-Za-z])(?P<iso>[A-Z]{3})[_-](?P<year>(19|20)\d\d)(?!\d)")
_FILE_NAME_YEAR = re.compile(r"^(?P<name>[^\W\d_][^\d]*?)[\s_-]+(?P<year>(19|20)\d\d)(?:[\s_.-]|$)")
_LOADER_VERSION = "3"
_INTERVIEW_VARS = {"a14y": "interview_year", "a14m": "interview_month"}


class RecodeLog(FrozenTuple):
    """Immutable record of the negative codes set to missing (one dict per file, variable, code).

    Kept in ``firms.attrs["recodes"]`` and shared, not copied, by pandas operations.
    ``pd.DataFrame(log)`` or :meth:`to_frame` gives columns ``file``, ``variable``,
    ``code``, ``label``, ``n``.
    """

    __slots__ = ()

    def to_frame(self) -> pd.DataFrame:
        """The log as a DataFrame.

        Returns
        -------
        pandas.DataFrame
            One row per file, variable and code: ``file``, ``variable``, ``code``,
            ``label`` (the file's value label, ``""`` if none) and ``n`` (firms recoded).

        Raises
        ------
        None
            The log is built by :func:`load_wbes`.

        Examples
        --------
        >>> from msme_stats.sources.wbes import RecodeLog
        >>> log = RecodeLog([{"file": "KEN.dta", "variable": "d3c", "code": -9.0,
        ...                   "label": "Don't know", "n": 6}])
        >>> log.to_frame()[["variable", "code", "n"]].to_numpy().tolist()
        [['d3c', -9.0, 6]]
        """
        return pd.DataFrame(list(self), columns=["file", "variable", "code", "label", "n"])


@dataclass(frozen=True)
class _VarSpec:
    canonical: str
    candidates: tuple[str, ...]
    kind: str
    negative_missing: bool
    required: bool
    description: str


class _VariableRow(NamedTuple):
    """One row of ``reference/wbes_variables.csv`` (every column is text)."""

    canonical: str
    wbes_vars: str
    kind: str
    negative_codes: str
    required: str
    description: str


@cache
def _variable_map() -> tuple[_VarSpec, ...]:
    table = pd.read_csv(reference_path("wbes_variables.csv"), keep_default_na=False)
    rows = (_VariableRow(*t) for t in table[list(_VariableRow._fields)].itertuples(index=False, name=None))
    return tuple(
        _VarSpec(
            r.canonical,
            tuple(c.strip().lower() for c in r.wbes_vars.split("|")),
            r.kind,
            r.negative_codes == "missing",
            r.required == "yes",
            r.description,
        )
        for r in rows
    )


def wbes_columns() -> pd.DataFrame:
    """The canonical columns of the firm frame returned by :func:`load_wbes`.

    Returns
    -------
    pandas.DataFrame
        Columns ``column``, ``wbes_variables`` (the raw WBES names tried, in order;
        empty for derived columns), ``kind`` and ``description``. This table is the one
        place where the canonical names are documented.

    Raises
    ------
    None
        The table is built from the package's own ``reference/wbes_variables.csv``.

    Examples
    --------
    >>> import msme_stats as ms
    >>> cols = ms.wbes_columns()
    >>> cols["column"].head(5).tolist()
    ['survey_id', 'country', 'year', 'firm_id', 'strata']
    >>> cols.set_index("column").loc["direct_export_pct", ["wbes_variables", "description"]].tolist()
    ['d3c', '% of sales exported directly']
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
    #: what the file says about itself: data label, format, label-set oddities (for inspect)
    meta: dict = field(default_factory=dict)


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
            return list(found)
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
    wanted += ["wmedian", "wstrict", "wweak", "synthetic", *_INTERVIEW_VARS]
    if keep == "all":
        wanted += list(columns_lower)
    elif keep:
        wanted += [k.lower() for k in keep]
    seen: dict[str, None] = {}
    for c in wanted:
        if c in present:
            seen.setdefault(c, None)
    return list(seen)


def _case_clash(name: str, names: Sequence[str], wanted: set[str]) -> None:
    """Variable names are matched case-insensitively: two names equal but for case are ambiguous."""
    seen: dict[str, str] = {}
    for v in names:
        low = v.lower()
        if low in wanted and low in seen:
            raise InvalidValueError(
                f"{name}: variables {seen[low]!r} and {v!r} differ only by case; msme_stats matches WBES "
                "variable names case-insensitively. Rename or drop one of them."
            )
        seen.setdefault(low, v)


def _read_dta(path: str, keep) -> _RawFile:
    from ._dta import read_dta_header, redecode

    try:
        header = read_dta_header(path)
    except (ValueError, OSError, struct.error) as exc:
        raise UnreadableFileError(
            f"Could not read {path!r} as a Stata file ({exc}). "
            "The file may be truncated or not a .dta file; download it again."
        ) from exc
    fix = redecode if header.format < 118 else (lambda s: s)  # <= 117: no encoding field, pandas reads latin-1
    try:
        reader = pd.io.stata.StataReader(path)
        with reader:
            varlist = list(reader.variable_labels())  # public; keys are the variable names
            if [fix(v) for v in varlist] != list(header.varnames):
                raise ValueError("the variable names in the header do not match the data description")
            lower = [v.lower() for v in varlist]
            wanted_lower = set(_needed_raw(lower, keep))
            _case_clash(path, varlist, wanted_lower)
            cols = [v for v, low in zip(varlist, lower, strict=True) if low in wanted_lower]
            # pandas-stubs lacks StataReader.read (public pandas API)
            frame = reader.read(columns=cols, convert_categoricals=False,  # type: ignore[attr-defined]
                                convert_missing=False)
            all_labels = reader.value_labels()  # public: label-set name -> {code: label}
    except InvalidValueError:
        raise
    except (ValueError, OSError, EOFError, UnicodeDecodeError, KeyError, IndexError, TypeError, struct.error) as exc:
        raise UnreadableFileError(
            f"Could not read {path!r} as a Stata file ({type(exc).__name__}: {exc}). "
            "The file may be truncated or not a .dta file; download it again."
        ) from exc
    label_sets = {fix(k): v for k, v in all_labels.items()}
    set_of = dict(zip(header.varnames, header.label_sets, strict=True))  # from the header: no private attribute
    labels: dict[str, dict[float, str]] = {}
    undefined: list[str] = []
    repeated: list[str] = []
    for v in frame.columns:
        name = set_of.get(fix(v), "")
        if not name:
            continue
        if name not in label_sets:  # a variable may name a set the file does not define: unlabelled
            undefined.append(f"{v}->{name}")
            continue
        decoded = {float(k): fix(str(val)) for k, val in label_sets[name].items()}
        if len(set(decoded.values())) < len(decoded):  # tolerated: codes stay codes, labels are text
            repeated.append(f"{v}->{name}")
        labels[v.lower()] = decoded
    frame.columns = [c.lower() for c in frame.columns]
    users: dict[str, list[str]] = {}
    for v, s in zip(header.varnames, header.label_sets, strict=True):
        if s:
            users.setdefault(s, []).append(v)
    repeated_any = sorted(
        f"{name} ({', '.join(users.get(name, [])) or 'no variable'})" for name, tab in label_sets.items()
        if len({str(x) for x in tab.values()}) < len(tab)
    )
    meta = {"format": header.format, "data_label": header.data_label, "undefined_label_sets": undefined,
            "repeated_label_sets": repeated, "repeated_label_sets_in_file": repeated_any}
    return _RawFile(path, frame, labels, meta)


def _check_csv_fields(path: str) -> None:
    """Every row of a CSV file must have as many fields as its header (pandas' ``usecols=`` does not check)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            rows = csv.reader(fh)
            header = next(rows, None)
            if header is None:
                return
            n = len(header)
            for k, row in enumerate(rows, start=1):
                if len(row) != n and row:
                    raise InvalidValueError(
                        f"{path!r}: data row {k} (line {rows.line_num}) has {len(row)} fields but the header has "
                        f"{n}: its values would be shifted into the wrong columns. Fix that row (a stray comma "
                        "or an unquoted text) and load again."
                    )
    except UnicodeDecodeError:
        return  # latin-1 files: pandas reports the decoding problem below
    except csv.Error as exc:
        raise UnreadableFileError(f"Could not read {path!r} as CSV ({exc}).") from exc


def _read_csv(path: str, keep) -> _RawFile:
    try:
        header = pd.read_csv(path, nrows=0)
    except pd.errors.EmptyDataError as exc:
        raise EmptyInputError(f"{path!r} is empty (no header line). Download the file again.") from exc
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise UnreadableFileError(f"Could not read {path!r} as CSV ({exc}).") from exc
    _check_csv_fields(path)
    lower = [c.lower() for c in header.columns]
    wanted = set(_needed_raw(lower, keep))
    _case_clash(path, list(header.columns), wanted)
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
        _case_clash("<DataFrame>", [str(c) for c in frame.columns], {str(c).lower() for c in frame.columns})
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
    num = pd.to_numeric(text.mask(text == ""), errors="coerce")  # "" -> <NA>
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
        return mapped.where(mapped.notna(), s.astype("float64").map(lambda v: None if pd.isna(v) else format_code(v)))
    return s.astype(object).where(s.notna(), None)


def _try_iso3(text: str) -> str | None:
    try:
        return str(to_iso3([text]).iloc[0])
    except (UnknownCountryError, InputError):
        return None


def file_name_survey(name: str | os.PathLike) -> tuple[str | None, int | None]:
    """Economy and survey year named by a file name, or ``(None, None)``.

    Recognises the World Bank Microdata Library names (``Kenya-2018-full-data.dta``,
    ``Turkey-2019-full-data.dta``) and ``<ISO3>_<year>`` names (``KEN_2013_synthetic.dta``).
    The year is only taken when the text before it is an economy: ``extract_2019.dta`` says
    nothing.

    Parameters
    ----------
    name
        A file name or path; only its stem (name without folder and suffix) is read.

    Returns
    -------
    tuple of (str or None, int or None)
        The ISO3 code of the economy and the survey year, or ``(None, None)`` when the name
        does not name both.

    Raises
    ------
    None
        A name that names no economy gives ``(None, None)``; it never raises.

    Examples
    --------
    >>> from msme_stats.sources.wbes import file_name_survey
    >>> file_name_survey("Kenya-2018-full-data.dta")
    ('KEN', 2018)
    >>> file_name_survey("data/wbes/Cote-dIvoire-2016-full-data.dta")
    ('CIV', 2016)
    >>> file_name_survey("extract_2019.dta")
    (None, None)
    """
    stem = Path(name).stem
    m = _FILE_ISO_YEAR.search(stem)
    if m and (iso := _try_iso3(m.group("iso"))):
        return iso, int(m.group("year"))
    m = _FILE_NAME_YEAR.match(stem)
    if m:
        iso = _try_iso3(re.sub(r"[_-]+", " ", m.group("name")).strip())
        if iso:
            return iso, int(m.group("year"))
    return None, None


@cache
def _catalogue() -> pd.DataFrame:
    from ..reference import read_reference

    return read_reference("wbes_surveys.csv")


def survey_catalogue() -> pd.DataFrame:
    """The bundled catalogue of Enterprise Surveys: economy, survey year and fieldwork months.

    Used by :func:`load_wbes` for files that name neither their survey year (no ``year``
    variable, no ``Kenya2018``-style ``country`` value, no year in the file name): the
    survey is the one of that economy whose fieldwork window holds every interview date
    (``a14y``/``a14m``). Sources in ``reference/SOURCES.md``.

    Returns
    -------
    pandas.DataFrame
        One row per survey: ``iso3``, ``economy``, ``survey_year``, ``fieldwork_start`` and
        ``fieldwork_end`` (``YYYY-MM``), ``standard_file`` (the Microdata Library file name)
        and ``source``, all as text. A copy: changing it does not change the catalogue.

    Raises
    ------
    None
        The table is the package's own ``reference/wbes_surveys.csv``.

    Examples
    --------
    >>> import msme_stats as ms
    >>> cat = ms.survey_catalogue()
    >>> cat.loc[cat["iso3"] == "KEN", ["survey_year", "fieldwork_start", "fieldwork_end"]].to_numpy().tolist()
    [['2018', '2018-05', '2019-01']]
    """
    return _catalogue().copy()


class _CatalogueRow(NamedTuple):
    """The columns of ``reference/wbes_surveys.csv`` that date a survey."""

    survey_year: str  # read_reference reads text
    fieldwork_start: str  # YYYY-MM
    fieldwork_end: str  # YYYY-MM


def _catalogue_year(raw: _RawFile, iso: str) -> tuple[int | None, str]:
    cat = _catalogue()
    cat = cat[cat["iso3"] == iso]
    if cat.empty or "a14y" not in raw.frame.columns:
        return None, "no catalogue entry" if cat.empty else "no interview year a14y"
    y = pd.to_numeric(raw.frame["a14y"], errors="coerce")
    m = pd.to_numeric(raw.frame["a14m"], errors="coerce") if "a14m" in raw.frame.columns else pd.Series(np.nan, index=y.index)
    ok = y > 0
    if not ok.any():
        return None, "no valid interview year a14y"
    months = (y[ok] * 12 + m[ok].where(m[ok].between(1, 12)) - 1)
    hits: list[_CatalogueRow] = []
    for r in (_CatalogueRow(*t) for t in cat[list(_CatalogueRow._fields)].itertuples(index=False, name=None)):
        sy, sm = (int(x) for x in r.fieldwork_start.split("-"))
        ey, em = (int(x) for x in r.fieldwork_end.split("-"))
        lo, hi = sy * 12 + sm - 1, ey * 12 + em - 1
        inside_m = months.dropna().between(lo, hi).all()
        inside_y = y[ok].between(sy, ey).all()
        if inside_m and inside_y:
            hits.append(r)
    if len(hits) != 1:
        return None, f"{len(hits)} catalogue surveys of {iso} match the interview dates"
    r = hits[0]
    return int(r.survey_year), f"survey catalogue (fieldwork {r.fieldwork_start} to {r.fieldwork_end})"


def _country_from_file(raw: _RawFile, cols: dict[str, str]) -> tuple[pd.Series | None, pd.Series | None, str, str]:
    """Per-row economy names and years from the file's own variables, with where they came from."""
    if "country_raw" not in cols:
        return None, None, "", ""
    col = cols["country_raw"]
    s = raw.frame[col]
    labels = raw.value_labels.get(col)
    year_s = None
    if pd.api.types.is_numeric_dtype(s):
        vals = s.astype("float64")
        present = pd.unique(vals.dropna())
        if not labels:
            raise UnknownCountryError(
                f"{raw.name}: variable {col!r} holds numeric codes ({', '.join(format_code(v) for v in present[:5])}) "
                "without value labels, so the economy cannot be read from it (WBES codes are not ISO "
                "codes). Load the .dta file as distributed, or pass surveys={path: ('ISO3', year)}."
            )
        unlabelled = [v for v in present if v not in labels]
        if unlabelled:
            raise UnknownCountryError(
                f"{raw.name}: code(s) {', '.join(format_code(v) for v in unlabelled[:5])} of {col!r} "
                f"({int(vals.isin(unlabelled).sum())} row(s)) have no label in the file's value-label set, so "
                "their economy is unknown. Pass surveys={path: ('ISO3', year)} to name the survey."
            )
        text = vals.map(labels)
        src = f"{col} value label"
    else:
        text = s.astype(object).where(s.notna(), None)
        src = f"{col} variable"
    uniq = pd.unique(text.dropna())
    parsed = {}
    for u in uniq:
        m = _NAME_YEAR.match(str(u))
        parsed[u] = (m.group("name"), float(m.group("year"))) if m else (str(u).strip(), np.nan)
    name_s = text.map(lambda v: parsed[v][0] if v in parsed else None)
    ys = text.map(lambda v: parsed[v][1] if v in parsed else np.nan).astype(float)
    if ys.notna().any():
        year_s = ys
    return name_s, year_s, src, src


def _fmt_set(values) -> str:
    return ", ".join(sorted({str(v) for v in values}))


def _file_country_year(raw: _RawFile, cols: dict[str, str], ov_country: str | None):
    """What the file itself says: ISO3 per row (or None), survey year per row (or None), and
    where each came from.

    Codes without labels are tolerated when an override names the economy (they cannot be
    checked against it); a missing economy in some rows raises.
    """
    where = raw.name
    try:
        name_s, year_s, csrc, ysrc = _country_from_file(raw, cols)
    except UnknownCountryError:
        if ov_country is None:
            raise
        # codes without labels cannot be checked against the override: the override names the survey
        name_s, year_s, csrc, ysrc = None, None, "", ""
    file_iso = None
    if name_s is not None:
        if name_s.isna().any():
            raise InvalidValueError(
                f"{where}: the economy ({csrc}) is missing in {int(name_s.isna().sum())} row(s). "
                "Every row needs its survey; fix those rows or load them separately."
            )
        try:
            file_iso = to_iso3(name_s)
        except UnknownCountryError as exc:
            raise UnknownCountryError(f"{where}: {exc}") from exc
    if "year_raw" in cols:
        y = _numeric(raw, cols["year_raw"], "year")
        y = y.where(y > 0)
        if y.notna().any():
            year_s = y if year_s is None else year_s.where(year_s.notna(), y)
            ysrc = f"{cols['year_raw']} variable" if not ysrc else f"{ysrc} / {cols['year_raw']} variable"
    return file_iso, year_s, csrc, ysrc


def _survey_country(where: str, idx: pd.Index, file_iso: pd.Series | None, csrc: str,
                    hint_iso: str | None, ov_country: str | None, ov_src: str) -> tuple[pd.Series, str]:
    """ISO3 per row and its source: the override (checked against the file and its name),
    else the file's variable (checked against the name), else the file name; else raise."""
    if ov_country is not None:
        ov_iso = str(to_iso3([ov_country]).iloc[0])
        if file_iso is not None and set(file_iso.unique()) != {ov_iso}:
            raise InputError(
                f"{where}: {ov_src} says the survey is of {ov_iso} but the file's {csrc} says "
                f"{_fmt_set(file_iso.unique())}. Check which file is which; remove the override if the file is right."
            )
        if hint_iso is not None and hint_iso != ov_iso:
            raise InputError(
                f"{where}: {ov_src} says the survey is of {ov_iso} but the file name says {hint_iso}. "
                "Rename the file or correct the override."
            )
        iso = pd.Series(ov_iso, index=idx, dtype=object)
        csrc = ov_src
    elif file_iso is not None:
        if hint_iso is not None and set(file_iso.unique()) != {hint_iso}:
            raise InputError(
                f"{where}: the file name says {hint_iso} but the file's {csrc} says {_fmt_set(file_iso.unique())}. "
                "The file may have been renamed by mistake; rename it or pass surveys={path: ('ISO3', year)}."
            )
        iso = file_iso.astype(object)
    elif hint_iso is not None:
        iso = pd.Series(hint_iso, index=idx, dtype=object)
        csrc = "file name"
    else:
        raise InputError(
            f"{where}: cannot tell the survey country: the file has no usable 'country'/'a1' variable and its name "
            "names no economy. Pass surveys={path: ('KEN', 2018)} (or country='KEN' and year=2018) to load_wbes."
        )
    return iso, csrc


def _survey_year(raw: _RawFile, idx: pd.Index, iso: pd.Series, year_s: pd.Series | None, ysrc: str,
                 hint_year: int | None, ov_year: int | None, ov_src: str) -> tuple[pd.Series, str]:
    """Survey year per row and its source: the override (checked), else the file's variable
    (checked against the name; missing in some rows raises), else the file name, else the
    survey catalogue; else raise. The interview year ``a14y`` is never used."""
    where = raw.name
    if ov_year is not None:
        ov_year = int(ov_year)
        if year_s is not None and year_s.notna().any() and set(year_s.dropna().astype(int)) != {ov_year}:
            raise InputError(
                f"{where}: {ov_src} says the survey year is {ov_year} but the file's {ysrc} says "
                f"{_fmt_set(year_s.dropna().astype(int))}. Remove the override if the file is right."
            )
        if hint_year is not None and hint_year != ov_year:
            raise InputError(
                f"{where}: {ov_src} says the survey year is {ov_year} but the file name says {hint_year}. "
                "Rename the file or correct the override."
            )
        yr = pd.Series(ov_year, index=idx)
        ysrc = ov_src
    elif year_s is not None and year_s.notna().all():
        if hint_year is not None and year_s.nunique() == 1 and int(year_s.iloc[0]) != hint_year:
            raise InputError(
                f"{where}: the file name says survey year {hint_year} but the file's {ysrc} says "
                f"{int(year_s.iloc[0])}. Rename the file or pass surveys={{path: ('ISO3', year)}}."
            )
        yr = year_s
    elif year_s is not None and year_s.notna().any():
        raise InvalidValueError(
            f"{where}: the survey year ({ysrc}) is missing in {int(year_s.isna().sum())} row(s); every row needs "
            "its survey. Fix those rows or load them separately."
        )
    elif hint_year is not None:
        yr = pd.Series(hint_year, index=idx)
        ysrc = "file name"
    else:
        found, why = (None, "several economies") if iso.nunique() != 1 else _catalogue_year(raw, str(iso.iloc[0]))
        if found is None:
            raise InputError(
                f"{where}: cannot tell the survey year: no 'year' variable, no year in a 'country' value "
                f"(like 'Kenya2018') or in the file name, and the survey catalogue does not settle it ({why}). "
                "The interview year a14y is not the survey year. Pass surveys={path: ('KEN', 2018)} "
                "(or country='KEN' and year=2018) to load_wbes."
            )
        yr = pd.Series(found, index=idx)
        ysrc = why
    return yr, ysrc


def _survey_keys(
    raw: _RawFile,
    cols: dict[str, str],
    country: str | None,
    year: int | None,
    override: tuple[str, int, str] | None = None,
) -> tuple[pd.Series, pd.Series, dict]:
    """ISO3 and survey year per row, and where each came from.

    Order: an explicit override (``surveys=`` entry, else ``country=``/``year=``), checked
    against the file; else the file's ``country``/``a1`` and ``year`` variables; else the
    file name; else the survey catalogue (by economy and interview dates). The interview
    year ``a14y`` never splits a survey.
    """
    idx = raw.frame.index
    where = raw.name
    ov_country, ov_year, ov_src = (override if override else (country, year, "country=/year= option"))
    file_iso, year_s, csrc, ysrc = _file_country_year(raw, cols, ov_country)
    hint_iso, hint_year = file_name_survey(where) if where != "<DataFrame>" else (None, None)
    iso, csrc = _survey_country(where, idx, file_iso, csrc, hint_iso, ov_country, ov_src)
    yr, ysrc = _survey_year(raw, idx, iso, year_s, ysrc, hint_year, ov_year, ov_src)
    return iso, yr.astype(int), {"country_source": csrc, "year_source": ysrc}


def _recode_negative(series: pd.Series, raw_name: str, col: str, labels: dict | None, counts: list) -> pd.Series:
    neg = series < 0
    if neg.any():
        vc = series[neg].value_counts()
        for code, k in zip(vc.index.astype("float64").tolist(), vc.tolist(), strict=True):
            label = (labels or {}).get(float(code), "")
            counts.append({"file": raw_name, "variable": col, "code": float(code), "label": label, "n": int(k)})
        return series.where(~neg)
    return series


def _check_wbes_columns(raw: _RawFile, weight_var: str) -> dict[str, str]:
    """Map canonical names to the file's columns; raise if the file is empty, not a WBES
    file, or lacks required columns (all listed, with their WBES names)."""
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
    return cols


def _firm_ids(raw: _RawFile, cols: dict[str, str], survey_id: pd.Series) -> pd.Series:
    """Firm ids as integers where whole; raise if any is missing or repeats within a survey."""
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
    return fid


def _strata(raw: _RawFile, cols: dict[str, str], fid: pd.Series, survey_id: pd.Series) -> pd.Series:
    """Sampling strata as ``<survey_id>:<code>`` (every digit kept); raise if any is missing."""
    strata_raw = _decode(raw, cols["strata"]) if cols["strata"] in raw.value_labels else raw.frame[cols["strata"]]
    if strata_raw.isna().any():
        raise InvalidValueError(
            f"{raw.name}: column {cols['strata']!r} (sampling stratum) is missing for "
            f"{int(strata_raw.isna().sum())} firm(s) (first firm ids: {list(fid[strata_raw.isna()].head(5))}). "
            "Every firm needs a stratum for design-based standard errors."
        )
    st = strata_raw.map(format_code)
    return survey_id + ":" + st


def _weight(raw: _RawFile, weight_var: str, fid: pd.Series) -> pd.Series:
    """The chosen expansion weight; raise if any is missing, zero or negative."""
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
    return w


def _size_columns(raw: _RawFile, cols: dict[str, str], out: dict[str, pd.Series], recodes: list,
                  *, size_scheme: WbesSizeScheme, below5: WbesBelow5, split_large: bool) -> pd.Series | None:
    """Add ``size_stratum``, ``size_class`` and ``size_class_l1`` to ``out``; return the
    employees (negative codes recoded to missing) or None when the file has none."""
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
    return emp


def _sector(raw: _RawFile, cols: dict[str, str], recodes: list,
            isic_revision: IsicRevision) -> tuple[pd.Series, pd.DataFrame]:
    """Sector from the survey's own labels (else ISIC codes); warnings name the file.

    Returns the sector and the frame of its inputs (``sector_raw``, ``isic``)."""
    sector_frame = pd.DataFrame(index=raw.frame.index)
    if "sector_raw" in cols:
        sector_frame["sector_raw"] = _decode(raw, cols["sector_raw"])
    if "isic" in cols:
        sector_frame["isic"] = _recode_negative(_numeric(raw, cols["isic"], "isic"), raw.name, cols["isic"], None, recodes)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        sector = sector_class(sector_frame, isic_revision=isic_revision)
    for wmsg in caught:
        # stacklevel: _sector <- _clean_one <- _load_one <- _load_files <- load_wbes <- the user's call
        warnings.warn(f"{raw.name}: {wmsg.message}", wmsg.category, stacklevel=6)
    return sector, sector_frame


def _other_variables(raw: _RawFile, cols: dict[str, str], out: dict[str, pd.Series], recodes: list) -> None:
    """Add the remaining mapped variables and interview dates to ``out`` (labels decoded,
    negative codes recoded to missing, yes/no as booleans)."""
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
    for var, canonical in _INTERVIEW_VARS.items():
        if var in raw.frame.columns:
            out[canonical] = _recode_negative(_numeric(raw, var, canonical), raw.name, var, raw.value_labels.get(var), recodes)


def _flag_shares(frame: pd.DataFrame, share_tolerance: float) -> None:
    """Set ``shares_inconsistent`` (d3a + d3b + d3c off 100 by more than the tolerance)."""
    shares = [c for c in ("national_sales_pct", "indirect_export_pct", "direct_export_pct") if c in frame]
    if len(shares) == 3:
        total = frame[shares].sum(axis=1, min_count=3)
        frame["shares_inconsistent"] = (total - 100).abs() > share_tolerance
    else:
        frame["shares_inconsistent"] = False


def _keep_extra(frame: pd.DataFrame, raw: _RawFile, cols: dict[str, str], keep) -> None:
    """Carry the original variables asked for by ``keep=`` (raise if one is absent)."""
    mapped = set(cols.values()) | {"wmedian", "wstrict", "wweak", *_INTERVIEW_VARS}
    extra = list(raw.frame.columns) if keep == "all" else [k.lower() for k in keep]
    absent = [k for k in extra if k not in raw.frame.columns]
    if absent and keep != "all":
        raise MissingColumnsError(f"{raw.name}: keep= asks for column(s) {absent} that the file does not have.")
    for k in extra:
        if k not in mapped and k not in frame.columns:
            frame[k] = raw.frame[k]


def _clean_one(
    raw: _RawFile,
    *,
    weight_var: str,
    size_scheme: WbesSizeScheme,
    below5: WbesBelow5,
    split_large: bool,
    keep,
    country: str | None,
    year: int | None,
    share_tolerance: float,
    isic_revision: IsicRevision,
    override: tuple[str, int, str] | None = None,
) -> tuple[pd.DataFrame, list[dict], dict]:
    """Clean one raw WBES file into canonical firm rows.

    Returns the frame, the negative-code recodes and the file's facts (where its economy
    and year came from, ...). The options are those of :func:`load_wbes`.
    """
    cols = _check_wbes_columns(raw, weight_var)
    recodes: list[dict] = []
    out: dict[str, pd.Series] = {}
    iso, yr, info = _survey_keys(raw, cols, country, year, override)
    survey_id = iso.astype(str) + "_" + yr.astype(str)
    out["survey_id"] = survey_id
    out["country"] = iso
    out["year"] = yr
    fid = _firm_ids(raw, cols, survey_id)
    out["firm_id"] = fid
    out["strata"] = _strata(raw, cols, fid, survey_id)
    out["weight"] = _weight(raw, weight_var, fid)
    emp = _size_columns(raw, cols, out, recodes, size_scheme=size_scheme, below5=below5,
                        split_large=split_large)
    out["sector"], sector_frame = _sector(raw, cols, recodes, isic_revision)
    _other_variables(raw, cols, out, recodes)
    if "isic" in sector_frame:
        out["isic"] = sector_frame["isic"]
    if emp is not None:
        out["employees"] = emp
    for wname in ("wmedian", "wstrict", "wweak"):
        if wname in raw.frame.columns:
            out[wname] = _numeric(raw, wname, wname)

    frame = pd.DataFrame(out, index=raw.frame.index)
    _flag_shares(frame, share_tolerance)
    frame["source_file"] = raw.name
    if keep:
        _keep_extra(frame, raw, cols, keep)
    info.update(_file_facts(raw))
    return frame.reset_index(drop=True), recodes, info


def _file_facts(raw: _RawFile) -> dict:
    """What the file says about itself (kept in ``attrs['files']``; used by captions and inspect)."""
    label = str(raw.meta.get("data_label", ""))
    synth_var = "synthetic" in raw.frame.columns and pd.to_numeric(raw.frame["synthetic"], errors="coerce").eq(1).all()
    synthetic = bool(synth_var or "synthetic" in label.lower() or "synthetic" in Path(raw.name).name.lower())
    return {"file": raw.name, "synthetic": synthetic, "data_label": label}


# --------------------------------------------------------------------------- caching
ENV_NO_CACHE = "MSME_STATS_NO_CACHE"
ENV_CACHE_DIR = "MSME_STATS_CACHE"
CACHE_FOLDER = ".msme_stats_cache"


def _cache_disabled() -> bool:
    return os.environ.get(ENV_NO_CACHE, "").strip().lower() not in ("", "0", "false", "no")


def _cache_folder(src: str, cache_dir) -> Path:
    """``cache_dir`` or ``$MSME_STATS_CACHE`` when given explicitly, else ``<folder of src>/.msme_stats_cache``."""
    if cache_dir is not None:
        return Path(cache_dir)
    env = os.environ.get(ENV_CACHE_DIR)
    if env:
        return Path(env)
    return Path(src).resolve().parent / CACHE_FOLDER


@cache
def _maps_digest() -> str:
    maps = "".join(
        reference_path(n).read_text()
        for n in ("wbes_variables.csv", "wbes_size_codes.csv", "wbes_sector_labels.csv", "isic_sectors.csv",
                  "country_aliases.csv", "countries.csv", "wbes_surveys.csv")
        if reference_path(n).exists()
    )
    return hashlib.sha256(maps.encode()).hexdigest()


def _content_digest(path: str) -> str:
    """SHA-256 of the whole file: a rewrite with the same size and modification time is not served stale."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _cache_key(path: str, options: dict) -> str:
    """Name of the cache entry: file name, options, reference maps and loader version (content is checked inside)."""
    payload = json.dumps(
        {"name": Path(path).name, "opts": options, "maps": _maps_digest(), "v": _LOADER_VERSION},
        sort_keys=True, default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def _write_cache(frame: pd.DataFrame, recodes: list[dict], target: Path, info: dict | None = None,
                 check: dict | None = None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    target.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    meta = dict(table.schema.metadata or {})
    meta[b"msme_stats_recodes"] = json.dumps(recodes).encode()
    meta[b"msme_stats_info"] = json.dumps(info or {}).encode()
    meta[b"msme_stats_check"] = json.dumps(check or {}).encode()
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
    # uncompressed, dictionary-encoded only where pandas has categories: the cache is read
    # far more often than written, and decoding dominates a reload
    categorical = [c for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype)]
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="none", use_dictionary=categorical, write_statistics=False)
    atomic_write_bytes(target, sink.getvalue().to_pybytes())


def _read_cache(target: Path) -> tuple[pd.DataFrame, list[dict], dict, dict] | None:
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(target, memory_map=True).read()
    except (OSError, ValueError):
        return None
    meta = table.schema.metadata or {}
    recodes = json.loads(meta.get(b"msme_stats_recodes", b"[]"))
    info = json.loads(meta.get(b"msme_stats_info", b"{}"))
    check = json.loads(meta.get(b"msme_stats_check", b"{}"))
    return table.to_pandas(split_blocks=True), recodes, info, check


# --------------------------------------------------------------------------- survey overrides
SurveyOverrides = Mapping[str | os.PathLike, tuple[str, int]]


class _SurveyTableRow(NamedTuple):
    """The columns of a ``surveys=`` CSV table (read as text)."""

    file: str
    iso3: str
    year: str


def read_surveys_csv(path: str | os.PathLike) -> dict[str, tuple[str, int]]:
    """Read a survey-override table (columns ``file``, ``iso3``, ``year``) for ``load_wbes(surveys=...)``.

    ``file`` is a path, a file name or a glob (``Kenya*.dta``), matched as in
    :func:`load_wbes`. Column names are case-insensitive.

    Parameters
    ----------
    path
        The CSV file (UTF-8; other columns are ignored).

    Returns
    -------
    dict of str to (str, int)
        ``{file: (iso3, year)}``, ready for ``load_wbes(..., surveys=...)``. The economy is
        checked when the files are loaded.

    Raises
    ------
    UnreadableFileError
        The table cannot be read as CSV.
    MissingColumnsError
        A column ``file``, ``iso3`` or ``year`` is missing (all missing ones named).
    InvalidValueError
        A row has an empty file or economy, a year that is not four digits, or a file
        listed twice (the row is named).

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from msme_stats import read_surveys_csv
    >>> table = pathlib.Path(tempfile.mkdtemp()) / "surveys.csv"
    >>> _ = table.write_text("File,ISO3,Year\\nKenya*.dta,KEN,2018\\nextract.dta,TUR,2019\\n")
    >>> read_surveys_csv(table)
    {'Kenya*.dta': ('KEN', 2018), 'extract.dta': ('TUR', 2019)}
    """
    path = Path(path)
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise UnreadableFileError(f"Could not read the survey table {str(path)!r} ({exc}).") from exc
    table.columns = [c.strip().lower() for c in table.columns]
    missing = [c for c in ("file", "iso3", "year") if c not in table.columns]
    if missing:
        raise MissingColumnsError(f"{path}: the survey table needs the columns file, iso3, year; missing: {missing}.")
    out: dict[str, tuple[str, int]] = {}
    first = table.loc[:, ~table.columns.duplicated()]  # a repeated header: its first column, as before
    rows = (_SurveyTableRow(*t) for t in first[list(_SurveyTableRow._fields)].itertuples(index=False, name=None))
    for k, r in enumerate(rows, start=1):
        f, iso, yr = r.file.strip(), r.iso3.strip(), r.year.strip()
        if not f or not iso or not re.fullmatch(r"(19|20)\d\d", yr):
            raise InvalidValueError(
                f"{path}: row {k} ({r.file!r}, {r.iso3!r}, {r.year!r}) needs a file, an economy code and a "
                "four-digit survey year."
            )
        if f in out:
            raise InvalidValueError(f"{path}: row {k}: file {f!r} is listed twice.")
        out[f] = (iso, int(yr))
    return out


def _check_overrides(surveys) -> dict[str, tuple[str, int]]:
    if surveys is None:
        return {}
    if not isinstance(surveys, Mapping):
        raise OptionError("surveys= must be a mapping {path_or_glob: ('ISO3', year)}, e.g. {'Kenya*.dta': ('KEN', 2018)}.")
    out = {}
    for key, val in surveys.items():
        if not (isinstance(val, (tuple, list)) and len(val) == 2):
            raise OptionError(f"surveys[{key!r}] = {val!r}: give a pair ('ISO3', year).")
        try:
            iso = str(to_iso3([val[0]]).iloc[0])
        except UnknownCountryError as exc:
            raise OptionError(f"surveys[{key!r}]: economy {val[0]!r} is unknown ({exc}).") from exc
        try:
            yr = int(val[1])
        except (TypeError, ValueError):
            yr = -1
        if not 1990 <= yr <= 2100:
            raise OptionError(f"surveys[{key!r}]: survey year {val[1]!r} is not a year.")
        out[os.fspath(key)] = (iso, yr)
    return out


def _key_matches(key: str, src: str) -> bool:
    name = Path(src).name
    if any(ch in key for ch in "*?["):
        return fnmatch.fnmatch(name, key) or fnmatch.fnmatch(os.path.abspath(src), os.path.abspath(key))
    if os.sep not in key and "/" not in key:
        return name == key
    return os.path.abspath(key) == os.path.abspath(src)


def _override_for(src, overrides: dict, used: set) -> tuple[str, int, str] | None:
    if isinstance(src, pd.DataFrame) or not overrides:
        return None
    hits = [k for k in overrides if _key_matches(k, str(src))]
    if not hits:
        return None
    values = {overrides[k] for k in hits}
    if len(values) > 1:
        raise OptionError(
            f"{src}: surveys= entries {hits} match this file and disagree ({sorted(values)}). Keep one."
        )
    used.update(hits)
    iso, yr = values.pop()
    return iso, yr, f"surveys= override {hits[0]!r}"


# --------------------------------------------------------------------------- public
def _load_options(*, weights, size_scheme, below5, split_large, keep, country, year, surveys, share_tolerance,
                  isic_revision, outlier_k) -> tuple[dict, dict]:
    """Check the options of :func:`load_wbes`; return them as the dict :func:`_load_one` uses,
    and the checked ``surveys=`` overrides."""
    weights = check_choice("weights", weights, tuple(WEIGHT_VARS), aliases=WEIGHT_ALIASES)
    size_scheme = check_choice("size_scheme", size_scheme, choices(WbesSizeScheme))
    below5 = check_choice("below5", below5, choices(WbesBelow5))
    isic_revision = check_choice("isic_revision", str(isic_revision), choices(IsicRevision))
    overrides = _check_overrides(surveys)
    return {
        "weight_var": WEIGHT_VARS[weights], "size_scheme": size_scheme, "below5": below5, "split_large": split_large,
        "keep": keep if keep in (None, "all") else sorted(keep), "country": country, "year": year,
        "share_tolerance": share_tolerance, "isic_revision": isic_revision,
        "outlier_k": check_number("outlier_k", outlier_k, low=0.0),
    }, overrides


def _load_files(sources: list, opts: dict, overrides: dict, use_cache: bool, cache_dir):
    """Load every source file (through the cache when allowed).

    Returns the frames, the recodes, the file names, the per-file facts and the content
    digests computed; a ``surveys=`` entry that matched no file raises
    :class:`~msme_stats.errors.OptionError`.
    """
    frames, recodes, names, infos = [], [], [], []
    used: set[str] = set()
    digests: dict[str, str] = {}
    for src in sources:
        override = _override_for(src, overrides, used)
        frame, rec, info = _load_one(src, opts, override, use_cache, cache_dir, digests)
        frames.append(frame)
        recodes += rec
        names.append(info["file"])
        infos.append(info)
    unused = [k for k in overrides if k not in used]
    if unused:
        raise OptionError(
            f"surveys= entr{'y' if len(unused) == 1 else 'ies'} {unused} matched none of the files loaded "
            f"({', '.join(Path(str(n)).name for n in names)}). Check the names or globs."
        )
    return frames, recodes, names, infos, digests


def _report_load(firms: pd.DataFrame, recodes: list[dict], outlier_k: float, share_tolerance: float) -> dict[str, int]:
    """Warn about negative codes recoded, log the outlier and share flags; return the
    outlier counts per screened quantity."""
    if recodes:
        per_var: dict[str, int] = {}
        for r in recodes:
            per_var[r["variable"]] = per_var.get(r["variable"], 0) + r["n"]
        warnings.warn(
            "load_wbes: negative WBES codes set to missing: "
            + ", ".join(f"{v} {per_var[v]}" for v in sorted(per_var))
            + " (details in .attrs['recodes']).",
            RecodeWarning,
            stacklevel=3,  # _report_load <- load_wbes <- the user's call
        )
    screens = {c: int(firms[f"outlier_{c}"].sum()) for c in DEFAULT_SCREENS}
    if any(screens.values()):
        logger.warning("load_wbes: outlier screen (k=%s) flagged %s firm(s); flagged in outlier_* columns, none dropped.",
                       outlier_k, ", ".join(f"{n} on {c}" for c, n in screens.items()))
    n_bad = int(firms["shares_inconsistent"].sum())
    if n_bad:
        logger.warning("load_wbes: %d firm(s) have d3a+d3b+d3c off 100 by more than %s (flagged in shares_inconsistent).", n_bad, share_tolerance)
    return screens


_LOAD_WBES_PARAMETERS = """\
    Parameters
    ----------
    source
        A path, a glob (``"data/wbes/*.dta"``), a folder (its ``.dta`` files, or its
        ``.csv``/``.parquet`` files when it has no ``.dta``), a list of those, or a DataFrame
        with WBES variable names (any case). Stata ``.dta`` (formats 113-119, value labels
        decoded; text without an encoding field read as UTF-8, else latin-1), ``.csv``
        (every row must have as many fields as the header) and ``.parquet``; single-survey
        and pooled (comprehensive) files alike.
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
        Other original variables to carry (list of WBES names, any case) or ``"all"``.
    country, year
        The economy and survey year of every file loaded, for files that do not say. An
        option that contradicts a file (its ``a1``/``country``/``year`` variables or its
        name) raises :class:`~msme_stats.errors.InputError` naming both.
    surveys
        Per-file overrides ``{path_or_glob: ("ISO3", year)}``: a path, a bare file name or a
        glob (``"Kenya*.dta"``). Checked against the file like ``country``/``year``; an
        entry that matches no file raises. :func:`read_surveys_csv` reads such a table
        from a CSV file (columns ``file,iso3,year``).
    share_tolerance
        Rows with ``|d3a + d3b + d3c - 100| > share_tolerance`` get
        ``shares_inconsistent=True`` (flagged, never fixed; METHODS 2.2).
    isic_revision
        Revision of the ISIC codes used when the sector label is missing.
    outlier_k
        Outlier screen at load (flag, never drop): a firm whose sales, employees or sales
        per employee lie more than ``outlier_k`` robust standard deviations (1.4826 x the
        median absolute deviation of the logs) from its survey's median gets
        ``outlier_<quantity>=True`` and ``outlier_any=True``; counts are logged and kept in
        ``.attrs["screens"]``. Estimates still use every firm unless restricted
        (``where="~outlier_any"``). See :func:`msme_stats.screens.screen_outliers`; Stata:
        ``egen mad = mad(log_d2), by(survey)``; R: ``mad(log(d2))``.
    cache, cache_dir
        Cache each cleaned file as Parquet in ``.msme_stats_cache/`` **beside the source
        file** (licensed data stays where the user put it) and reload from there while the
        file's content (SHA-256) and the options are unchanged. Off with ``cache=False`` or
        the environment variable ``MSME_STATS_NO_CACHE=1``. ``cache_dir`` (or
        ``$MSME_STATS_CACHE``) puts the cache in another folder explicitly. When the folder
        is not writable the cache is skipped (logged at INFO level).
"""


@fill_pieces(load_wbes_parameters=_LOAD_WBES_PARAMETERS)
def load_wbes(
    source,
    *,
    weights: Weights = "median",
    size_scheme: WbesSizeScheme = "a6a",
    below5: WbesBelow5 = "separate",
    split_large: bool = False,
    keep: Sequence[str] | Literal["all"] | None = None,
    country: str | None = None,
    year: int | None = None,
    surveys: SurveyOverrides | None = None,
    share_tolerance: float = 1.0,
    isic_revision: IsicRevision = "3.1",
    outlier_k: float = 5.0,
    cache: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Load World Bank Enterprise Surveys microdata into the canonical firm frame.

    Real standard files from the World Bank Microdata Library load with no options:
    value labels are paired with variables through the label-set names in the file's
    header, the economy is read from the labels of the ``a1`` codes present, the sector from
    each survey's own ``a4a`` labels, and the survey year from the file (never from the
    interview year ``a14y``, kept as ``interview_year``).

    {load_wbes_parameters}

    Returns
    -------
    pandas.DataFrame
        One row per establishment; columns as listed by :func:`wbes_columns`. Negative
        WBES codes (-9 don't know, -8 refused, -7 does not apply, any other negative code on
        a quantity) are set to missing, and the count per variable is reported with a
        :class:`~msme_stats.errors.RecodeWarning` and kept in ``.attrs["recodes"]``.
        ``.attrs`` also records ``weight_var``, ``size_scheme``, the source files and
        ``files`` (per file: where the survey's economy and year came from, whether the
        file is synthetic, its data label).

    Raises
    ------
    OptionError
        An option value that is not allowed (``weights``, ``size_scheme``, ``below5``,
        ``isic_revision``, ``outlier_k``), a malformed ``surveys`` mapping, ``surveys`` entries that disagree on a file, or an entry that
        matches none of the files loaded.
    EmptyInputError
        A pattern or folder that matches no file, an empty list, an empty (0-byte or
        row-less) file.
    UnreadableFileError
        A file that cannot be read as Stata, CSV or Parquet (truncated, compressed, not the
        format its suffix says).
    NotRecognisedError
        A file with none or almost none of the WBES variables.
    MissingColumnsError
        Required WBES variables missing (all listed), the chosen weight absent, or a
        ``keep`` variable the file does not have.
    InvalidValueError
        Text in a numeric column, a CSV row with more or fewer fields than the header,
        variable names that differ only by case, missing firm ids, strata, economy or year.
    InvalidWeightError
        A missing, zero or negative expansion weight.
    DuplicateIdError
        A firm id repeated within a survey; its subclass
        :class:`~msme_stats.errors.DuplicateSurveyError` when the same survey is reached
        through two files.
    UnknownCountryError
        Country codes without value labels, or an economy name that is not recognised.
    InputError
        ``country``/``year``/``surveys`` contradicting what a file says about itself, or a
        file that says neither its economy nor its survey year (the message says which
        option to pass). Every error derives from
        :class:`~msme_stats.errors.MsmeStatsError` and names the file and the column.

    Stata/R equivalent
    ------------------
    Stata: ``use "Kenya-2018-full-data.dta", clear`` then ``mvdecode _all, mv(-9/-1)``
    (this function recodes only the variables whose ``negative_codes`` is ``missing`` in
    ``reference/wbes_variables.csv``, never ids, strata or weights) and
    ``svyset idstd [pweight=wmedian], strata(strata) singleunit(scaled)``. R:
    ``haven::read_dta()`` with ``haven::as_factor()`` for the value labels, then
    ``survey::svydesign(ids = ~1, strata = ~strata, weights = ~wmedian, data = d)``
    (:func:`msme_stats.svyset` holds the design conventions).

    Examples
    --------
    One bundled synthetic survey (the files in ``data/wbes_synthetic`` are SYNTHETIC,
    generated by :mod:`msme_stats.samples.wbes`; real files load the same way):

    >>> import msme_stats as ms
    >>> from msme_stats._paths import data_dir
    >>> wbes = data_dir() / "wbes_synthetic"
    >>> firms = ms.load_wbes(wbes / "KEN_2013_synthetic.dta", cache=False)
    >>> firms.shape
    (420, 37)
    >>> firms.loc[0, ["survey_id", "strata", "size_class", "sector"]].tolist()
    ['KEN_2013', 'KEN_2013:29', 'medium', 'other_services']
    >>> firms.attrs["weight_var"], firms.attrs["synthetic"]
    ('wmedian', True)

    Negative codes are set to missing and logged, never silently:

    >>> log = firms.attrs["recodes"].to_frame()
    >>> log.loc[log["variable"] == "d3c", ["code", "label", "n"]].to_numpy().tolist()
    [[-9.0, "Don't know", 6], [-8.0, 'Refused', 2]]

    Several files (a list, a folder or a glob) pool into one frame:

    >>> two = ms.load_wbes([wbes / "KEN_2007_synthetic.dta", wbes / "KEN_2013_synthetic.dta"],
    ...                    weights="strict", cache=False)
    >>> two.groupby("survey_id", observed=True).size().to_dict(), two.attrs["weight_var"]
    ({'KEN_2007': 320, 'KEN_2013': 420}, 'wstrict')
    """
    opts, overrides = _load_options(weights=weights, size_scheme=size_scheme, below5=below5, split_large=split_large,
                                    keep=keep, country=country, year=year, surveys=surveys,
                                    share_tolerance=share_tolerance, isic_revision=isic_revision, outlier_k=outlier_k)
    frames, recodes, names, infos, digests = _load_files(_expand_sources(source), opts, overrides,
                                                         bool(cache) and not _cache_disabled(), cache_dir)
    _check_one_survey_once(frames, names, digests)
    firms = frames[0] if len(frames) == 1 else _finalise_dtypes(pd.concat(frames, ignore_index=True))
    screens = _report_load(firms, recodes, outlier_k, share_tolerance)
    firms.attrs = {
        "weight_var": opts["weight_var"],
        "size_scheme": opts["size_scheme"],
        "below5": opts["below5"],
        "source_files": tuple(names),
        "recodes": RecodeLog(recodes),
        "files": FrozenTuple(infos),
        "synthetic": all(i.get("synthetic", False) for i in infos),
        "screens": {"rule": f"|log v - median| > {outlier_k:g} * 1.4826 * MAD within survey_id", "flagged": screens},
    }
    return firms


def _stat_signature(path: str) -> list[int] | None:
    """Size, mtime, ctime, inode and device: on POSIX any write changes ctime, which no program can set back.

    ``None`` where ctime is not a change time (Windows: creation time), so the content is hashed.
    """
    if os.name != "posix":
        return None
    st = os.stat(path)
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _load_one(src, opts: dict, override, use_cache: bool, cache_dir, digests: dict) -> tuple[pd.DataFrame, list[dict], dict]:
    """Read, clean (or reload from the cache) one source; return the frame, its recodes and its facts.

    Cache validation: an entry (named by the file name and the options) records the file's
    SHA-256 and its stat signature. The entry is served when the signature is unchanged
    (no write since: ctime) or, failing that, when the file's SHA-256 equals the recorded
    one; otherwise the file is read again and the entry replaced. A rewrite with the same
    size and modification time changes ctime, so it is hashed and never served stale.
    """
    target = None
    stat_sig = None
    if use_cache and not isinstance(src, pd.DataFrame) and Path(src).is_file():
        key_opts = {**opts, "override": list(override[:2]) if override else None}
        target = _cache_folder(str(src), cache_dir) / f"{Path(src).stem}-{_cache_key(str(src), key_opts)}.parquet"
        stat_sig = _stat_signature(str(src))
        hit = _read_cache(target) if target.exists() else None
        if hit is not None:
            frame, rec, info, check = hit
            fresh = stat_sig is not None and check.get("stat") == stat_sig
            if not fresh:
                digests[str(src)] = _content_digest(str(src))
                fresh = check.get("sha256") == digests[str(src)]
                if fresh and stat_sig is not None:  # same content, touched file: record the new signature
                    _try_write_cache(frame, rec, target, info, {"sha256": digests[str(src)], "stat": stat_sig})
            if fresh:
                logger.info("load_wbes: %s read from cache %s", src, target)
                digests[str(src)] = check.get("sha256", "")
                info["file"] = str(src)
                return frame, rec, info
    raw = _read_any(src, opts["keep"])
    frame, rec, info = _clean_one(
        raw, weight_var=opts["weight_var"], size_scheme=opts["size_scheme"], below5=opts["below5"],
        split_large=opts["split_large"], keep=opts["keep"], country=opts["country"], year=opts["year"],
        share_tolerance=opts["share_tolerance"], isic_revision=opts["isic_revision"], override=override,
    )
    frame = _finalise_dtypes(_screen(frame, opts["outlier_k"]))
    if target is not None:
        if str(src) not in digests:
            digests[str(src)] = _content_digest(str(src))
        _try_write_cache(frame, rec, target, info, {"sha256": digests[str(src)], "stat": stat_sig})
    return frame, rec, info


def _screen(frame: pd.DataFrame, k: float) -> pd.DataFrame:
    """The load-time outlier screen on the quantities the file has (absent ones are never flagged)."""
    needs = {"sales": ("sales",), "employees": ("employees",), "sales_per_employee": ("sales", "employees")}
    present = [q for q in DEFAULT_SCREENS if all(c in frame.columns for c in needs[q])]
    if len(present) == len(DEFAULT_SCREENS):
        out = screen_outliers(frame, by="survey_id", k=k)
    else:
        out = screen_outliers(frame, screens=present, by="survey_id", k=k) if present else frame.copy()
        for q in DEFAULT_SCREENS:
            if q not in present:
                out[f"outlier_{q}"] = False
        out["outlier_any"] = out[[f"outlier_{q}" for q in DEFAULT_SCREENS]].any(axis=1)
    out.attrs = dict(frame.attrs)  # the report is rebuilt by load_wbes from the columns
    return out


def _marked_read_only(folder: Path) -> bool:
    """The nearest existing folder has no write bit at all: the user marked it read-only.

    Checked on the permission bits rather than by trying, because a process running as root
    can write into such a folder anyway; a licensed-data folder marked read-only is respected.
    """
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            return os.name == "posix" and not (candidate.stat().st_mode & 0o222)
    return False


def _try_write_cache(frame, rec, target: Path, info: dict, check: dict) -> None:
    if _marked_read_only(target.parent):
        logger.info("load_wbes: cache not written (%s is marked read-only); loading without cache.", target.parent)
        return
    try:
        _write_cache(frame, rec, target, info, check)
    except OSError as exc:  # a read-only folder must not stop the load
        logger.info("load_wbes: cache not written (%s is not writable: %s); loading without cache.", target.parent, exc)


def _check_one_survey_once(frames: list[pd.DataFrame], names: list[str], digests: dict[str, str]) -> None:
    """One survey is counted once: the same survey (or the same file) reached twice raises."""
    by_digest: dict[str, list[str]] = {}
    for n in names:
        if n in digests:
            by_digest.setdefault(digests[n], []).append(n)
    same = [v for v in by_digest.values() if len(v) > 1]
    if same:
        raise DuplicateSurveyError(
            f"The same file was loaded twice under different names: {same[0]} (identical content). "
            "The same survey seems to be loaded twice; load each survey once."
        )
    if len(frames) < 2:  # one file: its firm ids were checked within each survey when it was cleaned
        return
    where: dict[str, list[str]] = {}
    for fr, n in zip(frames, names, strict=True):
        s = fr["survey_id"]
        sids = s.cat.categories[pd.unique(s.cat.codes[s.cat.codes >= 0].to_numpy())] if isinstance(s.dtype, pd.CategoricalDtype) else s.unique()
        for sid in sids:
            where.setdefault(str(sid), []).append(str(n))
    twice = {sid: fs for sid, fs in where.items() if len(fs) > 1}
    if twice:
        sid, fs = next(iter(twice.items()))
        raise DuplicateSurveyError(
            f"Survey {sid} is reached through {len(fs)} files: {fs} "
            f"({len(twice)} survey(s) in all: {sorted(twice)}). The same survey seems to be loaded twice "
            "(a copy, a renamed file, or the bundled synthetic sample beside your file); load each survey once."
        )


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
    front = [c for c, _ in DERIVED_COLUMNS if c in firms.columns and c not in ("shares_inconsistent", "source_file", "interview_year", "interview_month")]
    rest = [c for c in firms.columns if c not in front]
    return firms[front + rest]
