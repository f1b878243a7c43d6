"""Why page: the local explanation as a waterfall, plain-language reasons and an honest note."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, palette, ui
from dashboard.formatting import in_words, number, pct

st.title("Why this decision")
applicant_id = ui.require_applicant()
api = ui.get_api()
score = api.score(applicant_id)
explanation = api.explanation(applicant_id)
model = api.model()

ui.decision_summary(applicant_id, score)

if explanation.output_scale == "points":  # a points scorecard: the points add up to the score
    st.subheader(f"The scorecard: {number(explanation.score_points or 0.0)} points")
    st.markdown(
        "The model is a points scorecard: each piece of the client's data falls in a band that earns a fixed "
        "number of points, and the points add up to the score (**a higher score means a lower risk**). "
        f"The best possible score is {number(explanation.base_value)} points. The reasons below are the "
        "characteristics where the client is furthest from the best band."
    )
    if explanation.contributions:
        chart = charts.points_bars(explanation)
        st.plotly_chart(chart.figure, config=charts.PLOTLY_CONFIG, theme=None, alt=chart.alt, key="points")
        st.dataframe(charts.points_table(explanation), hide_index=True, use_container_width=True)
        with st.expander("Chart in words"):
            st.write(chart.alt)
    else:
        st.info("The scoring service returned no points for this client.", icon=":material/info:")
else:
    st.subheader("The main factors, for and against")
    st.markdown(
        f"Each bar shows how much one piece of the client's data moved the score away from the average "
        f"client: **{palette.RAISES_RISK_MARK} bars to the right raise the risk**, "
        f"**{palette.LOWERS_RISK_MARK} bars to the left lower it**."
    )
    if explanation.contributions:
        chart = charts.waterfall(explanation, top_k=10)
        st.plotly_chart(chart.figure, config=charts.PLOTLY_CONFIG, theme=None, alt=chart.alt, key="waterfall")
        scale = charts.waterfall_scale(explanation)
        if not scale.matches_probability:
            st.caption(
                f"The bars add up to the model's score before calibration ({scale.value(scale.total)}). "
                f"Calibration then turns that score into the probability of default used for the decision "
                f"({pct(explanation.probability)}), so that probabilities match the default rates observed "
                "in the past. The order and direction of the factors are what matter here."
            )
        with st.expander("Chart in words"):
            st.write(chart.alt)
    else:
        st.info("The scoring service returned no factor contributions for this client.", icon=":material/info:")

st.subheader("In plain words")
raising = [r for r in explanation.reasons if r.direction == "increases_risk"]
lowering = [r for r in explanation.reasons if r.direction == "decreases_risk"]
left, right = st.columns(2)
with left:
    st.markdown(f"**{palette.RAISES_RISK_MARK} What raises the risk**")
    if raising:
        st.markdown("\n".join(f"- {palette.RAISES_RISK_MARK} {r.sentence}" for r in raising))
    else:
        st.markdown("- Nothing stands out.")
with right:
    st.markdown(f"**{palette.LOWERS_RISK_MARK} What lowers the risk**")
    if lowering:
        st.markdown("\n".join(f"- {palette.LOWERS_RISK_MARK} {r.sentence}" for r in lowering))
    else:
        st.markdown("- Nothing stands out.")

cost_line = ""
if model.cost_fn is not None and model.cost_fp is not None:
    cost_line = (
        f" Lending to a client who then defaults is counted as {number(model.cost_fn)} times as costly "
        f"as refusing a client who would have repaid (costs {number(model.cost_fn)} and "
        f"{number(model.cost_fp)}); the threshold of {pct(model.threshold)} minimises that expected cost, "
        "which is why it is well below 50 %."
    )
st.subheader("What the score is, and what it is not")
st.info(
    "**It is** an estimate of how likely a client with this profile is to have difficulty repaying, "
    "learned from the repayment history of past clients and computed from the data in this application "
    f"and the credit bureau. A score of {pct(score.probability)} means that, among many clients with "
    f"similar data, {in_words(score.probability)} would be expected to default.{cost_line}\n\n"
    "**It is not** a judgement of the person, nor a certainty: most clients above the threshold would in "
    "fact repay, and some below it will not. The factors above describe how the model weighed this data "
    "(statistical associations), not causes, so changing one of them does not guarantee a different "
    "decision. The model only knows the data it was given: if something is wrong or missing, the client "
    "can ask for it to be corrected and for the decision to be reviewed by a person.",
    icon=":material/info:",
)
