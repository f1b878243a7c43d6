"""Fixtures of the drift tests: a synthetic population, the real sample's application_train columns,
an artifacts folder in the documented layout (docs/interfaces.md)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from monitoring_frames import KINDS, VERSION, make_population, write_model_version, write_request_log

from monitoring.settings import MonitoringSettings


@pytest.fixture(scope="session")
def population() -> pd.DataFrame:
    return make_population(12_000, seed=7)


@pytest.fixture(scope="session")
def kinds() -> dict[str, str]:
    return dict(KINDS)


@pytest.fixture
def settings(tmp_path: Path) -> MonitoringSettings:
    return MonitoringSettings(artifacts=tmp_path / "artifacts", warehouse=tmp_path / "missing.duckdb")


@pytest.fixture(scope="session")
def real_application(real_sample_dir: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """application_train of the real sample with warehouse spelling, and each column's kind."""
    from hc_contracts.raw_format import columns_of

    raw = columns_of("application_train")
    kinds = {c.lower(): ("categorical" if t == "VARCHAR" else "numeric")
             for c, t in raw if c not in ("SK_ID_CURR", "TARGET")}
    frame = pd.read_csv(real_sample_dir / "application_train.csv")
    frame.columns = [c.lower() for c in frame.columns]
    return frame, kinds


@pytest.fixture
def artifacts_env(tmp_path: Path, population: pd.DataFrame, kinds: dict[str, str]) -> Callable[..., Path]:
    """Build ``tmp_path/artifacts`` with a model version and (optionally) a request log; returns the folder."""

    def build(current: pd.DataFrame | None = None, log_start: datetime | None = None) -> Path:
        artifacts = tmp_path / "artifacts"
        write_model_version(artifacts, population.iloc[:4000].reset_index(drop=True), kinds)
        if current is not None:
            write_request_log(artifacts, current, log_start or datetime(2025, 3, 3, tzinfo=UTC),
                              VERSION)
        return artifacts

    return build
