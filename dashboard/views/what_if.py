"""What-if page: change a few amounts and re-score the application through the API."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, ui, whatif
from dashboard.client import ApiValidationError
from dashboard.formatting import decision_text, format_value, number, pct

st.title("What if...")
applicant_id = ui.require_applicant()
api = ui.get_api()
score = api.score(applicant_id)
applicant = api.applicant(applicant_id)
ui.decision_summary(applicant_id, score)
current = whatif.current_values(applicant)

st.markdown(
    "Change the amounts below and press **Re-score** to see how the probability of default and the "
    "decision would move. Nothing is saved: this only explores scenarios with the client."
)
with st.form("what-if"):
    cols = st.columns(len(whatif.EDITABLE))
    entered: dict[str, float | None] = {}
    for col, item in zip(cols, whatif.EDITABLE, strict=True):
        entered[item.raw] = col.number_input(
            item.label,
            value=current[item.raw],
            step=1000.0,
            format="%.0f",
            help=f"{item.help} Current value: "
            + (number(current[item.raw]) if current[item.raw] is not None else "not provided")
            + ". Leave it blank to keep the current value.",
            key=f"whatif-{item.raw}",
        )
    submitted = st.form_submit_button("Re-score", type="primary")

if submitted:
    problems = whatif.validate(entered, current)
    if problems:
        st.error(
            "**Some values cannot be scored.**\n\n" + "\n".join(f"- {p}" for p in problems),
            icon=":material/edit:",
        )
        st.stop()
    body = whatif.changes(entered, current)
    if not body:
        st.info("No amount differs from the client's file: the scenario is the official score.",
                icon=":material/info:")
    try:
        result = api.what_if(applicant_id, body)
    except ApiValidationError as error:
        ui.show_error(error)
        st.stop()
    official, changed = result.official, result.scenario
    before, after = decision_text(official), decision_text(changed)
    delta = (changed.probability - official.probability) * 100
    direction = "higher risk" if delta > 0.05 else "lower risk" if delta < -0.05 else "about the same"
    st.subheader("Result")
    c1, c2 = st.columns(2)
    c1.metric("Official score", pct(official.probability), help="The client's score as the file stands.")
    c2.metric(
        "With the changes",
        pct(changed.probability),
        f"{delta:+.1f} pts ({direction})",
        delta_color="off",
        delta_arrow="auto" if direction != "about the same" else "off",
    )
    st.markdown(
        f"**Scenario:** now {before.icon} {before.headline.removeprefix('Decision: ')} "
        f"({pct(official.probability)}) → with the changes {after.icon} "
        f"{after.headline.removeprefix('Decision: ')} ({pct(changed.probability)}); threshold "
        f"{pct(changed.threshold)}. "
        + (
            "**With these changes, the decision would change.**"
            if after.granted != before.granted
            else "With these changes, the decision would stay the same."
        )
    )
    chart = charts.what_if(
        official.probability, changed.probability, changed.threshold, official.decision, changed.decision
    )
    st.plotly_chart(chart.figure, config=charts.PLOTLY_CONFIG, theme=None, alt=chart.alt, key="what-if-chart")
    st.caption(f"**Chart in words:** {chart.alt}")
    if result.feature_changes:
        st.markdown("**What the model sees differently**")
        st.table(
            {
                "Information": [c.label or c.feature for c in result.feature_changes],
                "Now": [format_value(c.before, None) for c in result.feature_changes],
                "With the changes": [format_value(c.after, None) for c in result.feature_changes],
            }
        )
    st.caption(
        "The scenario keeps the client's own credit history and recomputes every figure the changed "
        "amounts feed (for example credit / income). It explores a possibility with the client: the "
        "official decision stands until a new application is filed."
    )
