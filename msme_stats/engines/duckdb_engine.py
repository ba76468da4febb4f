"""Optional DuckDB engine: the trader-period reduction in SQL, validated per distinct value.

``pip install msme_stats[duckdb]``. The transactions (a Parquet file, a folder of
hive-partitioned Parquet files, CSV files, a glob or list of these, or a pandas DataFrame)
are never loaded into pandas. DuckDB scans them once, reading the key columns with their own
types (integer codes stay integers; CSV keys are read as text, as by the loader, so leading
zeros are kept), and sums the rows with ``GROUP BY GROUPING SETS`` to cells of equal raw
(trader, period, product) and of equal raw (trader, period, partner), with their row counts;
an invalid value (missing, NaN, infinite or negative) is summed as NaN or infinity, so its
cell's sum is not finite. The results come back as Arrow. The distinct raw values of each
key are taken from those cells and validated and normalised by the very functions
:func:`~msme_stats.sources.customs.load_transactions` uses (HS leading zeros restored,
negative or malformed codes, bad periods, trimmed ids, upper-case partners). When every raw
value keeps its own label, the cells are the two tables. Otherwise the row-level steps run on
the cells as in :mod:`._common`: period coarsening and the HS concordance relabel the keys,
placeholder traders drop cells, and cells whose keys now share labels are summed again.
Chapter 27 and placeholder products or partners drop rows from both tables, which cells of one
table cannot do: then DuckDB sums the rows to cells of the four raw keys, which go through
:func:`._common.partial_coded` exactly as in the pandas engine (an INFO log record says so).
With ``exclude_hs27=True`` the four-key cells are summed at once (customs extracts nearly
always hold chapter 27 rows, so the grouping sets would be summed in vain).
Both feed the same indicator stage.

Value (and quantity) columns must have a numeric type to be summed in SQL (cast to float64, as
the loader does); a mapped quantity is checked in SQL as the loader checks it (no NaN,
infinite or negative value). Whenever the SQL side finds anything the loader would reject (an invalid value or key, a
missing key, a failed read, an empty input) the pandas path is run on the same source, so
the error raised is the loader's own typed error, naming the file, column, first row and
cell. Inputs the SQL side does not read itself (a ``flow`` role, quarter or month periods
from dates, time-zone-aware dates, zip / xz CSV files, mixed CSV and Parquet sources, a
value column of another type) also go through the pandas path, with the same result; an
INFO log record names each such case. Sums are DuckDB's double-precision sums, so tables equal the pandas engine's up to
rounding (about 1e-15 relative). With more than one thread DuckDB adds the partial sums of
its threads in the order they finish, so two runs on the same input can differ in the last
bit; ``reduce(..., threads=1)`` gives the same bits in every run (measured: 34 of 34 reference
cases identical across runs with one thread, 31 of 34 with two).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from .._arrow import quiet_allocation
from ..errors import InputError, MsmeStatsError, OptionError
from ..sources import customs as _cx
from ._common import (
    Chunk,
    Coded,
    Partial,
    ReduceOptions,
    Reduction,
    _frame_of,
    as_text,
    coarsen_period,
    finish,
    group_sums_coded,
    label_masks,
    partial_coded,
    text_order,
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
    col = _cx._Col.of_distinct(pd.Index(distinct), rows, kind, roles[kind], label)
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
    per_value = pd.Series(labels).reset_index(drop=True)
    if role in ("trader", "partner") and (pd.api.types.is_integer_dtype(col.uniques.dtype) or (
            isinstance(col.uniques.dtype, pd.StringDtype) and bool((per_value.array == col.uniques.array).all()))):
        # distinct integers write distinct texts, and distinct texts left as they were stay distinct
        return np.arange(len(per_value), dtype=np.int32), per_value, n_restored
    codes, uniques = pd.factorize(per_value)
    return codes.astype(np.int32), pd.Series(uniques), n_restored


def _check_input(con: Any, rel: str, roles: Mapping[str, str], period_col: str) -> dict[str, str]:
    """The column types of ``rel``; _Fallback for a value or quantity column SQL does not sum,
    a bad quantity or zoned dates."""
    types = dict(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM {rel})").fetchall())
    if not _NUMERIC.fullmatch(str(types.get(roles["value"], ""))):
        raise _Fallback  # the loader decides about text, boolean or other values
    if "quantity" in roles:  # not used by the reduction, but the loader validates it: so does SQL
        qcol = roles["quantity"]
        if not _NUMERIC.fullmatch(str(types.get(qcol, ""))):
            raise _Fallback
        q = f"CAST({_q(qcol)} AS DOUBLE)"
        if con.execute(f"SELECT COUNT(*) FROM {rel} WHERE isnan({q}) OR isinf({q}) OR {q} < 0").fetchall()[0][0]:
            raise _Fallback
    if "WITH TIME ZONE" in str(types.get(period_col, "")):
        raise _Fallback  # DuckDB would convert to its session time zone; the loader keeps the stored one
    return {k: str(t) for k, t in types.items()}


def _cells_sql(rel: str, cols: dict[str, str], vcol: str, group_by: str, extra: str = "",
               out_keys: str = "k_trader, k_period, k_product, k_partner") -> str:
    """SQL summing the rows of ``rel`` to cells (``group_by``): value sum ``v`` and rows ``n``.

    A value the loader rejects (missing, negative, NaN, infinite) is summed as NaN (negative
    or missing) or infinity, so the sum of its cell is not finite (see :func:`_checked`).
    Row counts are INTEGER (half the memory of BIGINT; a cell of 2**31 rows or more fails
    the cast, and the input goes to the pandas path).
    """
    keys = ", ".join(f"{_q(cols[r])} AS k_{r}" for r in _KEY_ROLES)
    v = f"CAST({_q(vcol)} AS DOUBLE)"
    return (f"SELECT {out_keys}{extra}, SUM(v) AS v, CAST(COUNT(*) AS INTEGER) AS n "
            f"FROM (SELECT {keys}, CASE WHEN {v} >= 0 THEN {v} ELSE 'NaN'::DOUBLE END AS v FROM {rel}) "
            f"GROUP BY {group_by}")


def _checked(table: Any) -> tuple[np.ndarray, np.ndarray]:
    """Value sums and row counts of the cells; _Fallback on a value the loader rejects.

    A cell whose sum is not finite holds a missing, negative, NaN or infinite value: the
    loader's InvalidValueError (as is an empty input), raised by the pandas path.
    """
    n = table.column("n").to_numpy()
    v = table.column("v").to_numpy()
    if not len(n) or not np.isfinite(v).all():
        raise _Fallback
    return v, n


def _encoded(column: Any) -> tuple[np.ndarray, pd.Index]:
    """Code of each entry of a grouped key column and its distinct raw values (_Fallback if one is missing)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.null_count:
        raise _Fallback
    if pa.types.is_dictionary(column.type) or pa.types.is_integer(column.type):  # ENUMs (categorical frames), ids
        raw, uniques, _ = _cx._encode(column)
    else:  # text, dates: one dictionary for the whole column (no dictionaries per chunk to unify)
        encoded = pc.dictionary_encode(column.combine_chunks())
        raw, uniques = encoded.indices.to_numpy(), pd.Index(encoded.dictionary.to_pandas())
    if (raw < 0).any() or uniques.isna().any():
        raise _Fallback
    return raw, uniques


