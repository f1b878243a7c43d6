"""The notebook-style pandas reference of the warehouse benchmark: what a Kaggle notebook computes on the same files.

    .venv/bin/python bench/pandas_reference.py --raw-dir DIR [--out FILE.parquet]

The structure of the popular public kernel "LightGBM with simple features" (Home Credit Default Risk): read
each CSV with ``pd.read_csv``, one-hot encode its categorical columns, add a few ratios, aggregate every history
table to one row per applicant with ``groupby().agg`` (min / max / mean / sum / var; bureau with its monthly
balances, previous applications all / approved / refused, POS, installments with payment ratio and days past
due, credit card), and join everything onto the application rows. No validation, no data tests, no types
declared: that is the comparison users care about (``bench/bench_warehouse.py`` runs both side by side).
Prints the time of each step and the shape of the result; ``--out`` keeps the frame (Parquet).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd


def one_hot(df: pd.DataFrame, nan_as_category: bool = True) -> tuple[pd.DataFrame, list[str]]:
    original = list(df.columns)
    categorical = list(df.select_dtypes(include=["object", "string"]).columns)
    df = pd.get_dummies(df, columns=categorical, dummy_na=nan_as_category, dtype=np.uint8)
    return df, [c for c in df.columns if c not in original]


def application(raw: Path) -> pd.DataFrame:
    frames = [pd.read_csv(raw / "application_train.csv"), pd.read_csv(raw / "application_test.csv")]
    df = pd.concat([f for f in frames if len(f)], ignore_index=True)  # a header-only file would make all objects
    df = df[df["CODE_GENDER"] != "XNA"]
    for flag in ("CODE_GENDER", "FLAG_OWN_CAR", "FLAG_OWN_REALTY"):
        df[flag], _ = pd.factorize(df[flag])
    df, _ = one_hot(df)
    df["DAYS_EMPLOYED"] = df["DAYS_EMPLOYED"].replace(365243, np.nan)
    df["DAYS_EMPLOYED_PERC"] = df["DAYS_EMPLOYED"] / df["DAYS_BIRTH"]
    df["INCOME_CREDIT_PERC"] = df["AMT_INCOME_TOTAL"] / df["AMT_CREDIT"]
    df["INCOME_PER_PERSON"] = df["AMT_INCOME_TOTAL"] / df["CNT_FAM_MEMBERS"]
    df["ANNUITY_INCOME_PERC"] = df["AMT_ANNUITY"] / df["AMT_INCOME_TOTAL"]
    df["PAYMENT_RATE"] = df["AMT_ANNUITY"] / df["AMT_CREDIT"]
    return df


def _flatten(agg: pd.DataFrame, prefix: str) -> pd.DataFrame:
    agg.columns = pd.Index([f"{prefix}{a}_{b.upper()}" for a, b in agg.columns])
    return agg


def bureau(raw: Path) -> pd.DataFrame:
    bureau = pd.read_csv(raw / "bureau.csv")
    if bureau.empty:  # e.g. the real sample has no previous applications
        return pd.DataFrame()
    bb = pd.read_csv(raw / "bureau_balance.csv")
    bb, bb_cat = one_hot(bb)
    bureau, bureau_cat = one_hot(bureau)
    bb_agg = _flatten(bb.groupby("SK_ID_BUREAU").agg({"MONTHS_BALANCE": ["min", "max", "size"],
                                                      **{c: ["mean"] for c in bb_cat}}), "")
    bureau = bureau.join(bb_agg, how="left", on="SK_ID_BUREAU").drop(columns=["SK_ID_BUREAU"])
    del bb, bb_agg
    gc.collect()
    num = {"DAYS_CREDIT": ["min", "max", "mean", "var"], "DAYS_CREDIT_ENDDATE": ["min", "max", "mean"],
           "DAYS_CREDIT_UPDATE": ["mean"], "CREDIT_DAY_OVERDUE": ["max", "mean"], "AMT_CREDIT_MAX_OVERDUE": ["mean"],
           "AMT_CREDIT_SUM": ["max", "mean", "sum"], "AMT_CREDIT_SUM_DEBT": ["max", "mean", "sum"],
           "AMT_CREDIT_SUM_OVERDUE": ["mean"], "AMT_CREDIT_SUM_LIMIT": ["mean", "sum"], "AMT_ANNUITY": ["max", "mean"],
           "CNT_CREDIT_PROLONG": ["sum"], "MONTHS_BALANCE_MIN": ["min"], "MONTHS_BALANCE_MAX": ["max"],
           "MONTHS_BALANCE_SIZE": ["mean", "sum"]}
    cat = {**{c: ["mean"] for c in bureau_cat}, **{f"{c}_MEAN": ["mean"] for c in bb_cat}}
    agg = _flatten(bureau.groupby("SK_ID_CURR").agg({**num, **cat}), "BURO_")
    for status, prefix in (("CREDIT_ACTIVE_Active", "ACTIVE_"), ("CREDIT_ACTIVE_Closed", "CLOSED_")):
        if status in bureau:
            part = _flatten(bureau[bureau[status] == 1].groupby("SK_ID_CURR").agg(num), prefix)
            agg = agg.join(part, how="left")
    return agg


def previous(raw: Path) -> pd.DataFrame:
    prev = pd.read_csv(raw / "previous_application.csv")
    if prev.empty:  # e.g. the real sample has no previous applications
        return pd.DataFrame()
    prev, cat_cols = one_hot(prev)
    for col in ("DAYS_FIRST_DRAWING", "DAYS_FIRST_DUE", "DAYS_LAST_DUE_1ST_VERSION", "DAYS_LAST_DUE",
                "DAYS_TERMINATION"):
        prev[col] = prev[col].replace(365243, np.nan)
    prev["APP_CREDIT_PERC"] = prev["AMT_APPLICATION"] / prev["AMT_CREDIT"]
    num = {"AMT_ANNUITY": ["min", "max", "mean"], "AMT_APPLICATION": ["min", "max", "mean"],
           "AMT_CREDIT": ["min", "max", "mean"], "APP_CREDIT_PERC": ["min", "max", "mean", "var"],
           "AMT_DOWN_PAYMENT": ["min", "max", "mean"], "AMT_GOODS_PRICE": ["min", "max", "mean"],
           "HOUR_APPR_PROCESS_START": ["min", "max", "mean"], "RATE_DOWN_PAYMENT": ["min", "max", "mean"],
           "DAYS_DECISION": ["min", "max", "mean"], "CNT_PAYMENT": ["mean", "sum"]}
    agg = _flatten(prev.groupby("SK_ID_CURR").agg({**num, **{c: ["mean"] for c in cat_cols}}), "PREV_")
    for status, prefix in (("NAME_CONTRACT_STATUS_Approved", "APPROVED_"), ("NAME_CONTRACT_STATUS_Refused", "REFUSED_")):
        if status in prev:
            agg = agg.join(_flatten(prev[prev[status] == 1].groupby("SK_ID_CURR").agg(num), prefix), how="left")
    return agg


def pos_cash(raw: Path) -> pd.DataFrame:
    pos = pd.read_csv(raw / "POS_CASH_balance.csv")
    if pos.empty:  # e.g. the real sample has no previous applications
        return pd.DataFrame()
    pos, cat_cols = one_hot(pos)
    spec = {"MONTHS_BALANCE": ["max", "mean", "size"], "SK_DPD": ["max", "mean"], "SK_DPD_DEF": ["max", "mean"],
            **{c: ["mean"] for c in cat_cols}}
    agg = _flatten(pos.groupby("SK_ID_CURR").agg(spec), "POS_")
    agg["POS_COUNT"] = pos.groupby("SK_ID_CURR").size()
    return agg


def installments(raw: Path) -> pd.DataFrame:
    ins = pd.read_csv(raw / "installments_payments.csv")
    if ins.empty:  # e.g. the real sample has no previous applications
        return pd.DataFrame()
    ins, cat_cols = one_hot(ins)
    ins["PAYMENT_PERC"] = ins["AMT_PAYMENT"] / ins["AMT_INSTALMENT"]
    ins["PAYMENT_DIFF"] = ins["AMT_INSTALMENT"] - ins["AMT_PAYMENT"]
    ins["DPD"] = (ins["DAYS_ENTRY_PAYMENT"] - ins["DAYS_INSTALMENT"]).clip(lower=0)
    ins["DBD"] = (ins["DAYS_INSTALMENT"] - ins["DAYS_ENTRY_PAYMENT"]).clip(lower=0)
    spec = {"NUM_INSTALMENT_VERSION": ["nunique"], "DPD": ["max", "mean", "sum"], "DBD": ["max", "mean", "sum"],
            "PAYMENT_PERC": ["max", "mean", "sum", "var"], "PAYMENT_DIFF": ["max", "mean", "sum", "var"],
            "AMT_INSTALMENT": ["max", "mean", "sum"], "AMT_PAYMENT": ["min", "max", "mean", "sum"],
            "DAYS_ENTRY_PAYMENT": ["max", "mean", "sum"], **{c: ["mean"] for c in cat_cols}}
    agg = _flatten(ins.groupby("SK_ID_CURR").agg(spec), "INSTAL_")
    agg["INSTAL_COUNT"] = ins.groupby("SK_ID_CURR").size()
    return agg


def credit_card(raw: Path) -> pd.DataFrame:
    cc = pd.read_csv(raw / "credit_card_balance.csv")
    if cc.empty:  # e.g. the real sample has no previous applications
        return pd.DataFrame()
    cc, _ = one_hot(cc)
    cc = cc.drop(columns=["SK_ID_PREV"])
    agg = cc.groupby("SK_ID_CURR").agg(["min", "max", "mean", "sum", "var"])
    agg = _flatten(agg, "CC_")
    agg["CC_COUNT"] = cc.groupby("SK_ID_CURR").size()
    return agg


STEPS = (("bureau + bureau_balance", bureau), ("previous_application", previous), ("POS_CASH_balance", pos_cash),
         ("installments_payments", installments), ("credit_card_balance", credit_card))


def build(raw: Path, echo: bool = True) -> tuple[pd.DataFrame, dict[str, float]]:
    times: dict[str, float] = {}
    tick = time.perf_counter()
    df = application(raw)
    times["application_train + test"] = time.perf_counter() - tick
    for name, step in STEPS:
        tick = time.perf_counter()
        agg = step(raw)
        if len(agg):
            df = df.join(agg, how="left", on="SK_ID_CURR")
        del agg
        gc.collect()
        times[name] = time.perf_counter() - tick
        if echo:
            print(f"[pandas] {name}: {times[name]:.1f} s", flush=True)
    return df, times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw-dir", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="write the joined frame as Parquet")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore", pd.errors.PerformanceWarning)  # what notebooks see, not what we measure
    started = time.perf_counter()
    df, times = build(args.raw_dir)
    if args.out:
        df.to_parquet(args.out)
    print("[pandas] steps: " + ", ".join(f"{k} {v:.1f} s" for k, v in times.items()))
    print(f"[pandas] built {len(df)} rows x {df.shape[1]} columns in {time.perf_counter() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
