"""The posted-record schemas: built from raw_columns.json, with bounds and valid codes."""

import copy

import pandas as pd
import pyarrow as pa
import pytest
from pydantic import TypeAdapter, ValidationError

from api.new_applications import to_raw_tables
from api.schemas.examples import NEW_APPLICATION_EXAMPLE
from api.schemas.raw import RECORD_MODELS
from api.schemas.raw_format import APPLICATION, HISTORY_TABLES, RAW_COLUMNS
from api.schemas.requests import BatchRequest, NewApplication


def _errors(payload: dict) -> list[dict]:
    with pytest.raises(ValidationError) as info:
        NewApplication.model_validate(payload)
    return info.value.errors()


def test_example_is_valid_and_history_gets_the_application_id():
    app = NewApplication.model_validate(NEW_APPLICATION_EXAMPLE)
    assert app.bureau[0].SK_ID_BUREAU == 7000001
    tables = to_raw_tables([app])
    assert set(tables) == {APPLICATION, *HISTORY_TABLES}
    assert tables["bureau"]["SK_ID_CURR"].to_pylist() == [990001]
    assert tables["installments_payments"]["SK_ID_CURR"].to_pylist() == [990001]
    assert len(tables["bureau_balance"]) == 2 and "SK_ID_CURR" not in tables["bureau_balance"].column_names
    assert tables[APPLICATION]["AMT_INCOME_TOTAL"].to_pylist() == [180000.0]


def test_raw_tables_keep_declared_columns_and_types_even_when_empty():
    app = NewApplication.model_validate({"SK_ID_CURR": 5})
    tables = to_raw_tables([app])
    expected = {"DOUBLE": pa.float64(), "BIGINT": pa.int64(), "VARCHAR": pa.string()}
    for table, frame in tables.items():  # Arrow tables typed like the raw format (DuckDB inserts them as is)
        assert frame.column_names == [c for c, _ in RAW_COLUMNS[table]]
        for column, duckdb_type in RAW_COLUMNS[table]:
            assert frame.schema.field(column).type == expected[duckdb_type], (table, column)
    assert len(tables["bureau"]) == 0
    assert tables[APPLICATION]["EXT_SOURCE_1"].null_count == 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"AMT_INCOME_TOTAL": -1.0}, "AMT_INCOME_TOTAL", "greater than or equal to 0"),
        ({"CODE_GENDER": "Q"}, "CODE_GENDER", "'F', 'M' or 'XNA'"),
        ({"EXT_SOURCE_2": 1.5}, "EXT_SOURCE_2", "less than or equal to 1"),
        ({"FLAG_MOBIL": 2}, "FLAG_MOBIL", "less than or equal to 1"),
        ({"DAYS_BIRTH": 100}, "DAYS_BIRTH", "less than or equal to -6570"),  # 18 years (plausibility.json)
        ({"DAYS_EMPLOYED": 500}, "DAYS_EMPLOYED", "365243"),
        ({"CNT_CHILDREN": 1.5}, "CNT_CHILDREN", "integer"),
        ({"TARGET": 1}, "TARGET", "Extra inputs are not permitted"),
    ],
)
def test_bad_application_fields_are_named(change, field, message):
    errors = _errors({**NEW_APPLICATION_EXAMPLE, **change})
    assert errors[0]["loc"] == (field,)
    assert message in errors[0]["msg"]


def test_days_employed_accepts_the_not_applicable_code():
    app = NewApplication.model_validate({**NEW_APPLICATION_EXAMPLE, "DAYS_EMPLOYED": 365243})
    assert app.DAYS_EMPLOYED == 365243


def test_history_errors_name_the_record():
    payload = copy.deepcopy(NEW_APPLICATION_EXAMPLE)
    payload["bureau"][0]["AMT_CREDIT_SUM"] = -5.0
    errors = _errors(payload)
    assert errors[0]["loc"] == ("bureau", 0, "AMT_CREDIT_SUM")

    payload = copy.deepcopy(NEW_APPLICATION_EXAMPLE)
    payload["bureau"][0]["SK_ID_CURR"] = 123
    assert "bureau[0].SK_ID_CURR is 123" in _errors(payload)[0]["msg"]

    payload = copy.deepcopy(NEW_APPLICATION_EXAMPLE)
    payload["bureau_balance"][1]["SK_ID_BUREAU"] = 42
    assert "bureau_balance[1].SK_ID_BUREAU 42 matches no posted bureau record" in _errors(payload)[0]["msg"]

    payload = copy.deepcopy(NEW_APPLICATION_EXAMPLE)
    del payload["previous_application"][0]["SK_ID_PREV"]
    assert _errors(payload)[0]["loc"] == ("previous_application", 0, "SK_ID_PREV")


def test_signed_amounts_stay_allowed_where_the_data_has_them():
    payload = copy.deepcopy(NEW_APPLICATION_EXAMPLE)
    payload["bureau"][0]["AMT_CREDIT_SUM_DEBT"] = -1500.0
    payload["credit_card_balance"] = [{"SK_ID_PREV": 1, "MONTHS_BALANCE": -1, "AMT_BALANCE": -20.5}]
    app = NewApplication.model_validate(payload)
    assert app.credit_card_balance[0].AMT_BALANCE == -20.5


