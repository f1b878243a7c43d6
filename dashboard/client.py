"""HTTP client of the scoring API: timeouts, bounded retries, clear errors, typed answers.

Every failure becomes an :class:`ApiError` whose ``message`` is written for the officer (what went
wrong and what to do), never a traceback. The API key is sent in the ``X-API-Key`` header and never
appears in a message.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any, TypeVar

import requests
from pydantic import BaseModel, ValidationError

from dashboard.schemas import (
    Applicant,
    Comparison,
    DriftSummary,
    Explanation,
    Health,
    ModelInfo,
    Score,
    WhatIf,
)
from dashboard.settings import DashboardSettings

T = TypeVar("T", bound=BaseModel)

# Statuses worth another try: the service is restarting or a proxy in front of it is.
_RETRY_STATUSES = frozenset({502, 503, 504})


class ApiError(Exception):
    """A call to the scoring API failed; ``message`` is the text shown to the officer."""

    kind = "error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ApiUnavailable(ApiError):
    """The service cannot be reached, is too slow, or failed on its side (5xx)."""

    kind = "unavailable"


class ApiAuthError(ApiError):
    """The service refused the dashboard's API key (401 without a key, 403 with a wrong one)."""

    kind = "auth"


class ApiNotFound(ApiError):
    """The requested resource (usually an applicant id) does not exist."""

    kind = "not_found"


class ApiValidationError(ApiError):
    """The service rejected the values sent (422); ``errors`` lists ``(field, problem)`` pairs."""

    kind = "invalid"

    def __init__(self, message: str, errors: list[tuple[str, str]], *, status: int | None = 422) -> None:
        super().__init__(message, status=status)
        self.errors = errors


class ApiResponseError(ApiError):
    """The service answered something the dashboard does not understand."""

    kind = "response"


def _detail(response: requests.Response) -> Any:
    try:
        body = response.json()
    except ValueError:
        return response.text[:300] or None
    return body.get("detail", body) if isinstance(body, dict) else body


def _field_errors(detail: Any) -> list[tuple[str, str]]:
    """FastAPI's 422 ``detail`` (a list of ``{loc, msg}``) as readable ``(field, problem)`` pairs."""
    if isinstance(detail, list):
        errors = []
        for item in detail:
            if not isinstance(item, Mapping):
                errors.append(("request", str(item)))
                continue
            field = item.get("field")
            if isinstance(field, str) and field:
                name = field.removeprefix("body.").removeprefix("query.").removeprefix("path.")
            else:
                loc = [str(part) for part in item.get("loc", []) if part not in ("body", "query", "path")]
                name = ".".join(loc)
            errors.append((name or "request", str(item.get("msg", item))))
        return errors
    if detail:
        return [("request", str(detail))]
    return [("request", "the values were rejected")]


