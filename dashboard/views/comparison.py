"""Comparison page: the client's value on the distribution of all, similar, defaulting and repaying clients."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, compare, ui
from dashboard.formatting import humanize

MAX_FEATURES = 6
DEFAULT_FEATURES = 3

st.title("How the client compares")
applicant_id = ui.require_applicant()
api = ui.get_api()
score = api.score(applicant_id)
model = api.model()
applicant = api.applicant(applicant_id)
ui.decision_summary(applicant_id, score)

# Labels as the client's data page shows them, else the model's own labels (from the explanation).
labels = {c.feature: c.label for c in api.explanation(applicant_id).contributions if c.label}
labels.update({f.name: f.label for g in applicant.groups for f in g.fields if f.label})
units = {f.name: f.unit for g in applicant.groups for f in g.fields}
known = [f.name for f in model.features] or [i.feature for i in model.global_importance]
known_set = set(known)
ranked = [i.feature for i in model.global_importance if i.feature in known_set]
ranked_set = set(ranked)
options = ranked + [name for name in known if name not in ranked_set]
defaults = ranked[:DEFAULT_FEATURES] or options[:DEFAULT_FEATURES]

st.markdown(
    "Pick the information to compare. Each chart shows the client's value (**dashed black line**) "
    "against all clients, against the clients most similar to this one, and against past clients who "
    "defaulted (hatched bars) or repaid (plain bars), as a percentage of each group."
)
chosen = st.multiselect(
    "Information to compare (most influential first)",
    options,
    default=defaults,
    format_func=lambda name: labels.get(name) or humanize(name),
    max_selections=MAX_FEATURES,
    key="compare_features",
    help=f"Pick up to {MAX_FEATURES}; the list is ordered by the model's overall importance.",
)
if not chosen:
    st.info("Pick at least one piece of information to compare.", icon=":material/arrow_upward:")
    st.stop()

comparison = api.comparison(applicant_id, tuple(chosen))

for fc in comparison.features:
    try:
        view = compare.feature_view(fc, units.get(fc.feature), labels.get(fc.feature))
    except ValueError as exc:
        st.subheader(labels.get(fc.feature) or fc.label or humanize(fc.feature))
        st.warning(f"This distribution could not be read: {exc}", icon=":material/warning:")
        continue
    st.subheader(view.label)
    lines = compare.sentences(view)
    st.markdown("  \n".join(lines))
    hists = [
        view.groups[k].histogram if k in view.groups else None
        for k in ("all", "similar", "defaulters", "non_defaulters")
    ]
    if any(h is not None for h in hists):
        fig = charts.distribution(view.label, view.client_value, *hists, client_text=view.client_text)
        alt = (
            f"Three panels of bar charts of {view.label}, as a percentage of each group: all clients; "
            "similar clients; clients who defaulted (hatched bars, left of each pair) beside clients who repaid "
            "(plain bars, right). A dashed black line marks this client. "
            + " ".join(s.replace("**", "") for s in lines)
        )
        st.plotly_chart(fig, config=charts.PLOTLY_CONFIG, theme=None, alt=alt, key=f"dist-{fc.feature}")
    rows = compare.quantile_rows(view)
    if rows:
        with st.expander(f"Figures for {view.label}"):
            st.table(pd.DataFrame(rows).set_index("Quantile"))
