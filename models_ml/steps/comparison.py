"""Step `compare`: every family x imbalance strategy cross-validated on identical folds of a stratified
comparison sample, scored under the business cost, within a time budget (successive halving, see
models_ml.planner); then the one-standard-error selection."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from models_ml.cost import RowCosts, best_trivial, cross_fitted_cost, optimal_threshold
from models_ml.cv import CVResult, cross_validate, make_folds, stratified_subsample
from models_ml.families import SCORECARD, Candidate, FitContext
from models_ml.metrics import fold_spread, probability_metrics
from models_ml.planner import Budget, Trial, final_reserve, promote, rung_sizes
from models_ml.progress import TrainingProgress

log = logging.getLogger("models_ml.train")

SELECTION_RULE = ("one-standard-error rule: among the candidates whose out-of-fold business cost (at each one's "
                  "best threshold) is within one standard error over folds of the lowest, the highest ROC AUC; "
                  "the dummy is the baseline, never selected")


@dataclass(frozen=True)
class CompareSample:
    """The rows candidates are compared on, their identical stratified folds and their row costs."""

    X: pd.DataFrame
    y: np.ndarray
    folds: np.ndarray
    costs: RowCosts
    index: np.ndarray  # positions of these rows in the full training data

    @property
    def n_rows(self) -> int:
        return len(self.y)

    def subsample(self, rows: int, n_folds: int, seed: int) -> CompareSample:
        """A nested stratified subsample of ``rows`` rows with its own identical folds."""
        idx = stratified_subsample(self.y, rows, seed)
        y = self.y[idx]
        return CompareSample(self.X.iloc[idx].reset_index(drop=True), y, make_folds(y, n_folds, seed),
                             self.costs.subset(idx), self.index[idx])


def comparison_sample(X: pd.DataFrame, y: np.ndarray, costs: RowCosts, max_rows: int, n_folds: int,
                      seed: int) -> CompareSample:
    """A class-stratified subsample of at most ``max_rows`` rows (every row when fewer) and its folds."""
    idx = stratified_subsample(y, max_rows, seed)
    yc = y[idx]
    Xc = X if len(idx) == len(y) else X.iloc[idx].reset_index(drop=True)
    return CompareSample(Xc, yc, make_folds(yc, n_folds, seed), costs.subset(idx), idx)


def summarize_cv(res: CVResult, y: np.ndarray, folds: np.ndarray, costs: RowCosts) -> dict[str, Any]:
    """One row of the comparison table: AUC, business cost at the candidate's best threshold (and its standard
    error over folds, and with the threshold chosen on the other folds), rounds, rows and fit time."""
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


@dataclass
class Comparison:
    """The comparison table (every candidate, at the largest rung it reached), the selection and its plan."""

    sample: CompareSample
    rows: list[dict[str, Any]]
    results: dict[str, CVResult]       # by candidate key, at the last rung the candidate reached
    selected: Candidate
    selected_row: dict[str, Any]
    rungs: list[int]
    seconds: float
    notes: list[str] = field(default_factory=list)


def _trial(row: dict[str, Any], key: str) -> Trial:
    return Trial(key, row["model_family"], row["business_cost"], row["business_cost_se"], row["roc_auc"],
                 row["fit_seconds"], row["n_rows"])


def challenger_timing(rows: dict[str, dict[str, Any]] | list[dict[str, Any]],
                      selected_family: str) -> tuple[float, int] | None:
    """The k-fold seconds and rows of the scorecard as compared, when the model card will fit it once more on
    every row as the challenger of another selected family (``governance.scorecard_card``); else None."""
    if selected_family == SCORECARD:
        return None
    table = rows.values() if isinstance(rows, dict) else rows
    challenger = Candidate(SCORECARD)
    row = next((r for r in table if (r["model_family"], r["imbalance"]) == (challenger.family, challenger.imbalance)),
               None)
    return (float(row["fit_seconds"]), int(row["n_rows"])) if row is not None else None


def compare(candidates: list[Candidate], sample: CompareSample, ctx: FitContext, n_folds: int,
            progress: TrainingProgress, budget: Budget | None = None, n_rows_total: int | None = None,
            min_rung_rows: int = 15_000, eta: int = 3) -> Comparison:
    """Cross-validate ``candidates`` on ``sample``'s folds and select one.

    With a ``budget``: successive halving, rungs of ``n / eta**k`` rows (at least ``min_rung_rows``); after
    each rung the planner keeps the best candidates that fit the time left once the selected model's final
    cross-validation on ``n_rows_total`` rows is reserved. Without: every candidate on the whole sample."""
    start = time.perf_counter()
    sizes = rung_sizes(sample.n_rows, min_rung_rows, eta) if budget is not None else [sample.n_rows]
    if sum(c.family != "dummy" for c in candidates) <= 1:
        sizes = sizes[-1:]  # nothing to choose between: straight to the whole sample
    by_key = {c.key: c for c in candidates}
    active = [c.key for c in candidates]
    rows: dict[str, dict[str, Any]] = {}
    results: dict[str, CVResult] = {}
    notes: list[str] = []
    r = 0
    while True:
        size = sizes[r]
        rung = sample if size == sample.n_rows else sample.subsample(size, n_folds, ctx.seed + r)
        with progress.stage(f"compare {len(active)} on {size:,} rows", len(active) * n_folds) as advance:
            for key in active:
                res = cross_validate(by_key[key], rung.X, rung.y, rung.folds, ctx, on_fold=advance)
                rows[key] = summarize_cv(res, rung.y, rung.folds, rung.costs)
                results[key] = res
                log.info("%-32s AUC %.4f  cost/applicant %.4f  (%.1f s on %d rows%s)", key, rows[key]["roc_auc"],
                         rows[key]["business_cost"], res.seconds, size,
                         f", {res.mean_rounds} rounds" if res.mean_rounds is not None else "")
        if r == len(sizes) - 1:
            break
        assert budget is not None
        trials = [_trial(rows[k], k) for k in active]
        leader = min((t for t in trials if t.family != "dummy"), key=lambda t: (t.cost, -t.auc), default=trials[0])
        reserve = final_reserve(leader.seconds * sizes[-1] / size, sizes[-1], n_rows_total or sizes[-1], n_folds,
                                budget.total_s, challenger=challenger_timing(rows, leader.family))
        active, why = promote(trials, sizes[r + 1], budget.left() - reserve, eta)
        notes.extend(why)
        if len(active) == 1:  # one left: no more halving, straight to the whole sample
            sizes = [*sizes[: r + 1], sizes[-1]]
        r += 1
        log.info("rung %d: %d candidate(s) go on to %d rows: %s", r, len(active), sizes[r], ", ".join(active))
    if len(sizes) > 1:
        notes.insert(0, f"successive halving within the time budget: every candidate on {sizes[0]:,} rows, the best "
                        f"on {', '.join(f'{s:,}' for s in sizes[1:])} rows (selection among those on "
                        f"{sizes[-1]:,} rows)")
    finalists = [rows[k] for k in active]
    chosen = select(finalists)
    key = f"{chosen['model_family']}/{chosen['imbalance']}"
    table = [rows[c.key] for c in candidates]
    return Comparison(sample, table, results, results[key].candidate, chosen, sizes,
                      time.perf_counter() - start, notes)
