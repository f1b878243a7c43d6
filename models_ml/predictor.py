"""Fitted models in safe native formats: save, load, predict the raw probability, and explain.

LightGBM -> text model, XGBoost -> JSON model, scorecard -> JSON + CSV table, scikit-learn -> skops (only scikit-learn / numpy /
scipy types are trusted on load). Preprocessing state is JSON. Nothing here reads or writes a pickle.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
import xgboost as xgb
from sklearn.pipeline import Pipeline
from skops import io as sio

from models_ml.data import FeatureSchema
from models_ml.errors import ArtifactError
from models_ml.explain import Explanation, aggregate_columns, linear_shap
from models_ml.families import SCORECARD, BoostedModel, FittedModel, SklearnModel
from models_ml.preprocessing import NativeEncoder, output_feature_map

TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
MODEL_FILES = {"lightgbm": "model.txt", "xgboost": "model.json"}
SKOPS_FILE = "model.skops"
PREPROCESSING_FILE = "preprocessing.json"


class Predictor:
    """Raw (uncalibrated) probability and SHAP contributions of one fitted model."""

    def __init__(self, family: str, schema: FeatureSchema, model: FittedModel,
                 extras: dict[str, Any] | None = None) -> None:
        self.family = family
        self.schema = schema
        self.model = model
        self.extras = extras or {}
        self._tree_explainer: Any = None
        self._explainer_lock = threading.Lock()  # a loaded predictor is shared by threads: build it once

    @property
    def output_scale(self) -> str:
        return {"random_forest": "probability", "dummy": "probability", SCORECARD: "points"}.get(self.family,
                                                                                                  "log_odds")

    # --- training side -------------------------------------------------------------------------
    @classmethod
    def from_fitted(cls, model: FittedModel, schema: FeatureSchema, X_train: pd.DataFrame) -> Predictor:
        extras: dict[str, Any] = {}
        if isinstance(model, SklearnModel):
            if model.family == "dummy":
                extras["prior"] = float(model.pipeline.named_steps["clf"].class_prior_[1])
            else:
                pre = model.pipeline.named_steps["pre"]
                extras["output_map"] = output_feature_map(pre)
                if model.family == "logistic_regression":
                    extras["linear_means"] = pre.transform(X_train).mean(axis=0).tolist()
        return cls(model.family, schema, model, extras)

    # --- prediction ----------------------------------------------------------------------------
    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_raw(X)

    def explain(self, X: pd.DataFrame) -> Explanation:
        names = self.schema.names
        if self.family == SCORECARD:
            return self._explain_points(X)
        if isinstance(self.model, BoostedModel):
            return self.explain_matrix(self.model.matrix(X), X.reset_index(drop=True))
        assert isinstance(self.model, SklearnModel)
        if self.family == "dummy":
            return Explanation(np.zeros((len(X), len(names))), float(self.extras["prior"]), names,
                               X.reset_index(drop=True), "probability")
        pre = self.model.pipeline.named_steps["pre"]
        clf = self.model.pipeline.named_steps["clf"]
        Z = pre.transform(X)
        if self.family == "logistic_regression":
            means = np.asarray(self.extras["linear_means"])
            coef = clf.coef_[0]
            vals = linear_shap(Z, coef, means)
            base = float(clf.intercept_[0] + coef @ means)
        else:
            explainer = self.tree_explainer()
            sv = np.asarray(explainer.shap_values(Z, check_additivity=False))
            vals = sv[..., 1] if sv.ndim == 3 else sv
            ev = np.atleast_1d(explainer.expected_value)
            base = float(ev[-1])
        return Explanation(aggregate_columns(vals, self.extras["output_map"], names), base, names,
                           X.reset_index(drop=True), self.output_scale)

    def tree_explainer(self) -> Any:
        """The SHAP TreeExplainer of a forest, built once (under a lock: concurrent first uses share it)."""
        explainer = self._tree_explainer
        if explainer is None:
            with self._explainer_lock:
                if self._tree_explainer is None:
                    import shap  # heavy import only when a forest is explained

                    assert isinstance(self.model, SklearnModel)
                    self._tree_explainer = shap.TreeExplainer(self.model.pipeline.named_steps["clf"])
                explainer = self._tree_explainer
        return explainer

    def explain_matrix(self, matrix: np.ndarray, data: pd.DataFrame) -> Explanation:
        """SHAP contributions of a boosted model from its encoded matrix; ``data`` holds the rows' values."""
        assert isinstance(self.model, BoostedModel)
        contrib = np.asarray(self.model.predict_matrix(matrix, contributions=True), dtype=float)
        base = float(contrib[0, -1]) if len(contrib) else self._boosted_base()
        return Explanation(contrib[:, :-1], base, self.schema.names, data, "log_odds")

    def _explain_points(self, X: pd.DataFrame) -> Explanation:
        """Scorecard: the points each characteristic earned (exact: they add up to the score)."""
        from models_ml.scorecard import ScorecardModel

        assert isinstance(self.model, ScorecardModel)
        names = self.schema.names
        index = {n: j for j, n in enumerate(names)}
        values = np.zeros((len(X), len(names)))
        best = np.full(len(names), np.nan)  # NaN: not a characteristic of the scorecard
        pts = self.model.points_matrix(X)
        for k, c in enumerate(self.model.characteristics):
            values[:, index[c.name]] = pts[:, k]
            best[index[c.name]] = c.best_points
        return Explanation(values, self.model.intercept_points, names, X.reset_index(drop=True), "points",
                           best_points=best)

    def _boosted_base(self) -> float:
        return 0.0

    # --- persistence ---------------------------------------------------------------------------
    def save(self, directory: Path) -> list[str]:
        directory = Path(directory)
        written: list[str] = []
        prep: dict[str, Any] = {"family": self.family, "features": self.schema.to_list(), **self.extras}
        if isinstance(self.model, BoostedModel):
            prep["encoder"] = self.model.encoder.to_dict()
            prep["n_rounds"] = self.model.n_rounds
            fname = MODEL_FILES[self.family]
            if self.family == "lightgbm":
                self.model.booster.save_model(str(directory / fname), num_iteration=self.model.n_rounds)
            else:
                self.model.booster.save_model(str(directory / fname))
            written.append(fname)
        elif self.family == SCORECARD:
            written += self.model.save(directory)  # type: ignore[attr-defined]
        else:
            assert isinstance(self.model, SklearnModel)
            sio.dump(self.model.pipeline, directory / SKOPS_FILE)
            written.append(SKOPS_FILE)
        (directory / PREPROCESSING_FILE).write_text(json.dumps(prep, indent=1))
        written.append(PREPROCESSING_FILE)
        return written

    @classmethod
    def load(cls, directory: Path) -> Predictor:
        directory = Path(directory)
        prep_path = directory / PREPROCESSING_FILE
        if not prep_path.is_file():
            raise ArtifactError(f"{prep_path} is missing: not a complete model version")
        prep = json.loads(prep_path.read_text())
        family = prep["family"]
        schema = FeatureSchema.from_list(prep["features"])
        extras = {k: v for k, v in prep.items() if k not in {"family", "features", "encoder", "n_rounds"}}
        if family in MODEL_FILES:
            path = directory / MODEL_FILES[family]
            if not path.is_file():
                raise ArtifactError(f"model file {path} is missing")
            encoder = NativeEncoder.from_dict(prep["encoder"])
            if family == "lightgbm":
                booster: Any = lgb.Booster(model_file=str(path))
            else:
                booster = xgb.Booster()
                booster.load_model(str(path))
            model: FittedModel = BoostedModel(family, encoder, booster, int(prep["n_rounds"]))
        elif family == SCORECARD:
            from models_ml.scorecard import ScorecardModel

            model = ScorecardModel.load(directory, schema.names)
        else:
            model = SklearnModel(family, load_skops(directory / SKOPS_FILE))
        return cls(family, schema, model, extras)


def load_skops(path: Path) -> Pipeline:
    """Load a skops file, refusing any type outside scikit-learn / numpy / scipy."""
    if not path.is_file():
        raise ArtifactError(f"model file {path} is missing")
    untrusted = sio.get_untrusted_types(file=path)
    unsafe = [t for t in untrusted if not t.startswith(TRUSTED_PREFIXES)]
    if unsafe:
        raise ArtifactError(f"{path} holds types outside scikit-learn/numpy/scipy, refusing to load: {unsafe}")
    obj = sio.load(path, trusted=untrusted)
    if not isinstance(obj, Pipeline):
        raise ArtifactError(f"{path} does not hold a scikit-learn Pipeline (got {type(obj).__name__})")
    return obj
