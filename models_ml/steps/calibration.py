"""Step `calibrate`: prior correction for the imbalance strategy, then no map / sigmoid / isotonic chosen by
cross-fitted Brier score on the out-of-fold probabilities (models_ml.calibration)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models_ml.calibration import CalibrationChoice, Calibrator, choose_calibration
from models_ml.families import prior_beta


@dataclass(frozen=True)
class Calibrated:
    choice: CalibrationChoice
    beta: float | None      # rate at which non-defaulters were kept or weighted (None: no prior correction)
    p_cal: np.ndarray       # calibrated out-of-fold probabilities

    @property
    def calibrator(self) -> Calibrator:
        return self.choice.calibrator

    def metadata(self) -> dict[str, object]:
        c = self.choice
        return {"method": c.calibrator.method, "prior_correction_beta": self.beta, "before": c.before,
                "after": c.after, "candidates": c.candidates}


def calibrate(oof: np.ndarray, y: np.ndarray, folds: np.ndarray, imbalance: str,
              undersample_ratio: float) -> Calibrated:
    beta = prior_beta(y, imbalance, undersample_ratio)
    choice = choose_calibration(oof, y, folds, beta)
    return Calibrated(choice, beta, choice.calibrator.transform(oof))
