"""Fitted models in safe native formats: save, load, predict the raw probability, and explain.

Each family (``models_ml.families``) writes its own native file: LightGBM -> text model, XGBoost -> JSON model,
scorecard -> JSON + CSV table, scikit-learn -> skops (only scikit-learn / numpy / scipy types are trusted on
load). Preprocessing state is JSON. Nothing here reads or writes a pickle.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from models_ml.data import FeatureSchema
from models_ml.errors import ArtifactError
from models_ml.explain import Explanation
from models_ml.families import BoostedFamily, BoostedModel, FittedModel, ModelFamily, get_family
from models_ml.families.pipeline import SKOPS_FILE, TRUSTED_PREFIXES, load_skops

PREPROCESSING_FILE = "preprocessing.json"

__all__ = ["PREPROCESSING_FILE", "SKOPS_FILE", "TRUSTED_PREFIXES", "Predictor", "load_skops"]


class Predictor:
    """Raw (uncalibrated) probability and SHAP contributions of one fitted model."""

    def __init__(self, family: str, schema: FeatureSchema, model: FittedModel,
                 extras: dict[str, Any] | None = None) -> None:
        self.family = family
        self.schema = schema
        self.model = model
        self.extras = extras or {}
        self.impl: ModelFamily = get_family(family)

    @property
    def output_scale(self) -> str:
        return self.impl.output_scale

    # --- training side -------------------------------------------------------------------------
    @classmethod
    def from_fitted(cls, model: FittedModel, schema: FeatureSchema, X_train: pd.DataFrame) -> Predictor:
        return cls(model.family, schema, model, get_family(model.family).training_extras(model, X_train))

    # --- prediction ----------------------------------------------------------------------------
    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        return self.model.predict_raw(X)

    def explain(self, X: pd.DataFrame) -> Explanation:
        return self.impl.explain(self.model, X, self.schema, self.extras)

    def explain_matrix(self, matrix: np.ndarray, data: pd.DataFrame) -> Explanation:
        """SHAP contributions of a boosted model from its encoded matrix; ``data`` holds the rows' values."""
        assert isinstance(self.model, BoostedModel) and isinstance(self.impl, BoostedFamily)
        return self.impl.explain_matrix(self.model, matrix, data, self.schema)

    # --- persistence ---------------------------------------------------------------------------
    def save(self, directory: Path) -> list[str]:
        directory = Path(directory)
        written, state = self.impl.save(self.model, directory)
        prep: dict[str, Any] = {"family": self.family, "features": self.schema.to_list(), **self.extras, **state}
        (directory / PREPROCESSING_FILE).write_text(json.dumps(prep, indent=1))
        return [*written, PREPROCESSING_FILE]

    @classmethod
    def load(cls, directory: Path) -> Predictor:
        directory = Path(directory)
        prep_path = directory / PREPROCESSING_FILE
        if not prep_path.is_file():
            raise ArtifactError(f"{prep_path} is missing: not a complete model version")
        try:
            prep = json.loads(prep_path.read_text())
            family = get_family(str(prep["family"]))
            schema = FeatureSchema.from_list(prep["features"])
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{prep_path} is malformed (expected JSON with 'family' (a registered model "
                                f"family) and 'features'): {exc}") from exc
        extras = {k: v for k, v in prep.items() if k not in {"family", "features", *family.state_keys}}
        return cls(family.name, schema, family.load(directory, prep, schema), extras)