def test_batch_request_rules():
    with pytest.raises(ValidationError, match="at least one id"):
        BatchRequest.model_validate({})
    with pytest.raises(ValidationError, match="its own SK_ID_CURR"):
        BatchRequest.model_validate({"applications": [{"SK_ID_CURR": 1}, {"SK_ID_CURR": 1}]})
    assert BatchRequest.model_validate({"sk_id_curr": [1, 2]}).sk_id_curr == [1, 2]


@pytest.mark.real_data
@pytest.mark.parametrize("table", [APPLICATION, *HISTORY_TABLES])
def test_every_real_row_is_accepted(table, real_sample_dir, real_marginals_dir):
    """The bounds and codes must accept the real data (sampled: at most 8,000 rows per file)."""
    sources = ["application_train", "application_test"] if table == APPLICATION else [table]
    adapter = TypeAdapter(list[RECORD_MODELS[table]])
    checked = 0
    for folder in (real_sample_dir, real_marginals_dir):
        for source in sources:
            frame = pd.read_csv(folder / f"{source}.csv", nrows=8_000).drop(columns=["TARGET"], errors="ignore")
            if frame.empty:
                continue
            records = [
                {k: (None if pd.isna(v) else v) for k, v in row.items()}
                for row in frame.to_dict(orient="records")
            ]
            adapter.validate_python(records)
            checked += len(records)
    assert checked > 1000


# -- issue 10, finding 4: what the warehouse rejects is a 422 here too ----------------------------------------
def _field_names(payload: dict) -> set[str]:
    from api.errors import validation_errors

    return {e["field"] for e in validation_errors([{**e, "loc": ("body", *e["loc"])} for e in _errors(payload)])}


@pytest.mark.parametrize(("history", "field"), [
    ({"bureau": [{"SK_ID_BUREAU": 1, "DAYS_CREDIT": -10}, {"SK_ID_BUREAU": 1, "DAYS_CREDIT": -20}]},
     "body.bureau[1].SK_ID_BUREAU"),
    ({"previous_application": [{"SK_ID_PREV": 7}, {"SK_ID_PREV": 8}, {"SK_ID_PREV": 7}]},
     "body.previous_application[2].SK_ID_PREV"),
    ({"bureau": [{"SK_ID_BUREAU": 1}], "bureau_balance": [{"SK_ID_BUREAU": 1, "MONTHS_BALANCE": -3},
                                                          {"SK_ID_BUREAU": 1, "MONTHS_BALANCE": -3}]},
     "body.bureau_balance[1]"),
    ({"previous_application": [{"SK_ID_PREV": 7}],
      "POS_CASH_balance": [{"SK_ID_PREV": 7, "MONTHS_BALANCE": -1}, {"SK_ID_PREV": 7, "MONTHS_BALANCE": -1}]},
     "body.POS_CASH_balance[1]"),
])
def test_duplicate_history_keys_are_refused_like_the_warehouse_does(history, field):
    names = _field_names({"SK_ID_CURR": 5, **history})
    assert any(n.startswith(field) for n in names), names


@pytest.mark.parametrize(("payload", "field"), [
    ({"SK_ID_CURR": True}, "body.SK_ID_CURR"),
    ({"SK_ID_CURR": 5, "AMT_CREDIT": True}, "body.AMT_CREDIT"),
    ({"SK_ID_CURR": 5, "bureau": [{"SK_ID_BUREAU": True}]}, "body.bureau[0].SK_ID_BUREAU"),
    ({"SK_ID_CURR": 5, "CNT_CHILDREN": 1_000_000}, "body.CNT_CHILDREN"),
    ({"SK_ID_CURR": 5, "DAYS_BIRTH": -1}, "body.DAYS_BIRTH"),
    ({"SK_ID_CURR": 5, "CNT_FAM_MEMBERS": 0}, "body.CNT_FAM_MEMBERS"),
    ({"SK_ID_CURR": 5, "CNT_FAM_MEMBERS": 2, "CNT_CHILDREN": 5}, "body.CNT_FAM_MEMBERS"),
])
def test_implausible_values_and_booleans_are_refused(payload, field):
    assert field in _field_names(payload)


def test_the_api_and_the_warehouse_tests_read_the_same_bounds(repo_root):
    """One source: warehouse/plausibility.json feeds the generated dbt tests and the API's schema."""
    import json

    from api.schemas.raw import column_bounds
    from warehouse.codegen_staging import RANGES

    rules = json.loads((repo_root / "warehouse" / "plausibility.json").read_text())
    assert {t: {c: tuple(v) for c, v in cols.items()} for t, cols in rules["ranges"].items()} == RANGES
    for column, (lo, hi, severity) in rules["ranges"]["application"].items():
        if severity != "error" or column not in RECORD_MODELS[APPLICATION].model_fields:
            continue
        bounds = column_bounds(APPLICATION, column)
        assert lo is None or bounds["ge"] >= lo, column
        assert hi is None or bounds["le"] <= hi or column == "DAYS_EMPLOYED", column  # + 365243 "not applicable"
    staging = (repo_root / "warehouse" / "models" / "staging" / "_staging__models.yml").read_text()
    assert "columns_at_least_column" in staging and "cnt_fam_members" in staging


def test_history_keys_are_the_warehouse_primary_keys():
    from api.schemas.raw import HISTORY_KEYS
    from warehouse.codegen_staging import PRIMARY_KEYS

    assert {t: tuple(k.upper() for k in keys) for t, keys in PRIMARY_KEYS.items()
                            if not t.startswith("application")} == HISTORY_KEYS
