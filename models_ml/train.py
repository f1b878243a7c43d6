"""``python -m models_ml.train``: compare, select, tune, calibrate, choose the threshold, explain, write and
promote a new model version (see docs/modeling.md)."""

from __future__ import annotations

import argparse
import hashlib
import importlib
import json
import logging
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hc_contracts.metadata import build_metadata, write_metadata
from models_ml import plots, track
from models_ml.calibration import CalibrationChoice, choose_calibration
from models_ml.cost import (
    RowCosts,
    bayes_threshold,
    best_trivial,
    cost_curve,
    cross_fitted_cost,
    optimal_threshold,
    trivial_costs,
)
from models_ml.cv import CVResult, cross_validate, make_folds, stratified_subsample
from models_ml.data import TrainingData, data_fingerprint, load_training_set
from models_ml.errors import ModelingError, TrainingDataError
from models_ml.explain import Explanation, global_importance
from models_ml.families import (
    SEARCH_SPACE,
    Candidate,
    FitContext,
    default_params,
    fit_candidate,
    imbalance_strategies,
    prior_beta,
)
from models_ml.governance import (
    constrained_features,
    monotone_cost,
    scorecard_card,
    strongest_characteristics,
)
from models_ml.metrics import decision_metrics, fairness_report, fold_spread, probability_metrics
from models_ml.model_card import write_model_card
from models_ml.predictor import Predictor
from models_ml.reasons import FeatureLabeler, reason_codes, without_values
from models_ml.registry import CALIBRATION_FILE, METADATA_FILE, load_version, promote, write_version
from models_ml.settings import ModelSettings

log = logging.getLogger("models_ml.train")

PACKAGES = {"numpy": "numpy", "pandas": "pandas", "scikit-learn": "sklearn", "imbalanced-learn": "imblearn",
            "lightgbm": "lightgbm", "xgboost": "xgboost", "shap": "shap", "skops": "skops", "duckdb": "duckdb",
            "optbinning": "optbinning", "fairlearn": "fairlearn"}


def row_costs(settings: ModelSettings, frame: pd.DataFrame) -> RowCosts:
    if settings.cost_mode == "money":
        if "amt_credit" not in frame.columns:
            raise TrainingDataError("cost_mode=money needs the feature column 'amt_credit' (credit amount)")
        return RowCosts.money(frame["amt_credit"].to_numpy(dtype=float), settings.loss_given_default,
                              settings.lost_margin_rate)
    return RowCosts.constant(len(frame), settings.cost_fn, settings.cost_fp)


def summarize_cv(res: CVResult, y: np.ndarray, folds: np.ndarray, costs: RowCosts) -> dict[str, Any]:
    n = len(y)
    thr, cost = optimal_threshold(y, res.oof, costs)
    _, best_cost = best_trivial(y, costs)
    pm = probability_metrics(y, res.oof)
    per_fold = fold_spread(y, res.oof, folds, thr, costs)["business_cost_folds"]
    return {
        "model_family": res.candidate.family, "imbalance": res.candidate.imbalance,
        "params": dict(res.candidate.params),
        "roc_auc": pm["roc_auc"], "pr_auc": pm["pr_auc"], "brier_uncalibrated": pm["brier"],
        "business_cost": cost / n, "threshold_uncalibrated": thr,
        "business_cost_se": float(np.std(per_fold, ddof=1) / np.sqrt(len(per_fold))),
        "business_cost_cv_threshold": cross_fitted_cost(y, res.oof, folds, costs) / n,
        "cost_vs_best_trivial": cost / best_cost if best_cost > 0 else float("nan"),
        "boosting_rounds": res.mean_rounds, "n_rows": n, "fit_seconds": round(res.seconds, 2),
    }


