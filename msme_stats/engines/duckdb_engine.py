"""Optional DuckDB engine: the trader-period reduction in SQL, validated per distinct value.

``pip install msme_stats[duckdb]``. The transactions (a Parquet file, a folder of
hive-partitioned Parquet files, CSV files, a glob or list of these, or a pandas DataFrame)
are never loaded into pandas. DuckDB scans them once and sums them to cells of equal raw
(trader, period, product, partner) with their row counts and the number of invalid values
(missing, NaN, infinite or negative). The distinct raw values of each key are then taken from
the cells (with their row counts) and validated and normalised by the very functions
:func:`~msme_stats.sources.customs.load_transactions` uses (HS leading zeros restored,
negative or malformed codes, bad periods, trimmed ids, upper-case partners); the cells,
relabelled through those distinct values, go through the shared row-level steps and sums of
:mod:`._common` exactly as in the pandas engine, and feed the same indicator stage.

Value (and quantity) columns must have a numeric type to be summed in SQL (cast to float64, as
the loader does); a mapped quantity is checked in SQL as the loader checks it (no NaN,
infinite or negative value). Whenever the SQL side finds anything the loader would reject (an invalid value or key, a
missing key, a failed read, an empty input) the pandas path is run on the same source, so
the error raised is the loader's own typed error, naming the file, column, first row and
cell. Inputs the SQL side does not read itself (a ``flow`` role, quarter or month periods
from dates, time-zone-aware dates, zip / xz CSV files, mixed CSV and Parquet sources, a
value column of another type) also go through the pandas path, with the same result; an
INFO log record names each such case. Sums are DuckDB's double-precision sums, so tables equal the pandas engine's up to
rounding (about 1e-15 relative).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..errors import InputError, MsmeStatsError, OptionError
from ..sources import customs as _cx
from ._common import (
    Chunk,
    Coded,
    ReduceOptions,
    Reduction,
    _frame_of,
    coarsen_period,
    finish,
    label_masks,
    partial_coded,
)

__all__ = ["reduce"]

logger = logging.getLogger(__name__)

_KEY_ROLES = ("trader", "period", "product", "partner")


#: value column types summed in SQL (as float64, like the loader); others go to the loader
_NUMERIC = re.compile(r"(U?(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT)|FLOAT|DOUBLE|DECIMAL\(\d+,\s*\d+\))")


class _Fallback(Exception):
    """The SQL side met input the loader rejects (or cannot read): rerun the pandas path."""


def _duckdb() -> Any:
    try:
        import duckdb
    except ImportError as exc:
        raise MsmeStatsError(
            "engine='duckdb' needs the optional dependency duckdb: pip install 'msme_stats[duckdb]' "
            "(or use engine='pandas', which gives the same tables)."
        ) from exc
    return duckdb


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _relation(con: Any, source: Any, columns: list[str], string_cols: list[str]) -> tuple[str, str]:
    """SQL relation reading ``source`` and a label for messages; raises _Fallback if unsupported."""
    if isinstance(source, pd.DataFrame):
        con.register("msme_tx_frame", source)
        return "msme_tx_frame", "<DataFrame>"
    items = _cx._items(source)
    if not items:
        raise _Fallback
    kinds = {it[0] for it in items}
    files = [str(it[1]) for it in items]
    label = files[0] if len(files) == 1 else f"{len(files)} files"
    flist = "[" + ", ".join(_lit(f) for f in files) + "]"
    if kinds == {"parquet"}:
        hive = any(it[2] is not None for it in items)
        return f"read_parquet({flist}, hive_partitioning = {str(hive).lower()}, union_by_name = true)", label
    if kinds == {"csv"}:
        names = [f.lower() for f in files]
        if any(n.endswith((".zip", ".xz")) for n in names):
            raise _Fallback
        tsv = {n.endswith((".tsv", ".tsv.gz")) for n in names}
        if len(tsv) > 1:
            raise _Fallback
        sep = "\\t" if tsv.pop() else ","
        types = ", ".join(f"{_lit(c)}: 'VARCHAR'" for c in string_cols)
        return (f"read_csv({flist}, delim = '{sep}', header = true, quote = '\"', escape = '\"', "
                f"nullstr = '', types = {{{types}}}, union_by_name = true)"), label
    raise _Fallback


def _key_labels(role: str, roles: Mapping[str, str], distinct: pd.Series, rows: np.ndarray, label: str,
                period: str) -> tuple[np.ndarray, pd.Series, int]:
    """Normalised label of each distinct raw value (with its row count), as the loader does."""
    kind = role
    if role == "period":
        kind = next(r for r in ("date", "year", "period") if r in roles)
    col = _cx._Col(distinct.reset_index(drop=True), kind, roles[kind], label)
    col._rows = np.bincount(col.codes, weights=rows, minlength=len(col.uniques)).astype(np.int64)
    col._used = None
    n_restored = 0
    if role == "product":
        labels, n_restored, drop = _cx._hs6(col, "restore")
        if drop.any():  # cannot happen with short_hs='restore'; never drop silently
            raise _Fallback
    elif role == "trader":
        labels = col.text()
        _cx._required(col, labels, "a trader id")
    elif role == "partner":
        labels = col.text().str.upper()
        _cx._required(col, labels, "a partner")
    elif kind == "date":
        labels = _cx._period_from_dates(col, period, "ISO8601", _cx.VALID_YEARS)
    elif kind == "year":
        labels = _cx._years(col, _cx.VALID_YEARS)
    else:
        labels = _cx._period_labels(col, _cx.VALID_YEARS)
    per_value = pd.Series(labels).reset_index(drop=True).iloc[col.codes]
    codes, uniques = pd.factorize(per_value)
    return codes.astype(np.int32), pd.Series(uniques), n_restored


def _reduce_sql(source: Any, options: ReduceOptions, roles: Mapping[str, str], period: str,
                threads: int) -> Reduction:
    duckdb = _duckdb()
    kinds = {r: next(k for k in (("date", "year", "period") if r == "period" else (r,)) if k in roles)
             for r in _KEY_ROLES}
    if "date" in roles and period != "year":
        raise _Fallback  # quarter/month labels from dates: the pandas path (same functions)
    cols = {r: roles[kinds[r]] for r in _KEY_ROLES}
    vcol = roles["value"]
    string_cols = [cols[r] for r in _KEY_ROLES]  # CSV keys are read as text, as by the loader
    con = duckdb.connect(config={"threads": threads})
    try:
        rel, label = _relation(con, source, list(dict.fromkeys([*cols.values(), vcol])), string_cols)
        types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {rel})").fetchall())
        if not _NUMERIC.fullmatch(str(types.get(vcol, ""))):
            raise _Fallback  # the loader decides about text, boolean or other values
        if "quantity" in roles:  # not used by the reduction, but the loader validates it: so does SQL
            qcol = roles["quantity"]
            if not _NUMERIC.fullmatch(str(types.get(qcol, ""))):
                raise _Fallback
            q = f"CAST({_q(qcol)} AS DOUBLE)"
            if con.execute(f"SELECT COUNT(*) FROM {rel} WHERE isnan({q}) OR isinf({q}) OR {q} < 0").fetchall()[0][0]:
                raise _Fallback
        if "WITH TIME ZONE" in str(types.get(cols["period"], "")):
            raise _Fallback  # DuckDB would convert to its session time zone; the loader keeps the stored one
        keys = ", ".join(f"{_q(cols[r])} AS k_{r}" for r in _KEY_ROLES)
        v = f"CAST({_q(vcol)} AS DOUBLE)"
        con.execute(
            f"CREATE TEMP TABLE cells AS SELECT {keys}, SUM({v}) AS v, COUNT(*) AS n, "
            f"COUNT({v}) AS nv, MIN({v}) AS vmin FROM {rel} GROUP BY ALL"
        )
        # a missing value (COUNT), a negative one (MIN) or a NaN / infinite one (the sum is
        # then NaN or infinite) is the loader's InvalidValueError: the pandas path raises it
        n_rows, n_bad, n_cells = con.execute(
            "SELECT COALESCE(SUM(n), 0), COUNT(*) FILTER (WHERE nv < n OR vmin < 0 OR NOT isfinite(v)), "
            "COUNT(*) FROM cells").fetchall()[0]
        if n_bad or not n_rows:
            raise _Fallback
        labels: dict[str, pd.Index] = {}
        maps: dict[str, np.ndarray] = {}
        n_restored = 0
        for r in _KEY_ROLES:
            con.execute(f"CREATE TEMP TABLE d_{r} AS SELECT k_{r} AS raw, SUM(n) AS n, "
                        f"CAST(ROW_NUMBER() OVER () - 1 AS INTEGER) AS i FROM cells GROUP BY k_{r}")
            d = con.execute(f"SELECT raw, n FROM d_{r} ORDER BY i").df()
            if d["raw"].isna().any():
                raise _Fallback  # missing keys: the loader's error
            raw = d["raw"]
            if isinstance(raw.dtype, pd.CategoricalDtype):
                raw = raw.astype(raw.cat.categories.dtype)
            maps[r], lab, restored = _key_labels(r, roles, raw, d["n"].to_numpy(dtype=np.float64), label, period)
            labels[r] = pd.Index(lab)
            n_restored += restored
        join = " ".join(f"JOIN d_{r} ON cells.k_{r} = d_{r}.raw" for r in _KEY_ROLES)
        sel = ", ".join(f"d_{r}.i AS {r}" for r in _KEY_ROLES)
        con.execute(f"CREATE TEMP TABLE coded AS SELECT {sel}, cells.v AS v, cells.n AS n FROM cells {join}")
        if con.execute("SELECT COUNT(*) FROM coded").fetchall()[0][0] != n_cells:
            raise _Fallback  # a key did not join back (never expected)
        _cx._warn_counts(label, roles["product"], n_restored, 0)
        if _sums_in_sql(labels, maps, options):
            tables = []
            for keys3 in (["trader", "period", "product"], ["trader", "period", "partner"]):
                cols3 = ", ".join(keys3)
                t = con.sql(f"SELECT {cols3}, SUM(v) AS v FROM coded GROUP BY ALL").to_arrow_table()
                key_codes = {r: maps[r][t.column(r).to_numpy()] for r in keys3}
                tables.append(_frame_of(labels, keys3, key_codes, t.column("v").to_numpy(), categorical=True))
            return finish((tables[0], tables[1], {"rows": int(n_rows)}, {}))
        table = con.sql("SELECT * FROM coded").to_arrow_table()
    except duckdb.Error as exc:
        raise _Fallback from exc
    finally:
        con.close()
    idx = {r: table.column(r).to_numpy() for r in _KEY_ROLES}
    chunk = Chunk(dict(maps), idx, table.column("v").to_numpy(), table.column("n").to_numpy())
    return finish(partial_coded(Coded(labels, [chunk]), options, threads=threads))


def _sums_in_sql(labels: dict[str, pd.Index], maps: dict[str, np.ndarray], options: ReduceOptions) -> bool:
    """Whether the row-level steps change nothing, so DuckDB may sum the cells by raw value.

    True when every distinct raw value has its own label (no two merge), the periods are
    already at the requested grain, there is no HS concordance and no row would be dropped
    (chapter 27, placeholders); otherwise the cells go through :func:`._common.prepare_coded`.
    """
    if options.concordance:
        return False
    if any(len(labels[r]) != len(maps[r]) for r in _KEY_ROLES):
        return False
    per = pd.Series(labels["period"])
    if coarsen_period(per, options.period) is not per:
        return False
    return not label_masks(labels, options)


def reduce(source: Any, options: ReduceOptions, *, roles: str | Mapping[str, str] | None = None,
           threads: int | None = None, **engine_kwargs: Any) -> Reduction:
    """Reduce transactions to trader x period x product / partner tables with DuckDB.

    Parameters
    ----------
    source
        A Parquet file, a (hive-partitioned) folder of Parquet files, CSV files (plain, gzip
        or bzip2; zip and xz are read by the pandas path), a glob or list of these, or a pandas
        (or Dask, computed first) DataFrame: raw with ``roles``, canonical without.
    options
        Row-level options shared by every engine.
    roles
        Role mapping or preset of :func:`~msme_stats.load_transactions` (default: the
        canonical columns ``trader``, ``period``, ``product``, ``partner``, ``value``).
    threads
        DuckDB threads (default ``os.cpu_count()``, at most 8); the result does not depend on it.
    **engine_kwargs
        None accepted (an error names any given).

    Returns
    -------
    Reduction
        ``firm_product`` and ``firm_partner`` tables (string keys as sorted categoricals),
        ``counts`` of rows read and dropped, ``placeholder_codes``.

    Raises
    ------
    OptionError
        Any other engine option, or ``period`` finer than a ``year`` role allows.
    MsmeStatsError
        duckdb is not installed; or propagated from :func:`~msme_stats.load_transactions`
        for input the SQL path hands to the pandas path (invalid cells are reported by the
        loader, naming the file, column and row).

    Examples
    --------
    >>> from msme_stats.engines import ReduceOptions, get_engine
    >>> from msme_stats.samples.transactions import synthetic_transactions
    >>> tx = synthetic_transactions(1_000, n_traders=50, seed=1)
    >>> red = reduce(tx, ReduceOptions())
    >>> pandas_red = get_engine("pandas").reduce(tx, ReduceOptions())
    >>> len(red.firm_product) == len(pandas_red.firm_product), red.counts["rows"]
    (True, 1000)
    """
    if engine_kwargs:
        raise OptionError(
            f"engine='duckdb' takes no options {', '.join(sorted(engine_kwargs))} "
            "(client= and scheduler= are for engine='dask')."
        )
    _duckdb()
    mapping = _cx.resolve_roles(_cx.CANONICAL_ROLES if roles is None else roles)
    period = options.period
    if "year" in mapping and period != "year":
        raise OptionError(f"period={period!r} needs a date role; roles give only a year.")
    threads = threads or min(os.cpu_count() or 1, 8)
    if _cx._is_dask_frame(source):
        source = source.compute()
    try:
        if "flow" in mapping:
            raise _Fallback  # flow codes are validated by the loader
        return _reduce_sql(source, options, mapping, period, threads)
    except (_Fallback, InputError) as exc:  # the loader raises its own typed error, naming the row and cell
        logger.info("engine='duckdb': input read by the pandas path (%s)", type(exc.__cause__ or exc).__name__)
    from . import pandas_engine

    if roles is None:  # canonical input: exactly what the pandas engine does with it
        return pandas_engine.reduce(source, options)
    return pandas_engine.reduce(_cx.load_transactions(source, roles=mapping, period=period), options)
