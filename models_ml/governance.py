"""What `make train` adds for model governance (issue 13): the strongest characteristics, the scorecard table
(served or challenger) and the cost of monotone constraints. Kept apart so that train.py only calls it."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from models_ml.cost import RowCosts
from models_ml.cv import cross_validate
from models_ml.data import FeatureSchema
from models_ml.families import BOOSTED, SCORECARD, Candidate, FitContext, FittedModel, fit_candidate


def strongest_characteristics(X: pd.DataFrame, y: np.ndarray, schema: FeatureSchema,
                              top: int = 15) -> list[dict[str, Any]]:
    """The ``top`` features by information value on decile bins, with their verdict."""
    from models_ml.feature_report import verdict
    from models_ml.scorecard import quick_iv

    ivs = quick_iv(X, y, schema)
    return [{"feature": f, "iv": ivs[f], "verdict": verdict(ivs[f])}
            for f in sorted(ivs, key=lambda f: (-ivs[f], f))[:top]]


def scorecard_card(best: Candidate, model: FittedModel, calibrate: Callable[[np.ndarray], np.ndarray],
                   families: list[str], X: pd.DataFrame, y: np.ndarray, ctx: FitContext,
                   timings: dict[str, float]) -> dict[str, Any] | None:
    """The scorecard for the model card: the served one (with the calibrated map), or, when the scorecard was
    compared but not selected, a challenger fitted on every row (its own probabilities only)."""
    from models_ml.scorecard import ScorecardModel, scorecard_summary

    if best.family == SCORECARD and isinstance(model, ScorecardModel):
        return scorecard_summary(model, calibrate)
    if SCORECARD not in families:
        return None
    t0 = time.perf_counter()
    challenger = fit_candidate(Candidate(SCORECARD), X, y, ctx)
    timings["scorecard_challenger_s"] = time.perf_counter() - t0
    assert isinstance(challenger, ScorecardModel)
    return scorecard_summary(challenger, None)


def monotone_cost(best: Candidate, best_row: dict[str, Any], X: pd.DataFrame, y: np.ndarray, folds: np.ndarray,
                  costs: RowCosts, ctx: FitContext, summarize: Callable[..., dict[str, Any]],
                  timings: dict[str, float]) -> dict[str, Any] | None:
    """HC_MONOTONE=auto and a boosted model selected: the same candidate without constraints on the same folds,
    so that the model card can state what the constraints cost in AUC and business cost."""
    if ctx.monotone != "auto" or best.family not in BOOSTED:
        return None
    t0 = time.perf_counter()
    free = summarize(cross_validate(best, X, y, folds, dataclasses.replace(ctx, monotone="off")), y, folds, costs)
    timings["monotone_check_s"] = time.perf_counter() - t0
    return {"mode": "auto",
            "constrained": {"roc_auc": best_row["roc_auc"], "business_cost": best_row["business_cost"]},
            "unconstrained": {"roc_auc": free["roc_auc"], "business_cost": free["business_cost"]},
            "auc_change": best_row["roc_auc"] - free["roc_auc"],
            "cost_change": best_row["business_cost"] - free["business_cost"]}


def constrained_features(model: FittedModel, names: list[str]) -> dict[str, str]:
    """Feature -> "increasing" / "decreasing" (risk with the value) for the final model's constraints."""
    return {n: "increasing" if d > 0 else "decreasing"
            for n, d in zip(names, getattr(model, "monotone", []) or [], strict=False) if d}
