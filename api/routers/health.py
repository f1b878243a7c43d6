"""Liveness (`/health`) and readiness (`/ready`); no key needed."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
from api.errors import public_message
from api.model_store import ModelUnavailable
from api.readiness import readiness
from api.schemas.responses import Health, Readiness

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Is the service up, with which model (always 200)")
def health(services: ServicesDep) -> Health:
    try:
        version = services.models.get().version
    except ModelUnavailable:
        version = None
    warehouse = services.features.status()
    status = "ok" if version is not None and warehouse == "ok" else "degraded"
    return Health(status=status, model_version=version, warehouse=warehouse)


@router.get(
    "/ready",
    response_model=Readiness,
    summary="Can this worker serve every route now (200) or not (503)",
    responses={503: {"model": Readiness, "description": "not ready: `missing` says what and why"}},
)
def ready(services: ServicesDep, request: Request) -> Readiness | JSONResponse:
    body = readiness(services)
    # reasons without server paths, like the 503 bodies of the scoring routes (api.errors.public_message)
    for item in body.missing:
        item.reason = public_message(request, item.reason)
    if body.refused_model:
        body.refused_model = public_message(request, body.refused_model)
    return body if body.ready else JSONResponse(status_code=503, content=body.model_dump(exclude_unset=True))
