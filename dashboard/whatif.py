"""What-if scenarios: a few application amounts of a known client changed, for
``POST /v1/applicants/{id}/what-if``.

The API keeps the client's own application and credit history and recomputes, with the warehouse's
SQL, every feature the changed amounts feed (ratios such as credit / income): with no change the
scenario is exactly the official score, so the difference is the effect of the changes alone.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from dashboard.formatting import is_missing, number
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


# The form shows whole currency units: a value within half a unit of the current one is "unchanged"
# (the client's data may carry cents the form does not show).
UNCHANGED_WITHIN = 0.5


def validate(values: Mapping[str, float | None], current: Mapping[str, float | None] | None = None) -> list[str]:
    """Problems with the officer's values, each naming the field and the expected form. A blank field
    keeps the client's current value; the annuity is checked against the credit that would apply."""
    current = current or {}
    problems = []
    for item in EDITABLE:
        value = values.get(item.raw)
        if value is None:
            continue
        if not math.isfinite(value):
            problems.append(f"{item.label}: '{value}' is not a number.")
        elif value <= 0:
            problems.append(f"{item.label}: must be greater than 0 (you entered {number(value)}).")
        elif value > MAX_AMOUNT:
            problems.append(
                f"{item.label}: must be at most {number(MAX_AMOUNT)} (you entered {number(value)})."
            )

    def effective(name: str) -> float | None:
        v = values.get(name)
        return v if v is not None else current.get(name)

    credit, annuity = effective("AMT_CREDIT"), effective("AMT_ANNUITY")
    if credit and annuity and credit > 0 and annuity > credit:
        problems.append(
            f"Loan annuity ({number(annuity)}) cannot be larger than the credit amount ({number(credit)})."
        )
    return problems


def current_values(applicant: Applicant) -> dict[str, float | None]:
    values: dict[str, float | None] = {}
    by_name = {f.name: f.value for g in applicant.groups for f in g.fields}
    for item in EDITABLE:
        v = by_name.get(item.feature)
        values[item.raw] = float(v) if isinstance(v, int | float) and not is_missing(v) else None
    return values


def changes(values: Mapping[str, float | None], current: Mapping[str, float | None] | None = None) -> dict[str, float]:
    """The what-if body (Kaggle names): only the amounts that differ from the client's current values;
    blank fields and untouched ones are left out, so the API keeps the stored values exactly."""
    current = current or {}
    body = {}
    for item in EDITABLE:
        value, now = values.get(item.raw), current.get(item.raw)
        if value is None or (now is not None and abs(value - now) < UNCHANGED_WITHIN):
            continue
        body[item.raw] = float(value)
    return body
