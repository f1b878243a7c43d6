"""The one settings base of the platform: ``HC_*`` environment variables and the path layout.

Every package's settings class (``WarehouseSettings``, ``SparkSettings``, ``SyntheticSettings``,
``ModelSettings``, ``TrackingSettings``, ``ApiSettings``, ``MonitoringSettings``, ``DashboardSettings``)
derives from :class:`PlatformSettings`, so ``HC_RAW_DIR``, ``HC_WAREHOUSE``, ``HC_ARTIFACTS`` and
``HC_SPARK_WAREHOUSE`` are declared once with the defaults of docs/interfaces.md, and every sub-path of the
artifacts folder comes from :class:`hc_contracts.layout.ArtifactLayout`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from hc_contracts.layout import ArtifactLayout


class PlatformSettings(BaseSettings):
    """Where the data lives: ``HC_RAW_DIR``, ``HC_WAREHOUSE``, ``HC_ARTIFACTS``, ``HC_SPARK_WAREHOUSE``.

    Each field reads ``HC_<FIELD NAME IN CAPITALS>``; subclasses add their own fields the same way.
    """

    model_config = SettingsConfigDict(env_prefix="HC_", extra="ignore", protected_namespaces=())

    raw_dir: Path = Field(Path("data/raw"), description="HC_RAW_DIR: folder of the eight Kaggle CSVs")
    warehouse: Path = Field(Path("data/warehouse.duckdb"), description="HC_WAREHOUSE: the DuckDB file dbt builds")
    artifacts: Path = Field(
        Path("artifacts"), description="HC_ARTIFACTS: models, reports, request log, cache, submission.csv")
    spark_warehouse: Path = Field(
        Path("data/spark-warehouse"),
        description="HC_SPARK_WAREHOUSE: the Spark build's Parquet tables, one folder per table")

    @property
    def layout(self) -> ArtifactLayout:
        return ArtifactLayout(self.artifacts)

    # the sub-paths most packages use, by the names they have always had
    @property
    def models_dir(self) -> Path:
        return self.layout.models_dir

    @property
    def current_model_link(self) -> Path:
        return self.layout.current_model

    @property
    def request_log_dir(self) -> Path:
        return self.layout.request_log_dir

    @property
    def drift_reports_dir(self) -> Path:
        return self.layout.drift_reports_dir

    @property
    def drift_summary(self) -> Path:
        return self.layout.drift_summary

    def raw_csv(self, table: str) -> Path:
        """The Kaggle CSV of ``table`` in ``HC_RAW_DIR`` (``application_train`` -> ``application_train.csv``)."""
        return self.raw_dir / f"{table}.csv"

    def spark_table_path(self, table: str) -> Path:
        return self.spark_warehouse / table
