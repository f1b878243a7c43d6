"""Configuration of the synthetic generator (one typed settings object, HC_* environment variables)."""

from __future__ import annotations

from pydantic import Field

from hc_contracts.settings import PlatformSettings


class SyntheticSettings(PlatformSettings):
    """The generator writes the CSVs into ``raw_dir`` (``HC_RAW_DIR``, from the platform base)."""

    synthetic_threads: int = Field(
        default=2, ge=1, le=64, description="HC_SYNTHETIC_THREADS: CSV writer threads"
    )
    synthetic_jobs: int = Field(
        default=2,
        ge=1,
        le=64,
        description="HC_SYNTHETIC_JOBS: processes generating chunks of applicants at once (same bytes "
        "for any number; each holds one chunk in memory, ~1 GB)",
    )
