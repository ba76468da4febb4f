"""Optional download helpers for TEC tables (Eurostat SDMX 2.1 API, OECD SDMX REST).

Parsers and tests never depend on these functions: every loader reads local files. A
download is saved in a local cache together with a ``.json`` sidecar recording the query
URL, the download time (UTC) and the sha256 of the file, so that a cached response can be
committed as a recorded specimen (DATA_SOURCES §4). Without internet access the helpers
raise :class:`~msme_stats.errors.OfflineError`.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import http.client
import json
import logging
import math
import re
import urllib.error
import urllib.request
from pathlib import Path

from .._atomic import atomic_write_bytes
from .._options import TecFormat, check_choice, choices
from ..errors import OfflineError, OptionError, UnreadableFileError, WriteError

logger = logging.getLogger(__name__)

EUROSTAT_BASE = "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1/data"
OECD_BASE = "https://sdmx.oecd.org/public/rest/data"
OECD_TEC_AGENCY = "OECD.SDD.TPS"
OECD_TEC_DSD = "DSD_TEC_ISIC4"
#: number of dimensions of the OECD DSD_TEC_ISIC4 key (METHODS §3.4)
OECD_TEC_KEY_LENGTH = 15


def _provider(dataset: str) -> str:
    if not isinstance(dataset, str):
        raise OptionError(
            f"dataset={dataset!r} ({type(dataset).__name__}) is not a TEC dataset id; use a "
            "Eurostat id such as 'ext_tec01' or an OECD dataflow such as 'DF_TEC01'.")
    if re.fullmatch(r"(?i)ext_s?tec\d\d", dataset):
        return "eurostat"
    if re.fullmatch(r"(?i)df_tec(\d\d)?", dataset):
        return "oecd"
    raise OptionError(
        f"dataset={dataset!r} is not a TEC dataset id; use a Eurostat id such as 'ext_tec01' "
        "or an OECD dataflow such as 'DF_TEC01'.")


def tec_url(
    dataset: str,
    *,
    key: str | None = None,
    fmt: TecFormat = "sdmx-csv",
    version: str = "latest",
) -> str:
    """Build the query URL of a Eurostat or OECD TEC dataset.

    Parameters
    ----------
    dataset
        Eurostat id (``"ext_tec01"``, ``"ext_tec10"``) or OECD dataflow (``"DF_TEC01"``).
    key
        SDMX key in DSD dimension order (dot-separated, empty positions = all). Eurostat:
        omitted = whole dataset. OECD: a 15-position key is required by the service; default
        all positions empty.
    fmt
        ``"sdmx-csv"`` (default) or ``"tsv"`` (Eurostat only; gzip-compressed).
    version
        OECD dataflow version (``"latest"``, or e.g. ``"1.1"``); read it from your file
        rather than hard-coding it.

    Returns
    -------
    str
        The URL (Eurostat: ``.../sdmx/2.1/data/EXT_TEC01[/key]?format=SDMX-CSV``; OECD:
        ``.../rest/data/OECD.SDD.TPS,DSD_TEC_ISIC4@DF_TEC01,<version>/<key>?format=
        csvfilewithlabels&dimensionAtObservation=AllDimensions``).

    Raises
    ------
    OptionError
        ``dataset`` is not a Eurostat TEC id or OECD TEC dataflow, ``fmt`` is not allowed
        (``"tsv"`` for an OECD dataflow), ``key`` holds spaces or URL delimiters (or, for
        the OECD, does not have 15 positions), or ``version`` is not ``"latest"`` or a
        dotted number.

    Examples
    --------
    >>> from msme_stats.sources.download import tec_url
    >>> tec_url("ext_tec01")
    'https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1/data/EXT_TEC01?format=SDMX-CSV'
    >>> tec_url("ext_tec10", key="A.THS_EUR..EXP.WORLD.DE", fmt="tsv").split("/data/")[1]
    'EXT_TEC10/A.THS_EUR..EXP.WORLD.DE?format=TSV&compressed=true'
    >>> tec_url("DF_TEC01", version="1.1").split("/data/")[1]
    'OECD.SDD.TPS,DSD_TEC_ISIC4@DF_TEC01,1.1/..............?format=csvfilewithlabels&dimensionAtObservation=AllDimensions'
    """
    fmt = check_choice("fmt", fmt, choices(TecFormat))
    provider = _provider(dataset)
    if key is not None and (not isinstance(key, str) or re.search(r"[\s/?#&]", key)):
        raise OptionError(
            f"key={key!r}: an SDMX key is a string of dot-separated codes (e.g. "
            "'A.THS_EUR..EXP.WORLD.DE') without spaces, '/', '?', '#' or '&'.")
    if not isinstance(version, str) or not re.fullmatch(r"latest|\d+(\.\d+)*", version):
        raise OptionError(f"version={version!r}: give 'latest' or a version such as '1.1'.")
    if provider == "eurostat":
        path = f"{EUROSTAT_BASE}/{dataset.upper()}"
        if key:
            path += f"/{key}"
        query = "format=SDMX-CSV" if fmt == "sdmx-csv" else "format=TSV&compressed=true"
        return f"{path}?{query}"
    if fmt != "sdmx-csv":
        raise OptionError("fmt='tsv' is only available for Eurostat datasets.")
    key = key if key is not None else "." * (OECD_TEC_KEY_LENGTH - 1)
    if key.count(".") != OECD_TEC_KEY_LENGTH - 1:
        raise OptionError(
            f"key={key!r}: the OECD DSD_TEC_ISIC4 key needs {OECD_TEC_KEY_LENGTH} "
            "dot-separated positions (METHODS §3.4).")
    flow = dataset.upper()
    return (f"{OECD_BASE}/{OECD_TEC_AGENCY},{OECD_TEC_DSD}@{flow},{version}/{key}"
            "?format=csvfilewithlabels&dimensionAtObservation=AllDimensions")


def _check_download_options(cache_dir, timeout) -> None:
    """Raise :class:`~msme_stats.errors.OptionError` for a ``cache_dir`` that is not a folder
    path or a ``timeout`` that is not a positive number of seconds."""
    if not isinstance(cache_dir, str | Path) or not str(cache_dir).strip():
        raise OptionError(f"cache_dir={cache_dir!r}: give a folder path.")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not (
            math.isfinite(timeout) and timeout > 0):
        raise OptionError(f"timeout={timeout!r}: give a number of seconds > 0.")


def _cache_target(cache: Path, dataset: str, key: str | None, fmt: str) -> Path:
    """The cached file for a query: ``<dataset>[_<key>].csv`` or ``.tsv.gz`` (key made file-safe)."""
    suffix = ".csv" if fmt == "sdmx-csv" else ".tsv.gz"
    safe_key = re.sub(r"[^A-Za-z0-9_+-]", "_", key) if key else ""
    return cache / (dataset.lower() + (f"_{safe_key}" if safe_key else "") + suffix)


def _fetch(url: str, dataset: str, timeout: float) -> bytes:
    """Download ``url``; any network or HTTP failure raises
    :class:`~msme_stats.errors.OfflineError`, an empty answer
    :class:`~msme_stats.errors.UnreadableFileError`."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            data = resp.read()
    except urllib.error.HTTPError as exc:
        raise OfflineError(
            f"download of {dataset!r} failed: {url} answered HTTP {exc.code} ({exc.reason}). "
            "Check the dataset id and key, or download the file by hand and read it with "
            "msme_stats.load_tec.") from exc
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise OfflineError(
            f"cannot reach the publisher for {dataset!r} ({url}): {exc}. The machine seems "
            "to be offline; read a local file with msme_stats.load_tec instead.") from exc
    except (http.client.HTTPException, OSError, ValueError) as exc:
        raise OfflineError(
            f"download of {dataset!r} from {url} failed ({type(exc).__name__}: {exc}); try "
            "again later, or download the file by hand and read it with "
            "msme_stats.load_tec.") from exc
    if not data:
        raise UnreadableFileError(
            f"download of {dataset!r} from {url} returned an empty file; nothing was cached. "
            "Check the key (no data may match it) or try again later.")
    return data


