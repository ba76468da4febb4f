"""Corpus of bad and edge-case inputs for load_transactions and exporter_dynamics.

Each case builds one input (a frame or a file in the real format), calls the public function
and asserts either the typed error with a message naming the culprit (file, column, row or
cell) or the correct value. The customs examples of issue 11 are the first cases.
"""

from __future__ import annotations

import gzip
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from msme_stats.errors import (
    EmptyInputError,
    InvalidValueError,
    MissingColumnsError,
    MsmeStatsError,
    OptionError,
    UnreadableFileError,
)
from msme_stats.indicators.dynamics import exporter_dynamics
from msme_stats.sources.customs import load_transactions

EDD = "edd"  # roles f, y, hs, d, v (and q)
DATED = {"trader": "f", "date": "dt", "product": "hs", "partner": "d", "value": "v"}
PERIOD = {"trader": "f", "period": "p", "product": "hs", "partner": "d", "value": "v"}
CANON = {c: c for c in ("trader", "period", "product", "partner", "value")}


def frame(**cols: Any) -> pd.DataFrame:
    """A two-row EDD-style frame; keyword arguments replace whole columns."""
    base: dict[str, Any] = {"f": ["a", "b"], "y": [2001, 2002], "hs": ["010121", "847130"],
                            "d": ["US", "FR"], "v": [1.0, 2.0]}
    base.update(cols)
    return pd.DataFrame(base)


def dated(dt: list[str]) -> pd.DataFrame:
    return frame(dt=dt).drop(columns="y")


def csv_text(rows: list[str], header: str = "f,y,hs,d,v") -> str:
    return "\n".join([header, *rows]) + "\n"


GOOD_ROWS = ["a,2001,010121,US,1.5", "b,2001,847130,FR,2.5", "c,2002,847130,FR,3"]


@dataclass
class Case:
    id: str
    make: Any  # () -> source, or (tmp_path) -> source when ``file`` is true
    roles: Any = EDD
    kwargs: dict[str, Any] = field(default_factory=dict)
    error: type[Exception] | None = None
    match: str | None = None  # regex the message must match (names the culprit)
    column: str | None = None  # or: expected values of this output column
    expect: list[Any] | None = None
    file: bool = False
    call: str = "load"  # "load" or "dynamics"


def write(name: str, text: str | bytes):
    def make(tmp_path: Path) -> Path:
        path = tmp_path / name
        if isinstance(text, bytes):
            path.write_bytes(text)
        elif name.endswith(".gz"):
            path.write_bytes(gzip.compress(text.encode()))
        elif name.endswith(".zip"):
            with zipfile.ZipFile(path, "w") as zf:
                zf.writestr(name[:-4], text)
        else:
            path.write_text(text)
        return path
    return make


