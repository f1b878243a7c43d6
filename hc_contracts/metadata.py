"""The typed ``metadata.json`` of a model version: written by training, read by everyone else.

Training (``models_ml.train`` and the Spark trainer ``models_ml.spark.train``) builds a
:class:`ModelMetadata` and writes it with :func:`write_metadata`; the registry, the API, monitoring and the
demo summary read it with :func:`read_metadata`. The fields are those of docs/interfaces.md ("Model
artifacts"). Fields a reader relies on are typed and validated (version, family, threshold, costs, metrics,
features, importance, risk bands, data summary); ``version``, ``threshold`` and ``features`` are required (no
reader can do without them), the others may be absent (``None`` / empty); the descriptive rest (comparison details, calibration,
fairness, scorecard, timings, ...) is kept as JSON as training wrote it. Unknown fields are kept too, so a
file written by a newer trainer still loads and round-trips.

Compatibility: every file written before this model existed loads unchanged (the fields it lacks take their
defaults); a file that misses a required field, or holds a wrong value, fails with
:class:`MetadataError` naming the file and the field.
"""

from __future__ import annotations

import json
import math
import os
import uuid
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hc_contracts.layout import METADATA_FILE

FeatureKind = Literal["numeric", "categorical", "boolean"]


class _Open(BaseModel):
    """A JSON object whose listed fields are typed; any other key is kept as written."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())


class FeatureSpec(_Open):
    name: str = Field(min_length=1)
    type: FeatureKind


class ImportanceEntry(_Open):
    feature: str
    mean_abs_shap: float = Field(ge=0)


class RiskBand(_Open):
    name: str
    lower: float = Field(ge=0, le=1)
    upper: float = Field(ge=0, le=1)
    decision: Literal["grant", "refuse"] | None = None


class Metrics(_Open):
    """Out-of-fold metrics of the served model (more keys are kept: ``roc_auc_std``, ``approval_rate``, ...)."""

    roc_auc: float
    business_cost: float
    pr_auc: float | None = None
    brier: float | None = None
    log_loss: float | None = None
    ks: float | None = None


class CandidateResult(_Open):
    """One compared candidate (family x imbalance strategy) of the comparison table."""

    model_family: str
    imbalance: str
    roc_auc: float | None = None
    business_cost: float | None = None


class DataSummary(_Open):
    rows: int = Field(ge=0)
    features: int = Field(ge=0)
    defaults: int = Field(ge=0)
    default_rate: float = Field(ge=0, le=1)
    comparison_rows: int | None = None
    warehouse: str | None = None


class ProtectedAttributes(_Open):
    attributes: list[str] = Field(default_factory=list)
    features_left_out: dict[str, Any] = Field(default_factory=dict)


class ModelMetadata(_Open):
    """``metadata.json`` of one model version (docs/interfaces.md)."""

    # identity
    version: str = Field(min_length=1)
    created_at: str | None = None
    model_family: str | None = None
    imbalance: str | None = None
    engine: str | None = Field(None, description="None: DuckDB / single machine; 'spark': the Spark trainer")
    # decision
    threshold: float = Field(ge=0, le=1)
    threshold_bayes: float | None = None
    cost_fn: float | None = Field(None, gt=0)
    cost_fp: float | None = Field(None, gt=0)
    cost_mode: Literal["count", "money"] = "count"
    money_costs: dict[str, float] | None = None
    risk_bands: list[RiskBand] = Field(default_factory=list)
    # the model
    params: dict[str, Any] = Field(default_factory=dict)
    boosting_rounds: int | None = None
    features: list[FeatureSpec] = Field(min_length=1)
    excluded_columns: list[Any] = Field(default_factory=list)
    protected_attributes: ProtectedAttributes | None = None
    # how good, how chosen
    metrics: Metrics | None = None
    trivial_policies: dict[str, float] = Field(default_factory=dict)
    calibration: dict[str, Any] = Field(default_factory=dict)
    comparison: list[CandidateResult] = Field(default_factory=list)
    tuning: list[dict[str, Any]] = Field(default_factory=list)
    selection_rule: str = ""
    # explanations and governance
    global_importance: list[ImportanceEntry] = Field(default_factory=list)
    explanation_output_scale: str | None = None
    local_example: dict[str, Any] | None = None
    fairness: list[dict[str, Any]] | None = None
    fairness_summary: dict[str, Any] | None = None
    scorecard: dict[str, Any] | None = None
    strongest_characteristics: list[dict[str, Any]] | None = None
    monotone: dict[str, Any] | None = None
    # provenance
    data: DataSummary | None = None
    data_fingerprint: str = ""
    seed: int = 0
    n_folds: int = Field(5, ge=2)
    train_profile: str = "full"
    spark: dict[str, Any] | None = None
    package_versions: dict[str, str] = Field(default_factory=dict)
    timings_s: dict[str, float] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)
    files: list[str] = Field(default_factory=list)

    # -- convenient views ---------------------------------------------------------------------------
    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def feature_kinds(self) -> dict[str, FeatureKind]:
        return {f.name: f.type for f in self.features}

    @property
    def importance_order(self) -> list[str]:
        """Features by decreasing mean |SHAP| (``global_importance``; ties keep training's order)."""
        return [g.feature for g in sorted(self.global_importance, key=lambda g: -g.mean_abs_shap)]

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: the fields training set (defaults it did not set are left out), extra keys kept."""
        return self.model_dump(mode="json", exclude_unset=True)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, allow_nan=False)


class MetadataError(ValueError):
    """``metadata.json`` is missing, not JSON, or a field is missing or has a wrong value (named)."""


def jsonable(value: Any) -> Any:
    """``value`` as strict JSON values: numpy scalars / arrays as Python values, paths as text, non-finite
    floats as None."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return jsonable(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Path):
        return str(value)
    return value


def _field_errors(exc: ValidationError, source: str) -> str:
    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        got = "" if err["type"] == "missing" else f" (got {err.get('input')!r:.60})"
        parts.append(f"field '{where}': {err['msg']}{got}")
    more = f"; and {exc.error_count() - 5} more" if exc.error_count() > 5 else ""
    return f"{source}: {'; '.join(parts)}{more}"


def build_metadata(fields: dict[str, Any], source: str = "metadata") -> ModelMetadata:
    """Validate ``fields`` (numpy values allowed) as :class:`ModelMetadata`; :class:`MetadataError` names
    the field at fault."""
    return _validate(jsonable(fields), source)


def _validate(data: dict[str, Any], source: str) -> ModelMetadata:
    try:
        return ModelMetadata.model_validate(data)
    except ValidationError as exc:
        raise MetadataError(_field_errors(exc, source)) from exc


def parse_metadata(text: str, source: str = METADATA_FILE) -> ModelMetadata:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise MetadataError(f"{source} is not valid JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise MetadataError(f"{source} must hold a JSON object of metadata fields, got {type(data).__name__}")
    return _validate(data, str(source))  # parsed JSON: already plain values


def metadata_path(version_dir: Path | str) -> Path:
    return Path(version_dir) / METADATA_FILE


def read_metadata(version_dir: Path | str) -> ModelMetadata:
    """The ``metadata.json`` of a model version folder; :class:`MetadataError` naming the file (and the
    field) when it is missing or invalid."""
    path = metadata_path(version_dir)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise MetadataError(f"{path} is missing: not a complete model version") from exc
    except OSError as exc:
        raise MetadataError(f"cannot read {path}: {exc}") from exc
    return parse_metadata(text, str(path))


def write_metadata(version_dir: Path | str, metadata: ModelMetadata) -> Path:
    """Write ``metadata.json`` into a version folder (temporary name, then renamed: never half a file)."""
    path = metadata_path(version_dir)
    tmp = path.with_name(f".{METADATA_FILE}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_text(metadata.to_json(), encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
