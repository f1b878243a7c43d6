"""End-to-end training on a small DuckDB warehouse: artifacts, metadata contract, promotion, determinism."""

from __future__ import annotations

import json
import os
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from models_ml_synth import fast_settings

from models_ml import registry
from models_ml.errors import ArtifactError
from models_ml.registry import list_versions, load_current, promote, write_version
from models_ml.train import run_training

pytestmark = pytest.mark.trains
METADATA_KEYS = {"version", "created_at", "model_family", "imbalance", "threshold", "cost_fn", "cost_fp",
                 "metrics", "comparison", "features", "global_importance", "risk_bands", "data_fingerprint",
                 "package_versions"}


def _meta(artifacts: Path) -> dict:
    return json.loads((artifacts / "models" / "current" / "metadata.json").read_text())


def test_training_writes_a_complete_promoted_version(trained_artifacts: Path) -> None:
    current = trained_artifacts / "models" / "current"
    assert current.is_symlink()
    version_dir = current.resolve()
    meta = _meta(trained_artifacts)
    assert set(meta) >= METADATA_KEYS
    assert meta["version"] == version_dir.name
    for key in ("roc_auc", "pr_auc", "brier", "log_loss", "ks", "business_cost", "recall", "precision",
                "approval_rate", "ece"):
        assert isinstance(meta["metrics"][key], float), key
    # every family x imbalance strategy on the same folds; the dummy only once
    pairs = {(r["model_family"], r["imbalance"]) for r in meta["comparison"]}
    assert len(pairs) == 13
    assert {f for f, _ in pairs} == {"dummy", "logistic_regression", "random_forest", "lightgbm", "xgboost"}
    assert all({"model_family", "imbalance", "roc_auc", "business_cost"} <= set(r) for r in meta["comparison"])
    dummy = next(r for r in meta["comparison"] if r["model_family"] == "dummy")
    assert dummy["roc_auc"] == pytest.approx(0.5, abs=0.05)  # a constant per fold (the fold's prior)
    assert meta["model_family"] != "dummy"
    # the selected model beats the best trivial policy and the threshold is a probability
    assert meta["metrics"]["business_cost"] < min(meta["trivial_policies"].values())
    assert 0.0 < meta["threshold"] < 1.0
    assert {f["type"] for f in meta["features"]} == {"numeric", "categorical", "boolean"}
    imp = [g["mean_abs_shap"] for g in meta["global_importance"]]
    assert imp == sorted(imp, reverse=True) and len(imp) == len(meta["features"])
    for name in ("model_card.md", "model_card.html", "reference_sample.parquet", "calibration.json",
                 "preprocessing.json", "cost_vs_threshold.png", "reliability.png", "shap_beeswarm.png"):
        assert (version_dir / name).is_file(), name
    assert set(meta["files"]) <= {p.name for p in version_dir.iterdir()}


def test_risk_bands_are_consistent_with_the_threshold(trained_artifacts: Path) -> None:
    model = load_current(trained_artifacts)
    bands = model.risk_bands
    assert bands[0].lower == 0.0 and bands[-1].upper == 1.0
    assert all(a.upper == b.lower for a, b in zip(bands, bands[1:], strict=False))
    t = model.threshold
    assert t in [b.lower for b in bands]
    for p in (0.0, t / 3, t * 0.999, t, (t + 1) / 2, 1.0):
        band = next(b for b in bands if b.name == model.risk_band(p))
        assert band.decision == model.decide(p)


def test_model_card_is_a_methodology_note(trained_artifacts: Path) -> None:
    card = (trained_artifacts / "models" / "current" / "model_card.md").read_text()
    for heading in ("## Training method", "## Cost function and decision threshold", "## Evaluation metrics",
                    "## Calibration", "## Interpretability", "### Local example",
                    "## Protected attributes and fairness", "## Strongest characteristics",
                    "## Limits and possible improvements"):
        assert heading in card, heading
    meta = _meta(trained_artifacts)
    assert f"{meta['metrics']['roc_auc']:.4f}" in card
    for attr in ("code_gender", "age_band", "name_family_status"):
        assert attr in card
    html = (trained_artifacts / "models" / "current" / "model_card.html").read_text()
    assert "data:image/png;base64," in html and "<table>" in html


def test_fairness_slices_cover_the_documented_attributes(trained_artifacts: Path) -> None:
    meta = _meta(trained_artifacts)
    groups = {(s["attribute"], s["group"]) for s in meta["fairness"]}
    assert {("code_gender", "F"), ("code_gender", "M")} <= groups
    assert any(a == "age_band" for a, _ in groups)
    assert sum(s["n"] for s in meta["fairness"] if s["attribute"] == "code_gender") == meta["data"]["rows"]
    for s in meta["fairness"]:
        assert 0.0 <= s["approval_rate"] <= 1.0


