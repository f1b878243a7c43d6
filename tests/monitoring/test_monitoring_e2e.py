"""`make drift` on the shared trained environment: warehouse test set scored by the promoted model."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest


@pytest.mark.slow
def test_drift_cli_on_the_trained_environment(trained_env, tmp_path, repo_root):
    artifacts = tmp_path / "artifacts"  # trained_env is read-only: work on a copy of its artifacts
    shutil.copytree(trained_env.artifacts, artifacts, symlinks=True)
    env = trained_env.env(HC_ARTIFACTS=str(artifacts))
    env.pop("PYTHONPATH", None)
    cmd = [sys.executable, "-m", "monitoring.drift", "--current", "test"]
    proc = subprocess.run(cmd, cwd=repo_root, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "drift report:" in proc.stdout

    root = artifacts / "reports" / "drift"
    latest = root / "latest"
    assert latest.is_symlink() and not os.readlink(latest).startswith("/")
    folder = latest.resolve()
    summary = json.loads((folder / "summary.json").read_text())
    metadata = json.loads((artifacts / "models" / "current" / "metadata.json").read_text())
    assert summary["model_version"] == metadata["version"]
    assert summary["current_source"] == "test"
    assert summary["n_current"] > 0 and summary["n_reference"] > 0
    features = {f["name"] for f in metadata["features"]}
    assert summary["columns"] and set(summary["columns"]) <= features
    assert len(summary["columns"]) <= 60
    top = [g["feature"] for g in metadata["global_importance"][:5]]
    usable = set(summary["columns"]) | set(summary["column_selection"]["dropped"])
    assert set(top) <= usable  # the most important features are monitored (unless all-missing)
    assert set(summary["psi"]) == set(summary["columns"])
    assert all(v >= 0 for v in summary["psi"].values())
    pred = summary["prediction_drift"]
    assert pred is not None and 0 <= pred["current_mean"] <= 1
    assert (folder / "report.html").stat().st_size > 100_000
    assert folder.name in (root / "index.html").read_text()

    # a second run (e.g. next week, outcomes known) adds a report, moves latest and lists both
    truth = pd.read_csv(trained_env.raw_dir / "ground_truth.csv")
    test_ids = pd.read_csv(trained_env.raw_dir / "application_test.csv", usecols=["SK_ID_CURR"])
    truth = truth[truth["SK_ID_CURR"].isin(test_ids["SK_ID_CURR"])]
    labels = tmp_path / "outcomes.csv"
    rng = np.random.default_rng(0)
    pd.DataFrame({"SK_ID_CURR": truth["SK_ID_CURR"],
                  "TARGET": (rng.random(len(truth)) < truth["DEFAULT_PROBABILITY"]).astype(int)}
                 ).to_csv(labels, index=False)
    proc = subprocess.run([*cmd, "--max-columns", "5", "--labels", str(labels)], cwd=repo_root, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    second = json.loads((latest.resolve() / "summary.json").read_text())
    assert len(second["columns"]) == 5
    assert second["target_drift"]["n_labelled"] == len(truth)
    assert second["performance"]["current"]["roc_auc"] > 0.55  # the model ranks the test set's outcomes
    assert (latest.resolve() / "performance.html").is_file()
    reports = sorted(p.name for p in root.iterdir() if p.is_dir() and not p.is_symlink())
    assert len(reports) == 2 and latest.resolve().name == reports[-1]
    index = (root / "index.html").read_text()
    assert all(name in index for name in reports)
