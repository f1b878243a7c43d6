"""The API client turns every failure into a clear ApiError (real HTTP against a misbehaving server)."""

from __future__ import annotations

import time

import pytest

from dashboard.client import (
    ApiAuthError,
    ApiClient,
    ApiNotFound,
    ApiResponseError,
    ApiUnavailable,
    ApiValidationError,
)
from dashboard.settings import DashboardSettings

SCORE = {
    "sk_id_curr": 7,
    "probability": 0.2,
    "decision": "refuse",
    "threshold": 0.1,
    "risk_band": "high",
    "model_version": "v1",
}


def _client(url: str, **kw) -> ApiClient:
    kw.setdefault("retries", 0)
    kw.setdefault("backoff", 0.01)
    return ApiClient(url, "secret-key-123", **kw)


def test_sends_the_key_and_parses_the_score(odd_server):
    seen = {}

    def score(h):
        seen["key"] = h.headers.get("X-API-Key")
        h.send_json(200, SCORE)

    odd_server.routes["/v1/applicants/7/score"] = score
    result = _client(odd_server.url).score(7)
    assert seen["key"] == "secret-key-123"
    assert (result.probability, result.decision, result.model_version) == (0.2, "refuse", "v1")


@pytest.mark.parametrize(
    ("status", "needle"), [(401, "sent none (HTTP 401)"), (403, "refused the dashboard's API key")]
)
def test_auth_errors_say_what_to_fix_without_leaking_the_key(odd_server, status, needle):
    odd_server.routes["/v1/model"] = lambda h: h.send_json(status, {"detail": "nope"})
    with pytest.raises(ApiAuthError) as err:
        _client(odd_server.url).model()
    assert needle in err.value.message and "HC_API_KEY" in err.value.message
    assert "secret-key-123" not in err.value.message


def test_unknown_applicant_is_not_found_with_the_id(odd_server):
    with pytest.raises(ApiNotFound, match="No applicant with id 424242"):
        _client(odd_server.url).explanation(424242)


def test_validation_errors_name_the_field(odd_server):
    detail = [{"loc": ["body", "AMT_INCOME_TOTAL"], "msg": "Input should be greater than or equal to 0"}]
    odd_server.routes["/v1/score"] = lambda h: h.send_json(422, {"detail": detail})
    with pytest.raises(ApiValidationError) as err:
        _client(odd_server.url).score_application({"AMT_INCOME_TOTAL": -1})
    assert err.value.errors == [("AMT_INCOME_TOTAL", "Input should be greater than or equal to 0")]
    assert "AMT_INCOME_TOTAL: Input should be greater than or equal to 0" in err.value.message


def test_server_error_is_unavailable(odd_server):
    odd_server.routes["/health"] = lambda h: h.send_json(500, {"detail": "boom"})
    with pytest.raises(ApiUnavailable, match="HTTP 500"):
        _client(odd_server.url).health()


def test_a_transient_503_is_retried_for_reads(odd_server):
    calls = []

    def flaky(h):
        calls.append(1)
        if len(calls) == 1:
            h.send_json(503, {"detail": "restarting"})
        else:
            h.send_json(200, {"status": "ok", "model_version": "v9", "warehouse": "ok"})

    odd_server.routes["/health"] = flaky
    assert _client(odd_server.url, retries=1).health().model_version == "v9"
    assert len(calls) == 2


def test_a_slow_api_times_out_with_a_message(odd_server):
    def slow(h):
        time.sleep(1.5)
        h.send_json(200, SCORE)

    odd_server.routes["/v1/applicants/7/score"] = slow
    with pytest.raises(ApiUnavailable, match=r"did not answer within 0.3 s"):
        _client(odd_server.url, timeout=0.3).score(7)


def test_nothing_listening_is_unavailable(closed_port_url):
    url = closed_port_url
    with pytest.raises(ApiUnavailable, match="cannot be reached"):
        _client(url, retries=1).health()


def test_unexpected_bodies_are_response_errors(odd_server):
    def not_json(h):
        h.send_response(200)
        h.send_header("Content-Length", "5")
        h.end_headers()
        h.wfile.write(b"hello")

    odd_server.routes["/health"] = not_json
    with pytest.raises(ApiResponseError, match="not JSON"):
        _client(odd_server.url).health()
    odd_server.routes["/v1/applicants/7/score"] = lambda h: h.send_json(200, {"probability": "high"})
    with pytest.raises(ApiResponseError, match="expected shape"):
        _client(odd_server.url).score(7)


def test_missing_drift_report_is_none(odd_server):
    assert _client(odd_server.url).drift_latest() is None


def test_settings_read_the_documented_variables(monkeypatch):
    monkeypatch.setenv("HC_API_URL", "http://example.invalid:9000/")
    monkeypatch.setenv("HC_API_KEY", "k")
    monkeypatch.setenv("HC_API_TIMEOUT", "1.5")
    s = DashboardSettings()
    assert s.api_url == "http://example.invalid:9000"
    assert s.api_key.get_secret_value() == "k" and s.api_timeout == 1.5
    client = ApiClient.from_settings(s)
    assert client.base_url == "http://example.invalid:9000" and "k" not in client.identity
    monkeypatch.setenv("HC_API_URL", "ftp://nope")
    with pytest.raises(ValueError, match="HC_API_URL must start with http"):
        DashboardSettings()
    monkeypatch.delenv("HC_API_URL")
    monkeypatch.delenv("HC_API_KEY")
    monkeypatch.delenv("HC_API_TIMEOUT")
    assert DashboardSettings().api_url == "http://127.0.0.1:8000"
