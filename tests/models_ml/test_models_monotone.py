"""HC_MONOTONE=auto: boosted trees constrained to the clear trends of the training rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from models_ml_synth import fast_settings

from models_ml.data import load_training_set
from models_ml.families import Candidate, FitContext, fit_candidate
from models_ml.monotone import trend_direction
from models_ml.registry import load_current
from models_ml.settings import PROFILES


def test_trend_direction_finds_clear_trends_only() -> None:
    rng = np.random.default_rng(0)
    n = 5000
    x = rng.normal(size=n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-(-2.5 + 1.2 * x)))).astype(float)
    assert trend_direction(x, y) == 1 and trend_direction(-x, y) == -1
    assert trend_direction(rng.normal(size=n), y) == 0                      # noise: no trend
    assert trend_direction(x ** 2, (rng.uniform(size=n) < 0.05 + 0.1 * (np.abs(x) < 0.5)).astype(float)) == 0
    with_missing = np.where(rng.uniform(size=n) < 0.3, np.nan, x)
    assert trend_direction(with_missing, y) == 1


def test_constrained_lightgbm_is_monotone_in_the_constrained_features(small_warehouse: Path) -> None:
    data = load_training_set(small_warehouse, protected=["code_gender"])
    ctx = FitContext(data.schema, PROFILES["fast"], seed=0, n_jobs=1, undersample_ratio=0.5, monotone="auto")
    model = fit_candidate(Candidate("lightgbm", "none", {"num_leaves": 7, "learning_rate": 0.1}), data.frame,
                          data.target, ctx, n_rounds=60)
    directions = dict(zip(data.schema.names, model.monotone, strict=True))
    assert directions["ext_source_2"] == -1  # a higher external score, a lower risk (the synthetic truth)
    row = data.frame.iloc[[0]]
    grid = pd.concat([row] * 50, ignore_index=True)
    grid["ext_source_2"] = np.linspace(0, 1, 50)
    p = model.predict_raw(grid)
    assert np.all(np.diff(p) <= 1e-12) and p[0] > p[-1]


@pytest.mark.trains
def test_model_card_reports_the_cost_of_the_constraints(small_warehouse: Path, tmp_path: Path) -> None:
    from models_ml.train import run_training

    run_training(fast_settings(small_warehouse, tmp_path, families="dummy,lightgbm", monotone="auto"))
    model = load_current(tmp_path)
    mono = model.metadata.monotone
    assert mono["mode"] == "auto" and mono["features"]["ext_source_2"] == "decreasing"
    assert mono["auc_change"] == mono["constrained"]["roc_auc"] - mono["unconstrained"]["roc_auc"]
    assert "## Monotone constraints" in model.model_card_path.read_text()
