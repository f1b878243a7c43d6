"""Calibration on known cases: prior correction recovers the true rate, isotonic/sigmoid fix distortions."""

from __future__ import annotations

import json

import numpy as np
import pytest
from imblearn.under_sampling import RandomUnderSampler
from sklearn.linear_model import LogisticRegression

from models_ml.calibration import Calibrator, choose_calibration, prior_correction
from models_ml.metrics import expected_calibration_error


def test_prior_correction_inverts_a_known_resampling() -> None:
    p = np.linspace(0.001, 0.999, 500)
    beta = 0.2  # 20 % of the negatives kept: odds multiplied by 1 / beta
    odds_s = p / (1 - p) / beta
    p_s = odds_s / (1 + odds_s)
    assert prior_correction(p_s, beta) == pytest.approx(p, rel=1e-12)


def test_prior_correction_recovers_the_true_default_rate_after_undersampling() -> None:
    rng = np.random.default_rng(0)
    n = 40_000
    x = rng.normal(size=(n, 2))
    p_true = 1 / (1 + np.exp(-(-3.0 + 1.2 * x[:, 0] - 0.8 * x[:, 1])))
    y = (rng.uniform(size=n) < p_true).astype(int)
    sampler = RandomUnderSampler(sampling_strategy=1.0, random_state=0)
    xs, ys = sampler.fit_resample(x, y)
    beta = (ys == 0).sum() / (y == 0).sum()
    p_s = LogisticRegression().fit(xs, ys).predict_proba(x)[:, 1]
    assert p_s.mean() > 3 * y.mean()  # resampling inflates the probabilities
    corrected = Calibrator("none", beta).fit(p_s, y).transform(p_s)
    assert corrected.mean() == pytest.approx(y.mean(), rel=0.1)
    assert expected_calibration_error(y, corrected) < 0.01 < expected_calibration_error(y, p_s)


def test_isotonic_and_sigmoid_improve_ece_of_distorted_probabilities() -> None:
    rng = np.random.default_rng(1)
    p_true = rng.beta(1, 10, 20_000)
    y = (rng.uniform(size=len(p_true)) < p_true).astype(int)
    distorted = np.sqrt(p_true)  # same ranking, far too high
    folds = np.arange(len(y)) % 5
    before = expected_calibration_error(y, distorted)
    for method in ("isotonic", "sigmoid"):
        cal = Calibrator(method).fit(distorted[folds != 0], y[folds != 0])
        after = expected_calibration_error(y[folds == 0], cal.transform(distorted[folds == 0]))
        assert after < before / 5, method
    choice = choose_calibration(distorted, y, folds, beta=None)
    assert choice.calibrator.method in ("isotonic", "sigmoid")
    assert choice.after["brier"] < choice.before["brier"]
    assert choice.after["ece"] < choice.before["ece"]


def test_no_calibration_is_kept_when_probabilities_are_already_calibrated() -> None:
    rng = np.random.default_rng(2)
    p = rng.beta(1, 10, 20_000)
    y = (rng.uniform(size=len(p)) < p).astype(int)
    choice = choose_calibration(p, y, np.arange(len(y)) % 5, beta=None)
    assert choice.calibrator.method == "none"
    assert choice.calibrator.transform(p) == pytest.approx(p)


@pytest.mark.parametrize("method", ["none", "sigmoid", "isotonic"])
def test_calibrator_json_round_trip(method: str) -> None:
    rng = np.random.default_rng(4)
    p = rng.uniform(0.01, 0.9, 2000)
    y = (rng.uniform(size=2000) < p**2).astype(int)
    cal = Calibrator(method, beta=0.3).fit(p, y)
    again = Calibrator.from_dict(json.loads(json.dumps(cal.to_dict())))
    q = rng.uniform(0, 1, 500)
    assert np.array_equal(cal.transform(q), again.transform(q))
    assert np.all(np.diff(cal.transform(np.sort(q))) >= -1e-12)  # monotone
