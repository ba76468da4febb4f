"""Seeded synthetic customs transactions of any size, for tests and benchmarks.

The panel imitates the facts that exporter-dynamics indicators (METHODS §4) are about:

* **entry and exit**: each trader enters in a random year; it exits after its first year with
  probability ``first_year_exit`` (EDD: about 57 % of new exporters quit within a year) and in
  later years with probability ``later_exit``; a surviving trader skips a year with probability
  ``gap_prob`` (so it exits and re-enters);
* **concentration**: a trader's yearly export value is Pareto distributed (tail index
  ``pareto_alpha``, default 1.1, which gives top-1 % shares of about 40-60 %, the range
  Freund & Pierola 2012 report), with yearly log-normal shocks;
* **products and partners**: each trader has a core portfolio of HS6 products and partner
  countries whose size grows with its value; each product (partner) of the portfolio is active
  in a given year with probability ``slot_active``, so products and partners enter and exit.

Rows are transactions (shipments): the number of rows of a trader-year grows with its value.
Generation is block-wise: :func:`synthetic_transactions` returns the blocks concatenated and
:func:`write_transactions_parquet` writes the very same blocks one at a time to a
hive-partitioned Parquet folder (``period=YYYY/part-NNNNN.parquet``), so 100 million rows never
sit in memory at once. Both give identical rows for the same arguments.

Output columns (the canonical frame of :func:`msme_stats.load_transactions`): ``trader``
(str), ``period`` (int year), ``product`` (HS6 str), ``partner`` (str), ``value`` (float64,
USD).

``codes="int"`` gives the same panel as national customs extracts often arrive: integer
trader ids (``F0000123`` -> 123), HS6 codes stored as integers that lost their leading zero
(``010121`` -> 10121) and integer partner codes (``C007`` -> 8); load it with
:func:`msme_stats.load_transactions` and roles ``trader``, ``period``, ``product``,
``partner``, ``value``. :func:`write_transactions_parquet` writes a hive-partitioned folder
(default) or one Parquet file (``layout="file"``); :func:`write_transactions_csv` one CSV file
(optionally gzip-compressed).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import OptionError

__all__ = [
    "synthetic_transactions",
    "write_transactions_parquet",
    "write_transactions_csv",
    "iter_transaction_blocks",
]

CODES = ("str", "int")

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a fast counter-based hash of uint64 arrays."""
    with np.errstate(over="ignore"):
        z = (x + np.uint64(0x9E3779B97F4A7C15)) & _MASK
        z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _MASK
        z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _MASK
        return z ^ (z >> np.uint64(31))


def _uniform(*keys: np.ndarray, salt: int) -> np.ndarray:
    """Deterministic U(0,1) numbers from integer keys (same keys -> same number)."""
    h = np.full(np.broadcast(*keys).shape, np.uint64(salt), dtype=np.uint64)
    for k in keys:
        with np.errstate(over="ignore"):
            h = _mix(h ^ np.asarray(k).astype(np.uint64))
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _firm_years(
    n_traders: int,
    years: list[int],
    rng: np.random.Generator,
    *,
    first_year_exit: float,
    later_exit: float,
    gap_prob: float,
    pareto_alpha: float,
) -> pd.DataFrame:
    """Active trader-years with their value scale (one row per trader and active year)."""
    n_years = len(years)
    # entry year: a share of traders is already active in the first year (the stock),
    # the others enter uniformly over the following years
    stock = rng.random(n_traders) < 0.4
    entry = np.where(stock, 0, rng.integers(0, n_years, n_traders))
    size = (rng.pareto(pareto_alpha, n_traders) + 1.0) * 20_000.0
    rows_f: list[np.ndarray] = []
    rows_t: list[np.ndarray] = []
    alive = np.zeros(n_traders, dtype=bool)
    age = np.zeros(n_traders, dtype=np.int64)
    dead = np.zeros(n_traders, dtype=bool)
    for t in range(n_years):
        starting = (entry == t) & ~dead
        alive |= starting
        if t > 0:
            # exits of the traders that were alive before this year
            p_exit = np.where(age == 1, first_year_exit, later_exit)
            leaving = alive & ~starting & (rng.random(n_traders) < p_exit)
            dead |= leaving
            alive &= ~leaving
        skip = alive & ~starting & (rng.random(n_traders) < gap_prob)
        active = alive & ~skip
        idx = np.flatnonzero(active)
        rows_f.append(idx)
        rows_t.append(np.full(idx.size, t))
        age[alive] += 1
    f = np.concatenate(rows_f)
    t_all = np.concatenate(rows_t)
    shock = rng.lognormal(0.0, 0.5, f.size)
    return pd.DataFrame({"f": f, "t": t_all, "scale": size[f] * shock})


