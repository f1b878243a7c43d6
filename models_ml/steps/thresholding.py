"""Step `threshold`: the business cost of every row, the cost-minimising threshold on the calibrated
out-of-fold probabilities, the decision metrics at it, the trivial policies and the risk bands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models_ml.cost import (
    CostCurve,
    RowCosts,
    cost_curve,
    cross_fitted_cost,
    optimal_threshold,
    trivial_costs,
)
from models_ml.errors import TrainingDataError
from models_ml.metrics import decision_metrics, fairness_report, fold_spread, probability_metrics
from models_ml.settings import ModelSettings


def row_costs(settings: ModelSettings, frame: pd.DataFrame) -> RowCosts:
    """Cost of a missed defaulter and of a refused good client for every row of ``frame`` (count or money)."""
    if settings.cost_mode == "money":
        if "amt_credit" not in frame.columns:
            raise TrainingDataError("cost_mode=money needs the feature column 'amt_credit' (credit amount)")
        return RowCosts.money(frame["amt_credit"].to_numpy(dtype=float), settings.loss_given_default,
                              settings.lost_margin_rate)
    return RowCosts.constant(len(frame), settings.cost_fn, settings.cost_fp)


def risk_bands(threshold: float) -> list[dict[str, Any]]:
    """Four bands on the calibrated probability; the threshold separates the grant and refuse bands."""
    t = float(threshold)
    edges = [0.0, t / 2, t, min(1.0, 2 * t), 1.0]
    names = ["low", "moderate", "high", "very high"]
    bands = [{"name": n, "lower": edges[i], "upper": edges[i + 1], "decision": "grant" if i < 2 else "refuse"}
             for i, n in enumerate(names) if edges[i + 1] > edges[i]]
    bands[-1]["upper"] = 1.0
    return bands


@dataclass(frozen=True)
class Decision:
    """The chosen threshold and everything measured at it (per applicant unless said otherwise)."""

    threshold: float
    metrics: dict[str, Any]
    trivial: dict[str, float]          # total cost of grant_all / refuse_all
    curve: CostCurve
    fairness: list[dict[str, object]]
    fairness_summary: dict[str, dict[str, object]]
    bands: list[dict[str, Any]]

    def trivial_per_applicant(self, n: int) -> dict[str, float]:
        return {"grant_all": self.trivial["grant_all"] / n, "refuse_all": self.trivial["refuse_all"] / n}


def choose_threshold(y: np.ndarray, p_cal: np.ndarray, oof: np.ndarray, folds: np.ndarray, costs: RowCosts,
                     sensitive: pd.DataFrame | None = None) -> Decision:
    """The threshold minimising the business cost of the calibrated probabilities ``p_cal``, its metrics (with
    the cost when each fold's threshold is chosen on the other folds), and the fairness of the decisions over
    ``sensitive`` (protected attributes are only measured here)."""
    n = len(y)
    threshold, _ = optimal_threshold(y, p_cal, costs)
    metrics: dict[str, Any] = {**probability_metrics(y, p_cal), **decision_metrics(y, p_cal, threshold, costs)}
    metrics["roc_auc_uncalibrated"] = probability_metrics(y, oof)["roc_auc"]
    metrics["business_cost_cv_threshold"] = cross_fitted_cost(y, p_cal, folds, costs) / n
    metrics.update(fold_spread(y, p_cal, folds, threshold, costs))
    fairness, summary = (fairness_report(sensitive, y, p_cal, threshold)
                         if sensitive is not None else ([], {}))
    return Decision(float(threshold), metrics, trivial_costs(y, costs), cost_curve(y, p_cal, costs), fairness,
                    summary, risk_bands(threshold))
