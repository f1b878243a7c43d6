"""One typed settings object for drift monitoring (HC_* environment variables, CLI overrides)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from hc_contracts.settings import PlatformSettings


class MonitoringSettings(PlatformSettings):
    """Configuration of `python -m monitoring.drift`.

    Every field reads ``HC_<FIELD NAME IN CAPITALS>`` (``HC_ARTIFACTS``, ``HC_WAREHOUSE``,
    ``HC_DRIFT_MAX_COLUMNS``, ...); the command-line flags override them.
    """

    # which columns and rows go into the report
    drift_top_n: int = Field(30, ge=0, description="the model's most important features always monitored")
    drift_max_columns: int = Field(
        60, ge=1, le=1000, description="cap on monitored columns (Evidently's cost grows with each column)")
    drift_max_rows: int = Field(
        20_000, ge=100, description="reference and current are each sampled (seeded) down to this many rows")
    drift_seed: int = Field(0, ge=0, description="seed of the row sampling")
    drift_window_days: int = Field(7, ge=1, le=366, description="default request-log window (days back)")

    # how drift is decided
    drift_num_method: str = Field("wasserstein", description="Evidently test for numeric columns")
    drift_cat_method: str = Field("jensenshannon", description="Evidently test for categorical/boolean columns")
    drift_num_threshold: float = Field(0.1, gt=0, description="threshold of the numeric Evidently test")
    drift_cat_threshold: float = Field(0.1, gt=0, description="threshold of the categorical Evidently test")
    drift_psi_bins: int = Field(10, ge=2, le=100, description="reference quantile bins of numeric PSI")
    drift_psi_min_level_share: float = Field(
        0.01, ge=0, lt=1, description="categorical levels rarer than this in the reference share one PSI bin")
    drift_rule: Literal["psi_and_evidently", "psi", "evidently"] = Field(
        "psi_and_evidently",
        description="psi_and_evidently: PSI >= 0.25, or PSI >= 0.10 confirmed by Evidently's test; "
        "psi: PSI >= 0.25 only; evidently: Evidently's test only")
    drift_share: float = Field(
        0.5, gt=0, le=1, description="dataset_drift when at least this share of monitored columns drifted")
    drift_min_rows: int = Field(
        500, ge=1, description="below this many current rows the summary warns that verdicts are noisy")

    # when the drift-scheduler role runs the report (python -m monitoring.scheduler)
    drift_schedule: str = Field(
        "mon 06:00", description="'<day> HH:MM' in UTC, day sun..sat or daily (the drift-scheduler role)")

    @property
    def reports_dir(self) -> Path:
        """Where the weekly drift reports go (``$HC_ARTIFACTS/reports/drift``)."""
        return self.drift_reports_dir
