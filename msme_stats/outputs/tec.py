"""Figures and tables from OECD/Eurostat Trade by Enterprise Characteristics (WTR 2016 B.1(b)).

Inputs:

* ``tec10``: the real Eurostat ``ext_tec10`` download (exports by partner and size class);
* ``tec01``: the PARTLY SYNTHETIC ``ext_tec01`` specimen (exports and imports; bundled
  sample, see ``data/tec_samples/README.md``);
* ``sdbs``: the SYNTHETIC OECD SDBS enterprise counts (denominators of participation rates).

With ``msme-stats build --data DIR`` a user's real downloads under the same names replace them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ..aggregate import compare_published
from ..build import register_input, register_output
from ..indicators.tec import tec_compare_published, tec_cross_country_average, tec_indicators
from ..plots import bars_by_size, country_dots, size_shares, time_lines
from ..sources.business_counts import load_business_counts
from ..sources.tec import load_tec
from ._common import cached

SOURCE_TEC10 = "Eurostat, ext_tec10 (Trade by enterprise characteristics); msme_stats calculations"
SOURCE_SAMPLE = "PARTLY SYNTHETIC TEC specimen files (msme_stats samples); illustration only"


register_input("tec10", pattern="eurostat_ext_tec10/ext_tec10*.csv*",
               loader=lambda paths: load_tec(paths),
               description="Eurostat ext_tec10 download (real)")
register_input("tec01", pattern="tec_samples/ext_tec01_synthetic_sdmx.csv",
               loader=lambda paths: load_tec(paths),
               description="ext_tec01 specimen (partly synthetic)")
register_input("sdbs", pattern="tec_samples/oecd_DF_SDBS_synthetic_sdmx.csv",
               loader=lambda paths: load_business_counts(paths),
               description="OECD SDBS enterprise counts specimen (synthetic)")


def _tec10_estimates(ctx) -> pd.DataFrame:
    ids = ["msme_share_export_value", "msme_share_exporters", "tec_value_share_by_size", "tec_count_share_by_size"]
    return cached(ctx, ("tec10", "estimates"), lambda: tec_indicators(ctx.load("tec10"), ids))


def _latest(est: pd.DataFrame, indicator: str) -> pd.DataFrame:
    sel = est[(est["indicator"] == indicator) & est["is_country"] & est["estimate"].notna()]
    return sel[sel["year"] == sel.groupby("country")["year"].transform("max")]


@register_output("tec_msme_shares_by_country", kind="table", inputs=("tec10",),
                 title="MSME (<250 employees) share of export value and of exporters, latest year per country")
def _shares_table(ctx) -> pd.DataFrame:
    est = _tec10_estimates(ctx)
    keep = ["country", "year", "estimate", "implicit_unknown_share", "flags"]
    value = _latest(est, "msme_share_export_value")[keep].rename(
        columns={"estimate": "msme_share_export_value", "implicit_unknown_share": "unknown_share_value"})
    count = _latest(est, "msme_share_exporters")[["country", "year", "estimate"]].rename(
        columns={"estimate": "msme_share_exporters"})
    out = value.merge(count, on=["country", "year"], how="outer").sort_values("country")
    return out[["country", "year", "msme_share_export_value", "msme_share_exporters", "unknown_share_value", "flags"]].reset_index(drop=True)


@register_output("tec_msme_export_share_by_country", kind="figure", inputs=("tec10",),
                 title="MSME share of export value by country, latest year, with the simple average")
def _shares_dots(ctx):
    latest = _latest(_tec10_estimates(ctx), "msme_share_export_value")
    fig, ax = plt.subplots(figsize=(6.4, 8.5))
    country_dots(latest, y="country", reference="mean", ci=False, ax=ax, xlabel="% of export value",
                 title="MSMEs' share of exports (to all partners)", source=SOURCE_TEC10,
                 sample=f"{len(latest)} European reporters, latest year {int(latest['year'].min())}-{int(latest['year'].max())}; "
                        "denominator TOTAL (includes unknown size)")
    return fig


@register_output("tec_size_shares", kind="figure", inputs=("tec10",),
                 title="Share of export value and of exporters by enterprise size, pooled over countries")
def _size_shares(ctx):
    est = _tec10_estimates(ctx)
    est = est[est["indicator"].isin(["tec_value_share_by_size", "tec_count_share_by_size"])
              & est["size_class"].isin(["0-9", "10-49", "50-249", "250+"])]
    year = int(est.loc[est["estimate"].notna(), "year"].value_counts().idxmax())
    avg = tec_cross_country_average(est, year_rule=year, aggregation="pooled")
    avg["measure"] = avg["indicator"].map({"tec_value_share_by_size": "export_value", "tec_count_share_by_size": "exporters"})
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    size_shares(avg, ax=ax, title=f"Exports and exporters by enterprise size, {year}", source=SOURCE_TEC10,
                sample=f"{int(avg['n_countries'].max())} European reporters pooled (sum over countries)")
    return fig


@register_output("tec_msme_share_over_time", kind="figure", inputs=("tec10",),
                 title="MSME share of export value over time: simple mean of countries and pooled ratio")
def _over_time(ctx):
    est = _tec10_estimates(ctx)
    est = est[est["indicator"] == "msme_share_export_value"]
    years = (int(est["year"].min()), int(est["year"].max()))
    parts = [
        tec_cross_country_average(est, year_rule=years, aggregation=agg).assign(aggregation=label)
        for agg, label in (("country_mean", "Simple mean of countries"), ("pooled", "Pooled (sum over countries)"))
    ]
    frame = pd.concat(parts, ignore_index=True)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    time_lines(frame, x="year", y="estimate", hue="aggregation", ax=ax, ylabel="% of export value",
               xlabel="Reference year", title="MSMEs' share of exports", source=SOURCE_TEC10,
               note="Size basis changes in 2022 (employees plus self-employed); the country set changes by year.",
               sample="European reporters with data in each year")
    return fig


@register_output("tec_participation_by_size", kind="figure", inputs=("tec01", "sdbs"),
                 title="Export participation by enterprise size (exporters / enterprises), simple mean")
def _participation(ctx):
    est = tec_indicators(ctx.load("tec01"), "export_participation_rate", business_counts=ctx.load("sdbs"),
                 activity="C")
    avg = tec_cross_country_average(est)
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    bars_by_size(avg, x="size_class", ci=False, ax=ax, ylabel="% of enterprises that export",
                 title="Export participation by enterprise size, manufacturing", source=SOURCE_SAMPLE,
                 sample=f"{int(avg['n_countries'].max())} economies, latest year; WTR 2016: 9 / 38 / 59 / 66%")
    return fig


@register_output("published_vs_recomputed", kind="table", inputs=("tec10", "tec01", "sdbs", "wbes"),
                 title="WTR 2016 and 2022 published values against recomputed values, developing and developed economies")
def _published_all(ctx) -> pd.DataFrame:
    from .wbes import _headline, data_note

    es = compare_published(_headline(ctx), family="es").assign(
        economies="developing", data=f"WBES files ({data_note(ctx.load('wbes'))})", aggregation="country_mean")
    es = es.rename(columns={"within_rounding_2016": "within_rounding"})
    real = tec_compare_published(ctx.load("tec10")).assign(data="Eurostat ext_tec10 (real)")
    total = tec_compare_published(ctx.load("tec01"))
    manuf = tec_compare_published(ctx.load("tec01"), business_counts=ctx.load("sdbs"), activity="C")
    sample = pd.concat([
        total[total["indicator"] == "msme_share_import_value"].assign(data="TEC specimen (PARTLY SYNTHETIC)"),
        manuf[manuf["indicator"] == "export_participation_rate"].assign(
            data="TEC specimen (PARTLY SYNTHETIC; counts generated around the WTR values, so circular), manufacturing"),
    ], ignore_index=True)
    tec = pd.concat([real[real["recomputed"].notna()], sample], ignore_index=True).assign(economies="developed")
    tec = tec.rename(columns={"published": "published_value", "within_tolerance": "within_rounding"})
    cols = ["economies", "target_id", "aggregation", "published_value", "recomputed", "difference", "within_rounding",
            "n_countries", "data"]
    es = es.assign(published_value=es["published_2016"], difference=es["diff_2016"])
    return pd.concat([es[cols], tec[cols]], ignore_index=True)
