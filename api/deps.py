"""Dependencies of the routes, as `Annotated` aliases (`ApiKeyDep`, `ModelDep`, ...)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security, status
from fastapi.security import APIKeyHeader

from api.features import FeatureStore
from api.scoring_model import ScoringModel
from api.services import Services
from api.settings import ApiSettings

API_KEY_HEADER = "X-API-Key"
_api_key_header = APIKeyHeader(
    name=API_KEY_HEADER,
    auto_error=False,
    description="An API key given by the operator (HC_API_KEYS in development, HC_API_KEYS_FILE in production).",
)


async def get_services(request: Request) -> Services:
    return request.app.state.services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_settings(services: ServicesDep) -> ApiSettings:
    return services.settings


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]


async def require_api_key(services: ServicesDep, key: Annotated[str | None, Security(_api_key_header)]) -> str:
    """401 without a key, 403 with a key that is not accepted. Whitespace around the key is ignored
    (stripped here as in HC_API_KEYS and `python -m api.security`)."""
    key = (key or "").strip()
    if not key:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail=f"missing API key: send it in the {API_KEY_HEADER} header",
            headers={"WWW-Authenticate": API_KEY_HEADER},
        )
    if not services.keys.verify(key):
        raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid API key")
    return key


ApiKeyDep = Annotated[str, Depends(require_api_key)]
KEY_REQUIRED = [Depends(require_api_key)]  # a router's `dependencies`: every route of it needs a key


async def get_model(services: ServicesDep, request: Request) -> ScoringModel:
    """The current model (ModelUnavailable -> 503 by the exception handlers)."""
    model = services.models.get()
    request.state.model_version = getattr(model, "version", None)  # for the access log line
    return model


ModelDep = Annotated[ScoringModel, Depends(get_model)]


async def get_features(services: ServicesDep) -> FeatureStore:
    return services.features


FeaturesDep = Annotated[FeatureStore, Depends(get_features)]
