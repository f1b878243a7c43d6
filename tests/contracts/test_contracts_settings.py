"""The settings base: HC_* variables and defaults of docs/interfaces.md, one layout for every package."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.settings import ApiSettings
from dashboard.settings import DashboardSettings
from hc_contracts.layout import ArtifactLayout
from hc_contracts.settings import PlatformSettings
from models_ml.settings import ModelSettings
from models_ml.track import TrackingSettings
from monitoring.settings import MonitoringSettings
from synthetic.settings import SyntheticSettings
from warehouse.settings import WarehouseSettings
from warehouse.spark_settings import SparkSettings

EVERY_SETTINGS = (ApiSettings, DashboardSettings, ModelSettings, TrackingSettings, MonitoringSettings,
                  SyntheticSettings, WarehouseSettings, SparkSettings)
PATH_VARIABLES = ("HC_RAW_DIR", "HC_WAREHOUSE", "HC_ARTIFACTS", "HC_SPARK_WAREHOUSE")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in (*PATH_VARIABLES, "HC_API_BOOK_DIR"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("cls", EVERY_SETTINGS, ids=lambda c: c.__name__)
def test_every_package_settings_derive_from_the_base_with_the_documented_defaults(cls, clean_env) -> None:
    assert issubclass(cls, PlatformSettings)
    s = cls()
    assert (s.raw_dir, s.warehouse, s.artifacts, s.spark_warehouse) == (
        Path("data/raw"), Path("data/warehouse.duckdb"), Path("artifacts"), Path("data/spark-warehouse"))


@pytest.mark.parametrize("cls", EVERY_SETTINGS, ids=lambda c: c.__name__)
def test_paths_come_from_the_environment(cls, clean_env, tmp_path: Path) -> None:
    clean_env.setenv("HC_RAW_DIR", str(tmp_path / "raw"))
    clean_env.setenv("HC_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    clean_env.setenv("HC_ARTIFACTS", str(tmp_path / "art"))
    clean_env.setenv("HC_SPARK_WAREHOUSE", str(tmp_path / "spark"))
    s = cls()
    assert s.raw_csv("bureau") == tmp_path / "raw" / "bureau.csv"
    assert s.warehouse == tmp_path / "wh.duckdb"
    assert s.current_model_link == tmp_path / "art" / "models" / "current"
    assert s.request_log_dir == tmp_path / "art" / "request_log"
    assert s.drift_summary == tmp_path / "art" / "reports" / "drift" / "latest" / "summary.json"
    assert s.spark_table_path("applicant_features") == tmp_path / "spark" / "applicant_features"


def test_the_layout_spells_every_sub_path_of_the_artifacts_folder() -> None:
    lay = ArtifactLayout(Path("/a"))
    assert lay.version_dir("20260101T000000Z-abcd1234") == Path("/a/models/20260101T000000Z-abcd1234")
    assert lay.score_books_dir == Path("/a/cache/score_books")
    assert lay.drift_scheduler_state == Path("/a/reports/drift/scheduler.json")
    assert lay.feature_report_dir == Path("/a/reports/features")
    assert lay.mlruns_dir == Path("/a/mlruns")
    assert lay.submission == Path("/a/submission.csv")


def test_package_specific_paths_follow_the_same_layout(clean_env, tmp_path: Path) -> None:
    clean_env.setenv("HC_ARTIFACTS", str(tmp_path))
    assert ApiSettings().score_book_dir == tmp_path / "cache" / "score_books"
    assert ApiSettings(api_book_dir=tmp_path / "books").score_book_dir == tmp_path / "books"
    assert MonitoringSettings().reports_dir == tmp_path / "reports" / "drift"
    assert TrackingSettings().default_store == (tmp_path / "mlruns").resolve()
    assert SparkSettings(spark_warehouse=tmp_path / "sw").table_path("t") == tmp_path / "sw" / "t"