def truncated_gz(tmp_path: Path) -> Path:
    rows = [f"t{i},2001,010121,US,{i}.5" for i in range(20_000)]
    data = gzip.compress(csv_text(rows).encode())
    path = tmp_path / "cut.csv.gz"
    path.write_bytes(data[: len(data) // 2])
    return path


def parquet(df: pd.DataFrame, name: str = "tx.parquet"):
    def make(tmp_path: Path) -> Path:
        path = tmp_path / name
        df.to_parquet(path, index=False)
        return path
    return make


def hive_with_bad_file(tmp_path: Path) -> Path:
    root = tmp_path / "hive"
    good = frame().drop(columns="y")
    bad = good.assign(v=[1.0, -3.0])
    for year, part in ((2001, good), (2002, bad)):
        (root / f"y={year}").mkdir(parents=True)
        part.to_parquet(root / f"y={year}" / "part-0.parquet", index=False)
    return root


def _arrow_dates(tmp_path: Path, kind: str) -> Path:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    if kind == "date32":
        dates = pa.array([dt.date(2021, 3, 1), dt.date(2021, 4, 2)])
    else:
        dates = pa.array([dt.datetime(2021, 3, 1, 5), dt.datetime(2021, 4, 2)], pa.timestamp("us", tz="UTC"))
    table = pa.table({"f": ["a", "b"], "dt": dates, "hs": ["010121", "847130"], "d": ["US", "FR"], "v": [1.0, 2.0]})
    path = tmp_path / f"{kind}.parquet"
    pq.write_table(table, path)
    return path


CASES = [
    # --- issue 11, customs examples ---------------------------------------------------
    Case("issue11-hs-float-text", lambda: frame(hs=["10121.0", "847130"]), column="product",
         expect=["010121", "847130"]),
    Case("issue11-negative-value", lambda: frame(v=[1.0, -5.0]), error=InvalidValueError,
         match=r"column 'v' \(role value\) has 1 negative.*data row 2.*-5\.0"),
    Case("issue11-period-2021-13", lambda: frame(p=["2021-12", "2021-13"]).drop(columns="y"), roles=PERIOD,
         error=InvalidValueError, match=r"column 'p' \(role period\).*malformed period.*row 2.*'2021-13'"),
    Case("issue11-date-2021-13", lambda: dated(["2021-12-01", "2021-13"]), roles=DATED,
         error=InvalidValueError, match=r"column 'dt' \(role date\).*unparseable.*row 2.*'2021-13'"),
    Case("issue11-date-9999-12-31", lambda: dated(["2021-12-01", "9999-12-31"]), roles=DATED,
         error=InvalidValueError, match=r"column 'dt' \(role date\).*out-of-range date.*row 2.*'9999-12-31'"),
    Case("issue11-truncated-csv-gz", truncated_gz, file=True, error=UnreadableFileError,
         match=r"cut\.csv\.gz.*truncated"),
    Case("issue11-csv-extra-field", write("extra.csv", csv_text(
        [GOOD_ROWS[0], "b,2001,847130,FR,2.5,99", GOOD_ROWS[2]])), file=True, error=UnreadableFileError,
        match=r"extra\.csv: data row 2 .*6 fields but the header has 5"),
    # --- HS codes ----------------------------------------------------------------------
    Case("hs-float-dtype", lambda: frame(hs=[10121.0, 847130.0]), column="product", expect=["010121", "847130"]),
    Case("hs-float-two-decimals", lambda: frame(hs=["847130.00", "10121.00"]), column="product",
         expect=["847130", "010121"]),
    Case("hs-dotted-notation", lambda: frame(hs=["0101.21", "8471.30.00"]), column="product",
         expect=["010121", "847130"]),
    Case("hs-spaces", lambda: frame(hs=[" 84 71 30 ", "010121"]), column="product", expect=["847130", "010121"]),
    Case("hs-ambiguous-dot", lambda: frame(hs=["010121", "1012.1"]), error=InvalidValueError,
         match=r"column 'hs'.*malformed.*row 2.*'1012\.1'"),
    Case("hs-fraction-text", lambda: frame(hs=["10121.5", "010121"]), error=InvalidValueError,
         match=r"column 'hs'.*row 1.*'10121\.5'"),
    Case("hs-fraction-float", lambda: frame(hs=[10121.5, 847130.0]), error=InvalidValueError,
         match=r"column 'hs'.*non-integer.*row 1.*10121\.5"),
    Case("hs-scientific", lambda: frame(hs=["1.0121e4", "010121"]), error=InvalidValueError,
         match=r"column 'hs'.*'1\.0121e4'"),
    Case("hs-negative-int", lambda: frame(hs=[-10121, 847130]), error=InvalidValueError,
         match=r"column 'hs'.*negative.*row 1"),
    Case("hs-nullable-missing", lambda: frame(hs=pd.array([10121, None], dtype="Int64")), error=InvalidValueError,
         match=r"column 'hs'.*1 missing.*row 2"),
    Case("hs-nullable-int", lambda: frame(hs=pd.array([10121, 847130], dtype="Int64")), column="product",
         expect=["010121", "847130"]),
    Case("hs-pyarrow-int", lambda: frame(hs=pd.array([10121, 847130], dtype="int64[pyarrow]")), column="product",
         expect=["010121", "847130"]),
    Case("hs-heading-only", lambda: frame(hs=["0101", "847130"]), error=InvalidValueError,
         match=r"column 'hs'.*shorter than 6 digits.*row 1.*'0101'"),
    Case("hs-ten-digits-int", lambda: frame(hs=[8471300000, 101210]), column="product", expect=["847130", "101210"]),
    Case("hs-letters", lambda: frame(hs=["84A130", "010121"]), error=InvalidValueError, match=r"'hs'.*'84A130'"),
    # --- values ------------------------------------------------------------------------
    Case("value-inf", lambda: frame(v=[1.0, np.inf]), error=InvalidValueError, match=r"column 'v'.*infinite.*row 2"),
    Case("value-nan", lambda: frame(v=[np.nan, 1.0]), error=InvalidValueError, match=r"column 'v'.*missing.*row 1"),
    Case("value-percent-text", lambda: frame(v=["12%", "3"]), error=InvalidValueError,
         match=r"column 'v'.*non-numeric.*row 1.*'12%'"),
    Case("value-text-number", lambda: frame(v=["1.5", "3"]), column="value", expect=[1.5, 3.0]),
    Case("quantity-negative", lambda: frame(q=[1.0, -2.0]), roles={"trader": "f", "year": "y", "product": "hs",
         "partner": "d", "value": "v", "quantity": "q"}, error=InvalidValueError, match=r"column 'q'.*negative.*row 2"),
    Case("quantity-text", lambda: frame(q=["1", "kg"]), roles={"trader": "f", "year": "y", "product": "hs",
         "partner": "d", "value": "v", "quantity": "q"}, error=InvalidValueError, match=r"column 'q'.*'kg'"),
    # --- periods -----------------------------------------------------------------------
    Case("year-9999", lambda: frame(y=[2001, 9999]), error=InvalidValueError,
         match=r"column 'y' \(role year\).*out-of-range year.*row 2.*9999"),
    Case("year-fraction", lambda: frame(y=[2001.5, 2002.0]), error=InvalidValueError,
         match=r"column 'y'.*non-integer.*row 1"),
    Case("year-typo", lambda: frame(y=["2001", "20O1"]), error=InvalidValueError, match=r"column 'y'.*'20O1'"),
    Case("year-float-whole", lambda: frame(y=[2001.0, 2002.0]), column="period", expect=[2001, 2002]),
    Case("year-range-option", lambda: frame(y=[1850, 1851]), kwargs={"valid_years": (1800, 1900)},
         column="period", expect=[1850, 1851]),
    Case("date-feb-30", lambda: dated(["2021-02-30", "2021-03-01"]), roles=DATED, error=InvalidValueError,
         match=r"column 'dt'.*unparseable.*row 1.*'2021-02-30'"),
    Case("date-1850", lambda: dated(["1850-01-01", "2021-03-01"]), roles=DATED, error=InvalidValueError,
         match=r"column 'dt'.*out-of-range date.*row 1"),
    Case("date-month-labels", lambda: dated(["2021-02-03", "2021-12-31"]), roles=DATED, kwargs={"period": "month"},
         column="period", expect=["2021-02", "2021-12"]),
    Case("period-q5", lambda: frame(p=["2021Q4", "2021Q5"]).drop(columns="y"), roles=PERIOD,
         error=InvalidValueError, match=r"column 'p'.*malformed period.*'2021Q5'"),
    Case("period-int-five-digits", lambda: frame(p=[2021, 20211]).drop(columns="y"), roles=PERIOD,
         error=InvalidValueError, match=r"column 'p'.*malformed period.*row 2"),
    Case("bad-valid-years-option", lambda: frame(), kwargs={"valid_years": (2100, 1900)}, error=OptionError,
         match=r"valid_years"),
    # --- ids ---------------------------------------------------------------------------
    Case("trader-missing", lambda: frame(f=["a", None]), error=InvalidValueError, match=r"column 'f'.*missing.*row 2"),
    Case("trader-blank", lambda: frame(f=["a", "  "]), error=InvalidValueError, match=r"column 'f'.*missing.*row 2"),
    Case("trader-float-ids", lambda: frame(f=[123.0, 4567890123.0]), column="trader", expect=["123", "4567890123"]),
    Case("trader-fraction", lambda: frame(f=[123.5, 4.0]), error=InvalidValueError, match=r"column 'f'.*non-integer"),
    Case("trader-big-int", lambda: frame(f=[2**60 + 1, 7]), column="trader", expect=[str(2**60 + 1), "7"]),
    Case("partner-trim-upper", lambda: frame(d=[" us ", "fr"]), column="partner", expect=["US", "FR"]),
    Case("partner-empty", lambda: frame(d=["US", ""]), error=InvalidValueError, match=r"column 'd'.*missing.*row 2"),
    Case("missing-column", lambda: frame().drop(columns="d"), error=MissingColumnsError, match=r"column\(s\) 'd'"),
    # --- files -------------------------------------------------------------------------
    Case("csv-missing-field", write("short.csv", csv_text([GOOD_ROWS[0], "b,2001,847130,FR", GOOD_ROWS[2]])),
         file=True, error=UnreadableFileError, match=r"short\.csv: data row 2 .*4 fields but the header has 5"),
    Case("csv-zip-extra-field", write("z.csv.zip", csv_text([GOOD_ROWS[0], GOOD_ROWS[1] + ",x"])), file=True,
         error=UnreadableFileError, match=r"z\.csv\.zip.*row 2"),
    Case("csv-gz-good", write("g.csv.gz", csv_text(GOOD_ROWS)), file=True, column="value", expect=[1.5, 2.5, 3.0]),
    Case("csv-hs-float", write("f.csv", csv_text(["a,2001,10121.0,US,1", "b,2001,847130,FR,2"])), file=True,
         column="product", expect=["010121", "847130"]),
    Case("csv-value-text", write("t.csv", csv_text([GOOD_ROWS[0], "b,2001,847130,FR,abc"])), file=True,
         error=InvalidValueError, match=r"t\.csv: column 'v'.*row 2.*'abc'"),
    Case("csv-empty-file", write("e.csv", ""), file=True, error=EmptyInputError, match=r"e\.csv.*empty"),
    Case("csv-header-only", write("h.csv", "f,y,hs,d,v\n"), file=True, error=EmptyInputError,
         match=r"h\.csv.*no transaction rows"),
    Case("csv-not-utf8", write("l.csv", "f,y,hs,d,v\n\xe9t\xe9,2001,010121,US,1\n".encode("latin-1")), file=True,
         error=UnreadableFileError, match=r"l\.csv: is not UTF-8"),
    Case("parquet-negative", parquet(frame(v=[1.0, -1.0])), file=True, error=InvalidValueError,
         match=r"tx\.parquet: column 'v'.*negative.*row 2"),
    Case("parquet-corrupt", write("junk.parquet", b"PAR1 this is not parquet"), file=True,
         error=UnreadableFileError, match=r"junk\.parquet"),
    Case("parquet-float-hs", parquet(frame(hs=[10121.0, 847130.0])), file=True, column="product",
         expect=["010121", "847130"]),
    Case("hive-bad-file-named", hive_with_bad_file, file=True,
         roles={"trader": "f", "year": "y", "product": "hs", "partner": "d", "value": "v"},
         error=InvalidValueError, match=r"y=2002.part-0\.parquet: column 'v'.*negative"),
    Case("unknown-extension", write("tx.xlsx", "x"), file=True, error=UnreadableFileError, match=r"tx\.xlsx.*unknown"),
    Case("folder-without-parquet", lambda tmp_path: tmp_path, file=True, error=EmptyInputError,
         match=r"no Parquet file"),
    Case("parquet-empty", parquet(frame().iloc[:0]), file=True, error=EmptyInputError,
         match=r"tx\.parquet: no transaction rows"),
    Case("parquet-date32-months", lambda tmp_path: _arrow_dates(tmp_path, "date32"), file=True, roles=DATED,
         kwargs={"period": "month"}, column="period", expect=["2021-03", "2021-04"]),
    Case("parquet-timestamp-tz-quarters", lambda tmp_path: _arrow_dates(tmp_path, "timestamp"), file=True,
         roles=DATED, kwargs={"period": "quarter"}, column="period", expect=["2021Q1", "2021Q2"]),
    # --- exporter_dynamics on canonical frames ----------------------------------------
    Case("dyn-canonical-negative", lambda: frame(v=[1.0, -1.0]).rename(
        columns={"f": "trader", "y": "period", "hs": "product", "d": "partner", "v": "value"}),
        call="dynamics", error=InvalidValueError, match=r"'value'.*negative"),
    Case("dyn-canonical-bad-period", lambda: frame(y=["2021-12", "2021-13"]).rename(
        columns={"f": "trader", "y": "period", "hs": "product", "d": "partner", "v": "value"}),
        call="dynamics", error=InvalidValueError, match=r"'period'.*'2021-13'"),
    Case("dyn-not-canonical", lambda: frame(), call="dynamics", error=MissingColumnsError,
         match=r"'trader'"),
    Case("dyn-csv-extra-field", write("x.csv", csv_text([GOOD_ROWS[0], GOOD_ROWS[1] + ",7"])), file=True,
         call="dynamics", error=UnreadableFileError, match=r"x\.csv: data row 2"),
    Case("dyn-bad-source-type", lambda: 42, call="dynamics", error=OptionError, match=r"int"),
]


def _run(case: Case, tmp_path: Path) -> Any:
    source = case.make(tmp_path) if case.file else case.make()
    if case.call == "dynamics":
        roles = case.roles if case.file else None
        return exporter_dynamics(source, roles=roles, **case.kwargs)
    return load_transactions(source, roles=case.roles, **case.kwargs)


def test_corpus_is_large_enough():
    assert len(CASES) >= 30
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_corpus(case: Case, tmp_path: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if case.error is not None:
            with pytest.raises(case.error, match=case.match) as info:
                _run(case, tmp_path)
            assert isinstance(info.value, MsmeStatsError)
            return
        out = _run(case, tmp_path)
    got = out[case.column].tolist()
    got = [str(g) if case.column in ("trader", "product", "partner") else g for g in got]
    assert got == case.expect


def test_dynamics_same_for_integer_and_string_codes():
    """Integer-coded transactions (HS codes that lost their zero) give the string-coded results."""
    from msme_stats.samples.transactions import synthetic_transactions

    s = synthetic_transactions(20_000, n_traders=300, years=(2001, 2005), seed=3)
    i = synthetic_transactions(20_000, n_traders=300, years=(2001, 2005), seed=3, codes="int")
    assert (i["product"] < 100_000).any()  # some codes lost their leading zero
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = exporter_dynamics(load_transactions(s, roles=CANON))
        b = exporter_dynamics(load_transactions(i, roles=CANON))
        c = exporter_dynamics(i)  # a canonical frame of integer codes, validated per value
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, c)