def _labelled(columns: dict[str, Any], n: np.ndarray, roles: Mapping[str, str], label: str, period: str,
              threads: int) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, pd.Index], int]:
    """Code the grouped key columns per distinct raw value and normalise those values.

    ``columns`` holds one column per key and ``n`` the rows of each product entry. Returns
    the raw code of each entry, the label code of each raw code, the labels (per key) and the
    rows whose HS zero was restored (counted in rows, hence ``n``; the row counts of the other
    keys would only place an error, and any error sends the input to the loader). Each key is
    one job (codes, labels, their sort) on ``threads`` threads (Arrow and numpy release the
    GIL): the trader labels are made while the other columns are still being coded (on the
    10M-row Parquet panel, five fresh runs each: median 100 ms against 124 ms when every column
    was coded first).
    The results are taken in key order, so an error is that of the first key in error, as
    when the keys were done one after the other. Trader, product and partner labels are text,
    sorted (as :func:`._common.finish` leaves them), so the codes of the cells are final after
    one lookup.
    """
    from concurrent.futures import ThreadPoolExecutor

    def coded(r: str) -> tuple[np.ndarray, np.ndarray, pd.Index, int]:
        """Raw codes, label codes, labels and restored rows of key ``r`` (one job per key)."""
        raw, uniques = _encoded(columns[r])
        rows = np.bincount(raw, weights=n, minlength=len(uniques)) if r == "product" else np.ones(len(uniques))
        to_label, lab, restored = _key_labels(r, roles, pd.Series(uniques), rows, label, period)
        labels = pd.Index(lab)
        if r != "period":  # text, sorted: compose the sort into the label codes (small arrays)
            text = as_text(labels)
            order = text_order(text)
            rank = np.empty(len(order), dtype=np.int32)
            rank[order] = np.arange(len(order), dtype=np.int32)
            to_label, labels = rank[to_label], text[order]
        return raw, to_label, labels, restored

    with ThreadPoolExecutor(max(1, min(threads, len(columns)))) as pool:
        done = dict(zip(columns, pool.map(coded, columns), strict=True))
    raw = {r: d[0] for r, d in done.items()}
    to_label = {r: d[1] for r, d in done.items()}
    labels = {r: d[2] for r, d in done.items()}
    n_restored = sum(d[3] for d in done.values())
    return raw, to_label, labels, n_restored


