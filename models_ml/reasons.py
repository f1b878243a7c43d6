"""Plain-language reason codes: map each feature to a label and each SHAP contribution to a sentence."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from models_ml.explain import Explanation

LABEL_FILE = Path(__file__).with_name("resources") / "feature_labels.json"
MEMO_LABELS = 10_000  # labels one labeler keeps worked out

# engineered-feature prefixes -> (raw table, phrase)
PREFIXES: tuple[tuple[str, str, str], ...] = (
    ("bureau_", "bureau", "credit bureau credits"),
    ("prev_", "previous_application", "previous Home Credit applications"),
    ("pos_", "pos_cash_balance", "previous point-of-sale and cash loans"),
    ("inst_", "installments_payments", "past instalments"),
    ("cc_", "credit_card_balance", "credit card history"),
)
AGGREGATES: dict[str, str] = {
    "mean": "average", "avg": "average", "max": "highest", "min": "lowest", "sum": "total", "total": "total",
    "count": "number of", "cnt": "number of", "std": "variability of", "var": "variability of",
    "median": "median", "last": "latest", "first": "first", "nunique": "number of distinct",
    "share": "share of", "rate": "rate of", "trend": "trend of",
}
# qualifiers right after the prefix: (regex, phrase template); {0} is the regex group
QUALIFIERS: tuple[tuple[str, str], ...] = (
    (r"active", "active {table}"), (r"closed", "closed {table}"), (r"approved", "approved {table}"),
    (r"refused", "refused {table}"), (r"canceled", "cancelled {table}"),
    (r"last(\d+)m", "{table}, last {0} months"), (r"last(\d+)d", "{table}, last {0} days"),
    (r"last_month", "{table}, last month"), (r"last(\d+)", "{table}, last {0}"),
)
CORE_WORDS: dict[str, str] = {
    "credit": "credits", "application": "applications", "payment": "payments", "month": "months of history",
    "loan": "loans", "card": "cards", "days_past_due": "days past due", "late": "late payments",
    "late_30": "payments over 30 days late", "underpaid": "underpaid instalments",
    "payment_ratio": "amount paid / amount due", "payment_diff": "amount due minus amount paid",
    "days_before_due": "days paid before the due date", "dpd": "months past due",
    "dpd_def": "months past due (with tolerance)", "dpd_60": "months over 60 days past due",
    "utilization": "card utilisation (balance / limit)", "drawings_limit_ratio": "drawings / card limit",
    "payment_min_ratio": "payment / minimum instalment", "below_min_payment": "months paid below the minimum",
    "debt_credit_ratio": "debt / credit amount", "total_debt_credit_ratio": "total debt / total credit",
    "credit_duration_days": "credit duration", "interest_rate_proxy": "implied interest rate",
    "application_credit_ratio": "amount asked / amount granted", "payments_credit_ratio": "payments / credit",
    "early_repayment_days": "days repaid early", "worst_status": "worst days-past-due status",
    "remaining_share": "share of instalments still to pay", "months_count": "months of history",
    "months_min": "oldest month of history", "new_client": "applications as a new client",
    "reject_scofr": "rejections for score reasons", "insured": "insured applications",
    "ongoing": "ongoing loans", "version_distinct": "instalment calendar versions",
    "foreign_currency": "credits in a foreign currency", "overdue": "overdue credits",
    "with_balance": "credits with a balance", "sold_or_bad_debt": "credits sold or written off",
    "days_termination_anomaly": "applications with an unknown termination date",
    "status_0": "months without delay", "status_c": "months closed", "status_x": "months with unknown status",
}
DERIVED_LABELS: dict[str, str] = {
    "age_years": "Age", "age": "Age", "employed_years": "Years in current employment",
    "days_employed_anomaly": "Employment duration not reported",
    "credit_income_ratio": "Credit amount / income", "annuity_income_ratio": "Annuity / income",
    "credit_annuity_ratio": "Credit amount / annuity (loan length)", "annuity_credit_ratio": "Annuity / credit amount",
    "credit_goods_ratio": "Credit amount / price of the goods", "credit_goods_diff": "Credit amount above the goods price",
    "income_per_family_member": "Income per family member", "income_per_child_plus_one": "Income per child",
    "annuity_per_family_member": "Annuity per family member",
    "disposable_income_per_family_member": "Income left after the annuity, per family member",
    "children_ratio": "Children / family members", "employed_age_ratio": "Share of life in current employment",
    "registration_age_ratio": "Time since registration change / age",
    "id_publish_age_ratio": "Time since identity document change / age",
    "phone_change_age_ratio": "Time since phone change / age",
    "phone_change_employed_ratio": "Time since phone change / time employed",
    "car_age_ratio": "Car age / client age", "car_employed_ratio": "Car age / time employed",
    "age_at_credit_end_years": "Age at the end of the credit",
    "ext_source_mean": "Average external credit score", "ext_source_min": "Lowest external credit score",
    "ext_source_max": "Highest external credit score", "ext_source_std": "Spread of the external credit scores",
    "ext_source_product": "Product of the external credit scores",
    "ext_source_weighted": "Weighted external credit score",
    "ext_source_missing_count": "Number of missing external credit scores",
    "credit_term_x_ext_source_mean": "Loan length x average external credit score",
    "document_count": "Number of documents provided", "contact_flag_count": "Number of contact channels given",
    "region_mismatch_count": "Number of address mismatches", "building_info_missing_count": "Missing building details",
    "amt_req_credit_bureau_total": "Credit bureau enquiries (all periods)",
    "region_rating_city_diff": "Region rating minus region-and-city rating",
    "social_circle_def_30_rate": "Share of the client's social circle 30 days past due",
    "social_circle_def_60_rate": "Share of the client's social circle 60 days past due",
}


def _humanize(name: str) -> str:
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class FeatureLabeler:
    """Label lookup: raw application columns from the Kaggle dictionary, application-derived features by
    hand, history aggregates from their prefix (``bureau_``, ``prev_``, ``pos_``, ``inst_``, ``cc_``),
    qualifier (``active_``, ``last12m_``, ...), aggregate suffix and the raw column they summarise."""

    tables: dict[str, dict[str, dict[str, str]]]
    # labels already worked out (a label costs ~10 regular-expression matches, and every explanation asks for
    # ~25: ~0.2 ms of its ~1.5 ms in the API); bounded, a labeler sees a model's few hundred features
    _memo: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_file(cls, path: Path = LABEL_FILE) -> FeatureLabeler:
        return cls(json.loads(Path(path).read_text(encoding="utf-8"))["tables"])

    @classmethod
    def default(cls) -> FeatureLabeler:
        return _default_labeler()

    def _raw(self, table: str, column: str) -> str | None:
        entry = self.tables.get(table, {}).get(column)
        return entry["label"] if entry else None

    def _core(self, table: str, core: str) -> str:
        if core in CORE_WORDS:
            return CORE_WORDS[core]
        if core.startswith("bb_"):
            inner = core[3:]
            return f"{CORE_WORDS.get(inner, inner.replace('_', ' '))} in monthly bureau balances"
        raw = self._raw(table, core) or self._raw("application", core)
        if raw:
            return raw[:1].lower() + raw[1:]
        for cat_prefix in ("name_contract_type_", "name_yield_group_", "name_contract_status_", "credit_type_"):
            if core.startswith(cat_prefix):
                what = (self._raw(table, cat_prefix[:-1]) or cat_prefix[:-1].replace("_", " ")).lower()
                return f"{core[len(cat_prefix):].replace('_', ' ')} ({what})"
        return core.replace("_", " ")

    def label(self, feature: str) -> str:
        known = self._memo.get(feature)
        if known is None:
            known = self._label(feature)
            if len(self._memo) < MEMO_LABELS:
                self._memo[feature] = known
        return known

    def _label(self, feature: str) -> str:
        name = feature.lower()
        raw = self._raw("application", name)
        if raw:
            return raw
        if name in DERIVED_LABELS:
            return DERIVED_LABELS[name]
        for prefix, table, phrase in PREFIXES:
            if not name.startswith(prefix):
                continue
            rest = name[len(prefix):]
            scope = phrase
            for pattern, template in QUALIFIERS:
                m = re.match(rf"^{pattern}(?:_|$)", rest)
                if m:
                    scope = template.format(*m.groups(), table=phrase)
                    rest = rest[m.end():]
                    break
            agg = ""
            m = re.match(r"^(.*?)_?([a-z]+)$", rest)
            if m and m.group(2) in AGGREGATES:
                rest, agg = m.group(1), AGGREGATES[m.group(2)]
            if not rest:
                return _cap(f"{agg or 'number of'} {scope}")
            return _cap(f"{agg} {self._core(table, rest)}".strip()) + f" ({scope})"
        return _humanize(name)

    def description(self, feature: str) -> str | None:
        entry = self.tables.get("application", {}).get(feature.lower())
        return entry["description"] if entry else None


@lru_cache(maxsize=1)
def _default_labeler() -> FeatureLabeler:
    return FeatureLabeler.from_file(LABEL_FILE)


def format_value(feature: str, value: Any) -> str:
    """Readable value: durations in years, shares in percent, amounts with thousands separators."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not available"
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    v = float(value)
    name = feature.lower()
    if name.startswith(("flag_", "reg_", "live_", "has_", "is_")) and v in (0.0, 1.0):
        return "yes" if v == 1.0 else "no"
    if name == "days_employed" and v >= 365000:
        return "not employed"
    if name.endswith("_years") or name in ("age", "own_car_age"):
        return f"{v:.1f} years"
    if name.startswith("days_") and not name.endswith(("_ratio", "_share", "_anomaly")):
        years = abs(v) / 365.25
        return f"{years:.1f} years" if years >= 1 else f"{abs(v):.0f} days"
    if name.endswith(("_share", "_rate")) and 0.0 <= v <= 1.0:
        return f"{100 * v:.0f} %"
    if name.startswith("amt_") or "_amt_" in name:
        return f"{v:,.0f}"
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    if v == int(v):
        return f"{int(v)}"
    return f"{v:.2f}"


