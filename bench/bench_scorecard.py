"""Benchmark of the scorecard family next to the boosted families, on the same folds and business cost.

    HC_RAW_DIR=../shared/data/home-credit-sample HC_WAREHOUSE=/tmp/h13/wh.duckdb python -m warehouse.build
    python bench/bench_scorecard.py --warehouse /tmp/h13/wh.duckdb
    python bench/bench_scorecard.py --warehouse data/warehouse.duckdb --families scorecard,lightgbm --folds 3
    python bench/bench_scorecard.py --families lightgbm --profile fast --protected ''   # with gender, to compare

Cross-validates each family exactly as ``make train`` compares them (``models_ml.cv.cross_validate``, the
selected settings, protected attributes left out), then fits the scorecard once on every row. Prints the
out-of-fold ROC AUC, business cost per applicant at each one's best threshold, the characteristics the
scorecard keeps, and fit times. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models_ml.cv import cross_validate, make_folds  # noqa: E402
from models_ml.data import load_training_set  # noqa: E402
from models_ml.families import Candidate, FitContext, default_params  # noqa: E402
from models_ml.scorecard import fit_scorecard  # noqa: E402
from models_ml.settings import ModelSettings  # noqa: E402
from models_ml.steps import row_costs, summarize_cv  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--warehouse", type=Path, help="DuckDB warehouse (default HC_WAREHOUSE)")
    p.add_argument("--families", default="scorecard,lightgbm,xgboost")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--profile", choices=["full", "fast"], default="full")
    p.add_argument("--protected", help="protected attributes for this run (default HC_PROTECTED_ATTRIBUTES); "
                   "'' to measure what leaving gender out costs")
    args = p.parse_args(argv)
    overrides: dict[str, object] = {"n_folds": args.folds, "train_profile": args.profile}
    if args.protected is not None:
        overrides["protected_attributes"] = args.protected
    if args.warehouse:
        overrides["warehouse"] = args.warehouse
    settings = ModelSettings(**overrides)  # type: ignore[arg-type]
    t0 = time.perf_counter()
    data = load_training_set(settings.warehouse, min_per_class=settings.n_folds, protected=settings.protected_columns)
    X, y = data.frame, data.target
    print(f"data: {len(y):,} rows, {len(data.schema.features)} features (left out as protected: "
          f"{sorted(data.protected)}), default rate {y.mean():.2%}, loaded in {time.perf_counter() - t0:.1f} s")
    ctx = FitContext(data.schema, settings.profile, settings.seed, settings.effective_n_jobs,
                     settings.undersample_ratio, settings.scorecard_config)
    folds = make_folds(y, settings.n_folds, settings.seed)
    costs = row_costs(settings, X)
    rows = []
    for family in args.families.split(","):
        cand = Candidate(family, "none", default_params(family, len(y), settings.profile))
        res = cross_validate(cand, X, y, folds, ctx)
        row = summarize_cv(res, y, folds, costs)
        rows.append(row)
        print(f"{family:<12} OOF ROC AUC {row['roc_auc']:.4f}  cost/applicant {row['business_cost']:.4f} "
              f"(+/- {row['business_cost_se']:.4f})  CV fit {res.seconds:.1f} s ({settings.n_folds} folds)"
              + (f", {res.mean_rounds} rounds" if res.mean_rounds else ""))
    if any(f == "scorecard" for f in args.families.split(",")):
        t = time.perf_counter()
        model = fit_scorecard(X, y, data.schema, settings.scorecard_config)
        lo, hi = model.score_range()
        print(f"scorecard on every row: {len(model.names)} characteristics kept of "
              f"{model.info['screened']} binned ({len(data.schema.features)} screened by IV), fit "
              f"{time.perf_counter() - t:.1f} s, scores {lo:g}..{hi:g}; dropped for a wrong sign: "
              f"{model.info['dropped_wrong_sign'] or 'none'}")
        for c in sorted(model.characteristics, key=lambda c: -c.iv):
            print(f"  {c.name:<40} IV {c.iv:.3f}  {c.n_regular} bins  {c.trend or 'categorical'}")
    boosted = [r for r in rows if r["model_family"] in ("lightgbm", "xgboost")]
    sc = next((r for r in rows if r["model_family"] == "scorecard"), None)
    if sc and boosted:
        best = min(boosted, key=lambda r: r["business_cost"])
        print(f"scorecard vs best boosted ({best['model_family']}): AUC {sc['roc_auc'] - best['roc_auc']:+.4f}, "
              f"cost/applicant {sc['business_cost'] - best['business_cost']:+.4f}")
    print(f"total {time.perf_counter() - t0:.1f} s; load: {np.round(__import__('os').getloadavg(), 2).tolist()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
