"""Benchmark of the modeling layer: training time, peak memory and single-applicant scoring latency.

    python bench/bench_train.py                          # HC_WAREHOUSE if it exists, else 20,000 synthetic rows
    python bench/bench_train.py --warehouse data/warehouse.duckdb --family lightgbm --n-jobs 2
    python bench/bench_train.py --synthetic-rows 307511 --features 500   # Kaggle-sized stand-in
    python bench/bench_train.py --pipeline               # also time the whole `make train` pipeline
    python bench/bench_train.py --pipeline-only --warehouse /work/scale1/warehouse.duckdb \
        --raw-dir /work/scale1/raw                       # only `make train`: wall time per step, peak RSS, AUC lift

It runs the selected-family cross-validation exactly as ``make train`` does (same folds, early stopping,
refit rule), fits the final model on every row, then times ``predict_proba`` + ``explain`` + ``reasons`` for
one applicant at a time. Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models_ml.cv import cross_validate, make_folds  # noqa: E402
from models_ml.data import FeatureSchema, FeatureSpec, TrainingData, load_training_set  # noqa: E402
from models_ml.families import Candidate, FitContext, default_params, fit_candidate  # noqa: E402
from models_ml.metrics import probability_metrics  # noqa: E402
from models_ml.predictor import Predictor  # noqa: E402
from models_ml.reasons import reason_codes  # noqa: E402
from models_ml.settings import ModelSettings  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def synthetic_data(n: int, n_features: int, seed: int) -> TrainingData:
    """A wide stand-in for the warehouse: numeric features with missing values, 10 categorical, 10 flags."""
    rng = np.random.default_rng(seed)
    n_num = max(1, n_features - 20)
    num = rng.normal(size=(n, n_num)).astype(np.float32)
    num[rng.uniform(size=num.shape) < 0.25] = np.nan
    cats = {f"cat_{j}": rng.choice([f"level_{k}" for k in range(8 + j)], size=n) for j in range(10)}
    flags = {f"flag_{j}": (rng.uniform(size=n) < 0.3).astype(float) for j in range(10)}
    logit = -2.6 + np.nansum(num[:, :10] * np.linspace(0.6, 0.1, min(10, n_num))[: num[:, :10].shape[1]], axis=1)
    logit += 0.4 * (cats["cat_0"] == "level_1") + 0.3 * flags["flag_0"]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    frame = pd.DataFrame(num.astype(np.float64), columns=[f"num_{j}" for j in range(n_num)])
    for k, v in cats.items():
        frame[k] = v.astype(object)
    for k, v in flags.items():
        frame[k] = v
    specs = [FeatureSpec(c, "numeric") for c in frame.columns if c.startswith("num_")]
    specs += [FeatureSpec(c, "categorical") for c in cats] + [FeatureSpec(c, "boolean") for c in flags]
    return TrainingData(frame, np.arange(n), y, FeatureSchema(tuple(specs)), [], Path("(synthetic)"))


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--warehouse", type=Path, help="DuckDB warehouse (default HC_WAREHOUSE when it exists)")
    p.add_argument("--synthetic-rows", type=int, default=20000, help="rows of the synthetic stand-in")
    p.add_argument("--features", type=int, default=300, help="features of the synthetic stand-in")
    p.add_argument("--family", default="lightgbm", choices=["lightgbm", "xgboost", "logistic_regression",
                                                              "random_forest"])
    p.add_argument("--imbalance", default="none", choices=["none", "class_weight", "undersample"])
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--latency-rows", type=int, default=200, help="single-applicant calls to time")
    p.add_argument("--pipeline", action="store_true", help="also time the whole training pipeline (make train)")
    p.add_argument("--pipeline-only", action="store_true",
                   help="only the whole training pipeline: per-step wall time, peak RSS, CV AUC (and its share of "
                        "the ground truth's AUC lift when --raw-dir holds the generator's ground_truth.csv)")
    p.add_argument("--raw-dir", type=Path, help="raw CSV folder with ground_truth.csv (synthetic data)")
    p.add_argument("--profile", choices=["full", "demo", "fast"], help="training profile of the pipeline run")
    p.add_argument("--time-budget", type=float, help="HC_TIME_BUDGET_S of the pipeline run")
    p.add_argument("--artifacts", type=Path,
                   help="keep the pipeline run's artifacts in this folder (e.g. for bench_api.py); default: a "
                        "temporary folder, removed")
    args = p.parse_args()
    if args.pipeline_only:
        return pipeline(args)

    settings = ModelSettings()
    warehouse = args.warehouse or (settings.warehouse if settings.warehouse.is_file() else None)
    t0 = time.perf_counter()
    if warehouse is not None:
        data = load_training_set(warehouse)
        source = str(warehouse)
    else:
        data = synthetic_data(args.synthetic_rows, args.features, 0)
        source = f"synthetic stand-in ({args.synthetic_rows:,} x {args.features})"
    load_s = time.perf_counter() - t0
    y = data.target
    print(f"data            {source}: {data.n_rows:,} rows, {len(data.schema.features)} features, "
          f"default rate {100 * y.mean():.2f} %, loaded in {load_s:.1f} s")

    profile = settings.profile
    ctx = FitContext(data.schema, profile, 0, args.n_jobs, settings.undersample_ratio)
    cand = Candidate(args.family, args.imbalance, default_params(args.family, data.n_rows, profile))
    folds = make_folds(y, args.folds, 0)
    t0 = time.perf_counter()
    res = cross_validate(cand, data.frame, y, folds, ctx)
    cv_s = time.perf_counter() - t0
    auc = probability_metrics(y, res.oof)["roc_auc"]
    print(f"{args.folds}-fold CV       {cand.key}: {cv_s:.1f} s ({cv_s / 60:.2f} min) with {args.n_jobs} thread(s), "
          f"rounds {res.mean_rounds}, out-of-fold ROC AUC {auc:.4f}")
    t0 = time.perf_counter()
    rounds = max(1, int(round(res.mean_rounds * 1.1))) if res.mean_rounds else None
    model = fit_candidate(cand, data.frame, y, ctx, n_rounds=rounds)
    predictor = Predictor.from_fitted(model, data.schema, data.frame)
    print(f"final fit       {time.perf_counter() - t0:.1f} s on every row")

    lat = {"predict": [], "explain+reasons": []}
    rng = np.random.default_rng(1)
    for i in rng.choice(data.n_rows, size=min(args.latency_rows, data.n_rows), replace=False):
        row = data.frame.iloc[[int(i)]]
        t = time.perf_counter()
        data.schema.prepare(row)
        predictor.predict_raw(row)
        lat["predict"].append(time.perf_counter() - t)
        t = time.perf_counter()
        reason_codes(predictor.explain(data.schema.prepare(row)), top_k=5)
        lat["explain+reasons"].append(time.perf_counter() - t)
    for k, v in lat.items():
        ms = np.array(v) * 1000
        print(f"one applicant   {k:<16} p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms")

    if args.pipeline and warehouse is not None:
        from models_ml.train import run_training

        with tempfile.TemporaryDirectory() as tmp:
            run_settings = settings.model_copy(update={"warehouse": warehouse, "artifacts": Path(tmp),
                                                       "n_jobs": args.n_jobs})
            t0 = time.perf_counter()
            run_training(run_settings)
            print(f"make train      {time.perf_counter() - t0:.1f} s for the whole pipeline")
    print(f"peak memory     {peak_rss_mb():,.0f} MB (max resident set size of this process)")
    return 0


def pipeline(args: argparse.Namespace) -> int:
    """`make train` once, on a temporary artifacts folder; figures from its metadata.json."""
    import json

    from models_ml.train import run_training

    settings = ModelSettings()
    update: dict[str, object] = {"warehouse": args.warehouse or settings.warehouse, "n_jobs": args.n_jobs}
    if args.profile:
        update["train_profile"] = args.profile
    if args.time_budget:
        update["time_budget_s"] = args.time_budget
    with tempfile.TemporaryDirectory() as tmp:
        run_settings = settings.model_copy(update={**update, "artifacts": args.artifacts or Path(tmp)})
        t0 = time.perf_counter()
        path = run_training(run_settings)
        wall = time.perf_counter() - t0
        meta = json.loads((path / "metadata.json").read_text())
    print(f"make train      {wall:.1f} s ({wall / 60:.1f} min) wall, profile {run_settings.train_profile}, budget "
          f"{run_settings.budget_s:.0f} s, {meta['data']['rows']:,} rows")
    for step, seconds in meta["timings_s"].items():
        print(f"  {step:<24} {seconds:8.1f} s")
    reached = max(r["n_rows"] for r in meta["comparison"])
    print(f"comparison      {len(meta['comparison'])} candidates, {sum(r['n_rows'] == reached for r in meta['comparison'])}"
          f" on {reached:,} rows; tuning trials {max(len(meta['tuning']) - 1, 0)}")
    for row in sorted(meta["comparison"], key=lambda r: (-r["n_rows"], r["fit_seconds"])):
        print(f"  {row['model_family'] + '/' + row['imbalance']:<34} {row['n_rows']:>7,} rows {row['fit_seconds']:7.1f} s"
              f"  cost {row['business_cost']:.4f}")
    for note in meta["notes"]:
        print(f"  note: {note}")
    chosen = next(r for r in meta["comparison"] if (r["model_family"], r["imbalance"]) ==
                  (meta["model_family"], meta["imbalance"]))
    if chosen["n_rows"] < meta["data"]["rows"]:  # what the planner reserved for the final cross-validation
        print(f"final CV        planned ~{chosen['fit_seconds'] * meta['data']['rows'] / chosen['n_rows']:.0f} s "
              f"(scaled from the comparison), took {meta['timings_s'].get('final_cv_s', float('nan')):.0f} s")
    auc = meta["metrics"]["roc_auc"]
    print(f"selected        {meta['model_family']}/{meta['imbalance']}: CV ROC AUC {auc:.4f}, cost/applicant "
          f"{meta['metrics']['business_cost']:.4f} (best trivial {min(meta['trivial_policies'].values()):.4f})")
    truth = (args.raw_dir / "ground_truth.csv") if args.raw_dir else None
    if truth is not None and truth.is_file():
        from sklearn.metrics import roc_auc_score

        # ids and target only: a second read of the whole training set here was the process's peak at SCALE=1
        con = duckdb.connect(str(run_settings.warehouse), read_only=True)
        try:
            ids, target = (np.asarray(c) for c in zip(*con.execute(
                "select sk_id_curr, target from training_set order by sk_id_curr").fetchall(), strict=True))
        finally:
            con.close()
        gt = pd.read_csv(truth).set_index("SK_ID_CURR")["DEFAULT_PROBABILITY"]
        gt_auc = roc_auc_score(target.astype(int), gt.reindex(ids).to_numpy())
        print(f"ground truth    AUC {gt_auc:.4f}; the model reaches {100 * (auc - 0.5) / (gt_auc - 0.5):.1f} % of "
              "its AUC lift over 0.5")
    print(f"peak memory     {peak_rss_mb():,.0f} MB (max resident set size of this process)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
