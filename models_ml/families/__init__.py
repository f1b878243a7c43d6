"""The compared model families, one module each, behind one interface (``base.ModelFamily``).

Linear and forest models are scikit-learn pipelines (imputation, scaling, one-hot); LightGBM and XGBoost get
the native encoder (their own categorical and missing-value handling) and early stopping on an inner validation
split of the training data; the scorecard is an optbinning points table. Undersampling (imbalanced-learn) only
ever touches the rows a model is fitted on.

Adding a family: a module with a ``ModelFamily`` subclass, one line in ``_FAMILIES`` below, and its name in
``models_ml.settings.FAMILIES`` (what ``HC_FAMILIES`` accepts). The functions below are what the rest of the
package calls; none of them branches on a family's name.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from models_ml.families.base import (
    INNER_VALIDATION,
    LARGE_DATA,
    SMALL_DATA,
    Candidate,
    FitContext,
    FittedModel,
    ModelFamily,
    get_family,
    prior_beta,
    register,
    registered,
)
from models_ml.families.boosted import THREAD_SETTINGS, BoostedFamily, BoostedModel
from models_ml.families.dummy import DummyFamily
from models_ml.families.fold_cache import FoldDataCache
from models_ml.families.forest import RF_ROWS_PER_TREE, ForestFamily
from models_ml.families.lightgbm import LightGBMFamily
from models_ml.families.logistic import LogisticFamily
from models_ml.families.pipeline import SklearnFamily, SklearnModel
from models_ml.families.scorecard import ScorecardFamily
from models_ml.families.xgboost import XGBoostFamily, xgb_dmatrix
from models_ml.settings import TrainingProfile

_FAMILIES: tuple[ModelFamily, ...] = (
    DummyFamily(),
    LogisticFamily(),
    ForestFamily(),
    LightGBMFamily(),
    XGBoostFamily(),
    ScorecardFamily(),
)
for _family in _FAMILIES:
    register(_family)

BOOSTED: tuple[str, ...] = tuple(f.name for f in _FAMILIES if f.pooled_early_stopping)
SKLEARN: tuple[str, ...] = tuple(f.name for f in _FAMILIES if isinstance(f, SklearnFamily))
SCORECARD = "scorecard"  # optbinning points scorecard (models_ml/scorecard.py)
DEFAULT_PARAMS: dict[str, dict[str, Any]] = {f.name: dict(f.default_params) for f in _FAMILIES}
SEARCH_SPACE: dict[str, dict[str, list[Any]]] = {f.name: dict(f.search_space) for f in _FAMILIES}


def default_params(family: str, n_rows: int, profile: TrainingProfile) -> dict[str, Any]:
    """Starting hyper-parameters scaled with the data size (tuning then explores around them)."""
    return get_family(family).params(n_rows, profile)


def imbalance_strategies(family: str) -> list[str]:
    return list(get_family(family).imbalance_strategies)


def fit_candidate(c: Candidate, X: pd.DataFrame, y: np.ndarray, ctx: FitContext,
                  n_rounds: int | None = None) -> FittedModel:
    return get_family(c.family).fit(c, X, y, ctx, n_rounds)


def describe_families() -> list[dict[str, Any]]:
    """What each registered family is: summary, output scale, strategies, parameters, search space."""
    return [get_family(name).describe() for name in registered()]


def _xgb_params(c: Candidate, ctx: FitContext, y: np.ndarray) -> dict[str, Any]:
    """XGBoost training parameters of a candidate (the Spark trainer uses the single-machine ones)."""
    family = get_family("xgboost")
    assert isinstance(family, XGBoostFamily)
    return family.train_params(c, ctx, y)


__all__ = [
    "BOOSTED", "DEFAULT_PARAMS", "INNER_VALIDATION", "LARGE_DATA", "RF_ROWS_PER_TREE", "SCORECARD", "SEARCH_SPACE",
    "SKLEARN", "SMALL_DATA", "THREAD_SETTINGS", "BoostedFamily", "BoostedModel", "Candidate", "FitContext",
    "FittedModel", "FoldDataCache", "ModelFamily", "SklearnModel", "default_params", "describe_families",
    "fit_candidate", "get_family", "imbalance_strategies", "prior_beta", "register", "registered", "xgb_dmatrix",
]
