"""Per-candidate cost of the model families: cross-validation time and out-of-fold ROC AUC of every compared
candidate (family x imbalance strategy), as ``make train``'s comparison runs them.

    python bench/bench_families.py --warehouse /tmp/h11f/sample.duckdb                 # the real sample, all rows
    python bench/bench_families.py --warehouse /work/scale1/warehouse.duckdb --max-rows 60000   # SCALE=1 comparison
    python bench/bench_families.py --families lightgbm,xgboost --no-cache   # without the binned-data cache

Same folds, profile, early stopping and pooled rounds as ``make train`` (``HC_TRAIN_PROFILE``, default full).
With the cache (the default), each fold's binned LightGBM / XGBoost data is built once and reused by every
candidate of the family; ``--no-cache`` rebuilds it per candidate. Prints one line per candidate and the total;
nothing is asserted.
"""

from __future__ import annotations

import argparse
import dataclasses
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models_ml.cv import cross_validate, make_folds, stratified_subsample  # noqa: E402
from models_ml.data import load_training_set  # noqa: E402
from models_ml.families import Candidate, FitContext, default_params, imbalance_strategies  # noqa: E402
from models_ml.metrics import probability_metrics  # noqa: E402
from models_ml.settings import FAMILIES, ModelSettings  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--warehouse", type=Path, required=True, help="DuckDB warehouse with training_set")
    p.add_argument("--max-rows", type=int, default=60_000, help="stratified subsample, as the comparison")
    p.add_argument("--families", default=",".join(f for f in FAMILIES if f != "dummy"))
    p.add_argument("--imbalance", default="", help="only these strategies (comma-separated), default all")
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--no-cache", action="store_true", help="rebuild the binned boosting data per candidate")
    args = p.parse_args()

    settings = ModelSettings()
    t0 = time.perf_counter()
    data = load_training_set(args.warehouse, protected=settings.protected_columns)
    idx = stratified_subsample(data.target, args.max_rows, settings.seed)
    X, y = data.frame.iloc[idx].reset_index(drop=True), data.target[idx]
    print(f"data        {args.warehouse}: {len(y):,} of {data.n_rows:,} rows, {len(data.schema.features)} features, "
          f"loaded in {time.perf_counter() - t0:.1f} s; profile {settings.train_profile}, {args.n_jobs} thread(s)")
    ctx = FitContext(data.schema, settings.profile, settings.seed, args.n_jobs, settings.undersample_ratio,
                     settings.scorecard_config, settings.monotone)
    if args.no_cache and hasattr(ctx, "data_cache"):
        ctx = dataclasses.replace(ctx, data_cache=None)
    if not hasattr(ctx, "data_cache"):
        print("(no binned-data cache in this version)")
    folds = make_folds(y, settings.n_folds, settings.seed)
    wanted = [s for s in args.imbalance.split(",") if s]
    total = total_cpu = 0.0
    for family in [f for f in args.families.split(",") if f]:
        for imbalance in imbalance_strategies(family):
            if wanted and imbalance not in wanted:
                continue
            cand = Candidate(family, imbalance, default_params(family, len(y), settings.profile))
            start, cpu = time.perf_counter(), time.process_time()
            res = cross_validate(cand, X, y, folds, ctx)
            seconds, cpu_s = time.perf_counter() - start, time.process_time() - cpu
            total += seconds
            total_cpu += cpu_s
            auc = probability_metrics(y, res.oof)["roc_auc"]
            rounds = f", {res.mean_rounds} rounds" if res.mean_rounds is not None else ""
            print(f"{cand.key:<34} {seconds:7.1f} s wall {cpu_s:7.1f} s CPU  CV ROC AUC {auc:.4f}{rounds}", flush=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"total       {total:.1f} s wall, {total_cpu:.1f} s CPU for the candidates; peak memory {peak:,.0f} MB "
          f"(CPU time: the fairer figure on a loaded machine)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
