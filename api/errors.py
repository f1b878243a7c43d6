"""Exception handlers: clear messages naming the field or resource, never a stack trace to callers."""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.features import WarehouseUnavailable
from api.middleware import BodyLimit, UnhandledErrors
from api.model_store import ModelUnavailable
from api.new_applications import OnlineFeaturesUnavailable
from api.scoring import UnknownApplicants
from models_ml.errors import FeatureMismatchError
from warehouse.online import OnlineInputError

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


_ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[^\s/:'\"()]+/)*[^\s/:'\"()]*")


def public_message(request: Request, message: str) -> str:
    """``message`` without server paths: the configured folders by their setting's name, any other
    absolute path by its last part (the full message is in the server log)."""
    settings = getattr(getattr(request.app.state, "services", None), "settings", None)
    if settings is not None:
        for path, name in ((settings.artifacts, "$HC_ARTIFACTS"), (settings.warehouse, "$HC_WAREHOUSE")):
            for form in {str(path.resolve()), str(path.absolute())}:
                message = message.replace(form, name)
    return _ABSOLUTE_PATH.sub(lambda m: ".../" + m.group(0).rstrip("/").rsplit("/", 1)[-1], message)


async def _unavailable_handler(request: Request, exc: Exception) -> JSONResponse:
    log.warning("503: %s", exc)
    return JSONResponse(status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
                        content={"detail": public_message(request, str(exc))})


async def _feature_mismatch_handler(request: Request, exc: Exception) -> JSONResponse:
    log.error("model and warehouse disagree on features: %s", exc)
    return JSONResponse(
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        content={"detail": public_message(request, f"the model cannot score the warehouse's features: {exc}")},
    )


PARSE_ERROR = "There was an error parsing the body"


async def _http_handler(request: Request, exc: Exception) -> Response:
    """HTTP errors as `{detail}`; a body FastAPI cannot parse (invalid UTF-8, nesting too deep, a number too
    long) is an invalid request like any malformed JSON: 422 in the documented shape."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == status.HTTP_400_BAD_REQUEST and exc.detail == PARSE_ERROR:
        return await _validation_handler(request, unprocessable(
            ("body",), "the body is not valid JSON (invalid UTF-8, nesting too deep or a number too long)"))
    return await http_exception_handler(request, exc)


def install(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(UnknownApplicants, _unknown_handler)
    app.add_exception_handler(OnlineInputError, _online_input_handler)
    for unavailable in (ModelUnavailable, WarehouseUnavailable, OnlineFeaturesUnavailable):
        app.add_exception_handler(unavailable, _unavailable_handler)
    app.add_exception_handler(FeatureMismatchError, _feature_mismatch_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    # outermost first: unhandled errors answered (not re-raised), then the body size limit
    app.add_middleware(BodyLimit, max_body_size=app.state.services.settings.api_max_body_bytes)
    app.add_middleware(UnhandledErrors)
