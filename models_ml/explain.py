"""SHAP explanations: exact tree SHAP from LightGBM / XGBoost, linear SHAP for logistic regression,
shap's TreeExplainer for random forests. One value per input feature (one-hot columns summed back)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class Explanation:
    """SHAP values of ``n`` rows: ``base_value + values[i].sum()`` is the model output of row ``i`` on
    ``output_scale`` (``log_odds`` of the uncalibrated model for boosted trees and logistic regression,
    ``probability`` for the forest)."""

    values: np.ndarray              # n x k
    base_value: float
    feature_names: list[str]
    data: pd.DataFrame              # the explained rows' feature values (canonical form)
    output_scale: str = "log_odds"
    # scorecard (output_scale "points"): values are the points earned (base_value: points not tied to a
    # characteristic, 0), best_points the points of each feature's best bin (NaN: not a characteristic)
    best_points: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.values.shape[0])

    def row(self, i: int) -> pd.DataFrame:
        return pd.DataFrame({"feature": self.feature_names, "value": self.data.iloc[i].tolist(),
                             "shap": self.values[i]})


def aggregate_columns(values: np.ndarray, output_map: list[str], feature_names: list[str]) -> np.ndarray:
    """Sum the SHAP values of transformed columns into the input feature each comes from."""
    index = {f: j for j, f in enumerate(feature_names)}
    cols = np.array([index[f] for f in output_map])
    out = np.zeros((values.shape[0], len(feature_names)))
    np.add.at(out.T, cols, values.T)
    return out


def linear_shap(Z: np.ndarray, coef: np.ndarray, means: np.ndarray) -> np.ndarray:
    """Exact SHAP values of a linear model with independent features: coef_j * (z_j - E[z_j])."""
    return (Z - means) * coef


def global_importance(expl: Explanation) -> list[dict[str, float | str]]:
    """Mean |SHAP| per feature, sorted descending (ties by name). For a scorecard (points) the values are
    centred first: mean |points - average points| (a characteristic's constant share carries no weight)."""
    vals = expl.values - expl.values.mean(axis=0) if expl.output_scale == "points" else expl.values
    imp = np.abs(vals).mean(axis=0)
    order = sorted(range(len(imp)), key=lambda j: (-imp[j], expl.feature_names[j]))
    return [{"feature": expl.feature_names[j], "mean_abs_shap": float(imp[j])} for j in order]
