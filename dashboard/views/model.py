"""Model page: what the model is, how it decides, how good it is, its limits, and recent drift."""

from __future__ import annotations

import contextlib

import pandas as pd
import streamlit as st

from dashboard import charts, modelcard, ui
from dashboard.client import ApiError
from dashboard.formatting import humanize, pct

st.title("The model")
api = ui.get_api()
model = api.model()

st.markdown(f"Model version **{model.version}**, the one that scores every client in this dashboard.")
c1, c2, c3 = st.columns(3)
c1.metric("Model family", humanize(model.model_family or "unknown"))
c2.metric("Class imbalance handling", model.imbalance or "unknown")
c3.metric("Decision threshold", pct(model.threshold))

st.subheader("How the decision is made")
st.markdown(modelcard.decision_rule(model))
if model.risk_bands:
    st.markdown(modelcard.bands_sentence(model.risk_bands))

st.subheader("How good it is")
rows = modelcard.metric_rows(model.metrics)
if rows:
    st.caption(
        "Measured by cross-validation on past clients (predictions on clients the model did not train on)."
    )
    st.table(pd.DataFrame(rows).set_index("Metric"))
else:
    st.caption("The model publishes no metrics.")

st.subheader("Limits: what to keep in mind")
st.markdown("\n".join(f"- {line}" for line in modelcard.limits(model)))

st.subheader("What matters most to the model overall")
if model.global_importance:
    labels = {f.name: f.label for f in model.features if f.label}
    applicant_id = ui.current_applicant()
    if applicant_id is not None:  # the model's own labels come with an explanation (cached)
        with contextlib.suppress(ApiError):  # plain names will do
            labels.update(
                {c.feature: c.label for c in api.explanation(applicant_id).contributions if c.label}
            )
    chart = charts.importance(model.global_importance, labels, top_k=15)
    st.plotly_chart(chart.figure, config=charts.PLOTLY_CONFIG, theme=None, alt=chart.alt, key="importance")
    with st.expander("Chart in words"):
        st.write(chart.alt)
else:
    st.caption("The model publishes no global importance.")

if model.model_card_summary:
    with st.expander("Model card (summary written at training)"):
        st.markdown(modelcard.demote_headings(str(model.model_card_summary)))

st.subheader("Data drift (latest report)")
try:
    drift = api.drift_latest()
except ApiError as error:
    ui.show_error(error)
    drift = None
else:
    if drift is None:
        st.info("No drift report has been produced yet (run `make drift`).", icon=":material/info:")
if drift is not None:
    st.markdown("  \n".join(modelcard.drift_sentences(drift)))
    psi = modelcard.psi_rows(drift, top=15)
    if psi:
        st.caption(
            "Population stability index (PSI) of the most shifted features; ● stable < 0.10, "
            "▲ moderate 0.10–0.25, ▲▲ significant ≥ 0.25."
        )
        st.table(pd.DataFrame(psi).set_index("Feature"))
