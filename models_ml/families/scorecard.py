"""The ``scorecard`` family: an optbinning points scorecard (``models_ml.scorecard``), explained by the points
each characteristic earned (exact: they add up to the score), saved as its JSON + CSV table."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from models_ml.data import FeatureSchema
from models_ml.explain import Explanation
from models_ml.families.base import Candidate, FitContext, FittedModel, ModelFamily


class ScorecardFamily(ModelFamily):
    name = "scorecard"
    output_scale = "points"
    # the points are log-odds: reweighting would only shift them (calibration undoes it)
    imbalance_strategies: ClassVar[tuple[str, ...]] = ("none",)
    summary = ("weight-of-evidence logistic regression on optimally binned characteristics, scaled to integer "
               "points (configured by ScorecardConfig, not tuned)")

    def fit(self, c: Candidate, X: pd.DataFrame, y: np.ndarray, ctx: FitContext,
            n_rounds: int | None = None) -> FittedModel:
        from models_ml.scorecard import fit_scorecard  # imports optbinning only when a scorecard is fitted

        return fit_scorecard(X, y, ctx.schema, ctx.scorecard)

    def explain(self, model: FittedModel, X: pd.DataFrame, schema: FeatureSchema,
                extras: dict[str, Any]) -> Explanation:
        from models_ml.scorecard import ScorecardModel

        assert isinstance(model, ScorecardModel)
        names = schema.names
        index = {n: j for j, n in enumerate(names)}
        values = np.zeros((len(X), len(names)))
        best = np.full(len(names), np.nan)  # NaN: not a characteristic of the scorecard
        pts = model.points_matrix(X)
        for k, ch in enumerate(model.characteristics):
            values[:, index[ch.name]] = pts[:, k]
            best[index[ch.name]] = ch.best_points
        return Explanation(values, model.intercept_points, names, X.reset_index(drop=True), self.output_scale,
                           best_points=best)

    def save(self, model: FittedModel, directory: Path) -> tuple[list[str], dict[str, Any]]:
        from models_ml.scorecard import ScorecardModel

        assert isinstance(model, ScorecardModel)
        return model.save(directory), {}

    def load(self, directory: Path, prep: dict[str, Any], schema: FeatureSchema) -> FittedModel:
        from models_ml.scorecard import ScorecardModel

        return ScorecardModel.load(directory, schema.names)
