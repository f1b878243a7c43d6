"""The raw Kaggle format the API accepts: the shared declaration (:mod:`hc_contracts.raw_format`), and the
warehouse's plausibility bounds."""

from __future__ import annotations

import json
from pathlib import Path

from hc_contracts.raw_format import HISTORY_TABLES, raw_columns

# plausibility bounds shared with the warehouse's generated data tests (warehouse/codegen_staging.py)
PLAUSIBILITY_FILE = Path(__file__).resolve().parents[2] / "warehouse" / "plausibility.json"

APPLICATION = "application_test"
TABLES = (APPLICATION, *HISTORY_TABLES)

RAW_COLUMNS: dict[str, list[tuple[str, str]]] = {table: list(cols) for table, cols in raw_columns().items()}

_PLAUSIBILITY = json.loads(PLAUSIBILITY_FILE.read_text(encoding="utf-8"))
# error-severity ranges of the application columns (what the warehouse refuses): {column: (min, max)}
APPLICATION_RANGES: dict[str, tuple[float | None, float | None]] = {
    column: (lo, hi) for column, (lo, hi, severity) in _PLAUSIBILITY["ranges"]["application"].items()
    if severity == "error"
}
# error-severity cross-column rules of the application: column >= other + plus
APPLICATION_AT_LEAST: list[dict] = [r for r in _PLAUSIBILITY.get("at_least_column", {}).get("application", [])
                                    if r.get("severity") == "error"]