def _save_download(cache: Path, target: Path, data: bytes, url: str, dataset: str) -> None:
    """Write the file and its ``.json`` sidecar (URL, UTC time, sha256), each atomically
    through :func:`msme_stats._atomic.atomic_write_bytes`.

    A failure raises :class:`~msme_stats.errors.WriteError`; no temporary file is left and a
    file that was not replaced keeps its old content.
    """
    meta = {"url": url, "downloaded_utc": _dt.datetime.now(_dt.UTC).isoformat(),
            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    sidecar = target.with_name(target.name + ".json")
    try:
        cache.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)  # a reader never sees a partial file
        atomic_write_bytes(sidecar, json.dumps(meta, indent=2).encode("utf-8"))
    except OSError as exc:
        raise WriteError(
            f"cannot write the download of {dataset!r} to {str(target)!r}: "
            f"{exc.strerror or exc}. Pass a cache_dir you can write to.") from exc


def download_tec(
    dataset: str,
    *,
    cache_dir: str | Path,
    key: str | None = None,
    fmt: TecFormat = "sdmx-csv",
    version: str = "latest",
    refresh: bool = False,
    timeout: float = 60.0,
) -> Path:
    """Download a TEC dataset into ``cache_dir`` (or return the cached file).

    Parameters
    ----------
    dataset, key, fmt, version
        As in :func:`tec_url`.
    cache_dir
        Directory for the cache; created if needed.
    refresh
        Download again even if a cached file exists.
    timeout
        Seconds before giving up on the connection.

    Returns
    -------
    pathlib.Path
        The cached file (``<dataset>[_<key>].csv`` or ``.tsv.gz``), readable with
        :func:`msme_stats.load_tec`; a sidecar ``<file>.json`` records the URL, the download
        time and the sha256.

    Raises
    ------
    OfflineError
        The publisher could not be reached (no internet, DNS failure, timeout, connection
        reset) or answered with an HTTP error. Use a local file with
        :func:`msme_stats.load_tec` instead.
    WriteError
        ``cache_dir`` is a file, or the cache cannot be written (permission, name too
        long); nothing partial is left behind.
    UnreadableFileError
        The publisher answered with an empty file (nothing is cached).
    OptionError
        ``dataset``, ``key``, ``version``, ``fmt``, ``cache_dir`` or ``timeout`` is not
        allowed.

    Stata/R equivalent
    ------------------
    R: ``eurostat::get_eurostat("ext_tec01", cache = TRUE, cache_dir = "cache")`` (Eurostat
    only; it returns the tidied table, where this function keeps the publisher's file and
    records its URL and sha256 for :func:`msme_stats.load_tec`); for the OECD,
    ``rsdmx::readSDMX(url)`` with the URL of :func:`tec_url`. Stata: ``copy "<url>"
    ext_tec01.csv`` then ``import delimited``.

    Examples
    --------
    Needs internet access (the doctest is skipped); without it the call raises
    :class:`~msme_stats.errors.OfflineError`:

    >>> import msme_stats as ms
    >>> from msme_stats.sources.download import download_tec
    >>> path = download_tec("ext_tec10", cache_dir="tec_cache")  # doctest: +SKIP
    >>> path.name  # doctest: +SKIP
    'ext_tec10.csv'
    >>> tec = ms.load_tec(path)  # doctest: +SKIP
    """
    url = tec_url(dataset, key=key, fmt=fmt, version=version)
    _check_download_options(cache_dir, timeout)
    cache = Path(cache_dir)
    target = _cache_target(cache, dataset, key, fmt)
    try:
        cached = target.is_file()
    except OSError as exc:
        raise WriteError(f"cannot use the cache folder {str(cache)!r}: {exc.strerror or exc}."
                         ) from exc
    if cached and not refresh:
        logger.info("download_tec: using cached %s", target)
        return target
    if cache.exists() and not cache.is_dir():
        raise WriteError(f"cache_dir {str(cache)!r} is a file, not a folder; pass a folder.")
    data = _fetch(url, dataset, timeout)
    _save_download(cache, target, data, url, dataset)
    logger.info("download_tec: saved %s (%d bytes)", target, len(data))
    return target


__all__ = ["tec_url", "download_tec"]
