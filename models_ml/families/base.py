"""The model-family interface (``ModelFamily``), what every family shares (``Candidate``, ``FitContext``,
``FittedModel``) and the registry of families.

A family is one object that knows how to fit one of its models on a training fold, explain it, describe it,
and save / load it in a safe native format. Everything else (cross-validation, tuning, the predictor, the
registry of model versions) asks the family through this interface and never branches on its name, so
adding a family is one module with a ``ModelFamily`` subclass plus one line in ``models_ml/families/__init__.py``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from models_ml.data import FeatureSchema
from models_ml.settings import IMBALANCE_STRATEGIES, ScorecardConfig, TrainingProfile

if TYPE_CHECKING:
    from models_ml.explain import Explanation
    from models_ml.families.fold_cache import FoldDataCache

INNER_VALIDATION = 0.15  # share of a training fold held out for early stopping
SMALL_DATA = 30_000   # rows: below, shallow trees and a low learning rate generalise best
LARGE_DATA = 150_000  # rows: above, deeper trees and a higher learning rate keep training affordable


@dataclass(frozen=True)
class Candidate:
    family: str
    imbalance: str = "none"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.family}/{self.imbalance}"


def _new_cache() -> FoldDataCache:
    from models_ml.families.fold_cache import FoldDataCache

    return FoldDataCache()


@dataclass(frozen=True)
class FitContext:
    schema: FeatureSchema
    profile: TrainingProfile
    seed: int
    n_jobs: int
    undersample_ratio: float
    scorecard: ScorecardConfig = ScorecardConfig()
    monotone: str = "off"  # "auto": boosted trees constrained to the clear trends of the training rows
    # binned LightGBM / XGBoost data of each training fold, built once and shared by every candidate and tuning
    # trial fitted with this context (and its dataclasses.replace copies); None: rebuilt at every fit
    data_cache: FoldDataCache | None = field(default_factory=_new_cache, compare=False, repr=False)


class FittedModel:
    """A fitted candidate: ``predict_raw`` returns the uncalibrated probability of default."""

    family: str
    n_rounds: int | None = None

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        raise NotImplementedError


class ModelFamily(ABC):
    """One model family, implemented once: fit on a fold, predict (through its ``FittedModel``), explain,
    save / load, describe. Subclasses set the class attributes and implement the abstract methods."""

    name: ClassVar[str]
    output_scale: ClassVar[str] = "log_odds"   # scale of the explanation: log_odds | probability | points
    default_params: ClassVar[dict[str, Any]] = {}
    search_space: ClassVar[dict[str, list[Any]]] = {}  # what tuning samples from; {} = not tuned
    imbalance_strategies: ClassVar[tuple[str, ...]] = IMBALANCE_STRATEGIES
    pooled_early_stopping: ClassVar[bool] = False  # models carry validation_curve / n_rounds (cv.pooled_rounds)
    state_keys: ClassVar[tuple[str, ...]] = ()  # preprocessing.json entries that are model state, not extras
    summary: ClassVar[str] = ""                 # one sentence for people (describe, model card)

    def params(self, n_rows: int, profile: TrainingProfile) -> dict[str, Any]:
        """Starting hyper-parameters for ``n_rows`` training rows (tuning then explores around them)."""
        return dict(self.default_params)

    @abstractmethod
    def fit(self, c: Candidate, X: pd.DataFrame, y: np.ndarray, ctx: FitContext,
            n_rounds: int | None = None) -> FittedModel:
        """Fit ``c`` on (X, y). ``n_rounds``: boosted families fit exactly that many rounds on all rows."""

    def training_extras(self, model: FittedModel, X_train: pd.DataFrame) -> dict[str, Any]:
        """JSON-serialisable values the explanation needs besides the model (saved in preprocessing.json)."""
        return {}

    @abstractmethod
    def explain(self, model: FittedModel, X: pd.DataFrame, schema: FeatureSchema,
                extras: dict[str, Any]) -> Explanation:
        """One contribution per input feature and row, on ``output_scale``."""

    @abstractmethod
    def save(self, model: FittedModel, directory: Path) -> tuple[list[str], dict[str, Any]]:
        """Write the model file(s) to ``directory``: (file names written, ``state_keys`` entries for
        preprocessing.json)."""

    @abstractmethod
    def load(self, directory: Path, prep: dict[str, Any], schema: FeatureSchema) -> FittedModel:
        """The model saved by ``save`` (``prep``: the whole preprocessing.json); ``ArtifactError`` when a file
        is missing or malformed."""

    def describe(self) -> dict[str, Any]:
        return {"family": self.name, "summary": self.summary, "output_scale": self.output_scale,
                "imbalance_strategies": list(self.imbalance_strategies),
                "default_params": dict(self.default_params), "search_space": dict(self.search_space),
                "pooled_early_stopping": self.pooled_early_stopping}


_REGISTRY: dict[str, ModelFamily] = {}


def register(family: ModelFamily) -> ModelFamily:
    if family.name in _REGISTRY:
        raise ValueError(f"model family {family.name!r} is registered twice")
    _REGISTRY[family.name] = family
    return family


def get_family(name: str) -> ModelFamily:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown model family {name!r}; known: {', '.join(_REGISTRY)}") from None


def registered() -> list[str]:
    """Names of the registered families, in registration order."""
    return list(_REGISTRY)


def prior_beta(y: np.ndarray, imbalance: str, undersample_ratio: float) -> float | None:
    """Rate at which non-defaulters were effectively kept (or down-weighted) by the strategy."""
    n_pos = int(np.sum(y == 1))
    n_neg = int(np.sum(y == 0))
    if imbalance == "class_weight":
        return n_pos / n_neg
    if imbalance == "undersample":
        kept = min(n_neg, int(round(n_pos / undersample_ratio)))
        return kept / n_neg
    return None