def select(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """One-standard-error rule under the business cost: among the candidates whose out-of-fold cost is within
    one standard error (over folds) of the lowest, the highest ROC AUC. The dummy baseline never wins."""
    pool = [r for r in rows if r["model_family"] != "dummy"] or rows
    best = min(pool, key=lambda r: (r["business_cost"], -r["roc_auc"]))
    limit = best["business_cost"] + best.get("business_cost_se", 0.0) + 1e-12
    near = [r for r in pool if r["business_cost"] <= limit]
    return max(near, key=lambda r: (r["roc_auc"], -r["business_cost"]))


def risk_bands(threshold: float) -> list[dict[str, Any]]:
    """Four bands on the calibrated probability; the threshold separates the grant and refuse bands."""
    t = float(threshold)
    edges = [0.0, t / 2, t, min(1.0, 2 * t), 1.0]
    names = ["low", "moderate", "high", "very high"]
    bands = [{"name": n, "lower": edges[i], "upper": edges[i + 1], "decision": "grant" if i < 2 else "refuse"}
             for i, n in enumerate(names) if edges[i + 1] > edges[i]]
    bands[-1]["upper"] = 1.0
    return bands


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist, module in PACKAGES.items():
        try:
            out[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            try:
                out[dist] = str(getattr(importlib.import_module(module), "__version__", "unknown"))
            except ImportError:
                out[dist] = "not installed"
    return out


@dataclass
class RunState:
    """Everything the run computed; becomes metadata.json and the model card."""

    settings: ModelSettings
    data: TrainingData
    started: float = field(default_factory=time.perf_counter)
    timings: dict[str, float] = field(default_factory=dict)
    comparison: list[dict[str, Any]] = field(default_factory=list)
    tuning: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started


def _tune(state: RunState, best: Candidate, best_row: dict[str, Any], X: pd.DataFrame, y: np.ndarray,
          folds: np.ndarray, costs: RowCosts, ctx: FitContext) -> tuple[Candidate, dict[str, Any]]:
    settings = state.settings
    space = SEARCH_SPACE.get(best.family, {})
    trials = settings.profile.tuning_trials
    if not space or trials <= 0:
        return best, best_row
    rng = np.random.default_rng(settings.seed)
    seen = {json.dumps(best_row["params"], sort_keys=True)}
    rows = [best_row]
    candidates = [best]
    for _ in range(trials * 5):
        if len(rows) > trials:
            break
        if state.elapsed() > settings.time_budget_s:
            state.notes.append(f"tuning stopped after {len(rows) - 1} trial(s): time budget "
                               f"{settings.time_budget_s:.0f} s reached")
            break
        params = {**best.params, **{k: v[int(rng.integers(len(v)))] for k, v in space.items()}}
        key = json.dumps(params, sort_keys=True)
        if key in seen:
            continue
        seen.add(key)
        cand = Candidate(best.family, best.imbalance, params)
        row = summarize_cv(cross_validate(cand, X, y, folds, ctx), y, folds, costs)
        log.info("tuning %s %s: AUC %.4f cost %.4f", cand.key, params, row["roc_auc"], row["business_cost"])
        rows.append(row)
        candidates.append(cand)
    state.tuning = [{k: r[k] for k in ("params", "roc_auc", "business_cost", "business_cost_cv_threshold",
                                       "boosting_rounds", "fit_seconds")} for r in rows]
    chosen = select(rows)
    return candidates[rows.index(chosen)], chosen


def run_training(settings: ModelSettings) -> Path:
    """Train, write a new version directory and (unless ``promote`` is off) promote it. Returns its path.

    The whole run is an MLflow run (models_ml/track.py): FAILED when training raises, and never a reason
    for training to fail."""
    with track.training_run(settings.model_dump(), settings.artifacts) as run:
        return _run_training(settings, run)


def _run_training(settings: ModelSettings, run: track.TrainingRun) -> Path:
    data = load_training_set(settings.warehouse, min_per_class=settings.n_folds,
                             protected=settings.protected_columns)
    state = RunState(settings, data)
    profile = settings.profile
    X, y = data.frame, data.target
    n = data.n_rows
    log.info("training_set: %d rows, %d features, default rate %.2f%% (%s)", n, len(data.schema.features),
             100 * y.mean(), settings.warehouse)
    costs = row_costs(settings, X)
    ctx = FitContext(data.schema, profile, settings.seed, settings.effective_n_jobs, settings.undersample_ratio,
                     settings.scorecard_config, settings.monotone)

    # 1. comparison on identical folds (a stratified subsample when the data is large)
    cmp_idx = stratified_subsample(y, settings.compare_max_rows, settings.seed)
    if len(cmp_idx) < n:
        state.notes.append(f"family comparison and tuning on a stratified subsample of {len(cmp_idx):,} of "
                           f"{n:,} rows; the selected model is cross-validated on every row")
    Xc, yc = X.iloc[cmp_idx].reset_index(drop=True), y[cmp_idx]
    costs_c = costs.subset(cmp_idx)
    folds_c = make_folds(yc, settings.n_folds, settings.seed)
    results: dict[str, CVResult] = {}
    t0 = time.perf_counter()
    for family in settings.family_list:
        for imbalance in imbalance_strategies(family):
            cand = Candidate(family, imbalance, default_params(family, len(yc), profile))
            res = cross_validate(cand, Xc, yc, folds_c, ctx)
            row = summarize_cv(res, yc, folds_c, costs_c)
            results[cand.key] = res
            state.comparison.append(row)
            log.info("%-32s AUC %.4f  cost/applicant %.4f  (%.1f s%s)", cand.key, row["roc_auc"],
                     row["business_cost"], res.seconds,
                     f", {res.mean_rounds} rounds" if res.mean_rounds is not None else "")
    state.timings["comparison_s"] = time.perf_counter() - t0

    # 2. selection and bounded tuning under the business cost
    best_row = select(state.comparison)
    best = results[f"{best_row['model_family']}/{best_row['imbalance']}"].candidate
    log.info("selected %s", best.key)
    t0 = time.perf_counter()
    best, best_row = _tune(state, best, best_row, Xc, yc, folds_c, costs_c, ctx)
    state.timings["tuning_s"] = time.perf_counter() - t0
    monotone_meta = monotone_cost(best, best_row, Xc, yc, folds_c, costs_c, ctx, summarize_cv, state.timings)

    # 3. the selected model on every row (identical folds)
    t0 = time.perf_counter()
    folds = make_folds(y, settings.n_folds, settings.seed)
    if len(cmp_idx) == n and best.key in results and results[best.key].candidate == best:
        final_cv = results[best.key]
    else:
        final_cv = cross_validate(best, X, y, folds, ctx)
    state.timings["final_cv_s"] = time.perf_counter() - t0
    oof = final_cv.oof

    # 4. calibration, threshold, metrics
    beta = prior_beta(y, best.imbalance, settings.undersample_ratio)
    calib: CalibrationChoice = choose_calibration(oof, y, folds, beta)
    p_cal = calib.calibrator.transform(oof)
    threshold, _ = optimal_threshold(y, p_cal, costs)
    metrics: dict[str, Any] = {**probability_metrics(y, p_cal), **decision_metrics(y, p_cal, threshold, costs)}
    metrics["roc_auc_uncalibrated"] = probability_metrics(y, oof)["roc_auc"]
    metrics["business_cost_cv_threshold"] = cross_fitted_cost(y, p_cal, folds, costs) / n
    metrics.update(fold_spread(y, p_cal, folds, threshold, costs))
    trivial = trivial_costs(y, costs)
    curve = cost_curve(y, p_cal, costs)
    fairness, fairness_summary = fairness_report(data.sensitive, y, p_cal, threshold)  # protected: only measured
    log.info("final %s: AUC %.4f, cost/applicant %.4f vs best trivial %.4f, threshold %.4f, calibration %s",
             best.key, metrics["roc_auc"], metrics["business_cost"], min(trivial.values()) / n, threshold,
             calib.calibrator.method)

    # 5. final fit on every row
    t0 = time.perf_counter()
    rounds = final_cv.mean_rounds
    n_rounds = max(1, int(round(rounds * 1.1))) if rounds is not None else None
    model = fit_candidate(best, X, y, ctx, n_rounds=n_rounds)
    predictor = Predictor.from_fitted(model, data.schema, X)
    state.timings["final_fit_s"] = time.perf_counter() - t0
    # --- governance (issue 13): strongest characteristics, scorecard table (served or challenger)
    strongest = strongest_characteristics(X, y, data.schema)
    scorecard_meta = scorecard_card(best, model, calib.calibrator.transform, settings.family_list, X, y, ctx,
                                    state.timings)

    # 6. explanations on a sample
    t0 = time.perf_counter()
    rng = np.random.default_rng(settings.seed)
    shap_idx = np.sort(rng.choice(n, size=min(n, profile.shap_sample), replace=False))
    expl = predictor.explain(X.iloc[shap_idx])
    importance = global_importance(expl)
    p_sample = calib.calibrator.transform(predictor.predict_raw(X.iloc[shap_idx]))
    local_row = _local_example_row(p_sample, threshold)
    labeler = FeatureLabeler.default()
    local = {"row": int(local_row), "probability": float(p_sample[local_row]),
             "decision": "refuse" if p_sample[local_row] >= threshold else "grant",
             "base_value": expl.base_value, "output_scale": expl.output_scale,
             "reasons": without_values(reason_codes(expl, row=local_row, top_k=6, labeler=labeler))}
    state.timings["explain_s"] = time.perf_counter() - t0

    fingerprint = data_fingerprint(data)
    created = datetime.now(UTC)
    run_hash = hashlib.sha256(f"{fingerprint}|{settings.model_dump_json()}".encode()).hexdigest()[:8]
    version = f"{created:%Y%m%dT%H%M%SZ}-{run_hash}"
    metadata = build_metadata({  # typed and validated: hc_contracts.metadata.ModelMetadata
        "version": version, "created_at": created.isoformat(timespec="seconds").replace("+00:00", "Z"),
        "model_family": best.family, "imbalance": best.imbalance, "params": best_row["params"],
        "boosting_rounds": n_rounds, "threshold": float(threshold),
        "threshold_bayes": bayes_threshold(settings.cost_fn, settings.cost_fp)
        if settings.cost_mode == "count" else None,
        "cost_fn": settings.cost_fn, "cost_fp": settings.cost_fp, "cost_mode": settings.cost_mode,
        "money_costs": {"loss_given_default": settings.loss_given_default,
                        "lost_margin_rate": settings.lost_margin_rate} if settings.cost_mode == "money" else None,
        "metrics": metrics,
        "trivial_policies": {"grant_all": trivial["grant_all"] / n, "refuse_all": trivial["refuse_all"] / n},
        "calibration": {"method": calib.calibrator.method, "prior_correction_beta": beta,
                        "before": calib.before, "after": calib.after, "candidates": calib.candidates},
        "comparison": state.comparison, "tuning": state.tuning,
        "selection_rule": "one-standard-error rule: among the candidates whose out-of-fold business cost (at "
                          "each one's best threshold) is within one standard error over folds of the lowest, "
                          "the highest ROC AUC; the dummy is the baseline, never selected",
        "features": data.schema.to_list(), "excluded_columns": data.excluded_columns,
        "global_importance": importance, "explanation_output_scale": expl.output_scale,
        "local_example": local, "fairness": fairness, "fairness_summary": fairness_summary,
        "protected_attributes": {"attributes": settings.protected_columns,
                                 "features_left_out": dict(sorted(data.protected.items()))},
        "risk_bands": risk_bands(threshold), "scorecard": scorecard_meta, "strongest_characteristics": strongest,
        "monotone": {**monotone_meta, "features": constrained_features(model, data.schema.names)}
        if monotone_meta else None,
        "data": {"rows": n, "features": len(data.schema.features), "defaults": int(y.sum()),
                 "default_rate": float(y.mean()), "comparison_rows": int(len(cmp_idx)),
                 "warehouse": str(settings.warehouse)},
        "data_fingerprint": fingerprint, "seed": settings.seed, "n_folds": settings.n_folds,
        "train_profile": settings.train_profile, "package_versions": package_versions(),
        "timings_s": {k: round(v, 2) for k, v in state.timings.items()}, "notes": state.notes,
    }, "training metadata").to_dict()
    reference = _reference_sample(data, p_cal, settings.seed, profile.reference_sample)

    def writer(directory: Path) -> None:
        files = predictor.save(directory)
        (directory / CALIBRATION_FILE).write_text(json.dumps(calib.calibrator.to_dict(), indent=1))
        reference.to_parquet(directory / "reference_sample.parquet", index=False)
        figures = _figures(directory, y, p_cal, oof, calib, costs, threshold, trivial, metadata, expl, labeler,
                           local, profile.plot_sample, settings.seed)
        metadata["files"] = sorted(files + [CALIBRATION_FILE, "reference_sample.parquet", "model_card.md",
                                            "model_card.html", METADATA_FILE, *figures])
        metadata["timings_s"]["total_s"] = round(state.elapsed(), 2)
        write_metadata(directory, build_metadata(metadata, "training metadata"))
        write_model_card(directory, metadata, curve_points=len(curve.thresholds), labeler=labeler)
        _verify(directory, X.iloc[shap_idx], calib.calibrator.transform(predictor.predict_raw(X.iloc[shap_idx])),
                expl)

    path = write_version(settings.artifacts, version, writer)
    log.info("wrote %s", path)
    run.log_version(path, alias=None if settings.promote else track.CHALLENGER)  # MLflow; promote() mirrors
    if settings.promote:
        promote(settings.artifacts, version)
        log.info("promoted %s -> %s", path.parent / "current", version)
    return path


def _local_example_row(p: np.ndarray, threshold: float) -> int:
    """A refused applicant with a typical refused probability (or the riskiest one if none is refused)."""
    refused = np.flatnonzero(p >= threshold)
    if len(refused) == 0:
        return int(np.argmax(p))
    order = refused[np.argsort(p[refused], kind="stable")]
    return int(order[len(order) // 2])


def _reference_sample(data: TrainingData, p_cal: np.ndarray, seed: int, size: int) -> pd.DataFrame:
    idx = stratified_subsample(data.target, size, seed + 1)
    ref = data.frame.iloc[idx].copy()
    for name in data.schema.of_type("boolean"):
        ref[name] = pd.array(ref[name].map({1.0: True, 0.0: False}), dtype="boolean")
    for name in data.schema.of_type("categorical"):
        ref[name] = ref[name].astype(object)
    ref["target"] = data.target[idx].astype(int)
    ref["probability"] = p_cal[idx]
    return ref.reset_index(drop=True)


def _figures(directory: Path, y: np.ndarray, p_cal: np.ndarray, oof: np.ndarray, calib: CalibrationChoice,
             costs: RowCosts, threshold: float, trivial: dict[str, float], metadata: dict[str, Any],
             expl: Explanation, labeler: FeatureLabeler, local: dict[str, Any], plot_sample: int,
             seed: int) -> list[str]:
    labels = {f: labeler.label(f) for f in expl.feature_names}
    plots.cost_vs_threshold(y, p_cal, costs, threshold, trivial, metadata["threshold_bayes"],
                            directory / "cost_vs_threshold.png")
    curves = {"before calibration (raw out-of-fold)": oof, f"after ({calib.calibrator.method}"
              f"{', prior correction' if calib.calibrator.beta is not None else ''})": p_cal}
    plots.reliability(y, curves, directory / "reliability.png")
    plots.comparison(metadata["comparison"], directory / "comparison.png")
    sub = np.random.default_rng(seed).permutation(len(expl))[: min(len(expl), plot_sample)]
    sub_expl = Explanation(expl.values[np.sort(sub)], expl.base_value, expl.feature_names,
                           expl.data.iloc[np.sort(sub)].reset_index(drop=True), expl.output_scale)
    plots.shap_beeswarm(sub_expl, directory / "shap_beeswarm.png", labels)
    plots.importance_bar(metadata["global_importance"], labels, directory / "shap_importance.png")
    plots.local_waterfall(local["reasons"], f"Example applicant: p = {local['probability']:.3f} -> "
                          f"{local['decision']}", directory / "local_explanation.png")
    return ["cost_vs_threshold.png", "reliability.png", "comparison.png", "shap_beeswarm.png",
            "shap_importance.png", "local_explanation.png"]


def _verify(directory: Path, X: pd.DataFrame, expected: np.ndarray, expl: Explanation) -> None:
    """Load the written version back; its probabilities and SHAP values must equal the in-memory ones."""
    loaded = load_version(directory)
    got = loaded.predict_proba(X)
    if not np.allclose(got, np.clip(expected, 0, 1), rtol=0, atol=1e-9):
        raise ModelingError(f"the saved model in {directory} does not reproduce the trained probabilities")
    got_expl = loaded.explain(X)
    if not np.allclose(got_expl.values, expl.values, rtol=0, atol=1e-7):
        raise ModelingError(f"the saved model in {directory} does not reproduce the SHAP values")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m models_ml.train", description=__doc__)
    p.add_argument("--warehouse", type=Path, help="DuckDB warehouse file (HC_WAREHOUSE)")
    p.add_argument("--artifacts", type=Path, help="artifacts folder (HC_ARTIFACTS)")
    p.add_argument("--cost-fn", type=float, help="cost of a missed defaulter (HC_COST_FN, default 10)")
    p.add_argument("--cost-fp", type=float, help="cost of a refused good client (HC_COST_FP, default 1)")
    p.add_argument("--cost-mode", choices=["count", "money"], help="count or money-based cost (HC_COST_MODE)")
    p.add_argument("--folds", dest="n_folds", type=int, help="cross-validation folds (HC_N_FOLDS, default 5)")
    p.add_argument("--seed", type=int, help="random seed (HC_SEED, default 0)")
    p.add_argument("--time-budget", dest="time_budget_s", type=float,
                   help="soft budget in seconds for comparison + tuning (HC_TIME_BUDGET_S)")
    p.add_argument("--profile", dest="train_profile", choices=["full", "fast"],
                   help="full, or fast for tests (HC_TRAIN_PROFILE)")
    p.add_argument("--families", help="comma-separated families to compare (HC_FAMILIES)")
    p.add_argument("--compare-max-rows", type=int, help="rows used to compare families (HC_COMPARE_MAX_ROWS)")
    p.add_argument("--n-jobs", type=int, help="threads per model (HC_N_JOBS, default 2)")
    p.add_argument("--monotone", choices=["auto", "off"],
                   help="auto: monotone boosted trees on the clear trends of the training folds (HC_MONOTONE)")
    p.add_argument("--no-promote", dest="promote", action="store_const", const=False,
                   help="write the version without switching models/current")
    return p


def settings_from_args(argv: list[str] | None = None) -> ModelSettings:
    args = build_parser().parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if v is not None}
    return ModelSettings(**overrides)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    try:
        settings = settings_from_args(argv)
        path = run_training(settings)
    except ModelingError as exc:
        log.error("training failed: %s", exc)
        print(f"error: {exc}")
        return 2
    print_version_summary(path)
    return 0


def print_version_summary(path: Path, engine: str | None = None) -> None:
    """The two closing lines of a training run (both trainers): key figures and where the model card is."""
    meta = json.loads((path / METADATA_FILE).read_text())
    m = meta["metrics"]
    head = (f"{meta['version']} ({engine}): {meta['model_family']}" if engine
            else f"{meta['version']}: {meta['model_family']} ({meta['imbalance']})")
    print(f"model version {head}, CV ROC AUC {m['roc_auc']:.4f}, cost/applicant {m['business_cost']:.4f} "
          f"(best trivial policy {min(meta['trivial_policies'].values()):.4f}), threshold {meta['threshold']:.4f}")
    print(f"model card: {path / 'model_card.md'}")


if __name__ == "__main__":
    raise SystemExit(main())
