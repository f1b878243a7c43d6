"""What-if scenarios: the client's application with a few values changed, ready for ``POST /v1/score``.

The body of ``POST /v1/score`` is a new application with Kaggle field names (``AMT_INCOME_TOTAL``,
...). It is built from the client's data as the API serves it (``GET /v1/applicants/{id}``): each
field whose upper-cased name is an application field of the API's schema (read from the API's own
OpenAPI document) is copied back to its raw form (years -> negative day counts, yes/no -> Y/N or
1/0) and to the type the schema declares. The API does not serve the client's credit-history
records, so the scenario is scored from the application alone: the page compares the scenario with
the same application re-scored unchanged, and says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.formatting import DAYS_PER_YEAR, is_missing, number
from dashboard.schemas import Applicant

# The largest amount accepted in the form; the API has its own (larger) bound.
MAX_AMOUNT = 1e10


@dataclass(frozen=True)
class Editable:
    raw: str  # Kaggle name in the POST body
    feature: str  # warehouse name in the client's data
    label: str
    help: str
    required_positive: bool = True


EDITABLE: tuple[Editable, ...] = (
    Editable("AMT_INCOME_TOTAL", "amt_income_total", "Annual income", "The client's total yearly income."),
    Editable("AMT_CREDIT", "amt_credit", "Credit amount", "The amount of the loan asked for."),
    Editable("AMT_ANNUITY", "amt_annuity", "Loan annuity", "The regular repayment of the loan."),
    Editable(
        "AMT_GOODS_PRICE",
        "amt_goods_price",
        "Price of the goods",
        "The price of the goods the loan pays for.",
    ),
)


def validate(values: Mapping[str, float | None]) -> list[str]:
    """Problems with the officer's values, each naming the field and the expected form."""
    problems = []
    for item in EDITABLE:
        value = values.get(item.raw)
        if value is None:
            problems.append(f"{item.label}: enter an amount (a number greater than 0).")
        elif not math.isfinite(value):
            problems.append(f"{item.label}: '{value}' is not a number.")
        elif value <= 0:
            problems.append(f"{item.label}: must be greater than 0 (you entered {number(value)}).")
        elif value > MAX_AMOUNT:
            problems.append(
                f"{item.label}: must be at most {number(MAX_AMOUNT)} (you entered {number(value)})."
            )
    credit, annuity = values.get("AMT_CREDIT"), values.get("AMT_ANNUITY")
    if credit and annuity and credit > 0 and annuity > credit:
        problems.append(
            f"Loan annuity ({number(annuity)}) cannot be larger than the credit amount ({number(credit)})."
        )
    return problems


def _resolve(schema: Mapping[str, Any], openapi: Mapping[str, Any]) -> Mapping[str, Any]:
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
        return openapi.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[-1], {})
    return schema


def application_fields(openapi: Mapping[str, Any]) -> dict[str, set[str]]:
    """The application fields of ``POST /v1/score`` and their JSON types, from the API's OpenAPI."""
    try:
        operation = openapi["paths"]["/v1/score"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
    except (KeyError, TypeError) as exc:
        raise ValueError("the API's OpenAPI document does not describe POST /v1/score") from exc
    schema = _resolve(body, openapi)
    fields: dict[str, set[str]] = {}
    for name, prop in (schema.get("properties") or {}).items():
        prop = _resolve(prop, openapi)
        options = prop.get("anyOf") or prop.get("oneOf") or [prop]
        types = {str(_resolve(o, openapi).get("type")) for o in options if isinstance(o, Mapping)}
        if "array" in types:
            continue  # history tables
        fields[name] = types - {"null", "None"}
    return fields


def _convert(raw: str, value: Any, unit: str | None, types: set[str]) -> Any:
    """A displayed value back to the raw form of ``raw`` (the inverse of the API's readable units)."""
    if is_missing(value):
        return None
    if isinstance(value, str) and value.strip().lower() in ("yes", "no"):
        value = value.strip().lower() == "yes"
    if isinstance(value, bool):
        if "string" in types:
            return "Y" if value else "N"
        return int(value)
    if (
        raw.startswith("DAYS_")
        and (unit or "").lower() in ("year", "years")
        and isinstance(value, int | float)
    ):
        # Kaggle counts days before the application as negative numbers.
        value = -round(float(value) * DAYS_PER_YEAR)
    if "integer" in types and isinstance(value, float) and value.is_integer():
        return int(value)
    if "string" in types and not isinstance(value, str) and not ({"number", "integer"} & types):
        return str(value)
    return value


def base_application(applicant: Applicant, fields: Mapping[str, set[str]]) -> dict[str, Any]:
    """The client's application as a POST body (Kaggle names), from the data the API served."""
    body: dict[str, Any] = {}
    for group in applicant.groups:
        for field in group.fields:
            raw = field.name.upper()
            if raw in fields and raw not in body:
                converted = _convert(raw, field.value, field.unit, fields[raw])
                if converted is not None:
                    body[raw] = converted
    if "SK_ID_CURR" in fields:
        body["SK_ID_CURR"] = applicant.sk_id_curr
    return body


def current_values(applicant: Applicant) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    by_name = {f.name: f.value for g in applicant.groups for f in g.fields}
    for item in EDITABLE:
        v = by_name.get(item.feature)
        values[item.raw] = float(v) if isinstance(v, int | float) and not is_missing(v) else None
    return values


def with_changes(body: Mapping[str, Any], values: Mapping[str, float | None]) -> dict[str, Any]:
    changed = dict(body)
    for item in EDITABLE:
        if values.get(item.raw) is not None:
            changed[item.raw] = float(values[item.raw])  # type: ignore[arg-type]
    return changed
