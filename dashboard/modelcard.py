"""The model's description in words: decision rule, metrics, limits, drift (for the Model page)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from dashboard.formatting import humanize, number, pct
from dashboard.schemas import DriftSummary, ModelInfo, RiskBand

# Fewer recent rows than this make a drift verdict fragile.
SMALL_WINDOW = 200

# (name, how to show it, what it means); shown in this order when the model publishes them.
METRICS: dict[str, tuple[str, str, str]] = {
    "roc_auc": (
        "ROC AUC",
        "number",
        "How well the score ranks defaulters above repayers (0.5 = chance, 1 = perfect).",
    ),
    "pr_auc": ("PR AUC", "number", "Ranking quality focused on the (rare) defaulters."),
    "ks": (
        "KS statistic",
        "number",
        "Largest gap between the score distributions of defaulters and repayers.",
    ),
    "brier": ("Brier score", "number", "Mean squared error of the probabilities (lower is better)."),
    "ece": ("Calibration error (ECE)", "number", "Average gap between predicted and observed default rates."),
    "log_loss": ("Log loss", "number", "Penalty for confident wrong probabilities (lower is better)."),
    "recall": ("Defaulters refused", "percent", "Share of past defaulters the threshold would have refused."),
    "precision": ("Refusals that were defaulters", "percent", "Share of refused clients who did default."),
    "approval_rate": ("Approval rate", "percent", "Share of applicants granted at the threshold."),
    "business_cost": (
        "Business cost per applicant",
        "number",
        "Average cost of the decisions (lower is better).",
    ),
    "cost_vs_best_trivial": (
        "Cost vs. the best simple policy",
        "percent",
        "Cost relative to granting (or refusing) everyone.",
    ),
}


def _metric(value: Any, how: str) -> str | None:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return None
    return pct(float(value)) if how == "percent" else number(float(value), 4)


def metric_rows(metrics: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for key, (name, how, meaning) in METRICS.items():
        text = _metric(metrics.get(key), how)
        if text is not None:
            spread = metrics.get(f"{key}_std")
            if isinstance(spread, int | float) and how == "number":
                text += f" (± {number(float(spread), 4)} across folds)"
            rows.append({"Metric": name, "Value": text, "Meaning": meaning})
    return rows


def decision_rule(model: ModelInfo) -> str:
    rule = (
        f"The model estimates each applicant's probability of default. The application is **refused when "
        f"that probability reaches {pct(model.threshold)}** and granted below it."
    )
    if model.cost_fn is not None and model.cost_fp is not None and model.cost_fp > 0:
        rule += (
            f" The threshold minimises the business cost **cost = {number(model.cost_fn)} × (defaulters "
            f"granted) + {number(model.cost_fp)} × (good clients refused)**: granting a loan that is not "
            f"repaid counts {number(model.cost_fn / model.cost_fp)} times as much as turning away a client "
            "who would have repaid, which is why the threshold is well below 50 %."
        )
    return rule


def bands_sentence(bands: Sequence[RiskBand]) -> str:
    ordered = sorted(bands, key=lambda b: b.lower)
    parts = []
    for i, b in enumerate(ordered, start=1):
        decision = (b.model_extra or {}).get("decision")
        suffix = f", {decision}" if decision else ""
        parts.append(f"{i}. **{b.name}** {pct(b.lower, 1)} to {pct(b.upper, 1)}{suffix}")
    return "Risk bands (from lowest to highest risk): " + "; ".join(parts) + "."


def limits(model: ModelInfo) -> list[str]:
    """Limits stated from the model's own figures, plus the card's own 'Limits' section if it was sent."""
    m = model.metrics
    lines = []
    recall, precision = m.get("recall"), m.get("precision")
    if isinstance(recall, int | float):
        lines.append(
            f"At this threshold about {pct(1 - recall, 0)} of past defaulters would still have been granted "
            "a loan: a grant is not a guarantee of repayment."
        )
    if isinstance(precision, int | float):
        lines.append(
            f"About {pct(1 - precision, 0)} of the clients it refuses would in fact have repaid: a refusal is a "
            "statement about risk, not about the person."
        )
    lines += [
        "The probability is learned from past clients; it is reliable for applicants who resemble them and "
        "less so for unusual profiles or after the economy changes (see the drift report below).",
        "The factors shown on the Why page are statistical associations, not causes.",
        "Missing or wrong information in the file changes the score: check the Client data page with the client.",
    ]
    card = model.model_card_summary if isinstance(model.model_card_summary, str) else ""
    section = re.search(r"^#+\s*Limits[^\n]*\n(.*?)(?=^#+\s|\Z)", card, flags=re.MULTILINE | re.DOTALL)
    if section:
        lines += [ln.lstrip("-* ").strip() for ln in section.group(1).splitlines() if ln.strip()]
    return lines


def demote_headings(markdown: str, levels: int = 3) -> str:
    """Card headings shown below the page's own (# -> ####)."""
    return re.sub(
        r"^(#{1,6})\s", lambda m: "#" * min(6, len(m.group(1)) + levels) + " ", markdown, flags=re.MULTILINE
    )


