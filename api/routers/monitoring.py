"""Drift monitoring results."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status

from api.deps import KEY_REQUIRED, SettingsDep
from api.schemas.responses import DriftSummary

router = APIRouter(prefix="/v1/monitoring", tags=["monitoring"], dependencies=KEY_REQUIRED)


@router.get(
    "/drift/latest",
    summary="The latest drift summary (summary.json of the newest drift report)",
    response_model=DriftSummary,
    response_model_exclude_unset=True,  # the file as it is, no keys added
    responses={404: {"description": "no drift report yet"}},
)
def latest_drift(settings: SettingsDep) -> DriftSummary:
    path = settings.drift_summary
    try:
        return DriftSummary.model_validate_json(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, detail="no drift report yet: run `make drift` to produce one"
        ) from exc
    except (OSError, ValueError) as exc:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE, detail="the latest drift summary cannot be read"
        ) from exc