def _identity(label_codes: np.ndarray) -> bool:
    """Whether each raw code is its own label code (no merge, same order: no lookup needed)."""
    return bool((label_codes == np.arange(len(label_codes))).all())


def _fetch(source: Any, cols: dict[str, str], roles: Mapping[str, str], threads: int,
           sql: Callable[[str, dict[str, str]], str]) -> tuple[Any, str]:
    """One query on ``source`` (``sql`` of the relation and its column types) as an Arrow table,
    and the source's label for messages.

    The connection is closed as soon as the result is in, so DuckDB's working memory (its hash
    tables, about 150 MB on 10M rows) is freed while the result is processed; the close (14-20 ms
    on 10M rows) runs on a thread of its own, beside that processing. A DuckDB error is a
    _Fallback.
    """
    duckdb = _duckdb()
    string_cols = [cols[r] for r in _KEY_ROLES]  # CSV keys are read as text, as by the loader
    con = duckdb.connect(config={"threads": threads})
    try:
        rel, label = _relation(con, source, list(dict.fromkeys([*cols.values(), roles["value"]])), string_cols)
        types = _check_input(con, rel, roles, cols["period"])
        return con.sql(sql(rel, types)).to_arrow_table(), label
    except duckdb.Error as exc:
        raise _Fallback from exc
    finally:
        threading.Thread(target=con.close, name="msme_duckdb_close").start()


def _scan_cells(table: Any, roles: Mapping[str, str], label: str, period: str, threads: int) -> Coded:
    """The general path: cells of equal raw (trader, period, product, partner) (the result of
    :func:`_cells_sql` grouped by ``ALL``), coded per distinct value."""
    v, n = _checked(table)
    columns = {r: table.column(f"k_{r}") for r in _KEY_ROLES}
    idx, maps, labels, n_restored = _labelled(columns, n, roles, label, period, threads)
    _cx._warn_counts(label, roles["product"], n_restored, 0)
    maps_: dict[str, np.ndarray | None] = {r: None if _identity(maps[r]) else maps[r] for r in maps}
    return Coded(labels, [Chunk(maps_, idx, v, n)])


def _entries(flag: np.ndarray) -> tuple[Any, Any]:
    """Selectors of the product and the partner cells: slices when DuckDB returned all product
    cells first (as it does; views, no copies), else boolean masks."""
    k = int(np.count_nonzero(flag))
    if flag[:k].all():
        return slice(0, k), slice(k, None)
    return flag, ~flag


