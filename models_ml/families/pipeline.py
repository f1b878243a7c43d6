"""What the scikit-learn families share: a fitted ``Pipeline`` (preprocessing + classifier), saved with skops
(only scikit-learn / numpy / scipy types are trusted on load), and undersampling inside the fitted rows only."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from imblearn.pipeline import Pipeline as ImbPipeline
from imblearn.under_sampling import RandomUnderSampler
from sklearn.pipeline import Pipeline
from skops import io as sio

from models_ml.data import FeatureSchema
from models_ml.errors import ArtifactError
from models_ml.families.base import Candidate, FitContext, FittedModel, ModelFamily
from models_ml.preprocessing import make_sklearn_preprocessor, output_feature_map

TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
SKOPS_FILE = "model.skops"


class SklearnModel(FittedModel):
    """A fitted scikit-learn pipeline; ``lazy`` holds what explaining builds once (e.g. a SHAP explainer)."""

    def __init__(self, family: str, pipeline: Pipeline) -> None:
        self.family = family
        self.pipeline = pipeline
        self.lazy: dict[str, Any] = {}
        self.lock = threading.Lock()  # a loaded model is shared by threads: build lazy things once

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        if "pre" not in self.pipeline.named_steps:  # ignores the features (dummy)
            return self.pipeline.predict_proba(np.zeros((len(X), 1)))[:, 1]
        return self.pipeline.predict_proba(X)[:, 1]

    def built_once(self, key: str, build: Any) -> Any:
        value = self.lazy.get(key)
        if value is None:
            with self.lock:
                if key not in self.lazy:
                    self.lazy[key] = build()
                value = self.lazy[key]
        return value


def rows_fitted(y: np.ndarray, imbalance: str, ctx: FitContext) -> int:
    """Rows the classifier is fitted on: all of them, or what random undersampling keeps."""
    if imbalance != "undersample":
        return max(len(y), 1)
    n_pos, n_neg = int(np.sum(y == 1)), int(np.sum(y == 0))
    return max(n_pos + min(n_neg, int(n_pos / ctx.undersample_ratio)), 1)


class SklearnFamily(ModelFamily):
    """A classifier after ``make_sklearn_preprocessor`` (imputation, scaling, one-hot); skops file."""

    state_keys: ClassVar[tuple[str, ...]] = ()

    def estimator(self, c: Candidate, y: np.ndarray, ctx: FitContext) -> Any:
        raise NotImplementedError

    def fit(self, c: Candidate, X: pd.DataFrame, y: np.ndarray, ctx: FitContext,
            n_rounds: int | None = None) -> SklearnModel:
        steps: list[tuple[str, Any]] = [("pre", make_sklearn_preprocessor(ctx.schema))]
        if c.imbalance == "undersample":
            steps.append(("sample", RandomUnderSampler(sampling_strategy=ctx.undersample_ratio,
                                                       random_state=ctx.seed)))
        steps.append(("clf", self.estimator(c, y, ctx)))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=UserWarning)
            warnings.simplefilter("ignore", category=RuntimeWarning)
            fitted = ImbPipeline(steps).fit(X, y)
        # keep only the transform + classifier: a plain scikit-learn pipeline, serialisable with skops
        plain = Pipeline([("pre", fitted.named_steps["pre"]), ("clf", fitted.named_steps["clf"])])
        return SklearnModel(c.family, plain)

    def training_extras(self, model: FittedModel, X_train: pd.DataFrame) -> dict[str, Any]:
        assert isinstance(model, SklearnModel)
        return {"output_map": output_feature_map(model.pipeline.named_steps["pre"])}

    def save(self, model: FittedModel, directory: Path) -> tuple[list[str], dict[str, Any]]:
        assert isinstance(model, SklearnModel)
        sio.dump(model.pipeline, Path(directory) / SKOPS_FILE)
        return [SKOPS_FILE], {}

    def load(self, directory: Path, prep: dict[str, Any], schema: FeatureSchema) -> FittedModel:
        return SklearnModel(self.name, load_skops(Path(directory) / SKOPS_FILE))


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
