"""Check a folder of Enterprise Surveys files before use: inspect each file, replicate published values.

* :func:`inspect_wbes`: one row per file, before any build: the survey detected and where
  its economy and year came from, firms, strata (and single-firm strata), weights, sectors
  from the survey's own labels, interview years, negative codes recoded, and anything odd.
* :func:`replicate_published`: every official indicator that the World Bank publishes for
  each survey loaded, beside the value recomputed from the microdata at the published
  precision: ``match``, ``differs`` (by how much) or ``no published value``.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._options import format_code
from .errors import MissingColumnsError, MsmeStatsError, UnreadableFileError

INSPECT_COLUMNS = (
    "file", "usable", "survey_id", "country", "country_source", "year", "year_source", "firms", "strata",
    "single_firm_strata", "weights", "sectors", "sector_labels", "interview_years", "recoded", "odd", "error",
)


def _counts(series: pd.Series) -> str:
    vc = series.value_counts(sort=False, dropna=True)
    vc = vc[vc > 0].sort_index()
    return "; ".join(f"{k} {v}" for k, v in vc.items())


def _inspect_one(src: str | pd.DataFrame) -> dict[str, Any]:
    from .sources import wbes as w

    row: dict[str, Any] = {c: None for c in INSPECT_COLUMNS}
    row["file"] = str(src)
    odd: list[str] = []
    try:
        raw = w._read_any(src, None)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            frame, rec, info = w._clean_one(
                raw, weight_var="wmedian", size_scheme="a6a", below5="separate", split_large=False, keep=None,
                country=None, year=None, share_tolerance=1.0, isic_revision="3.1",
            )
    except MsmeStatsError as exc:
        row.update(usable=False, error=" ".join(str(exc).split()), odd="")
        return row
    except Exception as exc:  # a diagnostic tool reports any failure as an unusable file
        row.update(usable=False, error=f"{src}: unexpected {type(exc).__name__}: {exc}", odd="")
        return row
    for wm in caught:
        if not issubclass(wm.category, Warning) or "negative WBES codes" in str(wm.message):
            continue
        odd.append(" ".join(str(wm.message).split()))
    sids = frame["survey_id"].astype(str)
    row.update(
        usable=True,
        survey_id=";".join(sorted(sids.unique())),
        country=";".join(sorted(frame["country"].astype(str).unique())),
        country_source=info["country_source"],
        year=";".join(str(y) for y in sorted(frame["year"].unique())),
        year_source=info["year_source"],
        firms=len(frame),
    )
    per = frame.groupby("strata", observed=True).size()
    row["strata"] = int(len(per))
    row["single_firm_strata"] = int((per == 1).sum())
    row["weights"] = ",".join(v for v in ("wmedian", "wstrict", "wweak") if v in raw.frame.columns)
    row["sectors"] = _counts(frame["sector"].cat.add_categories("(none)").fillna("(none)"))
    cols = w._resolve_columns(raw)
    if "sector_raw" in cols and cols["sector_raw"] in raw.value_labels:
        col = cols["sector_raw"]
        labels = raw.value_labels[col]
        present = sorted(pd.unique(pd.to_numeric(raw.frame[col], errors="coerce").dropna()))
        pairs = []
        for code in present:
            lab = labels.get(float(code))
            sec = frame.loc[pd.to_numeric(raw.frame[col], errors="coerce").to_numpy() == code, "sector"]
            pairs.append(f"{format_code(code)} {lab if lab is not None else '(no label)'}->{sec.astype(object).iloc[0] if len(sec) else ''}")
        row["sector_labels"] = "; ".join(pairs)
    for var in ("a4a", "a6a", "strata"):
        if var in raw.frame.columns and var in raw.value_labels and pd.api.types.is_numeric_dtype(raw.frame[var]):
            vals = pd.to_numeric(raw.frame[var], errors="coerce").dropna()
            unknown = sorted(v for v in pd.unique(vals) if v >= 0 and v not in raw.value_labels[var])
            if unknown:
                odd.append(f"{var}: code(s) without a label: {', '.join(format_code(v) for v in unknown[:5])}")
    if "interview_year" in frame:
        row["interview_years"] = _counts(frame["interview_year"].dropna().astype(int))
    if rec:
        per_var: dict[str, list[str]] = {}
        for r in rec:
            per_var.setdefault(r["variable"], []).append(f"{format_code(r['code'])} x{r['n']}")
        row["recoded"] = "; ".join(f"{v}: {', '.join(c)}" for v, c in sorted(per_var.items()))
    else:
        row["recoded"] = ""
    if raw.meta.get("repeated_label_sets_in_file"):
        odd.append("label sets giving one label to two codes (tolerated; codes kept): "
                   + ", ".join(raw.meta["repeated_label_sets_in_file"]))
    if raw.meta.get("undefined_label_sets"):
        odd.append(f"{len(raw.meta['undefined_label_sets'])} variable(s) read name an undefined label set "
                   f"({', '.join(raw.meta['undefined_label_sets'][:3])}): treated as unlabelled")
    if info.get("synthetic"):
        odd.append("SYNTHETIC data" + (f" (data label: {info['data_label']!r})" if info.get("data_label") else ""))
    n_bad = int(frame["shares_inconsistent"].sum())
    if n_bad:
        odd.append(f"{n_bad} firm(s) with d3a+d3b+d3c off 100")
    row["odd"] = " | ".join(odd)
    row["error"] = ""
    return row


def inspect_wbes(paths: str | os.PathLike | Iterable[str | os.PathLike]) -> pd.DataFrame:
    """One row per WBES file: what :func:`msme_stats.load_wbes` would make of it, before any build.

    Parameters
    ----------
    paths
        Files, folders (their ``.dta`` files, else ``.csv``/``.parquet``) or globs.

    Returns
    -------
    pandas.DataFrame
        Columns ``file``, ``usable`` (False when the file cannot be loaded, with the reason
        in ``error``), ``survey_id``, ``country`` and ``country_source``, ``year`` and
        ``year_source`` (where each came from: ``a1 value label``, ``file name``, ``survey
        catalogue``, ...), ``firms``, ``strata``, ``single_firm_strata``, ``weights``
        present, ``sectors`` (firms per sector), ``sector_labels`` (``a4a`` code, label and
        the sector it maps to), ``interview_years`` (firms per ``a14y``), ``recoded``
        (negative codes set to missing, per variable and code), ``odd`` (repeated labels,
        undefined label sets, codes without a label, synthetic data, ...). A survey reached
        through two files makes the later file unusable. Files are read with the
        defaults of ``load_wbes`` and without the cache.

    Raises
    ------
    TypeError
        When ``paths`` is neither a path nor an iterable of paths. A file, folder or glob
        that cannot be read raises nothing: it becomes a row with ``usable`` False and the
        reason (the message :func:`msme_stats.load_wbes` would raise) in ``error``.

    Stata/R equivalent
    ------------------
    No single command. Stata, per file: ``describe using FILE``, then ``use FILE``,
    ``codebook a4a a6a strata`` and ``label list``; R: ``haven::read_dta()`` then
    ``haven::print_labels(df$a4a)`` and ``table(df$a4a, useNA = "ifany")``.

    See Also
    --------
    msme_stats.load_wbes : loads the files this function checks.
    replicate_published : published values beside the recomputed ones.

    Examples
    --------
    Two SYNTHETIC surveys (Bangladesh 2007 and 2013) written into a temporary folder:

    >>> import tempfile
    >>> from msme_stats.replicate import inspect_wbes
    >>> from msme_stats.samples.wbes import write_wbes_samples
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     files = write_wbes_samples(folder, n_countries=1, write_readme=False)
    ...     checks = inspect_wbes(folder)
    >>> checks[["survey_id", "usable", "firms", "strata", "single_firm_strata"]]
      survey_id  usable  firms  strata  single_firm_strata
    0  BGD_2007    True    450      36                   2
    1  BGD_2013    True    560      85                  11
    >>> print(checks.loc[0, "sector_labels"])
    1 Manufacturing->manufacturing; 2 Retail->retail; 3 Other Services->other_services
    >>> print(checks.loc[0, "odd"])
    SYNTHETIC data (data label: 'SYNTHETIC WBES-schema sample ...') | 4 firm(s) with d3a+d3b+d3c off 100

    A file that cannot be used is a row saying why, not an error:

    >>> bad = inspect_wbes("no_such_folder/*.dta")
    >>> print(bad.loc[0, "usable"], bad.loc[0, "error"])
    False The pattern 'no_such_folder/*.dta' matched no file. Check the folder and the pattern.
    """
    from .sources.wbes import _expand_sources

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    rows: list[dict[str, Any]] = []
    for p in paths:
        try:
            srcs = _expand_sources(p)
        except MsmeStatsError as exc:
            rows.append({**{c: None for c in INSPECT_COLUMNS}, "file": str(p), "usable": False,
                         "error": " ".join(str(exc).split()), "odd": ""})
            continue
        rows += [_inspect_one(s) for s in srcs]
    seen: dict[str, str] = {}
    for r in rows:
        if not r["usable"]:
            continue
        for sid in r["survey_id"].split(";"):
            if sid in seen:
                r["usable"] = False
                r["error"] = (f"survey {sid} is also in {seen[sid]}: the same survey would be counted twice; "
                              "keep one of the files")
            else:
                seen[sid] = r["file"]
    return pd.DataFrame(rows, columns=list(INSPECT_COLUMNS))


# --------------------------------------------------------------------------- replicate
#: columns of a World Bank indicator extract (the bundled TR5 file)
_TR5_COLUMNS = ("Country Code", "Series Code", "Time", "Value")


def _decimals(text: str) -> int:
    text = str(text).strip()
    return len(text.split(".")[1]) if "." in text else 0


def published_survey_values(reference_values: str | os.PathLike | pd.DataFrame | None = None,
                            tr5: str | os.PathLike | None = None) -> pd.DataFrame:
    """Published per-survey values of the World Bank's official Enterprise Surveys indicators.

    Sources: the bundled extract of ``IC.FRM.TRD.TR5`` (``data/worldbank_tr5/``, CC BY 4.0)
    and the ``WBES_*`` rows of the published reference values
    (:func:`msme_stats.published_values`, e.g. ``IC.CUS.DURS.EX`` for Kenya 2018). Only
    codes of the indicator registry (its ``wb_code`` or an alias) are kept; the same value
    of a survey and indicator from two sources is kept once.

    Parameters
    ----------
    reference_values
        Published reference values: a path or frame in the layout of
        ``data/published_reference_values/reference_values.csv`` (default: that file).
    tr5
        A World Bank indicator extract in the layout of
        ``data/worldbank_tr5/fig_sdg17_enterprise_exports.csv`` (columns ``Country Code``,
        ``Series Code``, ``Time``, ``Value``; ``..`` for no value). Default: that bundled
        file, skipped when it is not there.

    Returns
    -------
    pandas.DataFrame
        ``country``, ``year``, ``indicator`` (registry id), ``wb_code``, ``published``
        (float), ``published_text`` (as published, which gives the precision) and ``source``.

    Raises
    ------
    UnreadableFileError
        When ``reference_values`` or a ``tr5`` given explicitly is not a file.
    MissingColumnsError
        When the ``tr5`` extract lacks one of its four columns.

    Examples
    --------
    >>> from msme_stats.replicate import published_survey_values
    >>> pub = published_survey_values()
    >>> ken = pub[pub["country"] == "KEN"].sort_values("year")
    >>> print(ken[["year", "indicator", "wb_code", "published_text"]].to_string(index=False))
     year                  indicator        wb_code published_text
     2007 es_direct_export_intensity IC.FRM.TRD.TR5            2.3
     2013 es_direct_export_intensity IC.FRM.TRD.TR5           10.9
     2018      es_days_clear_exports IC.CUS.DURS.EX            9.7
    """
    from ._paths import data_dir
    from .aggregate import published_values
    from .indicators import list_indicators

    reg = list_indicators("es")
    code_to_id: dict[str, str] = {}
    for r in reg.itertuples(index=False):
        for code in [r.wb_code, *str(r.aliases or "").split("|")]:
            if isinstance(code, str) and code.startswith("IC."):
                code_to_id[code] = str(r.id)
    rows = []
    path = Path(tr5) if tr5 is not None else data_dir() / "worldbank_tr5" / "fig_sdg17_enterprise_exports.csv"
    if tr5 is not None and not path.is_file():
        raise UnreadableFileError(
            f"{path}: World Bank indicator extract not found; pass tr5= the path of a CSV with the columns "
            f"{list(_TR5_COLUMNS)} (the bundled one is data/worldbank_tr5/fig_sdg17_enterprise_exports.csv)."
        )
    if path.is_file():
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
        missing = [c for c in _TR5_COLUMNS if c not in raw.columns]
        if missing:
            raise MissingColumnsError(f"{path}: lacks column(s) {missing}; a World Bank extract has {list(_TR5_COLUMNS)}.")
        raw = raw[(raw["Country Code"] != "..") & (raw["Value"] != "..") & (raw["Value"] != "")]
        for iso3, code, year, value in raw[list(_TR5_COLUMNS)].itertuples(index=False, name=None):
            if code in code_to_id:
                rows.append({"country": iso3, "year": int(year), "indicator": code_to_id[code], "wb_code": code,
                             "published": float(value), "published_text": value,
                             "source": f"World Bank {code} extract ({path.name}, CC BY 4.0)"})
    refs = published_values(reference_values)
    refs = refs[refs.index.str.startswith("WBES_")]
    for ref_id, ref in refs.iterrows():
        code = str(ref["indicator"]).split()[0]
        if code in code_to_id and len(str(ref["geo"])) == 3 and str(ref["year"]).isdigit():
            rows.append({"country": ref["geo"], "year": int(str(ref["year"])), "indicator": code_to_id[code],
                         "wb_code": code, "published": float(str(ref["value"])), "published_text": str(ref["value"]),
                         "source": f"{ref_id}: {ref['source']}"})
    out = pd.DataFrame(rows, columns=["country", "year", "indicator", "wb_code", "published", "published_text", "source"])
    # one value per survey and indicator: the same number from two sources is kept once
    return out.drop_duplicates(["country", "year", "indicator", "published_text"]).reset_index(drop=True)


def replicate_published(
    firms: pd.DataFrame,
    *,
    reference_values: str | os.PathLike | pd.DataFrame | None = None,
    tr5: str | os.PathLike | None = None,
) -> pd.DataFrame:
    """Published official indicators beside the values recomputed from the microdata.

    For every survey in ``firms`` and every indicator of the registry that has a World Bank
    code, the published value (:func:`published_survey_values`) and the value recomputed
    with :func:`msme_stats.estimate` (its defaults: ``wmedian`` weights, all firms, the
    indicator's own scope) rounded at the published precision.

    Parameters
    ----------
    firms
        Canonical firm frame from :func:`msme_stats.load_wbes`.
    reference_values, tr5
        Other published-value files (see :func:`published_survey_values`).

    Returns
    -------
    pandas.DataFrame
        ``survey_id``, ``country``, ``year``, ``indicator``, ``wb_code``, ``published``,
        ``decimals`` (of the published value), ``recomputed``, ``recomputed_rounded``,
        ``difference`` (rounded minus published), ``status`` (``match``, ``differs by
        +0.3``, ``no published value``, or ``not computable: ...``), ``n`` (firms used),
        ``source``.

    Raises
    ------
    MissingColumnsError
        When ``firms`` lacks ``survey_id``, ``country`` or ``year`` (a frame not from
        :func:`msme_stats.load_wbes`), or the ``tr5`` extract lacks a column.
    UnreadableFileError
        Propagated from :func:`published_survey_values` when ``reference_values`` or
        ``tr5`` is not a file.

    See Also
    --------
    published_survey_values : the published values used.
    msme_stats.estimate : the recomputation (its Stata/R equivalents are given there).

    Notes
    -----
    An indicator that :func:`msme_stats.estimate` cannot compute on these data raises
    nothing: its rows say ``not computable:`` and why.

    Examples
    --------
    A SYNTHETIC Kenya 2013 survey, calibrated to the published TR5 value (10.9 %):

    >>> import msme_stats as ms
    >>> from msme_stats.replicate import replicate_published
    >>> from msme_stats.samples.wbes import synthetic_wbes_survey
    >>> firms = ms.load_wbes(synthetic_wbes_survey("KEN", 2013, n_firms=200), cache=False)
    >>> checks = replicate_published(firms)
    >>> checks.loc[checks["published"].notna(), ["wb_code", "published", "recomputed_rounded", "status"]]
              wb_code  published  recomputed_rounded status
    0  IC.FRM.TRD.TR5       10.9                10.9  match
    >>> checks["status"].value_counts().to_dict()
    {'no published value': 10, 'match': 1}
    """
    from .indicators import estimate, list_indicators

    missing = [c for c in ("survey_id", "country", "year") if c not in firms.columns]
    if missing:
        raise MissingColumnsError(
            f"replicate_published: firms lacks column(s) {missing}; pass the firm frame of msme_stats.load_wbes."
        )
    reg = list_indicators("es")
    official = reg[reg["wb_code"].fillna("").str.startswith("IC.")]
    pub = published_survey_values(reference_values, tr5)
    surveys = (firms[["survey_id", "country", "year"]].astype({"survey_id": str, "country": str})
               .drop_duplicates().sort_values("survey_id"))
    est: dict[str, pd.DataFrame] = {}
    errors: dict[str, str] = {}
    for ind in official["id"]:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                est[ind] = estimate(firms, ind, by="survey_id")
        except MsmeStatsError as exc:
            errors[ind] = " ".join(str(exc).split())
    rows = []
    for sid, iso3, yr in surveys.itertuples(index=False, name=None):
        survey_id, country, year = str(sid), str(iso3), int(yr)
        for ind in official.itertuples(index=False):
            ind_id = str(ind.id)
            got = est.get(ind_id)
            hit = got[got["survey_id"].astype(str) == survey_id] if got is not None else None
            value = float(hit["estimate"].iloc[0]) if hit is not None and len(hit) == 1 else np.nan
            n = int(hit["n"].iloc[0]) if hit is not None and len(hit) == 1 and "n" in hit else None
            p = pub[(pub["country"] == country) & (pub["year"] == year) & (pub["indicator"] == ind_id)]
            if p.empty:
                p = pd.DataFrame([{"published": np.nan, "published_text": "", "source": ""}])
            for published_value, published_text, source in p[["published", "published_text", "source"]].itertuples(
                index=False, name=None
            ):
                published, text = float(published_value), str(published_text)
                dec = _decimals(text) if text else None  # None: no published value
                rounded = round(value, dec) if dec is not None and np.isfinite(value) else np.nan
                if ind_id in errors:
                    status = f"not computable: {errors[ind_id]}"
                elif dec is None:
                    status = "no published value"
                elif not np.isfinite(value):
                    status = "not computable: no firm answered"
                else:
                    diff = round(rounded - published, dec)
                    status = "match" if diff == 0 else f"differs by {diff:+.{dec}f}"
                rows.append({
                    "survey_id": survey_id, "country": country, "year": year, "indicator": ind_id,
                    "wb_code": ind.wb_code, "published": published_value, "decimals": dec, "recomputed": value,
                    "recomputed_rounded": rounded,
                    "difference": (round(rounded - published, dec) if dec is not None and np.isfinite(rounded) else np.nan),
                    "status": status, "n": n, "source": source,
                })
    return pd.DataFrame(rows)
