"""Learn the valid codes of every categorical raw column from Kaggle-format CSV folders.

    python -m api.schemas.levels ../shared/data/home-credit-marginals ../shared/data/home-credit-sample

writes `raw_levels.json` beside this file: for each table of `hc_contracts/raw_columns.json`, each VARCHAR
column -> its sorted levels (summary statistics only, no rows). `application_test` learns from both
application files. Levels that exist in the full Kaggle data but are too rare to appear in the
samples are added from `RARE_LEVELS`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd

from api.schemas.raw_format import RAW_COLUMNS, TABLES

OUT = Path(__file__).with_name("raw_levels.json")

# Codes documented for the full Kaggle data set that occur too rarely to show up in a small sample.
RARE_LEVELS: dict[str, dict[str, list[str]]] = {
    "application_test": {
        "NAME_INCOME_TYPE": ["Maternity leave", "Student"],
        "NAME_FAMILY_STATUS": ["Unknown"],
    },
    "bureau": {
        "CREDIT_ACTIVE": ["Bad debt"],
        "CREDIT_CURRENCY": ["currency 4"],
        "CREDIT_TYPE": [
            "Interbank credit",
            "Loan for the purchase of equipment",
            "Mobile operator loan",
            "Real estate loan",
        ],
    },
    "previous_application": {
        "NAME_CASH_LOAN_PURPOSE": [
            "Business development",
            "Buying a garage",
            "Gasification / water supply",
            "Hobby",
            "Money for a third person",
            "Refusal to name the goal",
            "Wedding / gift / holiday",
        ],
        "NAME_CONTRACT_STATUS": [],
        "NAME_GOODS_CATEGORY": [
            "Additional Service",
            "Animals",
            "Direct Sales",
            "Fitness",
            "House Construction",
            "Insurance",
        ],
        "NAME_SELLER_INDUSTRY": ["MLM partners"],
    },
    "POS_CASH_balance": {"NAME_CONTRACT_STATUS": ["XNA"]},
    "credit_card_balance": {"NAME_CONTRACT_STATUS": ["Approved", "Demand", "Refused"]},
}


def learn_levels(folders: list[Path]) -> dict[str, dict[str, list[str]]]:
    levels: dict[str, dict[str, list[str]]] = {}
    for table in TABLES:
        sources = ["application_train", "application_test"] if table == "application_test" else [table]
        text_cols = [c for c, t in RAW_COLUMNS[table] if t == "VARCHAR"]
        if not text_cols:
            continue
        seen: dict[str, set[str]] = {c: set() for c in text_cols}
        for folder in folders:
            for source in sources:
                path = folder / f"{source}.csv"
                if not path.exists():
                    continue
                frame = pd.read_csv(path, usecols=text_cols, dtype=str, keep_default_na=True)
                for col in text_cols:
                    seen[col].update(v for v in frame[col].dropna().unique() if v != "")
        for col, extra in RARE_LEVELS.get(table, {}).items():
            seen[col].update(extra)
        levels[table] = {col: sorted(values) for col, values in seen.items()}
    return levels


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit("usage: python -m api.schemas.levels CSV_FOLDER [CSV_FOLDER ...]")
    levels = learn_levels([Path(a) for a in argv])
    empty = [f"{t}.{c}" for t, cols in levels.items() for c, v in cols.items() if not v]
    if empty:
        sys.exit(f"no levels found for {', '.join(empty)}: give folders with the Kaggle CSVs")
    OUT.write_text(json.dumps(levels, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main(sys.argv[1:])