def reason_codes(explanation: Explanation, row: int = 0, top_k: int = 5,
                 labeler: FeatureLabeler | None = None, values: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """The ``top_k`` features with the largest |SHAP| for ``row``, each with a sentence for the client.
    ``values``: the row's feature values when the caller has them already (``data.iloc[row].tolist()``: a
    serving process shapes every response from them; five ``data.iat`` cost ~50 us), else read from ``data``.
    For a scorecard (``output_scale == "points"``) see ``points_reason_codes``."""
    labeler = labeler or FeatureLabeler.default()
    if explanation.output_scale == "points":
        return points_reason_codes(explanation, row, top_k, labeler, values)
    shap_values = explanation.values[row]
    out = []
    for j in _largest(shap_values, explanation.feature_names, top_k):
        shap_value = float(shap_values[j])
        if shap_value == 0.0:
            break
        feature = explanation.feature_names[j]
        value = _row_value(explanation, row, j, values)
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


def _largest(values: Any, names: Sequence[str], k: int) -> list[int]:
    """The positions of the ``k`` largest |values|, largest first, ties by name: the first ``k`` of
    ``sorted(range(n), key=lambda j: (-abs(values[j]), names[j]))``, without sorting all n (~480) in Python."""
    magnitude = np.abs(np.asarray(values, dtype=float))
    if k <= 0 or magnitude.size == 0:
        return []
    if k < magnitude.size:  # every position tied with the k-th largest takes part in the ordering
        candidates = np.flatnonzero(magnitude >= np.partition(magnitude, magnitude.size - k)[magnitude.size - k])
    else:
        candidates = np.arange(magnitude.size)
    return sorted(candidates.tolist(), key=lambda j: (-magnitude[j], names[j]))[:k]


def _row_value(explanation: Explanation, row: int, j: int, values: Sequence[Any] | None = None) -> Any:
    raw = explanation.data.iat[row, j] if values is None else values[j]
    value = None if raw is None or (isinstance(raw, float) and math.isnan(raw)) else raw
    return value.item() if isinstance(value, np.generic) else value


def points_reason_codes(explanation: Explanation, row: int = 0, top_k: int = 5,
                        labeler: FeatureLabeler | None = None,
                        values: Sequence[Any] | None = None) -> list[dict[str, Any]]:
    """Scorecard reason codes: the characteristics with the largest shortfall from their best bin (the points
    the applicant would gain there), largest first. On this scale ``shap`` is the points earned minus the
    best bin's points (<= 0: a higher score means a lower risk)."""
    labeler = labeler or FeatureLabeler.default()
    if explanation.best_points is None:
        raise ValueError("a points explanation needs best_points")
    earned = explanation.values[row]
    best = explanation.best_points
    chars = [j for j in range(len(best)) if not math.isnan(float(best[j]))]
    shortfall = {j: float(best[j] - earned[j]) for j in chars}
    order = sorted(chars, key=lambda j: (-shortfall[j], explanation.feature_names[j]))
    out = []
    for j in order[:top_k]:
        if shortfall[j] <= 0:
            break
        feature = explanation.feature_names[j]
        value = _row_value(explanation, row, j, values)
        label = labeler.label(feature)
        shown = "not available" if value is None else format_value(feature, value)
        sentence = (f"{label}: {shown}. This earned {earned[j]:g} points, {shortfall[j]:g} fewer than the best "
                    f"band ({best[j]:g}), which raises the estimated risk of default.")
        out.append({"feature": feature, "label": label, "value": value,
                    "shap": -shortfall[j], "direction": "increases_risk",
                    "sentence": sentence, "points": float(earned[j]), "best_points": float(best[j]),
                    "shortfall": shortfall[j]})
    return out


def without_values(reasons: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Reason codes without the applicant's own values, for documents others read (model card, metadata).

    The API tells a client their own values; a model card or a tracking server must not carry an
    example applicant's income, age or family data, so only the label, the direction and the
    contribution are kept.
    """
    out = []
    for r in reasons:
        effect = "raises" if r["direction"] == "increases_risk" else "lowers"
        if r.get("value") is None:
            sentence = f"{r['label']} is not available, which {effect} the estimated risk of default."
        else:
            sentence = f"{r['label']} {effect} the estimated risk of default."
        kept = {k: r[k] for k in ("points", "best_points", "shortfall") if k in r}  # scorecard reasons
        out.append({"feature": r["feature"], "label": r["label"], "shap": r["shap"],
                    "direction": r["direction"], "sentence": sentence, **kept})
    return out
