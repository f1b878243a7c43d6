"""`make feature-report`: IV, missing share, trend, PSI and a verdict per feature; no applicant data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from models_ml_synth import write_warehouse

from models_ml.feature_report import main, psi, verdict


@pytest.fixture(scope="module")
def feature_report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(7)
    n = 3000
    target = (rng.uniform(size=n) < 0.1).astype(int)
    train = pd.DataFrame({
        "sk_id_curr": np.arange(500001, 500001 + n), "target": target,
        "noise": rng.normal(size=n),
        "leak": target * 2.0 + rng.normal(scale=0.05, size=n),          # the target in disguise
        "signal": rng.normal(size=n) - 0.5 * target,
        "mostly_missing": np.where(rng.uniform(size=n) < 0.8, np.nan, rng.normal(size=n)),
        "code_gender": rng.choice(["F", "M"], n),
    })
    test = train.drop(columns="target").head(500).copy()
    test["sk_id_curr"] += 10_000
    test["signal"] += 1.5  # a shifted population
    root = tmp_path_factory.mktemp("fr")
    wh = write_warehouse(root / "wh.duckdb", train, test)
    assert main(["--warehouse", str(wh), "--artifacts", str(root / "art")]) == 0
    return root / "art" / "reports" / "features"


def test_noise_is_useless_and_a_leak_is_suspicious(feature_report_dir: Path) -> None:
    stats = pd.read_csv(feature_report_dir / "features.csv").set_index("feature")
    assert stats.loc["noise", "iv"] < 0.01 and stats.loc["noise", "verdict"] == "useless"
    assert stats.loc["leak", "verdict"] == "suspicious" and stats.loc["leak", "iv"] > 1
    assert stats.loc["signal", "verdict"] in ("medium", "strong") and stats.loc["signal", "trend"] == "descending"
    assert stats.loc["mostly_missing", "missing_share"] == pytest.approx(0.8, abs=0.03)
    assert stats.loc["signal", "psi_train_test"] > 0.25 > stats.loc["noise", "psi_train_test"]
    assert not bool(stats.loc["code_gender", "used"]) and bool(stats.loc["noise", "used"])
    assert list(stats.index[:1]) == ["leak"]  # sorted by IV


def test_report_holds_no_applicant_data(feature_report_dir: Path) -> None:
    assert sorted(p.name for p in feature_report_dir.iterdir()) == ["features.csv", "index.html", "summary.json"]
    text = "".join(p.read_text() for p in feature_report_dir.iterdir())
    assert "500001" not in text and "sk_id_curr" not in text and "target" not in text.replace("target leakage", "")
    summary = json.loads((feature_report_dir / "summary.json").read_text())
    assert summary["strongest"][0] == "leak" and summary["verdicts"]["suspicious"] >= 1
    assert "<table>" in (feature_report_dir / "index.html").read_text()


def test_verdict_bands_and_psi() -> None:
    assert [verdict(v) for v in (0.0, 0.05, 0.2, 0.4, 0.7)] == ["useless", "weak", "medium", "strong", "suspicious"]
    s = pd.Series(np.random.default_rng(0).normal(size=5000))
    assert psi(s, s, categorical=False) == pytest.approx(0.0, abs=1e-12)
    assert psi(s, s + 1, categorical=False) > 0.25


def test_a_missing_warehouse_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--warehouse", str(tmp_path / "none.duckdb"), "--artifacts", str(tmp_path)]) == 2
    assert "warehouse file not found" in capsys.readouterr().out
    assert not (tmp_path / "reports").exists()
