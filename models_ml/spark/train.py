"""``python -m models_ml.spark.train`` (``make train ENGINE=spark``): fit XGBoost on a Spark DataFrame with the
distributed trainer ``xgboost.spark.SparkXGBClassifier`` and write the same versioned artifact as
``models_ml.train`` (XGBoost JSON model, preprocessing.json, calibration, threshold, model card), so the API
serves it unchanged.

Distributed: encoding, stratified fold assignment, the k cross-validation fits, the out-of-fold predictions
and the final fit (``num_workers`` XGBoost workers = Spark tasks, HC_SPARK_WORKERS). On the driver: one
float per row (out-of-fold probability, target, fold, credit amount, protected attributes for the fairness
table) and a sample of rows for the explanations -- the business cost, calibration, threshold, metrics,
model card and verification are the shared training steps of models_ml.steps (calibrate, threshold, explain,
package, promote), the same functions models_ml.train composes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from models_ml.cv import CVResult, stratified_subsample
from models_ml.data import ID_COLUMN, NON_FEATURES, TARGET_COLUMN, TrainingData
from models_ml.errors import ModelingError
from models_ml.families import BoostedModel, Candidate, FitContext, _xgb_params, default_params
from models_ml.predictor import Predictor
from models_ml.protected import protected_features
from models_ml.settings import ModelSettings
from models_ml.spark.data import (
    FEATURES_COL,
    FOLD_COL,
    SparkTrainingData,
    encoded,
    fit_encoder,
    training_rows,
)
from models_ml.spark.session import read_table, spark_session, table_folder
from models_ml.steps import (
    ModelPackage,
    calibrate,
    choose_threshold,
    explain,
    new_version,
    package,
    promote_version,
    reference_sample,
    row_costs,
    summarize_cv,
)
from models_ml.train import print_version_summary
from warehouse.spark_build import FEATURE_SQL_FILE
from warehouse.spark_settings import SparkSettings, SparkUnavailableError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

log = logging.getLogger("models_ml.spark.train")

FAMILY = "xgboost"  # the boosted family with a maintained distributed trainer on Spark (docs/scale-out.md)
INNER_VALIDATION_PCT = 15  # % of the training part kept for early stopping (as models_ml.families)
VALID_COL = "is_validation"
PROBA_COL = "p_default"
DRIVER_COLUMNS = ("amt_credit", "code_gender", "age_years", "days_birth", "name_family_status")
_IGNORED_XGB = {"nthread", "objective"}  # set by xgboost.spark itself (spark.task.cpus, the classifier)


def with_folds(rows: DataFrame, n_folds: int, seed: int) -> DataFrame:
    """Stratified folds: within each class, rows ordered by a seeded hash of the id are dealt round-robin.
    Inner validation rows (early stopping) are a seeded hash share of every fold."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    order = Window.partitionBy(TARGET_COLUMN).orderBy(F.xxhash64(F.col(ID_COLUMN), F.lit(seed)), ID_COLUMN)
    return (rows.withColumn(FOLD_COL, ((F.row_number().over(order) - 1) % n_folds).cast("int"))
            .withColumn(VALID_COL, F.pmod(F.xxhash64(F.col(ID_COLUMN), F.lit(seed + 1)), F.lit(100))
                        < INNER_VALIDATION_PCT))


def xgb_estimator(candidate: Candidate, ctx: FitContext, y_counts: dict[int, int], names: list[str],
                  types: list[str], workers: int, rounds: int, early_stopping: int | None,
                  overrides: dict[str, Any]) -> Any:
    """``SparkXGBClassifier`` with the single-machine parameters of ``families._xgb_params``."""
    from xgboost.spark import SparkXGBClassifier

    y_proxy = np.repeat([0, 1], [y_counts[0], y_counts[1]])  # class_weight needs the class ratio only
    params = {k: v for k, v in _xgb_params(candidate, ctx, y_proxy).items() if k not in _IGNORED_XGB}
    params.update(overrides)
    kwargs: dict[str, Any] = {"validation_indicator_col": VALID_COL, "early_stopping_rounds": early_stopping} \
        if early_stopping else {}
    return SparkXGBClassifier(
        features_col=FEATURES_COL, label_col=TARGET_COLUMN, num_workers=workers, n_estimators=rounds,
        feature_names=names, feature_types=types, missing=float("nan"), probability_col="probability",
        **kwargs, **params)


