"""``python -m models_ml.train``: compare, select, tune, calibrate, choose the threshold, explain, write and
promote a new model version (see docs/modeling.md)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from pathlib import Path

from rich.console import Console
from rich.logging import RichHandler

from models_ml import memory, steps, track
from models_ml.cost import RowCosts
from models_ml.cv import cross_validate, make_folds
from models_ml.data import data_fingerprint, load_training_set
from models_ml.errors import ModelingError
from models_ml.families import Candidate, FitContext, default_params, fit_candidate, imbalance_strategies
from models_ml.governance import (
    constrained_features,
    monotone_cost,
    scorecard_card,
    strongest_characteristics,
)
from models_ml.planner import Budget, final_reserve
from models_ml.predictor import Predictor
from models_ml.progress import TrainingProgress
from models_ml.registry import METADATA_FILE
from models_ml.settings import ModelSettings
from models_ml.steps import risk_bands, row_costs, select, summarize_cv  # noqa: F401  (the public names of old)
from models_ml.steps.comparison import SELECTION_RULE, challenger_timing
from models_ml.steps.packaging import package_versions  # noqa: F401

log = logging.getLogger("models_ml.train")


def run_training(settings: ModelSettings, progress: TrainingProgress | None = None) -> Path:
    """Train, write a new version directory and (unless ``promote`` is off) promote it. Returns its path.

    The whole run is an MLflow run (models_ml/track.py): FAILED when training raises, and never a reason
    for training to fail. ``progress``: the bar and step lines (default: on a terminal only)."""
    config = {**settings.model_dump(), "time_budget_s": settings.budget_s}  # tracked as resolved
    with track.training_run(config, settings.artifacts) as run, \
            (progress or TrainingProgress()) as bar:
        return _run_training(settings, run, bar)


def candidates(settings: ModelSettings, n_rows: int) -> list[Candidate]:
    """Every family x imbalance strategy, with starting parameters scaled to ``n_rows``."""
    return [Candidate(family, imbalance, default_params(family, n_rows, settings.profile))
            for family in settings.family_list for imbalance in imbalance_strategies(family)]


def _run_training(settings: ModelSettings, run: track.TrainingRun, bar: TrainingProgress) -> Path:
    budget = Budget(settings.budget_s)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = load_training_set(settings.warehouse, min_per_class=settings.n_folds,
                             protected=settings.protected_columns)
    profile = settings.profile
    X, y = data.frame, data.target
    n = data.n_rows
    timings["load_s"] = time.perf_counter() - t0
    bar.summary("load", timings["load_s"], f"{n:,} rows, {len(data.schema.features)} features, default rate "
                f"{100 * y.mean():.2f} %")
    costs: RowCosts = row_costs(settings, X)
    ctx = FitContext(data.schema, profile, settings.seed, settings.effective_n_jobs, settings.undersample_ratio,
                     settings.scorecard_config, settings.monotone)
    notes: list[str] = []

    # 1. compare: every family x imbalance strategy on identical folds of a stratified sample, within the budget
    sample = steps.comparison_sample(X, y, costs, settings.compare_max_rows, settings.n_folds, settings.seed)
    if sample.n_rows < n:
        notes.append(f"family comparison and tuning on a stratified subsample of {sample.n_rows:,} of {n:,} rows; "
                     "the selected model is cross-validated on every row")
    cmp = steps.compare(candidates(settings, sample.n_rows), sample, ctx, settings.n_folds, bar,
                        budget=budget if settings.halving_eta > 1 else None, n_rows_total=n,
                        min_rung_rows=settings.rung_min_rows, eta=max(settings.halving_eta, 2))
    notes.extend(cmp.notes)
    timings["comparison_s"] = cmp.seconds
    bar.summary("compare", cmp.seconds, f"{len(cmp.rows)} candidates, selected {cmp.selected.key} (AUC "
                f"{cmp.selected_row['roc_auc']:.4f}, cost/applicant {cmp.selected_row['business_cost']:.4f})")

    # 2. tune the selected family within what the budget leaves after the final cross-validation and fit
    reserve = final_reserve(cmp.selected_row["fit_seconds"], sample.n_rows, n, settings.n_folds, budget.total_s,
                            challenger=challenger_timing(cmp.rows, cmp.selected.family))
    tuned = steps.tune(cmp.selected, cmp.selected_row, cmp.results.get(cmp.selected.key), sample, ctx,
                       profile.tuning_trials, bar, budget=budget, reserve_s=reserve)
    notes.extend(tuned.notes)
    best, best_row = tuned.candidate, tuned.row
    timings["tuning_s"] = tuned.seconds
    bar.summary("tune", tuned.seconds, f"{max(len(tuned.trials) - 1, 0)} trial(s), kept {best.params}"
                if tuned.trials else "no search space or no trial")
    monotone_meta = monotone_cost(best, best_row, sample.X, sample.y, sample.folds, sample.costs, ctx, summarize_cv,
                                  timings)

    # 3. the selected model cross-validated on every row (identical folds); the comparison sample's binned
    # folds are not needed any more: free them, and do not cache the full-size folds (each is used once)
    if ctx.data_cache is not None:
        ctx.data_cache.clear()
    memory.release()
    t0 = time.perf_counter()
    folds = make_folds(y, settings.n_folds, settings.seed)
    if sample.n_rows == n and tuned.result is not None and tuned.result.candidate == best:
        final_cv = tuned.result
    else:
        with bar.stage(f"cross-validate {best.key} on {n:,} rows", settings.n_folds) as advance:
            final_cv = cross_validate(best, X, y, folds, dataclasses.replace(ctx, data_cache=None), on_fold=advance)
    timings["final_cv_s"] = time.perf_counter() - t0
    oof = final_cv.oof

    # 4. calibrate, 5. threshold (business cost, metrics, fairness: protected attributes only measured)
    calibrated = steps.calibrate(oof, y, folds, best.imbalance, settings.undersample_ratio)
    decision = steps.choose_threshold(y, calibrated.p_cal, oof, folds, costs, data.sensitive)
    m = decision.metrics
    bar.summary("validate", timings["final_cv_s"], f"{best.key} on {n:,} rows: AUC {m['roc_auc']:.4f}, "
                f"cost/applicant {m['business_cost']:.4f} (best trivial {min(decision.trivial.values()) / n:.4f}), "
                f"threshold {decision.threshold:.4f}, calibration {calibrated.calibrator.method}")

    # final fit on every row
    memory.release()
    t0 = time.perf_counter()
    with bar.stage(f"fit {best.key} on {n:,} rows", 1) as advance:
        rounds = final_cv.mean_rounds
        n_rounds = max(1, int(round(rounds * 1.1))) if rounds is not None else None
        model = fit_candidate(best, X, y, ctx, n_rounds=n_rounds)
        predictor = Predictor.from_fitted(model, data.schema, X)
        advance(1)
    timings["final_fit_s"] = time.perf_counter() - t0
    bar.summary("fit", timings["final_fit_s"], f"{best.key} on every row"
                + (f", {n_rounds} rounds" if n_rounds is not None else ""))
    # --- governance (issue 13): strongest characteristics, scorecard table (served or challenger)
    strongest = strongest_characteristics(X, y, data.schema)
    scorecard_meta = scorecard_card(best, model, calibrated.calibrator.transform, settings.family_list, X, y, ctx,
                                    timings)

    # 6. explain
    t0 = time.perf_counter()
    explained = steps.explain(predictor, X, calibrated.calibrator.transform, decision.threshold,
                              profile.shap_sample, settings.seed)
    timings["explain_s"] = time.perf_counter() - t0
    bar.summary("explain", timings["explain_s"], f"SHAP on {len(explained.X):,} rows, top feature "
                f"{explained.importance[0]['feature'] if explained.importance else '-'}")

    # 7. package, 8. promote
    t0 = time.perf_counter()
    fingerprint = data_fingerprint(data)
    version, created = steps.new_version(fingerprint, settings.model_dump_json())
    pkg = steps.ModelPackage(
        settings=settings, version=version, created=created, candidate=best, params=best_row["params"],
        n_rounds=n_rounds, predictor=predictor, calibrated=calibrated, decision=decision, explained=explained,
        reference=steps.reference_sample(data, calibrated.p_cal, settings.seed, profile.reference_sample),
        y=y, oof=oof, costs=costs, schema=data.schema, excluded_columns=data.excluded_columns,
        features_left_out=data.protected, fingerprint=fingerprint, comparison=cmp.rows, tuning=tuned.trials,
        selection_rule=SELECTION_RULE, timings=timings, notes=notes, started=budget.started,
        data={"rows": n, "features": len(data.schema.features), "defaults": int(y.sum()),
              "default_rate": float(y.mean()), "comparison_rows": int(sample.n_rows),
              "warehouse": str(settings.warehouse)},
        extra={"scorecard": scorecard_meta, "strongest_characteristics": strongest,
               "monotone": {**monotone_meta, "features": constrained_features(model, data.schema.names)}
               if monotone_meta else None})
    path = steps.package(pkg)
    log.info("wrote %s", path)
    bar.summary("package", time.perf_counter() - t0, f"version {version}")
    steps.promote_version(path, settings.artifacts, settings.promote, run)
    bar.summary("total", budget.elapsed(), f"budget {budget.total_s:.0f} s"
                + ("" if settings.promote else ", not promoted (challenger)"))
    return path


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
                   help="soft wall-clock budget of the whole run in seconds (HC_TIME_BUDGET_S; profile full: 840, demo: 150)")
    p.add_argument("--profile", dest="train_profile", choices=["full", "demo", "fast"],
                   help="full, demo (make demo) or fast for tests (HC_TRAIN_PROFILE)")
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


def configure_logging(console: Console) -> None:
    """INFO logs: through rich above the progress bar on a terminal, plain lines otherwise."""
    if console.is_terminal:
        logging.basicConfig(level=logging.INFO, format="%(message)s", datefmt="%H:%M:%S",
                            handlers=[RichHandler(console=console, show_path=False, markup=False)])
    else:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")


def main(argv: list[str] | None = None) -> int:
    console = Console()
    configure_logging(console)
    try:
        settings = settings_from_args(argv)
        path = run_training(settings, TrainingProgress(console))
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
