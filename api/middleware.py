"""ASGI middleware that keep every error in the API's JSON shape.

- `BodyLimit`: bodies over `HC_API_MAX_BODY_BYTES` get 413 `{detail}` whether the size is announced
  (Content-Length, refused before reading) or only found while reading (chunked).
- `UnhandledErrors`: an exception no handler took is answered once with 500 `{detail, error_id}` and logged
  as its error id, type and code path -- never its message (it may quote personal data) -- and it is not
  re-raised (re-raising made uvicorn log the message and drop the keep-alive connection).
"""

from __future__ import annotations

import logging
import traceback
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("api.errors")


class _TooLarge(HTTPException):
    """Raised while reading an over-long body; an HTTPException so that FastAPI's body parsing passes it
    on (it turns other errors into a 400) and the exception handlers answer it as JSON."""

    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"request body larger than {limit} bytes")


def too_large(limit: int) -> JSONResponse:
    return JSONResponse(status_code=413, content={"detail": f"request body larger than {limit} bytes"})


class _TrackedSend:
    """Wraps `send` and records whether the response has started (after that, no error answer can follow)."""

    def __init__(self, send: Send) -> None:
        self.send = send
        self.started = False

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


class BodyLimit:
    def __init__(self, app: ASGIApp, max_body_size: int) -> None:
        self.app = app
        self.limit = max_body_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    announced = int(value)
                except ValueError:
                    announced = 0
                if announced > self.limit:
                    await too_large(self.limit)(scope, receive, send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise _TooLarge(self.limit)
            return message

        tracked = _TrackedSend(send)
        try:
            await self.app(scope, limited_receive, tracked)
        except _TooLarge:
            if tracked.started:
                raise
            await too_large(self.limit)(scope, receive, send)
        except BaseExceptionGroup as group:  # raised inside a task group (e.g. a threadpool endpoint)
            match, rest = group.split(_TooLarge)
            if match is None or rest is not None or tracked.started:
                raise
            await too_large(self.limit)(scope, receive, send)


def log_unhandled(scope: Scope, exc: BaseException) -> str:
    """Log an unhandled error as its id, type, route and code path (no message); return the id."""
    error_id = uuid.uuid4().hex[:12]
    route: Any = scope.get("route")
    # the code path as file:line in function, without source lines (a line may quote values)
    frames = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} in {f.name}"
                         for f in reversed(traceback.extract_tb(exc.__traceback__)))
    log.error("unhandled %s on %s %s [error %s] at %s", type(exc).__name__, scope.get("method", "?"),
              getattr(route, "path", "?"), error_id, frames)
    return error_id


class UnhandledErrors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        tracked = _TrackedSend(send)
        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            error_id = log_unhandled(scope, exc)
            if tracked.started:  # the answer is already under way: it ends short, the error is logged
                return
            response = JSONResponse(
                status_code=500,
                content={"detail": "internal error; quote this error id to the operator", "error_id": error_id},
            )
            await response(scope, receive, send)
