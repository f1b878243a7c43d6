"""Property-based fuzzing of the OpenAPI schema (schemathesis): no input makes the API answer 5xx,
and every documented response matches its schema. Bounded examples keep it under a minute.

(`schemathesis.pytest.from_fixture` does not run under pytest 9 -- it reads `node._nodeid` -- so each
operation's Hypothesis strategy is driven here directly.)"""

from __future__ import annotations

import os
import time

import pytest
import schemathesis
from api_helpers import API_KEY, api_settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.main import create_app

# `make fuzz` runs many more examples per operation (HC_FUZZ_EXAMPLES, default there 500); CI keeps it short
FUZZ_EXAMPLES = int(os.environ.get("HC_FUZZ_EXAMPLES", "0"))
EXAMPLES = {"POST /v1/score": 20, "POST /v1/score/batch": 20} if not FUZZ_EXAMPLES else {}
DEFAULT_EXAMPLES = FUZZ_EXAMPLES or 12


@pytest.fixture(scope="module")
def operations(api_env):
    app = create_app(api_settings(api_env))
    with TestClient(app) as client:  # runs the lifespan: model, warehouse and comparison index loaded once
        deadline = time.monotonic() + 120
        while client.get("/ready").status_code != 200 and time.monotonic() < deadline:  # bulk scores computed
            time.sleep(0.2)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        yield [result.ok() for result in schema.get_all_operations()]


def _run(operation, examples: int, check) -> None:
    @given(case=operation.as_strategy())
    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True,
              database=None)
    def fuzz(case) -> None:
        check(case)

    fuzz()


def _until_ready(case, timeout: float = 30.0) -> None:
    """Wait until `/ready` answers 200. Schemathesis' ASGI calls start the app's lifespan again, and the new
    services map the bulk score book in the background: a `/ready` in the first milliseconds answers 503
    ("computing"), which is readiness working, not a server error (a flaky failure in CI)."""
    deadline = time.monotonic() + timeout
    while case.call().status_code != 200 and time.monotonic() < deadline:
        time.sleep(0.05)


def test_operations_are_all_fuzzed(operations):
    # the whole public surface, named: a new route must be added here (and so is fuzzed knowingly)
    assert {op.label for op in operations} == {
        "GET /health", "GET /ready", "GET /metrics", "GET /v1/model", "GET /v1/monitoring/drift/latest",
        "GET /v1/applicants/{sk_id_curr}", "GET /v1/applicants/{sk_id_curr}/score",
        "GET /v1/applicants/{sk_id_curr}/explanation", "GET /v1/applicants/{sk_id_curr}/comparison",
        "POST /v1/applicants/{sk_id_curr}/what-if", "POST /v1/score", "POST /v1/score/batch",
    }


def test_no_server_errors_and_documented_shapes(operations):
    def check(case) -> None:
        if case.path == "/ready":
            _until_ready(case)
        case.call_and_validate(headers={"X-API-Key": API_KEY},
                               checks=[not_a_server_error, response_schema_conformance])

    for operation in operations:
        _run(operation, EXAMPLES.get(operation.label, DEFAULT_EXAMPLES), check)


def test_no_server_errors_without_a_valid_key(operations):
    def check(case) -> None:  # schemathesis fills X-API-Key with generated strings: never a valid key
        if case.path == "/ready":
            _until_ready(case)
        response = case.call()
        assert response.status_code < 500
        if case.path in ("/health", "/ready"):
            assert response.status_code == 200
        else:
            assert response.status_code == (401 if not case.headers or not case.headers.get("X-API-Key") else 403)

    for operation in operations:
        _run(operation, 3, check)