def _best_rounds(model: Any, fallback: int) -> int:
    booster = model.get_booster()
    best = getattr(booster, "best_iteration", None)
    return int(best) + 1 if best is not None else min(fallback, booster.num_boosted_rounds())


def cross_validate_spark(frame: DataFrame, estimator_for: Any, n_folds: int) -> tuple[pd.DataFrame, list[int]]:
    """Fit on k-1 folds (early stopping on their inner validation rows), predict the held-out fold; returns
    the out-of-fold rows (id, target, fold, probability) collected to the driver and the rounds per fold."""
    from pyspark.ml.functions import vector_to_array
    from pyspark.sql import functions as F

    parts, rounds = [], []
    for fold in range(n_folds):
        model = estimator_for().fit(frame.where(F.col(FOLD_COL) != fold))
        rounds.append(_best_rounds(model, 10**9))
        held = model.transform(frame.where(F.col(FOLD_COL) == fold))
        parts.append(held.select(ID_COLUMN, TARGET_COLUMN, FOLD_COL,
                                 vector_to_array(F.col("probability"))[1].alias(PROBA_COL)).toPandas())
        log.info("fold %d/%d: %d rounds", fold + 1, n_folds, rounds[-1])
    oof = pd.concat(parts, ignore_index=True).sort_values(ID_COLUMN, kind="stable").reset_index(drop=True)
    return oof, rounds


def _sample_frame(data: SparkTrainingData, ids: np.ndarray) -> pd.DataFrame:
    """The training rows of ``ids`` (a small sample) on the driver, in canonical form, ordered like ``ids``."""
    from pyspark.sql import functions as F

    raw = data.rows.where(F.col(ID_COLUMN).isin([int(i) for i in ids])).toPandas()
    return raw.set_index(ID_COLUMN).loc[list(ids)].reset_index()


def _spark_fingerprint(data: SparkTrainingData, encoded_frame: DataFrame) -> str:
    """SHA-256 over the schema and an order-independent hash of every encoded row (same data => same print)."""
    from pyspark.sql import functions as F

    total = encoded_frame.select(F.sum(F.xxhash64(ID_COLUMN, TARGET_COLUMN, FEATURES_COL).cast("decimal(38,0)"))
                                 .alias("h")).collect()[0]["h"]
    h = hashlib.sha256(repr(data.schema.to_list()).encode())
    h.update(f"{data.n_rows}|{total}".encode())
    return "sha256:" + h.hexdigest()


