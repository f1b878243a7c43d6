"""The dashboard's client-side schemas (dashboard/schemas.py) against the API's OpenAPI document: every
field a dashboard page reads is one the API sends, and every field the dashboard requires the API always
sends (is required in its response schema), nested models included. Real responses are validated by
the dashboard's schemas in test_api_endpoints.py (test_dashboard_schemas_accept_real_responses)."""

from __future__ import annotations

import types
import typing
from typing import Any

import pytest
from pydantic import BaseModel

from dashboard import schemas as dash

# dashboard model -> the API's response component
PAIRS: dict[type[BaseModel], str] = {
    dash.Health: "Health",
    dash.ModelInfo: "ModelInfo",
    dash.Score: "Score",
    dash.WhatIf: "WhatIf",
    dash.Explanation: "ExplanationOut",
    dash.Applicant: "Profile",
    dash.Comparison: "Comparison",
    dash.DriftSummary: "DriftSummary",
}

# optional dashboard fields the API does not send today: the dashboard falls back to the humanized name
NOT_SENT = {"ModelInfo.features.label", "ModelInfo.global_importance.label"}


@pytest.fixture(scope="module")
def openapi(tmp_path_factory) -> dict[str, Any]:
    from api.main import create_app
    from api.settings import ApiSettings

    root = tmp_path_factory.mktemp("contract")
    app = create_app(ApiSettings(warehouse=root / "none.duckdb", artifacts=root, api_keys="k", api_log_salt="s"))
    return app.openapi()


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside `Model`, `Model | None` or `list[Model]`, else None."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            found = _nested_model(arg)
            if found is not None:
                return found
    return None


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """Follow $ref, array items and anyOf (nullable) down to an object schema."""
    while True:
        if "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[1]]
        elif schema.get("type") == "array":
            schema = schema["items"]
        elif "anyOf" in schema:
            schema = next(s for s in schema["anyOf"] if s.get("type") != "null")
        else:
            return schema


def _mismatches(model: type[BaseModel], schema: dict[str, Any], components: dict[str, Any], path: str) -> list[str]:
    props, required = schema.get("properties", {}), set(schema.get("required", []))
    found = []
    for name, field in model.model_fields.items():
        if name not in props and f"{path}.{name}" not in NOT_SENT:
            found.append(f"{path}.{name}: read by the dashboard, not in the API's schema")
            continue
        if name not in props:
            continue
        if field.is_required() and name not in required:
            found.append(f"{path}.{name}: required by the dashboard, optional in the API's schema")
        nested = _nested_model(field.annotation)
        if nested is not None:
            target = _resolve(props[name], components)
            if "properties" not in target:
                found.append(f"{path}.{name}: an object for the dashboard, {target.get('type')} in the API")
            else:
                found += _mismatches(nested, target, components, f"{path}.{name}")
    return found


@pytest.mark.parametrize("model", list(PAIRS), ids=lambda m: m.__name__)
def test_dashboard_schema_agrees_with_the_api_openapi(openapi, model):
    components = openapi["components"]["schemas"]
    assert _mismatches(model, components[PAIRS[model]], components, model.__name__) == []


def test_every_dashboard_response_is_what_a_route_returns(openapi):
    """Each component the dashboard mirrors is the 200 response of at least one route."""
    returned = set()
    for path in openapi["paths"].values():
        for operation in path.values():
            content = operation.get("responses", {}).get("200", {}).get("content", {})
            ref = content.get("application/json", {}).get("schema", {}).get("$ref")
            if ref:
                returned.add(ref.rsplit("/", 1)[1])
    assert set(PAIRS.values()) <= returned


def test_the_check_finds_a_field_the_api_does_not_send(openapi):
    class Extended(dash.Score):
        credit_limit: float

    components = openapi["components"]["schemas"]
    assert _mismatches(Extended, components["Score"], components, "Score") == [
        "Score.credit_limit: read by the dashboard, not in the API's schema"]
