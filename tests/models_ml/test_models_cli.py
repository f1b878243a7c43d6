"""Submission, summary and the command-line entry points."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from models_ml_synth import make_features, write_warehouse

from models_ml.reasons import FeatureLabeler, format_value
from models_ml.settings import ModelSettings
from models_ml.submission import main as submission_main
from models_ml.submission import write_submission
from models_ml.summary import render_summary

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_submission_scores_every_test_applicant(trained_artifacts: Path, small_warehouse: Path,
                                                tmp_path: Path) -> None:
    out = tmp_path / "submission.csv"
    path, n = write_submission(ModelSettings(warehouse=small_warehouse, artifacts=trained_artifacts), out)
    sub = pd.read_csv(path)
    assert list(sub.columns) == ["SK_ID_CURR", "TARGET"]
    assert n == len(sub) == 60
    assert sub["SK_ID_CURR"].is_unique and sub["SK_ID_CURR"].min() > 1_000_000
    assert sub["TARGET"].between(0, 1).all() and sub["TARGET"].nunique() > 10


def test_empty_test_set_gives_a_header_only_file(trained_artifacts: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    wh = write_warehouse(tmp_path / "w.duckdb", make_features(50))
    out = tmp_path / "sub.csv"
    rc = submission_main(["--warehouse", str(wh), "--artifacts", str(trained_artifacts), "--out", str(out)])
    assert rc == 0
    assert out.read_text().strip() == "SK_ID_CURR,TARGET"
    assert "no test applicants" in capsys.readouterr().out


def test_summary_mentions_the_key_figures(trained_artifacts: Path) -> None:
    text = render_summary(trained_artifacts)
    for word in ("applicants", "CV ROC AUC", "threshold", "best trivial policy", "model_card.md"):
        assert word in text


@pytest.mark.parametrize("module", ["models_ml.train", "models_ml.submission", "models_ml.summary"])
def test_cli_help(module: str, capsys: pytest.CaptureFixture[str]) -> None:
    main = importlib.import_module(module).main
    with pytest.raises(SystemExit) as exc:
        main(["--help"])
    assert exc.value.code == 0
    assert f"usage: python -m {module}" in capsys.readouterr().out


def test_summary_runs_as_a_module(trained_artifacts: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "models_ml.summary", "--artifacts", str(trained_artifacts)],
                          cwd=REPO_ROOT, capture_output=True, text=True)
    assert proc.returncode == 0 and "Promoted model" in proc.stdout


def test_labels_for_raw_and_engineered_features() -> None:
    labels = FeatureLabeler.default()
    assert labels.label("ext_source_3") == "External credit score 3"
    assert labels.label("amt_income_total") == "Income"
    assert labels.label("bureau_amt_credit_sum_debt_mean") == "Average current debt (credit bureau credits)"
    assert labels.label("bureau_active_count") == "Number of active credit bureau credits"
    assert labels.label("prev_refused_share") == "Share of refused previous Home Credit applications"
    assert labels.label("inst_last365d_late_share") == "Share of late payments (past instalments, last 365 days)"
    assert labels.label("cc_last12m_utilization_max").startswith("Highest card utilisation")
    assert labels.label("pos_sk_dpd_max") == "Highest days past due (previous point-of-sale and cash loans)"
    assert labels.label("some_new_feature") == "Some new feature"


def test_value_formatting() -> None:
    assert format_value("days_birth", -12000.0) == "32.9 years"
    assert format_value("days_employed", 365243.0) == "not employed"
    assert format_value("amt_credit", 450000.0) == "450,000"
    assert format_value("flag_own_car", 1.0) == "yes"
    assert format_value("inst_late_share", 0.25) == "25 %"
    assert format_value("ext_source_2", float("nan")) == "not available"
    assert format_value("code_gender", "F") == "F"
