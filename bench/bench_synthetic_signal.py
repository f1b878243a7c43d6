"""How much signal the synthetic data carries, and where: the ground truth's AUC, and a plain LightGBM
on application columns only vs application + simple history aggregates (computed here in pandas).

    nice -n 10 .venv/bin/python bench/bench_synthetic_signal.py --scale 0.2
    .venv/bin/python bench/bench_synthetic_signal.py --data data/raw       # an existing synthetic set

Targets (issue 3): ground-truth AUC in [0.78, 0.88]; application-only clearly below application + history.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synthetic.generator import Plan, generate  # noqa: E402


def history_features(d: Path) -> pd.DataFrame:
    """A handful of per-applicant aggregates a warehouse would compute."""
    b = pd.read_csv(d / "bureau.csv")
    bb = pd.read_csv(d / "bureau_balance.csv", dtype={"STATUS": str})
    prev = pd.read_csv(d / "previous_application.csv")
    inst = pd.read_csv(d / "installments_payments.csv")
    pos = pd.read_csv(d / "POS_CASH_balance.csv")
    cc = pd.read_csv(d / "credit_card_balance.csv")
    active = b.CREDIT_ACTIVE == "Active"
    fb = pd.DataFrame(
        {
            "bureau_count": b.groupby("SK_ID_CURR").size(),
            "bureau_active": active.groupby(b.SK_ID_CURR).sum(),
            "bureau_overdue": b.groupby("SK_ID_CURR").AMT_CREDIT_SUM_OVERDUE.sum(),
            "bureau_max_overdue": b.groupby("SK_ID_CURR").AMT_CREDIT_MAX_OVERDUE.max(),
            "bureau_debt_ratio": b[active].groupby("SK_ID_CURR").AMT_CREDIT_SUM_DEBT.sum()
            / b[active].groupby("SK_ID_CURR").AMT_CREDIT_SUM.sum(),
        }
    )
    late_status = pd.to_numeric(bb.STATUS, errors="coerce").fillna(0).where(bb.MONTHS_BALANCE >= -12, 0)
    worst = late_status.groupby(bb.SK_ID_BUREAU).max()
    fb["bb_worst_12m"] = b.assign(w=b.SK_ID_BUREAU.map(worst)).groupby("SK_ID_CURR").w.max()
    refused = prev.NAME_CONTRACT_STATUS == "Refused"
    fp = pd.DataFrame(
        {
            "prev_count": prev.groupby("SK_ID_CURR").size(),
            "prev_refused_share": refused.groupby(prev.SK_ID_CURR).mean(),
            "prev_refused": refused.groupby(prev.SK_ID_CURR).sum(),
        }
    )
    late = inst.DAYS_ENTRY_PAYMENT > inst.DAYS_INSTALMENT
    short = inst.AMT_PAYMENT < 0.95 * inst.AMT_INSTALMENT
    fi = pd.DataFrame(
        {
            "inst_late_share": late.groupby(inst.SK_ID_CURR).mean(),
            "inst_short_share": short.groupby(inst.SK_ID_CURR).mean(),
            "inst_max_delay": (inst.DAYS_ENTRY_PAYMENT - inst.DAYS_INSTALMENT).groupby(inst.SK_ID_CURR).max(),
            "inst_count": inst.groupby("SK_ID_CURR").size(),
        }
    )
    util = (cc.AMT_BALANCE / cc.AMT_CREDIT_LIMIT_ACTUAL).where(cc.AMT_CREDIT_LIMIT_ACTUAL > 0)
    fc = pd.DataFrame(
        {
            "card_util_mean": util.groupby(cc.SK_ID_CURR).mean(),
            "card_util_max": util.groupby(cc.SK_ID_CURR).max(),
            "card_max_dpd": cc.groupby("SK_ID_CURR").SK_DPD.max(),
            "pos_max_dpd": pos.groupby("SK_ID_CURR").SK_DPD.max(),
        }
    )
    return fb.join(fp, how="outer").join(fi, how="outer").join(fc, how="outer")


def lgbm_auc(x_tr: pd.DataFrame, y_tr: np.ndarray, x_te: pd.DataFrame, y_te: np.ndarray) -> float:
    model = lgb.LGBMClassifier(
        n_estimators=400, learning_rate=0.05, num_leaves=31, min_child_samples=50, subsample=0.8,
        subsample_freq=1, colsample_bytree=0.7, n_jobs=2, verbose=-1,
    )  # fmt: skip
    model.fit(x_tr, y_tr)
    return float(roc_auc_score(y_te, model.predict_proba(x_te)[:, 1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--data", type=Path, help="use this synthetic folder instead of generating one")
    args = ap.parse_args()
    tmp = None
    if args.data is None:
        tmp = Path(tempfile.mkdtemp(prefix="hc-bench-signal-"))
        start = time.perf_counter()
        generate(tmp, Plan.for_scale(args.scale, args.seed))
        print(f"generated scale {args.scale} in {time.perf_counter() - start:.0f}s")
    data = args.data or tmp
    assert data is not None
    try:
        app = pd.read_csv(data / "application_train.csv")
        gt = pd.read_csv(data / "ground_truth.csv").set_index("SK_ID_CURR").DEFAULT_PROBABILITY
        for c in app.select_dtypes(include=["object", "string"]).columns:
            app[c] = app[c].astype("category")
        y = app.pop("TARGET").to_numpy()
        ids = app.SK_ID_CURR
        x_app = app.drop(columns=["SK_ID_CURR"])
        hist = history_features(data).reindex(ids.to_numpy())
        hist.index = app.index
        x_all = pd.concat([x_app, hist], axis=1)
        idx_tr, idx_te = train_test_split(np.arange(len(y)), test_size=0.3, random_state=0, stratify=y)
        p = gt.loc[ids].to_numpy()
        print(f"train applicants {len(y):,}, default rate {y.mean():.2%}")
        print(f"ground truth AUC (all train)       {roc_auc_score(y, p):.4f}")
        print(f"ground truth AUC (hold-out 30%)    {roc_auc_score(y[idx_te], p[idx_te]):.4f}")
        a_app = lgbm_auc(x_app.iloc[idx_tr], y[idx_tr], x_app.iloc[idx_te], y[idx_te])
        print(f"LightGBM, application only         {a_app:.4f}")
        a_all = lgbm_auc(x_all.iloc[idx_tr], y[idx_tr], x_all.iloc[idx_te], y[idx_te])
        print(f"LightGBM, application + history    {a_all:.4f}  ({hist.shape[1]} aggregates)")
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