def iter_transaction_blocks(
    n_rows: int,
    *,
    n_traders: int = 20_000,
    years: tuple[int, int] | list[int] = (2001, 2010),
    seed: int = 0,
    n_products: int = 5_000,
    n_partners: int = 150,
    block_rows: int = 2_000_000,
    first_year_exit: float = 0.55,
    later_exit: float = 0.15,
    gap_prob: float = 0.05,
    pareto_alpha: float = 1.1,
    slot_active: float = 0.75,
    codes: str = "str",
) -> Iterator[pd.DataFrame]:
    """Yield the synthetic transactions block by block (each block within one year).

    Parameters
    ----------
    n_rows, n_traders, years, seed
        As in :func:`synthetic_transactions`.
    n_products, n_partners
        Sizes of the HS6 product and partner universes.
    block_rows
        Upper bound on the rows of one block (a trader-year is never split).
    first_year_exit, later_exit, gap_prob
        Exit probability after the first year, in later years, and of skipping a year.
    pareto_alpha
        Tail index of the traders' Pareto-distributed export values.
    slot_active
        Probability that a product (partner) of a portfolio is active in a year.
    codes
        ``"str"`` (default) or ``"int"`` (integer codes; see the module docstring).

    Returns
    -------
    Iterator of pandas.DataFrame
        Blocks with columns ``trader``, ``period``, ``product``, ``partner``, ``value``; their
        concatenation is :func:`synthetic_transactions`.

    Raises
    ------
    OptionError
        Unknown ``codes``, non-positive ``n_rows``, ``n_traders`` or ``block_rows``, or an
        empty ``years``.

    Examples
    --------
    >>> blocks = list(iter_transaction_blocks(1_000, n_traders=50, seed=1, block_rows=300))
    >>> sum(len(b) for b in blocks), all(b["period"].nunique() == 1 for b in blocks)
    (1000, True)
    """
    year_list = _block_args(n_rows, n_traders, block_rows, years, codes)
    rng = np.random.default_rng(seed)
    fy = _firm_years(n_traders, year_list, rng, first_year_exit=first_year_exit, later_exit=later_exit,
                     gap_prob=gap_prob, pareto_alpha=pareto_alpha)
    fy = _shipments_and_portfolios(fy, n_rows, rng)
    product_codes = np.array([f"{i:06d}" for i in _hs6_universe(n_products)], dtype=object)
    partner_codes = np.array([f"C{i:03d}" for i in range(n_partners)], dtype=object)
    yield from _year_blocks(fy, year_list, seed, block_rows, product_codes, partner_codes, slot_active, codes)


def _block_args(n_rows: int, n_traders: int, block_rows: int, years: tuple[int, int] | list[int],
                codes: str) -> list[int]:
    """Check the sizes and ``codes``; return the list of years."""
    if codes not in CODES:
        raise OptionError(f"codes={codes!r} is not allowed; use 'str' or 'int'.")
    if n_rows < 1 or n_traders < 1 or block_rows < 1:
        raise OptionError("n_rows, n_traders and block_rows must be positive integers.")
    if isinstance(years, tuple) and len(years) == 2:
        year_list = list(range(int(years[0]), int(years[1]) + 1))
    else:
        year_list = [int(y) for y in years]
    if not year_list:
        raise OptionError("years is empty; pass (first, last) or a list of years.")
    return year_list


