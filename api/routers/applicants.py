"""A known applicant: the client's data, the explanation of the score, comparisons with other clients."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query

from api.convert import scalar
from api.deps import ApiKeyDep, FeaturesDep, ModelDep, ServicesDep
from api.errors import unprocessable
from api.features import kind_of
from api.profile import profile_groups
from api.routers.scoring import NOT_FOUND, SkIdCurr, not_found
from api.schemas.requests import WhatIfRequest
from api.schemas.responses import Comparison, ExplanationOut, Profile, WhatIf

router = APIRouter(prefix="/v1/applicants", tags=["applicants"])

MAX_COMPARED = 20
DEFAULT_COMPARED = 5


@router.get("/{sk_id_curr}", response_model=Profile, responses=NOT_FOUND,
            summary="The client's own data, grouped and labelled")
def applicant(sk_id_curr: SkIdCurr, _: ApiKeyDep, features: FeaturesDep) -> dict[str, Any]:
    row = features.get(sk_id_curr)
    if row is None:
        raise not_found(sk_id_curr)
    record = row.iloc[0]
    return {"sk_id_curr": sk_id_curr, "dataset": str(record["dataset"]), "groups": profile_groups(record)}


@router.get("/{sk_id_curr}/explanation", response_model=ExplanationOut, responses=NOT_FOUND,
            summary="Why this score: SHAP contributions and the top reasons in plain language")
def explanation(
    sk_id_curr: SkIdCurr,
    _: ApiKeyDep,
    model: ModelDep,
    services: ServicesDep,
    top: Annotated[int, Query(ge=1, le=1000, description="contributions returned (largest |shap| first)")] = 20,
    reasons: Annotated[int, Query(ge=1, le=20, description="plain-language reasons returned")] = 5,
) -> dict[str, Any]:
    probability, expl = services.explanation(model, sk_id_curr)
    if expl.output_scale == "points":
        return _points_explanation(sk_id_curr, model, probability, expl, top, reasons)
    values = expl.values[0]
    data = expl.data.iloc[0]
    names = list(expl.feature_names)
    order = sorted(range(len(names)), key=lambda j: -abs(float(values[j])))[:top]
    contributions = [
        {"feature": names[j], "label": model.label(names[j]), "value": scalar(data.iloc[j]), "shap": float(values[j])}
        for j in order
    ]
    reason_list = [
        {**r, "value": scalar(r.get("value")), "shap": float(r["shap"])}
        for r in model.reasons(expl, row=0, top_k=reasons)
    ]
    return {
        "sk_id_curr": sk_id_curr,
        "model_version": model.version,
        "base_value": float(expl.base_value),
        "output_scale": str(getattr(expl, "output_scale", "log_odds")),
        "probability": probability,
        "contributions": contributions,
        "reasons": reason_list,
    }


def _points_explanation(sk_id_curr: int, model: Any, probability: float, expl: Any, top: int,
                        reasons: int) -> dict[str, Any]:
    """A scorecard's explanation: the points each characteristic earned, exactly additive to the score."""
    earned, best = expl.values[0], expl.best_points
    data = expl.data.iloc[0]
    names = list(expl.feature_names)
    chars = [j for j in range(len(names)) if best[j] == best[j]]  # NaN: not a characteristic
    order = sorted(chars, key=lambda j: (float(earned[j] - best[j]), names[j]))[:top]
    contributions = [
        {"feature": names[j], "label": model.label(names[j]), "value": scalar(data.iloc[j]),
         "shap": float(earned[j] - best[j]), "points": float(earned[j]), "best_points": float(best[j])}
        for j in order
    ]
    reason_list = [{**r, "value": scalar(r.get("value"))} for r in model.reasons(expl, row=0, top_k=reasons)]
    return {
        "sk_id_curr": sk_id_curr, "model_version": model.version,
        "base_value": float(expl.base_value + sum(float(best[j]) for j in chars)), "output_scale": "points",
        "score_points": float(expl.base_value + sum(float(earned[j]) for j in chars)),
        "probability": probability, "contributions": contributions, "reasons": reason_list,
    }


@router.get("/{sk_id_curr}/comparison", response_model=Comparison, responses=NOT_FOUND,
            summary="The client against all clients, similar clients, defaulters and non-defaulters")
def comparison(
    sk_id_curr: SkIdCurr,
    _: ApiKeyDep,
    services: ServicesDep,
    features: FeaturesDep,
    feature_list: Annotated[str | None, Query(
        alias="features", max_length=2000,
        description="comma-separated warehouse feature names; default: the model's most important ones",
        examples=["ext_source_2,amt_income_total"])] = None,
) -> dict[str, Any]:
    types = features.types
    if feature_list:
        names = list(dict.fromkeys(n.strip() for n in feature_list.split(",") if n.strip()))
    else:
        model = services.models.loaded
        ranked = model.metadata.importance_order if model else []
        names = [n for n in ranked if n in types][:DEFAULT_COMPARED]
    unknown = [n for n in names if n not in types or n in ("sk_id_curr", "dataset", "target")]
    if unknown:
        raise unprocessable(("query", "features"), f"unknown feature(s): {', '.join(unknown[:10])}; "
                            "use column names of applicant_features (see GET /v1/model)")
    if not names or len(names) > MAX_COMPARED:
        raise unprocessable(("query", "features"), f"give between 1 and {MAX_COMPARED} feature names")
    result = services.comparison().compare(sk_id_curr, names)
    if result is None:
        raise not_found(sk_id_curr)
    for item in result:
        item["kind"] = item.get("kind") or kind_of(types[item["feature"]])
    return {"sk_id_curr": sk_id_curr, "features": result}


@router.post("/{sk_id_curr}/what-if", response_model=WhatIf, responses=NOT_FOUND,
             summary="Re-score a known applicant with some application values changed",
             description="The applicant's stored application gets the changed values; its credit history "
                         "aggregates are kept; the application features and the mart are recomputed by the "
                         "warehouse's own SQL. Hypothetical scores are not written to the request log.")
def what_if(
    sk_id_curr: SkIdCurr,
    changes: Annotated[WhatIfRequest, Body()],  # type: ignore[valid-type]
    _: ApiKeyDep,
    model: ModelDep,
    services: ServicesDep,
) -> dict[str, Any]:
    values = {k: v for k, v in changes.model_dump().items() if v is not None}
    return services.what_if(model, sk_id_curr, values)
