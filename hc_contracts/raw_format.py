"""The raw Kaggle format, declared once (``raw_columns.json`` beside this module), and its one CSV reader.

``raw_columns.json`` holds, for each of the eight Kaggle tables, the ordered list of ``[column, duckdb_type]``
(``BIGINT``, ``DOUBLE``, ``VARCHAR``). The warehouse derives its dbt sources and staging models from it and
loads the CSVs with :func:`read_csv_sql`; the synthetic generator writes these headers; the API's schema of a
posted application accepts these fields; monitoring names the raw application columns from it.

Reading a raw CSV: :func:`read_csv_sql` is the DuckDB ``read_csv(...)`` expression of a table with the
declared types (never DuckDB's guesses); :func:`read_raw_csv` reads one file into a typed DataFrame and
raises :class:`RawFormatError` naming the file, the column, the bad value and the expected form.
"""

from __future__ import annotations

import csv
import json
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

if TYPE_CHECKING:  # pandas only for the annotation: importing it costs the warehouse build ~0.3 s before its load starts
    import pandas as pd

RAW_COLUMNS_FILE = Path(__file__).resolve().with_name("raw_columns.json")

# Kaggle table names, in the order the build loads and reports them.
TABLES: tuple[str, ...] = (
    "application_train",
    "application_test",
    "bureau",
    "bureau_balance",
    "previous_application",
    "POS_CASH_balance",
    "installments_payments",
    "credit_card_balance",
)
APPLICATION_TABLES: tuple[str, ...] = ("application_train", "application_test")
HISTORY_TABLES: tuple[str, ...] = TABLES[2:]
TYPE_WORDS = {"BIGINT": "an integer (BIGINT)", "DOUBLE": "a number (DOUBLE)", "VARCHAR": "text (VARCHAR)"}
_CAST_VALUE = re.compile(r'Could not convert string "(?P<value>.*)" to', re.S)


class RawFormatError(ValueError):
    """A raw CSV does not follow the declared format (the message names the file, column and expected form)."""


@cache
def raw_columns() -> dict[str, tuple[tuple[str, str], ...]]:
    """``{kaggle_table: ((COLUMN, DUCKDB_TYPE), ...)}`` in Kaggle's column order."""
    data = json.loads(RAW_COLUMNS_FILE.read_text(encoding="utf-8"))
    return {table: tuple((str(c), str(t).upper()) for c, t in cols) for table, cols in data.items()}


def columns_of(table: str) -> tuple[tuple[str, str], ...]:
    try:
        return raw_columns()[table]
    except KeyError as exc:
        raise KeyError(f"unknown raw table {table!r}; expected one of {', '.join(TABLES)}") from exc


def column_names(table: str) -> list[str]:
    return [c for c, _ in columns_of(table)]


def column_types(table: str) -> dict[str, str]:
    return dict(columns_of(table))


def csv_name(table: str) -> str:
    """The Kaggle file name of ``table`` (``bureau`` -> ``bureau.csv``)."""
    return f"{table}.csv"


def csv_path(raw_dir: Path, table: str) -> Path:
    return Path(raw_dir) / csv_name(table)


def duckdb_columns_literal(table: str) -> str:
    """The ``columns = {...}`` struct literal of DuckDB's ``read_csv`` for ``table``."""
    inner = ", ".join(f"'{c}': '{t}'" for c, t in columns_of(table))
    return "{" + inner + "}"


def read_csv_sql(table: str, source: str = "?", options: str = "") -> str:
    """The DuckDB expression reading a raw CSV of ``table`` with the declared header and types.

    ``source`` is a SQL string literal or ``?`` (a bound parameter); ``options`` adds ``read_csv`` options
    (e.g. ``store_rejects = true, ...``). An empty field is NULL; a header-only file gives typed empty columns.
    """
    extra = f", {options}" if options else ""
    return (f"read_csv({source}, header = true, auto_detect = false, "
            f"columns = {duckdb_columns_literal(table)}{extra})")


def read_header(path: Path) -> list[str] | None:
    """The column names of the first line (only that line is read and decoded)."""
    with Path(path).open("rb") as fh:
        first = fh.readline(1_000_000)
    if not first:
        return None
    text = first.decode("utf-8-sig").rstrip("\r\n")
    return next(csv.reader([text]), None)


def check_header(path: Path, table: str) -> None:
    """``RawFormatError`` unless the first line of ``path`` is exactly the declared header of ``table``."""
    expected = column_names(table)
    try:
        header = read_header(path)
    except FileNotFoundError as exc:
        raise RawFormatError(f"{path}: file not found (expected the Kaggle file {csv_name(table)})") from exc
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RawFormatError(f"{path}: cannot read the header line (line 1): {exc}") from exc
    if not header:
        raise RawFormatError(f"{path}: empty file: expected a header line of {len(expected)} columns")
    header = [h.strip() for h in header]
    if header == expected:
        return
    missing = [c for c in expected if c not in header]
    unexpected = [c for c in header if c not in expected]
    parts = [f"missing column(s) {', '.join(missing)}"] if missing else []
    parts += [f"unexpected column(s) {', '.join(unexpected)}"] if unexpected else []
    if not parts:
        parts = ["columns out of order or repeated"]
    raise RawFormatError(f"{path}: {'; '.join(parts)}; expected the header of {table} in {RAW_COLUMNS_FILE.name}: "
                         f"{','.join(expected)}")


def read_raw_csv(path: Path, table: str, *, sample_rows: int = 0, seed: int = 7,
                 connection: duckdb.DuckDBPyConnection | None = None) -> pd.DataFrame:
    """One raw CSV of ``table`` as a DataFrame typed by the declared format (BIGINT -> Int64 / int64,
    DOUBLE -> float64, VARCHAR -> str); ``sample_rows`` > 0 takes a repeatable reservoir sample.

    ``RawFormatError`` names the file and the header problem, or the first value that is not of its column's
    type (line, column, value, expected form)."""
    path = Path(path)
    check_header(path, table)
    con = connection or duckdb.connect()
    try:
        sample = f" using sample reservoir({int(sample_rows)} rows) repeatable ({int(seed)})" if sample_rows else ""
        rejects, scans = f"hc_rejects_{table.lower()}", f"hc_reject_scans_{table.lower()}"
        options = f"store_rejects = true, rejects_table = '{rejects}', rejects_scan = '{scans}', rejects_limit = 10"
        try:
            frame = con.execute(f"select * from {read_csv_sql(table, '?', options)}{sample}", [str(path)]).df()
        except duckdb.Error as exc:
            raise RawFormatError(f"{path}: the CSV parser rejected the file ({str(exc).splitlines()[0]}); expected "
                                 f"comma-separated UTF-8 text with the columns of {table}") from exc
        bad = con.execute(f"select column_name, error_type, line, error_message from {rejects} order by line "
                          "limit 1").fetchone()
        con.execute(f"drop table if exists {rejects}")
        con.execute(f"drop table if exists {scans}")
    finally:
        if connection is None:
            con.close()
    if bad is not None:
        column, error_type, line, message = bad
        types = column_types(table)
        if error_type == "CAST" and column in types:
            match = _CAST_VALUE.search(message or "")
            value = match.group("value") if match else "?"
            raise RawFormatError(f"{path}, column {column}: value {value!r} on line {line} is not "
                                 f"{TYPE_WORDS.get(types[column], types[column])}")
        raise RawFormatError(f"{path}: line {line}: {str(error_type).lower()}: {message}")
    return frame
