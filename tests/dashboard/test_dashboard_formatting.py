"""Readable values, decision words and risk bands."""

from __future__ import annotations

import math

import pytest

from dashboard import palette
from dashboard.formatting import (
    band_for,
    band_position,
    decision_text,
    format_value,
    humanize,
    in_words,
    number,
    pct,
)
from dashboard.schemas import RiskBand, Score

BANDS = [
    RiskBand(name="high", lower=0.3, upper=1.0),
    RiskBand(name="low", lower=0.0, upper=0.1),
    RiskBand(name="medium", lower=0.1, upper=0.3),
]


def _score(p: float, decision: str, t: float = 0.3) -> Score:
    return Score(
        sk_id_curr=1, probability=p, decision=decision, threshold=t, risk_band="low", model_version="v1"
    )


@pytest.mark.parametrize(
    ("value", "unit", "expected"),
    [
        (-12_053, "days", "33 years ago"),
        (-365.25, "days", "1 years ago"),
        (33.04, "years", "33 years"),
        (None, "days", "not provided"),
        (math.nan, None, "not provided"),
        (True, None, "Yes"),
        (False, None, "No"),
        (135_000.0, "currency", "135,000 currency"),
        (6.404, "ratio", "6.4"),
        (0.1234, "share", "12.3 %"),
        ("yes", None, "Yes"),
        (117000.0, "currency units", "117,000 currency units"),
        (30.812, "payments", "30.81 payments"),
        (12.345, "%", "12.3 %"),
        (0.5623, None, "0.56"),
        ("Working", None, "Working"),
        (3, None, "3"),
    ],
)
def test_format_value_readable_units(value, unit, expected):
    assert format_value(value, unit) == expected


def test_number_and_pct():
    assert number(1234567.0) == "1,234,567"
    assert number(1234.5) == "1,234.5"
    assert number(0.125, 2) == "0.12" or number(0.125, 2) == "0.13"
    assert pct(0.0734) == "7.3 %"
    assert pct(0.5, 0) == "50 %"
    assert in_words(0.234) == "about 23 in 100"
    assert in_words(0.0059) == "about 6 in 1,000"
    assert in_words(0.0001) == "fewer than 1 in 1,000"


def test_decision_text_says_grant_or_refuse_with_icon():
    grant = decision_text(_score(0.12, "grant"))
    assert grant.granted and grant.headline == "Decision: GRANT" and grant.icon == "✔"
    assert "12.0 %" in grant.explanation and "below" in grant.explanation and "30.0 %" in grant.explanation
    refuse = decision_text(_score(0.45, "refuse"))
    assert not refuse.granted and refuse.headline == "Decision: REFUSE" and refuse.icon == "✖"
    assert "at or above" in refuse.explanation


def test_band_position_and_lookup_follow_the_probability_order():
    assert band_position("low", BANDS) == (1, 3)
    assert band_position("MEDIUM", BANDS) == (2, 3)
    assert band_position("high", BANDS) == (3, 3)
    assert band_position("unknown", BANDS) is None
    assert band_for(0.05, BANDS).name == "low"
    assert band_for(0.1, BANDS).name == "medium"
    assert band_for(1.0, BANDS).name == "high"


def test_band_colours_are_okabe_ito_from_green_to_vermillion():
    okabe_ito = {
        palette.BLACK,
        palette.ORANGE,
        palette.SKY_BLUE,
        palette.BLUISH_GREEN,
        palette.YELLOW,
        palette.BLUE,
        palette.VERMILLION,
        palette.REDDISH_PURPLE,
    }
    for n in range(1, 8):
        colours = palette.band_colours(n)
        assert len(colours) == n
        assert set(colours) <= okabe_ito
        assert colours[0] == palette.BLUISH_GREEN
    assert palette.band_colours(3)[-1] == palette.VERMILLION
    assert palette.band_mark(1) == "①"


def test_humanize():
    assert humanize("amt_income_total") == "Amt income total"
