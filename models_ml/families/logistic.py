"""The ``logistic_regression`` family: L2-penalised logistic regression on imputed, standardised and one-hot
columns; exact linear SHAP values, summed back to each input feature."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from models_ml.data import FeatureSchema
from models_ml.explain import Explanation, aggregate_columns, linear_shap
from models_ml.families.base import Candidate, FitContext, FittedModel
from models_ml.families.pipeline import SklearnFamily, SklearnModel

MAX_ITER = 300


class LogisticFamily(SklearnFamily):
    name = "logistic_regression"
    default_params: ClassVar[dict[str, Any]] = {"C": 0.01}
    search_space: ClassVar[dict[str, list[Any]]] = {"C": [0.001, 0.003, 0.03, 0.1]}
    summary = "L2-penalised maximum likelihood (L-BFGS) on imputed, standardised and one-hot columns"

    def estimator(self, c: Candidate, y: np.ndarray, ctx: FitContext) -> Any:
        p = {**self.default_params, **c.params}
        cw = "balanced" if c.imbalance == "class_weight" else None
        return LogisticRegression(C=p["C"], class_weight=cw, max_iter=MAX_ITER, solver="lbfgs")

    def training_extras(self, model: FittedModel, X_train: pd.DataFrame) -> dict[str, Any]:
        assert isinstance(model, SklearnModel)
        pre = model.pipeline.named_steps["pre"]
        return {**super().training_extras(model, X_train),
                "linear_means": pre.transform(X_train).mean(axis=0).tolist()}

    def explain(self, model: FittedModel, X: pd.DataFrame, schema: FeatureSchema,
                extras: dict[str, Any]) -> Explanation:
        assert isinstance(model, SklearnModel)
        clf = model.pipeline.named_steps["clf"]
        means = np.asarray(extras["linear_means"])
        coef = clf.coef_[0]
        vals = linear_shap(model.pipeline.named_steps["pre"].transform(X), coef, means)
        base = float(clf.intercept_[0] + coef @ means)
        return Explanation(aggregate_columns(vals, extras["output_map"], schema.names), base, schema.names,
                           X.reset_index(drop=True), self.output_scale)
