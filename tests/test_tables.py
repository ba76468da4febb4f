"""Publication tables: labels, rounding, SE/CI, contrast column, flags, notes, and every format."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

import msme_stats as ms
from msme_stats.errors import MissingColumnsError, OptionError
from msme_stats.tables import (
    ATTRS_KEY,
    default_labels,
    headline_contrast,
    table_to_latex,
    table_to_markdown,
)

ROOT = Path(__file__).resolve().parents[1]


def averages() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "indicator": ["es_direct_export_intensity"] * 2 + ["es_indirect_export_intensity"] * 2,
            "sme_group": ["SME", "large", "SME", "large"],
            "estimate": [7.6123, 14.08, 2.4, 1.95],
            "se": [0.41, 1.2, 0.3, 0.25],
            "ci_low": [6.8, 11.7, 1.8, 1.46],
            "ci_high": [8.4, 16.4, 3.0, 2.44],
            "n_countries": [40, 40, 40, 39],
            "n_firms": [12000, 3000, 11950, 2990],
        }
    )


def contrast() -> pd.DataFrame:
    return pd.DataFrame({
        "indicator": ["es_direct_export_intensity", "es_indirect_export_intensity"],
        "difference": [-6.4677, 0.45], "se": [1.27, 0.39], "p_value": [0.00002, 0.25],
        "ci_low": [-8.9, -0.3], "ci_high": [-4.0, 1.2],
    })


# ----------------------------------------------------------------------------- labels
def test_rows_and_columns_labelled_from_the_catalogue_and_reference_data():
    t = ms.publication_table(averages(), rows="indicator", columns="sme_group")
    assert list(t.table.columns) == ["SMEs (5-99 employees)", "Large firms (100+)"]
    assert list(t.table.index) == ["Direct exports as % of sales", "Indirect exports as % of sales"]
    assert t.table.index.name == "Indicator"
    # the labels are the catalogue's names, not typed here
    cat = pd.read_csv(ROOT / "msme_stats" / "reference" / "indicators.csv").set_index("id")["name"]
    assert t.table.index[0] == cat["es_direct_export_intensity"]


def test_country_and_survey_labels():
    est = pd.DataFrame({"survey_id": ["BOL_2017", "KEN_2018"], "country": ["BOL", "KEN"],
                        "indicator": ["TR5", "TR5"], "estimate": [7.19, 10.9]})
    t = ms.publication_table(est, rows="survey_id", columns="indicator")
    assert list(t.table.index) == ["Bolivia 2017", "Kenya 2018"]
    assert list(t.table.columns) == ["Direct exports as % of sales"]  # alias TR5 -> catalogue name
    by_country = ms.publication_table(est, rows="country", columns="indicator")
    assert list(by_country.table.index) == ["Bolivia", "Kenya"]


def test_labels_overridable_and_row_labels_accepted():
    t = ms.publication_table(averages(), rows="indicator", columns="sme_group",
                             labels={"sme_group": {"SME": "Small and medium"}, "column": {"indicator": ""}},
                             row_labels={"es_direct_export_intensity": "Direct"})
    assert list(t.table.columns) == ["Small and medium", "Large firms (100+)"]
    assert list(t.table.index) == ["Direct", "Indirect exports as % of sales"]
    c = ms.publication_table(averages(), rows="indicator", columns="sme_group", column_labels={"large": "100+"})
    assert list(c.table.columns)[1] == "100+"


def test_default_labels_come_from_data_files():
    assert default_labels("sme_group")["SME"].startswith("SMEs")
    assert default_labels("nonexistent_dimension") == {}


# ----------------------------------------------------------------------------- numbers
def test_rounding_se_and_ci():
    t = ms.publication_table(averages(), rows="indicator", columns="sme_group", uncertainty="se", decimals=2)
    assert t.table.iloc[0, 0] == "7.61 (0.41)"
    assert t.values.iloc[0, 0] == pytest.approx(7.6123)  # unrounded numbers kept
    assert ms.publication_table(averages(), rows="indicator", columns="sme_group", show_se=True).table.iloc[0, 1] == "14.1 (1.2)"
    ci = ms.publication_table(averages(), rows="indicator", columns="sme_group", uncertainty="ci", decimals=1)
    assert ci.table.iloc[0, 0] == "7.6 [6.8, 8.4]"
    zero = averages().assign(estimate=[-0.04, 1, 1, 1])
    assert ms.publication_table(zero, rows="indicator", columns="sme_group").table.iloc[0, 0] == "0.0"
    with pytest.raises(OptionError):
        ms.publication_table(averages(), rows="indicator", columns="sme_group", uncertainty="sd")
    with pytest.raises(OptionError):
        ms.publication_table(averages(), rows="indicator", columns="sme_group", decimals=-1)


@pytest.mark.parametrize(("p", "mark"), [(0.2, ""), (0.099, "*"), (0.049, "**"), (0.0099, "***")])
def test_difference_column_with_significance_marks(p, mark):
    con = contrast().assign(p_value=[p, 0.5])
    t = ms.publication_table(averages(), rows="indicator", columns="sme_group", uncertainty="se",
                             contrast=con, contrast_label="SMEs - large")
    assert list(t.table.columns)[-1] == "SMEs - large"
    assert t.table.iloc[0, 2] == f"-6.5{mark} (1.3)"
    assert t.table.iloc[1, 2] == "0.5 (0.4)"
    assert t.values.iloc[0, 2] == pytest.approx(-6.4677)
    assert any(n.startswith("Difference: SMEs - large; * p<0.10") for n in t.footnotes)


def test_contrast_shape_checked():
    with pytest.raises(MissingColumnsError, match="p_value"):
        ms.publication_table(averages(), rows="indicator", columns="sme_group",
                             contrast=contrast().drop(columns="p_value"))
    with pytest.raises(OptionError, match="several rows"):
        ms.publication_table(averages(), rows="indicator", columns="sme_group",
                             contrast=pd.concat([contrast(), contrast()]))


def test_headline_contrast_reads_difference_columns():
    h = averages().merge(contrast().rename(columns={"se": "difference_se"})[["indicator", "difference", "difference_se", "p_value"]])
    c = headline_contrast(h)
    assert c["difference"].tolist() == [-6.4677, 0.45] and c["se"].tolist() == [1.27, 0.39]
    assert headline_contrast(averages()) is None


def test_flags_become_footnote_symbols():
    est = averages().assign(flags=["", "small_n", "lonely_stratum;small_n", ""])
    t = ms.publication_table(est, rows="indicator", columns="sme_group")
    assert t.table.iloc[0, 1] == "14.1a"
    assert t.table.iloc[1, 0] == "2.4b,a"
    assert "a fewer firms than the reporting minimum (min_n) (small_n)." in t.footnotes
    assert any(n.startswith("b single-firm strata") for n in t.footnotes)
    assert "14.1" in ms.publication_table(est, rows="indicator", columns="sme_group", flags=False).table.iloc[0, 1]


def test_notes_match_the_content():
    avg = ms.publication_table(averages(), rows="indicator", columns="sme_group", uncertainty="se",
                               source="World Bank Enterprise Surveys", sample="manufacturing firms")
    assert "Source: World Bank Enterprise Surveys" in avg.footnotes
    assert "Countries per cell: 39 to 40." in avg.footnotes
    assert "Firms per cell: 2,990 to 12,000." in avg.footnotes
    assert any("independent" in n for n in avg.footnotes)
    one_country = averages().drop(columns=["n_countries"])
    t = ms.publication_table(one_country, rows="indicator", columns="sme_group", uncertainty="se")
    assert not any("independent" in n or "averages" in n for n in t.footnotes)
    assert "Standard errors in parentheses." in t.footnotes
    plain = ms.publication_table(one_country, rows="indicator", columns="sme_group")
    assert not any("Standard errors" in n for n in plain.footnotes)


def test_errors():
    with pytest.raises(MissingColumnsError, match="region"):
        ms.publication_table(averages(), rows="region", columns="sme_group")
    with pytest.raises(MissingColumnsError, match="ci_low"):
        ms.publication_table(averages().drop(columns="ci_low"), rows="indicator", columns="sme_group", uncertainty="ci")
    dup = pd.concat([averages(), averages()])
    with pytest.raises(OptionError, match="same cell"):
        ms.publication_table(dup, rows="indicator", columns="sme_group")


# ----------------------------------------------------------------------------- formats
def full_table():
    return ms.publication_table(
        averages().assign(flags=["", "small_n", "", ""]), rows="indicator", columns="sme_group",
        uncertainty="se", contrast=contrast(), contrast_label="SMEs - large", title="Exports, % of sales & more",
        label="tab:headline", source="World Bank Enterprise Surveys", sample="latest survey per economy",
    )


def test_latex_is_a_float_with_caption_label_and_notes():
    tex = full_table().to_latex()
    assert tex.startswith(r"\begin{table}") and tex.rstrip().endswith(r"\end{table}")
    for piece in (r"\begin{threeparttable}", r"\caption{Exports, \% of sales \& more}", r"\label{tab:headline}",
                  r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tablenotes}", r"\item Source: World Bank",
                  r"\end{threeparttable}"):
        assert piece in tex, piece
    assert r"\footnotesize" in tex.split(r"\begin{tablenotes}")[1]  # scoped inside the notes
    lines = tex.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith("Direct exports"))
    assert lines[i] == r"Direct exports as \% of sales & 7.6 & 14.1\textsuperscript{a} & $-$6.5\textsuperscript{***} \\"
    assert lines[i + 1] == r" & (0.4) & (1.2) & (1.3) \\"
    assert "%" not in re.sub(r"\\%", "", tex)  # no comment lines, every % escaped


def test_markdown_html_csv():
    t = full_table()
    md = t.to_markdown()
    assert "**Exports, % of sales & more**" in md
    assert "| Indicator | SMEs (5-99 employees) | Large firms (100+) | SMEs - large |" in md
    assert "| Direct exports as % of sales | 7.6 (0.4) | 14.1a (1.2) | -6.5*** (1.3) |" in md
    html = t.to_html()
    assert "<caption>Exports, % of sales &amp; more</caption>" in html and "<tfoot>" in html
    assert "14.1a<br>(1.2)" in html
    csv = t.to_csv()
    assert csv.splitlines()[0] == "Indicator,SMEs (5-99 employees),Large firms (100+),SMEs - large"
    assert "# Source: World Bank Enterprise Surveys" in csv


def test_excel_has_formatted_numbers_and_the_standard_errors():
    t = full_table()
    wb = openpyxl.load_workbook(io.BytesIO(t.to_excel_bytes()))
    ws = wb["table"]
    assert ws["A1"].value == "Exports, % of sales & more"
    assert [c.value for c in ws[3]][:4] == ["Indicator", "SMEs (5-99 employees)", "Large firms (100+)", "SMEs - large"]
    assert ws["A4"].value == "Direct exports as % of sales"
    assert ws["B4"].value == pytest.approx(7.6123) and ws["B4"].number_format == "#,##0.0"
    assert ws["B5"].value == pytest.approx(0.41) and ws["B5"].number_format == '"("#,##0.0")"'
    assert ws["C4"].number_format.endswith('"a"')  # flag symbol shown, number stays numeric
    assert ws["D4"].value == pytest.approx(-6.4677) and ws["D4"].number_format.endswith('"***"')
    notes = [ws.cell(row=r, column=1).value for r in range(8, ws.max_row + 1)]
    assert "Standard errors in parentheses (design-based; cross-country averages treat country samples as independent)." in notes
    assert any(n and n.startswith("Source: World Bank") for n in notes)


def test_to_stata_writes_estimates_with_variable_labels(tmp_path):
    t = full_table()
    out = t.to_stata(tmp_path / "headline")
    assert out.suffix == ".dta"
    with pd.io.stata.StataReader(out) as r:
        labels = r.variable_labels()
        back = r.read()
        data_label = r.data_label
    assert labels["estimate"] == "Estimate" and labels["se"] == "Standard error"
    assert labels["n_countries"] == "Countries averaged"
    assert labels["diff_difference"] == "SMEs - large: difference"
    assert back["estimate"].tolist() == pytest.approx(averages()["estimate"].tolist())
    assert back.loc[back["sme_group"] == "SME", "diff_p_value"].tolist() == pytest.approx([0.00002, 0.25])
    assert data_label == "Exports, % of sales & more"


def test_all_formats_written_reproducibly(tmp_path):
    t = full_table()
    files = t.write(tmp_path / "headline", formats=("csv", "xlsx", "tex", "md", "html", "dta"))
    assert sorted(p.suffix for p in files) == [".csv", ".dta", ".html", ".md", ".tex", ".xlsx"]
    t.write(tmp_path / "again", formats=("csv", "xlsx", "tex", "md", "html", "dta"))
    for suffix in (".csv", ".md", ".tex", ".xlsx", ".html", ".dta"):
        assert (tmp_path / f"headline{suffix}").read_bytes() == (tmp_path / f"again{suffix}").read_bytes(), suffix
    with pytest.raises(OptionError):
        t.write(tmp_path / "x", formats=("pdf",))


def test_build_writers_render_a_frame_carrying_a_publication_table():
    df = averages()
    df.attrs[ATTRS_KEY] = ms.publication_table(averages(), rows="indicator", columns="sme_group", uncertainty="se")
    tex = table_to_latex(df, title="From the registry")
    assert r"\caption{From the registry}" in tex and "Direct exports" in tex
    assert "Direct exports as % of sales" in table_to_markdown(df)
    plain = table_to_latex(averages(), title="Plain")
    assert r"\caption{Plain}" in plain and r"\begin{tablenotes}" not in plain


# ----------------------------------------------------------------------------- LaTeX compiles
def _document(body: str) -> str:
    return ("\\documentclass{article}\n\\usepackage[utf8]{inputenc}\n\\usepackage[T1]{fontenc}\n"
            "\\usepackage{booktabs}\n\\usepackage{threeparttable}\n\\begin{document}\n"
            + body + "\n\\end{document}\n")


HEADLINE_TEX = ROOT / "figures" / "wbes_headline_sme_vs_large.tex"


def test_headline_tex_structure():
    tex = HEADLINE_TEX.read_text(encoding="utf-8")
    assert tex.startswith(r"\begin{table}") and r"\caption{" in tex and r"\label{tab:wbes_headline_sme_vs_large}" in tex
    assert "SMEs (5-99" in tex and "employees)" in tex and "Large firms" in tex and "(100+)" in tex
    assert "Direct exports as \\% of sales" in tex and "es_direct_export_intensity" not in tex
    assert re.search(r"^ & \(\d+\.\d\) & \(\d+\.\d\)", tex, flags=re.M), "SE row under the estimates"
    assert tex.count(r"\begin{tablenotes}") == 1


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not on PATH")
@pytest.mark.parametrize("which", ["headline_file", "full_table"])
def test_latex_compiles_with_pdflatex(tmp_path, which):
    body = HEADLINE_TEX.read_text(encoding="utf-8") if which == "headline_file" else full_table().to_latex()
    (tmp_path / "doc.tex").write_text(_document(body), encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000
    assert "Overfull" not in run.stdout or which == "headline_file"


@pytest.mark.skipif(shutil.which("pdflatex") is None, reason="pdflatex not on PATH")
@pytest.mark.parametrize("tex", sorted((ROOT / "figures").glob("*.tex")), ids=lambda p: p.stem)
def test_every_built_table_compiles(tmp_path, tex):
    (tmp_path / "doc.tex").write_text(_document(rf"\input{{{tex.as_posix()}}}"), encoding="utf-8")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]


def test_markdown_has_the_title_and_notes_like_the_other_formats():
    # plain frames (the build's tables): bold title line, blank line, table, blank line, notes
    df = pd.DataFrame({"country": ["KEN", "GHA"], "tr5": [10.94, 3.5]})
    md = table_to_markdown(df, title="TR5 by country", footnotes=["Source: WBES.", "Synthetic data."])
    assert md.splitlines() == ["**TR5 by country**", "", "| country | tr5 |", "|:---|---:|",
                               "| KEN | 10.94 |", "| GHA | 3.50 |", "", "Source: WBES.", "Synthetic data."]
    assert table_to_markdown(df).splitlines()[0] == "| country | tr5 |"  # no title: the table alone
    # a frame carrying a PublicationTable without a title takes the build's title, as the LaTeX does
    carried = averages()
    carried.attrs[ATTRS_KEY] = ms.publication_table(averages(), rows="indicator", columns="sme_group",
                                                    uncertainty="se", source="WBES")
    md = table_to_markdown(carried, title="From the registry")
    assert md.splitlines()[:2] == ["**From the registry**", ""]
    assert md.splitlines()[-len(carried.attrs[ATTRS_KEY].footnotes):] == carried.attrs[ATTRS_KEY].footnotes
    tex = table_to_latex(carried, title="From the registry")
    assert r"\caption{From the registry}" in tex
    # a table with its own title keeps it
    titled = averages()
    titled.attrs[ATTRS_KEY] = ms.publication_table(averages(), rows="indicator", columns="sme_group", title="Own")
    assert table_to_markdown(titled, title="Other").splitlines()[0] == "**Own**"
