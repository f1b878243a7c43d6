"""Detection AUC: how well a classifier tells real rows from synthetic ones (0.5 = indistinguishable).

    .venv/bin/python bench/bench_detection.py                      # generate at scale 0.03, seed 0
    .venv/bin/python bench/bench_detection.py --data data/raw      # an existing synthetic data set
    .venv/bin/python bench/bench_detection.py --ablate             # and where the signal is, by family of columns

For each table, as many synthetic rows as there are real ones are drawn at random; a LightGBM classifier
(5-fold stratified cross-validation, native categorical columns) learns to separate them from all the
table's columns but identifiers and ``TARGET``. Printed: the cross-validated ROC AUC per table and the
columns that reveal the synthetic rows most (share of the total split gain over the folds).

Real rows: ``application_train`` and ``bureau`` from the linked sample (``../shared/data/home-credit-sample``),
``previous_application`` from the random real rows (``../shared/data/home-credit-marginals``; the sample
has none). Targets (issue 17): application_train <= 0.75, bureau and previous_application <= 0.80.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from synthetic.generator import Plan, generate  # noqa: E402
from synthetic.schema import KEY_COLUMNS, column_types, csv_name  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
REAL_SOURCE = {
    "application_train": SHARED / "home-credit-sample",
    "bureau": SHARED / "home-credit-sample",
    "previous_application": SHARED / "home-credit-marginals",
}
DROP = {*KEY_COLUMNS, "TARGET"}
PARAMS = {
    "n_estimators": 150,
    "learning_rate": 0.1,
    "num_leaves": 31,
    "min_child_samples": 20,
    "subsample": 0.8,
    "subsample_freq": 1,
    "colsample_bytree": 0.8,
    "verbose": -1,
    "n_jobs": 2,
}


def _read(path: Path, table: str, max_rows: int | None, rng: np.random.Generator) -> pd.DataFrame:
    types = column_types(table)
    df = pd.read_csv(path, dtype={c: str for c, t in types.items() if t == "VARCHAR"}, low_memory=False)
    df = df[[c for c in types if c not in DROP]]
    if max_rows is not None and len(df) > max_rows:
        df = df.iloc[np.sort(rng.choice(len(df), max_rows, replace=False))]
    return df.reset_index(drop=True)


def detection(
    real: pd.DataFrame, synth: pd.DataFrame, table: str, folds: int, seed: int
) -> tuple[float, list[float], pd.Series]:
    """Cross-validated AUC (pooled out-of-fold scores), the per-fold AUCs and the gain share per column."""
    types = column_types(table)
    x = pd.concat([real, synth], ignore_index=True)
    for c in x.columns:
        if types.get(c) == "VARCHAR":
            x[c] = x[c].astype("category")
        else:
            x[c] = pd.to_numeric(x[c], errors="coerce").astype(float)
    y = np.r_[np.zeros(len(real)), np.ones(len(synth))]
    oof = np.zeros(len(y))
    gain = pd.Series(0.0, index=x.columns)
    fold_auc = []
    for fold, (tr, te) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y)):
        model = lgb.LGBMClassifier(**PARAMS, random_state=seed + fold, importance_type="gain")
        model.fit(x.iloc[tr], y[tr])
        oof[te] = model.predict_proba(x.iloc[te])[:, 1]
        fold_auc.append(roc_auc_score(y[te], oof[te]))
        gain += pd.Series(model.booster_.feature_importance("gain"), index=x.columns)
    return roc_auc_score(y, oof), fold_auc, gain / gain.sum()


def _small_auc(x: pd.DataFrame, y: np.ndarray, folds: int, seed: int) -> float:
    """Cross-validated AUC of a small LightGBM (50 trees) on the columns of ``x`` alone."""
    params = {**PARAMS, "n_estimators": 50, "subsample": 1.0, "colsample_bytree": 1.0}
    oof = np.zeros(len(y))
    for fold, (tr, te) in enumerate(StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y)):
        model = lgb.LGBMClassifier(**params, random_state=seed + fold)
        model.fit(x.iloc[tr], y[tr])
        oof[te] = model.predict_proba(x.iloc[te])[:, 1]
    return roc_auc_score(y, oof)


def where_signal(real: pd.DataFrame, synth: pd.DataFrame, table: str, seed: int, top: int,
                 pairs: int) -> None:
    """Where the classifier's signal is (``--where``): the detection AUC of each column alone (its marginal,
    fine-grained: value lattices, round numbers, ranges, missing share) and of the pairs of the ``pairs`` most
    revealing columns, with each pair's lift over its better column alone (joint structure). 3 folds."""
    types = column_types(table)
    x = pd.concat([real, synth], ignore_index=True)
    for c in x.columns:
        x[c] = x[c].astype("category") if types.get(c) == "VARCHAR" else pd.to_numeric(x[c], errors="coerce")
    y = np.r_[np.zeros(len(real)), np.ones(len(synth))]
    single = pd.Series({c: _small_auc(x[[c]], y, 3, seed) for c in x.columns}).sort_values(ascending=False)
    print("      columns alone (AUC): " + ", ".join(f"{c} {a:.3f}" for c, a in single.head(top).items()),
          flush=True)
    cols = list(single.index[:pairs])
    lift = {}
    for i, a in enumerate(cols):
        for b in cols[i + 1:]:
            lift[(a, b)] = _small_auc(x[[a, b]], y, 3, seed) - max(single[a], single[b])
    best = sorted(lift.items(), key=lambda kv: -kv[1])[:top]
    print(f"      pairs of the first {len(cols)} (AUC lift over the better alone): "
          + ", ".join(f"{a} x {b} +{v:.3f}" for (a, b), v in best), flush=True)


