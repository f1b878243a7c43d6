"""What-if page: change a few amounts and re-score the application through the API."""

from __future__ import annotations

import streamlit as st

from dashboard import charts, ui, whatif
from dashboard.client import ApiValidationError
from dashboard.formatting import decision_text, number, pct

# Beyond this gap (probability) between the official score and the unchanged scenario, say so loudly.
RELIABLE_GAP = 0.05

st.title("What if...")
applicant_id = ui.require_applicant()
api = ui.get_api()
score = api.score(applicant_id)
applicant = api.applicant(applicant_id)
ui.decision_summary(applicant_id, score)

try:
    fields = whatif.application_fields(api.openapi())
except ValueError as exc:
    st.error(f"**What-if is not available with this scoring service:** {exc}.", icon=":material/warning:")
    st.stop()
base = whatif.base_application(applicant, fields)
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
            + (number(current[item.raw]) if current[item.raw] is not None else "not provided"),
            key=f"whatif-{item.raw}",
        )
    submitted = st.form_submit_button("Re-score", type="primary")

if submitted:
    problems = whatif.validate(entered)
    if problems:
        st.error(
            "**Some values cannot be scored.**\n\n" + "\n".join(f"- {p}" for p in problems),
            icon=":material/edit:",
        )
        st.stop()
    try:
        as_filed = api.rescore(base)
        changed = api.rescore(whatif.with_changes(base, entered))
    except ApiValidationError as error:
        ui.show_error(error)
        st.stop()
    before, after = decision_text(as_filed), decision_text(changed)
    delta = (changed.probability - as_filed.probability) * 100
    direction = "higher risk" if delta > 0.05 else "lower risk" if delta < -0.05 else "about the same"
    st.subheader("Result")
    c1, c2, c3 = st.columns(3)
    c1.metric("Official score", pct(score.probability), help="The client's score with the full file.")
    c2.metric(
        "Scenario as filed", pct(as_filed.probability), help="The application re-scored without changes."
    )
    c3.metric(
        "Scenario with the changes",
        pct(changed.probability),
        f"{delta:+.1f} pts ({direction})",
        delta_color="off",
        delta_arrow="auto" if direction != "about the same" else "off",
    )
    official = decision_text(score)
    st.markdown(
        f"**Scenario:** as filed {before.icon} {before.headline.removeprefix('Decision: ')} "
        f"({pct(as_filed.probability)}) → with the changes {after.icon} {after.headline.removeprefix('Decision: ')} "
        f"({pct(changed.probability)}); threshold {pct(changed.threshold)}. "
        + (
            "**In the scenario, the decision would change.**"
            if after.granted != before.granted
            else "In the scenario, the decision would stay the same."
        )
    )
    if before.granted != official.granted or abs(as_filed.probability - score.probability) > RELIABLE_GAP:
        st.warning(
            "**This scenario is not a reliable guide for this client.** Scored from the application alone "
            f"(without the credit-history records), the unchanged file gets {pct(as_filed.probability)} "
            f"({before.headline.removeprefix('Decision: ')}), while the official score with the full file is "
            f"{pct(score.probability)} ({official.headline.removeprefix('Decision: ')}). The official decision "
            "stands; use the scenario only for the direction in which the changes move the risk.",
            icon=":material/warning:",
        )
    chart = charts.what_if(
        score.probability,
        as_filed.probability,
        changed.probability,
        changed.threshold,
        as_filed.decision,
        changed.decision,
        official_decision=score.decision,
    )
    st.plotly_chart(chart.figure, config=charts.PLOTLY_CONFIG, theme=None, alt=chart.alt, key="what-if-chart")
    st.caption(f"**Chart in words:** {chart.alt}")
    if abs(as_filed.probability - score.probability) > 0.0005:
        st.caption(
            "Why two starting points? The dashboard sends the scoring service the client's application "
            "fields but not the detailed credit-history records, so both scenarios are scored without that "
            f"history ({pct(as_filed.probability)} instead of the official {pct(score.probability)}). "
            "Compare the two scenario scores with each other: their difference is the effect of the changes."
        )
