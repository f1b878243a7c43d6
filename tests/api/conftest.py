"""Fixtures of the API tests."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/ is on sys.path for the root conftest, and the folder tests/api would shadow the package `api`
# (the editable install resolves packages after the path scan): put the repository first.
REPO_ROOT = Path(__file__).resolve().parents[2]
if sys.path[0] != str(REPO_ROOT):
    sys.path.insert(0, str(REPO_ROOT))

import os  # noqa: E402

import pytest  # noqa: E402
from api_helpers import ApiEnv, RawData, private_artifacts  # noqa: E402


@pytest.fixture(scope="session")
def built_env(request: pytest.FixtureRequest) -> ApiEnv:
    """The lead's `trained_env` (synthetic data -> warehouse -> fast model).

    Developers iterating on the API can point at an environment they built themselves with
    HC_API_TEST_ENV=RAW_DIR:WAREHOUSE:ARTIFACTS (real pieces, built by `warehouse.build` / `models_ml.train`).
    """
    prebuilt = os.environ.get("HC_API_TEST_ENV")
    if prebuilt:
        raw, warehouse, artifacts = (Path(p) for p in prebuilt.split(":"))
        return ApiEnv(raw, warehouse, artifacts, artifacts)
    tenv = request.getfixturevalue("trained_env")
    return ApiEnv(tenv.raw_dir, tenv.warehouse, tenv.artifacts, tenv.artifacts)


@pytest.fixture(scope="module")
def api_env(built_env: ApiEnv, tmp_path_factory: pytest.TempPathFactory) -> ApiEnv:
    artifacts = private_artifacts(built_env.artifacts, tmp_path_factory.mktemp("api_artifacts"))
    return ApiEnv(built_env.raw_dir, built_env.warehouse, artifacts, built_env.artifacts)


@pytest.fixture(scope="module")
def raw_data(api_env: ApiEnv) -> RawData:
    return RawData(api_env.raw_dir)
