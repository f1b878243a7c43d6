"""Liveness (`/health`) and readiness (`/ready`); no key needed."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.deps import ServicesDep
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
def ready(services: ServicesDep) -> Any:
    body = readiness(services)
    return body if body["ready"] else JSONResponse(status_code=503, content=body)
