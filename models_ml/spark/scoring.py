"""Score a Spark DataFrame with a saved model version inside Spark (``mapInPandas``).

The version's scoring files (model, preprocessing, calibration, metadata: a few MB) are broadcast as bytes,
so executors on other machines need no shared file system; each Python worker writes them once to a
private temporary folder and loads them with ``models_ml.registry.load_version`` -- the very loader the API
uses, so Spark scores exactly as the single-machine path does.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from models_ml.data import ID_COLUMN
from models_ml.registry import ScoringModel, load_version

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

SCORING_SUFFIXES = (".json", ".txt", ".skops")  # model.json / model.txt / model.skops, *.json metadata
OUTPUT_SCHEMA = f"{ID_COLUMN} long, probability double"
_LOADED: dict[str, ScoringModel] = {}  # per Python worker process: version -> loaded model


def scoring_files(version_dir: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(Path(version_dir).iterdir())
            if p.is_file() and p.suffix in SCORING_SUFFIXES}


def _model_from_files(version: str, files: dict[str, bytes]) -> ScoringModel:
    if version not in _LOADED:  # (the model is in memory once loaded: the worker's copy of its files goes with it)
        with tempfile.TemporaryDirectory(prefix=f"hc-model-{version}-") as tmp:
            folder = Path(tmp)
            for name, content in files.items():
                (folder / name).write_bytes(content)
            _LOADED[version] = load_version(folder)
    return _LOADED[version]


def score_frame(spark: SparkSession, model: ScoringModel, frame: DataFrame) -> DataFrame:
    """``(sk_id_curr, probability)`` of every row of ``frame`` (calibrated, as ``ScoringModel.predict_proba``)."""
    missing = [c for c in (ID_COLUMN, *model.feature_names) if c not in frame.columns]
    if missing:
        from models_ml.errors import FeatureMismatchError

        raise FeatureMismatchError(missing, model.version)
    files = spark.sparkContext.broadcast(scoring_files(model.path))
    version = model.version

    def score(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        loaded = _model_from_files(version, files.value)
        for batch in batches:
            if len(batch):
                yield pd.DataFrame({ID_COLUMN: batch[ID_COLUMN].astype("int64").to_numpy(),
                                    "probability": loaded.predict_proba(batch)})

    return frame.select(ID_COLUMN, *model.feature_names).mapInPandas(score, OUTPUT_SCHEMA)
