"""The Spark scoring workers' copy of a model version (models_ml.spark.scoring)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from models_ml_synth import make_features


def test_a_spark_worker_loads_the_model_and_leaves_no_copy_behind(
    trained_artifacts: Path, tmp_path: Path, monkeypatch
) -> None:
    """Each Python worker wrote the broadcast model files into a folder of its own under the temporary directory
    and never removed it: two folders per scoring run and model version (58 left in /tmp by the test runs of two
    days). The model is in memory once loaded, so the folder goes with the load; the scores are the driver's."""
    from models_ml.registry import load_current
    from models_ml.spark import scoring

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    model = load_current(trained_artifacts)
    version = "worker-files-test"
    try:
        loaded = scoring._model_from_files(version, scoring.scoring_files(model.path))
        assert list(tmp_path.iterdir()) == []
        rows = make_features(20, seed=5).drop(columns="target")
        np.testing.assert_allclose(loaded.predict_proba(rows), model.predict_proba(rows))
    finally:
        scoring._LOADED.pop(version, None)
