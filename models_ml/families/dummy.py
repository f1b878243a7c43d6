"""The ``dummy`` family: the class prior for everyone, the baseline no model may fail to beat (never selected)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.pipeline import Pipeline

from models_ml.data import FeatureSchema
from models_ml.explain import Explanation
from models_ml.families.base import Candidate, FitContext, FittedModel
from models_ml.families.pipeline import SklearnFamily, SklearnModel


class DummyFamily(SklearnFamily):
    name = "dummy"
    output_scale = "probability"
    imbalance_strategies: ClassVar[tuple[str, ...]] = ("none",)
    summary = "the training default rate for every applicant (baseline)"

    def fit(self, c: Candidate, X: pd.DataFrame, y: np.ndarray, ctx: FitContext,
            n_rounds: int | None = None) -> SklearnModel:
        clf = DummyClassifier(strategy="prior").fit(np.zeros((len(y), 1)), y)  # ignores the features
        return SklearnModel(self.name, Pipeline([("clf", clf)]))

    def training_extras(self, model: FittedModel, X_train: pd.DataFrame) -> dict[str, Any]:
        assert isinstance(model, SklearnModel)
        return {"prior": float(model.pipeline.named_steps["clf"].class_prior_[1])}

    def explain(self, model: FittedModel, X: pd.DataFrame, schema: FeatureSchema,
                extras: dict[str, Any]) -> Explanation:
        return Explanation(np.zeros((len(X), len(schema.names))), float(extras["prior"]), schema.names,
                           X.reset_index(drop=True), self.output_scale)
