"""`python -m monitoring.drift` on an artifacts folder in the documented layout: outputs and bad input."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from monitoring_frames import VERSION

from monitoring import drift
from monitoring.settings import MonitoringSettings

WINDOW = ["--since", "2025-03-03", "--until", "2025-03-09"]
INTERFACE_KEYS = {"created_at", "model_version", "window", "n_reference", "n_current", "columns",
                  "drifted_columns", "share_drifted", "dataset_drift", "psi", "psi_bands", "prediction_drift"}


@pytest.fixture
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("HC_ARTIFACTS", str(tmp_path / "artifacts"))
    monkeypatch.setenv("HC_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    return tmp_path


def window_batch(population: pd.DataFrame, n: int = 1500) -> pd.DataFrame:
    return population.iloc[6000:6000 + n].reset_index(drop=True).copy()


def reports(artifacts: Path) -> list[str]:
    root = artifacts / "reports" / "drift"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def test_log_window_report_end_to_end(env, population, artifacts_env, capsys):
    batch = window_batch(population)
    batch["amt_income_total"] *= 1.5
    artifacts = artifacts_env(batch)
    assert drift.main(["--current", "log", *WINDOW]) == 0
    out = capsys.readouterr().out
    assert "drifted: amt_income_total" in out

    root = artifacts / "reports" / "drift"
    latest = (root / "latest").resolve()
    assert latest.parent == root.resolve() and len(latest.name) == len("20250310T060000Z")
    summary = json.loads((latest / "summary.json").read_text())
    assert set(summary) >= INTERFACE_KEYS
    assert summary["model_version"] == VERSION
    assert summary["current_source"] == "log"
    assert summary["window"] == {"since": "2025-03-03T00:00:00Z", "until": "2025-03-10T00:00:00Z"}
    assert summary["n_current"] == 1500 and summary["n_requests"] == 1500
    assert summary["drifted_columns"] == ["amt_income_total"]
    assert summary["psi_bands"]["significant"]["columns"] == ["amt_income_total"]
    from api.log_privacy import DROPPED  # personal fields are not in the log, hence not monitored from it

    assert "days_birth" in population.columns and not set(summary["columns"]) & set(DROPPED)
    assert summary["prediction_drift"]["reference_source"] == "out-of-fold probability of the training run"
    assert summary["target_drift"] is None and summary["files"]["performance"] is None
    html = (latest / "report.html").read_text()
    assert "amt_income_total" in html and "hc-drift" in html
    assert "latest" in (root / "index.html").read_text()


def test_labels_add_target_and_performance_drift(env, population, artifacts_env, tmp_path, monkeypatch):
    """Labels keyed by SK_ID_CURR reach the request log through the API's salted applicant hash."""
    from api.request_log import RequestLog

    monkeypatch.setenv("HC_API_LOG_SALT", "test-salt")
    batch = window_batch(population, 1200)
    artifacts = artifacts_env(batch)
    hasher = RequestLog(tmp_path, "test-salt").applicant_hash
    ids = np.arange(100_001, 100_001 + len(batch))
    for path in (artifacts / "request_log").glob("date=*/*.parquet"):  # the API logs hashes, never ids
        part = pd.read_parquet(path)
        part["applicant_hash"] = [hasher(ids[int(h, 16)]) for h in part["applicant_hash"]]
        part.to_parquet(path, index=False)
    labels = tmp_path / "labels.csv"
    pd.DataFrame({"SK_ID_CURR": ids[:1000], "TARGET": batch["target"].iloc[:1000]}).to_csv(labels, index=False)
    assert drift.main(["--current", "log", *WINDOW, "--labels", str(labels)]) == 0
    latest = (artifacts / "reports" / "drift" / "latest").resolve()
    summary = json.loads((latest / "summary.json").read_text())
    assert summary["target_drift"]["n_labelled"] == 1000
    assert summary["target_drift"]["current_rate"] == pytest.approx(batch["target"].iloc[:1000].mean())
    assert summary["performance"]["current"]["n"] == 1000
    assert summary["performance"]["current"]["roc_auc"] > 0.5
    assert (latest / "performance.html").is_file()
    assert any("labels cover 1000 of 1200" in w for w in summary["warnings"])


def test_labels_keyed_by_applicant_hash(tmp_path, population):
    from monitoring.sources import Current, attach_labels, read_labels

    frame = pd.DataFrame({"applicant_hash": ["h1", "h2", "h3"], "x": [1.0, 2.0, 3.0]})
    path = tmp_path / "labels.csv"
    pd.DataFrame({"applicant_hash": ["h3", "h1", "zz"], "TARGET": [1, 0, 1]}).to_csv(path, index=False)
    batch = Current(frame, "log", "test log")
    assert attach_labels(batch, read_labels(path), path, hasher=None) == 2
    assert batch.frame["target"].tolist()[0] == 0 and batch.frame["target"].tolist()[2] == 1
    assert pd.isna(batch.frame["target"].iloc[1])


def test_no_model_version_is_a_clear_error_and_writes_nothing(env, capsys):
    assert drift.main(["--current", "log"]) == 2
    err = capsys.readouterr().err
    assert "no model version yet" in err and "models/current" in err and "make train" in err
    assert not (env / "artifacts" / "reports").exists()


