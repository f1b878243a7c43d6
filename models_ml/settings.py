"""One typed settings object for the modeling layer (HC_* environment variables, CLI overrides)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

FAMILIES: tuple[str, ...] = ("dummy", "logistic_regression", "random_forest", "lightgbm", "xgboost")
IMBALANCE_STRATEGIES: tuple[str, ...] = ("none", "class_weight", "undersample")


@dataclass(frozen=True)
class TrainingProfile:
    """Sizes that trade training time for quality; ``full`` for real runs, ``fast`` for tests."""

    name: str
    max_boost_rounds: int
    learning_rate: float | None  # None: scaled with the data size (families.default_params)
    early_stopping_rounds: int  # patience, in rounds, after the best smoothed validation AUC
    min_boost_rounds: int       # no model is kept with fewer rounds
    smoothing_window: int       # rounds in the moving average of the validation AUC
    rf_trees: int
    tuning_trials: int
    shap_sample: int
    reference_sample: int
    plot_sample: int


PROFILES: dict[str, TrainingProfile] = {
    "full": TrainingProfile("full", max_boost_rounds=3000, learning_rate=None, early_stopping_rounds=200, min_boost_rounds=100, smoothing_window=50,
                            rf_trees=200, tuning_trials=6, shap_sample=2000, reference_sample=5000,
                            plot_sample=1000),
    "fast": TrainingProfile("fast", max_boost_rounds=80, learning_rate=0.1, early_stopping_rounds=10, min_boost_rounds=10, smoothing_window=5,
                            rf_trees=25, tuning_trials=1, shap_sample=200, reference_sample=300,
                            plot_sample=200),
}


class ModelSettings(BaseSettings):
    """Configuration of training, scoring and reporting.

    Every field reads the environment variable ``HC_<FIELD NAME IN CAPITALS>`` (e.g. ``HC_WAREHOUSE``,
    ``HC_COST_FN``, ``HC_TRAIN_PROFILE``); the command-line flags of ``models_ml.train`` override them.
    """

    model_config = SettingsConfigDict(env_prefix="HC_", extra="ignore", protected_namespaces=())

    warehouse: Path = Field(Path("data/warehouse.duckdb"), description="DuckDB file built by the warehouse")
    artifacts: Path = Field(Path("artifacts"), description="root of models/, reports/, submission.csv")
    cost_fn: float = Field(10.0, gt=0, description="cost of granting a loan to a client who defaults")
    cost_fp: float = Field(1.0, gt=0, description="cost of refusing a client who would have repaid")
    cost_mode: Literal["count", "money"] = Field(
        "count", description="count: c_FN*FN + c_FP*FP; money: LGD*credit per missed defaulter, "
        "margin*credit per refused good client")
    loss_given_default: float = Field(0.6, gt=0, le=1, description="money mode: share of the credit lost")
    lost_margin_rate: float = Field(0.06, gt=0, le=1, description="money mode: margin lost per refused client")
    n_folds: int = Field(5, ge=2, le=20, description="stratified cross-validation folds")
    seed: int = Field(0, ge=0, description="seed of every random choice (folds, sampling, models)")
    time_budget_s: float = Field(1800.0, gt=0, description="soft budget for comparison + tuning (seconds)")
    train_profile: Literal["full", "fast"] = Field("full", description="fast: tiny models for tests")
    n_jobs: int = Field(2, ge=1, description="threads per model")
    compare_max_rows: int = Field(
        60000, ge=100, description="stratified subsample for the family comparison and tuning; "
        "the selected model is cross-validated on every row")
    families: str = Field(",".join(FAMILIES), description="comma-separated families to compare")
    undersample_ratio: float = Field(0.5, gt=0, le=1,
                                     description="minority/majority ratio after random undersampling")
    promote: bool = Field(True, description="switch models/current to the new version")

    @field_validator("families")
    @classmethod
    def _known_families(cls, value: str) -> str:
        names = [v.strip() for v in value.split(",") if v.strip()]
        unknown = [n for n in names if n not in FAMILIES]
        if unknown or not names:
            raise ValueError(f"unknown model families {unknown}; choose among {list(FAMILIES)}")
        return ",".join(names)

    @property
    def family_list(self) -> list[str]:
        return [v for v in self.families.split(",") if v]

    @property
    def profile(self) -> TrainingProfile:
        return PROFILES[self.train_profile]

    @property
    def effective_n_jobs(self) -> int:
        """Threads per model; one in the fast profile (tiny data: threads only add synchronisation cost)."""
        return 1 if self.train_profile == "fast" else self.n_jobs

    @property
    def models_dir(self) -> Path:
        return self.artifacts / "models"
