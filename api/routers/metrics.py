"""`GET /metrics`: Prometheus exposition of every worker (see api/metrics.py and docs/deploy.md).

Protected like the scoring routes by default (`HC_API_METRICS_AUTH=key`): the API key in `X-API-Key`, or
as `Authorization: Bearer <key>` (what Prometheus' `authorization` scrape setting sends). The figures
hold no personal data, but decision counts and score distributions are business information;
`HC_API_METRICS_AUTH=none` opens it when only the monitoring network can reach the port.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Response, Security, status

from api import metrics
from api.deps import API_KEY_HEADER, ServicesDep, _api_key_header

router = APIRouter(tags=["health"])


def _presented_key(x_api_key: str | None, authorization: str | None) -> str | None:
    if x_api_key:
        return x_api_key
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip() or None
    return None


@router.get(
    "/metrics",
    summary="Prometheus metrics of every worker (API key unless HC_API_METRICS_AUTH=none)",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}},
)
def prometheus_metrics(
    services: ServicesDep,
    x_api_key: Annotated[str | None, Security(_api_key_header)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    if services.settings.api_metrics_auth == "key":
        key = _presented_key(x_api_key, authorization)
        if not key:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail=f"missing API key: send it in the {API_KEY_HEADER} header or as "
                "Authorization: Bearer <key>",
                headers={"WWW-Authenticate": API_KEY_HEADER},
            )
        if not services.keys.verify(key):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail="invalid API key")
    body, content_type = metrics.render()
    return Response(content=body, media_type=content_type)