def test_empty_window(env, population, artifacts_env, capsys):
    artifacts = artifacts_env(window_batch(population))
    assert drift.main(["--current", "log", "--since", "2024-01-01", "--until", "2024-01-31"]) == drift.EXIT_EMPTY_BATCH
    err = capsys.readouterr().err
    assert "no request in the window" in err and "2024-01-01" in err
    assert drift.main(["--current", "log", "--since", "2025-03-09", "--until", "2025-03-01"]) == 2
    assert "empty window" in capsys.readouterr().err
    assert reports(artifacts) == []


def test_auto_falls_back_to_the_test_set_and_reports_an_empty_one(env, population, artifacts_env, capsys):
    artifacts = artifacts_env()  # no request log at all
    assert drift.main([]) == 2
    assert "warehouse file not found" in capsys.readouterr().err
    con = duckdb.connect(str(env / "warehouse.duckdb"))
    con.execute("create table applicant_features as select 1::bigint as sk_id_curr, 'train' as dataset, "
                "1 as target, 2.0 as amt_income_total")
    con.close()
    assert drift.main(["--current", "test"]) == drift.EXIT_EMPTY_BATCH == 3
    assert "no row with dataset = 'test'" in capsys.readouterr().err
    assert reports(artifacts) == []


def test_an_empty_reference_is_an_input_error_not_an_empty_week(env, population, artifacts_env, capsys):
    artifacts = artifacts_env(window_batch(population))
    sample = artifacts / "models" / VERSION / "reference_sample.parquet"
    pd.read_parquet(sample).iloc[:0].to_parquet(sample, index=False)
    assert drift.main(["--current", "log", *WINDOW]) == 2  # a broken model version, not "nothing this week" (3)
    assert "reference" in (err := capsys.readouterr().err) and "has no rows" in err
    assert reports(artifacts) == []


def test_missing_reference_columns_are_named(env, population, artifacts_env, capsys):
    batch = window_batch(population).drop(columns=["ext_source_2", "name_income_type"])
    artifacts = artifacts_env(batch)
    assert drift.main(["--current", "log", *WINDOW]) == 2
    err = capsys.readouterr().err
    assert "lacks 2 column(s) of the reference: ext_source_2, name_income_type" in err
    assert reports(artifacts) == []


def test_bad_labels_and_bad_settings(env, population, artifacts_env, tmp_path, capsys):
    artifacts = artifacts_env(window_batch(population))
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"applicant_hash": ["a", "b"], "TARGET": [0, 7]}).to_csv(bad, index=False)
    assert drift.main(["--current", "log", *WINDOW, "--labels", str(bad)]) == 2
    assert "TARGET of" in (err := capsys.readouterr().err) and "must be 0 or 1" in err and "bad.csv" in err
    unknown = tmp_path / "unknown.csv"
    pd.DataFrame({"applicant_hash": ["nobody"], "TARGET": [1]}).to_csv(unknown, index=False)
    assert drift.main(["--current", "log", *WINDOW, "--labels", str(unknown)]) == 2
    assert "none of the 1 labelled applicants" in capsys.readouterr().err
    wrong = tmp_path / "wrong.csv"
    pd.DataFrame({"id": [1], "y": [1]}).to_csv(wrong, index=False)
    assert drift.main(["--current", "log", *WINDOW, "--labels", str(wrong)]) == 2
    assert "expected SK_ID_CURR,TARGET" in capsys.readouterr().err
    assert drift.main(["--current", "log", *WINDOW, "--columns", "amt_income_total,not_a_feature"]) == 2
    assert "not_a_feature" in capsys.readouterr().err
    assert drift.main(["--current", "log", *WINDOW, "--max-columns", "0"]) == 2
    assert "drift_max_columns" in capsys.readouterr().err
    assert reports(artifacts) == []


def test_a_failing_run_keeps_the_previous_report(env, population, artifacts_env, monkeypatch):
    artifacts = artifacts_env(window_batch(population))
    assert drift.main(["--current", "log", *WINDOW, "--max-columns", "5"]) == 0
    root = artifacts / "reports" / "drift"
    before = reports(artifacts)
    latest = os.readlink(root / "latest")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(drift, "save_report_html", broken)
    with pytest.raises(OSError, match="disk full"):
        drift.main(["--current", "log", *WINDOW, "--max-columns", "5"])
    assert reports(artifacts) == before and os.readlink(root / "latest") == latest


def test_request_log_rows_of_another_model_version_stay_out_of_prediction_drift(
        env, population, artifacts_env):
    batch = window_batch(population, 1000)
    artifacts = artifacts_env(batch)
    day = artifacts / "request_log" / "date=2025-03-04"
    old = pd.read_parquet(next(day.glob("*.parquet")))
    old["model_version"] = "20240101T000000Z-oldoldol"
    old["applicant_hash"] = old["applicant_hash"] + "-old"
    old["probability"] = 0.99
    old.to_parquet(day / "part-old.parquet", index=False)
    settings = MonitoringSettings()
    folder = drift.run(settings, current="log", since="2025-03-03", until="2025-03-09")
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["model_versions_in_batch"] == {VERSION: 1000, "20240101T000000Z-oldoldol": 200}
    assert summary["prediction_drift"]["current_mean"] == pytest.approx(batch["probability"].mean())
    assert any("other model versions" in w for w in summary["warnings"])
    assert np.isclose(summary["n_current"], 1200)
