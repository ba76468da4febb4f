"""Figures and tables from World Bank Enterprise Surveys (WTR 2016 B.1(a), B.2(a); 2022 paper 2).

Input ``wbes``: every ``.dta`` file of ONE folder of the data directory: a user's licensed
files in ``DIR/wbes/`` (``msme-stats build --data DIR``), or the bundled SYNTHETIC samples
in ``wbes_synthetic/`` (the default data folder). A data folder holding both is an error:
they are never pooled.
Input ``tr5_published``: the World Bank's published TR5 values (CC BY 4.0).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import pandas as pd

from ..aggregate import compare_published, cross_country_average, headline_sme_vs_large
from ..build import register_input, register_output
from ..indicators import estimate
from ..plots import bars_by_size, country_dots, direct_vs_indirect, vintage_change
from ..sources.wbes import load_wbes, read_surveys_csv
from ..tables import ATTRS_KEY, headline_contrast, publication_table
from ._common import cached

SOURCE = "World Bank Enterprise Surveys; msme_stats calculations"


def _load_wbes(paths, *, params=None):
    """The build's WBES input; ``--surveys FILE.csv`` (param ``wbes_surveys``) gives per-file overrides."""
    table = (params or {}).get("wbes_surveys")
    surveys = read_surveys_csv(table) if table else None
    return load_wbes(paths, cache=False, surveys=surveys)  # recode log in .attrs, summarised by the build


def _load_tr5(paths):
    raw = pd.read_csv(paths[0], na_values=[".."], keep_default_na=False)
    raw = raw[raw["Country Code"].ne("..") & raw["Value"].notna()]
    return raw.rename(columns={"Country Code": "country", "Time": "year", "Value": "published"})[
        ["country", "year", "published"]
    ]


register_input("wbes", pattern="wbes/*.dta", alternatives=("wbes_synthetic/*.dta",), loader=_load_wbes,
               description="Enterprise Surveys firm files (bundled: SYNTHETIC samples)")
register_input("tr5_published", pattern="worldbank_tr5/fig_sdg17_enterprise_exports.csv",
               loader=_load_tr5, description="World Bank IC.FRM.TRD.TR5 (sdgatlas2018 extract, CC BY 4.0)")


def data_note(firms: pd.DataFrame) -> str:
    """Name the data actually loaded, for captions and notes.

    A file is synthetic when the loader found it so (data label or ``synthetic`` variable
    saying SYNTHETIC, or a file name containing "synthetic"; ``attrs["files"]``). All
    synthetic: ``"SYNTHETIC sample data"``; none: ``"Enterprise Surveys microdata, N file(s)"``;
    a mix says how many files are synthetic, so SYNTHETIC is never missing from synthetic
    data nor left on real data.

    Parameters
    ----------
    firms
        Firm frame from :func:`msme_stats.load_wbes` (its ``attrs["files"]``), or any frame
        with ``attrs["source_files"]``; a frame with neither is ``"firm-level data"``.

    Returns
    -------
    str
        The note, for a chart source line or a table footnote.

    Raises
    ------
    AttributeError
        When ``firms`` is not a DataFrame (it has no ``attrs``); any frame is accepted.

    Examples
    --------
    >>> import pandas as pd
    >>> from msme_stats.outputs.wbes import data_note
    >>> firms = pd.DataFrame({"survey_id": ["KEN_2018", "BGD_2013"]})
    >>> firms.attrs["files"] = [{"file": "KEN_2018.dta", "synthetic": False},
    ...                         {"file": "BGD_2013_synthetic.dta", "synthetic": True}]
    >>> data_note(firms)
    'includes SYNTHETIC data: 1 of 2 files'
    >>> firms.attrs["files"] = firms.attrs["files"][:1]
    >>> data_note(firms)
    'Enterprise Surveys microdata, 1 file'
    """
    files = firms.attrs.get("files")
    if files:
        flags = [bool(f.get("synthetic")) for f in files]
    else:  # a frame not from load_wbes: judge by the file names recorded
        flags = ["synthetic" in str(f).lower() for f in firms.attrs.get("source_files", [])]
    if flags and all(flags):
        return "SYNTHETIC sample data"
    if any(flags):
        return f"includes SYNTHETIC data: {sum(flags)} of {len(flags)} files"
    n = len(flags)
    return f"Enterprise Surveys microdata, {n} file{'s' if n != 1 else ''}" if n else "firm-level data"


def _sample(firms: pd.DataFrame, what: str) -> str:
    tag = data_note(firms)
    return f"{what}; {firms['survey_id'].nunique()} surveys, {firms['country'].nunique()} economies, {len(firms):,} firms ({tag})"


def _headline(ctx) -> pd.DataFrame:
    return cached(ctx, ("wbes", "headline"), lambda: headline_sme_vs_large(ctx.load("wbes")))


def _tr5_by_survey(ctx) -> pd.DataFrame:
    return cached(ctx, ("wbes", "tr5"),
                  lambda: estimate(ctx.load("wbes"), "TR5", by=["survey_id", "country", "year"]))


