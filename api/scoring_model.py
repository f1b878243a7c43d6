"""What the API needs of a model version (`models_ml.registry.ScoringModel` implements it)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from hc_contracts.metadata import ModelMetadata


@runtime_checkable
class Explanation(Protocol):
    """SHAP values of some rows (`models_ml.explain.Explanation`)."""

    values: np.ndarray
    base_value: float
    feature_names: list[str]
    data: pd.DataFrame
    output_scale: str
    best_points: np.ndarray | None


@runtime_checkable
class ScoringModel(Protocol):
    """A loaded model version: scores, decides, explains and labels applicants' features."""

    path: Path
    version: str
    threshold: float
    metadata: ModelMetadata
    feature_types: dict[str, str]

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray: ...

    def decide(self, p: float | np.ndarray) -> Any: ...

    def risk_band(self, p: float | np.ndarray) -> Any: ...

    def explain(self, df: pd.DataFrame) -> Any: ...

    def reasons(self, explanation: Any, row: int = 0, top_k: int = 5,
                values: Sequence[Any] | None = None) -> list[dict[str, Any]]: ...

    def label(self, feature: str) -> str: ...