class ApiClient:
    """Synchronous client of the scoring API, one per dashboard run (cheap to build)."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout: float = 5.0,
        connect_timeout: float = 2.0,
        retries: int = 1,
        backoff: float = 0.25,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._api_key = api_key
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.backoff = backoff
        self._session = session or requests.Session()

    @classmethod
    def from_settings(cls, settings: DashboardSettings) -> ApiClient:
        key = settings.api_key.get_secret_value() if settings.api_key else None
        return cls(
            settings.api_url,
            key,
            timeout=settings.api_timeout,
            connect_timeout=settings.api_connect_timeout,
            retries=settings.api_retries,
        )

    @property
    def identity(self) -> str:
        """Which service and which key: part of every cache key, without revealing the key."""
        key_hash = hashlib.sha256((self._api_key or "").encode()).hexdigest()[:16]
        return f"{self.base_url}#{key_hash}"

    # -- transport -------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        what: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        not_found: str | None = None,
    ) -> Any:
        url = f"{self.base_url}{path}"
        headers = {"Accept": "application/json"}
        if self._api_key:
            headers["X-API-Key"] = self._api_key
        # Reads are safe to repeat; a POST is repeated only when the connection was never made.
        attempts = 1 + self.retries
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._session.request(
                    method,
                    url,
                    params=params,
                    json=json,
                    headers=headers,
                    timeout=(self.connect_timeout, self.timeout),
                )
            except requests.exceptions.ConnectTimeout as exc:
                if not last:
                    self._sleep(attempt)
                    continue
                raise ApiUnavailable(
                    f"The scoring service at {self.base_url} did not accept a connection within "
                    f"{self.connect_timeout:g} s while loading {what}. Check that the API is running "
                    "(`make api`) and that HC_API_URL points to it."
                ) from exc
            except requests.exceptions.ReadTimeout as exc:
                if not last and method == "GET":
                    self._sleep(attempt)
                    continue
                raise ApiUnavailable(
                    f"The scoring service at {self.base_url} did not answer within {self.timeout:g} s "
                    f"while loading {what}. It may be busy: try again in a moment."
                ) from exc
            except requests.exceptions.ConnectionError as exc:
                if not last:
                    self._sleep(attempt)
                    continue
                raise ApiUnavailable(
                    f"The scoring service at {self.base_url} cannot be reached while loading {what} "
                    "(connection refused or host unknown). Check that the API is running (`make api`) "
                    "and that HC_API_URL points to it."
                ) from exc
            except requests.exceptions.RequestException as exc:
                raise ApiUnavailable(
                    f"The request to the scoring service for {what} failed: {type(exc).__name__}."
                ) from exc
            if response.status_code in _RETRY_STATUSES and method == "GET" and not last:
                self._sleep(attempt)
                continue
            return self._decode(response, what=what, not_found=not_found)
        raise AssertionError("unreachable")  # pragma: no cover

    def _sleep(self, attempt: int) -> None:
        time.sleep(self.backoff * (2**attempt))

    def _decode(self, response: requests.Response, *, what: str, not_found: str | None) -> Any:
        status = response.status_code
        if status == 401:
            raise ApiAuthError(
                "The scoring service requires an API key and the dashboard sent none (HTTP 401). "
                "Set HC_API_KEY for the dashboard to a key the API accepts.",
                status=status,
            )
        if status == 403:
            raise ApiAuthError(
                "The scoring service refused the dashboard's API key (HTTP 403). "
                "Check that HC_API_KEY matches a key configured on the API.",
                status=status,
            )
        if status == 404:
            raise ApiNotFound(not_found or f"The scoring service has no {what} (HTTP 404).", status=status)
        if status == 413:
            raise ApiValidationError(
                f"The request for {what} is too large for the scoring service (HTTP 413).",
                [("request", "too large")],
                status=status,
            )
        if status in (400, 422):
            errors = _field_errors(_detail(response))
            listing = "; ".join(f"{field}: {problem}" for field, problem in errors)
            raise ApiValidationError(
                f"The scoring service rejected the values sent for {what}: {listing}.", errors, status=status
            )
        if status >= 500:
            raise ApiUnavailable(
                f"The scoring service failed while preparing {what} (HTTP {status}). "
                "Try again; if it persists, tell the platform team.",
                status=status,
            )
        if status >= 300:
            raise ApiResponseError(
                f"The scoring service answered HTTP {status} for {what}: {_detail(response)!s:.200}",
                status=status,
            )
        try:
            return response.json()
        except ValueError as exc:
            raise ApiResponseError(
                f"The scoring service sent a response for {what} that is not JSON.", status=status
            ) from exc

    @staticmethod
    def _parse(model: type[T], body: Any, what: str) -> T:
        try:
            return model.model_validate(body)
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in exc.errors()[:3]
            )
            raise ApiResponseError(
                f"The scoring service's answer for {what} does not have the expected shape ({problems}). "
                "The dashboard and the API may be at different versions."
            ) from exc

    # -- endpoints (docs/interfaces.md) ----------------------------------------------------------

    def health(self) -> Health:
        return self._parse(Health, self._request("GET", "/health", what="the service status"), "/health")

    def model(self) -> ModelInfo:
        body = self._request("GET", "/v1/model", what="the model description")
        return self._parse(ModelInfo, body, "/v1/model")

    def score(self, applicant_id: int) -> Score:
        body = self._request(
            "GET",
            f"/v1/applicants/{applicant_id}/score",
            what=f"the score of applicant {applicant_id}",
            not_found=_unknown_applicant(applicant_id),
        )
        return self._parse(Score, body, "the score")

    def explanation(self, applicant_id: int, top: int | None = None) -> Explanation:
        """The explanation; ``top`` asks for that many contributions (the API's default otherwise)."""
        body = self._request(
            "GET",
            f"/v1/applicants/{applicant_id}/explanation",
            params={"top": top} if top else None,
            what=f"the explanation for applicant {applicant_id}",
            not_found=_unknown_applicant(applicant_id),
        )
        return self._parse(Explanation, body, "the explanation")

    def applicant(self, applicant_id: int) -> Applicant:
        body = self._request(
            "GET",
            f"/v1/applicants/{applicant_id}",
            what=f"the data of applicant {applicant_id}",
            not_found=_unknown_applicant(applicant_id),
        )
        return self._parse(Applicant, body, "the client's data")

    def comparison(self, applicant_id: int, features: tuple[str, ...]) -> Comparison:
        body = self._request(
            "GET",
            f"/v1/applicants/{applicant_id}/comparison",
            params={"features": ",".join(features)},
            what=f"the comparison of applicant {applicant_id}",
            not_found=_unknown_applicant(applicant_id),
        )
        return self._parse(Comparison, body, "the comparison")

    def what_if(self, applicant_id: int, changes: Mapping[str, float]) -> WhatIf:
        """The applicant re-scored with some application values changed (its own history kept)."""
        body = self._request(
            "POST",
            f"/v1/applicants/{applicant_id}/what-if",
            json=dict(changes),
            what="the what-if score",
            not_found=_unknown_applicant(applicant_id),
        )
        return self._parse(WhatIf, body, "the what-if score")

    def score_application(self, payload: Mapping[str, Any]) -> Score:
        body = self._request("POST", "/v1/score", json=dict(payload), what="the new score")
        return self._parse(Score, body, "the new score")

    def drift_latest(self) -> DriftSummary | None:
        """The latest drift summary, or ``None`` when no report has been produced yet."""
        try:
            body = self._request("GET", "/v1/monitoring/drift/latest", what="the latest drift report")
        except ApiNotFound:
            return None
        return self._parse(DriftSummary, body, "the drift summary")

    def openapi(self) -> dict[str, Any]:
        body = self._request("GET", "/openapi.json", what="the API schema")
        if not isinstance(body, dict):
            raise ApiResponseError("The scoring service's OpenAPI schema is not a JSON object.")
        return body


def _unknown_applicant(applicant_id: int) -> str:
    return (
        f"No applicant with id {applicant_id} is known to the scoring service. "
        "Check the number on the application file."
    )