def run_spark_training(settings: ModelSettings, spark_settings: SparkSettings | None = None,
                       xgb_overrides: dict[str, Any] | None = None, imbalance: str = "none") -> Path:
    """Train on Spark, write a new model version and (unless ``promote`` is off) promote it; returns its path."""
    spark_settings = spark_settings or SparkSettings()
    overrides = dict(xgb_overrides or {})
    started = time.perf_counter()
    timings: dict[str, float] = {}
    where = str(table_folder(spark_settings, "applicant_features"))  # before starting Spark
    spark = spark_session(spark_settings, "homecredit-train")
    logging.getLogger("XGBoost-PySpark").setLevel(logging.WARNING)  # it logs every parameter at INFO
    table = read_table(spark, spark_settings, "applicant_features")
    left_out = protected_features([c for c in table.columns if c not in NON_FEATURES], settings.protected_columns,
                                  _feature_sql(spark_settings)) if settings.protected_columns else {}
    data = training_rows(table, where, min_per_class=settings.n_folds, protected=left_out)
    profile = settings.profile
    n = data.n_rows
    log.info("training rows on Spark: %d rows, %d features, classes %s (%s)", n, len(data.schema.features),
             data.counts, where)
    encoder = fit_encoder(data.rows, data.schema)
    names = data.schema.names
    types = ["c" if f.type == "categorical" else "q" for f in data.schema.features]
    keep = [ID_COLUMN, TARGET_COLUMN]
    frame = with_folds(encoded(data.rows, encoder, keep), settings.n_folds, settings.seed).cache()
    ctx = FitContext(data.schema, profile, settings.seed, settings.effective_n_jobs, settings.undersample_ratio)
    candidate = Candidate(FAMILY, imbalance, {**default_params(FAMILY, n, profile), **overrides})
    workers = spark_settings.spark_workers

    # 1. cross-validation on Spark (identical stratified folds for every fit), out-of-fold rows to the driver
    t0 = time.perf_counter()
    oof_rows, rounds = cross_validate_spark(
        frame, lambda: xgb_estimator(candidate, ctx, data.counts, names, types, workers, profile.max_boost_rounds,
                                     profile.early_stopping_rounds, overrides), settings.n_folds)
    cv = CVResult(candidate, oof_rows[PROBA_COL].to_numpy(dtype=float), rounds, time.perf_counter() - t0)
    timings["cross_validation_s"] = cv.seconds
    y = oof_rows[TARGET_COLUMN].to_numpy(dtype=int)
    folds = oof_rows[FOLD_COL].to_numpy(dtype=int)
    oof = cv.oof
    present = [c for c in DRIVER_COLUMNS if c in data.rows.columns]
    side = data.rows.select(ID_COLUMN, *present).toPandas().set_index(ID_COLUMN).loc[oof_rows[ID_COLUMN]]
    side = side.reset_index(drop=True)
    costs = row_costs(settings, side)
    row = summarize_cv(cv, y, folds, costs)

    # 2. calibrate, threshold: the shared steps on the out-of-fold probabilities
    calibrated = calibrate(oof, y, folds, imbalance, settings.undersample_ratio)
    decision = choose_threshold(y, calibrated.p_cal, oof, folds, costs, side)
    log.info("cross-validated on Spark: AUC %.4f, cost/applicant %.4f, threshold %.4f, calibration %s",
             decision.metrics["roc_auc"], decision.metrics["business_cost"], decision.threshold,
             calibrated.calibrator.method)

    # 3. final distributed fit on every row
    t0 = time.perf_counter()
    n_rounds = max(1, int(round(cv.mean_rounds * 1.1))) if cv.mean_rounds is not None else profile.max_boost_rounds
    final = xgb_estimator(candidate, ctx, data.counts, names, types, workers, n_rounds, None, overrides).fit(frame)
    booster = final.get_booster()
    model = BoostedModel(FAMILY, encoder, booster, int(booster.num_boosted_rounds()))
    predictor = Predictor(FAMILY, data.schema, model)
    timings["final_fit_s"] = time.perf_counter() - t0
    fingerprint = _spark_fingerprint(data, frame)
    frame.unpersist()

    # 4. explain (shared step) and the reference sample, on a stratified sample collected to the driver
    t0 = time.perf_counter()
    sample_idx = np.sort(stratified_subsample(y, max(profile.shap_sample, profile.reference_sample), settings.seed))
    sample_ids = oof_rows[ID_COLUMN].to_numpy()[sample_idx]
    raw_sample = _sample_frame(data, sample_ids)
    X_sample = data.schema.prepare(raw_sample)
    X_sample.index = pd.RangeIndex(len(X_sample))
    sample_data = TrainingData(X_sample, sample_ids, y[sample_idx], data.schema, data.excluded_columns, Path(where))
    explained = explain(predictor, X_sample, calibrated.calibrator.transform, decision.threshold,
                        profile.shap_sample, settings.seed)
    reference = reference_sample(sample_data, calibrated.p_cal[sample_idx], settings.seed, profile.reference_sample)
    timings["explain_s"] = time.perf_counter() - t0

    # 5. package and 6. promote: the shared steps (same files, metadata and verification as one machine)
    version, created = new_version(fingerprint, f"spark|{settings.model_dump_json()}|{overrides}")
    notes = [f"trained on Apache Spark ({spark_settings.spark_master}) with xgboost.spark.SparkXGBClassifier, "
             f"{workers} worker(s); family fixed to xgboost (no family comparison or tuning on Spark); early "
             f"stopping with patience {profile.early_stopping_rounds} on a {INNER_VALIDATION_PCT} % hash-chosen "
             "inner validation share of each training part"]
    pkg = ModelPackage(
        settings=settings, version=version, created=created, candidate=candidate, params=row["params"],
        n_rounds=n_rounds, predictor=predictor, calibrated=calibrated, decision=decision, explained=explained,
        reference=reference, y=y, oof=oof, costs=costs, schema=data.schema, excluded_columns=data.excluded_columns,
        features_left_out=left_out, fingerprint=fingerprint, comparison=[row], tuning=[],
        selection_rule="Spark engine: the xgboost family only (distributed trainer), default parameters of the "
                       "training profile; calibration and threshold chosen as on one machine",
        data={"rows": n, "features": len(data.schema.features), "defaults": int(y.sum()),
              "default_rate": float(y.mean()), "comparison_rows": n, "warehouse": where},
        timings=timings, notes=notes, started=started, source="Spark training metadata",
        extra={"engine": "spark", "spark": {"master": spark_settings.spark_master, "num_workers": workers,
                                            "trainer": "xgboost.spark.SparkXGBClassifier",
                                            "pyspark": _pyspark_version()}})
    path = package(pkg)
    log.info("wrote %s", path)
    promote_version(path, settings.artifacts, settings.promote)
    return path


