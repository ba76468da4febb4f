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
import json
import logging
import re
import urllib.error
import urllib.request
from pathlib import Path

from .._options import check_choice
from ..errors import OfflineError, OptionError

logger = logging.getLogger(__name__)

EUROSTAT_BASE = "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1/data"
OECD_BASE = "https://sdmx.oecd.org/public/rest/data"
OECD_TEC_AGENCY = "OECD.SDD.TPS"
OECD_TEC_DSD = "DSD_TEC_ISIC4"
#: number of dimensions of the OECD DSD_TEC_ISIC4 key (METHODS §3.4)
OECD_TEC_KEY_LENGTH = 15


def _provider(dataset: str) -> str:
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
    fmt: str = "sdmx-csv",
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
    """
    fmt = check_choice("fmt", fmt, ["sdmx-csv", "tsv"])
    provider = _provider(dataset)
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


def download_tec(
    dataset: str,
    *,
    cache_dir: str | Path,
    key: str | None = None,
    fmt: str = "sdmx-csv",
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
        The publisher could not be reached (no internet, DNS failure, timeout) or answered
        with an HTTP error. Use a local file with :func:`msme_stats.load_tec` instead.
    """
    url = tec_url(dataset, key=key, fmt=fmt, version=version)
    cache = Path(cache_dir)
    suffix = ".csv" if fmt == "sdmx-csv" else ".tsv.gz"
    safe_key = re.sub(r"[^A-Za-z0-9_+-]", "_", key) if key else ""
    target = cache / (dataset.lower() + (f"_{safe_key}" if safe_key else "") + suffix)
    if target.is_file() and not refresh:
        logger.info("download_tec: using cached %s", target)
        return target
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
    cache.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(target.suffix + ".part")
    tmp.write_bytes(data)
    tmp.replace(target)
    meta = {"url": url, "downloaded_utc": _dt.datetime.now(_dt.UTC).isoformat(),
            "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    target.with_name(target.name + ".json").write_text(json.dumps(meta, indent=2))
    logger.info("download_tec: saved %s (%d bytes)", target, len(data))
    return target


__all__ = ["tec_url", "download_tec"]
