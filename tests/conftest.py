"""Fixtures shared by every test package."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO_ROOT / ".." / "shared" / "data").resolve()


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
