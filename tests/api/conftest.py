"""Fixtures of the API tests."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/ is on sys.path for the root conftest, and the folder tests/api would shadow the package `api`
# (the editable install resolves packages after the path scan): put the repository first.
REPO_ROOT = Path(__file__).resolve().parents[2]
if sys.path[0] != str(REPO_ROOT):
    sys.path.insert(0, str(REPO_ROOT))

import json  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402

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


BOOSTED = ("xgboost", "lightgbm")


@pytest.fixture(scope="session")
def boosted_source(built_env: ApiEnv, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Artifacts whose promoted version is a boosted model. The shared environment promotes whichever family wins
    its comparison on the synthetic data (a random forest since the generator's stop-26 refit), so the tests of
    what only boosted models do (explanation rows encoded once, explained by position) get one of their own: the
    shared one when it is boosted, else an XGBoost trained once per session on the same warehouse."""
    current = (built_env.artifacts / "models" / "current").resolve()
    if json.loads((current / "metadata.json").read_text())["model_family"] in BOOSTED:
        return built_env.artifacts
    root = tmp_path_factory.mktemp("boosted_artifacts")
    env = dict(os.environ, HC_RAW_DIR=str(built_env.raw_dir), HC_WAREHOUSE=str(built_env.warehouse),
               HC_ARTIFACTS=str(root), HC_FAMILIES="xgboost", HC_TRAIN_PROFILE="fast", HC_N_FOLDS="2")
    proc = subprocess.run([sys.executable, "-m", "models_ml.train"], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"training the boosted test model failed:\n{proc.stderr[-3000:]}")
    return root


@pytest.fixture(scope="module")
def boosted_env(built_env: ApiEnv, boosted_source: Path, tmp_path_factory: pytest.TempPathFactory) -> ApiEnv:
    """`api_env` with a boosted model promoted (`boosted_source`)."""
    artifacts = private_artifacts(boosted_source, tmp_path_factory.mktemp("boosted_api_artifacts"))
    return ApiEnv(built_env.raw_dir, built_env.warehouse, artifacts, boosted_source)


@pytest.fixture(scope="module")
def raw_data(api_env: ApiEnv) -> RawData:
    return RawData(api_env.raw_dir)
