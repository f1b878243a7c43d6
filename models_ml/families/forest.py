"""The ``random_forest`` family: scikit-learn's random forest on imputed and one-hot columns, each tree drawn
on a bounded number of rows; SHAP values from shap's TreeExplainer (probability scale)."""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier

from models_ml.data import FeatureSchema
from models_ml.explain import Explanation, aggregate_columns
from models_ml.families.base import Candidate, FitContext, FittedModel
from models_ml.families.pipeline import SklearnFamily, SklearnModel, rows_fitted

RF_ROWS_PER_TREE = 20_000  # a forest's tree draws at most this many rows: bounded cost, little loss


class ForestFamily(SklearnFamily):
    name = "random_forest"
    output_scale = "probability"
    default_params: ClassVar[dict[str, Any]] = {"min_samples_leaf": 10, "max_features": "sqrt",
                                                 "max_samples": 0.5, "max_depth": 16}
    search_space: ClassVar[dict[str, list[Any]]] = {"min_samples_leaf": [3, 10, 25, 50],
                                                    "max_features": ["sqrt", 0.1, 0.2],
                                                    "max_depth": [8, 12, 16, None]}
    summary = (f"each tree grown on a bootstrap sample of half the rows, at most {RF_ROWS_PER_TREE:,}, "
               "Gini splits")

    def estimator(self, c: Candidate, y: np.ndarray, ctx: FitContext) -> Any:
        p = {**self.default_params, **c.params}
        # max_samples is a share of the rows the forest sees (after undersampling)
        share = min(p["max_samples"], RF_ROWS_PER_TREE / rows_fitted(y, c.imbalance, ctx))
        return RandomForestClassifier(
            n_estimators=ctx.profile.rf_trees, min_samples_leaf=p["min_samples_leaf"],
            max_features=p["max_features"], max_samples=share, max_depth=p["max_depth"],
            class_weight="balanced" if c.imbalance == "class_weight" else None, n_jobs=ctx.n_jobs,
            random_state=ctx.seed)

    def explain(self, model: FittedModel, X: pd.DataFrame, schema: FeatureSchema,
                extras: dict[str, Any]) -> Explanation:
        assert isinstance(model, SklearnModel)
        explainer = model.built_once("tree_explainer", lambda: _tree_explainer(model))
        sv = np.asarray(explainer.shap_values(model.pipeline.named_steps["pre"].transform(X),
                                              check_additivity=False))
        vals = sv[..., 1] if sv.ndim == 3 else sv
        base = float(np.atleast_1d(explainer.expected_value)[-1])
        return Explanation(aggregate_columns(vals, extras["output_map"], schema.names), base, schema.names,
                           X.reset_index(drop=True), self.output_scale)


def _tree_explainer(model: SklearnModel) -> Any:
    import shap  # heavy import only when a forest is explained

    return shap.TreeExplainer(model.pipeline.named_steps["clf"])
