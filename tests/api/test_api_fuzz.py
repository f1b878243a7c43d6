"""Property-based fuzzing of the OpenAPI schema (schemathesis): no input makes the API answer 5xx,
and every documented response matches its schema. Bounded examples keep it under a minute."""

from __future__ import annotations

import pytest
import schemathesis
from conftest import API_KEY, api_settings
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from api.main import create_app


@pytest.fixture(scope="module")
def fuzz_app(api_env):
    app = create_app(api_settings(api_env))
    with TestClient(app):  # runs the lifespan: model, warehouse and comparison index loaded once
        yield app


@pytest.fixture(scope="module")
def api_schema(fuzz_app):
    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors_and_documented_shapes(case):
    case.call_and_validate(headers={"X-API-Key": API_KEY},
                           checks=[not_a_server_error, response_schema_conformance])


@schema.parametrize()
@settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_no_server_errors_without_a_key(case):
    response = case.call()
    assert response.status_code < 500
    if case.path != "/health":
        assert response.status_code == 401
