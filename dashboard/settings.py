"""Typed settings of the dashboard, read from ``HC_*`` environment variables."""

from __future__ import annotations

from pydantic import Field, SecretStr, field_validator

from hc_contracts.settings import PlatformSettings


class DashboardSettings(PlatformSettings):
    """Where and as whom the dashboard calls the scoring API, and how patiently.

    ``HC_API_URL`` and ``HC_API_KEY`` are the documented contract (docs/interfaces.md); the other
    variables tune timeouts and caching and rarely need changing.
    """

    api_url: str = Field("http://127.0.0.1:8000", description="Base URL of the scoring API (HC_API_URL).")
    api_key: SecretStr | None = Field(None, description="Key sent as X-API-Key (HC_API_KEY).")
    api_timeout: float = Field(
        5.0, gt=0, le=120, description="Seconds to wait for an answer (HC_API_TIMEOUT)."
    )
    api_connect_timeout: float = Field(
        2.0, gt=0, le=60, description="Seconds to wait for a connection (HC_API_CONNECT_TIMEOUT)."
    )
    api_retries: int = Field(
        1, ge=0, le=5, description="Extra attempts for reads that failed on the network (HC_API_RETRIES)."
    )
    dashboard_cache_ttl: int = Field(
        300,
        ge=0,
        le=86_400,
        description="Seconds an applicant's answers stay cached (HC_DASHBOARD_CACHE_TTL).",
    )
    dashboard_port: int = Field(8501, ge=1, le=65_535, description="Port of `make dashboard`.")

    @field_validator("api_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"HC_API_URL must start with http:// or https://, got {value!r}")
        return value

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_none(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        return value
