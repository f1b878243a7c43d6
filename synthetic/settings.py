"""Configuration of the synthetic generator (one typed settings object, HC_* environment variables)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SyntheticSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HC_", extra="ignore")

    raw_dir: Path = Field(default=Path("data/raw"), description="HC_RAW_DIR: where the CSVs are written")
    synthetic_threads: int = Field(
        default=2, ge=1, le=64, description="HC_SYNTHETIC_THREADS: CSV writer threads"
    )
