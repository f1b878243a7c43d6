"""Generate the YAML docs and data tests of the intermediate models and the marts.

Column lists come from a built warehouse (the models' real output); descriptions from
- the staging docs (Kaggle's wording) for raw application columns,
- ``ENGINEERED`` below for application features (with their formula),
- the naming convention of the aggregation macros for history aggregates:
  ``<prefix>_<column>_<agg>`` = agg over the rows of ``prefix``'s subset of ``column``.
An undocumentable column makes the generator fail, so no feature ships undocumented.

``python -m warehouse.codegen_docs --warehouse data/warehouse.duckdb`` (after a build);
``tests/warehouse/test_docs.py`` checks that the committed YAML covers every column of the build.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import duckdb

from warehouse.yaml_io import dump_yaml, load_yaml

MODELS_DIR = Path(__file__).resolve().parent / "models"
STAGING_YAML = MODELS_DIR / "staging" / "_staging__models.yml"
INTERMEDIATE_YAML = MODELS_DIR / "intermediate" / "_intermediate__models.yml"
MARTS_YAML = MODELS_DIR / "marts" / "_marts__models.yml"

INTERMEDIATE_MODELS = {
    "int_applications": "Every applicant of application_train and application_test, one row each: `dataset` "
                        "says which, `target` is NULL for test rows; the staged application columns.",
    "int_application_features": "Engineered features of the application itself, one row per applicant.",
    "int_bureau_balance_by_loan": "Monthly Credit Bureau balances (months on or before the application) "
                                  "aggregated to one row per bureau credit.",
    "int_bureau_features": "Credit Bureau credits opened on or before the application, with their monthly "
                           "balances, aggregated to one row per applicant.",
    "int_previous_application_features": "Previous Home Credit applications decided before the application, "
                                         "aggregated to one row per applicant.",
    "int_pos_cash_features": "Monthly POS / cash loan balances before the application, one row per applicant.",
    "int_installments_features": "Installments of previous credits due and paid before the application, "
                                 "one row per applicant.",
    "int_credit_card_features": "Monthly credit-card balances before the application, one row per applicant.",
}

AGGS = {"min": "Minimum", "max": "Maximum", "mean": "Mean", "sum": "Sum", "var": "Sample variance",
        "std": "Sample standard deviation"}

# history prefixes -> (subset description, staging model whose columns are aggregated)
PREFIXES: dict[str, tuple[str, str]] = {
    "bureau_active": ("the applicant's active Credit Bureau credits", "stg_bureau"),
    "bureau_closed": ("the applicant's closed Credit Bureau credits", "stg_bureau"),
    "bureau_last6m": ("Credit Bureau credits opened in the 6 months before the application "
                      "(days_credit >= -183)", "stg_bureau"),
    "bureau_last12m": ("Credit Bureau credits opened in the 12 months before the application "
                       "(days_credit >= -365)", "stg_bureau"),
    "bureau_last24m": ("Credit Bureau credits opened in the 24 months before the application "
                       "(days_credit >= -730)", "stg_bureau"),
    "bureau": ("all the applicant's Credit Bureau credits", "stg_bureau"),
    "prev_approved": ("the applicant's approved previous applications", "stg_previous_application"),
    "prev_refused": ("the applicant's refused previous applications", "stg_previous_application"),
    "prev_last1": ("the applicant's most recent previous application (by days_decision)", "stg_previous_application"),
    "prev_last3": ("the applicant's 3 most recent previous applications (by days_decision)",
                   "stg_previous_application"),
    "prev_last5": ("the applicant's 5 most recent previous applications (by days_decision)",
                   "stg_previous_application"),
    "prev": ("all the applicant's previous applications", "stg_previous_application"),
    "pos_last12m": ("the applicant's POS / cash monthly balances of the last 12 months (months_balance >= -12)",
                    "stg_pos_cash_balance"),
    "pos": ("all the applicant's POS / cash monthly balances", "stg_pos_cash_balance"),
    "inst_last365d": ("the applicant's installments due in the 365 days before the application "
                      "(days_instalment >= -365)", "stg_installments_payments"),
    "inst": ("all the applicant's installment payments", "stg_installments_payments"),
    "cc_last12m": ("the applicant's credit-card monthly balances of the last 12 months (months_balance >= -12)",
                   "stg_credit_card_balance"),
    "cc_last_month": ("the applicant's credit-card balances of the most recent month", "stg_credit_card_balance"),
    "cc": ("all the applicant's credit-card monthly balances", "stg_credit_card_balance"),
}

# per-row derived columns of the intermediate models (aggregated like raw ones)
DERIVED_ROW_COLUMNS = {
    "debt_credit_ratio": "debt over credit of a bureau credit: amt_credit_sum_debt / amt_credit_sum",
    "credit_duration_days": "planned duration of a bureau credit in days: days_credit_enddate - days_credit",
    "bb_months_count": "number of monthly balances of a bureau credit",
    "bb_months_min": "oldest monthly balance of a bureau credit (months_balance, relative to the application)",
    "bb_months_max": "most recent monthly balance of a bureau credit (months_balance, relative to the application)",
    "bb_dpd_share": "share of a bureau credit's monthly balances with days past due (STATUS 1-5)",
    "bb_dpd_60_share": "share of a bureau credit's monthly balances 60+ days past due (STATUS 3-5)",
    "bb_status_0_share": "share of a bureau credit's monthly balances without days past due (STATUS 0)",
    "bb_status_c_share": "share of a bureau credit's monthly balances with the credit closed (STATUS C)",
    "bb_status_x_share": "share of a bureau credit's monthly balances with unknown status (STATUS X)",
    "bb_worst_status": "worst days-past-due bucket of a bureau credit (STATUS 1-5 as a number, 0 otherwise)",
    "bb_last12m_dpd_share": "share of a bureau credit's monthly balances of the last 12 months with days past due",
    "bb_last12m_worst_status": "worst days-past-due bucket of a bureau credit over the last 12 months",
    "application_credit_ratio": "amount asked over amount granted: amt_application / amt_credit",
    "payments_credit_ratio": "total to repay over the credit: amt_annuity * cnt_payment / amt_credit",
    "interest_rate_proxy": "simple yearly interest-rate proxy of a previous credit: "
                           "(amt_annuity * cnt_payment / amt_credit - 1) / (cnt_payment / 12)",
    "early_repayment_days": "days_last_due_1st_version - days_last_due (positive: repaid earlier than first planned)",
    "remaining_ratio": "share of the installments left to pay: cnt_instalment_future / cnt_instalment",
    "payment_ratio": "amount paid over amount due for an installment: amt_payment / amt_instalment",
    "payment_diff": "amount due minus amount paid for an installment: amt_instalment - amt_payment",
    "days_past_due": "days paid late: max(days_entry_payment - days_instalment, 0) (NULL if unpaid)",
    "days_before_due": "days paid early: max(days_instalment - days_entry_payment, 0) (NULL if unpaid)",
    "utilization": "credit-card utilisation: amt_balance / amt_credit_limit_actual",
    "drawings_limit_ratio": "drawings over limit: amt_drawings_current / amt_credit_limit_actual",
    "payment_min_ratio": "payment over the minimum installment: amt_payment_current / amt_inst_min_regularity",
}

ENGINEERED = {
    "credit_income_ratio": "amt_credit / amt_income_total",
    "annuity_income_ratio": "amt_annuity / amt_income_total (debt-service ratio of this loan)",
    "credit_annuity_ratio": "amt_credit / amt_annuity (approximate term in months)",
    "annuity_credit_ratio": "amt_annuity / amt_credit (payment rate)",
    "credit_goods_ratio": "amt_credit / amt_goods_price",
    "credit_goods_diff": "amt_credit - amt_goods_price",
    "income_per_family_member": "amt_income_total / cnt_fam_members",
    "income_per_child_plus_one": "amt_income_total / (1 + cnt_children)",
    "annuity_per_family_member": "amt_annuity / cnt_fam_members",
    "disposable_income_per_family_member": "(amt_income_total - amt_annuity) / cnt_fam_members",
    "children_ratio": "cnt_children / cnt_fam_members",
    "age_years": "age in years: days_birth / -365.25",
    "employed_years": "years in current employment: days_employed / -365.25 (NULL for the 365243 anomaly)",
    "employed_age_ratio": "days_employed / days_birth",
    "registration_age_ratio": "days_registration / days_birth",
    "id_publish_age_ratio": "days_id_publish / days_birth",
    "phone_change_age_ratio": "days_last_phone_change / days_birth",
    "phone_change_employed_ratio": "days_last_phone_change / days_employed",
    "car_age_ratio": "own_car_age / age in years (days_birth / -365.25)",
    "car_employed_ratio": "own_car_age / years employed (days_employed / -365.25)",
    "age_at_credit_end_years": "age at the end of the loan: days_birth / -365.25 + (amt_credit / amt_annuity) / 12",
    "ext_source_mean": "mean of the available ext_source_1..3",
    "ext_source_min": "minimum of the available ext_source_1..3",
    "ext_source_max": "maximum of the available ext_source_1..3",
    "ext_source_std": "population standard deviation of the available ext_source_1..3",
    "ext_source_product": "ext_source_1 * ext_source_2 * ext_source_3 (NULL if one is missing)",
    "ext_source_weighted": "(2 * ext_source_1 + ext_source_2 + 3 * ext_source_3) / 6 (NULL if one is missing)",
    "ext_source_missing_count": "number of missing ext_source_1..3 (0-3)",
    "credit_term_x_ext_source_mean": "(amt_credit / amt_annuity) * ext_source_mean",
    "document_count": "number of documents provided: sum of flag_document_2..21",
    "contact_flag_count": "number of contact flags set: flag_mobil + flag_emp_phone + flag_work_phone + "
                          "flag_cont_mobile + flag_phone + flag_email",
    "region_mismatch_count": "number of address mismatches: reg_region_not_live_region + reg_region_not_work_region "
                             "+ live_region_not_work_region + reg_city_not_live_city + reg_city_not_work_city + "
                             "live_city_not_work_city",
    "building_info_missing_count": "number of missing *_avg building measures (0-14)",
    "amt_req_credit_bureau_total": "sum of amt_req_credit_bureau_hour/day/week/mon/qrt/year (NULL if all missing)",
    "region_rating_city_diff": "region_rating_client_w_city - region_rating_client",
    "social_circle_def_30_rate": "def_30_cnt_social_circle / obs_30_cnt_social_circle",
    "social_circle_def_60_rate": "def_60_cnt_social_circle / obs_60_cnt_social_circle",
}

EXPLICIT = {
    "bureau_credit_count": "Number of the applicant's Credit Bureau credits (0 without any).",
    "bureau_active_count": "Number of active Credit Bureau credits (credit_active = 'Active').",
    "bureau_closed_count": "Number of closed Credit Bureau credits (credit_active = 'Closed').",
    "bureau_sold_or_bad_debt_count": "Number of Credit Bureau credits sold or in bad debt.",
    "bureau_active_share": "Share of the Credit Bureau credits that are active.",
    "bureau_foreign_currency_count": "Number of Credit Bureau credits in a currency other than 'currency 1'.",
    "bureau_overdue_count": "Number of Credit Bureau credits overdue at the application (credit_day_overdue > 0).",
    "bureau_with_balance_count": "Number of Credit Bureau credits having monthly balances.",
    "bureau_active_total_debt_credit_ratio": "Total debt over total credit of the active Credit Bureau credits: "
                                             "sum(amt_credit_sum_debt) / sum(amt_credit_sum).",
    "bureau_last6m_count": "Number of Credit Bureau credits opened in the 6 months before the application.",
    "bureau_last12m_count": "Number of Credit Bureau credits opened in the 12 months before the application.",
    "bureau_last24m_count": "Number of Credit Bureau credits opened in the 24 months before the application.",
    "prev_application_count": "Number of previous Home Credit applications (0 without any).",
    "prev_approved_count": "Number of approved previous applications.",
    "prev_refused_count": "Number of refused previous applications.",
    "prev_canceled_count": "Number of canceled previous applications.",
    "prev_approved_share": "Share of previous applications approved.",
    "prev_refused_share": "Share of previous applications refused.",
    "prev_new_client_share": "Share of previous applications made as a new client (name_client_type = 'New').",
    "prev_reject_scofr_share": "Share of previous applications rejected for reason SCOFR.",
    "prev_insured_share": "Share of previous applications with insurance requested (nflag_insured_on_approval).",
    "prev_ongoing_count": "Number of previous credits still running at the application (days_last_due_1st_version "
                          "in the future or the 365243 sentinel).",
    "prev_days_termination_anomaly_share": "Share of previous applications whose days_termination held the 365243 "
                                           "sentinel (no termination date).",
    "prev_last1_refused_share": "1 if the most recent previous application was refused, else 0.",
    "prev_last3_refused_share": "Share of the 3 most recent previous applications refused.",
    "prev_last5_refused_share": "Share of the 5 most recent previous applications refused.",
    "pos_month_count": "Number of POS / cash monthly balances (0 without any).",
    "pos_loan_count": "Number of distinct POS / cash loans (sk_id_prev).",
    "pos_dpd_share": "Share of POS / cash monthly balances with days past due (sk_dpd > 0).",
    "pos_dpd_def_share": "Share of POS / cash monthly balances with days past due beyond tolerance (sk_dpd_def > 0).",
    "pos_last12m_dpd_share": "Share of the last 12 months' POS / cash balances with days past due.",
    "inst_payment_count": "Number of installment payment rows (0 without any).",
    "inst_version_distinct_count": "Number of distinct installment calendar versions (num_instalment_version).",
    "inst_late_count": "Number of installments paid late (days_past_due > 0).",
    "inst_late_share": "Share of installments paid late (days_past_due > 0).",
    "inst_late_30_share": "Share of installments paid more than 30 days late.",
    "inst_underpaid_share": "Share of installments paid less than due (payment_diff > 0).",
    "inst_last365d_count": "Number of installment payments due in the 365 days before the application.",
    "inst_last365d_late_share": "Share of the installments due in the last 365 days paid late.",
    "inst_days_past_due_trend": "Lateness trend: mean days_past_due of the last 365 days minus that of older "
                                "installments (positive: paying later recently).",
    "cc_month_count": "Number of credit-card monthly balances (0 without any).",
    "cc_card_count": "Number of distinct credit cards (sk_id_prev).",
    "cc_dpd_share": "Share of credit-card monthly balances with days past due (sk_dpd > 0).",
    "cc_below_min_payment_share": "Share of credit-card months paid below the minimum installment "
                                  "(amt_payment_current < amt_inst_min_regularity).",
    "cc_last12m_dpd_share": "Share of the last 12 months' credit-card balances with days past due.",
    "cc_last_month_utilization": "Credit-card utilisation (amt_balance / amt_credit_limit_actual) of the most "
                                 "recent month (max over cards).",
    "cc_last_month_amt_balance_sum": "Total credit-card balance of the most recent month (sum over cards).",
    "cc_last_month_months_balance": "Most recent credit-card month (months_balance, relative to the application).",
    "cc_name_contract_status_active_share": "Share of credit-card monthly balances with status 'Active'.",
}

CATEGORICAL_LEVEL_COLUMNS = ["credit_type", "name_contract_type", "name_yield_group", "name_contract_status"]

HISTORY_MODELS = ["int_bureau_features", "int_previous_application_features", "int_pos_cash_features",
                  "int_installments_features", "int_credit_card_features"]


class UndocumentedColumn(ValueError):
    pass


def _staging_docs() -> dict[str, dict[str, str]]:
    data = load_yaml(STAGING_YAML.read_text(encoding="utf-8"))
    return {m["name"]: {c["name"]: c.get("description", "") for c in m["columns"]} for m in data["models"]}


def describe_history_column(name: str, staging: dict[str, dict[str, str]]) -> str:
    if name in EXPLICIT:
        return EXPLICIT[name]
    for prefix in sorted(PREFIXES, key=len, reverse=True):
        if not name.startswith(prefix + "_"):
            continue
        subset, stg = PREFIXES[prefix]
        rest = name[len(prefix) + 1:]
        if rest.endswith("_share"):
            for col in CATEGORICAL_LEVEL_COLUMNS:
                if rest.startswith(col + "_"):
                    level = rest[len(col) + 1:-len("_share")].replace("_", " ")
                    return f"Share of {subset} whose {col} is '{level}' (case-insensitive spelling of the level)."
        match = re.fullmatch(r"(?P<col>.+)_(?P<agg>min|max|mean|sum|var|std)", rest)
        if not match:
            continue
        col, agg = match["col"], match["agg"]
        if col in DERIVED_ROW_COLUMNS:
            base = DERIVED_ROW_COLUMNS[col]
        elif col in staging.get(stg, {}):
            base = staging[stg][col]
        else:
            continue
        return f"{AGGS[agg]} over {subset} of {col}: {base}"
    raise UndocumentedColumn(f"cannot document column {name!r}: add it to EXPLICIT or follow the naming convention")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    rows = con.execute(
        "select column_name, data_type from duckdb_columns() where table_name = ? and schema_name = 'main' "
        "order by column_index", [table]).fetchall()
    if not rows:
        raise ValueError(f"table {table} not found in the warehouse: build it first")
    return [(r[0], r[1].lower()) for r in rows]


def column_docs(con: duckdb.DuckDBPyConnection) -> dict[str, dict[str, str]]:
    """``{model: {column: description}}`` for the intermediate models and the marts."""
    staging = _staging_docs()
    app_raw = staging["stg_application_train"]
    docs: dict[str, dict[str, str]] = {}
    ids = {"sk_id_curr": "ID of the applicant (loan in our sample), the primary key.",
           "dataset": "Which Kaggle file the applicant comes from: 'train' (application_train, labelled) or "
                      "'test' (application_test).",
           "target": app_raw["target"] + " NULL for test applicants."}
    docs["int_applications"] = {c: ids.get(c) or app_raw[c] for c, _ in _columns(con, "int_applications")}
    docs["int_application_features"] = {
        c: ids.get(c) or f"Engineered: {ENGINEERED[c]}." for c, _ in _columns(con, "int_application_features")}
    docs["int_bureau_balance_by_loan"] = {
        c: ("ID of the Credit Bureau credit, the primary key." if c == "sk_id_bureau"
            else DERIVED_ROW_COLUMNS[c][0].upper() + DERIVED_ROW_COLUMNS[c][1:] + ".")
        for c, _ in _columns(con, "int_bureau_balance_by_loan")}
    for model in HISTORY_MODELS:
        docs[model] = {c: ids["sk_id_curr"] if c == "sk_id_curr" else describe_history_column(c, staging)
                       for c, _ in _columns(con, model)}
    mart: dict[str, str] = {}
    for c, _ in _columns(con, "applicant_features"):
        for model in ["int_applications", "int_application_features", *HISTORY_MODELS]:
            if c in docs[model]:
                text = docs[model][c]
                if model in HISTORY_MODELS and c.endswith("_count") and c != "sk_id_curr":
                    text = text.rstrip(".") + " (0 when the applicant has no such history)."
                elif model in HISTORY_MODELS and c != "sk_id_curr":
                    text = text.rstrip(".") + ". NULL when the applicant has no such history."
                mart[c] = text
                break
        else:
            raise UndocumentedColumn(f"applicant_features.{c} has no documentation")
    docs["applicant_features"] = mart
    docs["training_set"] = {c: mart[c] for c, _ in _columns(con, "training_set")}
    return docs


def _pk(column: str) -> dict:
    return {"name": column, "data_tests": ["unique", "not_null"]}


def _tests_for(model: str, column: str, data_type: str) -> list:
    """Column-level tests: keys, codes and relationships (ranges are grouped per model, see ``_model_tests``)."""
    tests: list = []
    if column == "sk_id_curr" and model != "int_bureau_balance_by_loan":
        tests += ["unique", "not_null"]  # orphans vs applications: tested once, in staging
    if column == "sk_id_bureau":
        tests += ["unique", "not_null", {"relationships": {
            "arguments": {"to": "ref('stg_bureau')", "field": "sk_id_bureau"}, "config": {"severity": "warn"}}}]
    if column == "dataset":
        tests += ["not_null", {"accepted_values": {"arguments": {"values": ["train", "test"]}}}]
    if column == "target" and model in ("int_applications", "applicant_features", "training_set"):
        tests.append({"accepted_values": {"arguments": {"values": [0, 1], "quote": False}}})
        if model == "training_set":
            tests.append("not_null")
    return tests


def _ranges(model: str, columns: dict[str, str]) -> list[tuple[list[str], float | None, float | None]]:
    """The range checks of a model's columns by the naming rule: (columns, min, max) groups."""
    names = list(columns)
    return [
        ([c for c in names if c.endswith("_share") or re.search(r"_share_(mean|max|min)$", c)], 0, 1),
        ([c for c in names if c.endswith("_count") and columns[c] in ("bigint", "integer", "hugeint")], 0, None),
        ([c for c in names if c.startswith("ext_source_") and c.rsplit("_", 1)[-1]
          in ("mean", "min", "max", "weighted", "product")], 0, 1),
        ([c for c in names if c == "age_years"], 18, 100),
        ([c for c in names if c in ("amt_income_total", "amt_credit", "amt_annuity", "amt_goods_price")], 0, None),
    ]


