"""Pydantic models of the raw Kaggle records a caller may post, built from `hc_contracts/raw_columns.json`.

The field list and types are the warehouse's single declaration of the raw format; this module adds
the domain: bounds on numbers (no negative incomes, flags 0/1, normalized scores in [0, 1], ...) and the
valid codes of categorical fields (`raw_levels.json`, learned from the data by `api.schemas.levels`).
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, create_model

from api.schemas.raw_format import APPLICATION, APPLICATION_RANGES, RAW_COLUMNS, TABLES

LEVELS_FILE = Path(__file__).with_name("raw_levels.json")

# Keys that link a history record to its parent; required so that the warehouse SQL can join them.
REQUIRED_KEYS = {
    APPLICATION: {"SK_ID_CURR"},
    "bureau": {"SK_ID_BUREAU"},
    "bureau_balance": {"SK_ID_BUREAU"},
    "previous_application": {"SK_ID_PREV"},
    "POS_CASH_balance": {"SK_ID_PREV"},
    "installments_payments": {"SK_ID_PREV"},
    "credit_card_balance": {"SK_ID_PREV"},
}

# Amounts that legitimately go below zero in the Kaggle data (debts repaid in excess, reversals, ...).
SIGNED_AMOUNTS = {
    "bureau": {"AMT_CREDIT_SUM_DEBT", "AMT_CREDIT_SUM_LIMIT"},
    "previous_application": {"AMT_DOWN_PAYMENT"},
    "credit_card_balance": {
        "AMT_BALANCE",
        "AMT_DRAWINGS_ATM_CURRENT",
        "AMT_DRAWINGS_CURRENT",
        "AMT_RECEIVABLE_PRINCIPAL",
        "AMT_RECIVABLE",
        "AMT_TOTAL_RECEIVABLE",
    },
}

DAYS_NOT_APPLICABLE = 365243  # Kaggle's code for "no such date" (e.g. DAYS_EMPLOYED of pensioners)
MAX_ABS_NUMBER = 1e13
MAX_DAYS_BACK = -40_000  # about 110 years before the application

HISTORY_MAX_ROWS = {
    "bureau": 1000,
    "bureau_balance": 50_000,
    "previous_application": 1000,
    "POS_CASH_balance": 20_000,
    "installments_payments": 20_000,
    "credit_card_balance": 20_000,
}


# Keys the warehouse tests as unique in each history table (PRIMARY_KEYS of warehouse/codegen_staging.py,
# a test checks they agree): posted records repeating a key are refused like the warehouse refuses them.
HISTORY_KEYS = {
    "bureau": ("SK_ID_BUREAU",),
    "bureau_balance": ("SK_ID_BUREAU", "MONTHS_BALANCE"),
    "previous_application": ("SK_ID_PREV",),
    "POS_CASH_balance": ("SK_ID_PREV", "MONTHS_BALANCE"),
    "credit_card_balance": ("SK_ID_PREV", "MONTHS_BALANCE"),
}


def _days_or_not_applicable(value: int | float | None) -> int | float | None:
    if value is not None and value > 0 and value != DAYS_NOT_APPLICABLE:
        raise ValueError(f"expected days before the application (<= 0) or {DAYS_NOT_APPLICABLE} (not applicable)")
    return value


def _not_a_boolean(value: Any) -> Any:
    """JSON true/false is not a number (pydantic would read true as 1)."""
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean")
    return value


MAX_ID = 2**63 - 1


def column_bounds(table: str, column: str) -> dict[str, Any]:
    """Field(...) keyword bounds of a numeric raw column; documented in the OpenAPI schema. Application
    columns are also held to the warehouse's error-severity ranges (warehouse/plausibility.json)."""
    bounds = _domain_bounds(table, column)
    if table == APPLICATION and column in APPLICATION_RANGES:
        lo, hi = APPLICATION_RANGES[column]
        if lo is not None:
            bounds["ge"] = max(bounds["ge"], lo)
        if hi is not None and bounds["le"] != DAYS_NOT_APPLICABLE:  # 365243: "not applicable", kept
            bounds["le"] = min(bounds["le"], hi)
    return bounds


