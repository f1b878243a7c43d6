"""Tiny Kaggle-format CSVs written by the tests: every table linked, with the edge cases the warehouse
must handle (365243 sentinels, XNA codes, future-dated history rows, applicants without history,
test applicants). Values are random but valid for the data tests; the tests recompute the features
they check from these rows with pandas.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from hc_contracts.raw_format import TABLES, columns_of
from warehouse.build import BuildReport, build_warehouse
from warehouse.codegen_staging import ACCEPTED_VALUES, YES_NO_COLUMNS, is_binary_flag
from warehouse.settings import WarehouseSettings

N_TRAIN = 24
N_TEST = 6
FIRST_ID = 200001
FUTURE_BUREAU_ID = 9_000_001  # a bureau credit dated after the application: must be ignored
SENTINEL_APPLICANT = FIRST_ID + 1  # DAYS_EMPLOYED = 365243
NO_HISTORY_APPLICANT = FIRST_ID + 2  # no row in any history table

OTHER_LEVELS = {
    "NAME_TYPE_SUITE": ["Unaccompanied", "Family", "Spouse, partner"],
    "OCCUPATION_TYPE": ["Laborers", "Core staff", "Managers", "Drivers"],
    "ORGANIZATION_TYPE": ["Business Entity Type 3", "Self-employed", "School", "XNA"],
    "FONDKAPREMONT_MODE": ["reg oper account", "not specified"],
    "HOUSETYPE_MODE": ["block of flats", "terraced house"],
    "WALLSMATERIAL_MODE": ["Panel", "Stone, brick", "Block"],
    "CREDIT_TYPE": ["Consumer credit", "Credit card", "Car loan", "Mortgage", "Microloan"],
    "NAME_CASH_LOAN_PURPOSE": ["XAP", "XNA", "Repairs", "Other"],
    "NAME_PAYMENT_TYPE": ["Cash through the bank", "XNA"],
    "CODE_REJECT_REASON": ["XAP", "HC", "SCOFR", "LIMIT"],
    "NAME_GOODS_CATEGORY": ["XNA", "Mobile", "Consumer Electronics"],
    "NAME_PRODUCT_TYPE": ["XNA", "x-sell", "walk-in"],
    "CHANNEL_TYPE": ["Credit and cash offices", "Country-wide", "Stone"],
    "NAME_SELLER_INDUSTRY": ["XNA", "Consumer electronics", "Connectivity"],
    "PRODUCT_COMBINATION": ["Cash", "POS mobile with interest", "Card Street"],
}


def _levels(table: str, column: str) -> list[str]:
    family = "application" if table.startswith("application_") else table
    if column in ACCEPTED_VALUES.get(family, {}):
        return list(ACCEPTED_VALUES[family][column][1])
    return OTHER_LEVELS.get(column, ["A", "B"])


def _fill(table: str, n: int, rng: np.random.Generator, fixed: dict[str, list]) -> pd.DataFrame:
    """``n`` rows of ``table``: ``fixed`` columns as given, the others drawn by column kind."""
    data: dict[str, list] = {}
    for column, duck_type in columns_of(table):
        if column in fixed:
            data[column] = list(fixed[column])
            continue
        missing = rng.random(n) < 0.1
        if column in YES_NO_COLUMNS:
            yes, no = YES_NO_COLUMNS[column]
            values = list(rng.choice([yes, no], n))
        elif duck_type == "VARCHAR":
            values = list(rng.choice(_levels(table, column), n))
            missing = np.zeros(n, bool) if column in ("CODE_GENDER", "NAME_CONTRACT_TYPE") else missing
        elif is_binary_flag(column, duck_type):
            values, missing = list(rng.integers(0, 2, n)), np.zeros(n, bool)
        elif column.startswith("EXT_SOURCE"):
            values = list(rng.uniform(0.01, 0.99, n).round(6))
        elif column == "DAYS_BIRTH":
            values, missing = list(-rng.integers(8000, 25000, n)), np.zeros(n, bool)
        elif column.startswith(("DAYS_", "MONTHS_")):
            values = list(-rng.integers(1, 3000, n))
        elif column in ("CNT_CHILDREN",):
            values, missing = list(rng.integers(0, 4, n)), np.zeros(n, bool)
        elif column == "CNT_FAM_MEMBERS":  # the family counts the applicant and the children (a data test)
            drawn = rng.integers(1, 6, n).astype(float)
            children = np.array([c if c is not None else 0 for c in data.get("CNT_CHILDREN", [0] * n)], float)
            values = list(np.maximum(drawn, children + 1))
        elif column.startswith("HOUR_"):
            values = list(rng.integers(0, 24, n))
        elif column.startswith("AMT_") and table.startswith("application_"):
            values = list(rng.uniform(20_000, 900_000, n).round(1))
            missing = np.zeros(n, bool)
        elif duck_type == "BIGINT":
            values = list(rng.integers(0, 10, n))
        else:
            values = list(rng.uniform(0, 1000, n).round(3))
        data[column] = [None if m else v for v, m in zip(values, missing, strict=True)]
    frame = pd.DataFrame(data, columns=[c for c, _ in columns_of(table)], dtype=object)
    return frame


def build_tables(seed: int = 0) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    train_ids = list(range(FIRST_ID, FIRST_ID + N_TRAIN))
    test_ids = list(range(FIRST_ID + N_TRAIN, FIRST_ID + N_TRAIN + N_TEST))
    train = _fill("application_train", N_TRAIN, rng,
                  {"SK_ID_CURR": train_ids, "TARGET": [i % 4 == 0 and 1 or 0 for i in range(N_TRAIN)]})
    train.loc[train.SK_ID_CURR == SENTINEL_APPLICANT, "DAYS_EMPLOYED"] = 365243
    train.loc[train.SK_ID_CURR == SENTINEL_APPLICANT, "ORGANIZATION_TYPE"] = "XNA"
    train.loc[0, "CODE_GENDER"] = "XNA"
    test = _fill("application_test", N_TEST, rng, {"SK_ID_CURR": test_ids})
    with_history = [i for i in train_ids + test_ids if i != NO_HISTORY_APPLICANT]

    # bureau + bureau_balance
    bureau_owner = [i for i in with_history for _ in range(int(rng.integers(0, 4)))]
    n_b = len(bureau_owner)
    bureau_ids = list(range(5_000_001, 5_000_001 + n_b))
    bureau = _fill("bureau", n_b, rng, {
        "SK_ID_CURR": bureau_owner, "SK_ID_BUREAU": bureau_ids,
        "CREDIT_ACTIVE": list(rng.choice(["Active", "Closed", "Closed", "Sold"], n_b)),
        "CREDIT_CURRENCY": list(rng.choice(["currency 1", "currency 1", "currency 2"], n_b)),
        "DAYS_CREDIT": list(-rng.integers(1, 2900, n_b)),
        "CREDIT_DAY_OVERDUE": list(rng.choice([0, 0, 0, 15], n_b)),
        "CNT_CREDIT_PROLONG": list(rng.integers(0, 2, n_b)),
        "AMT_CREDIT_SUM": list(rng.uniform(1000, 500_000, n_b).round(2)),
        "AMT_CREDIT_SUM_OVERDUE": list(rng.choice([0.0, 0.0, 120.5], n_b)),
    })
    future = _fill("bureau", 1, rng, {"SK_ID_CURR": [train_ids[3]], "SK_ID_BUREAU": [FUTURE_BUREAU_ID],
                                      "CREDIT_ACTIVE": ["Active"], "CREDIT_CURRENCY": ["currency 1"],
                                      "DAYS_CREDIT": [12], "AMT_CREDIT_SUM": [1e6], "CREDIT_DAY_OVERDUE": [0],
                                      "CNT_CREDIT_PROLONG": [0], "AMT_CREDIT_SUM_OVERDUE": [0.0]})
    bureau = pd.concat([bureau, future], ignore_index=True)
    bb_rows = [(b, -m) for b in bureau_ids for m in range(int(rng.integers(0, 7)))]
    bureau_balance = _fill("bureau_balance", len(bb_rows), rng, {
        "SK_ID_BUREAU": [b for b, _ in bb_rows], "MONTHS_BALANCE": [m for _, m in bb_rows],
        "STATUS": list(rng.choice(["0", "0", "C", "X", "1", "2"], len(bb_rows))),
    })

    # previous applications and their monthly / installment histories
    prev_owner = [i for i in with_history for _ in range(int(rng.integers(0, 4)))]
    n_p = len(prev_owner)
    prev_ids = list(range(3_000_001, 3_000_001 + n_p))
    previous = _fill("previous_application", n_p, rng, {
        "SK_ID_PREV": prev_ids, "SK_ID_CURR": prev_owner,
        "NAME_CONTRACT_STATUS": list(rng.choice(["Approved", "Approved", "Refused", "Canceled"], n_p)),
        "NAME_CONTRACT_TYPE": list(rng.choice(["Cash loans", "Consumer loans", "Revolving loans", "XNA"], n_p)),
        "DAYS_DECISION": list(-rng.integers(1, 2900, n_p)),
        "CNT_PAYMENT": list(rng.choice([6.0, 12.0, 24.0, 0.0], n_p)),
        "AMT_CREDIT": list(rng.uniform(1000, 400_000, n_p).round(2)),
        "AMT_APPLICATION": list(rng.uniform(1000, 400_000, n_p).round(2)),
        "DAYS_LAST_DUE": list(rng.choice([365243.0, -100.0, -500.0], n_p)),
        "DAYS_TERMINATION": list(rng.choice([365243.0, -90.0, -400.0], n_p)),
        "DAYS_FIRST_DRAWING": list(rng.choice([365243.0, -1000.0], n_p)),
        "NFLAG_INSURED_ON_APPROVAL": list(rng.choice([0.0, 1.0], n_p)),
    })
    pos_rows = [(p, c, -m) for p, c in zip(prev_ids, prev_owner, strict=True) for m in range(1, int(rng.integers(0, 6)) + 1)]
    pos = _fill("POS_CASH_balance", len(pos_rows), rng, {
        "SK_ID_PREV": [r[0] for r in pos_rows], "SK_ID_CURR": [r[1] for r in pos_rows],
        "MONTHS_BALANCE": [r[2] for r in pos_rows],
        "NAME_CONTRACT_STATUS": list(rng.choice(["Active", "Completed", "Signed"], len(pos_rows))),
        "SK_DPD": list(rng.choice([0, 0, 0, 5], len(pos_rows))),
        "SK_DPD_DEF": list(rng.choice([0, 0, 2], len(pos_rows))),
    })
    inst_rows = [(p, c, k) for p, c in zip(prev_ids, prev_owner, strict=True) for k in range(1, int(rng.integers(0, 7)) + 1)]
    n_i = len(inst_rows)
    due = -rng.integers(2, 800, n_i).astype(float)
    inst = _fill("installments_payments", n_i, rng, {
        "SK_ID_PREV": [r[0] for r in inst_rows], "SK_ID_CURR": [r[1] for r in inst_rows],
        "NUM_INSTALMENT_NUMBER": [r[2] for r in inst_rows],
        "NUM_INSTALMENT_VERSION": list(rng.choice([0.0, 1.0, 2.0], n_i)),
        "DAYS_INSTALMENT": list(due),
        "DAYS_ENTRY_PAYMENT": list(np.minimum(due + rng.integers(-20, 20, n_i), -1.0)),
        "AMT_INSTALMENT": list(rng.uniform(100, 20_000, n_i).round(2)),
        "AMT_PAYMENT": list(rng.uniform(50, 20_000, n_i).round(2)),
    })
    if n_i:  # an installment dated after the application: must be ignored
        extra = inst.iloc[[0]].copy()
        extra["DAYS_INSTALMENT"], extra["DAYS_ENTRY_PAYMENT"] = [30.0], [31.0]
        inst = pd.concat([inst, extra], ignore_index=True)
    cards = [(p, c) for p, c in zip(prev_ids, prev_owner, strict=True) if p % 3 == 0]
    cc_rows = [(p, c, -m) for p, c in cards for m in range(1, int(rng.integers(1, 6)) + 1)]
    n_c = len(cc_rows)
    cc = _fill("credit_card_balance", n_c, rng, {
        "SK_ID_PREV": [r[0] for r in cc_rows], "SK_ID_CURR": [r[1] for r in cc_rows],
        "MONTHS_BALANCE": [r[2] for r in cc_rows],
        "AMT_CREDIT_LIMIT_ACTUAL": list(rng.choice([0, 45_000, 90_000, 135_000], n_c)),
        "NAME_CONTRACT_STATUS": list(rng.choice(["Active", "Completed"], n_c)),
        "SK_DPD": list(rng.choice([0, 0, 3], n_c)), "SK_DPD_DEF": list(rng.choice([0, 1], n_c)),
    })
    return {
        "application_train": train, "application_test": test, "bureau": bureau,
        "bureau_balance": bureau_balance, "previous_application": previous, "POS_CASH_balance": pos,
        "installments_payments": inst, "credit_card_balance": cc,
    }


def write_csvs(folder: Path, tables: dict[str, pd.DataFrame] | None = None) -> Path:
    """Write the eight CSVs (Kaggle names, headers and column order) into ``folder``."""
    tables = tables if tables is not None else build_tables()
    folder.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        tables[table].to_csv(folder / f"{table}.csv", index=False, na_rep="")
    return folder


def build(raw_dir: Path, warehouse: Path) -> BuildReport:
    """Build the warehouse of ``raw_dir`` into ``warehouse`` (quietly)."""
    return build_warehouse(WarehouseSettings(raw_dir=raw_dir, warehouse=warehouse), echo=False)
