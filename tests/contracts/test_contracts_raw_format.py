"""The raw format contract: one declaration, one reader; bad files named with the column and expected form."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hc_contracts.raw_format import (
    RAW_COLUMNS_FILE,
    TABLES,
    RawFormatError,
    column_names,
    column_types,
    columns_of,
    read_csv_sql,
    read_raw_csv,
)


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return path


def _bureau_row(**values: str) -> list[str]:
    return [values.get(c, "") for c in column_names("bureau")]


def test_the_declaration_covers_the_eight_kaggle_tables_with_known_types() -> None:
    declared = json.loads(RAW_COLUMNS_FILE.read_text())
    assert set(declared) == set(TABLES) and len(TABLES) == 8
    assert {t for table in TABLES for _, t in columns_of(table)} == {"BIGINT", "DOUBLE", "VARCHAR"}
    assert column_names("application_train")[:2] == ["SK_ID_CURR", "TARGET"]
    assert column_types("bureau")["CREDIT_ACTIVE"] == "VARCHAR" and column_types("bureau")["SK_ID_BUREAU"] == "BIGINT"
    with pytest.raises(KeyError, match="unknown raw table 'nope'; expected one of application_train"):
        columns_of("nope")
    assert read_csv_sql("bureau", "?").startswith("read_csv(?, header = true, auto_detect = false, columns = {")


def test_a_valid_file_is_read_with_the_declared_types(tmp_path: Path) -> None:
    path = _write(tmp_path / "bureau.csv", column_names("bureau"), [
        _bureau_row(SK_ID_CURR="100002", SK_ID_BUREAU="6158904", CREDIT_ACTIVE="Closed", DAYS_CREDIT="-1437",
                    AMT_CREDIT_SUM="91323.0"),
        _bureau_row(SK_ID_CURR="100002", SK_ID_BUREAU="6158905", CREDIT_ACTIVE='"Active, sold"', DAYS_CREDIT="-5")])
    frame = read_raw_csv(path, "bureau")
    assert list(frame.columns) == column_names("bureau") and len(frame) == 2
    assert frame["CREDIT_ACTIVE"].tolist() == ["Closed", "Active, sold"]
    assert frame["AMT_CREDIT_SUM"].iloc[0] == 91323.0 and pd.isna(frame["AMT_CREDIT_SUM"].iloc[1])
    assert pd.api.types.is_integer_dtype(frame["SK_ID_BUREAU"])
    empty = read_raw_csv(_write(tmp_path / "empty.csv", column_names("bureau"), []), "bureau")
    assert empty.empty and pd.api.types.is_float_dtype(empty["AMT_CREDIT_SUM"])  # typed even without rows


def test_a_bad_value_names_the_file_line_column_and_expected_type(tmp_path: Path) -> None:
    path = _write(tmp_path / "bureau.csv", column_names("bureau"), [
        _bureau_row(SK_ID_CURR="100002", SK_ID_BUREAU="1", DAYS_CREDIT="-10"),
        _bureau_row(SK_ID_CURR="100002", SK_ID_BUREAU="2", DAYS_CREDIT="ten days ago")])
    with pytest.raises(RawFormatError) as err:
        read_raw_csv(path, "bureau")
    assert str(err.value) == (f"{path}, column DAYS_CREDIT: value 'ten days ago' on line 3 is not "
                              "an integer (BIGINT)")


def test_a_wrong_header_names_the_file_and_the_columns(tmp_path: Path) -> None:
    header = column_names("bureau")
    renamed = ["DAYS_CREDIT_X" if c == "DAYS_CREDIT" else c for c in header]
    path = _write(tmp_path / "bureau.csv", renamed, [])
    with pytest.raises(RawFormatError, match=r"bureau\.csv: missing column\(s\) DAYS_CREDIT; unexpected column\(s\) "
                                             r"DAYS_CREDIT_X; expected the header of bureau in raw_columns\.json: "
                                             r"SK_ID_CURR,SK_ID_BUREAU,"):
        read_raw_csv(path, "bureau")
    swapped = [header[1], header[0], *header[2:]]
    with pytest.raises(RawFormatError, match="columns out of order"):
        read_raw_csv(_write(tmp_path / "b2.csv", swapped, []), "bureau")
    (tmp_path / "b3.csv").write_text("")
    with pytest.raises(RawFormatError, match=r"b3\.csv: empty file: expected a header line of \d+ columns"):
        read_raw_csv(tmp_path / "b3.csv", "bureau")
    with pytest.raises(RawFormatError, match=r"absent\.csv: file not found \(expected the Kaggle file bureau\.csv\)"):
        read_raw_csv(tmp_path / "absent.csv", "bureau")
