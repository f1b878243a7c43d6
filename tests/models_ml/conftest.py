"""Fixtures of the modeling tests: small synthetic DuckDB warehouses and a trained model."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/ is on sys.path for the root conftest, and the folder tests/models_ml would shadow the package
# `models_ml` (the editable install resolves packages after the path scan): put the repository first.
REPO_ROOT = Path(__file__).resolve().parents[2]
if sys.path[0] != str(REPO_ROOT):
    sys.path.insert(0, str(REPO_ROOT))
HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(1, HERE)

import pytest  # noqa: E402
from models_ml_synth import fast_settings, make_features, write_warehouse  # noqa: E402


@pytest.fixture(scope="session")
def small_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """800 training rows (~12 % defaults) and 60 test rows."""
    root = tmp_path_factory.mktemp("ml_wh")
    train = make_features(800, seed=0)
    test = make_features(60, seed=1).drop(columns="target")
    test["sk_id_curr"] += 1_000_000
    return write_warehouse(root / "warehouse.duckdb", train, test)


@pytest.fixture(scope="session")
def trained_artifacts(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fast training run over every family on the small warehouse (read-only for tests)."""
    from models_ml.train import run_training

    artifacts = tmp_path_factory.mktemp("ml_art")
    run_training(fast_settings(small_warehouse, artifacts))
    return artifacts