def checked_upstream(types: dict[str, dict[str, str]]) -> set[tuple[str, float | None, float | None]]:
    """(column, min, max) of every range check of the intermediate models that ``applicant_features`` passes
    through unchanged, so the mart need not repeat it (the tail of the build, where nothing else runs).

    The mart selects each intermediate column as is (macro ``columns_of``), the history ``_count`` columns as
    ``coalesce(x, 0)``: a value outside a range fails the intermediate model's test -- which the mart waits for --
    and a 0 filled in by the left join passes any range that holds 0, so only those count ranges are skipped."""
    checked = set()
    for model in INTERMEDIATE_MODELS:
        for cols, lo, hi in _ranges(model, types[model]):
            for column in cols:
                filled = column.endswith("_count") and model in HISTORY_MODELS
                if not filled or ((lo is None or lo <= 0) and (hi is None or hi >= 0)):
                    checked.add((column, lo, hi))
    return checked


def _model_tests(model: str, columns: dict[str, str],
                 skip: set[tuple[str, float | None, float | None]] = frozenset()) -> list:
    """Range and completeness tests grouped per model: one query each, naming the failing column. ``skip``: the
    (column, min, max) checks already made upstream on the same values."""
    names = list(columns)
    tests: list = []
    for cols, lo, hi in _ranges(model, columns):
        cols = [c for c in cols if (c, lo, hi) not in skip]
        if cols:
            args = {"columns": cols, **{k: v for k, v in (("min_value", lo), ("max_value", hi)) if v is not None}}
            tests.append({"columns_between": {"arguments": args}})
    counts = [c for c in names if c.endswith("_count") and columns[c] in ("bigint", "integer", "hugeint")]
    if model in ("applicant_features", "training_set") and counts:
        tests.append({"columns_not_null": {"arguments": {"columns": counts}}})
    return tests


