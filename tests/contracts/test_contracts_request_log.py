"""The request-log contract: what the API writes, monitoring reads back; the salted hash; bad files named."""

from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from hc_contracts.request_log import (
    DEV_LOG_SALT,
    FIXED_COLUMNS,
    InsecureConfiguration,
    RequestLogError,
    RequestLogSettings,
    applicant_hash,
    read_log,
    to_arrow,
    write_part,
)

TYPES = {"amt_credit": "numeric", "flag_own_car": "boolean", "name_contract_type": "categorical",
         "code_gender": "categorical", "age_years": "numeric"}
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _row(sk_id: int, at: datetime, p: float, credit: float) -> dict:
    return {"logged_at": at, "model_version": "v1", "endpoint": "score", "applicant_hash": applicant_hash("s", sk_id),
            "probability": p, "decision": "refuse" if p >= 0.5 else "grant",
            "_features": {"amt_credit": credit, "flag_own_car": True, "name_contract_type": "Cash loans",
                          "code_gender": "F", "age_years": 37.4}}


def test_write_then_read_round_trip_keeps_the_schema_and_the_last_request_per_applicant(tmp_path: Path) -> None:
    rows = [_row(100002, T0, 0.7, 1_293_502.0), _row(100003, T0 + timedelta(minutes=1), 0.1, 183_500.0),
            _row(100002, T0 + timedelta(minutes=2), 0.2, 1_293_502.0)]
    path = write_part(tmp_path, "2026-03-02", to_arrow(rows, TYPES))
    assert path.parent.name == "date=2026-03-02" and not path.name.startswith(".")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(path.parent.stat().st_mode) == 0o700

    frame, n_requests = read_log(tmp_path, T0 - timedelta(hours=1), T0 + timedelta(hours=1))
    assert n_requests == 3
    assert list(frame.columns) == [*FIXED_COLUMNS, "amt_credit", "flag_own_car", "name_contract_type", "age_years"]
    by_hash = frame.set_index("applicant_hash")
    last = by_hash.loc[applicant_hash("s", 100002)]
    assert (last["probability"], last["decision"]) == (0.2, "grant")  # the later request wins
    assert last["amt_credit"] == 1_300_000.0 and last["age_years"] == 35.0  # coarsened as the policy says
    assert "code_gender" not in frame.columns and "100002" not in frame.to_csv()  # no personal field, no id


def test_read_log_window_is_half_open_and_skips_other_days(tmp_path: Path) -> None:
    write_part(tmp_path, "2026-03-02", to_arrow([_row(1, T0, 0.3, 10.0)], TYPES))
    write_part(tmp_path, "2026-03-05", to_arrow([_row(2, T0 + timedelta(days=3), 0.3, 10.0)], TYPES))
    frame, n = read_log(tmp_path, T0, T0 + timedelta(days=1))
    assert n == 1 and frame["applicant_hash"].tolist() == [applicant_hash("s", 1)]
    assert read_log(tmp_path, T0 + timedelta(seconds=1), T0 + timedelta(days=1))[1] == 0
    empty, n_absent = read_log(tmp_path / "absent", T0, T0 + timedelta(days=1))
    assert empty.empty and n_absent == 0


def test_a_broken_part_is_named_in_the_error(tmp_path: Path) -> None:
    folder = tmp_path / "date=2026-03-02"
    folder.mkdir()
    (folder / "part-x.parquet").write_bytes(b"not parquet")
    with pytest.raises(RequestLogError, match=r"part-x\.parquet"):
        read_log(tmp_path, T0, T0 + timedelta(days=1))
    (folder / "part-x.parquet").unlink()
    pd.DataFrame({"probability": [0.1]}).to_parquet(folder / "part-y.parquet")
    with pytest.raises(RequestLogError, match=r"part-y\.parquet has no 'logged_at' column"):
        read_log(tmp_path, T0, T0 + timedelta(days=1))


def test_applicant_hash_is_a_salted_hmac_of_32_hex_characters() -> None:
    h = applicant_hash("salt-a", 100002)
    assert len(h) == 32 and int(h, 16) >= 0
    assert h == applicant_hash(b"salt-a", 100002) != applicant_hash("salt-b", 100002)
    assert h != applicant_hash("salt-a", 100003)


def test_the_salt_is_required_outside_dev_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HC_API_LOG_SALT", raising=False)
    monkeypatch.delenv("HC_API_ENV", raising=False)
    with pytest.raises(InsecureConfiguration, match="HC_API_LOG_SALT"):
        RequestLogSettings().log_salt()
    with pytest.raises(InsecureConfiguration):
        RequestLogSettings(api_log_salt=DEV_LOG_SALT).log_salt()
    assert RequestLogSettings(api_env="dev").log_salt() == DEV_LOG_SALT
    monkeypatch.setenv("HC_API_LOG_SALT", "a-long-secret")
    assert RequestLogSettings().log_salt() == "a-long-secret"


def test_coarsening_is_idempotent_so_coarsened_values_can_be_stored_and_logged_again():
    """The API's score book keeps features already coarsened (as float32) and the request log coarsens
    them again when it writes them: a second pass must change nothing, also when rounding up reaches
    the next power of ten (996,889.5 -> 1,000,000, whose second pass gave 1,000,000.0000000001)."""
    from hc_contracts.log_privacy import round_significant

    values = np.array([996_889.5, 999_121.5, 0.0996, 0.00999, 9.96, 99.6, 1_293_502.0, -2_537.0, 183_500.0,
                       12_345_678_901.0, 3.3e-7, 0.0, np.nan, np.inf])
    once = round_significant(values)
    assert once[0] == 1_000_000.0 and once[6] == 1_300_000.0 and once[7] == -2_500.0 and once[8] == 180_000.0
    np.testing.assert_array_equal(round_significant(once), once)
    as_float32 = once.astype(np.float32).astype(np.float64)  # what the score book stores
    np.testing.assert_array_equal(round_significant(as_float32), once)
    rng = np.random.default_rng(0)
    many = rng.lognormal(8, 4, 20_000) * rng.choice([-1, 1], 20_000)
    once = round_significant(many)
    np.testing.assert_array_equal(round_significant(once), once)
    np.testing.assert_array_equal(round_significant(once.astype(np.float32).astype(np.float64)), once)
