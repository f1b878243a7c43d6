"""A known applicant: the client's data, the explanation of the score, comparisons with other clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query

from api.deps import KEY_REQUIRED, FeaturesDep, ModelDep, ServicesDep
from api.profile import profile_groups
from api.routers.scoring import NOT_FOUND, SkIdCurr, not_found
from api.schemas.requests import WhatIfRequest
from api.schemas.responses import Comparison, ExplanationOut, Profile, WhatIf

router = APIRouter(prefix="/v1/applicants", tags=["applicants"], dependencies=KEY_REQUIRED)

@router.get("/{sk_id_curr}", response_model=Profile, responses=NOT_FOUND,
            summary="The client's own data, grouped and labelled")
def applicant(sk_id_curr: SkIdCurr, features: FeaturesDep) -> Profile:
    row = features.get(sk_id_curr)
    if row is None:
        raise not_found(sk_id_curr)
    record = row.iloc[0]
    return Profile(sk_id_curr=sk_id_curr, dataset=str(record["dataset"]), groups=profile_groups(record))


@router.get("/{sk_id_curr}/explanation", response_model=ExplanationOut, responses=NOT_FOUND,
            summary="Why this score: SHAP contributions and the top reasons in plain language")
async def explanation(
    sk_id_curr: SkIdCurr,
    model: ModelDep,
    services: ServicesDep,
    top: Annotated[int, Query(ge=1, le=1000, description="contributions returned (largest |shap| first)")] = 20,
    reasons: Annotated[int, Query(ge=1, le=20, description="plain-language reasons returned")] = 5,
) -> ExplanationOut:
    return await services.explanations.explain(model, sk_id_curr, top, reasons)


@router.get("/{sk_id_curr}/comparison", response_model=Comparison, responses=NOT_FOUND,
            summary="The client against all clients, similar clients, defaulters and non-defaulters")
def comparison(
    sk_id_curr: SkIdCurr,
    services: ServicesDep,
    feature_list: Annotated[str | None, Query(
        alias="features", max_length=2000,
        description="comma-separated warehouse feature names; default: the model's most important ones",
        examples=["ext_source_2,amt_income_total"])] = None,
) -> Comparison:
    names = list(dict.fromkeys(n.strip() for n in feature_list.split(",") if n.strip())) if feature_list else None
    result = services.compare(sk_id_curr, names)
    if result is None:
        raise not_found(sk_id_curr)
    return result


@router.post("/{sk_id_curr}/what-if", response_model=WhatIf, responses=NOT_FOUND,
             summary="Re-score a known applicant with some application values changed",
             description="The applicant's stored application gets the changed values; its credit history "
                         "aggregates are kept; the application features and the mart are recomputed by the "
                         "warehouse's own SQL. Hypothetical scores are not written to the request log.")
def what_if(
    sk_id_curr: SkIdCurr,
    changes: Annotated[WhatIfRequest, Body()],  # type: ignore[valid-type]
    model: ModelDep,
    services: ServicesDep,
) -> WhatIf:
    values = {k: v for k, v in changes.model_dump().items() if v is not None}
    return services.what_if.what_if(model, sk_id_curr, values)
