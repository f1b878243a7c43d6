"""Model page: what the model is, how it decides, how good it is, its limits, and recent drift."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from dashboard import charts, ui
from dashboard.client import ApiError
from dashboard.formatting import format_value, humanize, number, pct

METRIC_NAMES = {
    "roc_auc": ("ROC AUC", "How well the score ranks defaulters above repayers (0.5 = chance, 1 = perfect)."),
    "pr_auc": ("PR AUC", "Precision-recall area: ranking quality focused on defaulters."),
    "brier": ("Brier score", "Mean squared error of the probabilities (lower is better)."),
    "log_loss": ("Log loss", "Penalty for confident wrong probabilities (lower is better)."),
    "ks": ("KS statistic", "Largest gap between the score distributions of defaulters and repayers."),
    "business_cost": (
        "Business cost",
        "Expected cost of the decisions under the cost function (lower is better).",
    ),
    "recall": ("Recall at threshold", "Share of defaulters that the threshold refuses."),
    "precision": ("Precision at threshold", "Share of refused clients who would have defaulted."),
    "approval_rate": ("Approval rate", "Share of applicants granted at the threshold."),
    "ece": ("Expected calibration error", "Average gap between predicted and observed default rates."),
}

st.title("The model")
api = ui.get_api()
model = api.model()

c1, c2, c3, c4 = st.columns(4)
c1.metric("Model version", model.version)
c2.metric("Model family", model.model_family or "unknown")
c3.metric("Class imbalance handling", model.imbalance or "unknown")
c4.metric("Decision threshold", pct(model.threshold))

st.subheader("How the decision is made")
if model.cost_fn is not None and model.cost_fp is not None:
    st.markdown(
        f"The model estimates each applicant's probability of default. The application is **refused when "
        f"that probability reaches {pct(model.threshold)}**, and granted below it. The threshold minimises "
        f"the business cost **cost = {number(model.cost_fn)} × missed defaulters + {number(model.cost_fp)} × "
        f"refused good clients**: granting a loan that is not repaid is counted {number(model.cost_fn / model.cost_fp if model.cost_fp else model.cost_fn)} "
        "times as costly as turning away a client who would have repaid."
    )
else:
    st.markdown(f"The application is refused when the probability of default reaches {pct(model.threshold)}.")
if model.risk_bands:
    st.markdown(
        "Risk bands: "
        + "; ".join(
            f"**{b.name}** {pct(b.lower, 0)}–{pct(b.upper, 0)}"
            for b in sorted(model.risk_bands, key=lambda b: b.lower)
        )
        + "."
    )


def _metric_value(value: Any) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return number(float(value), 4)
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_metric_value(v)}" for k, v in value.items())
    return format_value(value)


st.subheader("How good it is (cross-validated)")
rows = []
for key, value in model.metrics.items():
    if isinstance(value, list | dict) and not isinstance(value, Mapping | list):
        continue
    name, meaning = METRIC_NAMES.get(key, (humanize(key), ""))
    if isinstance(value, list):
        continue
    rows.append({"Metric": name, "Value": _metric_value(value), "Meaning": meaning})
if rows:
    st.table(pd.DataFrame(rows).set_index("Metric"))
else:
    st.caption("The model publishes no metrics.")

st.subheader("What matters most to the model overall")
if model.global_importance:
    labels = {f.name: f.label for f in model.features if f.label}
    chart = charts.importance(model.global_importance, labels, top_k=15)
    st.plotly_chart(chart.figure, config=charts.PLOTLY_CONFIG, alt=chart.alt, key="importance")
    with st.expander("Chart in words"):
        st.write(chart.alt)
else:
    st.caption("The model publishes no global importance.")


def _render_card(summary: Any) -> None:
    if summary is None or summary == "":
        st.caption("The model card summary is not available.")
    elif isinstance(summary, str):
        st.markdown(summary)
    elif isinstance(summary, Mapping):
        for key, value in summary.items():
            st.markdown(f"**{humanize(str(key))}**")
            if isinstance(value, list):
                st.markdown("\n".join(f"- {item}" for item in value))
            elif isinstance(value, Mapping):
                st.markdown("\n".join(f"- {humanize(str(k))}: {v}" for k, v in value.items()))
            else:
                st.markdown(str(value))
    elif isinstance(summary, list):
        st.markdown("\n".join(f"- {item}" for item in summary))
    else:
        st.markdown(str(summary))


st.subheader("Model card: method and limits")
_render_card(model.model_card_summary)

st.subheader("Data drift (latest weekly report)")
try:
    drift = api.drift_latest()
except ApiError as error:
    ui.show_error(error)
    drift = None
else:
    if drift is None:
        st.info("No drift report has been produced yet (run `make drift`).", icon="ℹ️")
if drift is not None:
    verdict = (
        "⚠️ **Drift detected** in the data set"
        if drift.dataset_drift
        else "✔️ **No data-set drift detected**"
        if drift.dataset_drift is not None
        else "Drift verdict not given"
    )
    window = drift.window or {}
    st.markdown(
        f"{verdict}. Report of {drift.created_at or 'unknown date'} for model {drift.model_version or 'unknown'}, "
        f"window {window.get('since', '?')} to {window.get('until', '?')}, "
        f"{drift.n_current if drift.n_current is not None else '?'} recent rows against "
        f"{drift.n_reference if drift.n_reference is not None else '?'} training rows."
    )
    if drift.share_drifted is not None:
        n_cols = len(drift.columns) if isinstance(drift.columns, list) else drift.columns
        st.markdown(
            f"Share of drifted columns: **{pct(drift.share_drifted, 0)}** (of {n_cols} columns checked)."
        )
    if drift.psi:

        def band(v: float | None) -> str:
            if v is None:
                return "not computed"
            if v >= 0.25:
                return "▲▲ significant (≥ 0.25)"
            if v >= 0.10:
                return "▲ moderate (0.10–0.25)"
            return "● stable (< 0.10)"

        psi_rows = sorted(drift.psi.items(), key=lambda kv: -(kv[1] or 0))
        st.table(
            pd.DataFrame(
                [
                    {"Feature": humanize(k), "PSI": "—" if v is None else number(v, 3), "Stability": band(v)}
                    for k, v in psi_rows[:15]
                ]
            ).set_index("Feature")
        )
    if drift.prediction_drift is not None:
        st.markdown(f"Prediction drift: {_metric_value(drift.prediction_drift)}")
