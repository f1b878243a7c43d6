"""Exception handlers: clear messages naming the field or resource, never a stack trace to callers."""

from __future__ import annotations

import logging
import traceback
import uuid
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.features import WarehouseUnavailable
from api.model_store import ModelUnavailable
from api.new_applications import OnlineFeaturesUnavailable
from api.services import UnknownApplicants

log = logging.getLogger("api.errors")


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    """("body", "bureau", 3, "AMT_CREDIT_SUM") -> "body.bureau[3].AMT_CREDIT_SUM"."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validation_errors(errors: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Pydantic errors without the echoed input, each naming its field."""
    out = []
    for err in errors:
        ctx = err.get("ctx") or {}
        loc = [*err.get("loc", ()), *(ctx.get("at") or [])]  # a whole-model rule naming its field
        field = _where(loc)
        msg = str(err.get("msg", "invalid value")).removeprefix("Value error, ")
        out.append({"field": field, "loc": loc, "msg": msg, "type": err.get("type")})
    return out


def unprocessable(loc: tuple[str | int, ...], msg: str) -> RequestValidationError:
    """A 422 for a rule checked in a route (same body shape as pydantic's errors)."""
    return RequestValidationError([{"loc": loc, "msg": msg, "type": "value_error"}])


async def _validation_handler(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = validation_errors(list(exc.errors()))
    summary = "; ".join(f"{e['field']}: {e['msg']}" for e in errors[:5])
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return JSONResponse(
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
        content={"detail": errors, "message": f"invalid request: {summary}{more}"},
    )


async def _unknown_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_404_NOT_FOUND, content={"detail": str(exc)})


async def _online_input_handler(request: Request, exc: Exception) -> JSONResponse:
    return await _validation_handler(request, unprocessable(("body",), str(exc)))


async def _unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=status.HTTP_503_SERVICE_UNAVAILABLE, content={"detail": str(exc)})


async def _feature_mismatch_handler(request: Request, exc: Exception) -> JSONResponse:
    log.error("model and warehouse disagree on features: %s", exc)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": f"the model cannot score the warehouse's features: {exc}"},
    )


async def _unhandled_handler(request: Request, exc: Exception) -> JSONResponse:
    error_id = uuid.uuid4().hex[:12]
    route = request.scope.get("route")
    # The exception message may quote values; log the type and the code path only (no personal data).
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unhandled %s on %s %s [error %s]\n%s", type(exc).__name__, request.method,
              getattr(route, "path", "?"), error_id, frames)
    return JSONResponse(
        status_code=status.HTTP_500_INTERNAL_SERVER_ERROR,
        content={"detail": "internal error; quote this error id to the operator", "error_id": error_id},
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(UnknownApplicants, _unknown_handler)
    try:
        from warehouse.online import OnlineInputError

        app.add_exception_handler(OnlineInputError, _online_input_handler)
    except ImportError:  # pragma: no cover
        pass
    for unavailable in (ModelUnavailable, WarehouseUnavailable, OnlineFeaturesUnavailable):
        app.add_exception_handler(unavailable, _unavailable_handler)
    try:
        from models_ml.errors import FeatureMismatchError

        app.add_exception_handler(FeatureMismatchError, _feature_mismatch_handler)
    except ImportError:  # pragma: no cover
        pass
    app.add_exception_handler(Exception, _unhandled_handler)
