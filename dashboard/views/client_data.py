"""Client data page: the client's own information, grouped, with readable labels and units."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import ui
from dashboard.formatting import format_value, humanize

st.title("Client data")
applicant_id = ui.require_applicant()
api = ui.get_api()
applicant = api.applicant(applicant_id)

kind = {"train": "past client (repayment outcome known)", "test": "new application"}.get(
    applicant.dataset or "", applicant.dataset or "unknown"
)
st.markdown(f"**Applicant {applicant.sk_id_curr}** · {kind}")
st.caption(
    "This is the client's personal information as the scoring service holds it. Durations are shown "
    "in years; 'not provided' means the information is missing from the file."
)
if not applicant.groups:
    st.info("The scoring service holds no detailed data for this client.", icon=":material/info:")
columns = st.columns(2, gap="large")
for i, group in enumerate(applicant.groups):
    with columns[i % 2]:
        st.subheader(humanize(group.name))
        rows = [
            {
                "Information": field.label or humanize(field.name),
                "Value": format_value(field.value, field.unit),
            }
            for field in group.fields
        ]
        if rows:
            st.table(pd.DataFrame(rows).set_index("Information"))
        else:
            st.caption("Nothing recorded.")