def _shipments_and_portfolios(fy: pd.DataFrame, n_rows: int, rng: np.random.Generator) -> pd.DataFrame:
    """Shipments per trader-year (``n_tx``) and portfolio sizes (``k_prod``, ``k_part``)."""
    # shipments per trader-year grow with value (elasticity 0.5), at least one
    w = np.sqrt(fy["scale"].to_numpy())
    n_tx = 1 + rng.multinomial(max(n_rows - len(fy), 0), w / w.sum()) if n_rows > len(fy) else None
    if n_tx is None:  # fewer rows than trader-years: keep the n_rows largest trader-years
        keep = np.sort(np.argsort(-w, kind="stable")[:n_rows])
        fy = fy.iloc[keep].reset_index(drop=True)
        n_tx = np.ones(len(fy), dtype=np.int64)
    fy["n_tx"] = n_tx
    # portfolio sizes: 1 + a number growing with the trader's size, capped
    base = fy.groupby("f")["scale"].transform("max").to_numpy()
    fy["k_prod"] = np.minimum(1 + (np.log10(base / 20_000.0 + 1.0) * 6).astype(int), 40)
    fy["k_part"] = np.minimum(1 + (np.log10(base / 20_000.0 + 1.0) * 4).astype(int), 30)
    return fy.sort_values(["t", "f"], kind="stable").reset_index(drop=True)


def _year_blocks(fy: pd.DataFrame, year_list: list[int], seed: int, block_rows: int, product_codes: np.ndarray,
                 partner_codes: np.ndarray, slot_active: float, codes: str) -> Iterator[pd.DataFrame]:
    """Cut the trader-years of each year into blocks of at most ``block_rows`` rows and draw them."""
    block_seeds = np.random.SeedSequence(seed).spawn(1)[0]
    cum = np.cumsum(fy["n_tx"].to_numpy())
    block_id = 0
    for t in range(len(year_list)):
        in_year = np.flatnonzero(fy["t"].to_numpy() == t)
        if in_year.size == 0:
            continue
        lo = in_year[0]
        hi_end = in_year[-1] + 1
        start = lo
        while start < hi_end:
            base_rows = cum[start - 1] if start > 0 else 0
            stop = int(np.searchsorted(cum, base_rows + block_rows, side="right"))
            stop = min(max(stop, start + 1), hi_end)
            sub = fy.iloc[start:stop]
            brng = np.random.default_rng(
                np.random.SeedSequence(block_seeds.entropy, spawn_key=(block_id,))
            )
            yield _block(sub, year_list, brng, product_codes, partner_codes, slot_active, codes)
            block_id += 1
            start = stop


def _hs6_universe(n: int) -> np.ndarray:
    """``n`` distinct plausible HS6 numbers (chapters 01-97, headings 01-99, subheadings)."""
    rng = np.random.default_rng(12345)
    chapters = np.array([c for c in range(1, 98) if c != 77])
    codes: set[int] = set()
    while len(codes) < n:
        ch = rng.choice(chapters, n)
        hd = rng.integers(1, 100, n)
        sub = rng.integers(10, 100, n)
        codes.update((ch * 10_000 + hd * 100 + sub).tolist())
    return np.array(sorted(codes)[:n])


