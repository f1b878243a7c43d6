"""Client page: the decision card of one applicant."""

from __future__ import annotations

import streamlit as st

from dashboard import ui

st.title("Client decision")
applicant_id = ui.require_applicant()
api = ui.get_api()
score = api.score(applicant_id)
model = api.model()

st.subheader(f"Applicant {applicant_id}")
ui.decision_card(applicant_id, score, model)
st.page_link("views/why.py", label="Why this decision?", icon=":material/arrow_forward:")
