"""Step `tune`: a seeded random search (scikit-learn ``ParameterSampler``) of the selected family's space
around its parameters, on the comparison folds, within the time left; the same selection rule decides."""

from __future__ import annotations

import json
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

from sklearn.model_selection import ParameterSampler

from models_ml.cv import CVResult, cross_validate
from models_ml.families import Candidate, FitContext, get_family
from models_ml.planner import Budget, tuning_trials
from models_ml.progress import TrainingProgress
from models_ml.steps.comparison import CompareSample, select, summarize_cv

log = logging.getLogger("models_ml.train")
TUNING_KEYS = ("params", "roc_auc", "business_cost", "business_cost_cv_threshold", "boosting_rounds", "fit_seconds")


@dataclass
class Tuned:
    candidate: Candidate
    row: dict[str, Any]
    result: CVResult | None            # None: the starting point was kept without a new fit
    trials: list[dict[str, Any]]       # the starting point, then one entry per trial (metadata "tuning")
    seconds: float
    notes: list[str] = field(default_factory=list)


def search_draws(space: dict[str, list[Any]], base: dict[str, Any], n: int, seed: int) -> list[dict[str, Any]]:
    """Up to ``n`` distinct parameter sets ``base`` updated with a seeded draw from ``space``, ``base`` excluded
    (lists only: ``ParameterSampler`` samples the grid without replacement)."""
    if not space or n <= 0:
        return []
    grid = math.prod(len(v) for v in space.values())
    seen = {json.dumps(base, sort_keys=True, default=str)}
    out = []
    for draw in ParameterSampler(space, n_iter=min(grid, n + 1), random_state=seed):
        params = {**base, **draw}
        key = json.dumps(params, sort_keys=True, default=str)
        if key not in seen:
            seen.add(key)
            out.append(params)
    return out[:n]


def tune(start: Candidate, start_row: dict[str, Any], start_result: CVResult | None, sample: CompareSample,
         ctx: FitContext, max_trials: int, progress: TrainingProgress, budget: Budget | None = None,
         reserve_s: float = 0.0) -> Tuned:
    """Try up to ``max_trials`` parameter sets of ``start``'s family (as many as fit ``budget`` minus
    ``reserve_s``, each estimated at the starting point's fit time); keep the best by ``select``."""
    t0 = time.perf_counter()
    draws = search_draws(dict(get_family(start.family).search_space), dict(start.params), max_trials, ctx.seed)
    n_trials = len(draws)
    notes: list[str] = []
    if budget is not None and draws:
        n_trials = tuning_trials(len(draws), float(start_row["fit_seconds"]), budget.left() - reserve_s)
        if n_trials < len(draws):
            notes.append(f"tuning: {n_trials} of {len(draws)} trial(s), as many as the time budget "
                         f"({budget.total_s:.0f} s) allows at ~{start_row['fit_seconds']:.0f} s each")
    rows, cands, results = [start_row], [start], [start_result]
    n_folds = len(set(sample.folds.tolist()))
    with progress.stage(f"tune {start.key}", n_trials * n_folds) as advance:
        for params in draws[:n_trials]:
            if budget is not None and budget.left() - reserve_s < float(start_row["fit_seconds"]):
                notes.append(f"tuning stopped after {len(rows) - 1} trial(s): time budget {budget.total_s:.0f} s")
                break
            cand = Candidate(start.family, start.imbalance, params)
            res = cross_validate(cand, sample.X, sample.y, sample.folds, ctx, on_fold=advance)
            row = summarize_cv(res, sample.y, sample.folds, sample.costs)
            log.info("tuning %s %s: AUC %.4f cost %.4f (%.1f s)", cand.key, params, row["roc_auc"],
                     row["business_cost"], res.seconds)
            rows.append(row)
            cands.append(cand)
            results.append(res)
    chosen = select(rows)
    i = rows.index(chosen)
    trials = [{k: r[k] for k in TUNING_KEYS} for r in rows] if len(rows) > 1 or draws else []
    return Tuned(cands[i], chosen, results[i], trials, time.perf_counter() - t0, notes)
