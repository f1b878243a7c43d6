"""Bad raw input stops the build with an error naming the file and column; the previous file survives."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from wh_fixture_data import build, write_csvs

from hc_contracts.raw_format import TABLES
from warehouse.build import WarehouseBuildError
from warehouse.raw_validation import (
    RawDataError,
    check_files_and_headers,
    validate_and_load,
    validate_and_load_tables,
)


@pytest.fixture()
def raw_dir(tmp_path, fixture_tables) -> Path:
    return write_csvs(tmp_path / "raw", fixture_tables)


@pytest.fixture()
def previous_warehouse(tmp_path, fixture_warehouse) -> Path:
    """A copy of a good, previously built warehouse at the HC_WAREHOUSE the failing build targets."""
    path = tmp_path / "out" / "warehouse.duckdb"
    path.parent.mkdir()
    shutil.copy2(fixture_warehouse.path, path)
    return path


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _assert_intact(path: Path, digest: str) -> None:
    assert _digest(path) == digest
    with duckdb.connect(str(path), read_only=True) as con:
        assert con.sql("select count(*) from applicant_features").fetchall()[0][0] > 0
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left behind


def _rewrite(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def _fail(raw_dir: Path, warehouse: Path) -> str:
    with pytest.raises(WarehouseBuildError) as info:
        build(raw_dir, warehouse)
    return str(info.value)


def test_missing_file(raw_dir, previous_warehouse):
    digest = _digest(previous_warehouse)
    (raw_dir / "bureau_balance.csv").unlink()
    message = _fail(raw_dir, previous_warehouse)
    assert "bureau_balance.csv" in message and "file missing" in message
    assert "previous warehouse" in message and "unchanged" in message
    _assert_intact(previous_warehouse, digest)


def test_missing_and_renamed_columns(raw_dir, previous_warehouse):
    digest = _digest(previous_warehouse)
    _rewrite(raw_dir / "bureau.csv", "AMT_CREDIT_SUM_DEBT", "AMT_CREDIT_SUM_DEBTS")  # renamed
    header, *rest = (raw_dir / "installments_payments.csv").read_text(encoding="utf-8").splitlines()
    cols = header.split(",")
    drop = cols.index("AMT_PAYMENT")
    lines = [",".join(c for i, c in enumerate(line.split(",")) if i != drop) for line in [header, *rest]]
    (raw_dir / "installments_payments.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    message = _fail(raw_dir, previous_warehouse)
    assert "bureau.csv, column AMT_CREDIT_SUM_DEBT: missing column (found 'AMT_CREDIT_SUM_DEBTS' instead" in message
    assert "installments_payments.csv, column AMT_PAYMENT: missing column" in message
    _assert_intact(previous_warehouse, digest)


def test_text_in_a_numeric_column(raw_dir, previous_warehouse, fixture_tables):
    digest = _digest(previous_warehouse)
    bureau = fixture_tables["bureau"].copy()
    bureau.loc[2, "AMT_CREDIT_SUM"] = "12,5O0.00"  # a typo'd number, quoted by to_csv
    bureau.loc[3, "DAYS_CREDIT"] = "n/a"
    bureau.to_csv(raw_dir / "bureau.csv", index=False, na_rep="")
    message = _fail(raw_dir, previous_warehouse)
    assert "bureau.csv, column AMT_CREDIT_SUM: value '12,5O0.00' on line 4 is not a number (DOUBLE)" in message
    assert "bureau.csv, column DAYS_CREDIT: value 'n/a' on line 5 is not an integer (BIGINT)" in message
    _assert_intact(previous_warehouse, digest)


def test_duplicate_applicant_ids(raw_dir, previous_warehouse, fixture_tables):
    digest = _digest(previous_warehouse)
    train = fixture_tables["application_train"]
    dup_id = int(train.SK_ID_CURR.iloc[5])
    train.assign(SK_ID_CURR=train.SK_ID_CURR.where(train.index != 6, dup_id)).to_csv(
        raw_dir / "application_train.csv", index=False, na_rep="")
    test = fixture_tables["application_test"]
    shared = int(train.SK_ID_CURR.iloc[0])
    test.assign(SK_ID_CURR=test.SK_ID_CURR.where(test.index != 0, shared)).to_csv(
        raw_dir / "application_test.csv", index=False, na_rep="")
    message = _fail(raw_dir, previous_warehouse)
    assert f"application_train.csv, column SK_ID_CURR: duplicate id {dup_id} (2 rows)" in message
    assert f"id {shared} is in both files" in message
    _assert_intact(previous_warehouse, digest)


def test_failing_data_test_names_the_test_column_and_value(raw_dir, previous_warehouse, fixture_tables):
    """Values that parse but break a data test (EXT_SOURCE outside [0, 1]) fail in dbt, clearly."""
    digest = _digest(previous_warehouse)
    train = fixture_tables["application_train"].copy()
    train.loc[4, "EXT_SOURCE_2"] = 1.75
    train.to_csv(raw_dir / "application_train.csv", index=False, na_rep="")
    # composite keys repeated: monthly balances twice (a month of the fixture's, one in the low half of the months
    # counted as bits, one older than the bits' range), one POS month three times (with a NULL month)
    balance = fixture_tables["bureau_balance"]
    bb_id, bb_month = (int(v) for v in balance.iloc[3][["SK_ID_BUREAU", "MONTHS_BALANCE"]])
    old = balance.iloc[[5, 5, 6, 6]].assign(MONTHS_BALANCE=[-100, -100, -200, -200])
    pd.concat([balance, balance.iloc[[3]], old]).to_csv(raw_dir / "bureau_balance.csv", index=False, na_rep="")
    old_ids = [int(v) for v in balance.SK_ID_BUREAU.iloc[[5, 6]]]
    pos = fixture_tables["POS_CASH_balance"].copy()
    pos.loc[pos.index[:3], ["SK_ID_PREV", "MONTHS_BALANCE"]] = [int(pos.SK_ID_PREV.iloc[0]), None]
    pos.to_csv(raw_dir / "POS_CASH_balance.csv", index=False, na_rep="")
    message = _fail(raw_dir, previous_warehouse)
    assert "dbt build failed" in message and "columns_between_stg_application_train" in message
    assert "'column_name': 'ext_source_2', 'offending_value': 1.75" in message
    assert f"{{'sk_id_bureau': {bb_id}, 'months_balance': {bb_month}, 'n_rows': 2}}" in message
    assert f"{{'sk_id_bureau': {old_ids[0]}, 'months_balance': -100, 'n_rows': 2}}" in message
    assert f"{{'sk_id_bureau': {old_ids[1]}, 'months_balance': -200, 'n_rows': 2}}" in message
    assert f"{{'sk_id_prev': {int(pos.SK_ID_PREV.iloc[0])}, 'months_balance': None, 'n_rows': 3}}" in message
    assert message.count("offending row of unique_combination_of_columns_") == 4  # no false duplicate
    _assert_intact(previous_warehouse, digest)


def test_header_checks_report_every_file(tmp_path):
    problems = check_files_and_headers(tmp_path / "nowhere")
    assert "folder not found" in str(problems[0])
    empty = tmp_path / "empty"
    empty.mkdir()
    assert len(check_files_and_headers(empty)) == 8  # each of the eight files is named


def test_header_only_files_load_with_declared_types(tmp_path, fixture_tables):
    """Kaggle's empty tables (a header, no rows) load with the declared types, not DuckDB's VARCHAR guess."""
    empty = {name: frame.iloc[0:0] for name, frame in fixture_tables.items()}
    raw_dir = write_csvs(tmp_path / "raw", empty)
    validate_and_load(raw_dir, tmp_path / "raw.duckdb")
    with duckdb.connect(str(tmp_path / "raw.duckdb"), read_only=True) as con:
        types = dict(con.sql("select column_name, data_type from duckdb_columns() "
                             "where table_name = 'previous_application'").fetchall())
    assert types["AMT_CREDIT"] == "DOUBLE" and types["SK_ID_PREV"] == "BIGINT" and types["NAME_PORTFOLIO"] == "VARCHAR"


def test_per_table_load_signals_each_table_as_it_is_ready(raw_dir, tmp_path, fixture_tables):
    """What `warehouse.build` runs beside dbt: one file per table, each signalled once loaded and closed."""
    signalled: list[str] = []

    def loaded(table: str) -> None:
        with duckdb.connect(str(tmp_path / "tables" / f"{table}.duckdb"), read_only=True) as con:  # closed: readable
            signalled.append(table)
            assert con.execute(f'select count(*) from "{table}"').fetchone()[0] == len(fixture_tables[table])

    validate_and_load_tables(raw_dir, tmp_path / "tables", on_table_loaded=loaded,
                             on_problem=lambda: pytest.fail("no problem in good data"))
    assert signalled == list(TABLES)


def test_per_table_load_stops_the_readers_early_and_still_lists_every_problem(raw_dir, tmp_path):
    (raw_dir / "application_train.csv").write_text(
        (raw_dir / "application_train.csv").read_text().replace("\n", "\nnot-an-id", 1))
    lines = (raw_dir / "bureau.csv").read_text().splitlines()
    (raw_dir / "bureau.csv").write_text("\n".join(lines[:2] + ["1,2"] + lines[3:]) + "\n")
    events: list[str] = []
    with pytest.raises(RawDataError) as info:
        validate_and_load_tables(raw_dir, tmp_path / "tables", on_table_loaded=events.append,
                                 on_problem=lambda: events.append("problem"))
    assert events[0] == "problem"  # signalled at the first bad file: dbt stops instead of waiting for the rest
    assert "application_train" not in events and "bureau" not in events and "bureau_balance" in events
    message = str(info.value)
    assert "application_train.csv, column SK_ID_CURR: value 'not-an-id" in message
    assert "bureau.csv: line 3: only 2 of" in message


def test_raw_data_error_lists_problems(tmp_path):
    with pytest.raises(RawDataError) as info:
        validate_and_load(tmp_path, tmp_path / "raw.duckdb")
    assert len(info.value.problems) == 8
    assert "raw_columns.json" in str(info.value)


def test_binary_garbage_is_one_clear_line_and_the_previous_warehouse_stays(raw_dir, previous_warehouse, capsys,
                                                                           monkeypatch):
    """Issue 10, finding 3: bytes the CSV parser rejects outright gave a raw DuckDB traceback."""
    digest = _digest(previous_warehouse)
    path = raw_dir / "bureau.csv"
    lines = path.read_bytes().split(b"\n")
    cells = lines[3].split(b",")
    cells[4] = bytes(range(256)) * 4  # binary junk in the 5th field of line 4 (NULs, quotes, newlines...)
    lines[3] = b",".join(cells)
    path.write_bytes(b"\n".join(lines))
    message = _fail(raw_dir, previous_warehouse)
    assert "bureau.csv" in message and "line 4" in message and "DAYS_CREDIT" in message  # 5th column
    assert "previous warehouse" in message and "unchanged" in message
    assert "Traceback" not in message and "state machine" not in message
    _assert_intact(previous_warehouse, digest)
    # the command line: one clear error, the exit code of the other broken-file cases
    from warehouse import build as build_module

    monkeypatch.setenv("HC_RAW_DIR", str(raw_dir))
    monkeypatch.setenv("HC_WAREHOUSE", str(previous_warehouse))
    assert build_module.main(["--quiet"]) == 1
    err = capsys.readouterr().err
    assert "build failed" in err and "bureau.csv" in err and "Traceback" not in err


def test_a_truncated_line_is_reported_once(raw_dir, previous_warehouse):
    digest = _digest(previous_warehouse)
    path = raw_dir / "bureau.csv"
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[4] = ",".join(lines[4].split(",")[:5])
    path.write_text("\n".join(lines), encoding="utf-8")
    message = _fail(raw_dir, previous_warehouse)
    assert message.count("line 5") == 1, message
    assert "bureau.csv" in message and "5 of 17 fields" in message
    _assert_intact(previous_warehouse, digest)
