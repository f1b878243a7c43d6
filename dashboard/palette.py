"""Okabe-Ito colours (safe for the common colour-vision deficiencies) and the marks paired with them.

Colour is never the only carrier of meaning: every colour used for a meaning comes with an icon,
a hatch pattern or a word (see ``RAISES_RISK_MARK`` etc.).
"""

from __future__ import annotations

BLACK = "#000000"
ORANGE = "#E69F00"
SKY_BLUE = "#56B4E9"
BLUISH_GREEN = "#009E73"
YELLOW = "#F0E442"
BLUE = "#0072B2"
VERMILLION = "#D55E00"
REDDISH_PURPLE = "#CC79A7"
GREY = "#7F7F7F"

# Meaning -> colour, always shown with the matching mark.
RAISES_RISK = VERMILLION
LOWERS_RISK = BLUE
RAISES_RISK_MARK = "▲"
LOWERS_RISK_MARK = "▼"

ALL_CLIENTS = GREY
SIMILAR_CLIENTS = SKY_BLUE
DEFAULTERS = VERMILLION
NON_DEFAULTERS = BLUISH_GREEN
DEFAULTERS_PATTERN = "/"
NON_DEFAULTERS_PATTERN = ""

# Risk bands from lowest to highest risk.
_BAND_SCALE = [BLUISH_GREEN, SKY_BLUE, YELLOW, ORANGE, VERMILLION, REDDISH_PURPLE]
_BAND_MARKS = ["①", "②", "③", "④", "⑤", "⑥", "⑦", "⑧", "⑨"]


def band_colours(n: int) -> list[str]:
    """``n`` colours from low to high risk, spread over the scale (ends always green and vermillion)."""
    if n <= 0:
        return []
    if n == 1:
        return [BLUISH_GREEN]
    if n <= 2:
        return [BLUISH_GREEN, VERMILLION]
    if n == 3:
        return [BLUISH_GREEN, ORANGE, VERMILLION]
    if n == 4:
        return [BLUISH_GREEN, SKY_BLUE, ORANGE, VERMILLION]
    if n <= len(_BAND_SCALE):
        return _BAND_SCALE[:n]
    return [_BAND_SCALE[min(len(_BAND_SCALE) - 1, i * len(_BAND_SCALE) // n)] for i in range(n)]


def band_mark(rank: int) -> str:
    """A numbered mark for band ``rank`` (1 = lowest risk)."""
    return _BAND_MARKS[rank - 1] if 1 <= rank <= len(_BAND_MARKS) else f"({rank})"
