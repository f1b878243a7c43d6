"""Typed settings of the API, read once from HC_* environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from hc_contracts.request_log import DEV_LOG_SALT, InsecureConfiguration, RequestLogSettings

__all__ = ["DEV_LOG_SALT", "ApiSettings", "InsecureConfiguration"]


class ApiSettings(RequestLogSettings):
    """Configuration of the scoring API (defaults follow docs/interfaces.md)."""

    api_port: int = Field(8000, ge=1, le=65535)
    api_keys: str = Field("", description="development API keys, comma-separated")
    api_keys_file: Path | None = Field(
        None, description="production keys: one sha256 hex digest of a key per line ('#' comments allowed)"
    )
    api_max_body_bytes: int = Field(4 * 1024 * 1024, ge=1024, description="larger request bodies get 413")
    api_batch_max: int = Field(1000, ge=1, le=100_000, description="most applicants per batch request")
    api_reload_seconds: float = Field(
        2.0, ge=0.0, description="how often the `current` model link and the warehouse file are checked"
    )
    api_log_flush_seconds: float = Field(5.0, gt=0.0, description="request log flush period")
    api_log_flush_rows: int = Field(5000, ge=1, description="flush the request log early beyond this many rows")
    api_feature_cache: int = Field(20_000, ge=0, description="known applicants' feature rows kept in memory")
    api_preload_rows: int = Field(100_000, ge=0, description="warehouses up to this many applicants are held in "
                                  "memory; larger ones are read per id (their bulk scores are computed either way)")
    api_duckdb_memory: str = Field(
        "1GB", pattern=r"^\s*\d+(\.\d+)?\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$",
        description="memory limit of the API's read-only DuckDB connection to the warehouse (DuckDB size, e.g. "
        "512MB, 2GB); without one DuckDB may use 80 % of the machine's memory for its buffers")
    api_neighbours: int = Field(200, ge=5, le=5000, description="similar clients used by the comparison")
    api_batch_window_ms: float = Field(
        50.0, ge=0.0, le=1000.0, description="new applications: how long a build may wait for the requests "
        "already arriving to join it (only when some are; a request alone is never delayed); 0 = off")
    api_comparison_cache_mb: int = Field(
        256, ge=1, le=65536, description="memory for the values of compared features kept between requests "
        "(least recently compared dropped first; ~2.8 MB per numeric feature at Kaggle's full volume)")

    # -- production serving (make serve-prod / the image's `api` role; see docs/deploy.md) ------------
    api_host: str = Field("127.0.0.1", description="address gunicorn binds (0.0.0.0 in the container)")
    api_workers: int | None = Field(
        None, ge=1, le=64, description="gunicorn worker processes; default: the CPUs this process may use")
    api_graceful_seconds: int = Field(
        30, ge=1, le=600, description="on SIGTERM, how long in-flight requests get to finish")
    api_worker_timeout: int = Field(
        120, ge=10, le=3600, description="a worker silent this long (startup included) is restarted")
    api_metrics_auth: Literal["key", "none"] = Field(
        "key", description="/metrics needs an API key (X-API-Key or Authorization: Bearer), or none")
    api_access_log: bool = Field(True, description="one JSON access-log line per request (logger api.access)")
    api_book_dir: Path | None = Field(
        None, description="where workers share the bulk score book (memory-mapped Arrow files); default "
        "$HC_ARTIFACTS/cache/score_books (the API writes there already); unwritable -> a private copy per worker")

    @property
    def score_book_dir(self) -> Path:
        return self.api_book_dir or self.layout.score_books_dir