def _sets_sql(rel: str, types: dict[str, str], cols: dict[str, str], vcol: str) -> str:
    """One scan summing the rows to (trader, period, product) and (trader, period, partner)
    cells, with the flag ``by_product``; product and partner of one type share a column
    ``k_item`` (each cell holds one of them: less to return)."""
    merge = types.get(cols["product"]) == types.get(cols["partner"])
    out_keys = "k_trader, k_period, " + ("COALESCE(k_product, k_partner) AS k_item" if merge else "k_product, k_partner")
    return _cells_sql(rel, cols, vcol,
                      "GROUPING SETS ((k_trader, k_period, k_product), (k_trader, k_period, k_partner))",
                      ", GROUPING(k_product, k_partner) = 1 AS by_product", out_keys)


def _scan_sets(table: Any, roles: Mapping[str, str], label: str, period: str, threads: int
               ) -> tuple[dict[str, pd.Index], dict[str, np.ndarray], dict[str, int], Any]:
    """The cells of both grouping sets (the result of :func:`_sets_sql`), coded per distinct value.

    Returns the labels, the label codes of the entries (trader and period: every entry;
    product: the product cells; partner: the partner cells), the number of distinct raw values
    per key, and ``(v, n, by_product, n_restored)``: value sums, rows, the selectors of the
    product and the partner cells (:func:`_entries`) and the rows whose HS zero was restored.
    """
    merge = "k_item" in table.column_names
    v, n = _checked(table)
    by_product = _entries(table.column("by_product").to_numpy())
    columns = {r: table.column(f"k_{r}") for r in ("trader", "period")}
    for r, entries in zip(("product", "partner"), by_product, strict=True):
        columns[r] = _select(table.column("k_item" if merge else f"k_{r}"), entries)
    raw, to_label, labels, n_restored = _labelled(columns, n[by_product[0]], roles, label, period, threads)
    codes = {r: raw[r] if _identity(to_label[r]) else to_label[r][raw[r]] for r in _KEY_ROLES}
    n_raw = {r: len(to_label[r]) for r in _KEY_ROLES}
    return labels, codes, n_raw, (v, n, by_product, n_restored)


def _select(column: Any, entries: Any) -> Any:
    """The entries of an Arrow column selected by a slice or a boolean mask."""
    import pyarrow.compute as pc

    if isinstance(entries, slice):
        return column.slice(entries.start, None if entries.stop is None else entries.stop - entries.start)
    return pc.filter(column, entries)


def _relabel(labels: dict[str, pd.Index], codes: dict[str, np.ndarray], key: str, new_labels: Any) -> None:
    """Replace the labels of ``key`` (equal new labels merge), as :meth:`._common.Coded.relabel`."""
    remap, uniques = pd.factorize(pd.Series(new_labels))
    labels[key] = pd.Index(uniques)
    if len(uniques) < len(remap):
        codes[key] = remap.astype(np.int32)[codes[key]]


