"""The what-if form: the officer's values validated, the client's current values, the request body."""

from __future__ import annotations

import math

from dashboard import whatif
from dashboard.schemas import Applicant

GOOD = {
    "AMT_INCOME_TOTAL": 150_000.0,
    "AMT_CREDIT": 500_000.0,
    "AMT_ANNUITY": 25_000.0,
    "AMT_GOODS_PRICE": 450_000.0,
}

def test_valid_values_pass():
    assert whatif.validate(GOOD) == []


def test_invalid_values_are_named():
    problems = whatif.validate(
        {**GOOD, "AMT_INCOME_TOTAL": -5.0, "AMT_CREDIT": None, "AMT_GOODS_PRICE": math.nan}
    )
    text = " | ".join(problems)
    assert "Annual income: must be greater than 0 (you entered -5)" in text
    assert "Credit amount" not in text  # blank keeps the current value
    assert "Price of the goods" in text and "not a number" in text
    assert len(problems) == 2


def test_annuity_larger_than_credit_is_refused():
    problems = whatif.validate({**GOOD, "AMT_ANNUITY": 600_000.0})
    assert problems == ["Loan annuity (600,000) cannot be larger than the credit amount (500,000)."]


def test_annuity_is_checked_against_the_credit_that_would_apply():
    """A blank credit keeps the client's; a new annuity above it is refused, one below passes."""
    current = {**GOOD, "AMT_CREDIT": 40_000.0}
    entered = {"AMT_ANNUITY": 50_000.0}
    assert whatif.validate(entered, current) == [
        "Loan annuity (50,000) cannot be larger than the credit amount (40,000)."]
    assert whatif.validate({"AMT_ANNUITY": 30_000.0}, current) == []
    assert whatif.validate({"AMT_ANNUITY": 50_000.0, "AMT_CREDIT": 60_000.0}, current) == []


def test_only_amounts_that_differ_from_the_file_are_sent():
    """The client's data may carry cents the form does not show: untouched fields must not be sent, or
    the 'no change' scenario would drift from the official score."""
    current = {**GOOD, "AMT_INCOME_TOTAL": 150_000.37, "AMT_GOODS_PRICE": None}
    shown = {**GOOD, "AMT_GOODS_PRICE": None}  # what the form returns untouched (whole units)
    assert whatif.changes(shown, current) == {}
    assert whatif.changes({**shown, "AMT_CREDIT": 400_000.0}, current) == {"AMT_CREDIT": 400_000.0}
    assert whatif.changes({**shown, "AMT_GOODS_PRICE": 10.0}, current) == {"AMT_GOODS_PRICE": 10.0}


def test_current_values_and_the_request_body():
    applicant = Applicant.model_validate(
        {
            "sk_id_curr": 100002,
            "dataset": "train",
            "groups": [
                {
                    "name": "identity",
                    "fields": [
                        {"name": "flag_own_car", "label": "Owns a car", "value": True},
                        {"name": "flag_mobil", "label": "Mobile", "value": False},
                        {"name": "cnt_children", "label": "Children", "value": 2.0},
                        {
                            "name": "amt_income_total",
                            "label": "Income",
                            "value": 150000.0,
                            "unit": "currency",
                        },
                        {"name": "amt_credit", "label": "Credit", "value": None},
                        {"name": "ext_source_2", "label": "Not an application field here", "value": 0.5},
                    ],
                }
            ],
        }
    )
    assert whatif.changes({"AMT_INCOME_TOTAL": 90000, "AMT_CREDIT": None, "NOT_EDITABLE": 1.0}) == {
        "AMT_INCOME_TOTAL": 90000.0
    }
    assert whatif.changes(GOOD) == GOOD
    assert whatif.current_values(applicant)["AMT_INCOME_TOTAL"] == 150000.0
    assert whatif.current_values(applicant)["AMT_CREDIT"] is None
