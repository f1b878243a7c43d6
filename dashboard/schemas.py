"""The API's response bodies as the dashboard reads them (docs/interfaces.md).

The models are lenient about extra keys (the API may add fields) but strict about the fields the
pages rely on, so that a change of shape becomes one clear error instead of a ``KeyError`` deep in
a page.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _Body(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True, protected_namespaces=())


class Health(_Body):
    status: str
    model_version: str | None = None
    warehouse: Any = None


class RiskBand(_Body):
    name: str
    lower: float
    upper: float


class FeatureInfo(_Body):
    name: str
    type: str = "numeric"
    label: str | None = None


class Importance(_Body):
    feature: str
    mean_abs_shap: float
    label: str | None = None


class ModelInfo(_Body):
    version: str
    model_family: str | None = None
    imbalance: str | None = None
    threshold: float
    cost_fn: float | None = None
    cost_fp: float | None = None
    metrics: dict[str, Any] = Field(default_factory=dict)
    features: list[FeatureInfo] = Field(default_factory=list)
    global_importance: list[Importance] = Field(default_factory=list)
    risk_bands: list[RiskBand] = Field(default_factory=list)
    model_card_summary: Any = None


class Score(_Body):
    sk_id_curr: int | None = None
    probability: float
    decision: str
    threshold: float
    risk_band: str | None = None
    model_version: str


class FeatureChange(_Body):
    feature: str
    label: str | None = None
    before: Any = None
    after: Any = None


class WhatIf(_Body):
    sk_id_curr: int
    model_version: str
    changes: dict[str, float] = {}
    official: Score
    scenario: Score
    feature_changes: list[FeatureChange] = []


class Contribution(_Body):
    feature: str
    label: str | None = None
    value: Any = None
    shap: float
    points: float | None = None       # scorecard: points earned
    best_points: float | None = None  # scorecard: points of the characteristic's best bin


class Reason(_Body):
    feature: str
    label: str | None = None
    value: Any = None
    shap: float
    direction: str
    sentence: str


class Explanation(_Body):
    sk_id_curr: int | None = None
    model_version: str
    base_value: float
    probability: float
    output_scale: str = "log_odds"
    score_points: float | None = None  # scorecard: the client's score (sum of the points)
    contributions: list[Contribution] = Field(default_factory=list)
    reasons: list[Reason] = Field(default_factory=list)


class DataField(_Body):
    name: str
    label: str | None = None
    value: Any = None
    unit: str | None = None


class FieldGroup(_Body):
    name: str
    fields: list[DataField] = Field(default_factory=list)


class Applicant(_Body):
    sk_id_curr: int
    dataset: str | None = None
    groups: list[FieldGroup] = Field(default_factory=list)


class Distribution(_Body):
    """A group's distribution of one feature; ``quantiles`` and ``histogram`` as the API sends them."""

    quantiles: Any = None
    histogram: Any = None


class FeatureComparison(_Body):
    feature: str
    label: str | None = None
    kind: str | None = None
    client_value: Any = None
    client_percentile: float | None = None
    all: Distribution | None = None
    similar: Distribution | None = None
    defaulters: Distribution | None = None
    non_defaulters: Distribution | None = None


class Comparison(_Body):
    sk_id_curr: int | None = None
    features: list[FeatureComparison] = Field(default_factory=list)


class DriftSummary(_Body):
    created_at: str | None = None
    model_version: str | None = None
    window: dict[str, Any] | None = None
    n_reference: int | None = None
    n_current: int | None = None
    columns: Any = None
    drifted_columns: Any = None
    share_drifted: float | None = None
    dataset_drift: bool | None = None
    psi: dict[str, float | None] = Field(default_factory=dict)
    psi_bands: dict[str, Any] | None = None
    prediction_drift: Any = None
