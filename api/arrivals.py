"""Announces new-application requests to the online feature builder as soon as they arrive.

A pure ASGI middleware: a `POST /v1/score` is announced (`OnlineFeatures.announce`) when its headers
have arrived, before its body is read and validated, and marked answered when its response is sent (or
it failed). The route hands the announcement to `OnlineFeatures.build_rows` (`request.state.online_arrival`),
so that the leader of a build knows which requests are still coming (the gather window, see
`api.new_applications`).
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

ARRIVAL_KEY = "online_arrival"  # request.state.online_arrival
ANNOUNCED = ("POST", "/v1/score")


class OnlineArrivals:
    def __init__(self, app: ASGIApp, services: Any) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        online = self.services.online
        if scope["type"] != "http" or (scope.get("method"), scope.get("path")) != ANNOUNCED \
                or online.window_seconds <= 0:
            await self.app(scope, receive, send)
            return
        arrival = online.announce()
        scope.setdefault("state", {})[ARRIVAL_KEY] = arrival
        try:
            await self.app(scope, receive, send)
        finally:
            online.answered(arrival)
