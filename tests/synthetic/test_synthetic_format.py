"""The generated CSVs look exactly like Kaggle's: names, headers, column order, value formats."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthetic.schema import GROUND_TRUTH_FILE, MARKER_FILE, TABLES, csv_name, raw_columns

INT_RE = re.compile(r"^-?\d+$")
FLOAT_RE = re.compile(r"^-?(\d+\.\d+|\d+(\.\d+)?e[+-]\d+)$")


def _header(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as fh:
        return next(csv.reader(fh))


def test_all_files_and_marker_are_written(synthetic_dir: Path) -> None:
    names = {p.name for p in synthetic_dir.iterdir()}
    assert {csv_name(t) for t in TABLES} | {GROUND_TRUTH_FILE, MARKER_FILE} == names


@pytest.mark.real_data
@pytest.mark.parametrize("table", TABLES)
def test_headers_equal_the_real_sample(synthetic_dir: Path, real_sample_dir: Path, table: str) -> None:
    assert _header(synthetic_dir / csv_name(table)) == _header(real_sample_dir / csv_name(table))


@pytest.mark.parametrize("table", TABLES)
def test_headers_follow_raw_columns(synthetic_dir: Path, table: str) -> None:
    assert _header(synthetic_dir / csv_name(table)) == [c for c, _ in raw_columns()[table]]


@pytest.mark.parametrize("table", TABLES)
def test_value_formats_follow_the_declared_types(synthetic_dir: Path, table: str) -> None:
    """BIGINT columns hold integers (never ``1.0``), DOUBLE columns hold floats written like pandas
    (``202500.0``), missing values are empty fields."""
    path = synthetic_dir / csv_name(table)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        rows = [r for _, r in zip(range(3000), reader, strict=False)]
    assert rows, f"{table} has no rows"
    types = dict(raw_columns()[table])
    for j, name in enumerate(header):
        values = [r[j] for r in rows if r[j] != ""]
        if types[name] == "BIGINT":
            bad = [v for v in values if not INT_RE.match(v)]
        elif types[name] == "DOUBLE":
            bad = [v for v in values if not FLOAT_RE.match(v)]
        else:
            bad = [v for v in values if v != v.strip() or v in ("nan", "None", "NaN")]
        assert not bad, f"{table}.{name} ({types[name]}): unexpected values {bad[:5]}"


@pytest.mark.parametrize(
    "table", ["application_train", "bureau", "previous_application", "credit_card_balance"]
)
def test_bytes_equal_what_pandas_writes(synthetic_dir: Path, table: str) -> None:
    """Reading a file with pandas and writing it back with ``to_csv`` gives the same bytes: the
    floats, integers, empty fields and quoting are those of the Kaggle (pandas-written) files."""
    raw = (synthetic_dir / csv_name(table)).read_bytes()
    head = b"".join(io.BytesIO(raw).readlines()[:2001])
    df = pd.read_csv(io.BytesIO(head), keep_default_na=False, na_values=[""], float_precision="round_trip")
    assert df.to_csv(index=False, lineterminator="\n").encode() == head


def test_kaggle_codes_and_spellings(synthetic_dir: Path) -> None:
    app = pd.read_csv(synthetic_dir / "application_train.csv")
    assert set(app["FLAG_OWN_CAR"]) == {"Y", "N"}
    assert set(app["NAME_CONTRACT_TYPE"]) <= {"Cash loans", "Revolving loans"}
    assert "XNA" in set(app["ORGANIZATION_TYPE"])
    assert "Stone, brick" in set(app["WALLSMATERIAL_MODE"].dropna())
    pension = app["DAYS_EMPLOYED"] == 365243
    assert 0.12 < pension.mean() < 0.25
    assert (app.loc[pension, "NAME_INCOME_TYPE"].isin(["Pensioner", "Unemployed"])).mean() > 0.95
    prev = pd.read_csv(synthetic_dir / "previous_application.csv")
    assert {"XAP", "XNA"} <= set(prev["NAME_CASH_LOAN_PURPOSE"])
    assert "XAP" in set(prev["CODE_REJECT_REASON"])
    assert (prev["DAYS_FIRST_DRAWING"] == 365243).any()
    assert set(prev["FLAG_LAST_APPL_PER_CONTRACT"]) <= {"Y", "N"}
    bb = pd.read_csv(synthetic_dir / "bureau_balance.csv", dtype={"STATUS": str})
    assert set(bb["STATUS"]) <= set("CX012345")
    assert {"C", "X", "0", "1"} <= set(bb["STATUS"])


@pytest.mark.real_data
@pytest.mark.parametrize("table", [t for t in TABLES if t != "application_test"])
def test_category_levels_are_real_levels(synthetic_dir: Path, real_marginals_dir: Path, table: str) -> None:
    types = dict(raw_columns()[table])
    text_cols = [c for c, t in types.items() if t == "VARCHAR"]
    gen = pd.read_csv(synthetic_dir / csv_name(table), usecols=text_cols, dtype=str)
    real = pd.read_csv(real_marginals_dir / csv_name(table), usecols=text_cols, dtype=str)
    for c in text_cols:
        extra = set(gen[c].dropna()) - set(real[c].dropna())
        assert not extra, f"{table}.{c}: levels not in the real data: {sorted(extra)[:5]}"


def test_ground_truth_covers_every_applicant(synthetic_dir: Path) -> None:
    gt = pd.read_csv(synthetic_dir / GROUND_TRUTH_FILE)
    assert list(gt.columns) == ["SK_ID_CURR", "DEFAULT_PROBABILITY"]
    train = pd.read_csv(synthetic_dir / "application_train.csv", usecols=["SK_ID_CURR"])
    test = pd.read_csv(synthetic_dir / "application_test.csv", usecols=["SK_ID_CURR"])
    ids = np.sort(np.concatenate([train.SK_ID_CURR, test.SK_ID_CURR]))
    assert np.array_equal(np.sort(gt.SK_ID_CURR.to_numpy()), ids)
    assert gt.DEFAULT_PROBABILITY.between(0, 1, inclusive="neither").all()


@pytest.mark.parametrize("table", TABLES)
def test_integer_columns_are_never_empty(synthetic_dir: Path, table: str) -> None:
    """As in Kaggle's files, every BIGINT column is filled (missing values only occur in floats/text)."""
    ints = [c for c, t in raw_columns()[table] if t == "BIGINT"]
    df = pd.read_csv(synthetic_dir / csv_name(table), usecols=ints)
    assert not df.isna().any().any(), df.columns[df.isna().any()].tolist()
