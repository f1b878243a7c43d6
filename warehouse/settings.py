"""Configuration of the warehouse package, read from HC_* environment variables (see DESIGN.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]


class WarehouseSettings(BaseSettings):
    """Where the raw CSVs are, where the DuckDB file goes, and the resources the build may use."""

    model_config = SettingsConfigDict(env_prefix="HC_", extra="ignore")

    raw_dir: Path = Field(default=Path("data/raw"), description="HC_RAW_DIR: folder of the eight Kaggle CSVs")
    warehouse: Path = Field(default=Path("data/warehouse.duckdb"), description="HC_WAREHOUSE: the DuckDB file")
    duckdb_threads: int = Field(default=2, ge=1, description="HC_DUCKDB_THREADS: DuckDB worker threads")
    duckdb_memory_limit: str = Field(default="3GB", description="HC_DUCKDB_MEMORY_LIMIT: DuckDB memory cap")
    dbt_threads: int = Field(default=2, ge=1, description="HC_DBT_THREADS: models/tests dbt runs at once")
    project_dir: Path = Field(default=REPO_ROOT, description="HC_PROJECT_DIR: the dbt project (repo root)")