def psi_band(value: float | None) -> str:
    if value is None:
        return "not computed"
    if value >= 0.25:
        return "▲▲ significant"
    if value >= 0.10:
        return "▲ moderate"
    return "● stable"


def psi_rows(drift: DriftSummary, top: int = 15) -> list[dict[str, str]]:
    items = sorted(drift.psi.items(), key=lambda kv: -(kv[1] if kv[1] is not None else -1))
    return [
        {"Feature": humanize(k), "PSI": "—" if v is None else number(v, 3), "Stability": psi_band(v)}
        for k, v in items[:top]
    ]


def drift_sentences(drift: DriftSummary) -> list[str]:
    if drift.dataset_drift is True:
        verdict = "▲ **Drift detected:** recent applicants differ from those the model learned from."
    elif drift.dataset_drift is False:
        verdict = "✔ **No data-set drift detected** in the latest report."
    else:
        verdict = "The latest report gives no overall drift verdict."
    lines = [verdict]
    window = drift.window or {}
    lines.append(
        f"Report of {drift.created_at or 'unknown date'} for model {drift.model_version or 'unknown'}: "
        f"{_count(drift.n_current)} recent rows ({window.get('since', '?')} to {window.get('until', '?')}) "
        f"against {_count(drift.n_reference)} training rows."
    )
    if drift.n_current is not None and drift.n_current < SMALL_WINDOW:
        lines.append(
            f"Caution: only {drift.n_current:,} recent rows were compared, too few for a firm conclusion."
        )
    if drift.share_drifted is not None:
        n = len(drift.columns) if isinstance(drift.columns, list) else drift.columns
        of = f" of {n} columns checked" if n is not None else ""
        lines.append(f"Share of drifted columns: **{pct(drift.share_drifted, 0)}**{of}.")
    if isinstance(drift.drifted_columns, list) and drift.drifted_columns:
        shown = ", ".join(humanize(str(c)) for c in drift.drifted_columns[:8])
        more = f" and {len(drift.drifted_columns) - 8} more" if len(drift.drifted_columns) > 8 else ""
        lines.append(f"Drifted columns: {shown}{more}.")
    pred = drift.prediction_drift
    if isinstance(pred, Mapping):
        parts = []
        if isinstance(pred.get("reference_mean"), int | float) and isinstance(
            pred.get("current_mean"), int | float
        ):
            parts.append(
                f"the average predicted probability of default moved from {pct(pred['reference_mean'])} "
                f"to {pct(pred['current_mean'])}"
            )
        if isinstance(pred.get("psi"), int | float):
            parts.append(f"PSI {number(pred['psi'], 3)} ({psi_band(pred['psi'])})")
        if isinstance(pred.get("drift_detected"), bool):
            parts.append("▲ drift detected" if pred["drift_detected"] else "no drift detected")
        if parts:
            lines.append("Predictions: " + "; ".join(parts) + ".")
    elif pred is not None:
        lines.append(f"Predictions: {_describe(pred)}.")
    return lines


def _count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return number(float(value), 3)
    if isinstance(value, Mapping):
        return ", ".join(f"{humanize(str(k))}: {_describe(v)}" for k, v in value.items())
    return str(value)
