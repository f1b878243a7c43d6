"""Versioned model artifacts: write a version, promote it atomically, load it as a ``ScoringModel``.

Layout: ``<artifacts>/models/<version>/`` (metadata.json, model file, preprocessing.json,
calibration.json, model card, plots, reference_sample.parquet) and ``<artifacts>/models/current``,
a relative symlink switched with ``os.replace`` so readers always see a complete version.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hc_contracts.layout import CURRENT, METADATA_FILE, ArtifactLayout
from hc_contracts.metadata import MetadataError, ModelMetadata, RiskBand, read_metadata
from models_ml.calibration import Calibrator
from models_ml.data import SMALL_BATCH, FeatureSchema
from models_ml.errors import ArtifactError
from models_ml.explain import Explanation
from models_ml.families import BoostedModel
from models_ml.predictor import Predictor
from models_ml.reasons import FeatureLabeler, reason_codes

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class EncodedRows:
    """Rows of a table as a boosted model explains them (`ScoringModel.encode_rows` / `encoded_rows`)."""

    values: np.ndarray               # rows x features, float64: numeric values as they are; a categorical
                                     # feature's level as its index in `levels` (NaN: missing)
    levels: dict[str, np.ndarray]    # each categorical feature's levels (str objects), as first met in the table
    codes: dict[str, np.ndarray]     # the booster's code of each of those levels (NaN: not seen in training)


class ScoringModel:
    """A promoted (or any saved) model version, ready to score and explain applicants."""

    def __init__(self, path: Path, metadata: ModelMetadata, predictor: Predictor, calibrator: Calibrator,
                 labeler: FeatureLabeler | None = None) -> None:
        self.path = Path(path)
        self.metadata = metadata
        self.version: str = metadata.version
        self.threshold: float = float(metadata.threshold)
        self.schema: FeatureSchema = predictor.schema
        self.feature_names: list[str] = self.schema.names
        self.feature_types: dict[str, str] = {f.name: f.type for f in self.schema.features}
        self.risk_bands: list[RiskBand] = list(metadata.risk_bands)
        self._predictor = predictor
        self._calibrator = calibrator
        self._labeler = labeler or FeatureLabeler.default()

    def __repr__(self) -> str:
        return f"ScoringModel(version={self.version!r}, family={self.metadata.model_family!r})"

    def prepare(self, df: pd.DataFrame) -> pd.DataFrame:
        """The model's feature columns of ``df`` in canonical types; ``FeatureMismatchError`` if any is missing."""
        return self.schema.prepare(df, self.version)

    def predict_raw(self, df: pd.DataFrame) -> np.ndarray:
        return self._predictor.predict_raw(self.prepare(df))

    def predict_proba(self, df: pd.DataFrame) -> np.ndarray:
        """Calibrated probability of default for each row of ``df`` (extra columns are ignored)."""
        fast = self._small_matrix(df)
        if fast is not None:
            raw = self._predictor.model.predict_matrix(fast[1])
        else:
            X = self.prepare(df)
            if len(X) == 0:
                return np.empty(0)
            raw = self._predictor.predict_raw(X)
        return np.clip(self._calibrator.transform(raw), 0.0, 1.0)

    def _small_matrix(self, df: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
        """(canonical values, booster matrix) of a few rows for a boosted model, with no typed DataFrame
        in between: an applicant is scored or explained in about a millisecond instead of ten (measured
        in bench/bench_api.py). None for other families, empty or large frames, or values that need the
        careful per-column path (which raises the precise error)."""
        model = self._predictor.model
        if not isinstance(model, BoostedModel) or not 0 < len(df) <= SMALL_BATCH:
            return None
        self.schema.check_columns(df, self.version)
        vals = self.schema.small_values(df)
        if vals is None:
            return None
        return vals, model.encoder.transform_values(vals)

    def decide(self, p: float | np.ndarray) -> Any:
        """``"refuse"`` when the probability reaches the threshold, ``"grant"`` otherwise (list for arrays)."""
        if np.ndim(p) == 0:
            return "refuse" if float(p) >= self.threshold else "grant"
        return ["refuse" if float(v) >= self.threshold else "grant" for v in np.asarray(p).ravel()]

    def risk_band(self, p: float | np.ndarray) -> Any:
        if np.ndim(p) != 0:
            return [self.risk_band(float(v)) for v in np.asarray(p).ravel()]
        value = float(p)
        for band in self.risk_bands:
            if band.lower <= value < band.upper or (band.upper >= 1.0 and value >= band.lower):
                return band.name
        return self.risk_bands[-1].name if self.risk_bands else "unknown"

    def explain(self, df: pd.DataFrame) -> Explanation:
        fast = self._small_matrix(df)
        if fast is None:
            return self._predictor.explain(self.prepare(df))
        vals, matrix = fast
        # dtype=object: no per-column type inference (8 ms for one row of ~480 columns)
        return self._predictor.explain_matrix(matrix, pd.DataFrame(vals, columns=self.schema.columns, dtype=object))

    def warm(self) -> None:
        """Build now what the first explanation would otherwise build: a boosted model's SHAP table and its
        kernel (`models_ml.treeshap`, ~1 s at full volume). A serving process calls it while loading a version."""
        model = self._predictor.model
        if isinstance(model, BoostedModel):
            model.shap_table()

    @property
    def encodes_rows(self) -> bool:
        """Whether `encode_chunks` / `explain_rows` / `predict_rows` apply (boosted families)."""
        return isinstance(self._predictor.model, BoostedModel)

    def encode_chunks(self, frames: Iterable[pd.DataFrame], levels: dict[str, list[str]]) -> Iterator[np.ndarray]:
        """Each frame's rows as one float64 block (rows x features) in the form `explain_rows` takes, for a caller
        that explains rows of one fixed table many times (the API's warehouse); ``levels`` gets each categorical
        feature's levels as they are met. A row then costs a position lookup instead of its conversion from the
        table (~5 ms of the ~7 ms of a batch of 8 before SHAP; bench/bench_api.py). Boosted models only
        (`encodes_rows`)."""
        assert self.encodes_rows
        _, cat_pos, _ = self.schema.positions
        names = self.schema.names
        index: dict[str, dict[str, float]] = {names[j]: {} for j in cat_pos}
        for frame in frames:
            X = self.prepare(frame)
            block = np.empty((len(X), len(names)), dtype=np.float64)
            for j, name in enumerate(names):
                column = X[name].to_numpy()
                if name not in index:
                    block[:, j] = column
                    continue
                seen = index[name]
                local, met = pd.factorize(column, use_na_sentinel=True)  # levels in order of appearance, NaN -> -1
                table = np.array([seen.setdefault(str(v), float(len(seen))) for v in met] + [np.nan])
                block[:, j] = table[local]  # -1: the NaN at the end
            levels.update({name: list(seen) for name, seen in index.items()})  # complete for the rows given so far
            yield block
        levels.update({name: list(seen) for name, seen in index.items()})  # every categorical feature, even for no rows

    def encoded_rows(self, values: np.ndarray, levels: dict[str, list[str]]) -> EncodedRows:
        """The rows `encode_chunks` gave (an array, or anything whose ``values[positions]`` gives those rows as
        an array: `api.explanation_rows.RowFile`), with their levels, ready for `explain_rows`."""
        model = self._predictor.model
        assert isinstance(model, BoostedModel)
        objects, codes = {}, {}
        for name, lv in levels.items():
            objects[name] = np.empty(len(lv), dtype=object)
            objects[name][:] = [str(v) for v in lv]
            booster = model.encoder.level_index(name)
            codes[name] = np.array([booster.get(v, np.nan) for v in lv], dtype=np.float64)
        return EncodedRows(values, objects, codes)

    def encode_rows(self, df: pd.DataFrame, chunk: int = 20_000) -> EncodedRows | None:
        """`encode_chunks` + `encoded_rows` in this process's memory (a float64 copy of the features); None
        for other families."""
        if not self.encodes_rows:
            return None
        levels: dict[str, list[str]] = {}
        values = np.empty((len(df), len(self.schema.names)), dtype=np.float64)
        for start, block in zip(range(0, len(df), chunk),
                                self.encode_chunks((df.iloc[s : s + chunk] for s in range(0, len(df), chunk)), levels),
                                strict=True):
            values[start : start + len(block)] = block
        return self.encoded_rows(values, levels)

    def explain_rows(self, encoded: EncodedRows, positions: Sequence[int]) -> Explanation:
        """`explain` of the rows at ``positions`` of the table ``encoded`` was made from: the same values
        and data as `explain` of those rows."""
        matrix, vals = self._encoded_matrix(encoded, positions, shown=True)
        assert vals is not None
        return self._predictor.explain_matrix(matrix, pd.DataFrame(vals, columns=self.schema.columns, dtype=object))

    def predict_rows(self, encoded: EncodedRows, positions: Sequence[int]) -> np.ndarray:
        """`predict_proba` of the rows at ``positions`` of the table ``encoded`` was made from."""
        matrix, _ = self._encoded_matrix(encoded, positions, shown=False)
        return np.clip(self._calibrator.transform(self._predictor.model.predict_matrix(matrix)), 0.0, 1.0)

    def _encoded_matrix(self, encoded: EncodedRows, positions: Sequence[int],
                        shown: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """The booster's matrix of the rows at ``positions`` and, when ``shown``, their canonical values (the
        object matrix `FeatureSchema.small_values` gives: floats, level strings, NaN)."""
        num_pos, cat_pos, _ = self.schema.positions
        matrix = np.array(encoded.values[np.asarray(positions, dtype=np.intp)], dtype=np.float64, ndmin=2)
        vals = None
        if shown:
            vals = np.empty(matrix.shape, dtype=object)
            vals[:, num_pos] = matrix[:, num_pos]
        for j in cat_pos:
            name = self.schema.names[j]
            at = matrix[:, j]
            present = ~np.isnan(at)
            level = at[present].astype(np.intp)
            if vals is not None:
                text = np.full(len(at), np.nan, dtype=object)
                text[present] = encoded.levels[name][level]
                vals[:, j] = text
            code = np.full(len(at), np.nan)
            code[present] = encoded.codes[name][level]
            matrix[:, j] = code
        return matrix, vals

    def reasons(self, explanation: Explanation, row: int = 0, top_k: int = 5,
                values: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        return reason_codes(explanation, row=row, top_k=top_k, labeler=self._labeler, values=values)

    def label(self, feature: str) -> str:
        return self._labeler.label(feature)

    @property
    def model_card_path(self) -> Path:
        return self.path / "model_card.md"

    @property
    def reference_sample_path(self) -> Path:
        return self.path / "reference_sample.parquet"


def load_version(path: Path | str) -> ScoringModel:
    path = Path(path)
    if not (path / METADATA_FILE).is_file():
        raise ArtifactError(f"no model version at {path} ({METADATA_FILE} missing)")
    try:
        metadata = read_metadata(path)
    except MetadataError as exc:
        raise ArtifactError(str(exc)) from exc
    cal_path = path / CALIBRATION_FILE
    if not cal_path.is_file():
        raise ArtifactError(f"{cal_path} is missing: not a complete model version")
    calibrator = Calibrator.from_dict(json.loads(cal_path.read_text()))
    predictor = Predictor.load(path)
    return ScoringModel(path.resolve(), metadata, predictor, calibrator)


def current_path(artifacts_dir: Path | str) -> Path:
    return ArtifactLayout(Path(artifacts_dir)).current_model


def load_current(artifacts_dir: Path | str) -> ScoringModel:
    link = current_path(artifacts_dir)
    if not link.exists():
        raise ArtifactError(f"no promoted model at {link}; run `make train` (HC_ARTIFACTS={artifacts_dir})")
    return load_version(link.resolve())


def list_versions(artifacts_dir: Path | str) -> list[str]:
    models = ArtifactLayout(Path(artifacts_dir)).models_dir
    if not models.is_dir():
        return []
    return sorted(p.name for p in models.iterdir()
                  if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")
                  and (p / METADATA_FILE).is_file())


def write_version(artifacts_dir: Path | str, version: str, writer: Callable[[Path], None]) -> Path:
    """Run ``writer`` on a fresh temporary directory, then rename it to ``models/<version>``.

    If ``writer`` raises, the temporary directory is removed and nothing else changes.
    """
    models = ArtifactLayout(Path(artifacts_dir)).models_dir
    models.mkdir(parents=True, exist_ok=True)
    final = models / version
    if final.exists():
        raise ArtifactError(f"model version {final} already exists")
    tmp = models / f".tmp-{version}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        writer(tmp)
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def promote(artifacts_dir: Path | str, version: str, mirror: bool = True) -> Path:
    """Point ``models/current`` at ``version`` atomically (temporary symlink + ``os.replace``); with ``mirror``,
    move the MLflow alias ``champion`` to it too (``models_ml.track.mirror_promotion``)."""
    models = ArtifactLayout(Path(artifacts_dir)).models_dir
    target = models / version
    if not (target / METADATA_FILE).is_file():
        raise ArtifactError(f"cannot promote {target}: not a complete model version")
    tmp_link = models / f".current-{uuid.uuid4().hex[:8]}"
    os.symlink(version, tmp_link)  # relative: the artifacts folder can move
    try:
        os.replace(tmp_link, models / CURRENT)
    except BaseException:
        tmp_link.unlink(missing_ok=True)
        raise
    if mirror:  # MLflow registry: alias `champion` follows models/current (best effort, never raises)
        from models_ml.track import mirror_promotion

        mirror_promotion(artifacts_dir, version)
    return models / CURRENT
