"""The raw Kaggle format as the warehouse declares it (`warehouse/raw_columns.json`)."""

from __future__ import annotations

import json
from pathlib import Path

RAW_COLUMNS_FILE = Path(__file__).resolve().parents[2] / "warehouse" / "raw_columns.json"

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
