"""Configuration of the synthetic generator (one typed settings object, HC_* environment variables)."""

from __future__ import annotations

from pydantic import Field

from hc_contracts.settings import PlatformSettings


class SyntheticSettings(PlatformSettings):
    """The generator writes the CSVs into ``raw_dir`` (``HC_RAW_DIR``, from the platform base)."""

    synthetic_threads: int = Field(
        default=2, ge=1, le=64, description="HC_SYNTHETIC_THREADS: CSV writer threads"
    )
