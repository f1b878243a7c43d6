"""Every mart column is documented (Kaggle wording or formula), and `dbt docs generate` works."""

from __future__ import annotations

import json
import shutil

import duckdb

from warehouse.codegen_docs import INTERMEDIATE_YAML, MARTS_YAML, STAGING_YAML
from warehouse.dbt_runner import run_dbt
from warehouse.settings import REPO_ROOT
from warehouse.yaml_io import load_yaml


def _models(path):
    return {m["name"]: m for m in load_yaml(path.read_text(encoding="utf-8"))["models"]}


def test_every_mart_column_is_documented_in_order(fixture_warehouse):
    marts = _models(MARTS_YAML)
    with duckdb.connect(str(fixture_warehouse.path), read_only=True) as con:
        for model in ("applicant_features", "training_set"):
            built = [r[0] for r in con.sql(f"describe {model}").fetchall()]
            documented = [c["name"] for c in marts[model]["columns"]]
            assert documented == built, f"{model}: regenerate with python -m warehouse.codegen_docs"
            assert all(len(c["description"]) >= 10 for c in marts[model]["columns"])
    features = [c for c in marts["applicant_features"]["columns"] if c["name"] not in ("sk_id_curr", "dataset", "target")]
    assert len(features) >= 300


def test_raw_columns_keep_kaggle_wording_and_engineered_ones_give_a_formula():
    staging = {c["name"]: c["description"] for c in _models(STAGING_YAML)["stg_application_train"]["columns"]}
    mart = {c["name"]: c["description"] for c in _models(MARTS_YAML)["applicant_features"]["columns"]}
    assert mart["amt_income_total"] == staging["amt_income_total"] and mart["amt_income_total"].startswith("Income")
    assert mart["credit_income_ratio"] == "Engineered: amt_credit / amt_income_total."
    assert "(2 * ext_source_1 + ext_source_2 + 3 * ext_source_3) / 6" in mart["ext_source_weighted"]
    assert mart["bureau_active_amt_credit_sum_mean"].startswith("Mean over the applicant's active Credit Bureau credits")
    assert "annuity * cnt_payment" in mart["prev_interest_rate_proxy_mean"]


def test_dbt_docs_generate(fixture_warehouse, tmp_path):
    work = tmp_path / "docs"
    work.mkdir()
    shutil.copy2(fixture_warehouse.path, work / "warehouse.duckdb")
    result = run_dbt("docs generate", project_dir=REPO_ROOT, target_path=work / "target", cwd=work,
                     env={"HC_WAREHOUSE": "warehouse.duckdb", "DBT_PROFILES_DIR": str(REPO_ROOT)}, echo=False)
    catalog = json.loads((result.target_path / "catalog.json").read_text(encoding="utf-8"))
    node = catalog["nodes"]["model.homecredit.applicant_features"]
    assert len(node["columns"]) >= 303
    assert (result.target_path / "index.html").exists()
    manifest = result.manifest["nodes"]["model.homecredit.applicant_features"]
    assert manifest["columns"]["ext_source_mean"]["description"].startswith("Engineered: mean")


def _range_checks(model: dict) -> set[tuple[str, object, object]]:
    checks = set()
    for test in model.get("data_tests", []):
        if isinstance(test, dict) and "columns_between" in test:
            args = test["columns_between"]["arguments"]
            checks |= {(c, args.get("min_value"), args.get("max_value")) for c in args["columns"]}
    return checks


def test_every_range_check_of_the_mart_runs_once_where_the_column_is_computed():
    """The mart passes every intermediate column through unchanged (history counts as coalesce(x, 0)): a range check
    of a mart column is made on the intermediate model it comes from (which the mart waits for), with the same bounds,
    unless the mart makes it itself; none is lost."""
    from warehouse.codegen_docs import HISTORY_MODELS, INTERMEDIATE_MODELS, _ranges

    marts = _models(MARTS_YAML)
    intermediate = _models(INTERMEDIATE_YAML)
    mart = marts["applicant_features"]
    mart_checks = _range_checks(mart)
    origin = {c["name"]: m for m in INTERMEDIATE_MODELS for c in intermediate[m]["columns"]
              if c["name"] not in ("sk_id_curr", "dataset", "target")}
    expected = _ranges("applicant_features", {c["name"]: c["data_type"] for c in mart["columns"]})
    n_upstream = 0
    for columns, lo, hi in expected:
        for column in columns:
            if (column, lo, hi) in mart_checks:
                continue
            model = origin[column]
            assert (column, lo, hi) in _range_checks(intermediate[model]), f"{column} in [{lo}, {hi}] is checked nowhere"
            if column.endswith("_count") and model in HISTORY_MODELS:  # 0 filled in by the mart's left join
                assert (lo is None or lo <= 0) and (hi is None or hi >= 0)
            n_upstream += 1
    assert n_upstream >= 80  # shares, counts, ext_source, age, amounts
    columns_not_null = [t for t in mart["data_tests"] if "columns_not_null" in t]  # the left join's coalesce: mart only
    assert "bureau_credit_count" in columns_not_null[0]["columns_not_null"]["arguments"]["columns"]
