"""Plain-language reason codes: map each feature to a label and each SHAP contribution to a sentence."""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from models_ml.explain import Explanation

LABEL_FILE = Path(__file__).with_name("resources") / "feature_labels.json"

# engineered-feature prefixes -> (raw table, phrase)
PREFIXES: tuple[tuple[str, str, str], ...] = (
    ("bureau_balance_", "bureau_balance", "monthly credit bureau balances"),
    ("bb_", "bureau_balance", "monthly credit bureau balances"),
    ("bureau_", "bureau", "credit bureau records"),
    ("prev_", "previous_application", "previous Home Credit applications"),
    ("pos_", "pos_cash_balance", "previous point-of-sale and cash loans"),
    ("inst_", "installments_payments", "past instalment payments"),
    ("cc_", "credit_card_balance", "credit card history"),
)
AGGREGATES: dict[str, str] = {
    "mean": "average", "avg": "average", "max": "highest", "min": "lowest", "sum": "total",
    "total": "total", "count": "number", "cnt": "number", "n": "number", "std": "variability of",
    "median": "median", "last": "latest", "first": "first", "nunique": "number of distinct", "share": "share",
    "ratio": "ratio", "rate": "rate", "frac": "share", "pct": "share",
}


def _humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class FeatureLabeler:
    """Label lookup: raw application columns from the Kaggle dictionary, engineered features from their
    prefix (``bureau_``, ``prev_``, ``pos_``, ``inst_``, ``cc_``), aggregate suffix and raw column."""

    tables: dict[str, dict[str, dict[str, str]]]

    @classmethod
    def from_file(cls, path: Path = LABEL_FILE) -> FeatureLabeler:
        return cls(json.loads(Path(path).read_text(encoding="utf-8"))["tables"])

    @classmethod
    def default(cls) -> FeatureLabeler:
        return _default_labeler()

    def _raw(self, table: str, column: str) -> str | None:
        entry = self.tables.get(table, {}).get(column)
        return entry["label"] if entry else None

    def label(self, feature: str) -> str:
        name = feature.lower()
        raw = self._raw("application", name)
        if raw:
            return raw
        if name in ("age_years", "age"):
            return "Age"
        for prefix, table, phrase in PREFIXES:
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix):]
            agg_word = ""
            m = re.match(r"^(.*)_([a-z]+)$", rest)
            if m and m.group(2) in AGGREGATES:
                rest, agg_word = m.group(1), AGGREGATES[m.group(2)]
            elif m is None and rest in AGGREGATES:
                rest, agg_word = "", AGGREGATES[rest]
            base = self._raw(table, rest) or self._raw("application", rest)
            thing = base[:1].lower() + base[1:] if base else rest.replace("_", " ")
            if not thing:
                return f"{agg_word.capitalize() or 'Number'} of {phrase}".strip()
            text = f"{agg_word} {thing}".strip() if agg_word else thing
            return f"{text[:1].upper() + text[1:]} ({phrase})"
        return _humanize(name)

    def description(self, feature: str) -> str | None:
        entry = self.tables.get("application", {}).get(feature.lower())
        return entry["description"] if entry else None


@lru_cache(maxsize=1)
def _default_labeler() -> FeatureLabeler:
    return FeatureLabeler.from_file(LABEL_FILE)


def format_value(feature: str, value: Any) -> str:
    """Readable value: ages and durations in years, amounts with thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not available"
    if isinstance(value, str):
        return value
    v = float(value)
    name = feature.lower()
    if name.startswith(("flag_", "reg_", "live_", "has_", "is_")) and v in (0.0, 1.0):
        return "yes" if v == 1.0 else "no"
    if name == "days_employed" and v >= 365000:
        return "not employed"
    if re.search(r"(^|_)days_", name) or name.startswith("days"):
        years = abs(v) / 365.25
        return f"{years:.1f} years" if years >= 1 else f"{abs(v):.0f} days"
    if name.startswith("amt_") or "_amt_" in name:
        return f"{v:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if v == int(v):
        return f"{int(v)}"
    return f"{v:.2f}"


def reason_codes(explanation: Explanation, row: int = 0, top_k: int = 5,
                 labeler: FeatureLabeler | None = None) -> list[dict[str, Any]]:
    """The ``top_k`` features with the largest |SHAP| for ``row``, each with a sentence for the client."""
    labeler = labeler or FeatureLabeler.default()
    values = explanation.values[row]
    order = sorted(range(len(values)), key=lambda j: (-abs(values[j]), explanation.feature_names[j]))
    out = []
    for j in order[:top_k]:
        shap_value = float(values[j])
        if shap_value == 0.0:
            break
        feature = explanation.feature_names[j]
        raw = explanation.data.iloc[row, j]
        value = None if raw is None or (isinstance(raw, float) and math.isnan(raw)) else raw
        if isinstance(value, np.generic):
            value = value.item()
        label = labeler.label(feature)
        direction = "increases_risk" if shap_value > 0 else "decreases_risk"
        shown = format_value(feature, value)
        effect = "raises" if shap_value > 0 else "lowers"
        if value is None:
            sentence = f"{label} is not available, which {effect} the estimated risk of default."
        else:
            sentence = f"{label}: {shown}. This {effect} the estimated risk of default."
        out.append({"feature": feature, "label": label, "value": value, "shap": shap_value,
                    "direction": direction, "sentence": sentence})
    return out
