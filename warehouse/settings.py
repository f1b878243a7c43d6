"""Configuration of the warehouse package, read from HC_* environment variables (see docs/interfaces.md)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from hc_contracts.settings import PlatformSettings

REPO_ROOT = Path(__file__).resolve().parents[1]


class WarehouseSettings(PlatformSettings):
    """The resources the build may use; where the raw CSVs are and where the DuckDB file goes come from the
    platform base (``HC_RAW_DIR``, ``HC_WAREHOUSE``)."""

    duckdb_threads: int = Field(default=2, ge=1, description="HC_DUCKDB_THREADS: DuckDB worker threads")
    duckdb_memory_limit: str = Field(default="2GB", description="HC_DUCKDB_MEMORY_LIMIT: DuckDB memory cap")
    load_memory_limit: str = Field(
        default="1GB",
        description="HC_LOAD_MEMORY_LIMIT: DuckDB's cap in the build process while it loads the CSVs beside dbt (a typed "
                    "CSV load streams: the same CPU as with 2GB, ~140 MB less resident)")
    dbt_threads: int = Field(default=2, ge=1, description="HC_DBT_THREADS: models/tests dbt runs at once")
    dbt_duckdb_threads: int = Field(
        default=1, ge=1,
        description="HC_DBT_DUCKDB_THREADS: DuckDB threads of dbt's process under `python -m warehouse.build`; 1: each "
                    "query on one thread (~15 % less CPU than splitting it), the cores kept busy by the nodes dbt runs "
                    "at once")
    project_dir: Path = Field(default=REPO_ROOT, description="HC_PROJECT_DIR: the dbt project (repo root)")
