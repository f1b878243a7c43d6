"""Step `explain`: SHAP values of the final model on a seeded sample of rows, global importance, and a local
example (a typically refused applicant) with its reason codes, values left out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from models_ml.explain import Explanation, global_importance
from models_ml.predictor import Predictor
from models_ml.reasons import FeatureLabeler, reason_codes, without_values


@dataclass(frozen=True)
class Explained:
    X: pd.DataFrame                    # the explained rows
    explanation: Explanation
    probability: np.ndarray            # calibrated probabilities of those rows
    importance: list[dict[str, Any]]
    local: dict[str, Any]              # the local example (row, probability, decision, reasons)
    labeler: FeatureLabeler


def local_example_row(p: np.ndarray, threshold: float) -> int:
    """A refused applicant with a typical refused probability (or the riskiest one if none is refused)."""
    refused = np.flatnonzero(p >= threshold)
    if len(refused) == 0:
        return int(np.argmax(p))
    order = refused[np.argsort(p[refused], kind="stable")]
    return int(order[len(order) // 2])


def explain(predictor: Predictor, X: pd.DataFrame, calibrate: Callable[[np.ndarray], np.ndarray], threshold: float,
            sample_size: int, seed: int, labeler: FeatureLabeler | None = None) -> Explained:
    """Explain ``sample_size`` rows of ``X`` drawn with ``seed`` (all when fewer)."""
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(X), size=min(len(X), sample_size), replace=False))
    rows = X.iloc[idx]
    expl = predictor.explain(rows)
    p = calibrate(predictor.predict_raw(rows))
    labeler = labeler or FeatureLabeler.default()
    i = local_example_row(p, threshold)
    local = {"row": int(i), "probability": float(p[i]), "decision": "refuse" if p[i] >= threshold else "grant",
             "base_value": expl.base_value, "output_scale": expl.output_scale,
             "reasons": without_values(reason_codes(expl, row=i, top_k=6, labeler=labeler))}
    return Explained(rows, expl, p, global_importance(expl), local, labeler)
