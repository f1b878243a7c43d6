"""Request bodies: a new application with its credit history, and batches."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator
from pydantic_core import PydanticCustomError

from api.schemas.examples import NEW_APPLICATION_EXAMPLE
from api.schemas.raw import HISTORY_KEYS, HISTORY_MAX_ROWS, MAX_ID, RECORD_MODELS
from api.schemas.raw_format import APPLICATION, APPLICATION_AT_LEAST, HISTORY_TABLES


def located_error(message: str, *at: str | int) -> PydanticCustomError:
    """A validation error of a whole-model rule that still names its field: `at` is appended to the
    error's location by `api.errors.validation_errors` (e.g. ("bureau", 3, "SK_ID_BUREAU"))."""
    return PydanticCustomError("value_error", message.replace("{", "(").replace("}", ")"), {"at": list(at)})


def check_family_rules(values: dict[str, Any]) -> None:
    """The warehouse's cross-column rules of the application (warehouse/plausibility.json), e.g. the family
    counts the applicant and the children: CNT_FAM_MEMBERS >= CNT_CHILDREN + 1."""
    for rule in APPLICATION_AT_LEAST:
        column, other, plus = rule["column"], rule["other"], rule["plus"]
        value, other_value = values.get(column), values.get(other)
        if value is not None and other_value is not None and value < other_value + plus:
            raise located_error(f"{column} is {value:g} but must be at least {other} + {plus} = "
                                f"{other_value + plus:g} ({rule.get('why', 'warehouse rule')})", column)


def _check_keys(app: Any) -> None:
    """No history key twice: the warehouse tests these keys as unique and refuses duplicates."""
    for table, keys in HISTORY_KEYS.items():
        seen: dict[tuple[Any, ...], int] = {}
        for i, record in enumerate(getattr(app, table) or []):
            key = tuple(getattr(record, k) for k in keys)
            if None in key:
                continue
            if key in seen:
                names = " and ".join(keys)
                raise located_error(f"{table}[{i}] repeats the {names} of {table}[{seen[key]}] "
                                    f"({', '.join(map(str, key))}): each must be unique", table, i, keys[0])
            seen[key] = i


def _check_links(app: Any) -> Any:
    """History rows belong to the application; bureau balances belong to a posted bureau credit."""
    sk_id = app.SK_ID_CURR
    for table in HISTORY_TABLES:
        for i, record in enumerate(getattr(app, table) or []):
            own = getattr(record, "SK_ID_CURR", None)
            if own is not None and own != sk_id:
                raise ValueError(
                    f"{table}[{i}].SK_ID_CURR is {own} but the application's SK_ID_CURR is {sk_id}: "
                    "omit it or send the same id"
                )
    _check_keys(app)
    check_family_rules({"CNT_FAM_MEMBERS": app.CNT_FAM_MEMBERS, "CNT_CHILDREN": app.CNT_CHILDREN})
    bureau_ids = {r.SK_ID_BUREAU for r in app.bureau or []}
    for i, record in enumerate(app.bureau_balance or []):
        if record.SK_ID_BUREAU not in bureau_ids:
            raise ValueError(
                f"bureau_balance[{i}].SK_ID_BUREAU {record.SK_ID_BUREAU} matches no posted bureau record"
            )
    return app


_history_fields: dict[str, Any] = {
    table: (
        list[RECORD_MODELS[table]] | None,  # type: ignore[valid-type]
        Field(None, max_length=HISTORY_MAX_ROWS[table], description=f"{table}.csv records of this applicant"),
    )
    for table in HISTORY_TABLES
}

class _ApplicationWithExample(RECORD_MODELS[APPLICATION]):  # type: ignore[misc, valid-type]
    model_config = ConfigDict(json_schema_extra={"examples": [NEW_APPLICATION_EXAMPLE]})


NewApplication: type[BaseModel] = create_model(
    "NewApplication",
    __base__=_ApplicationWithExample,
    __doc__=(
        "A new application: the application fields with Kaggle names (application_test.csv) and, "
        "optionally, the applicant's credit history as lists of Kaggle records."
    ),
    __validators__={"check_links": model_validator(mode="after")(_check_links)},
    **_history_fields,
)


class BatchRequest(BaseModel):
    """Known applicants by id, new applications, or both; at most `HC_API_BATCH_MAX` in all."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"sk_id_curr": [100002, 100003]}]},
    )

    sk_id_curr: list[Annotated[int, Field(ge=0, le=MAX_ID)]] = Field(
        default_factory=list, description="ids of applicants in the warehouse"
    )
    applications: list[NewApplication] = Field(  # type: ignore[valid-type]
        default_factory=list, description="new applications, each with its own history"
    )

    @model_validator(mode="after")
    def _not_empty(self) -> BatchRequest:
        if not self.sk_id_curr and not self.applications:
            raise ValueError("send at least one id in `sk_id_curr` or one application in `applications`")
        ids = [a.SK_ID_CURR for a in self.applications]
        if len(set(ids)) != len(ids):
            raise ValueError("applications: every application needs its own SK_ID_CURR")
        return self


# Application fields a what-if may change: the staging layer only renames them (a test checks it), so the
# changed value goes into the stored staged application as it is.
WHAT_IF_FIELDS = ("AMT_INCOME_TOTAL", "AMT_CREDIT", "AMT_ANNUITY", "AMT_GOODS_PRICE", "CNT_CHILDREN",
                  "CNT_FAM_MEMBERS")


def _optional(name: str) -> tuple[Any, Any]:
    field = RECORD_MODELS[APPLICATION].model_fields[name]
    annotation = field.annotation
    return (annotation | None if annotation is not None else Any, Field(None, description=field.description))


WhatIfRequest: type[BaseModel] = create_model(
    "WhatIfRequest",
    __config__=ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"AMT_INCOME_TOTAL": 250000.0, "AMT_CREDIT": 450000.0}]}),
    __doc__=("Application values of a known applicant to change (Kaggle names, raw units); fields left out "
             "keep the applicant's own values, and the credit history stays the applicant's."),
    **{name: _optional(name) for name in WHAT_IF_FIELDS},
)
