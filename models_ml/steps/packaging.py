"""Step `package`: the version name, metadata.json, the model files, calibration, reference sample, figures and
model card, written into a temporary folder that becomes ``models/<version>`` only once complete and verified
(the saved model must reproduce the in-memory probabilities and SHAP values)."""

from __future__ import annotations

import hashlib
import importlib
import json
import platform
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hc_contracts.metadata import build_metadata, write_metadata
from models_ml import plots
from models_ml.cost import RowCosts, bayes_threshold
from models_ml.cv import stratified_subsample
from models_ml.data import FeatureSchema, TrainingData
from models_ml.errors import ModelingError
from models_ml.explain import Explanation
from models_ml.families import Candidate
from models_ml.model_card import write_model_card
from models_ml.predictor import Predictor
from models_ml.registry import CALIBRATION_FILE, METADATA_FILE, load_version, write_version
from models_ml.settings import ModelSettings
from models_ml.steps.calibration import Calibrated
from models_ml.steps.explanation import Explained
from models_ml.steps.thresholding import Decision

PACKAGES = {"numpy": "numpy", "pandas": "pandas", "scikit-learn": "sklearn", "imbalanced-learn": "imblearn",
            "lightgbm": "lightgbm", "xgboost": "xgboost", "shap": "shap", "skops": "skops", "duckdb": "duckdb",
            "optbinning": "optbinning", "fairlearn": "fairlearn"}
REFERENCE_FILE = "reference_sample.parquet"


