"""Read the single declaration of the raw Kaggle format: ``warehouse/raw_columns.json``."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

RAW_COLUMNS_FILE = Path(__file__).resolve().parent / "raw_columns.json"

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


def duckdb_columns_literal(table: str) -> str:
    """The ``columns = {...}`` struct literal of DuckDB's ``read_csv`` for ``table``."""
    inner = ", ".join(f"'{c}': '{t}'" for c, t in columns_of(table))
    return "{" + inner + "}"
