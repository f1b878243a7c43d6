"""One typed settings object for the modeling layer (HC_* environment variables, CLI overrides)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import Field, field_validator

from hc_contracts.settings import PlatformSettings

FAMILIES: tuple[str, ...] = ("dummy", "logistic_regression", "random_forest", "lightgbm", "xgboost", "scorecard")
SCORECARD_TRENDS: tuple[str, ...] = ("auto", "auto_heuristic", "auto_asc_desc", "ascending", "descending",
                                     "convex", "concave", "peak", "valley")
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


@dataclass(frozen=True)
class ScorecardConfig:
    """How the ``scorecard`` family bins, screens and scales (see models_ml/scorecard.py)."""

    base_score: float = 600.0
    base_odds: float = 50.0      # good:bad odds at the base score
    pdo: float = 20.0            # points to double the odds
    max_characteristics: int = 20
    min_iv: float = 0.02
    max_correlation: float = 0.8
    min_bin_share: float = 0.05
    trend: str = "auto_asc_desc"
    trends: tuple[tuple[str, str], ...] = ()
    special_codes: tuple[tuple[str, tuple[float, ...]], ...] = ()
    prescreen: int = 60          # characteristics passed to optimal binning after a quick IV ranking


class ModelSettings(PlatformSettings):
    """Configuration of training, scoring and reporting.

    Every field reads the environment variable ``HC_<FIELD NAME IN CAPITALS>`` (e.g. ``HC_WAREHOUSE``,
    ``HC_COST_FN``, ``HC_TRAIN_PROFILE``); the command-line flags of ``models_ml.train`` override them.
    """

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
    monotone: Literal["auto", "off"] = Field(
        "off", description="auto: LightGBM / XGBoost constrained to the monotone trends found on the training "
        "folds (features with a clear trend); the model card reports the cost in AUC and business cost")
    protected_attributes: str = Field(
        "CODE_GENDER", description="comma-separated application columns that never feed a decision (nor any "
        "feature derived from them); kept in the warehouse only to measure fairness. Empty: none")
    # --- scorecard family (optbinning; see models_ml/scorecard.py and docs/modeling.md) ---
    scorecard_base_score: float = Field(600.0, description="points at the base odds")
    scorecard_base_odds: float = Field(50.0, gt=0, description="good:bad odds that earn the base score")
    scorecard_pdo: float = Field(20.0, gt=0, description="points to double the odds")
    scorecard_max_characteristics: int = Field(20, ge=1, le=200,
                                               description="characteristics kept after IV screening")
    scorecard_min_iv: float = Field(0.02, ge=0, description="a characteristic below this IV is dropped")
    scorecard_max_correlation: float = Field(
        0.8, gt=0, le=1, description="a characteristic whose WoE correlates above this with a stronger kept "
        "one is dropped")
    scorecard_min_bin_share: float = Field(0.05, gt=0, lt=0.5, description="minimum share of rows per bin")
    scorecard_trend: str = Field("auto_asc_desc", description="monotonic trend of every numeric "
                                 f"characteristic: one of {list(SCORECARD_TRENDS)}")
    scorecard_trends: str = Field("", description="per-feature trend overrides, e.g. "
                                  "'ext_source_mean:descending,age_years:auto'")
    scorecard_special_codes: str = Field("", description="per-feature special values kept in their own bin, "
                                         "e.g. 'days_employed:365243|-1'")

    @field_validator("families")
    @classmethod
    def _known_families(cls, value: str) -> str:
        names = [v.strip() for v in value.split(",") if v.strip()]
        unknown = [n for n in names if n not in FAMILIES]
        if unknown or not names:
            raise ValueError(f"unknown model families {unknown}; choose among {list(FAMILIES)}")
        return ",".join(names)

    @field_validator("scorecard_trend")
    @classmethod
    def _known_trend(cls, value: str) -> str:
        if value not in SCORECARD_TRENDS:
            raise ValueError(f"unknown scorecard trend {value!r}; choose among {list(SCORECARD_TRENDS)}")
        return value

    @field_validator("scorecard_trends")
    @classmethod
    def _known_trends(cls, value: str) -> str:
        for item in filter(None, (v.strip() for v in value.split(","))):
            name, _, trend = item.partition(":")
            if not name.strip() or trend.strip() not in SCORECARD_TRENDS:
                raise ValueError(f"scorecard_trends item {item!r} must be 'feature:trend' with a trend among "
                                 f"{list(SCORECARD_TRENDS)}")
        return value

    @field_validator("scorecard_special_codes")
    @classmethod
    def _special_codes(cls, value: str) -> str:
        for item in filter(None, (v.strip() for v in value.split(","))):
            name, _, codes = item.partition(":")
            try:
                [float(c) for c in codes.split("|")]
            except ValueError:
                raise ValueError(f"scorecard_special_codes item {item!r} must be 'feature:number|number'") from None
            if not name.strip():
                raise ValueError(f"scorecard_special_codes item {item!r} has no feature name")
        return value

    @field_validator("protected_attributes")
    @classmethod
    def _protected_names(cls, value: str) -> str:
        names = [v.strip() for v in value.split(",") if v.strip()]
        bad = [n for n in names if not n.replace("_", "").isalnum()]
        if bad:
            raise ValueError(f"protected_attributes must be column names like CODE_GENDER; got {bad}")
        return ",".join(names)

    @property
    def protected_columns(self) -> list[str]:
        """Warehouse (snake_case) names of the protected attributes: ``CODE_GENDER`` -> ``code_gender``."""
        return [v.lower() for v in self.protected_attributes.split(",") if v]

    @property
    def scorecard_config(self) -> ScorecardConfig:
        def pairs(text: str) -> list[tuple[str, str]]:
            items = (v.strip() for v in text.split(","))
            return [(a.strip(), b.strip()) for a, _, b in (i.partition(":") for i in items if i)]

        return ScorecardConfig(
            base_score=self.scorecard_base_score, base_odds=self.scorecard_base_odds, pdo=self.scorecard_pdo,
            max_characteristics=self.scorecard_max_characteristics, min_iv=self.scorecard_min_iv,
            max_correlation=self.scorecard_max_correlation, min_bin_share=self.scorecard_min_bin_share,
            trend=self.scorecard_trend, trends=tuple(pairs(self.scorecard_trends)),
            special_codes=tuple((n, tuple(float(c) for c in codes.split("|")))
                                for n, codes in pairs(self.scorecard_special_codes)),
            prescreen=60 if self.train_profile == "full" else 20)

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