def _block(
    sub: pd.DataFrame,
    year_list: list[int],
    rng: np.random.Generator,
    product_codes: np.ndarray,
    partner_codes: np.ndarray,
    slot_active: float,
    codes: str = "str",
) -> pd.DataFrame:
    reps = sub["n_tx"].to_numpy()
    f = np.repeat(sub["f"].to_numpy(), reps).astype(np.uint64)
    t = np.repeat(sub["t"].to_numpy(), reps).astype(np.uint64)
    scale = np.repeat(sub["scale"].to_numpy() / reps, reps)
    n = f.size

    def pick(k: np.ndarray, size: int, salt: int) -> np.ndarray:
        slot = (rng.random(n) * k).astype(np.uint64)
        # a slot is active this year with probability slot_active (slot 0 always)
        active = (slot == 0) | (_uniform(f, slot, t, salt=salt) < slot_active)
        slot = np.where(active, slot, np.uint64(0))
        # the slot's code: popular codes more often (squared uniform -> skewed to low indices)
        u = _uniform(f, slot, salt=salt + 1)
        return (u * u * size).astype(np.int64)

    product = pick(np.repeat(sub["k_prod"].to_numpy(), reps), product_codes.size, 11)
    partner = pick(np.repeat(sub["k_part"].to_numpy(), reps), partner_codes.size, 23)
    value = np.round(scale * rng.lognormal(-0.125, 0.5, n), 2)
    years = np.asarray(year_list, dtype=np.int64)
    if codes == "int":
        return pd.DataFrame(
            {
                "trader": f.astype(np.int64),
                "period": years[t.astype(np.int64)],
                "product": product_codes.astype(np.int64)[product],
                "partner": partner + 1,
                "value": value,
            }
        )
    product = product_codes[product]
    partner = partner_codes[partner]
    return pd.DataFrame(
        {
            "trader": pd.array(np.char.add("F", np.char.zfill(f.astype(str), 7)), dtype="str"),
            "period": years[t.astype(np.int64)],
            "product": pd.array(product, dtype="str"),
            "partner": pd.array(partner, dtype="str"),
            "value": value,
        }
    )


def synthetic_transactions(
    n_rows: int,
    *,
    n_traders: int = 20_000,
    years: tuple[int, int] | list[int] = (2001, 2010),
    seed: int = 0,
    **kwargs: Any,
) -> pd.DataFrame:
    """Return a seeded synthetic transaction panel with realistic entry, exit and concentration.

    Parameters
    ----------
    n_rows
        Approximate number of transactions (exact when ``n_rows`` exceeds the number of
        active trader-years).
    n_traders
        Number of distinct traders over the whole panel.
    years
        ``(first, last)`` inclusive, or an explicit list of years.
    seed
        Seed of the generator; the same arguments always give the same rows.
    **kwargs
        ``n_products`` (5,000), ``n_partners`` (150), ``block_rows`` (2,000,000),
        ``first_year_exit`` (0.55), ``later_exit`` (0.15), ``gap_prob`` (0.05),
        ``pareto_alpha`` (1.1), ``slot_active`` (0.75), ``codes`` (``"str"``; ``"int"`` for
        integer trader, product and partner codes); see the module docstring.

    Returns
    -------
    pandas.DataFrame
        Columns ``trader``, ``period``, ``product``, ``partner``, ``value``.

    Raises
    ------
    OptionError
        Propagated from :func:`iter_transaction_blocks` (bad ``codes``, sizes or ``years``).

    Examples
    --------
    >>> tx = synthetic_transactions(1_000, n_traders=50, seed=1)
    >>> tx.head(2)
         trader  period product partner    value
    0  F0000000    2001  414928    C047  2966.41
    1  F0000000    2001  457620    C047  5332.80
    >>> synthetic_transactions(1_000, n_traders=50, seed=1, codes="int").head(2)
       trader  period  product  partner    value
    0       0    2001   414928       48  2966.41
    1       0    2001   457620       48  5332.80
    """
    blocks = list(
        iter_transaction_blocks(n_rows, n_traders=n_traders, years=years, seed=seed, **kwargs)
    )
    return pd.concat(blocks, ignore_index=True)