def _domain_bounds(table: str, column: str) -> dict[str, Any]:
    unit_interval = column.startswith("EXT_SOURCE_") or column.endswith(("_AVG", "_MODE", "_MEDI"))
    if column.startswith("SK_ID_"):
        return {"ge": 0, "le": MAX_ID}  # a BIGINT in the warehouse
    if column.startswith(("FLAG_", "NFLAG_")) or "_NOT_LIVE_" in column or "_NOT_WORK_" in column:
        return {"ge": 0, "le": 1}
    if column.startswith("AMT_"):
        if column in SIGNED_AMOUNTS.get(table, set()):
            return {"ge": -MAX_ABS_NUMBER, "le": MAX_ABS_NUMBER}
        return {"ge": 0, "le": MAX_ABS_NUMBER}
    if column.startswith(("CNT_", "SK_DPD", "NUM_INSTALMENT")) or "_CNT_" in column:
        return {"ge": 0, "le": 1e6}
    if column in {"CREDIT_DAY_OVERDUE", "OWN_CAR_AGE"}:
        return {"ge": 0, "le": 1e6}
    if table == APPLICATION and (unit_interval or column in {"REGION_POPULATION_RELATIVE", "TOTALAREA_MODE"}):
        return {"ge": 0, "le": 1}
    if column.startswith("REGION_RATING_CLIENT"):
        return {"ge": 1, "le": 3}
    if column == "HOUR_APPR_PROCESS_START":
        return {"ge": 0, "le": 23}
    if column == "MONTHS_BALANCE":
        return {"ge": -1200, "le": 0}
    if column.startswith("RATE_"):
        return {"ge": -1, "le": 1}
    if column == "SELLERPLACE_AREA":
        return {"ge": -1, "le": 1e9}
    if column.startswith("DAYS_"):
        if table == APPLICATION:
            # DAYS_EMPLOYED also accepts 365243 (validated below); the others are in the past.
            upper = DAYS_NOT_APPLICABLE if column == "DAYS_EMPLOYED" else 0
            return {"ge": MAX_DAYS_BACK, "le": upper}
        return {"ge": -100_000, "le": DAYS_NOT_APPLICABLE}
    return {"ge": -MAX_ABS_NUMBER, "le": MAX_ABS_NUMBER}


@cache
def raw_levels() -> dict[str, dict[str, list[str]]]:
    return json.loads(LEVELS_FILE.read_text(encoding="utf-8"))


def _field(table: str, column: str, duckdb_type: str) -> tuple[Any, Any]:
    required = column in REQUIRED_KEYS.get(table, set())
    default = ... if required else None
    if duckdb_type == "VARCHAR":
        levels = raw_levels().get(table, {}).get(column)
        if not levels:
            raise RuntimeError(f"{LEVELS_FILE}: no levels for {table}.{column}; run `python -m api.schemas.levels`")
        return (Literal[tuple(levels)] | None, Field(default, description=f"one of {len(levels)} codes"))
    bounds = column_bounds(table, column)
    base: Any = (
        Annotated[int, Field(strict=False, **bounds), BeforeValidator(_not_a_boolean)]
        if duckdb_type == "BIGINT"
        else Annotated[float, Field(allow_inf_nan=False, **bounds), BeforeValidator(_not_a_boolean)]
    )
    if table == APPLICATION and column == "DAYS_EMPLOYED":
        base = Annotated[base, AfterValidator(_days_or_not_applicable)]
    return (base if required else base | None, Field(default))


def _record_model(table: str) -> type[BaseModel]:
    fields = {col: _field(table, col, typ) for col, typ in RAW_COLUMNS[table]}
    name = "Application" if table == APPLICATION else "".join(p.capitalize() for p in table.split("_")) + "Record"
    doc = (
        "The application fields, Kaggle names (application_test.csv)."
        if table == APPLICATION
        else f"One {table}.csv record, Kaggle names; SK_ID_CURR may be omitted (it is the application's)."
    )
    return create_model(
        name,
        __config__=ConfigDict(extra="forbid", frozen=True),
        __doc__=doc,
        **fields,
    )


RECORD_MODELS: dict[str, type[BaseModel]] = {table: _record_model(table) for table in TABLES}
