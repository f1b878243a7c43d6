import threading
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from api.request_log import FIXED_COLUMNS, RequestLog

TYPES = {"amt_credit": "numeric", "code_gender": "categorical", "flag_own_car": "boolean"}


def _append(log: RequestLog, sk_id: int, version: str = "v1", **features) -> None:
    log.append(endpoint="score", model_version=version, feature_types=TYPES, sk_id_curr=sk_id,
               probability=0.25, decision="refuse", features=features)


def test_rows_are_written_as_parquet_with_the_documented_columns(tmp_path: Path):
    log = RequestLog(tmp_path, salt="pepper", flush_seconds=3600)
    _append(log, 100002, amt_credit=1000.0, code_gender="F", flag_own_car=True)
    _append(log, 100003, amt_credit=float("nan"), code_gender=None, flag_own_car=None)
    assert log.pending == 2
    files = log.flush()
    assert len(files) == 1 and files[0].parent.name.startswith("date=")
    assert files[0].suffix == ".parquet" and log.pending == 0
    table = pq.read_table(files[0])
    assert table.column_names == [*FIXED_COLUMNS, *TYPES]
    frame = table.to_pandas()
    assert frame["probability"].tolist() == [0.25, 0.25]
    assert frame["amt_credit"].iloc[0] == 1000.0 and pd.isna(frame["amt_credit"].iloc[1])
    assert frame["code_gender"].iloc[0] == "F" and frame["flag_own_car"].iloc[0]
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
