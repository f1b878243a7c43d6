"""Turning the API's numbers into words and figures an officer can read aloud to a client."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.schemas import RiskBand, Score

DAYS_PER_YEAR = 365.25
MISSING_TEXT = "not provided"

# Units the API may use for durations counted back from the application date.
_DAY_UNITS = {"day", "days"}
_YEAR_UNITS = {"year", "years"}
_PERCENT_UNITS = {"%", "percent", "pct"}
# A "ratio" is shown as a plain number (credit / income = 6.4); a "share" or "fraction" in [0, 1] as a percentage.
_RATIO_UNITS = {"ratio", "times"}
_SHARE_UNITS = {"share", "fraction", "proportion"}


def is_missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def pct(probability: float, digits: int = 1) -> str:
    """``0.1234`` -> ``"12.3 %"``."""
    return f"{probability * 100:.{digits}f} %"


def in_words(probability: float) -> str:
    """A probability as a frequency people read more easily: 0.23 -> 'about 23 in 100'."""
    if probability < 0.01:
        per_thousand = round(probability * 1000)
        return "fewer than 1 in 1,000" if per_thousand < 1 else f"about {per_thousand} in 1,000"
    return f"about {round(probability * 100)} in 100"


def number(value: float, digits: int = 2) -> str:
    """Thousands separated, at most ``digits`` decimals, no trailing zeros: ``1234.5`` -> ``1,234.5``."""
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    text = f"{value:,.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_value(value: Any, unit: str | None = None) -> str:
    """A field's value with its unit, readable: durations in years, flags as Yes/No, NaN as 'not provided'."""
    if is_missing(value):
        return MISSING_TEXT
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if not isinstance(value, int | float):
        text = str(value)
        if text.lower() in ("yes", "no"):
            text = text.capitalize()
        return f"{text} {unit}" if unit else text
    u = (unit or "").strip()
    low = u.lower()
    if low in _DAY_UNITS:
        # Kaggle counts days back from the application as negative numbers: show positive years.
        years = abs(value) / DAYS_PER_YEAR
        return f"{number(years, 1)} years" + (" ago" if value < 0 else "")
    if low in _YEAR_UNITS:
        return f"{number(abs(value), 1)} years"
    if low in _PERCENT_UNITS:
        return f"{number(value, 1)} %"
    if low in _RATIO_UNITS:
        return number(value, 2)
    if low in _SHARE_UNITS:
        return f"{number(value * 100, 1)} %"
    digits = 2 if abs(value) < 100 else 0
    text = number(value, digits)
    return f"{text} {u}" if u else text


@dataclass(frozen=True)
class DecisionText:
    """The decision in words, with an icon so that meaning never rests on colour alone."""

    icon: str
    headline: str
    explanation: str
    granted: bool


def decision_text(score: Score) -> DecisionText:
    granted = score.decision.strip().lower() == "grant"
    p, t = pct(score.probability), pct(score.threshold)
    if granted:
        return DecisionText(
            "✔",
            "Decision: GRANT",
            f"The estimated probability of default ({p}) is below the model's threshold ({t}).",
            True,
        )
    if score.decision.strip().lower() == "refuse":
        side = "at or above" if score.probability >= score.threshold else "compared with"
        return DecisionText(
            "✖",
            "Decision: REFUSE",
            f"The estimated probability of default ({p}) is {side} the model's threshold ({t}).",
            False,
        )
    return DecisionText("?", f"Decision: {score.decision.upper()}", f"Probability {p}, threshold {t}.", False)


def band_position(name: str | None, bands: Sequence[RiskBand]) -> tuple[int, int] | None:
    """``(rank, count)`` of a band from the lowest risk (1) upwards, or None if unknown."""
    ordered = sorted(bands, key=lambda b: b.lower)
    for i, band in enumerate(ordered, start=1):
        if name is not None and band.name.strip().lower() == name.strip().lower():
            return i, len(ordered)
    return None


def band_for(probability: float, bands: Sequence[RiskBand]) -> RiskBand | None:
    """The band holding ``probability`` (lower bound included; the top band also holds its upper bound)."""
    ordered = sorted(bands, key=lambda b: b.lower)
    for band in ordered:
        if band.lower <= probability < band.upper:
            return band
    return ordered[-1] if ordered and probability >= ordered[-1].upper else None


def band_text(band: RiskBand) -> str:
    return f"{band.name} ({pct(band.lower, 0)} to {pct(band.upper, 0)})"


def humanize(name: str) -> str:
    """A fallback label from a column name: ``amt_income_total`` -> ``Amt income total``."""
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]
