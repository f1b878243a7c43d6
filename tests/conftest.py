"""Fixtures shared by every test package."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()
# Scale of the synthetic data set behind `trained_env` (0.01 ~ 3,000 training applicants).
TRAINED_ENV_SCALE = os.environ.get("HC_TEST_SCALE", "0.01")
# Fixtures that train a model: a test using one (even through another fixture) is marked `trains`,
# so `make test-fast` (-m "not trains ...") skips the training without a list kept by hand.
TRAINING_FIXTURES = frozenset({"trained_env", "built_env", "trained_artifacts", "api_env", "live_api",
                               # issue 13: scorecard fits and runs, optimal binning of the feature report
                               "fitted_scorecard", "scorecard_artifacts", "scorecard_env", "feature_report_dir"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if TRAINING_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.trains)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def real_sample_dir() -> Path:
    """The real, linked Kaggle-format subset; skipped cleanly when the shared folder is absent."""
    path = SHARED_DATA / "home-credit-sample"
    if not (path / "application_train.csv").exists():
        pytest.skip(f"real Home Credit sample not found at {path}")
    return path


@pytest.fixture(scope="session")
def real_marginals_dir() -> Path:
    path = SHARED_DATA / "home-credit-marginals"
    if not (path / "application_train.csv").exists():
        pytest.skip(f"real Home Credit marginals not found at {path}")
    return path


@dataclass(frozen=True)
class TrainedEnv:
    """A small end-to-end environment: synthetic raw data, a built warehouse and a promoted model."""

    raw_dir: Path
    warehouse: Path
    artifacts: Path

    def env(self, **extra: str) -> dict[str, str]:
        """Environment variables that point every part of the platform at this environment."""
        env = dict(os.environ)
        env.update(
            HC_RAW_DIR=str(self.raw_dir),
            HC_WAREHOUSE=str(self.warehouse),
            HC_ARTIFACTS=str(self.artifacts),
            HC_TRAIN_PROFILE="fast",
        )
        env.update(extra)
        return env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(
            f"{what} failed ({' '.join(cmd)}), exit {proc.returncode}\n"
            f"--- stdout ---\n{proc.stdout[-4000:]}\n--- stderr ---\n{proc.stderr[-4000:]}"
        )


@pytest.fixture(scope="session")
def trained_env(tmp_path_factory: pytest.TempPathFactory) -> TrainedEnv:
    """Generate a small synthetic data set, build the warehouse on it and train a fast model.

    Built once per test session and shared by the API, dashboard, monitoring and end-to-end tests.
    Tests must treat it as read-only (copy what they want to change).
    """
    root = tmp_path_factory.mktemp("trained_env")
    tenv = TrainedEnv(raw_dir=root / "raw", warehouse=root / "warehouse.duckdb", artifacts=root / "artifacts")
    env = tenv.env()
    py = sys.executable
    _run([py, "-m", "synthetic", "--scale", TRAINED_ENV_SCALE, "--seed", "0", "--out", str(tenv.raw_dir)],
         env, "synthetic data generation")
    _run([py, "-m", "warehouse.build"], env, "warehouse build")
    # the boosted / linear / forest families only: the scorecard family has its own environment
    # (tests/api/test_api_scorecard.py), which keeps this shared fixture quick and its model family stable
    _run([py, "-m", "models_ml.train"], {**env, "HC_FAMILIES": "dummy,logistic_regression,random_forest,lightgbm,xgboost"},
         "training")
    if not (tenv.artifacts / "models" / "current" / "metadata.json").exists():
        raise RuntimeError(f"training did not promote a model under {tenv.artifacts / 'models' / 'current'}")
    return tenv