def package_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist, module in PACKAGES.items():
        try:
            out[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            try:
                out[dist] = str(getattr(importlib.import_module(module), "__version__", "unknown"))
            except ImportError:
                out[dist] = "not installed"
    return out


def new_version(fingerprint: str, run_config: str) -> tuple[str, datetime]:
    """``<UTC time>-<hash of the data and the configuration>`` and the creation time."""
    created = datetime.now(UTC)
    run_hash = hashlib.sha256(f"{fingerprint}|{run_config}".encode()).hexdigest()[:8]
    return f"{created:%Y%m%dT%H%M%SZ}-{run_hash}", created


def reference_sample(data: TrainingData, p_cal: np.ndarray, seed: int, size: int) -> pd.DataFrame:
    """A stratified sample of training rows with target and calibrated probability (monitoring's reference)."""
    idx = stratified_subsample(data.target, size, seed + 1)
    ref = data.frame.iloc[idx].copy()
    for name in data.schema.of_type("boolean"):
        ref[name] = pd.array(ref[name].map({1.0: True, 0.0: False}), dtype="boolean")
    for name in data.schema.of_type("categorical"):
        ref[name] = ref[name].astype(object)
    ref["target"] = data.target[idx].astype(int)
    ref["probability"] = p_cal[idx]
    return ref.reset_index(drop=True)


@dataclass
class ModelPackage:
    """Everything a model version is made of; ``metadata()`` is metadata.json."""

    settings: ModelSettings
    version: str
    created: datetime
    candidate: Candidate
    params: dict[str, Any]
    n_rounds: int | None
    predictor: Predictor
    calibrated: Calibrated
    decision: Decision
    explained: Explained
    reference: pd.DataFrame
    y: np.ndarray
    oof: np.ndarray
    costs: RowCosts
    schema: FeatureSchema
    excluded_columns: list[str]
    features_left_out: dict[str, str]
    fingerprint: str
    comparison: list[dict[str, Any]]
    tuning: list[dict[str, Any]]
    selection_rule: str
    data: dict[str, Any]
    timings: dict[str, float]
    notes: list[str]
    started: float
    extra: dict[str, Any] = field(default_factory=dict)  # engine-specific keys (scorecard, monotone, spark, ...)
    source: str = "training metadata"  # named in the error when a field does not fit the typed metadata

    def metadata(self) -> dict[str, Any]:
        """metadata.json as a dict, validated by the typed contract (hc_contracts.metadata.ModelMetadata)."""
        s, d, n = self.settings, self.decision, len(self.y)
        return build_metadata({
            "version": self.version,
            "created_at": self.created.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "model_family": self.candidate.family, "imbalance": self.candidate.imbalance, "params": self.params,
            "boosting_rounds": self.n_rounds, "threshold": d.threshold,
            "threshold_bayes": bayes_threshold(s.cost_fn, s.cost_fp) if s.cost_mode == "count" else None,
            "cost_fn": s.cost_fn, "cost_fp": s.cost_fp, "cost_mode": s.cost_mode,
            "money_costs": {"loss_given_default": s.loss_given_default, "lost_margin_rate": s.lost_margin_rate}
            if s.cost_mode == "money" else None,
            "metrics": d.metrics, "trivial_policies": d.trivial_per_applicant(n),
            "calibration": self.calibrated.metadata(),
            "comparison": self.comparison, "tuning": self.tuning, "selection_rule": self.selection_rule,
            "features": self.schema.to_list(), "excluded_columns": self.excluded_columns,
            "global_importance": self.explained.importance,
            "explanation_output_scale": self.explained.explanation.output_scale,
            "local_example": self.explained.local, "fairness": d.fairness, "fairness_summary": d.fairness_summary,
            "protected_attributes": {"attributes": s.protected_columns,
                                     "features_left_out": dict(sorted(self.features_left_out.items()))},
            "risk_bands": d.bands, **self.extra,
            "data": self.data, "data_fingerprint": self.fingerprint, "seed": s.seed, "n_folds": s.n_folds,
            "train_profile": s.train_profile, "package_versions": package_versions(),
            "timings_s": {k: round(v, 2) for k, v in self.timings.items()}, "notes": self.notes,
        }, self.source).to_dict()


def package(pkg: ModelPackage) -> Path:
    """Write the version under ``settings.artifacts/models/<version>`` (atomically) and return its path."""
    metadata = pkg.metadata()
    profile = pkg.settings.profile

    def writer(directory: Path) -> None:
        files = pkg.predictor.save(directory)
        (directory / CALIBRATION_FILE).write_text(json.dumps(pkg.calibrated.calibrator.to_dict(), indent=1))
        pkg.reference.to_parquet(directory / REFERENCE_FILE, index=False)
        figures = _figures(directory, pkg, metadata, profile.plot_sample)
        metadata["files"] = sorted(files + [CALIBRATION_FILE, REFERENCE_FILE, "model_card.md", "model_card.html",
                                            METADATA_FILE, *figures])
        metadata["timings_s"]["total_s"] = round(time.perf_counter() - pkg.started, 2)
        write_metadata(directory, build_metadata(metadata, pkg.source))
        write_model_card(directory, metadata, curve_points=len(pkg.decision.curve.thresholds),
                         labeler=pkg.explained.labeler)
        verify(directory, pkg.explained.X, pkg.explained.probability, pkg.explained.explanation)

    return write_version(pkg.settings.artifacts, pkg.version, writer)


def _figures(directory: Path, pkg: ModelPackage, metadata: dict[str, Any], plot_sample: int) -> list[str]:
    expl, labeler, local = pkg.explained.explanation, pkg.explained.labeler, pkg.explained.local
    calib, d = pkg.calibrated, pkg.decision
    labels = {f: labeler.label(f) for f in expl.feature_names}
    plots.cost_vs_threshold(pkg.y, calib.p_cal, pkg.costs, d.threshold, d.trivial, metadata["threshold_bayes"],
                            directory / "cost_vs_threshold.png")
    curves = {"before calibration (raw out-of-fold)": pkg.oof, f"after ({calib.calibrator.method}"
              f"{', prior correction' if calib.calibrator.beta is not None else ''})": calib.p_cal}
    plots.reliability(pkg.y, curves, directory / "reliability.png")
    plots.comparison(metadata["comparison"], directory / "comparison.png")
    sub = np.sort(np.random.default_rng(pkg.settings.seed).permutation(len(expl))[: min(len(expl), plot_sample)])
    sub_expl = Explanation(expl.values[sub], expl.base_value, expl.feature_names,
                           expl.data.iloc[sub].reset_index(drop=True), expl.output_scale)
    plots.shap_beeswarm(sub_expl, directory / "shap_beeswarm.png", labels)
    plots.importance_bar(metadata["global_importance"], labels, directory / "shap_importance.png")
    plots.local_waterfall(local["reasons"], f"Example applicant: p = {local['probability']:.3f} -> "
                          f"{local['decision']}", directory / "local_explanation.png")
    return ["cost_vs_threshold.png", "reliability.png", "comparison.png", "shap_beeswarm.png",
            "shap_importance.png", "local_explanation.png"]


def verify(directory: Path, X: pd.DataFrame, expected: np.ndarray, expl: Explanation) -> None:
    """Load the written version back; its probabilities and SHAP values must equal the in-memory ones."""
    loaded = load_version(directory)
    got = loaded.predict_proba(X)
    if not np.allclose(got, np.clip(expected, 0, 1), rtol=0, atol=1e-9):
        raise ModelingError(f"the saved model in {directory} does not reproduce the trained probabilities")
    got_expl = loaded.explain(X)
    if not np.allclose(got_expl.values, expl.values, rtol=0, atol=1e-7):
        raise ModelingError(f"the saved model in {directory} does not reproduce the SHAP values")
