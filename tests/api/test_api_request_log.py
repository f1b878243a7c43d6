import threading
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from api.request_log import FIXED_COLUMNS, RequestLog

TYPES = {"amt_credit": "numeric", "name_contract_type": "categorical", "flag_own_car": "boolean"}


def _append(log: RequestLog, sk_id: int, version: str = "v1", **features) -> None:
    log.append(endpoint="score", model_version=version, feature_types=TYPES, sk_id_curr=sk_id,
               probability=0.25, decision="refuse", features=features)


def test_rows_are_written_as_parquet_with_the_documented_columns(tmp_path: Path):
    log = RequestLog(tmp_path, salt="pepper", flush_seconds=3600)
    _append(log, 100002, amt_credit=1000.0, name_contract_type="Cash loans", flag_own_car=True)
    _append(log, 100003, amt_credit=float("nan"), name_contract_type=None, flag_own_car=None)
    assert log.pending == 2
    files = log.flush()
    assert len(files) == 1 and files[0].parent.name.startswith("date=")
    assert files[0].suffix == ".parquet" and log.pending == 0
    table = pq.read_table(files[0])
    assert table.column_names == [*FIXED_COLUMNS, *TYPES]
    frame = table.to_pandas()
    assert frame["probability"].tolist() == [0.25, 0.25]
    assert frame["amt_credit"].iloc[0] == 1000.0 and pd.isna(frame["amt_credit"].iloc[1])
    assert frame["name_contract_type"].iloc[0] == "Cash loans" and frame["flag_own_car"].iloc[0]
    assert str(frame["logged_at"].dt.tz) == "UTC"
    # no raw identifier: a salted hash, stable for the same id, different across ids and salts
    hashes = frame["applicant_hash"].tolist()
    assert "100002" not in "".join(hashes) and hashes[0] != hashes[1]
    assert hashes[0] == log.applicant_hash(100002)
    assert RequestLog(tmp_path, salt="other").applicant_hash(100002) != hashes[0]
    assert list(tmp_path.rglob(".*.tmp")) == []


def test_one_file_per_model_version_and_nothing_written_when_empty(tmp_path: Path):
    log = RequestLog(tmp_path, salt="s", flush_seconds=3600)
    assert log.flush() == []
    _append(log, 1, version="v1")
    _append(log, 2, version="v2")
    files = log.flush()
    versions = sorted(pq.read_table(f).column("model_version")[0].as_py() for f in files)
    assert versions == ["v1", "v2"]


def test_concurrent_appends_lose_no_row(tmp_path: Path):
    log = RequestLog(tmp_path, salt="s", flush_seconds=3600, flush_rows=250)

    def worker(start: int) -> None:
        for i in range(500):
            _append(log, start + i, amt_credit=float(i))

    threads = [threading.Thread(target=worker, args=(k * 1000,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    log.close()
    frame = pd.concat(pq.read_table(f).to_pandas() for f in tmp_path.rglob("*.parquet"))
    assert len(frame) == 8 * 500
    assert frame["applicant_hash"].nunique() == 8 * 500


def test_background_flusher_and_close(tmp_path: Path):
    log = RequestLog(tmp_path, salt="s", flush_seconds=0.05)
    log.start()
    _append(log, 7)
    for _ in range(100):
        if list(tmp_path.rglob("*.parquet")):
            break
        threading.Event().wait(0.05)
    assert len(list(tmp_path.rglob("*.parquet"))) == 1
    _append(log, 8)
    log.close()  # flushes what is left
    assert len(list(tmp_path.rglob("*.parquet"))) == 2


# -- issue 10, finding 2: no personal data in the request log ------------------------------------------------
PERSONAL = {"amt_income_total": "numeric", "days_birth": "numeric", "age_years": "numeric",
            "code_gender": "categorical", "name_family_status": "categorical", "cnt_children": "numeric",
            "occupation_type": "categorical", "organization_type": "categorical",
            "income_per_family_member": "numeric", "amt_credit": "numeric", "ext_source_2": "numeric",
            "name_education_type": "categorical", "flag_own_car": "boolean"}


def test_personal_fields_are_dropped_or_coarsened(tmp_path: Path):
    log = RequestLog(tmp_path, salt="a-long-random-salt-value", flush_seconds=3600)
    log.append(endpoint="score", model_version="v1", feature_types=PERSONAL, sk_id_curr=100002,
               probability=0.1234567, decision="grant",
               features={"amt_income_total": 183_456.0, "days_birth": -13_870.0, "age_years": 37.97,
                         "code_gender": "F", "name_family_status": "Married", "cnt_children": 2.0,
                         "occupation_type": "Laborers", "organization_type": "School",
                         "income_per_family_member": 45_864.0, "amt_credit": 1_293_502.5, "ext_source_2": 0.6234,
                         "name_education_type": "Higher education", "flag_own_car": True})
    frame = pq.read_table(log.flush()[0]).to_pandas()
    for dropped in ("days_birth", "code_gender", "name_family_status", "cnt_children", "occupation_type",
                    "organization_type", "income_per_family_member"):
        assert dropped not in frame.columns
    row = frame.iloc[0]
    assert row["age_years"] == 35.0  # 5-year band
    assert row["amt_income_total"] == 180_000.0 and row["amt_credit"] == 1_300_000.0
    assert row["ext_source_2"] == 0.62
    assert row["name_education_type"] == "Higher education" and bool(row["flag_own_car"])
    assert row["probability"] == 0.1234567  # the model's output is not personal: kept exactly


def test_log_files_and_folders_are_private(tmp_path: Path):
    log = RequestLog(tmp_path / "request_log", salt="a-long-random-salt-value", flush_seconds=3600)
    _append(log, 1, amt_credit=1.0)
    path = log.flush()[0]
    assert path.stat().st_mode & 0o777 == 0o600
    assert path.parent.stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "request_log").stat().st_mode & 0o777 == 0o700


def test_api_refuses_to_start_without_a_salt_outside_development(tmp_path: Path, monkeypatch):
    import pytest
    from fastapi.testclient import TestClient

    from api.main import create_app
    from api.settings import ApiSettings

    monkeypatch.delenv("HC_API_LOG_SALT", raising=False)
    monkeypatch.delenv("HC_API_ENV", raising=False)
    common = dict(warehouse=tmp_path / "none.duckdb", artifacts=tmp_path, api_keys="k")
    for salt in ("", "hc-dev-salt", "  "):
        with pytest.raises(Exception, match="HC_API_LOG_SALT"), \
                TestClient(create_app(ApiSettings(**common, api_log_salt=salt))):
            pass
    # development mode: starts, with the development salt
    with TestClient(create_app(ApiSettings(**common, api_env="dev"))) as client:
        assert client.get("/health").status_code == 200
    with TestClient(create_app(ApiSettings(**common, api_log_salt="a-secret-salt-of-the-operator"))) as client:
        assert client.get("/health").status_code == 200
