"""Shared, engine-independent pieces of the transaction reduction.

Every engine runs the same computation on *integer-coded* transactions (:class:`Coded`): each
key (trader, period, product, partner) is a code into a table of distinct labels. The
row-level steps (period coarsening, HS concordance, chapter 27, placeholder ids) are
predicates on the labels mapped to rows through the codes (:func:`prepare_coded`), and the
trader x period x product / partner sums hash one int64 per entry, block by block
(:func:`group_sums_coded`). Reading canonical Parquet files straight into coded cells is in
:mod:`._parquet`.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._options import PeriodGrain
from ..errors import ExclusionWarning, OptionError, RecodeWarning

__all__ = [
    "ReduceOptions",
    "Reduction",
    "Coded",
    "period_granularity",
    "coarsen_period",
    "coded_from_frame",
    "prepare_coded",
    "group_sum_coded",
    "group_sums_coded",
    "partial_coded",
    "partial_tables",
    "combine_partials",
    "finish",
]

KEYS = ("trader", "period", "product", "partner")
_STRING_KEYS = ("trader", "product", "partner")
_GRAIN = {"year": 0, "quarter": 1, "month": 2}
COUNT_KEYS = (
    "rows",
    "rows_hs27",
    "rows_placeholder_trader",
    "rows_placeholder_partner",
    "rows_placeholder_product",
    "rows_placeholder",
    "rows_concorded",
)


@dataclass(frozen=True)
class ReduceOptions:
    """Row-level options applied before aggregation (same for every engine)."""

    period: PeriodGrain = "year"
    exclude_hs27: bool = False
    concordance: Mapping[str, str] | None = None
    placeholder_trader: tuple[str, ...] = ("OTH",)
    placeholder_partner: tuple[str, ...] = ("OTH",)
    placeholder_product_prefix: str = "OT"


@dataclass
class Reduction:
    """Result of an engine: trader x period x product and x partner value tables.

    ``firm_product``: columns ``trader``, ``period``, ``product``, ``value``;
    ``firm_partner``: ``trader``, ``period``, ``partner``, ``value``. Periods are labels
    (int year, ``"YYYYQn"`` or ``"YYYY-MM"``); trader, product and partner are categoricals
    of strings (used labels only, sorted), so no string is built per cell. ``counts`` holds row counts (``rows`` read,
    ``rows_hs27`` dropped as chapter 27, ``rows_placeholder_*`` placeholder rows dropped,
    ``rows_concorded`` recoded by the HS concordance) and ``placeholder_codes`` the rows per
    placeholder code.
    """

    firm_product: pd.DataFrame
    firm_partner: pd.DataFrame
    counts: dict[str, int] = field(default_factory=dict)
    placeholder_codes: dict[str, int] = field(default_factory=dict)


def period_granularity(label: Any) -> str:
    """Granularity of one period label: int year, ``YYYYQn`` or ``YYYY-MM``."""
    if isinstance(label, (int, np.integer)):
        return "year"
    text = str(label)
    if len(text) == 4 and text.isdigit():
        return "year"
    if "Q" in text:
        return "quarter"
    return "month"


def _coarsen_labels(uniq: pd.Series, target: str) -> pd.Series:
    text = uniq.astype("str")
    year = text.str.slice(0, 4)
    if target == "year":
        return year.astype("int64")
    # month -> quarter
    month = text.str.slice(5, 7).astype("int64")
    return year + "Q" + ((month - 1) // 3 + 1).astype("str")


def coarsen_period(period: pd.Series, target: str) -> pd.Series:
    """Map period labels to a coarser (or the same) granularity."""
    if len(period) == 0:
        return period
    codes, uniq = pd.factorize(period)
    grains = {period_granularity(u) for u in uniq}
    if len(grains) > 1:
        raise OptionError(f"period labels mix granularities ({', '.join(sorted(grains))}).")
    grain = grains.pop()
    if _GRAIN[target] > _GRAIN[grain]:
        raise OptionError(
            f"period={target!r} is finer than the transactions' periods ({grain}); load them "
            f"again with load_transactions(..., period={target!r})."
        )
    if grain == target:
        if target == "year" and not pd.api.types.is_integer_dtype(period.dtype):
            return pd.Series(pd.Series(uniq).astype("int64").to_numpy()[codes], index=period.index)
        return period
    new = _coarsen_labels(pd.Series(uniq), target).to_numpy()
    return pd.Series(new[codes], index=period.index)


# --------------------------------------------------------------------------------------
# integer-coded transactions
# --------------------------------------------------------------------------------------
@dataclass
class Chunk:
    """Entries of integer-coded transactions: rows, or cells of rows with equal keys.

    For each key, entry ``i``'s label code is ``maps[key][idx[key][i]]`` (``idx[key][i]``
    when ``maps[key]`` is None): ``idx`` are indices into a chunk-level dictionary (such as a
    Parquet dictionary) and ``maps`` the dictionary -> label code tables, so relabelling only
    rewrites the small ``maps``. ``value`` (float64) is the entry's value; ``rows`` the number
    of transactions an entry stands for (None: one each). Parquet batches are stored as cells
    of equal (trader, period, product, partner), which is exact for every later step: the
    row-level steps are predicates on these four keys and the outputs are sums.
    """

    maps: dict[str, np.ndarray | None]
    idx: dict[str, np.ndarray]
    value: np.ndarray
    rows: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.value)

    def n_rows(self, mask: np.ndarray | None = None) -> int:
        """Number of transactions (of the entries in ``mask``)."""
        if self.rows is None:
            return len(self.value) if mask is None else int(np.count_nonzero(mask))
        return int(self.rows.sum() if mask is None else self.rows[mask].sum())

    def codes(self, key: str) -> np.ndarray:
        """Label codes of the rows for ``key``."""
        m = self.maps[key]
        return self.idx[key] if m is None else m[self.idx[key]]

    def row_mask(self, key: str, label_mask: np.ndarray) -> np.ndarray:
        """Row mask from a mask on the labels of ``key``."""
        m = self.maps[key]
        return label_mask[self.idx[key]] if m is None else label_mask[m][self.idx[key]]

    def label_rows(self, key: str, n_labels: int) -> np.ndarray:
        """Number of transactions per label of ``key``."""
        m = self.maps[key]
        per_entry = np.bincount(self.idx[key], weights=self.rows, minlength=n_labels if m is None else len(m))
        if m is not None:
            per_entry = np.bincount(m, weights=per_entry, minlength=n_labels)
        return per_entry.astype(np.int64)

    def take(self, keep: np.ndarray) -> Chunk:
        """Entries where the boolean mask ``keep`` is true."""
        rows = None if self.rows is None else self.rows[keep]
        return Chunk(dict(self.maps), {k: i[keep] for k, i in self.idx.items()}, self.value[keep], rows)


@dataclass
class Coded:
    """Transactions with integer-coded keys: shared ``labels`` and a list of :class:`Chunk`.

    ``labels[key]`` holds the distinct labels of ``key`` (``trader``, ``period``, ``product``,
    ``partner``); labels no row uses may remain. Every row-level step is a predicate on the
    labels mapped to rows through the codes, so no string is handled per row.
    """

    labels: dict[str, pd.Index]
    chunks: list[Chunk]

    def __len__(self) -> int:
        """Number of transactions."""
        return sum(c.n_rows() for c in self.chunks)

    def label_rows(self, key: str) -> np.ndarray:
        """Number of rows per label of ``key``."""
        n = len(self.labels[key])
        out = np.zeros(n, dtype=np.int64)
        for c in self.chunks:
            out += c.label_rows(key, n)
        return out

    def relabel(self, key: str, new_labels: Any) -> Coded:
        """Replace the labels of ``key`` by ``new_labels`` (same length; equal labels merge)."""
        remap, uniques = pd.factorize(pd.Series(new_labels))
        labels = {**self.labels, key: pd.Index(uniques)}
        if len(uniques) == len(remap):  # still distinct: codes unchanged (factorize keeps order)
            return Coded(labels, self.chunks)
        remap = remap.astype(np.int32)
        chunks = []
        for c in self.chunks:
            m = c.maps[key]
            chunks.append(Chunk({**c.maps, key: remap if m is None else remap[m]}, c.idx, c.value, c.rows))
        return Coded(labels, chunks)


def coded_from_frame(frame: pd.DataFrame, *, validate: bool = False) -> Coded:
    """Integer-code a canonical transaction frame (categorical keys use their categories).

    Each key is coded once per distinct value. With ``validate=True`` (what the engines
    use) the distinct values are normalised and validated as :func:`~msme_stats.sources.customs.load_transactions` does (so a frame of
    integer codes, for example HS6 codes that lost their leading zero, gives the same result
    as its loaded form; restored zeros are reported as a
    :class:`~msme_stats.errors.RecodeWarning`). Trader, product and partner categories that
    :func:`~msme_stats.sources.customs.load_transactions` built and validated (the same
    Index object, kept by pandas through copies and row selections) are used as they are;
    renamed or new categories are validated again. Rows with a missing key are left out and
    counted in an :class:`~msme_stats.errors.ExclusionWarning` (pandas' groupby drops them
    too); a missing ``value`` adds nothing to its cell's sum (as pandas' ``sum``) and is
    counted in a :class:`~msme_stats.errors.RecodeWarning`.
    """
    from ..sources.customs import _check_columns, _validated_categories, _warn_counts, key_labels

    _check_columns("transactions", frame.columns, list(KEYS) + ["value"])
    idx: dict[str, np.ndarray] = {}
    maps: dict[str, np.ndarray | None] = {}
    labels: dict[str, pd.Index] = {}
    missing: dict[str, int] = {}
    n_restored = 0
    for k in KEYS:
        trusted = _validated_categories(frame[k], k) if validate else None
        if trusted is not None:  # the loader's validated labels: only the codes are read
            c, lab = frame[k].cat.codes.to_numpy(), pd.Series(trusted)
        elif validate:
            c, lab, restored = key_labels(frame[k], k)
            n_restored += restored
        else:
            c, lab = _raw_codes(frame[k], k)
        remap, uniques = pd.factorize(lab)
        maps[k] = None if len(uniques) == len(lab) else remap.astype(np.int32)
        n_missing = int(np.count_nonzero(c < 0))
        if n_missing:
            missing[k] = n_missing
        idx[k] = c
        labels[k] = pd.Index(uniques)
    if n_restored:
        _warn_counts("transactions", "product", n_restored, 0)
    value = frame["value"].to_numpy(dtype="float64", na_value=np.nan)
    if validate:
        bad = np.isinf(value) | (value < 0)
        if bad.any():
            from ..errors import InvalidValueError

            first = int(np.argmax(bad))
            raise InvalidValueError(
                f"transactions: column 'value' has {int(bad.sum())} negative or infinite value(s); first "
                f"at row {first + 1}: {value[first]!r}. Export values must be finite and >= 0."
            )
    nan = np.isnan(value)
    if nan.any():
        warnings.warn(
            f"transactions: {int(nan.sum())} row(s) have a missing value in column 'value'; they "
            "add nothing to their cell's sum (pandas' skipna convention).",
            RecodeWarning,
            stacklevel=3,
        )
        value = np.where(nan, 0.0, value)
    chunk = Chunk(maps, idx, value)
    if missing:
        keep = np.ones(len(frame), dtype=bool)
        for k in missing:
            keep &= idx[k] >= 0
        detail = ", ".join(f"{k}: {n}" for k, n in missing.items())
        warnings.warn(
            f"transactions: left out {int((~keep).sum())} row(s) with a missing key ({detail}); "
            "fill or drop them before the reduction.",
            ExclusionWarning,
            stacklevel=3,
        )
        chunk = chunk.take(keep)
    return Coded(labels, [chunk])


def _raw_codes(s: pd.Series, key: str) -> tuple[np.ndarray, Any]:
    if isinstance(s.dtype, pd.CategoricalDtype):
        cats = s.cat.categories
        return s.cat.codes.to_numpy(), (cats if key == "period" else cats.astype("str"))
    return pd.factorize(s)


def prepare_coded(coded: Coded, options: ReduceOptions) -> tuple[Coded, dict[str, int], dict[str, int]]:
    """Apply the row-level steps to integer-coded transactions.

    Order (METHODS §4.2): period coarsening, HS concordance, chapter 27, placeholders. Every
    predicate is evaluated on the labels and mapped to rows through the codes. Returns the
    kept rows, the counts (:data:`COUNT_KEYS`) and the rows per placeholder code
    (``"trader=OTH"``, ...).
    """
    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts["rows"] = len(coded)
    per = pd.Series(coded.labels["period"])
    new_per = coarsen_period(per, options.period)
    if new_per is not per:
        coded = coded.relabel("period", new_per.to_numpy())
    if options.concordance:
        conc = options.concordance
        product = pd.Series(coded.labels["product"]).astype("str")
        changed = product.isin(list(conc)).to_numpy()
        if changed.any():
            counts["rows_concorded"] = int(coded.label_rows("product")[changed].sum())
            coded = coded.relabel("product", product.map(lambda c: conc.get(c, c)))
    labels = coded.labels
    used = label_masks(labels, options)
    if not used:
        return coded, counts, {}
    per_label: dict[str, np.ndarray] = {k: np.zeros(len(labels[k]), dtype=np.int64)
                                        for k in ("trader", "partner", "product")}
    chunks = []
    for chunk in coded.chunks:
        n = len(chunk)
        rows = {k: chunk.row_mask("product" if k == "hs27" else k, m) for k, m in used.items()}
        keep = ~rows["hs27"] if "hs27" in rows else np.ones(n, dtype=bool)
        if "hs27" in rows:
            counts["rows_hs27"] += chunk.n_rows(rows["hs27"])
        ph: dict[str, np.ndarray] = {k: rows[k] & keep for k in ("trader", "partner", "product") if k in rows}
        ph_any = np.zeros(n, dtype=bool)
        for k, m in ph.items():
            counts[f"rows_placeholder_{k}"] += chunk.n_rows(m)
            ph_any |= m
            if m.any():
                weights = None if chunk.rows is None else chunk.rows[m]
                per_label[k] += np.bincount(chunk.codes(k)[m], weights=weights,
                                            minlength=len(labels[k])).astype(np.int64)
        counts["rows_placeholder"] += chunk.n_rows(ph_any)
        keep &= ~ph_any
        chunks.append(chunk if keep.all() else chunk.take(keep))
    placeholder_codes: dict[str, int] = {}
    for k, rows_per in per_label.items():
        if rows_per.any():
            text = pd.Series(labels[k]).astype("str").to_numpy()
            for i in np.flatnonzero(rows_per):
                placeholder_codes[f"{k}={text[i]}"] = int(rows_per[i])
    return Coded(labels, chunks), counts, placeholder_codes


def label_masks(labels: Mapping[str, pd.Index], options: ReduceOptions) -> dict[str, np.ndarray]:
    """Masks of the labels whose rows the row-level steps drop (only masks with a hit).

    ``"hs27"`` (products of chapter 27 under ``exclude_hs27``) and the placeholder ids of
    ``"trader"``, ``"partner"`` and ``"product"``; an empty result means no row is dropped.
    """
    product = pd.Series(labels["product"]).astype("str")
    lab_masks = {
        "hs27": product.str.startswith("27").to_numpy(dtype=bool) if options.exclude_hs27 else None,
        "trader": pd.Series(labels["trader"]).astype("str").isin(options.placeholder_trader).to_numpy(),
        "partner": pd.Series(labels["partner"]).astype("str").isin(options.placeholder_partner).to_numpy(),
        "product": product.str.upper().str.startswith(options.placeholder_product_prefix).to_numpy(dtype=bool),
    }
    return {k: m for k, m in lab_masks.items() if m is not None and m.any()}


def _take_labels(labels: pd.Index, codes: np.ndarray) -> Any:
    """Label of each code; numeric labels by numpy indexing (``take`` first copies the codes to intp)."""
    if isinstance(labels.dtype, np.dtype) and labels.dtype.kind in "iuf":
        return labels.to_numpy()[codes]
    return labels.take(codes).array


#: rows per block of :func:`group_sums_coded` (small enough for the hash tables to stay in cache)
BLOCK_ROWS = 1 << 18
#: rows per record batch read by :func:`coded_from_parquet`; each batch is summed to cells of
#: equal keys with one hash table that fits the CPU cache (measured: 65,536 rows hash in half
#: the time of 262,144 on the benchmark panel)
READ_BATCH_ROWS = 1 << 16


def _frame_of(labels: dict[str, pd.Index], keys: list[str], key_codes: dict[str, np.ndarray],
              sums: np.ndarray, categorical: bool = False) -> pd.DataFrame:
    cols: dict[str, Any] = {}
    for k in keys:
        lab = labels[k]
        if categorical and k != "period" and not pd.api.types.is_numeric_dtype(lab.dtype) and len(lab):
            # string keys stay coded: a categorical over the (distinct) labels, no string per cell
            cols[k] = pd.Categorical.from_codes(np.asarray(key_codes[k]), categories=lab, validate=False)
        else:
            cols[k] = _take_labels(lab, key_codes[k])
    cols["value"] = sums
    return pd.DataFrame({k: pd.Series(v, copy=False) for k, v in cols.items()}, copy=False)


def _tidy_keys(frame: pd.DataFrame, done: dict[int, tuple[np.ndarray, np.ndarray, pd.Index]] | None = None
               ) -> pd.DataFrame:
    """Key columns as categoricals of strings with the used labels only, sorted (any engine).

    ``done`` carries the work between the two tables of a reduction, which share their trader
    categories: per categories object, the used labels, the code remap and the new categories,
    so the labels are sorted once and both tables get the very same categories object.
    """
    done = {} if done is None else done
    out: dict[str, Any] = {}
    for c in frame.columns:
        s = frame[c]
        if c == "value":
            out[c] = s.to_numpy()
        elif c == "period":
            if isinstance(s.dtype, pd.CategoricalDtype):
                s = s.astype(s.cat.categories.dtype)
            out[c] = s.array
        elif isinstance(s.dtype, pd.CategoricalDtype):
            out[c] = _used_sorted(s, done)
        else:
            out[c] = pd.Categorical(s.astype("str"))
    return pd.DataFrame({k: pd.Series(v, copy=False) for k, v in out.items()}, copy=False)


def as_text(labels: pd.Index) -> pd.Index:
    """Labels as text (a string Index as it is; others, objects included, through ``astype("str")``)."""
    return labels if isinstance(labels.dtype, pd.StringDtype) else labels.astype("str")


def text_order(text: pd.Index) -> np.ndarray:
    """Positions that sort distinct text labels (Python string order: by code point).

    Arrow sorts the UTF-8 bytes, whose order is the code-point order (stable, as numpy's sort
    of the Python strings, which takes three times as long on 100,000 labels in hash order);
    labels Arrow cannot hold (a missing value, a lone surrogate) are sorted by Python.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        arr = pa.array(text, from_pandas=True)
    except (pa.ArrowException, TypeError, ValueError, UnicodeError):
        arr = None
    if arr is None or arr.null_count or not (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        return np.argsort(text.to_numpy(dtype=object), kind="stable")
    return pc.array_sort_indices(arr).to_numpy().astype(np.intp, copy=False)


def _used_sorted(s: pd.Series, done: dict[int, tuple[np.ndarray, np.ndarray, pd.Index]]) -> pd.Categorical:
    """A categorical column recoded to its used categories, as text, sorted (see :func:`_tidy_keys`)."""
    codes = s.cat.codes.to_numpy()
    cats = s.cat.categories
    used = np.bincount(codes[codes >= 0], minlength=len(cats)) > 0 if len(codes) else np.zeros(len(cats), bool)
    prior = done.get(id(cats))
    if prior is not None and np.array_equal(prior[0], used):
        remap, new_cats = prior[1], prior[2]
    else:
        text = as_text(cats)
        sel = np.flatnonzero(used)
        order = text_order(text[sel])
        remap = np.full(len(cats) + 1, -1, dtype=np.int32)
        remap[sel[order]] = np.arange(len(sel), dtype=np.int32)
        new_cats = text[sel[order]]
        done[id(cats)] = (used, remap, new_cats)
    return pd.Categorical.from_codes(remap[codes], categories=new_cats, validate=False)


def _group_sum_wide(coded: Coded, keys: list[str], categorical: bool = False) -> pd.DataFrame:
    """:func:`group_sums_coded` for one key set whose combined code could pass 2**62."""
    empty = np.zeros(0, dtype=np.int64)
    codes = {k: np.concatenate([empty] + [c.codes(k) for c in coded.chunks]) for k in keys}
    value = np.concatenate([np.zeros(0)] + [c.value for c in coded.chunks])
    combined = codes[keys[0]].astype(np.int64)
    for k in keys[1:]:
        combined, uniques = pd.factorize(combined)
        combined = combined.astype(np.int64, copy=False)
        combined *= max(len(coded.labels[k]), 1)
        combined += codes[k]
    group, uniques = pd.factorize(combined)
    sums = np.bincount(group, weights=value, minlength=len(uniques))
    _, first = np.unique(group, return_index=True)  # each cell's first row
    return _frame_of(coded.labels, keys, {k: codes[k][first] for k in keys}, sums, categorical)


def _blocks(coded: Coded, block_rows: int) -> Any:
    for chunk in coded.chunks:
        n = len(chunk)
        if n <= block_rows:
            yield chunk
            continue
        for lo in range(0, n, block_rows):
            sl = slice(lo, lo + block_rows)
            rows = None if chunk.rows is None else chunk.rows[sl]
            yield Chunk(chunk.maps, {k: i[sl] for k, i in chunk.idx.items()}, chunk.value[sl], rows)


def _block_sums(block: Chunk, key_sets: list[list[str]], sizes: dict[str, int]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Distinct combined codes of one block and their value sums, for each key set."""
    out = []
    prefix: dict[tuple[str, ...], np.ndarray] = {}
    for ks in key_sets:
        shared = tuple(ks[:-1])  # keys shared with an earlier key set are combined once
        if shared in prefix:
            comb = prefix[shared] * sizes[ks[-1]]
        else:
            comb = block.codes(ks[0]).astype(np.int64)
            for k in ks[1:-1]:
                comb *= sizes[k]
                comb += block.codes(k)
            prefix[shared] = comb.copy()
            comb *= sizes[ks[-1]]
        comb += block.codes(ks[-1])
        group, uniques = pd.factorize(comb)
        out.append((uniques, np.bincount(group, weights=block.value, minlength=len(uniques))))
    return out


def _final_sums(labels: dict[str, pd.Index], ks: list[str], sizes: dict[str, int],
                parts: list[tuple[np.ndarray, np.ndarray]], categorical: bool = False) -> pd.DataFrame:
    uniques: Any
    sums: np.ndarray
    if not parts:
        uniques, sums = np.zeros(0, dtype=np.int64), np.zeros(0)
    elif len(parts) == 1:
        uniques, sums = parts[0]
    else:
        group, uniques = pd.factorize(np.concatenate([p[0] for p in parts]))
        sums = np.bincount(group, weights=np.concatenate([p[1] for p in parts]), minlength=len(uniques))
    rest = np.asarray(uniques, dtype=np.int64)
    key_codes: dict[str, np.ndarray] = {}
    for k in reversed(ks[1:]):
        rest, key_codes[k] = np.divmod(rest, sizes[k])
    key_codes[ks[0]] = rest
    return _frame_of(labels, ks, key_codes, sums, categorical)


def group_sums_coded(
    coded: Coded, key_sets: list[list[str]], *, block_rows: int = BLOCK_ROWS, threads: int = 1,
    categorical: bool = False,
) -> list[pd.DataFrame]:
    """Sum ``value`` by each list of keys (labels as columns, cells in order of first appearance).

    For each key set the keys' codes are combined into one int64 (mixed radix). Rows are
    taken chunk by chunk (blocks of at most ``block_rows``): each block is hashed with
    :func:`pandas.factorize` and summed with :func:`numpy.bincount`, then the block sums are
    hashed and summed once more. A block's hash table stays in the CPU cache and no
    row-length int64 array is allocated; blocks run on ``threads`` threads (results are
    combined in block order, so the output does not depend on ``threads``). Sums are plain
    double-precision sums (within a block in row order, then over blocks in order); pandas'
    ``groupby().sum()`` uses Kahan-compensated summation, so the two differ by rounding only
    (about 1e-15 relative). ``categorical=True`` returns string keys as categoricals over the
    labels (no string per cell).
    """
    sizes = {k: max(len(coded.labels[k]), 1) for ks in key_sets for k in ks}
    out: list[pd.DataFrame | None] = [None] * len(key_sets)
    narrow = []
    for i, ks in enumerate(key_sets):
        if int(np.prod([sizes[k] for k in ks], dtype=object)) >= 2**62:
            out[i] = _group_sum_wide(coded, ks, categorical)
        else:
            narrow.append(i)
    if narrow:
        sets = [key_sets[i] for i in narrow]
        blocks = [b for b in _blocks(coded, block_rows) if len(b)]
        if threads > 1 and len(blocks) > 1:
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(threads) as pool:
                per_block = list(pool.map(lambda b: _block_sums(b, sets, sizes), blocks))
                finals = pool.map(
                    lambda j: _final_sums(coded.labels, sets[j], sizes, [p[j] for p in per_block], categorical),
                    range(len(sets)),
                )
                for i, frame in zip(narrow, finals, strict=True):
                    out[i] = frame
        else:
            per_block = [_block_sums(b, sets, sizes) for b in blocks]
            for j, i in enumerate(narrow):
                out[i] = _final_sums(coded.labels, sets[j], sizes, [p[j] for p in per_block], categorical)
    return [f for f in out if f is not None]


def group_sum_coded(coded: Coded, keys: list[str]) -> pd.DataFrame:
    """Sum ``value`` by ``keys``; see :func:`group_sums_coded`."""
    return group_sums_coded(coded, [keys])[0]


Partial = tuple[pd.DataFrame, pd.DataFrame, dict[str, int], dict[str, int]]


def partial_coded(coded: Coded, options: ReduceOptions, *, threads: int = 1) -> Partial:
    """Row-level steps and the trader x period x product / partner sums of coded rows."""
    kept, counts, codes = prepare_coded(coded, options)
    fp, fd = group_sums_coded(kept, [["trader", "period", "product"], ["trader", "period", "partner"]],
                              categorical=True,
                              threads=threads)
    return fp, fd, counts, codes


def partial_tables(frame: pd.DataFrame, options: ReduceOptions) -> Partial:
    """Prepare one chunk (a canonical frame) and aggregate it to trader x period sums."""
    return partial_coded(coded_from_frame(frame, validate=True), options)


def _add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


def _regroup(frames: list[pd.DataFrame], keys: list[str]) -> pd.DataFrame:
    """Sum partial tables again; categorical keys are united by their categories (no strings per cell)."""
    from pandas.api.types import union_categoricals

    idx: dict[str, np.ndarray] = {}
    labels: dict[str, pd.Index] = {}
    for k in keys:
        cols = [f[k] for f in frames]
        if k != "period" and all(isinstance(c.dtype, pd.CategoricalDtype) for c in cols):
            cats = [c.array if pd.api.types.is_string_dtype(c.cat.categories.dtype)
                    else c.array.rename_categories(c.cat.categories.astype("str")) for c in cols]
            united = union_categoricals(cats, ignore_order=True)
            idx[k], labels[k] = united.codes, pd.Index(united.categories)
        else:
            plain = [c.astype(c.cat.categories.dtype if k == "period" else "str")
                     if isinstance(c.dtype, pd.CategoricalDtype) else c for c in cols]
            c, u = pd.factorize(pd.concat(plain, ignore_index=True))
            idx[k], labels[k] = c, pd.Index(u)
    value = np.concatenate([f["value"].to_numpy(dtype="float64") for f in frames])
    chunk = Chunk(dict.fromkeys(keys), idx, value)
    return group_sums_coded(Coded(labels, [chunk]), [keys], categorical=True)[0]


def combine_partials(parts: list[Partial]) -> Partial:
    """Combine partial tables of several chunks (concatenate and sum again)."""
    if len(parts) == 1:
        return parts[0]
    fp = _regroup([p[0] for p in parts], ["trader", "period", "product"])
    fd = _regroup([p[1] for p in parts], ["trader", "period", "partner"])
    counts: dict[str, int] = {}
    codes: dict[str, int] = {}
    for p in parts:
        counts = _add(counts, p[2])
        codes = _add(codes, p[3])
    return fp, fd, counts, codes


def finish(part: Partial, *, tidy: bool = False) -> Reduction:
    """Turn the final partial into a :class:`Reduction` (string keys as sorted categoricals).

    ``tidy=True``: the engine built the tables in their final form (trader, product and
    partner categoricals over their used labels only, as text, sorted; both tables sharing
    one trader categories object; plain period labels; a default index), so they are kept
    as they are.
    """
    fp, fd, counts, codes = part
    if not tidy:
        done: dict[int, tuple[np.ndarray, np.ndarray, pd.Index]] = {}  # shared trader categories: sorted once
        fp = _tidy_keys(fp.reset_index(drop=True), done)
        fd = _tidy_keys(fd.reset_index(drop=True), done)
    counts = {**dict.fromkeys(COUNT_KEYS, 0), **counts}
    return Reduction(firm_product=fp, firm_partner=fd, counts=counts, placeholder_codes=dict(codes))
