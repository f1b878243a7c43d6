"""Generate the dbt sources YAML and the staging models from ``raw_columns.json``.

The raw format is declared once (``hc_contracts/raw_columns.json``). This script derives from it:
- ``warehouse/models/staging/_home_credit__sources.yml`` (every column with its DuckDB type, which the
  ``on-run-start`` hook uses to read the CSVs with explicit types),
- one ``stg_<table>.sql`` per source (rename to snake_case, type, clean) and
  ``_staging__models.yml`` (column docs and data tests).

Run ``python -m warehouse.codegen_staging [--descriptions PATH]`` after changing ``raw_columns.json``;
``tests/warehouse/test_codegen.py`` fails when the committed files are out of date.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

from hc_contracts.raw_format import TABLES, columns_of
from warehouse import descriptions as desc_mod
from warehouse.yaml_io import dump_yaml

STAGING_DIR = Path(__file__).resolve().parent / "models" / "staging"
SOURCE_NAME = "home_credit"

STG_NAME = {t: f"stg_{t.lower()}" for t in TABLES}

# ---------------------------------------------------------------- cleaning rules
YES_NO_COLUMNS = {"FLAG_OWN_CAR": ("Y", "N"), "FLAG_OWN_REALTY": ("Y", "N"),
                  "FLAG_LAST_APPL_PER_CONTRACT": ("Y", "N"), "EMERGENCYSTATE_MODE": ("Yes", "No")}
BINARY_PREFIXES = ("FLAG_", "NFLAG_", "REG_REGION_NOT_", "REG_CITY_NOT_", "LIVE_REGION_NOT_", "LIVE_CITY_NOT_")
MISSING_CODES = ("XNA", "XAP")
SENTINEL_DAYS = 365243
# columns where 365243 means "not applicable / open-ended" -> NULL, plus a flag column keeping the signal
SENTINEL_COLUMNS = {
    "application": {"DAYS_EMPLOYED": "days_employed_anomaly"},
    "previous_application": {
        "DAYS_FIRST_DRAWING": "days_first_drawing_anomaly",
        "DAYS_FIRST_DUE": "days_first_due_anomaly",
        "DAYS_LAST_DUE_1ST_VERSION": "days_last_due_1st_version_anomaly",
        "DAYS_LAST_DUE": "days_last_due_anomaly",
        "DAYS_TERMINATION": "days_termination_anomaly",
    },
}
# history rows dated after the application are dropped (day/month 0 = the application date)
HISTORY_DATE_FILTER = {
    "bureau": ["days_credit"],
    "bureau_balance": ["months_balance"],
    "previous_application": ["days_decision"],
    "POS_CASH_balance": ["months_balance"],
    "installments_payments": ["days_instalment", "days_entry_payment"],
    "credit_card_balance": ["months_balance"],
}
PRIMARY_KEYS = {
    "application_train": ["sk_id_curr"],
    "application_test": ["sk_id_curr"],
    "bureau": ["sk_id_bureau"],
    "bureau_balance": ["sk_id_bureau", "months_balance"],
    "previous_application": ["sk_id_prev"],
    "POS_CASH_balance": ["sk_id_prev", "months_balance"],
    "credit_card_balance": ["sk_id_prev", "months_balance"],
    # installments_payments: one row per payment line, no natural key (Kaggle repeats instalments)
}
# the months of a monthly history (<= 0 once staged; Kaggle's reach back to -96): the fast path of the composite-key
# test; months outside it are still checked, exactly (warehouse/macros/generic_tests.sql)
MONTHS_RANGE = (-127, 0)
# (column, parent model, parent column): orphans are real in Kaggle's data -> severity warn
RELATIONSHIPS = {
    "bureau": [("sk_id_curr", "int_applications", "sk_id_curr")],
    "bureau_balance": [("sk_id_bureau", "stg_bureau", "sk_id_bureau")],
    "previous_application": [("sk_id_curr", "int_applications", "sk_id_curr")],
    "POS_CASH_balance": [("sk_id_prev", "stg_previous_application", "sk_id_prev"),
                         ("sk_id_curr", "int_applications", "sk_id_curr")],
    "installments_payments": [("sk_id_prev", "stg_previous_application", "sk_id_prev"),
                              ("sk_id_curr", "int_applications", "sk_id_curr")],
    "credit_card_balance": [("sk_id_prev", "stg_previous_application", "sk_id_prev"),
                            ("sk_id_curr", "int_applications", "sk_id_curr")],
}
# accepted values of categorical codes (after XNA/XAP -> NULL). "error": a closed code list;
# "warn": long lists where the full download may hold a rare level the samples do not show.
ACCEPTED_VALUES: dict[str, dict[str, tuple[str, list[str]]]] = {
    "application": {
        "NAME_CONTRACT_TYPE": ("error", ["Cash loans", "Revolving loans"]),
        "CODE_GENDER": ("error", ["F", "M"]),
        "NAME_INCOME_TYPE": ("warn", ["Businessman", "Commercial associate", "Maternity leave", "Pensioner",
                                      "State servant", "Student", "Unemployed", "Working"]),
        "NAME_EDUCATION_TYPE": ("warn", ["Academic degree", "Higher education", "Incomplete higher",
                                         "Lower secondary", "Secondary / secondary special"]),
        "NAME_FAMILY_STATUS": ("warn", ["Civil marriage", "Married", "Separated", "Single / not married",
                                        "Unknown", "Widow"]),
        "NAME_HOUSING_TYPE": ("warn", ["Co-op apartment", "House / apartment", "Municipal apartment",
                                       "Office apartment", "Rented apartment", "With parents"]),
        "WEEKDAY_APPR_PROCESS_START": ("error", ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY",
                                                "SATURDAY", "SUNDAY"]),
    },
    "bureau": {
        "CREDIT_ACTIVE": ("error", ["Active", "Bad debt", "Closed", "Sold"]),
        "CREDIT_CURRENCY": ("warn", ["currency 1", "currency 2", "currency 3", "currency 4"]),
    },
    "bureau_balance": {"STATUS": ("error", ["0", "1", "2", "3", "4", "5", "C", "X"])},
    "previous_application": {
        "NAME_CONTRACT_STATUS": ("error", ["Approved", "Canceled", "Refused", "Unused offer"]),
        "NAME_CONTRACT_TYPE": ("error", ["Cash loans", "Consumer loans", "Revolving loans"]),
        "NAME_CLIENT_TYPE": ("error", ["New", "Refreshed", "Repeater"]),
        "NAME_PORTFOLIO": ("warn", ["Cards", "Cars", "Cash", "POS"]),
        "NAME_YIELD_GROUP": ("warn", ["high", "low_action", "low_normal", "middle"]),
        "WEEKDAY_APPR_PROCESS_START": ("error", ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY",
                                                "SATURDAY", "SUNDAY"]),
    },
    "POS_CASH_balance": {
        "NAME_CONTRACT_STATUS": ("warn", ["Active", "Amortized debt", "Approved", "Canceled", "Completed",
                                          "Demand", "Returned to the store", "Signed"]),
    },
    "credit_card_balance": {
        "NAME_CONTRACT_STATUS": ("warn", ["Active", "Approved", "Completed", "Demand", "Refused",
                                          "Sent proposal", "Signed"]),
    },
}
# value ranges: (min, max, severity); None = unbounded
PLAUSIBILITY_FILE = Path(__file__).resolve().parent / "plausibility.json"  # shared with the API's schemas
_PLAUSIBILITY = json.loads(PLAUSIBILITY_FILE.read_text(encoding="utf-8"))
# value ranges per table family: {raw column: (min, max, severity)}
RANGES: dict[str, dict[str, tuple[float | None, float | None, str]]] = {
    family: {column: (lo, hi, severity) for column, (lo, hi, severity) in columns.items()}
    for family, columns in _PLAUSIBILITY["ranges"].items()
}
# cross-column rules: column >= other + plus
AT_LEAST_COLUMN: dict[str, list[dict]] = _PLAUSIBILITY.get("at_least_column", {})


def _family(table: str) -> str:
    return "application" if table.startswith("application_") else table


@dataclass(frozen=True)
class StagedColumn:
    raw: str
    raw_type: str
    name: str
    group: str  # ids | target | codes | flags | numerics | dates
    expression: str
    sql_type: str
    extra_doc: str = ""


def is_binary_flag(column: str, raw_type: str) -> bool:
    return raw_type != "VARCHAR" and column.startswith(BINARY_PREFIXES)


def staged_columns(table: str) -> list[StagedColumn]:
    """The staging columns of one source, grouped ids / target / codes / flags / numerics / dates."""
    family = _family(table)
    sentinels = SENTINEL_COLUMNS.get(family, {})
    out: list[StagedColumn] = []
    for raw, raw_type in columns_of(table):
        name = raw.lower()
        if raw.startswith("SK_ID_"):
            out.append(StagedColumn(raw, raw_type, name, "ids", raw, "bigint"))
        elif raw == "TARGET":
            out.append(StagedColumn(raw, raw_type, name, "target", f"cast({raw} as integer)", "integer"))
        elif raw in YES_NO_COLUMNS:
            yes, no = YES_NO_COLUMNS[raw]
            expr = f"case when {raw} = '{yes}' then true when {raw} = '{no}' then false end"
            out.append(StagedColumn(raw, raw_type, name, "flags", expr, "boolean",
                                    f"Boolean: '{yes}' -> true, '{no}' -> false."))
        elif is_binary_flag(raw, raw_type):
            expr = f"case when {raw} = 1 then true when {raw} = 0 then false end"
            out.append(StagedColumn(raw, raw_type, name, "flags", expr, "boolean",
                                    "Boolean: 1 -> true, 0 -> false."))
        elif raw_type == "VARCHAR":
            expr = f"nullif(nullif({raw}, '{MISSING_CODES[0]}'), '{MISSING_CODES[1]}')"
            out.append(StagedColumn(raw, raw_type, name, "codes", expr, "varchar",
                                    "Codes XNA / XAP (not available / not applicable) -> NULL."))
        elif raw in sentinels:
            expr = f"case when {raw} = {SENTINEL_DAYS} then null else {raw} end"
            out.append(StagedColumn(raw, raw_type, name, "dates", expr, raw_type.lower(),
                                    f"Sentinel {SENTINEL_DAYS} -> NULL (see {sentinels[raw]})."))
            flag_expr = f"coalesce({raw} = {SENTINEL_DAYS}, false)"
            out.append(StagedColumn(raw, raw_type, sentinels[raw], "flags", flag_expr, "boolean",
                                    f"True when {raw} holds the sentinel {SENTINEL_DAYS} (anomaly that carries signal)."))
        elif raw.startswith(("DAYS_", "MONTHS_")):
            out.append(StagedColumn(raw, raw_type, name, "dates", raw, raw_type.lower()))
        else:
            out.append(StagedColumn(raw, raw_type, name, "numerics", raw, raw_type.lower()))
    order = ["ids", "target", "codes", "flags", "numerics", "dates"]
    return sorted(out, key=lambda c: order.index(c.group))


GROUP_HEADERS = {
    "ids": "ids",
    "target": "target",
    "codes": "categorical codes (XNA / XAP -> NULL)",
    "flags": "flags (booleans)",
    "numerics": "numerics",
    "dates": "dates (days / months relative to the application; negative = before)",
}


def staging_sql(table: str) -> str:
    cols = staged_columns(table)
    lines: list[str] = []
    current = None
    for i, col in enumerate(cols):
        if col.group != current:
            if current is not None:
                lines.append("")
            lines.append(f"        ---------- {GROUP_HEADERS[col.group]}")
            current = col.group
        comma = "," if i < len(cols) - 1 else ""
        if col.expression == col.raw and col.name == col.raw.lower():
            lines.append(f"        {col.raw} as {col.name}{comma}")
        else:
            lines.append(f"        {col.expression} as {col.name}{comma}")
    body = "\n".join(lines)
    header = ("-- generated by `python -m warehouse.codegen_staging` from hc_contracts/raw_columns.json: "
              "do not edit by hand\n")
    filters = HISTORY_DATE_FILTER.get(table)
    if filters:
        cond = "\n        and ".join(f"coalesce({c}, 0) <= 0" for c in filters)
        tail = (
            "\n\nhistory_before_application as (\n\n"
            "    -- keep only rows dated on or before the application (day / month 0); future-dated rows are dropped\n"
            f"    select * from renamed\n    where {cond}\n\n)\n\n"
            "select * from history_before_application\n"
        )
    else:
        tail = "\n\nselect * from renamed\n"
    return (
        f"{header}\nwith\n\nsource as (\n\n    select * from {{{{ source('{SOURCE_NAME}', '{table}') }}}}\n\n),\n\n"
        f"renamed as (\n\n    select\n\n{body}\n\n    from source\n\n){',' if filters else ''}{tail}"
    )


def _column_tests(table: str, col: StagedColumn) -> list:
    family = _family(table)
    tests: list = []
    keys = PRIMARY_KEYS.get(table, [])
    if keys == [col.name]:
        tests += ["unique", "not_null"]
    elif col.name in keys:
        tests.append("not_null")
    for column, parent, parent_col in RELATIONSHIPS.get(table, []):
        if column == col.name:
            tests.append({"relationships": {"arguments": {"to": f"ref('{parent}')", "field": parent_col},
                                            "config": {"severity": "warn"}}})
    if col.raw in ACCEPTED_VALUES.get(family, {}) and col.group == "codes":
        severity, values = ACCEPTED_VALUES[family][col.raw]
        tests.append({"accepted_values": {"arguments": {"values": values}, "config": {"severity": severity}}})
    if col.name == "target":
        tests += ["not_null", {"accepted_values": {"arguments": {"values": [0, 1], "quote": False}}}]
    return tests


def _range_tests(table: str) -> list:
    """Value ranges, one model-level test per (bounds, severity): a single query names the failing column."""
    staged = {c.raw: c for c in staged_columns(table) if c.group in ("numerics", "dates")}
    groups: dict[tuple, list[str]] = {}
    for raw, (lo, hi, severity) in RANGES.get(_family(table), {}).items():
        if raw in staged:
            groups.setdefault((lo, hi, severity), []).append(staged[raw].name)
    tests = []
    for (lo, hi, severity), columns in groups.items():
        args: dict = {"columns": columns}
        args.update({k: v for k, v in (("min_value", lo), ("max_value", hi)) if v is not None})
        tests.append({"columns_between": {"arguments": args, "config": {"severity": severity}}})
    for rule in AT_LEAST_COLUMN.get(_family(table), []):
        if rule["column"] in staged and rule["other"] in staged:
            args = {"column": staged[rule["column"]].name, "other": staged[rule["other"]].name, "plus": rule["plus"]}
            tests.append({"columns_at_least_column": {"arguments": args, "config": {"severity": rule["severity"]}}})
    return tests


def sources_yaml(descriptions: dict[tuple[str, str], str]) -> dict:
    tables = []
    for table in TABLES:
        columns = []
        for raw, raw_type in columns_of(table):
            entry = {"name": raw, "data_type": raw_type}
            text = descriptions.get((_family(table), raw))
            if text:
                entry["description"] = text
            columns.append(entry)
        tables.append({
            "name": table,
            "description": f"Kaggle file `{table}.csv` in HC_RAW_DIR, read with the explicit column types "
                           "of hc_contracts/raw_columns.json.",
            "columns": columns,
        })
    return {"version": 2, "sources": [{
        "name": SOURCE_NAME,
        "description": "The eight Kaggle Home Credit Default Risk CSV files. Catalog `raw` is attached by the "
                       "profile: in-memory views over the CSVs (plain `dbt build`) or the typed tables "
                       "loaded and validated by `python -m warehouse.build`. It never persists in the warehouse file.",
        # DuckDB: the attached catalog `raw` (schema main); Spark has no catalogs: the database hc_raw
        "database": "{{ 'hc_raw' if target.type == 'spark' else 'raw' }}",
        "schema": "{{ 'hc_raw' if target.type == 'spark' else 'main' }}",
        "tables": tables,
    }]}


def staging_yaml(descriptions: dict[tuple[str, str], str]) -> dict:
    models = []
    for table in TABLES:
        family = _family(table)
        cols = []
        for col in staged_columns(table):
            base = descriptions.get((family, col.raw), "")
            if col.name != col.raw.lower():  # derived flag column
                text = col.extra_doc
            else:
                text = " ".join(x if x.endswith((".", ")")) else x + "." for x in (base, col.extra_doc) if x)
            entry: dict = {"name": col.name, "description": text or col.raw, "data_type": col.sql_type}
            tests = _column_tests(table, col)
            if tests:
                entry["data_tests"] = tests
            cols.append(entry)
        model: dict = {
            "name": STG_NAME[table],
            "description": f"Staging of `{table}`: one row per raw row"
            + (", history rows dated after the application removed" if table in HISTORY_DATE_FILTER else "")
            + "; columns renamed to snake_case, typed and cleaned (XNA/XAP -> NULL, Y/N and 0/1 flags -> "
              "boolean, 365243 day sentinels -> NULL with an anomaly flag).",
            "columns": cols,
        }
        model_tests: list = []
        keys = PRIMARY_KEYS.get(table, [])
        if len(keys) > 1:
            arguments: dict = {"combination_of_columns": keys}
            if keys[-1] == "months_balance":  # DuckDB counts a history's months as bits (generic_tests.sql)
                arguments["last_column_range"] = list(MONTHS_RANGE)
            model_tests.append({"unique_combination_of_columns": {"arguments": arguments}})
        model_tests += _range_tests(table)
        if model_tests:
            model["data_tests"] = model_tests
        models.append(model)
    return {"version": 2, "models": models}


def render_all(descriptions: dict[tuple[str, str], str]) -> dict[Path, str]:
    files = {
        STAGING_DIR / "_home_credit__sources.yml": dump_yaml(sources_yaml(descriptions)),
        STAGING_DIR / "_staging__models.yml": dump_yaml(staging_yaml(descriptions)),
    }
    for table in TABLES:
        files[STAGING_DIR / f"{STG_NAME[table]}.sql"] = staging_sql(table)
    return files


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descriptions", type=Path, default=desc_mod.DEFAULT_DESCRIPTIONS_CSV,
                        help="Kaggle's HomeCredit_columns_description.csv (UTF-8)")
    args = parser.parse_args(argv)
    descriptions = desc_mod.load_descriptions(args.descriptions)
    STAGING_DIR.mkdir(parents=True, exist_ok=True)
    for path, text in render_all(descriptions).items():
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    main()
