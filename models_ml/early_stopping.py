"""Early stopping on a smoothed validation curve, for LightGBM and XGBoost.

The validation split of a small training fold holds few defaulters, so its AUC jumps from one boosting
round to the next and plain early stopping often halts after a handful of rounds on a lucky peak. Here
the curve is smoothed with a trailing moving average, rounds before ``min_rounds`` cannot be chosen, and
training stops ``patience`` rounds after the best smoothed value.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np
import xgboost as xgb


class SmoothedStopper:
    """Tracks a higher-is-better validation score per round; ``best_rounds`` is the number of rounds to keep."""

    def __init__(self, patience: int, window: int, min_rounds: int) -> None:
        self.patience = patience
        self.window = max(1, window)
        self.min_rounds = max(1, min_rounds)
        self.history: list[float] = []
        self.best_rounds = 0
        self.best_score = -np.inf

    def update(self, score: float) -> bool:
        """Record the score after one more round; True when training should stop."""
        self.history.append(float(score))
        rounds = len(self.history)
        smoothed = float(np.mean(self.history[-self.window:]))
        if rounds >= self.min_rounds and smoothed > self.best_score:
            self.best_score, self.best_rounds = smoothed, rounds
        if self.best_rounds == 0:
            return False
        return rounds - self.best_rounds >= self.patience

    def rounds_to_keep(self) -> int:
        return self.best_rounds or len(self.history)


class LightGBMCallback:
    """``lgb.train(callbacks=[...])`` adapter: stops by raising LightGBM's EarlyStopException."""

    order = 30

    def __init__(self, stopper: SmoothedStopper) -> None:
        self.stopper = stopper

    def __call__(self, env: Any) -> None:
        _, _, score, higher_better = env.evaluation_result_list[0][:4]
        if self.stopper.update(score if higher_better else -score):
            raise lgb.callback.EarlyStopException(self.stopper.rounds_to_keep() - 1, env.evaluation_result_list)


class XGBoostCallback(xgb.callback.TrainingCallback):
    def __init__(self, stopper: SmoothedStopper, data: str = "valid", metric: str = "auc") -> None:
        super().__init__()
        self.stopper = stopper
        self.data = data
        self.metric = metric

    def after_iteration(self, model: Any, epoch: int, evals_log: dict[str, dict[str, list[float]]]) -> bool:
        return self.stopper.update(evals_log[self.data][self.metric][-1])
