"""Build the committed feature-label file from Kaggle's column dictionary.

``python -m models_ml.labels /path/to/HomeCredit_columns_description.csv`` rewrites
``models_ml/resources/feature_labels.json``: for each raw table, each column (snake_case) gets a short
plain-language ``label`` and Kaggle's ``description``. Only the dictionary's descriptions are stored
(no data rows). Short labels for the columns officers meet most often are written by hand below.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
from pathlib import Path

RESOURCE = Path(__file__).with_name("resources") / "feature_labels.json"

TABLE_KEYS = {
    "application_{train|test}.csv": "application",
    "bureau.csv": "bureau",
    "bureau_balance.csv": "bureau_balance",
    "previous_application.csv": "previous_application",
    "POS_CASH_balance.csv": "pos_cash_balance",
    "installments_payments.csv": "installments_payments",
    "credit_card_balance.csv": "credit_card_balance",
}

SHORT_LABELS: dict[str, str] = {
    "ext_source_1": "External credit score 1",
    "ext_source_2": "External credit score 2",
    "ext_source_3": "External credit score 3",
    "days_birth": "Age",
    "days_employed": "Time in current employment",
    "days_registration": "Time since the registration was changed",
    "days_id_publish": "Time since the identity document was changed",
    "days_last_phone_change": "Time since the phone number was changed",
    "amt_credit": "Credit amount",
    "amt_annuity": "Loan annuity",
    "amt_income_total": "Income",
    "amt_goods_price": "Price of the goods financed",
    "code_gender": "Gender",
    "name_family_status": "Family status",
    "name_education_type": "Education level",
    "name_income_type": "Income type",
    "name_contract_type": "Contract type",
    "name_housing_type": "Housing situation",
    "occupation_type": "Occupation",
    "organization_type": "Type of employer",
    "cnt_children": "Number of children",
    "cnt_fam_members": "Number of family members",
    "flag_own_car": "Owns a car",
    "flag_own_realty": "Owns a house or flat",
    "own_car_age": "Age of the client's car",
    "region_rating_client": "Rating of the client's region",
    "region_rating_client_w_city": "Rating of the client's region and city",
    "region_population_relative": "Population of the client's region",
    "def_30_cnt_social_circle": "People around the client 30 days past due",
    "def_60_cnt_social_circle": "People around the client 60 days past due",
    "obs_30_cnt_social_circle": "People around the client with observable 30-day arrears",
    "obs_60_cnt_social_circle": "People around the client with observable 60-day arrears",
    "amt_req_credit_bureau_year": "Credit bureau enquiries in the last year",
    "amt_req_credit_bureau_qrt": "Credit bureau enquiries in the last quarter",
    "amt_req_credit_bureau_mon": "Credit bureau enquiries in the last month",
    "hour_appr_process_start": "Hour the application was made",
    "weekday_appr_process_start": "Weekday the application was made",
    "reg_city_not_live_city": "Lives in another city than registered",
    "reg_city_not_work_city": "Works in another city than registered",
    "live_city_not_work_city": "Works in another city than lives",
    "name_type_suite": "Who accompanied the client",
    "flag_document_3": "Provided document 3",
    "flag_phone": "Provided a home phone",
    "flag_work_phone": "Provided a work phone",
    "flag_emp_phone": "Provided an employer phone",
    "flag_email": "Provided an e-mail address",
}

TABLE_SHORT_LABELS: dict[str, dict[str, str]] = {
    "bureau": {
        "days_credit": "Days since the credit was opened", "days_credit_enddate": "Remaining duration (days)",
        "days_enddate_fact": "Days since the credit ended", "days_credit_update": "Days since the last update",
        "amt_credit_sum": "Credit amount", "amt_credit_sum_debt": "Current debt",
        "amt_credit_sum_limit": "Credit card limit", "amt_credit_sum_overdue": "Amount overdue",
        "amt_credit_max_overdue": "Largest amount ever overdue", "credit_day_overdue": "Days overdue",
        "cnt_credit_prolong": "Number of prolongations", "amt_annuity": "Annuity",
        "credit_type": "Credit type", "credit_active": "Credit status", "credit_currency": "Currency",
    },
    "bureau_balance": {"months_balance": "Month of history (relative)", "status": "Monthly status"},
    "previous_application": {
        "amt_application": "Amount asked", "amt_credit": "Credit amount", "amt_annuity": "Annuity",
        "amt_down_payment": "Down payment", "amt_goods_price": "Goods price",
        "days_decision": "Days since the decision", "days_first_due": "Days since the first due date",
        "days_last_due_1st_version": "Days since the first planned end",
        "days_last_due": "Days since the last due date", "days_termination": "Days since termination",
        "days_first_drawing": "Days since the first drawing", "cnt_payment": "Loan term (months)",
        "rate_down_payment": "Down payment rate", "hour_appr_process_start": "Application hour",
        "sellerplace_area": "Seller area", "name_contract_type": "Contract type",
        "name_yield_group": "Interest rate group",
    },
    "installments_payments": {
        "days_entry_payment": "Days since the payment", "days_instalment": "Days since the due date",
        "amt_instalment": "Instalment due", "amt_payment": "Amount paid",
        "num_instalment_number": "Instalment number", "num_instalment_version": "Instalment calendar version",
    },
    "pos_cash_balance": {
        "cnt_instalment": "Loan term (instalments)", "cnt_instalment_future": "Instalments left to pay",
        "sk_dpd": "Days past due", "sk_dpd_def": "Days past due (with tolerance)",
        "months_balance": "Month of history (relative)", "name_contract_status": "Contract status",
    },
    "credit_card_balance": {
        "amt_balance": "Card balance", "amt_credit_limit_actual": "Card limit",
        "amt_drawings_atm_current": "ATM withdrawals", "amt_drawings_current": "Drawings",
        "amt_drawings_other_current": "Other drawings", "amt_drawings_pos_current": "Card purchases",
        "amt_inst_min_regularity": "Minimum instalment", "amt_payment_current": "Payment",
        "amt_payment_total_current": "Total payment", "amt_receivable_principal": "Principal receivable",
        "amt_recivable": "Amount receivable", "amt_total_receivable": "Total receivable",
        "cnt_drawings_atm_current": "Number of ATM withdrawals", "cnt_drawings_current": "Number of drawings",
        "cnt_drawings_other_current": "Number of other drawings",
        "cnt_drawings_pos_current": "Number of card purchases", "cnt_instalment_mature_cum": "Instalments paid",
        "sk_dpd": "Days past due", "sk_dpd_def": "Days past due (with tolerance)",
        "months_balance": "Month of history (relative)", "name_contract_status": "Contract status",
    },
}

_HOUSING_SUFFIX = {"_avg": "average", "_mode": "mode", "_medi": "median"}


def snake(name: str) -> str:
    return re.sub(r"[^0-9a-z]+", "_", name.strip().lower()).strip("_")


def short_label(column: str, description: str, table: str = "application") -> str:
    if column in TABLE_SHORT_LABELS.get(table, {}):
        return TABLE_SHORT_LABELS[table][column]
    if column in SHORT_LABELS:
        return SHORT_LABELS[column]
    for suffix, word in _HOUSING_SUFFIX.items():
        if column.endswith(suffix):
            thing = column[: -len(suffix)].replace("_", " ")
            return f"Client's building: {thing} ({word})"
    text = re.sub(r"\s+", " ", description).strip().rstrip(".")
    text = text.split(" (", 1)[0] if len(text) > 70 else text
    return text[:1].upper() + text[1:] if text else column.replace("_", " ").capitalize()


def build_labels(csv_path: Path) -> dict[str, object]:
    tables: dict[str, dict[str, dict[str, str]]] = {v: {} for v in TABLE_KEYS.values()}
    with open(csv_path, encoding="utf-8", errors="replace", newline="") as fh:
        for row in csv.DictReader(fh):
            table = TABLE_KEYS.get(row.get("Table", "").strip())
            if table is None:
                continue
            column = snake(row["Row"])
            description = re.sub(r"\s+", " ", row.get("Description", "")).strip()
            tables[table][column] = {"label": short_label(column, description, table),
                                     "description": description}
    return {"source": "Kaggle Home Credit Default Risk, HomeCredit_columns_description.csv "
                      "(column descriptions only)", "tables": tables}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="HomeCredit_columns_description.csv")
    parser.add_argument("--out", type=Path, default=RESOURCE, help=f"output JSON (default {RESOURCE})")
    args = parser.parse_args(argv)
    labels = build_labels(args.csv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(labels, indent=1, ensure_ascii=False, sort_keys=True) + "\n")
    n = sum(len(v) for v in labels["tables"].values())  # type: ignore[union-attr]
    print(f"wrote {n} column labels to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
