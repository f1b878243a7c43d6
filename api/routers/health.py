"""Liveness / readiness (no key needed)."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import ServicesDep
from api.model_store import ModelUnavailable
from api.schemas.responses import Health

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health, summary="Is the service up, with which model")
def health(services: ServicesDep) -> Health:
    try:
        version = services.models.get().version
    except ModelUnavailable:
        version = None
    warehouse = services.features.status()
    status = "ok" if version is not None and warehouse == "ok" else "degraded"
    return Health(status=status, model_version=version, warehouse=warehouse)
