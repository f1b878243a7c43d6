"""Per-request observability: request id, JSON access log line, Prometheus request metrics.

A pure ASGI middleware (no body buffering). Each request gets an id (`X-Request-ID` of the caller when
it is a UUID or 32 hex digits, a new one otherwise), returned in the `X-Request-ID` response header and
written in the access log line with the route template (never the raw path: it holds applicant ids, nor
the query string), the method, status, latency in ms and the model version that answered.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import metrics
from api.access_log import log_request

REQUEST_ID_HEADER = "X-Request-ID"
_SAFE_ID = re.compile(
    r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)
MODEL_VERSION_KEY = "model_version"  # request.state.model_version, set by the ModelDep


def route_template(scope: Scope) -> str:
    """`/v1/applicants/{sk_id_curr}/score` for a matched route, `<unmatched>` otherwise."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else metrics.UNMATCHED


def request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SAFE_ID.match(candidate):
                return candidate.lower()
            break
    return uuid.uuid4().hex


class ObservabilityMiddleware:
    def __init__(self, app: ASGIApp, services: Any, access_log_on: bool = True) -> None:
        self.app = app
        self.services = services
        self.access_log_on = access_log_on

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        rid = request_id(scope)
        scope.setdefault("state", {})["request_id"] = rid
        status = 500  # until a response starts: an exception before it is answered 500 by Starlette
        header = (REQUEST_ID_HEADER.lower().encode(), rid.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._record(scope, rid, status, time.perf_counter() - started)

    def _record(self, scope: Scope, rid: str, status: int, seconds: float) -> None:
        route = route_template(scope)
        method = scope.get("method", "?")
        loaded = getattr(self.services.models, "loaded", None)
        served = getattr(loaded, "version", None)
        metrics.set_model_version(served)
        metrics.observe_request(method, route, status, seconds)
        if self.access_log_on:  # the version the route used (set by the ModelDep), else the one loaded now
            log_request(
                rid, method, route, status, seconds, scope.get("state", {}).get(MODEL_VERSION_KEY, served)
            )
