"""Response bodies (the shapes of docs/interfaces.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Scalar = float | int | str | bool | None


class Health(BaseModel):
    status: Literal["ok", "degraded"] = Field(description="ok when a model and the warehouse are both available")
    model_version: str | None
    warehouse: Literal["ok", "unavailable"]


class Missing(BaseModel):
    component: Literal["model", "warehouse", "score_book", "explanation_rows"]
    reason: str


class Readiness(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    ready: bool
    model_version: str | None
    warehouse_generation: int | None = Field(description="how many times the warehouse file was swapped in")
    score_book: Literal["ready", "computing", "failed", "per_request", "unknown"] = Field(
        description="bulk scores of the known applicants: ready, being computed, failed (not retried until the "
        "model or warehouse changes), not used (large warehouse)")
    explanation_rows: Literal["ready", "computing", "failed", "not_used", "unknown"] = Field(
        "unknown", description="the known applicants' rows encoded once for explanations (boosted models): ready, "
        "being encoded, failed (not retried until the model or warehouse changes), not used (other families)")
    missing: list[Missing] = Field(description="what keeps the worker from being ready, with the reason")
    refused_model: str | None = Field(
        None, description="a newer promoted version that failed to load (the previous one keeps serving)")


class FeatureInfo(BaseModel):
    """A model feature (metadata.json `features`); further keys of the metadata are passed on."""

    model_config = ConfigDict(extra="allow")

    name: str
    type: str = Field(description="numeric | categorical | boolean")


class Importance(BaseModel):
    model_config = ConfigDict(extra="allow")

    feature: str
    mean_abs_shap: float = Field(description="mean |SHAP| over the reference rows (points for a scorecard)")


class RiskBand(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: str
    lower: float = Field(description="lowest probability of the band (included)")
    upper: float = Field(description="highest probability of the band (excluded, except 1.0)")


class ModelInfo(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    version: str
    model_family: str | None = None
    imbalance: str | None = None
    threshold: float
    cost_fn: float | None = None
    cost_fp: float | None = None
    metrics: dict[str, float | int | str | list[float] | None] = Field(
        default_factory=dict, description="evaluation figures of the version (metadata.json `metrics`)")
    features: list[FeatureInfo] = Field(default_factory=list)
    global_importance: list[Importance] = Field(default_factory=list)
    risk_bands: list[RiskBand] = Field(default_factory=list)
    model_card_summary: str | None = Field(None, description="the model card's first section, markdown")


class Score(BaseModel):
    model_config = ConfigDict(
        protected_namespaces=(),
        json_schema_extra={
            "examples": [
                {
                    "sk_id_curr": 100002,
                    "probability": 0.231,
                    "decision": "refuse",
                    "threshold": 0.18,
                    "risk_band": "high",
                    "model_version": "20261128T101500Z-3f2a9c1",
                }
            ]
        },
    )

    sk_id_curr: int
    probability: float = Field(ge=0, le=1, description="calibrated probability of default")
    decision: Literal["grant", "refuse"] = Field(description="refuse when probability >= threshold")
    threshold: float
    risk_band: str
    model_version: str


BatchStatus = Literal["found", "new", "not_found", "invalid"]


class BatchItem(BaseModel):
    """One applicant of a batch: its score (`found`: a known id; `new`: a posted application), or why not
    (`not_found`: an id the warehouse does not hold; `invalid`: an application that cannot be scored)."""

    model_config = ConfigDict(protected_namespaces=())

    sk_id_curr: int
    status: BatchStatus
    probability: float | None = Field(None, ge=0, le=1, description="calibrated probability of default")
    decision: Literal["grant", "refuse"] | None = None
    threshold: float | None = None
    risk_band: str | None = None
    model_version: str | None = None
    error: str | None = Field(None, description="why the item has no score (not_found, invalid)")


class BatchScores(BaseModel):
    model_config = ConfigDict(protected_namespaces=(), json_schema_extra={"examples": [{
        "results": [{"sk_id_curr": 100002, "status": "found", "probability": 0.231, "decision": "refuse",
                     "threshold": 0.18, "risk_band": "high", "model_version": "20261128T101500Z-3f2a9c1",
                     "error": None},
                    {"sk_id_curr": 1, "status": "not_found", "probability": None, "decision": None,
                     "threshold": None, "risk_band": None, "model_version": None,
                     "error": "applicant 1 not found in the warehouse"}],
        "model_version": "20261128T101500Z-3f2a9c1",
        "counts": {"found": 1, "new": 0, "not_found": 1, "invalid": 0}}]})

    results: list[BatchItem] = Field(description="one item per id, then per application, in the order sent")
    model_version: str
    counts: dict[BatchStatus, int] = Field(description="items per status")


class FeatureChange(BaseModel):
    feature: str
    label: str
    before: Scalar
    after: Scalar


class WhatIf(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    sk_id_curr: int
    model_version: str
    changes: dict[str, float | int] = Field(description="the application values changed (Kaggle names)")
    official: Score = Field(description="the applicant's score as it stands (the warehouse's features)")
    scenario: Score = Field(description="the score with the changed values and the applicant's own history")
    feature_changes: list[FeatureChange] = Field(
        description="model features whose value the changes moved (derived ratios included)")


class Contribution(BaseModel):
    feature: str
    label: str
    value: Scalar
    shap: float
    points: float | None = Field(None, description="scorecard only: points this characteristic earned")
    best_points: float | None = Field(None, description="scorecard only: points of its best bin")


class Reason(Contribution):
    direction: Literal["increases_risk", "decreases_risk"]
    sentence: str
    shortfall: float | None = Field(None, description="scorecard only: points short of the best bin")


class ExplanationOut(BaseModel):
    model_config = ConfigDict(protected_namespaces=())

    sk_id_curr: int
    model_version: str
    base_value: float = Field(description="expected model output (SHAP base value, model output scale)")
    output_scale: str = Field(
        "log_odds", description="scale of base_value and shap: log_odds (boosted trees, logistic regression) or "
        "probability (random forest), of the uncalibrated model; points (scorecard): base_value is the best "
        "possible score, shap = points earned - best bin's points (<= 0), base_value + sum(shap) = score_points")
    score_points: float | None = Field(None, description="scorecard only: the applicant's score, the sum of the "
                                       "points of the characteristics")
    probability: float
    contributions: list[Contribution] = Field(description="features by decreasing |shap|")
    reasons: list[Reason] = Field(description="top reasons in plain language")


class ProfileField(BaseModel):
    name: str
    label: str
    value: Scalar
    unit: str | None = None


class ProfileGroup(BaseModel):
    name: str
    fields: list[ProfileField]


class Profile(BaseModel):
    sk_id_curr: int
    dataset: str
    groups: list[ProfileGroup]


class Distribution(BaseModel):
    n: int = Field(description="clients with a value")
    missing_share: float
    mean: float | None = None
    quantiles: dict[str, float | None] = Field(default_factory=dict, description='{"p05", "p25", "p50", "p75", "p95"}')
    histogram: dict[str, list[Any]] = Field(
        description="numeric: {edges (n+1), counts (n)}; categorical: {categories, counts}"
    )


class SimilarDistribution(Distribution):
    k: int = Field(description="nearest neighbours used")
    default_rate: float | None = Field(None, description="share of defaulters among the similar clients with a known outcome")
    on_features: list[str] = Field(description="standardized features the neighbours are found on")


class FeatureComparison(BaseModel):
    feature: str
    label: str
    kind: Literal["numeric", "categorical", "boolean"]
    client_value: Scalar
    client_percentile: float | None = Field(None, description="share of all clients with a lower value (numeric)")
    all: Distribution
    similar: SimilarDistribution
    defaulters: Distribution
    non_defaulters: Distribution


class Comparison(BaseModel):
    sk_id_curr: int
    features: list[FeatureComparison]


class ErrorOut(BaseModel):
    detail: Any = Field(description="what went wrong, naming the field or resource")


class DriftSummary(BaseModel):
    """The latest drift report's summary.json (monitoring/summary.py writes it); the fields below are the
    ones clients rely on, every other key of the file is passed on as it is."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    created_at: str | None = Field(None, description="when the report was made (ISO 8601, UTC)")
    model_version: str | None = None
    window: dict[str, str | None] | None = Field(None, description="{since, until} of the scored requests compared")
    n_reference: int | None = None
    n_current: int | None = None
    columns: list[str] | None = Field(None, description="columns compared")
    drifted_columns: list[str] | None = None
    share_drifted: float | None = None
    dataset_drift: bool | None = None
    psi: dict[str, float | None] = Field(default_factory=dict, description="population stability index per column")
    psi_bands: dict[str, Any] | None = None
    prediction_drift: dict[str, Any] | None = None