def render(con: duckdb.DuckDBPyConnection) -> dict[Path, str]:
    docs = column_docs(con)
    types = {m: dict(_columns(con, m)) for m in docs}
    upstream = checked_upstream(types)

    def model_entry(model: str, description: str) -> dict:
        entry: dict = {"name": model, "description": description}
        model_tests = _model_tests(model, types[model], upstream if model == "applicant_features" else frozenset())
        if model != "training_set" and model_tests:  # training_set = filtered mart (singular test)
            entry["data_tests"] = model_tests
        cols = []
        for column, text in docs[model].items():
            col: dict = {"name": column, "description": text, "data_type": types[model][column]}
            tests = _tests_for(model, column, types[model][column]) if model != "training_set" or column in (
                "sk_id_curr", "target") else []
            if tests:
                col["data_tests"] = tests
            cols.append(col)
        entry["columns"] = cols
        return entry

    intermediate = {"version": 2, "models": [model_entry(m, d) for m, d in INTERMEDIATE_MODELS.items()]}
    marts = {"version": 2, "models": [
        model_entry(
            "applicant_features",
            "The feature store: one row per applicant of application_train and application_test (train and "
            "test), with `dataset`, `target` (NULL for test), the application's own columns, engineered "
            "application features and per-applicant aggregates of every history table. History rows are "
            "only those dated on or before the application. Categorical features are VARCHAR, flags BOOLEAN, "
            "everything else numeric. Each column's description gives its source wording or its formula.",
        ),
        model_entry(
            "training_set",
            "The labelled rows of applicant_features (dataset = 'train'): sk_id_curr, target, then the same "
            "feature columns, for modeling.",
        ),
    ]}
    return {INTERMEDIATE_YAML: dump_yaml(intermediate), MARTS_YAML: dump_yaml(marts)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"))
    args = parser.parse_args(argv)
    with duckdb.connect(str(args.warehouse), read_only=True) as con:
        files = render(con)
    for path, text in files.items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