def test_reference_sample_has_features_target_and_probability(trained_artifacts: Path) -> None:
    model = load_current(trained_artifacts)
    ref = pd.read_parquet(model.reference_sample_path)
    assert set(model.feature_names) | {"target", "probability"} == set(ref.columns)
    assert ref["probability"].between(0, 1).all()
    assert set(ref["target"].unique()) == {0, 1}
    assert pd.api.types.is_string_dtype(ref["name_family_status"]) and str(ref["flag_own_car"].dtype) == "boolean"
    assert "code_gender" not in ref.columns  # a protected attribute stays in the warehouse
    # the promoted model scores the reference sample (what monitoring does)
    assert model.predict_proba(ref).shape == (len(ref),)


def test_no_pickle_is_written(trained_artifacts: Path) -> None:
    for path in (trained_artifacts / "models").rglob("*"):
        if path.is_file():
            assert path.suffix not in {".pkl", ".pickle", ".joblib"}, path
            head = path.read_bytes()[:2]
            assert not (head[:1] == b"\x80" and head[1:2] in {bytes([v]) for v in range(2, 6)}), path


def test_scoring_the_warehouse_rows(trained_artifacts: Path, small_warehouse: Path) -> None:
    model = load_current(trained_artifacts)
    con = duckdb.connect(str(small_warehouse), read_only=True)
    df = con.execute("select * from applicant_features order by sk_id_curr").df()
    con.close()
    p = model.predict_proba(df)
    assert p.shape == (len(df),) and np.all((p >= 0) & (p <= 1))
    assert set(model.decide(p)) <= {"grant", "refuse"}
    expl = model.explain(df.head(3))
    assert expl.values.shape == (3, len(model.feature_names))
    reasons = model.reasons(expl, row=0, top_k=3)
    assert len(reasons) == 3
    assert [abs(r["shap"]) for r in reasons] == sorted((abs(r["shap"]) for r in reasons), reverse=True)
    for r in reasons:
        assert r["direction"] == ("increases_risk" if r["shap"] > 0 else "decreases_risk")
        assert r["label"] and r["sentence"].endswith(".")


def test_failed_run_leaves_current_untouched(trained_artifacts: Path, small_warehouse: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    artifacts = tmp_path / "art"
    shutil.copytree(trained_artifacts, artifacts, symlinks=True)
    before = os.readlink(artifacts / "models" / "current")
    versions = list_versions(artifacts)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full while writing the model card")

    monkeypatch.setattr("models_ml.train.write_model_card", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run_training(fast_settings(small_warehouse, artifacts, families="dummy,lightgbm"))
    assert os.readlink(artifacts / "models" / "current") == before
    assert list_versions(artifacts) == versions
    assert [p.name for p in (artifacts / "models").iterdir() if p.name.startswith(".")] == []


def test_write_version_and_promote_are_atomic(tmp_path: Path) -> None:
    def ok(d: Path) -> None:
        (d / "metadata.json").write_text("{}")

    def bad(d: Path) -> None:
        (d / "metadata.json").write_text("{}")
        raise ValueError("half written")

    write_version(tmp_path, "v1", ok)
    promote(tmp_path, "v1")
    with pytest.raises(ValueError):
        write_version(tmp_path, "v2", bad)
    assert not (tmp_path / "models" / "v2").exists()
    assert os.readlink(tmp_path / "models" / "current") == "v1"
    write_version(tmp_path, "v3", ok)
    promote(tmp_path, "v3")
    assert os.readlink(tmp_path / "models" / "current") == "v3"
    assert list_versions(tmp_path) == ["v1", "v3"]  # earlier versions are kept
    with pytest.raises(ArtifactError):
        promote(tmp_path, "v2")  # never promote an incomplete version
    with pytest.raises(ArtifactError):
        write_version(tmp_path, "v1", ok)  # never overwrite a version
    assert os.readlink(tmp_path / "models" / "current") == "v3"


def test_same_data_and_seed_give_the_same_metrics_and_versions_are_kept(small_warehouse: Path,
                                                                         tmp_path: Path) -> None:
    kw = {"families": "dummy,lightgbm"}
    a = run_training(fast_settings(small_warehouse, tmp_path, **kw))
    b = run_training(fast_settings(small_warehouse, tmp_path, **kw))
    ma, mb = (json.loads((p / "metadata.json").read_text()) for p in (a, b))
    assert ma["metrics"] == mb["metrics"]
    assert ma["threshold"] == mb["threshold"]
    strip = [{k: v for k, v in r.items() if k != "fit_seconds"} for r in ma["comparison"]]
    assert strip == [{k: v for k, v in r.items() if k != "fit_seconds"} for r in mb["comparison"]]
    assert ma["data_fingerprint"] == mb["data_fingerprint"]
    assert ma["global_importance"] == mb["global_importance"]
    # both versions kept, the newer one promoted
    assert a != b and a.is_dir() and b.is_dir()
    assert registry.current_path(tmp_path).resolve() == b.resolve()
    # a different seed changes the folds, hence the metrics; --no-promote leaves current alone
    c = run_training(fast_settings(small_warehouse, tmp_path, seed=1, promote=False, **kw))
    assert json.loads((c / "metadata.json").read_text())["metrics"] != ma["metrics"]
    assert registry.current_path(tmp_path).resolve() == b.resolve()
    assert list_versions(tmp_path) == sorted([a.name, b.name, c.name])
