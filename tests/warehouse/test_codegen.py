"""The raw format is declared once (hc_contracts/raw_columns.json): the generated dbt files follow it."""

from __future__ import annotations

import json

from hc_contracts.raw_format import RAW_COLUMNS_FILE, TABLES
from warehouse import codegen_staging
from warehouse.descriptions import load_committed_descriptions
from warehouse.yaml_io import load_yaml


def test_sources_yaml_declares_exactly_raw_columns_json():
    declared = json.loads(RAW_COLUMNS_FILE.read_text(encoding="utf-8"))
    sources = load_yaml((codegen_staging.STAGING_DIR / "_home_credit__sources.yml").read_text(encoding="utf-8"))
    tables = {t["name"]: [[c["name"], c["data_type"]] for c in t["columns"]] for t in sources["sources"][0]["tables"]}
    assert list(tables) == list(TABLES)
    assert tables == declared


def test_committed_staging_files_are_up_to_date():
    """Regenerating from raw_columns.json (and the committed wording) gives the committed files."""
    for path, text in codegen_staging.render_all(load_committed_descriptions()).items():
        assert path.exists(), f"{path} missing: run python -m warehouse.codegen_staging"
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run python -m warehouse.codegen_staging"


def test_staging_cleaning_rules():
    cols = {c.name: c for c in codegen_staging.staged_columns("application_train")}
    assert cols["flag_own_car"].sql_type == "boolean" and "'Y' then true" in cols["flag_own_car"].expression
    assert cols["flag_document_3"].sql_type == "boolean"
    assert "365243" in cols["days_employed"].expression and cols["days_employed_anomaly"].sql_type == "boolean"
    assert "'XNA'" in cols["organization_type"].expression and "'XAP'" in cols["organization_type"].expression
    assert cols["target"].sql_type == "integer"
    prev = {c.name for c in codegen_staging.staged_columns("previous_application")}
    assert {"days_last_due_anomaly", "days_termination_anomaly"} <= prev
    sql = codegen_staging.staging_sql("installments_payments")
    assert "coalesce(days_instalment, 0) <= 0" in sql and "coalesce(days_entry_payment, 0) <= 0" in sql


def test_kaggle_wording_is_kept(repo_root):
    described = load_committed_descriptions()
    assert described[("application", "EXT_SOURCE_1")].startswith("Normalized score from external data source")
    assert described[("bureau", "DAYS_CREDIT")].startswith("How many days before current application")
