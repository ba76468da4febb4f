"""Tests of msme_stats.sources.download (no real network requests)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from msme_stats.errors import OfflineError, OptionError
from msme_stats.sources import download
from msme_stats.sources.download import download_tec, tec_url


def test_eurostat_urls():
    assert tec_url("ext_tec01") == (
        "https://ec.europa.eu/eurostat/api/dissemination/sdmx/2.1/data/EXT_TEC01"
        "?format=SDMX-CSV")
    assert tec_url("ext_tec10", key="A.THS_EUR..EXP.WORLD.DE", fmt="tsv").endswith(
        "/EXT_TEC10/A.THS_EUR..EXP.WORLD.DE?format=TSV&compressed=true")


def test_oecd_url_has_15_positions():
    url = tec_url("DF_TEC01", version="1.1")
    assert url.startswith(
        "https://sdmx.oecd.org/public/rest/data/OECD.SDD.TPS,DSD_TEC_ISIC4@DF_TEC01,1.1/")
    key = url.split("/")[-1].split("?")[0]
    assert key.count(".") == 14
    with pytest.raises(OptionError, match="15"):
        tec_url("DF_TEC01", key="A.TEC01.USA")
    with pytest.raises(OptionError):
        tec_url("sbs_sc_ovw")


def test_offline_raises_offline_error(monkeypatch, tmp_path):
    def boom(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", boom)
    with pytest.raises(OfflineError, match="ext_tec01.*offline"):
        download_tec("ext_tec01", cache_dir=tmp_path)
    assert not any(tmp_path.iterdir())


def test_http_error_is_offline_error(monkeypatch, tmp_path):
    def not_found(url, *args, **kwargs):
        raise urllib.error.HTTPError(url, 404, "Not Found", None, None)

    monkeypatch.setattr(urllib.request, "urlopen", not_found)
    with pytest.raises(OfflineError, match="HTTP 404"):
        download_tec("ext_tec99", cache_dir=tmp_path)


def test_cache_and_sidecar(monkeypatch, tmp_path):
    payload = b"DATAFLOW,LAST UPDATE,freq\n"

    class Resp:
        def __enter__(self):
            return self

        def __exit__(self, *a):
            return False

        def read(self):
            return payload

    calls = []
    monkeypatch.setattr(urllib.request, "urlopen",
                        lambda url, timeout: calls.append(url) or Resp())
    p = download_tec("ext_tec01", cache_dir=tmp_path)
    assert p.read_bytes() == payload and len(calls) == 1
    meta = json.loads(p.with_name(p.name + ".json").read_text())
    assert meta["url"] == calls[0] and len(meta["sha256"]) == 64
    assert download_tec("ext_tec01", cache_dir=tmp_path) == p and len(calls) == 1  # cached
    assert download.OECD_TEC_KEY_LENGTH == 15
