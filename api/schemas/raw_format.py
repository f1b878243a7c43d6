"""The raw Kaggle format as the warehouse declares it (`warehouse/raw_columns.json`)."""

from __future__ import annotations

import json
from pathlib import Path

RAW_COLUMNS_FILE = Path(__file__).resolve().parents[2] / "warehouse" / "raw_columns.json"
# plausibility bounds shared with the warehouse's generated data tests (warehouse/codegen_staging.py)
PLAUSIBILITY_FILE = Path(__file__).resolve().parents[2] / "warehouse" / "plausibility.json"

APPLICATION = "application_test"
HISTORY_TABLES = (
    "bureau",
    "bureau_balance",
    "previous_application",
    "POS_CASH_balance",
    "installments_payments",
    "credit_card_balance",
)
TABLES = (APPLICATION, *HISTORY_TABLES)

RAW_COLUMNS: dict[str, list[tuple[str, str]]] = {
    table: [(c, t) for c, t in cols] for table, cols in json.loads(RAW_COLUMNS_FILE.read_text()).items()
}

_PLAUSIBILITY = json.loads(PLAUSIBILITY_FILE.read_text(encoding="utf-8"))
# error-severity ranges of the application columns (what the warehouse refuses): {column: (min, max)}
APPLICATION_RANGES: dict[str, tuple[float | None, float | None]] = {
    column: (lo, hi) for column, (lo, hi, severity) in _PLAUSIBILITY["ranges"]["application"].items()
    if severity == "error"
}
# error-severity cross-column rules of the application: column >= other + plus
APPLICATION_AT_LEAST: list[dict] = [r for r in _PLAUSIBILITY.get("at_least_column", {}).get("application", [])
                                    if r.get("severity") == "error"]
