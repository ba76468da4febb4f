"""Shared, engine-independent pieces of the transaction reduction (pure pandas, per chunk)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError
from ..sources.customs import CANONICAL_ROLES, normalise_transactions

__all__ = [
    "ReduceOptions",
    "Reduction",
    "period_granularity",
    "prepare_chunk",
    "partial_tables",
    "combine_partials",
    "finish",
    "read_parquet_file",
]

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

    period: str = "year"
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
    (int year, ``"YYYYQn"`` or ``"YYYY-MM"``). ``counts`` holds row counts (``rows`` read,
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


def _mask_on_values(s: pd.Series, func: Any) -> np.ndarray:
    """Row mask from a predicate on values, evaluated on categories when categorical."""
    if isinstance(s.dtype, pd.CategoricalDtype):
        cat_mask = np.asarray(func(pd.Series(s.cat.categories.astype("str"))), dtype=bool)
        codes = s.cat.codes.to_numpy()
        return np.where(codes < 0, False, cat_mask[np.maximum(codes, 0)])
    return np.asarray(func(s.astype("str")), dtype=bool)


def _value_counts(s: pd.Series, mask: np.ndarray, prefix: str) -> dict[str, int]:
    if not mask.any():
        return {}
    vc = s[mask].astype("str").value_counts()
    return {f"{prefix}={k}": int(v) for k, v in vc.items()}


def prepare_chunk(frame: pd.DataFrame, options: ReduceOptions) -> tuple[pd.DataFrame, dict[str, int], dict[str, int]]:
    """Apply the row-level steps to one chunk of canonical transactions.

    Order (METHODS §4.2): period coarsening, HS concordance, chapter 27, placeholders.
    Returns the kept rows (trader, period, product, partner, value), the counts and the rows
    per placeholder code.
    """
    counts = dict.fromkeys(COUNT_KEYS, 0)
    counts["rows"] = len(frame)
    out = frame[["trader", "period", "product", "partner", "value"]]
    out = out.assign(period=coarsen_period(out["period"], options.period))
    if options.concordance:
        conc = options.concordance
        product = out["product"]
        changed = _mask_on_values(product, lambda s: s.isin(list(conc)).to_numpy())
        if changed.any():
            mapped = product.astype("str").map(lambda c: conc.get(c, c))
            out = out.assign(product=mapped)
            counts["rows_concorded"] = int(changed.sum())
    keep = np.ones(len(out), dtype=bool)
    if options.exclude_hs27:
        hs27 = _mask_on_values(out["product"], lambda s: s.str.startswith("27").to_numpy())
        counts["rows_hs27"] = int(hs27.sum())
        keep &= ~hs27
    codes: dict[str, int] = {}
    ph_t = _mask_on_values(out["trader"], lambda s: s.isin(options.placeholder_trader).to_numpy())
    ph_d = _mask_on_values(out["partner"], lambda s: s.isin(options.placeholder_partner).to_numpy())
    prefix = options.placeholder_product_prefix
    ph_p = _mask_on_values(out["product"], lambda s: s.str.upper().str.startswith(prefix).to_numpy())
    ph_any = (ph_t | ph_d | ph_p) & keep
    counts["rows_placeholder_trader"] = int((ph_t & keep).sum())
    counts["rows_placeholder_partner"] = int((ph_d & keep).sum())
    counts["rows_placeholder_product"] = int((ph_p & keep).sum())
    counts["rows_placeholder"] = int(ph_any.sum())
    if ph_any.any():
        codes.update(_value_counts(out["trader"], ph_t & keep, "trader"))
        codes.update(_value_counts(out["partner"], ph_d & keep, "partner"))
        codes.update(_value_counts(out["product"], ph_p & keep, "product"))
    keep &= ~ph_any
    if not keep.all():
        out = out.loc[keep]
    return out, counts, codes


def _group_sum(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    return (
        frame.groupby(keys, sort=False, observed=True)["value"].sum().reset_index()
    )


Partial = tuple[pd.DataFrame, pd.DataFrame, dict[str, int], dict[str, int]]


def partial_tables(frame: pd.DataFrame, options: ReduceOptions) -> Partial:
    """Prepare one chunk and aggregate it to trader x period x product / partner sums."""
    kept, counts, codes = prepare_chunk(frame, options)
    fp = _group_sum(kept, ["trader", "period", "product"])
    fd = _group_sum(kept, ["trader", "period", "partner"])
    return fp, fd, counts, codes


def _add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Categorical keys -> str, so that partials with different categories concatenate."""
    conv = {c: "str" for c in frame.columns if isinstance(frame[c].dtype, pd.CategoricalDtype) and c != "period"}
    out = frame.astype(conv) if conv else frame
    if isinstance(out["period"].dtype, pd.CategoricalDtype):
        cats = out["period"].cat.categories
        out = out.assign(period=out["period"].astype(cats.dtype))
    return out


