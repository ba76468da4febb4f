"""Write partly synthetic TEC specimen files in the real publisher formats.

The files are **partly synthetic**: a few cells reproduce published figures (Eurostat EU27
2018 shares of large enterprises, EU27 2019 SME shares, 2015 SME shares of intra-EU exports
by country, from ``reference_values.csv``); every other number is drawn from a seeded
random generator around plausible levels. The 20 EU reporters and their 2015 SME shares
are in ``tec_sample_reporters.csv`` beside this module (EU membership checked against
``msme_stats/reference/country_groups.csv``). They exist to exercise the loaders and the
indicators, never as data for analysis.

Formats written (METHODS §3.2, §3.4):

* ``ext_tec01_synthetic_sdmx.csv``: Eurostat API SDMX-CSV, codes only, exports and imports;
* ``ext_tec01_synthetic.tsv``: Eurostat TSV (``freq,...,geo\\TIME_PERIOD``), ``:`` and flags;
* ``ext_tec01_synthetic_legacy.tsv``: legacy bulk TSV (``...,geo\\time``, no ``freq``);
* ``oecd_DF_TEC01_synthetic_sdmx.csv``: OECD Data Explorer SDMX-CSV (DSD_TEC_ISIC4);
* ``oecd_DF_SDBS_synthetic_sdmx.csv``: OECD SDBS business counts (DSD_SDBSBSC_ISIC4).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pandas as pd

from .._atomic import atomic_write_text
from ..errors import InvalidValueError
from ..reference import group_members, to_iso3

#: The 20 EU reporters of the specimen (Eurostat geo codes, in drawing order) with the
#: published 2015 SME share of intra-EU export value where one exists (percent).
REPORTERS_FILE = Path(__file__).with_name("tec_sample_reporters.csv")
_YEARS = list(range(2016, 2023))
_SIZES = ["LT10", "10-49", "50-249", "GE250"]
# EU27 2018 large-enterprise shares (count %, value %) by (partner, flow):
# ESTAT_EU_2018_{INTRA,EXTRA}_LARGE_{EXP,IMP}_{NUM,VAL}
_EU2018_LARGE = {("INT_EU", "EXP"): (2.2, 59.0), ("EXT_EU", "EXP"): (3.8, 67.9),
                 ("INT_EU", "IMP"): (1.4, 51.4), ("EXT_EU", "IMP"): (3.5, 58.9)}
_OECD = ["USA", "CAN", "ISR", "NOR", "TUR"]


def _class_split(total: float, sme_share: float, unknown: float, micro_of_sme: float,
                 small_of_sme: float) -> list[float]:
    known = total * (1.0 - unknown)
    sme = total * sme_share
    large = known - sme
    micro = sme * micro_of_sme
    small = sme * small_of_sme
    return [micro, small, sme - micro - small, large]


def _reporters() -> tuple[list[str], dict[str, float]]:
    """EU reporters (Eurostat geo codes) and their published 2015 SME intra-EU export shares.

    Read from ``tec_sample_reporters.csv``; every reporter must be an EU member in 2015
    according to ``msme_stats/reference/country_groups.csv`` (the membership is not repeated
    here), so a wrong code fails loudly instead of writing a non-EU reporter.
    """
    table = pd.read_csv(REPORTERS_FILE, dtype=str, keep_default_na=False)
    geos = list(table["geo"])
    iso3 = to_iso3(pd.Series(geos), scheme="eurostat")
    members = set(group_members("eu", "eu", 2015))
    outside = [g for g, c in zip(geos, iso3, strict=True) if c not in members]
    if outside:
        raise InvalidValueError(
            f"{REPORTERS_FILE.name}: {outside} are not EU members in 2015 "
            "(reference/country_groups.csv); the specimen reports EU countries only."
        )
    shares = {g: float(v) for g, v in zip(geos, table["sme_intra_exp_share_2015"], strict=True) if v}
    return geos, shares


def _eurostat_cells(rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    geos, sme_intra_2015 = _reporters()
    for geo in geos:
        base_sme = sme_intra_2015.get(geo, float(rng.uniform(30, 55))) / 100.0
        unknown_v = float(rng.choice([0.0, 0.0, 0.0, 0.02, 0.08]))
        size = float(rng.lognormal(11, 0.8))  # TOTAL exports, thousand EUR / 1000
        n_total = float(rng.lognormal(9.5, 0.7))
        for year in _YEARS:
            trend = 1.0 + 0.03 * (year - 2016)
            for nace in ["TOTAL", "C"]:
                nace_f = 1.0 if nace == "TOTAL" else 0.55
                for flow in ["EXP", "IMP"]:
                    flow_sme = 0.0 if flow == "EXP" else 0.08
                    v_world = size * 1000 * trend * nace_f * float(rng.uniform(0.95, 1.05))
                    n_world = n_total * nace_f * (1.0 if flow == "EXP" else 1.6)
                    intra_frac = float(rng.uniform(0.55, 0.75))
                    for partner in ["WORLD", "INT_EU", "EXT_EU"]:
                        pf = {"WORLD": 1.0, "INT_EU": intra_frac, "EXT_EU": 1 - intra_frac}
                        nf = {"WORLD": 1.0, "INT_EU": 0.85, "EXT_EU": 0.45}[partner]
                        sme = min(0.95, base_sme + flow_sme + float(rng.normal(0, 0.015)))
                        if partner == "EXT_EU":
                            sme = max(0.05, sme - 0.08)
                        v_tot = v_world * pf[partner]
                        vals = _class_split(v_tot, sme * (1 - unknown_v), unknown_v,
                                            0.25, 0.35)
                        n_tot: float = round(n_world * nf)
                        unknown_n = unknown_v * 1.5
                        n_known = n_tot * (1 - unknown_n)
                        counts: list[float] = [round(n_known * f) for f in (0.68, 0.22, 0.075)]
                        counts.append(round(n_known) - sum(counts))
                        for unit, tot, cls in (("THS_EUR", v_tot, vals),
                                               ("NR_ENT", float(n_tot), counts)):
                            for s, v in zip([*_SIZES, "TOTAL"], [*cls, tot], strict=True):
                                rows.append((nace, s, flow, partner, unit, geo, year, v))
    # EU27_2020 aggregate, 2018: reproduce the published large-enterprise shares
    for (partner, flow), (num_pc, val_pc) in _EU2018_LARGE.items():
        v_tot = 2.0e9 if partner == "INT_EU" else 1.5e9
        n_tot = 600000.0 if flow == "EXP" else 1200000.0
        large_v = v_tot * val_pc / 100
        sme_v = v_tot - large_v
        vals = [sme_v * 0.2, sme_v * 0.35, sme_v * 0.45, large_v]
        large_n = n_tot * num_pc / 100
        sme_n = n_tot - large_n
        counts = [sme_n * 0.75, sme_n * 0.19, sme_n * 0.06, large_n]
        for unit, tot, cls in (("THS_EUR", v_tot, vals), ("NR_ENT", n_tot, counts)):
            for s, v in zip([*_SIZES, "TOTAL"], [*cls, tot], strict=True):
                rows.append(("TOTAL", s, flow, partner, unit, "EU27_2020", 2018, v))
    # EU27 2019, WORLD: SMEs 37 % of exports, 46 % of imports (ESTAT_EU_2019_SME_EXP_VAL);
    # 2018 WORLD exporters: SMEs 98 % (ESTAT_EU_2018_SME_SHARE_EXPORTERS)
    for year, flow, sme_pc, n_tot, sme_n_pc in ((2019, "EXP", 37.0, 620000.0, 98.0),
                                                (2019, "IMP", 46.0, 1250000.0, 99.0),
                                                (2018, "EXP", 35.0, 610000.0, 98.0),
                                                (2018, "IMP", 45.0, 1240000.0, 99.0)):
        v_tot = 3.4e9
        sme_v = v_tot * sme_pc / 100
        vals = [sme_v * 0.25, sme_v * 0.30, sme_v * 0.45, v_tot - sme_v]
        sme_n = n_tot * sme_n_pc / 100
        counts = [sme_n * 0.77, sme_n * 0.17, sme_n - sme_n * 0.94, n_tot - sme_n]
        for unit, tot, cls in (("THS_EUR", v_tot, vals), ("NR_ENT", n_tot, counts)):
            for s, v in zip([*_SIZES, "TOTAL"], [*cls, tot], strict=True):
                rows.append(("TOTAL", s, flow, "WORLD", unit, "EU27_2020", year, v))
    frame = pd.DataFrame(rows, columns=["nace_r2", "sizeclas", "stk_flow", "partner", "unit",
                                        "geo", "TIME_PERIOD", "value"])
    frame["value"] = np.where(frame["unit"] == "NR_ENT", frame["value"].round(0),
                              frame["value"].round(2))
    # flags and confidential cells (never on the EU anchors)
    n = len(frame)
    draw = rng.random(n)
    national = frame["geo"] != "EU27_2020"
    is_class = frame["sizeclas"] != "TOTAL"
    frame["CONF_STATUS"] = np.where(national & is_class & (draw < 0.03), "C", "")
    frame["OBS_FLAG"] = np.where(national & (draw > 0.97), "p",
                                 np.where(national & (draw > 0.955), "e", ""))
    frame.loc[frame["CONF_STATUS"] == "C", "OBS_FLAG"] = ""
    return frame


def _fmt(v: float, unit: str) -> str:
    return f"{v:.0f}" if unit == "NR_ENT" else f"{v:.2f}"


def _write_sdmx_api(frame: pd.DataFrame, path: Path) -> None:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["DATAFLOW", "LAST UPDATE", "freq", "nace_r2", "sizeclas", "stk_flow", "partner",
                "unit", "geo", "TIME_PERIOD", "OBS_VALUE", "OBS_FLAG", "CONF_STATUS"])
    cols = ["nace_r2", "sizeclas", "stk_flow", "partner", "unit", "geo", "TIME_PERIOD", "value", "OBS_FLAG",
            "CONF_STATUS"]
    # object columns: iterating Python values is much faster than Arrow-backed strings
    for nace, size, flow, partner, unit, geo, period, value, flag, conf in frame[cols].astype(object).itertuples(
        index=False, name=None
    ):
        text = "" if conf == "C" else _fmt(value, unit)
        w.writerow(["ESTAT:EXT_TEC01(1.0)", "15/01/26 23:00:00", "A", nace, size, flow, partner, unit, geo,
                    period, text, flag, conf])
    atomic_write_text(path, buf.getvalue())


def _write_tsv(frame: pd.DataFrame, path: Path, *, legacy: bool) -> None:
    sub = frame[(frame["nace_r2"] == "TOTAL") & (frame["partner"] == "WORLD")
                & (frame["geo"] != "EU27_2020")].copy()
    dims = ["nace_r2", "sizeclas", "stk_flow", "partner", "unit", "geo"]
    if not legacy:
        dims = ["freq", *dims]
        sub["freq"] = "A"

    def cell(r) -> str:
        if r.CONF_STATUS == "C":
            return ": c" if legacy else ": c"
        if r.OBS_FLAG == "e" and r.sizeclas == "LT10" and r.TIME_PERIOD == 2017:
            return ":"  # a plain missing value
        text = _fmt(r.value, r.unit)
        return f"{text} {r.OBS_FLAG}" if r.OBS_FLAG else text

    sub["cell"] = [cell(r) for r in sub.itertuples(index=False)]
    sub["key"] = [",".join(map(str, t)) for t in sub[dims].itertuples(index=False, name=None)]
    wide = sub.pivot(index="key", columns="TIME_PERIOD", values="cell").fillna(":")
    first = ",".join(dims) + ("\\time" if legacy else "\\TIME_PERIOD")
    lines = [first + "\t" + "\t".join(f"{y} " for y in wide.columns)]
    for key, cells in zip(wide.index, wide.to_numpy(dtype=object).tolist(), strict=True):
        lines.append(f"{key}\t" + "\t".join(cells))
    atomic_write_text(path, "\n".join(lines) + "\n")


def _oecd_cells(rng: np.random.Generator) -> pd.DataFrame:
    sizes = ["S0T9", "S10T49", "S50T249", "S_GE250", "_X", "_T"]
    rows = []
    for ref in _OECD:
        sme = 0.337 if ref == "USA" else float(rng.uniform(0.3, 0.45))  # US 2010: 33.7 %
        v0 = float(rng.lognormal(11, 0.6)) * (8 if ref == "USA" else 1)
        n0 = float(rng.lognormal(10, 0.5)) * (5 if ref == "USA" else 1)
        for year in _YEARS:
            for activity in ["_T", "C"]:
                af = 1.0 if activity == "_T" else 0.6
                for flow in ["X", "M"]:
                    if ref == "USA" and flow == "M" and year < 2018:
                        continue  # older US vintages: exports only
                    v = v0 * af * (1 + 0.02 * (year - 2016)) * float(rng.uniform(0.97, 1.03))
                    unknown = 0.111 if ref == "USA" else 0.03
                    known = v * (1 - unknown)
                    s_v = known * sme
                    vals = [s_v * 0.22, s_v * 0.33, s_v * 0.45, known - s_v, v * unknown, v]
                    n = n0 * af * (1.3 if flow == "M" else 1.0)
                    nk = n * (1 - 0.05)
                    cnt = [nk * 0.7, nk * 0.2, nk * 0.07, nk * 0.03, n * 0.05, n]
                    for s, a, b in zip(sizes, vals, cnt, strict=True):
                        rows.append((ref, activity, s, flow, "TUTT_TEC", "USD", year, a, "6"))
                        rows.append((ref, activity, s, flow, "ENTR_TEC", "ENT", year, b, "0"))
    f = pd.DataFrame(rows, columns=["REF_AREA", "ACTIVITY", "SIZE_CLASS", "FLOW", "MEASURE",
                                    "UNIT_MEASURE", "TIME_PERIOD", "value", "UNIT_MULT"])
    f["OBS_VALUE"] = np.where(f["MEASURE"] == "ENTR_TEC", f["value"].round(0).map("{:.0f}".format),
                              f["value"].round(1).map("{:.1f}".format))
    draw = rng.random(len(f))
    conf = (draw < 0.03) & ~f["SIZE_CLASS"].isin(["_T"])
    f["OBS_STATUS"] = np.where(conf, "Q", np.where(draw > 0.96, "E", "A"))
    f.loc[conf, "OBS_VALUE"] = ""
    return f


def _write_oecd(frame: pd.DataFrame, path: Path) -> None:
    cols = ["STRUCTURE", "STRUCTURE_ID", "ACTION", "FREQ", "TABLE", "REF_AREA",
            "PARTNER_COUNTRY", "MEASURE", "ACTIVITY", "SIZE_CLASS", "TOP_ENT", "NBPARTNER",
            "CPC", "TTRADER", "TOWNERSHIP", "EXPINT", "FLOW", "UNIT_MEASURE", "TIME_PERIOD",
            "OBS_VALUE", "OBS_STATUS", "UNIT_MULT", "DECIMALS"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in frame.itertuples(index=False):
        w.writerow(["DATAFLOW", "OECD.SDD.TPS:DSD_TEC_ISIC4@DF_TEC01(1.1)", "I", "A", "TEC01",
                    r.REF_AREA, "W", r.MEASURE, r.ACTIVITY, r.SIZE_CLASS, "_Z", "_Z", "_Z",
                    "_Z", "_Z", "_Z", r.FLOW, r.UNIT_MEASURE, r.TIME_PERIOD, r.OBS_VALUE,
                    r.OBS_STATUS, r.UNIT_MULT, "1" if r.MEASURE == "TUTT_TEC" else "0"])
    atomic_write_text(path, buf.getvalue())


def _sdbs(rng: np.random.Generator, eurostat: pd.DataFrame, oecd: pd.DataFrame) -> str:
    """Business counts so that exporters are a plausible fraction of enterprises."""
    from ..sources.tec import _geo_columns

    exp = eurostat[(eurostat["unit"] == "NR_ENT") & (eurostat["stk_flow"] == "EXP")
                   & (eurostat["partner"] == "WORLD") & (eurostat["geo"] != "EU27_2020")]
    iso = _geo_columns(pd.Series(sorted(exp["geo"].unique())), "eurostat", "geo")["country"]
    iso_map = dict(zip(sorted(exp["geo"].unique()), iso, strict=True))
    rates = {"LT10": (0.09, 0.04), "10-49": (0.38, 0.06), "50-249": (0.59, 0.07),
             "GE250": (0.66, 0.06)}
    # total-economy rates are far lower than manufacturing ones
    scale = {"TOTAL": 0.12, "C": 1.0}
    lines = ["STRUCTURE,STRUCTURE_ID,ACTION,FREQ,REF_AREA,MEASURE,ACTIVITY,SIZE_CLASS,"
             "UNIT_MEASURE,TIME_PERIOD,OBS_VALUE,OBS_STATUS,UNIT_MULT"]
    sid = "DATAFLOW,OECD.SDD.TPS:DSD_SDBSBSC_ISIC4@DF_SDBS_ISIC4(1.0),I,A"
    cells = exp.loc[exp["sizeclas"] != "TOTAL", ["sizeclas", "nace_r2", "value", "geo", "TIME_PERIOD"]]
    for sizeclas, nace_r2, value, geo, period in cells.itertuples(index=False, name=None):
        mu, sd = rates[sizeclas]
        rate = float(np.clip(rng.normal(mu, sd), 0.02, 0.95)) * scale[nace_r2]
        if sizeclas == "LT10":
            rate = rate * (0.5 if nace_r2 == "TOTAL" else 1.0)
        n_exp = value if np.isfinite(value) and value > 0 else 10.0
        ent = n_exp / max(rate, 0.005)
        act = "_T" if nace_r2 == "TOTAL" else "C"
        c3 = iso_map[geo]
        if sizeclas == "10-49":
            part = float(rng.uniform(0.6, 0.75))
            lines.append(f"{sid},{c3},ENTR,{act},S10T19,ENT,{period},"
                         f"{ent * part:.0f},A,0")
            lines.append(f"{sid},{c3},ENTR,{act},S20T49,ENT,{period},"
                         f"{ent * (1 - part):.0f},A,0")
        else:
            code = {"LT10": "S1T9", "50-249": "S50T249", "GE250": "S_GE250"}[sizeclas]
            lines.append(f"{sid},{c3},ENTR,{act},{code},ENT,{period},{ent:.0f},A,0")
    # one confidential cell and an employees row (left out by the loader)
    lines.append(f"{sid},AUT,ENTR,C,S_GE250,ENT,2015,,C,0")
    lines.append(f"{sid},AUT,EMPE,_T,_T,PS,2016,4000000,A,0")
    del oecd
    return "\n".join(lines) + "\n"


def write_tec_samples(out_dir: str | Path, *, seed: int = 20160927) -> dict[str, Path]:
    """Write the five partly synthetic TEC specimen files into ``out_dir``.

    Each file is written atomically; no README is written (the one of the bundled
    ``data/tec_samples/`` is kept by hand).

    Parameters
    ----------
    out_dir
        Target directory (created if needed), e.g. ``data/tec_samples``.
    seed
        Seed of :func:`numpy.random.default_rng`; the same seed gives identical files.

    Returns
    -------
    dict of str to pathlib.Path
        Format name -> file written: ``eurostat_sdmx``, ``eurostat_tsv``,
        ``eurostat_tsv_legacy``, ``oecd_sdmx``, ``oecd_sdbs``.

    Raises
    ------
    InvalidValueError
        When ``tec_sample_reporters.csv`` lists a reporter that is not an EU member in 2015
        (``reference/country_groups.csv``).
    OSError
        When ``out_dir`` cannot be created or written.

    Notes
    -----
    ``make data`` (``msme-stats make-samples``) writes the bundled ``data/tec_samples/``
    with this function.

    Examples
    --------
    >>> import tempfile
    >>> import msme_stats as ms
    >>> from msme_stats.samples.tec import write_tec_samples
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     files = write_tec_samples(folder)
    ...     first_row = files["eurostat_tsv"].read_text().splitlines()[1]
    ...     tec = ms.load_tec(files["eurostat_sdmx"])
    >>> sorted(files)
    ['eurostat_sdmx', 'eurostat_tsv', 'eurostat_tsv_legacy', 'oecd_sdbs', 'oecd_sdmx']
    >>> print(first_row)  # Eurostat TSV: key columns, then one cell per year (2016-2022)
    A,TOTAL,10-49,EXP,WORLD,NR_ENT,AT 1300 1300 1300 1300 1300 1300 1300
    >>> sorted(tec["size_class"].unique())
    ['0-9', '10-49', '250+', '50-249', 'total']
    >>> tec.groupby("measure").size().to_dict()
    {'enterprises': 8440, 'trade_value': 8440}
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    eurostat = _eurostat_cells(rng)
    oecd = _oecd_cells(rng)
    files = {
        "eurostat_sdmx": out / "ext_tec01_synthetic_sdmx.csv",
        "eurostat_tsv": out / "ext_tec01_synthetic.tsv",
        "eurostat_tsv_legacy": out / "ext_tec01_synthetic_legacy.tsv",
        "oecd_sdmx": out / "oecd_DF_TEC01_synthetic_sdmx.csv",
        "oecd_sdbs": out / "oecd_DF_SDBS_synthetic_sdmx.csv",
    }
    _write_sdmx_api(eurostat, files["eurostat_sdmx"])
    _write_tsv(eurostat, files["eurostat_tsv"], legacy=False)
    _write_tsv(eurostat, files["eurostat_tsv_legacy"], legacy=True)
    _write_oecd(oecd, files["oecd_sdmx"])
    atomic_write_text(files["oecd_sdbs"], _sdbs(rng, eurostat, oecd))
    return files


__all__ = ["write_tec_samples"]
