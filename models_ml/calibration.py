"""Probability calibration: prior correction for resampling / class weights, then sigmoid or isotonic.

Everything is stored as plain JSON numbers (no pickle). ``Calibrator.transform`` is a monotone map
from the model's raw probability to a calibrated probability of default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss

from models_ml.metrics import expected_calibration_error

Method = Literal["none", "sigmoid", "isotonic"]
EPS = 1e-6


def prior_correction(p: np.ndarray, beta: float) -> np.ndarray:
    """Undo a change of class prior (Dal Pozzolo et al., 2015).

    ``beta`` is the rate at which the majority class (non-defaulters) was kept (undersampling) or its
    relative weight (class weights). A model trained on the re-balanced data returns p_s; the
    probability under the true prior is beta*p_s / (beta*p_s - p_s + 1).
    """
    p = np.asarray(p, dtype=float)
    return beta * p / (beta * p - p + 1.0)


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, EPS, 1 - EPS)
    return np.log(p / (1 - p))


@dataclass
class Calibrator:
    """Prior correction (optional) followed by ``method`` fitted on out-of-fold predictions."""

    method: Method = "none"
    beta: float | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def _prior(self, p: np.ndarray) -> np.ndarray:
        return prior_correction(p, self.beta) if self.beta is not None else np.asarray(p, dtype=float)

    def fit(self, p: np.ndarray, y: np.ndarray) -> Calibrator:
        q = self._prior(p)
        y = np.asarray(y, dtype=float)
        if self.method == "sigmoid":
            lr = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
            lr.fit(_logit(q).reshape(-1, 1), y)
            self.params = {"a": float(lr.coef_[0, 0]), "b": float(lr.intercept_[0])}
        elif self.method == "isotonic":
            iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
            iso.fit(q, y)
            self.params = {"x": [float(v) for v in iso.X_thresholds_],
                           "y": [float(v) for v in iso.y_thresholds_]}
        else:
            self.params = {}
        return self

    def transform(self, p: np.ndarray) -> np.ndarray:
        q = self._prior(p)
        if self.method == "sigmoid":
            z = self.params["a"] * _logit(q) + self.params["b"]
            return 1.0 / (1.0 + np.exp(-z))
        if self.method == "isotonic":
            return np.interp(q, np.asarray(self.params["x"]), np.asarray(self.params["y"]))
        return q

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "prior_correction_beta": self.beta, "params": self.params}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Calibrator:
        if d.get("method") not in ("none", "sigmoid", "isotonic"):
            raise ValueError(f"unknown calibration method {d.get('method')!r}")
        beta = d.get("prior_correction_beta")
        return cls(method=d["method"], beta=None if beta is None else float(beta), params=dict(d.get("params", {})))


def cross_fitted(p: np.ndarray, y: np.ndarray, folds: np.ndarray, method: Method,
                 beta: float | None) -> np.ndarray:
    """Calibrated probabilities where each fold is mapped by a calibrator fitted on the other folds."""
    out = np.empty(len(p))
    for k in np.unique(folds):
        test = folds == k
        cal = Calibrator(method, beta).fit(p[~test], y[~test])
        out[test] = cal.transform(p[test])
    return out


@dataclass
class CalibrationChoice:
    calibrator: Calibrator
    candidates: list[dict[str, Any]]  # method, brier, ece (cross-fitted)
    before: dict[str, float]           # brier, ece of the raw out-of-fold probabilities
    after: dict[str, float]            # brier, ece of the chosen method, cross-fitted


def choose_calibration(p: np.ndarray, y: np.ndarray, folds: np.ndarray, beta: float | None) -> CalibrationChoice:
    """Compare no calibration / sigmoid / isotonic (after prior correction when ``beta``) by cross-fitted Brier.

    The lowest Brier score wins; a more complex method must improve it by at least 0.5 % to be preferred.
    """
    p = np.asarray(p, dtype=float)
    y = np.asarray(y, dtype=float)
    before = {"brier": float(brier_score_loss(y, p)), "ece": expected_calibration_error(y, p)}
    candidates = []
    for method in ("none", "sigmoid", "isotonic"):
        q = cross_fitted(p, y, folds, method, beta)
        candidates.append({"method": method, "prior_correction": beta is not None,
                           "brier": float(brier_score_loss(y, q)), "ece": expected_calibration_error(y, q)})
    best = candidates[0]
    for c in candidates[1:]:
        if c["brier"] < best["brier"] * 0.995:
            best = c
    calibrator = Calibrator(best["method"], beta).fit(p, y)
    return CalibrationChoice(calibrator, candidates, before, {"brier": best["brier"], "ece": best["ece"]})
