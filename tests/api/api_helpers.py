"""Helpers of the API tests (a uniquely named module: `conftest` is ambiguous across test folders)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

API_KEY = "test-key-1"
HISTORY = ("bureau", "bureau_balance", "previous_application", "POS_CASH_balance", "installments_payments",
           "credit_card_balance")


@dataclass(frozen=True)
class ApiEnv:
    """Paths the API tests use: raw CSVs, the warehouse, and a private artifacts folder."""

    raw_dir: Path
    warehouse: Path
    artifacts: Path
    source_artifacts: Path


def private_artifacts(source: Path, target: Path) -> Path:
    """A writable artifacts folder holding a copy of the promoted model version (tests write logs,
    drift summaries and new versions there, never into the shared environment)."""
    current = (source / "models" / "current").resolve()
    models = target / "models"
    models.mkdir(parents=True)
    shutil.copytree(current, models / current.name)
    (models / "current").symlink_to(current.name)
    return target


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


def copy_version(models: Path, suffix: str) -> tuple[Path, Path]:
    """(the promoted version's folder, a copy of it saved as a new version ``<name><suffix>``, not promoted)."""
    current = (models / "current").resolve()
    new = models / f"{current.name}{suffix}"
    shutil.copytree(current, new)
    meta = json.loads((new / "metadata.json").read_text())
    meta["version"] = new.name
    (new / "metadata.json").write_text(json.dumps(meta))
    return current, new


def promote(models: Path, folder: Path) -> None:
    """Point ``models/current`` at ``folder`` atomically (what `make train` does)."""
    tmp = models / ".current-swap"
    tmp.symlink_to(folder.name)
    os.replace(tmp, models / "current")
