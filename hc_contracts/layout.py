"""The file layout under ``HC_ARTIFACTS``: every sub-path spelled once (docs/interfaces.md)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

MODELS = "models"
CURRENT = "current"
METADATA_FILE = "metadata.json"
REQUEST_LOG = "request_log"
LATEST = "latest"
DRIFT_SUMMARY_FILE = "summary.json"
SCHEDULER_STATE_FILE = "scheduler.json"
SUBMISSION_FILE = "submission.csv"


@dataclass(frozen=True)
class ArtifactLayout:
    """Paths of everything the platform writes under one artifacts folder (``HC_ARTIFACTS``).

    ``models/<version>/`` (one folder per training run) and ``models/current`` (symlink to the promoted
    version); ``cache/`` (the API's score books); ``request_log/date=YYYY-MM-DD/``; ``reports/drift/``
    (weekly reports, ``latest``, scheduler state) and ``reports/features/``; ``mlruns/`` (default MLflow
    store); ``submission.csv``.
    """

    root: Path

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", Path(self.root))

    # models
    @property
    def models_dir(self) -> Path:
        return self.root / MODELS

    @property
    def current_model(self) -> Path:
        return self.models_dir / CURRENT

    def version_dir(self, version: str) -> Path:
        return self.models_dir / version

    # API cache and request log
    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    @property
    def score_books_dir(self) -> Path:
        return self.cache_dir / "score_books"

    @property
    def request_log_dir(self) -> Path:
        return self.root / REQUEST_LOG

    # reports
    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    @property
    def drift_reports_dir(self) -> Path:
        return self.reports_dir / "drift"

    @property
    def drift_latest(self) -> Path:
        return self.drift_reports_dir / LATEST

    @property
    def drift_summary(self) -> Path:
        return self.drift_latest / DRIFT_SUMMARY_FILE

    @property
    def drift_scheduler_state(self) -> Path:
        return self.drift_reports_dir / SCHEDULER_STATE_FILE

    @property
    def drift_cron_log(self) -> Path:
        return self.drift_reports_dir / "cron.log"

    @property
    def feature_report_dir(self) -> Path:
        return self.reports_dir / "features"

    # tracking and scoring outputs
    @property
    def mlruns_dir(self) -> Path:
        return self.root / "mlruns"

    @property
    def submission(self) -> Path:
        return self.root / SUBMISSION_FILE