def write_transactions_parquet(
    path: str | Path,
    n_rows: int,
    *,
    n_traders: int = 20_000,
    years: tuple[int, int] | list[int] = (2001, 2010),
    seed: int = 0,
    layout: str = "hive",
    row_group_size: int = 1_000_000,
    **kwargs: Any,
) -> Path:
    """Write :func:`synthetic_transactions` block by block to Parquet.

    ``layout="hive"`` (default): a hive-partitioned folder of files
    ``<path>/period=<year>/part-<nnnnn>.parquet`` (the ``period`` column lives in the folder
    name, as Hive, Spark, DuckDB, pyarrow and Dask expect). ``layout="file"``: one Parquet
    file ``path`` with a ``period`` column and row groups of ``row_group_size`` rows. Only one
    block (``block_rows``, default 2 million rows) is in memory at a time; ``codes="int"``
    (in ``kwargs``) writes integer codes.

    Parameters
    ----------
    path
        Folder (``layout="hive"``) or file (``layout="file"``) to write.
    n_rows, n_traders, years, seed, **kwargs
        As in :func:`synthetic_transactions`.
    layout
        ``"hive"`` (default) or ``"file"``.
    row_group_size
        Rows per Parquet row group with ``layout="file"``.

    Returns
    -------
    pathlib.Path
        The folder or file written.

    Raises
    ------
    OptionError
        Unknown ``layout``; propagated from :func:`iter_transaction_blocks`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> folder = write_transactions_parquet(Path(tempfile.mkdtemp()) / "panel", 2_000, n_traders=80)
    >>> sorted(p.name for p in folder.iterdir())[:2]
    ['period=2001', 'period=2002']
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if layout not in ("hive", "file"):
        raise OptionError(f"layout={layout!r} is not allowed; use 'hive' or 'file'.")
    root = Path(path)
    blocks = iter_transaction_blocks(n_rows, n_traders=n_traders, years=years, seed=seed, **kwargs)
    if layout == "file":
        root.parent.mkdir(parents=True, exist_ok=True)
        writer = None
        try:
            for block in blocks:
                table = pa.Table.from_pandas(block, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(root, table.schema, compression="snappy")
                writer.write_table(table, row_group_size=row_group_size)
        finally:
            if writer is not None:
                writer.close()
        return root
    root.mkdir(parents=True, exist_ok=True)
    for i, block in enumerate(blocks):
        year = int(block["period"].iloc[0])
        folder = root / f"period={year}"
        folder.mkdir(exist_ok=True)
        table = pa.Table.from_pandas(block.drop(columns="period"), preserve_index=False)
        pq.write_table(table, folder / f"part-{i:05d}.parquet", compression="snappy")
    return root


def write_transactions_csv(
    path: str | Path,
    n_rows: int,
    *,
    n_traders: int = 20_000,
    years: tuple[int, int] | list[int] = (2001, 2010),
    seed: int = 0,
    **kwargs: Any,
) -> Path:
    """Write :func:`synthetic_transactions` block by block to one CSV file (``.csv.gz``: gzip).

    Columns ``trader``, ``period``, ``product``, ``partner``, ``value``; ``codes="int"`` (in
    ``kwargs``) writes integer codes (HS6 codes then lose their leading zero, as in files
    saved from a spreadsheet).

    Parameters
    ----------
    path
        File to write (``.csv``, or ``.csv.gz`` for gzip).
    n_rows, n_traders, years, seed, **kwargs
        As in :func:`synthetic_transactions`.

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    OptionError
        Propagated from :func:`iter_transaction_blocks`.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> path = write_transactions_csv(Path(tempfile.mkdtemp()) / "tx.csv", 500, n_traders=40, codes="int")
    >>> path.read_text().splitlines()[:2]
    ['"trader","period","product","partner","value"', '1,2001,133337,1,6420.87']
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    root = Path(path)
    root.parent.mkdir(parents=True, exist_ok=True)
    compression = "gzip" if root.name.lower().endswith(".gz") else None
    sink = pa.CompressedOutputStream(str(root), compression) if compression else pa.OSFile(str(root), "wb")
    writer = None
    try:
        for block in iter_transaction_blocks(n_rows, n_traders=n_traders, years=years, seed=seed, **kwargs):
            table = pa.Table.from_pandas(block, preserve_index=False)
            if writer is None:
                writer = pacsv.CSVWriter(sink, table.schema,
                                         write_options=pacsv.WriteOptions(quoting_style="none"))
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
        sink.close()
    return root
