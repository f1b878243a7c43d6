"""The client's own data, grouped and labelled for people: years instead of negative day counts, etc.

Every field reads one warehouse column (`applicant_features`); a field whose column the warehouse does
not have is left out, so the profile follows the warehouse as it evolves.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

DAYS_NOT_APPLICABLE = 365243
CURRENCY = "currency units"


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def years_since(value: Any) -> float | None:
    """Kaggle day counts are negative days before the application; 365243 means 'not applicable'."""
    v = _number(value)
    if v is None or v == DAYS_NOT_APPLICABLE or v > 0:
        return None
    return round(-v / 365.25, 1)


def amount(value: Any) -> float | None:
    v = _number(value)
    return None if v is None else round(v, 2)


def ratio(value: Any) -> float | None:
    v = _number(value)
    return None if v is None else round(v, 3)


def count(value: Any) -> int | None:
    v = _number(value)
    return None if v is None else int(round(v))


def percent(value: Any) -> float | None:
    v = _number(value)
    return None if v is None else round(100 * v, 1)


def yes_no(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return {"Y": "yes", "N": "no"}.get(value.upper(), value)
    return "yes" if bool(value) else "no"


def text(value: Any) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


@dataclass(frozen=True)
class FieldSpec:
    column: str
    label: str
    unit: str | None
    transform: Callable[[Any], Any]


GROUPS: list[tuple[str, list[FieldSpec]]] = [
    (
        "Identity",
        [
            FieldSpec("code_gender", "Gender", None, text),
            FieldSpec("days_birth", "Age", "years", years_since),
            FieldSpec("name_family_status", "Family status", None, text),
            FieldSpec("cnt_children", "Children", None, count),
            FieldSpec("cnt_fam_members", "Family members", None, count),
            FieldSpec("name_education_type", "Education", None, text),
            FieldSpec("name_housing_type", "Housing", None, text),
            FieldSpec("flag_own_realty", "Owns a house or flat", None, yes_no),
            FieldSpec("flag_own_car", "Owns a car", None, yes_no),
            FieldSpec("own_car_age", "Age of the car", "years", amount),
            FieldSpec("region_rating_client_w_city", "Rating of the region and city (1 best - 3)", None, count),
        ],
    ),
    (
        "Income and employment",
        [
            FieldSpec("amt_income_total", "Annual income", CURRENCY, amount),
            FieldSpec("name_income_type", "Income type", None, text),
            FieldSpec("occupation_type", "Occupation", None, text),
            FieldSpec("organization_type", "Type of employer", None, text),
            FieldSpec("days_employed", "Time in current employment", "years", years_since),
            FieldSpec("income_per_family_member", "Income per family member", CURRENCY, amount),
        ],
    ),
    (
        "The loan",
        [
            FieldSpec("name_contract_type", "Contract type", None, text),
            FieldSpec("amt_credit", "Credit amount", CURRENCY, amount),
            FieldSpec("amt_annuity", "Annuity (periodic payment)", CURRENCY, amount),
            FieldSpec("amt_goods_price", "Price of the goods financed", CURRENCY, amount),
            FieldSpec("credit_income_ratio", "Credit / annual income", "ratio", ratio),
            FieldSpec("annuity_income_ratio", "Annuity / income", "%", percent),
            FieldSpec("credit_annuity_ratio", "Credit / annuity (number of payments)", "payments", ratio),
            FieldSpec("name_type_suite", "Accompanied by", None, text),
        ],
    ),
    (
        "Credit history",
        [
            FieldSpec("ext_source_1", "External credit score 1 (0 worst - 1 best)", None, ratio),
            FieldSpec("ext_source_2", "External credit score 2 (0 worst - 1 best)", None, ratio),
            FieldSpec("ext_source_3", "External credit score 3 (0 worst - 1 best)", None, ratio),
            FieldSpec("bureau_credit_count", "Credits reported by the credit bureau", None, count),
            FieldSpec("bureau_active_count", "Active credits at the bureau", None, count),
            FieldSpec("bureau_overdue_count", "Bureau credits overdue now", None, count),
            FieldSpec("bureau_amt_credit_sum_debt_sum", "Current debt at the bureau", CURRENCY, amount),
            FieldSpec("prev_application_count", "Previous applications with us", None, count),
            FieldSpec("prev_approved_count", "Previous applications approved", None, count),
            FieldSpec("prev_refused_count", "Previous applications refused", None, count),
            FieldSpec("inst_payment_count", "Instalments paid on previous loans", None, count),
            FieldSpec("inst_late_count", "Instalments paid late", None, count),
            FieldSpec("inst_late_share", "Share of instalments paid late", "%", percent),
            FieldSpec("pos_loan_count", "Point-of-sale / cash loans", None, count),
            FieldSpec("cc_card_count", "Credit cards with us", None, count),
            FieldSpec("cc_last_month_utilization", "Credit card utilization last month", "%", percent),
            FieldSpec("amt_req_credit_bureau_year", "Credit bureau enquiries in the last year", None, count),
        ],
    ),
]


def profile_groups(row: pd.Series) -> list[dict[str, Any]]:
    """`[{name, fields: [{name, label, value, unit}]}]` for one `applicant_features` row."""
    groups = []
    for name, specs in GROUPS:
        fields = [
            {"name": spec.column, "label": spec.label, "value": spec.transform(row[spec.column]), "unit": spec.unit}
            for spec in specs
            if spec.column in row.index
        ]
        if fields:
            groups.append({"name": name, "fields": fields})
    return groups
