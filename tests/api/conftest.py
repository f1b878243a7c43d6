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
import shutil  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import pytest  # noqa: E402

API_KEY = "test-key-1"


@dataclass(frozen=True)
class ApiEnv:
    """Paths the API tests use: raw CSVs, the warehouse, and a private artifacts folder."""

    raw_dir: Path
    warehouse: Path
    artifacts: Path
    source_artifacts: Path


@pytest.fixture(scope="session")
def built_env(request: pytest.FixtureRequest):
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


def private_artifacts(source: Path, target: Path) -> Path:
    """A writable artifacts folder holding a copy of the promoted model version (tests write logs,
    drift summaries and new versions there, never into the shared environment)."""
    current = (source / "models" / "current").resolve()
    models = target / "models"
    models.mkdir(parents=True)
    shutil.copytree(current, models / current.name)
    (models / "current").symlink_to(current.name)
    return target


@pytest.fixture(scope="module")
def api_env(built_env: ApiEnv, tmp_path_factory: pytest.TempPathFactory) -> ApiEnv:
    artifacts = private_artifacts(built_env.artifacts, tmp_path_factory.mktemp("api_artifacts"))
    return ApiEnv(built_env.raw_dir, built_env.warehouse, artifacts, built_env.artifacts)


def api_settings(env: ApiEnv, **overrides):
    from api.settings import ApiSettings

    values = dict(
        warehouse=env.warehouse,
        artifacts=env.artifacts,
        api_keys=f"{API_KEY},second-key",
        api_reload_seconds=0.0,
        api_log_flush_seconds=3600.0,
        api_log_salt="test-salt",
    )
    values.update(overrides)
    return ApiSettings(**values)


HISTORY = ("bureau", "bureau_balance", "previous_application", "POS_CASH_balance", "installments_payments",
           "credit_card_balance")


class RawData:
    """The raw Kaggle CSVs of an environment, to post known applicants' rows as new applications."""

    def __init__(self, raw_dir: Path) -> None:
        import pandas as pd

        self.tables = {name: pd.read_csv(raw_dir / f"{name}.csv") for name in ("application_train", *HISTORY)}

    def rich_ids(self, n: int = 3) -> list[int]:
        """Train applicants with the most history records (bureau with balances, previous loans, ...)."""
        counts = None
        for name in ("bureau", "previous_application", "installments_payments", "credit_card_balance",
                     "POS_CASH_balance"):
            c = self.tables[name].groupby("SK_ID_CURR").size()
            counts = c if counts is None else counts.add(c, fill_value=0)
        app_ids = set(self.tables["application_train"]["SK_ID_CURR"])
        ranked = [int(i) for i in counts.sort_values(ascending=False).index if int(i) in app_ids]
        return ranked[:n]

    def payload(self, sk_id: int) -> dict:
        def records(frame):
            return [{k: (None if v != v else (v.item() if hasattr(v, "item") else v)) for k, v in r.items()}
                    for r in frame.to_dict(orient="records")]

        app = self.tables["application_train"]
        row = app[app["SK_ID_CURR"] == sk_id].drop(columns=["TARGET"])
        body = records(row)[0]
        for name in HISTORY:
            frame = self.tables[name]
            if name == "bureau_balance":
                bureau = self.tables["bureau"]
                ids = bureau.loc[bureau["SK_ID_CURR"] == sk_id, "SK_ID_BUREAU"]
                part = frame[frame["SK_ID_BUREAU"].isin(ids)]
            else:
                part = frame[frame["SK_ID_CURR"] == sk_id]
            body[name] = records(part)
        return body


@pytest.fixture(scope="module")
def raw_data(api_env: ApiEnv) -> RawData:
    return RawData(api_env.raw_dir)
