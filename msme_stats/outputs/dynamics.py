"""Figures and tables of exporter dynamics (World Bank Exporter Dynamics Database indicators).

Inputs:

* ``kcs``: the SYNTHETIC Korean customs import declarations (importers stand in for
  exporters, country of origin for destination; monthly periods) in
  ``data/kcs_customs_synthetic/``.

The size-class chart uses a SYNTHETIC annual panel and firm register drawn by the seeded
generator of :mod:`msme_stats.samples.transactions` (no input file: it is regenerated
identically at every build).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from ..build import register_input, register_output
from ..indicators.dynamics import exporter_dynamics
from ..plots import time_lines
from ..samples.transactions import synthetic_transactions
from ..sources.customs import load_transactions
from ._common import cached

SOURCE_KCS = ("Synthetic customs declarations (Korea Customs Service / IBS, CTGAN; MIT); importers stand in "
              "for exporters; msme_stats calculations")
SOURCE_SYNTH = "SYNTHETIC transaction panel and firm register (msme_stats seeded generator); illustration only"
PANEL_SEED = 2016


register_input("kcs", pattern="kcs_customs_synthetic/df_syn_*_eng.csv",
               loader=lambda paths: load_transactions([str(p) for p in paths], roles="kcs", period="month"),
               description="Synthetic Korean customs import declarations (MIT)")


def _kcs(ctx) -> pd.DataFrame:
    return cached(ctx, ("kcs", "dynamics"), lambda: exporter_dynamics(ctx.load("kcs"), period="month"))


def _series(frame: pd.DataFrame, codes: dict[str, str]) -> pd.DataFrame:
    sel = frame[frame["edd_code"].isin(codes)].copy()
    sel["series"] = sel["edd_code"].map(codes)
    sel["value"] = 100 * sel["value"]
    return sel.dropna(subset=["value"])


@register_output("edd_indicators_kcs", kind="table", inputs=("kcs",), float_format="{:.4g}",
                 title="Exporter Dynamics indicators (A1-E6) by month, synthetic Korean declarations")
def _table(ctx) -> pd.DataFrame:
    wide = _kcs(ctx).pivot_table(index=["edd_code", "indicator"], columns="period", values="value", sort=False)
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index()


@register_output("edd_entry_exit", kind="figure", inputs=("kcs",),
                 title="Entry and exit rates of traders by month")
def _entry_exit(ctx):
    data = _series(_kcs(ctx), {"C1": "Entry rate", "C2": "Exit rate"})
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    time_lines(data, x="period", y="value", hue="series", ax=ax, ylabel="% of traders", xlabel="Month",
               title="Entry and exit of traders", source=SOURCE_KCS,
               note="Entry rate: entrants / traders in the month; exit rate: exiters / traders in the previous month.",
               sample="54,000 synthetic declarations, Jan 2020 - Jun 2021")
    return fig


@register_output("edd_survival_concentration", kind="figure", inputs=("kcs",),
                 title="First-period survival of entrants and concentration (top 1% and 5% shares)")
def _survival(ctx):
    data = _series(_kcs(ctx), {"C3": "Entrants surviving one month", "B2i": "Share of top 1% traders",
                               "B2ii": "Share of top 5% traders"})
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    time_lines(data, x="period", y="value", hue="series", ax=ax, ylabel="%", xlabel="Month",
               title="Survival and concentration", source=SOURCE_KCS,
               note="Shares are of the month's total value; survival is continuous (present every month).",
               sample="54,000 synthetic declarations, Jan 2020 - Jun 2021")
    ax.set_ylabel("% (of entrants or of total value)")
    return fig


def _synthetic_panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    tx = synthetic_transactions(400_000, n_traders=8_000, years=(2011, 2020), seed=PANEL_SEED)
    traders = np.sort(tx["trader"].unique())
    rng = np.random.default_rng(PANEL_SEED)
    employees = np.round(np.exp(rng.normal(2.6, 1.6, size=len(traders)))).astype(int)
    register = pd.DataFrame({"trader": traders, "employees": employees})
    return tx, register


@register_output("edd_exporters_by_size", kind="figure", inputs=(),
                 title="Number of exporters and entry rate, SMEs versus large exporters (synthetic panel)")
def _by_size(ctx):
    tx, register = _synthetic_panel()
    dyn = exporter_dynamics(tx, register=register)
    sel = dyn[(dyn["edd_code"] == "C1") & dyn["size_class"].isin(["SME", "large"])].dropna(subset=["value"])
    sel = sel.assign(value=100 * sel["value"])
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    time_lines(sel, x="period", y="value", hue="size_class", ax=ax, ylabel="% of exporters", xlabel="Year",
               labels={"SME": "SMEs (<250 employees)", "large": "Large (250+)"},
               title="Entry rate of exporters by firm size", source=SOURCE_SYNTH,
               sample=f"{register['trader'].nunique():,} synthetic exporters, 2011-2020")
    return fig