def _pyspark_version() -> str:
    import pyspark

    return pyspark.__version__


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m models_ml.spark.train", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--artifacts", type=Path, help="artifacts folder (HC_ARTIFACTS)")
    p.add_argument("--cost-fn", type=float, help="cost of a missed defaulter (HC_COST_FN, default 10)")
    p.add_argument("--cost-fp", type=float, help="cost of a refused good client (HC_COST_FP, default 1)")
    p.add_argument("--cost-mode", choices=["count", "money"], help="count or money-based cost (HC_COST_MODE)")
    p.add_argument("--folds", dest="n_folds", type=int, help="cross-validation folds (HC_N_FOLDS, default 5)")
    p.add_argument("--seed", type=int, help="random seed (HC_SEED, default 0)")
    p.add_argument("--profile", dest="train_profile", choices=["full", "demo", "fast"],
                   help="full, or fast for tests (HC_TRAIN_PROFILE)")
    p.add_argument("--imbalance", choices=["none", "class_weight"], default="none",
                   help="class weighting of the defaulters (default none; calibration corrects the prior)")
    p.add_argument("--xgb-params", type=json.loads, default=None,
                   help='JSON object of XGBoost parameters over the profile defaults, e.g. \'{"max_depth": 6}\'')
    p.add_argument("--no-promote", dest="promote", action="store_const", const=False,
                   help="write the version without switching models/current")
    return p


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    args = build_parser().parse_args(argv)
    special = {"imbalance", "xgb_params"}
    overrides = {k: v for k, v in vars(args).items() if v is not None and k not in special}
    try:
        settings = ModelSettings(**overrides)
        path = run_spark_training(settings, xgb_overrides=args.xgb_params, imbalance=args.imbalance)
    except SparkUnavailableError as exc:
        print(f"error: cannot run Spark: {exc}")
        return 2
    except ModelingError as exc:
        log.error("training failed: %s", exc)
        print(f"error: {exc}")
        return 2
    print_version_summary(path, engine="Spark")
    return 0


def _feature_sql(spark_settings: SparkSettings) -> list[str]:
    """The Spark build's compiled feature SQL (the lineage of protected attributes); [] for an older build,
    which still leaves the protected columns themselves out by name."""
    path = spark_settings.spark_warehouse / FEATURE_SQL_FILE
    if not path.is_file():
        log.warning("%s not found in the Spark warehouse: features derived from protected attributes are found "
                    "by name only (rebuild with `make warehouse ENGINE=spark`)", FEATURE_SQL_FILE)
        return []
    return [m["compiled_sql"] for m in json.loads(path.read_text())]


if __name__ == "__main__":
    raise SystemExit(main())