def combine_partials(parts: list[Partial]) -> Partial:
    """Combine partial tables of several chunks (concatenate and sum again)."""
    if len(parts) == 1:
        return parts[0]
    fp = _group_sum(pd.concat([_plain(p[0]) for p in parts], ignore_index=True), ["trader", "period", "product"])
    fd = _group_sum(pd.concat([_plain(p[1]) for p in parts], ignore_index=True), ["trader", "period", "partner"])
    counts: dict[str, int] = {}
    codes: dict[str, int] = {}
    for p in parts:
        counts = _add(counts, p[2])
        codes = _add(codes, p[3])
    return fp, fd, counts, codes


def finish(part: Partial) -> Reduction:
    """Turn the final partial into a :class:`Reduction` with plain string keys."""
    fp, fd, counts, codes = part
    fp = _plain(fp).reset_index(drop=True)
    fd = _plain(fd).reset_index(drop=True)
    for name, c in (("counts", counts),):
        for k in COUNT_KEYS:
            c.setdefault(k, 0)
        del name
    return Reduction(firm_product=fp, firm_partner=fd, counts=dict(counts), placeholder_codes=dict(codes))


def read_parquet_file(path: str | Path, partition_keys: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """Read one canonical Parquet file with dictionary-encoded keys (categoricals).

    Partition keys of a hive folder (``period=2001``) are added when absent from the file.
    The frame is validated with :func:`~msme_stats.sources.customs.normalise_transactions`.
    """
    import pyarrow.parquet as pq

    path = Path(path)
    table = pq.read_table(path, read_dictionary=["trader", "product", "partner"])
    frame = table.to_pandas()
    keys = dict(partition_keys or {})
    for part in path.parent.parts:
        if "=" in part:
            k, _, v = part.partition("=")
            keys.setdefault(k, int(v) if v.isdigit() else v)
    for k, v in keys.items():
        if k not in frame.columns:
            frame[k] = v
    return normalise_transactions(frame, CANONICAL_ROLES, label=str(path), warn=True)


def read_parquet_files(files: list[Path]) -> pd.DataFrame:
    """Read canonical Parquet files at once (dictionary-encoded keys unified -> categoricals).

    Hive partition keys (``period=2001`` folders) are read from the paths.
    """
    import os

    import pyarrow.dataset as ds

    fmt = ds.ParquetFileFormat(
        read_options=ds.ParquetReadOptions(dictionary_columns=["trader", "product", "partner"])
    )
    base = os.path.commonpath([str(f.parent) for f in files])
    while "=" in Path(base).name:  # the base must sit above the partition folders
        base = str(Path(base).parent)
    dataset = ds.dataset([str(f) for f in files], format=fmt, partitioning="hive", partition_base_dir=base)
    frame = dataset.to_table().unify_dictionaries().to_pandas()
    return normalise_transactions(frame, CANONICAL_ROLES, label=base, warn=True)


def parquet_files(source: Any) -> list[Path] | None:
    """Parquet files of a path/glob/list source, or None if the source is not Parquet-only."""
    from ..sources.customs import expand_source

    if isinstance(source, pd.DataFrame):
        return None
    try:
        items = expand_source(source)
    except OptionError:
        return None
    files: list[Path] = []
    for kind, path in items:
        if kind == "dataset":
            files.extend(sorted(p for p in path.rglob("*.parquet") if p.is_file()))
        elif kind == "parquet":
            files.append(path)
        else:
            return None
    return files