@register_output("wbes_headline_sme_vs_large", kind="table", inputs=("wbes",),
                 title="Direct and indirect exports, % of sales, manufacturing SMEs vs large firms "
                       "(simple mean of countries, latest survey)")
def _headline_table(ctx) -> pd.DataFrame:
    h = _headline(ctx)
    out = h[["indicator", "sme_group", "estimate", "se", "ci_low", "ci_high", "n_countries", "n_firms",
             "year_min", "year_max"]].reset_index(drop=True)
    out.attrs[ATTRS_KEY] = publication_table(
        h, rows="indicator", columns="sme_group", uncertainty="se", contrast=headline_contrast(h),
        contrast_label="SMEs - large", label="tab:wbes_headline_sme_vs_large",
        source=SOURCE, sample=_sample(ctx.load("wbes"), "manufacturing firms, latest survey per economy"),
    )
    return out


@register_output("wbes_direct_vs_indirect", kind="figure", inputs=("wbes",),
                 title="Direct and indirect export intensity by firm size, manufacturing")
def _direct_indirect(ctx):
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    direct_vs_indirect(
        _headline(ctx), x="sme_group", ax=ax, title="Manufacturing firms' exports, % of sales",
        source=SOURCE, sample=_sample(ctx.load("wbes"), "simple mean of countries' latest surveys"),
    )
    return fig


@register_output("wbes_exporters_by_size", kind="figure", inputs=("wbes",),
                 title="% of firms exporting at least 10% of sales, by size class")
def _exporters_by_size(ctx):
    firms = ctx.load("wbes")
    est = estimate(firms, ["TR16", "TR17"], by=["survey_id", "size_class"])
    avg = cross_country_average(est)
    avg["indicator"] = avg["indicator"].map(
        {"es_direct_exporter_share_10": "Direct", "es_exporter_share_10": "Direct or indirect"}
    )
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    bars_by_size(avg, x="size_class", hue="indicator", ax=ax, ylabel="% of firms",
                 title="Firms exporting at least 10% of sales", source=SOURCE,
                 sample=_sample(firms, "simple mean of countries' latest surveys"))
    return fig


@register_output("wbes_tr5_by_country", kind="figure", inputs=("wbes",),
                 title="Direct exports, % of sales (TR5), latest survey per economy, with 95% CIs")
def _tr5_dots(ctx):
    firms = ctx.load("wbes")
    est = _tr5_by_survey(ctx)
    latest = est[est["year"] == est.groupby("country", observed=True)["year"].transform("max")]
    fig, ax = plt.subplots(figsize=(6.4, 9.0))
    country_dots(latest, y="country", reference="mean", ax=ax, xlabel="% of sales",
                 title="Direct exports (TR5)", source=SOURCE, sample=_sample(firms, "all firms, latest survey"))
    return fig


@register_output("wbes_tr5_published_vs_recomputed", kind="table", inputs=("wbes", "tr5_published"),
                 title="TR5 by survey: World Bank published value vs recomputed")
def _tr5_compare(ctx) -> pd.DataFrame:
    est = _tr5_by_survey(ctx)
    pub = ctx.load("tr5_published")
    est = est.assign(country=est["country"].astype(str), year=est["year"].astype(int))
    out = est.merge(pub, on=["country", "year"], how="left")
    out["difference"] = out["estimate"] - out["published"]
    return out[["survey_id", "country", "year", "published", "estimate", "se", "ci_low", "ci_high", "n",
                "difference", "flags"]].rename(columns={"estimate": "recomputed"}).reset_index(drop=True)


@register_output("wbes_tr5_change", kind="figure", inputs=("wbes", "tr5_published"),
                 title="TR5: World Bank published value vs recomputed, by survey")
def _tr5_change(ctx):
    table = _tr5_compare(ctx).dropna(subset=["published"])
    table["survey"] = table["survey_id"].astype(str)
    fig, ax = plt.subplots(figsize=(6.4, 10.0))
    vintage_change(table, start="published", end="recomputed", y="survey", sort="end", ax=ax,
                   labels={"published": "World Bank (published)", "recomputed": "Recomputed"},
                   xlabel="% of sales", title="Direct exports (TR5): published vs recomputed",
                   source="World Bank Enterprise Surveys (IC.FRM.TRD.TR5, CC BY 4.0); msme_stats calculations",
                   sample=_sample(ctx.load("wbes"), "all firms"))
    return fig


@register_output("wbes_published_vs_recomputed", kind="table", inputs=("wbes",),
                 title="WTR 2016 key facts, 2022 update and recomputed values (developing economies)")
def _published(ctx) -> pd.DataFrame:
    return compare_published(_headline(ctx), family="es")


@register_output("wbes_indicators_by_region", kind="table", inputs=("wbes",),
                 title="Trade indicators by World Bank region and firm size (simple mean of countries)")
def _by_region(ctx) -> pd.DataFrame:
    est = estimate(ctx.load("wbes"), ["TR5", "es_indirect_export_intensity", "TR17", "TR11", "CAR7"],
                by=["survey_id", "sme_group"])
    avg = cross_country_average(est, by="wb_region")
    return avg.drop(columns=["countries"]).reset_index(drop=True)