def _sets_partial(labels: dict[str, pd.Index], codes: dict[str, np.ndarray], n_raw: dict[str, int],
                  cells: tuple[np.ndarray, np.ndarray, tuple[Any, Any], int], options: ReduceOptions,
                  threads: int) -> tuple[Partial, bool] | None:
    """The row-level steps and both tables from the two sets of cells (None: they need the four keys).

    Period coarsening and the HS concordance relabel the keys (equal labels merge); placeholder
    traders drop whole cells of both tables. A row dropped by its product (chapter 27, product
    placeholders) or partner (partner placeholders) must also leave the other table, which only
    cells of the four keys can do: None. Also returns whether the tables are tidy (see
    :func:`._common.finish`): no cell dropped, no label merged or relabelled but the period.
    """
    v, n, (prod, part), _ = cells
    counts = {"rows": int(n[prod].sum())}
    per = pd.Series(labels["period"])
    new_per = coarsen_period(per, options.period)
    if new_per is not per:
        _relabel(labels, codes, "period", new_per.to_numpy())
    tidy = True
    if options.concordance:
        conc = options.concordance
        product = pd.Series(labels["product"]).astype("str")
        changed = product.isin(list(conc)).to_numpy()
        if changed.any():
            rows = np.bincount(codes["product"], weights=n[prod], minlength=len(product))
            counts["rows_concorded"] = int(rows[changed].sum())
            _relabel(labels, codes, "product", product.map(lambda c: conc.get(c, c)))
            tidy = False
    masks = label_masks(labels, options)
    if set(masks) - {"trader"}:
        return None
    keep: np.ndarray | None = None
    placeholder_codes: dict[str, int] = {}
    if "trader" in masks:
        prod, part = _as_mask(prod, len(n)), _as_mask(part, len(n))
        drop = masks["trader"][codes["trader"]]
        dropped = drop & prod
        per_label = np.bincount(codes["trader"][dropped], weights=n[dropped], minlength=len(labels["trader"]))
        counts["rows_placeholder_trader"] = counts["rows_placeholder"] = int(n[dropped].sum())
        text = pd.Series(labels["trader"]).astype("str").to_numpy()
        placeholder_codes = {f"trader={text[i]}": int(per_label[i]) for i in np.flatnonzero(per_label)}
        keep = ~drop
        tidy = False
    tables = []
    for own, entries in (("product", prod), ("partner", part)):
        keys3 = ["trader", "period", own]
        sel = entries if keep is None else entries & keep
        key_codes = {"trader": codes["trader"][sel], "period": codes["period"][sel],
                     own: codes[own] if keep is None else codes[own][keep[entries]]}
        if all(len(labels[k]) == n_raw[k] for k in keys3):  # no two raw values merged: cells are final
            tables.append(_frame_of(labels, keys3, key_codes, v[sel], categorical=True))
        else:
            tidy = False
            chunk = Chunk(dict.fromkeys(keys3), key_codes, v[sel])
            tables.append(group_sums_coded(Coded(labels, [chunk]), [keys3], categorical=True, threads=threads)[0])
    return (tables[0], tables[1], counts, placeholder_codes), tidy


def _as_mask(entries: Any, n: int) -> np.ndarray:
    """A selector of :func:`_entries` as a boolean mask over ``n`` entries."""
    if not isinstance(entries, slice):
        return entries
    mask = np.zeros(n, dtype=bool)
    mask[entries] = True
    return mask


def _reduce_sql(source: Any, options: ReduceOptions, roles: Mapping[str, str], period: str,
                threads: int) -> Reduction:
    kinds = {r: next(k for k in (("date", "year", "period") if r == "period" else (r,)) if k in roles)
             for r in _KEY_ROLES}
    if "date" in roles and period != "year":
        raise _Fallback  # quarter/month labels from dates: the pandas path (same functions)
    cols = {r: roles[kinds[r]] for r in _KEY_ROLES}
    if options.exclude_hs27:  # chapter 27 drops rows from both tables (real extracts have some)
        logger.info("engine='duckdb': exclude_hs27=True: summed by the four keys")
    elif len(set(cols.values())) == len(cols):  # the common case: one scan, two grouping sets
        table, label = _fetch(source, cols, roles, threads,
                              lambda rel, types: _sets_sql(rel, types, cols, roles["value"]))
        labels, codes, n_raw, cells = _scan_sets(table, roles, label, period, threads)
        del table
        done = _sets_partial(labels, codes, n_raw, cells, options, threads)
        if done is not None:
            _cx._warn_counts(label, roles["product"], cells[3], 0)
            return finish(done[0], tidy=done[1])
        logger.info("engine='duckdb': rows dropped by product or partner: summed by the four keys")
    table, label = _fetch(source, cols, roles, threads,
                          lambda rel, types: _cells_sql(rel, cols, roles["value"], "ALL"))
    coded = _scan_cells(table, roles, label, period, threads)
    del table
    return finish(partial_coded(coded, options, threads=threads))


@quiet_allocation
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
        DuckDB threads (default ``os.cpu_count()``, at most 8). The tables do not depend on it
        beyond the last bit of the sums; ``threads=1`` gives the same bits in every run.
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