#: first name tokens read as one family by ``--ablate`` (the region and city flags, the social circle, the bureau
#: requests)
FAMILY_OF_TOKEN = {"REG": "REGION", "LIVE": "REGION", "OBS": "SOCIAL", "DEF": "SOCIAL"}


def column_families(columns: list[str]) -> dict[str, list[str]]:
    """Families of columns for ``--ablate``: a building measure (``*_AVG`` / ``_MODE`` / ``_MEDI``) in ``building``,
    the bureau requests in ``REQ``, else by the name's first token (``DAYS``, ``AMT``, ``FLAG``, ...); a family of
    one column goes to ``other``."""
    out: dict[str, list[str]] = {}
    for c in columns:
        token = c.split("_")[0]
        if c.endswith(("_AVG", "_MODE", "_MEDI")):
            family = "building"
        elif c.startswith("AMT_REQ_"):
            family = "REQ"
        else:
            family = FAMILY_OF_TOKEN.get(token, token)
        out.setdefault(family, []).append(c)
    other = [c for cols in out.values() if len(cols) == 1 for c in cols]
    out = {k: v for k, v in out.items() if len(v) > 1}
    if other:
        out["other"] = other
    return out


def ablate(real: pd.DataFrame, synth: pd.DataFrame, table: str, folds: int, seed: int, auc: float) -> None:
    """Where the signal is, by family of columns (``--ablate``): the detection AUC without each family and of the
    family alone. A family whose columns are each harmless alone can still carry a pair across two families (stop
    32: the documents and the other flags at 0.51 and 0.52 alone, 0.59 together -- document 6 x employment),
    which ``--where``'s pairs of the best single columns miss."""
    rows = []
    for family, cols in column_families(list(real.columns)).items():
        keep = [c for c in real.columns if c not in cols]
        without = detection(real[keep], synth[keep], table, folds, seed)[0]
        alone = detection(real[cols], synth[cols], table, folds, seed)[0]
        rows.append((without - auc, family, len(cols), without, alone))
    for delta, family, n, without, alone in sorted(rows):
        print(f"      without {family} ({n} columns): {without:.4f} ({delta:+.4f}); alone {alone:.4f}", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, help="an existing synthetic data set (default: generate one)")
    ap.add_argument("--scale", type=float, default=0.03, help="scale of the generated set (default 0.03)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--top", type=int, default=8, help="revealing columns to print per table")
    ap.add_argument("--max-rows", type=int, default=20_000, help="real rows per table at most")
    ap.add_argument("--tables", nargs="+", default=list(REAL_SOURCE), choices=list(REAL_SOURCE))
    ap.add_argument("--where", type=int, default=0, metavar="K",
                    help="also the AUC of each column alone and of the pairs of the K most revealing ones")
    ap.add_argument("--ablate", action="store_true",
                    help="also the AUC without each family of columns and of each family alone")
    args = ap.parse_args()
    missing = [str(REAL_SOURCE[t]) for t in args.tables if not (REAL_SOURCE[t] / csv_name(t)).exists()]
    if missing:
        print(f"skipped: the real rows are not there ({', '.join(missing)})")
        return 0  # like the tests: no real data, nothing to compare with (make bench goes on)
    tmp = None
    data = args.data
    if data is None:
        tmp = Path(tempfile.mkdtemp(prefix="hc-bench-detection-"))
        data = tmp / "raw"
        start = time.perf_counter()
        generate(data, Plan.for_scale(args.scale, args.seed))
        print(
            f"generated scale {args.scale}, seed {args.seed} in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
    try:
        rng = np.random.default_rng(args.seed)
        print(
            f"detection AUC, {args.folds}-fold LightGBM, real vs as many synthetic rows "
            f"({os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})"
        )
        for table in args.tables:
            start = time.perf_counter()
            real = _read(REAL_SOURCE[table] / csv_name(table), table, args.max_rows, rng)
            synth = _read(data / csv_name(table), table, len(real), rng)
            if len(synth) < len(real):
                print(
                    f"  {table}: only {len(synth)} synthetic rows for {len(real)} real ones", file=sys.stderr
                )
                real = real.iloc[: len(synth)]
            auc, folds, gain = detection(real, synth, table, args.folds, args.seed)
            top = ", ".join(
                f"{c} {g:.0%}" for c, g in gain.sort_values(ascending=False).head(args.top).items()
            )
            print(
                f"  {table:<22} AUC {auc:.4f} (folds {min(folds):.3f}-{max(folds):.3f}), "
                f"{len(real):,} + {len(synth):,} rows, {time.perf_counter() - start:.0f} s",
                flush=True,
            )
            print(f"      revealing: {top}", flush=True)
            if args.where:
                where_signal(real, synth, table, args.seed, args.top, args.where)
            if args.ablate:
                ablate(real, synth, table, args.folds, args.seed, auc)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
