"""Entry point: ``streamlit run dashboard/app.py``.

A multipage app (``st.navigation``): the sidebar holds the page menu and the applicant id, which
every page shares. Any failure of the scoring API is shown as a message in the page.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run dashboard/app.py` puts dashboard/ on sys.path, not the repository root.
_ROOT = Path(__file__).resolve().parents[1]
if str(_ROOT) not in sys.path:
    sys.path.insert(0, str(_ROOT))

import streamlit as st  # noqa: E402

from dashboard import ui  # noqa: E402
from dashboard.client import ApiError  # noqa: E402

# (script, title, icon); the URL path of each page is its file name (/why, /client_data, ...).
PAGES = [
    ("views/client.py", "Client", ":material/person:"),
    ("views/why.py", "Why", ":material/help:"),
    ("views/client_data.py", "Client data", ":material/badge:"),
    ("views/comparison.py", "Comparison", ":material/bar_chart:"),
    ("views/what_if.py", "What-if", ":material/tune:"),
    ("views/model.py", "Model", ":material/model_training:"),
]


def main() -> None:
    # Officers never see a traceback (pages also catch their own errors) nor the developer toolbar.
    st.set_option("client.showErrorDetails", "none")
    st.set_option("client.toolbarMode", "viewer")
    st.set_page_config(
        page_title="Credit decisions explained", page_icon=":material/account_balance:", layout="wide"
    )
    page = st.navigation(
        [
            st.Page(path, title=title, icon=icon, default=(i == 0))
            for i, (path, title, icon) in enumerate(PAGES)
        ]
    )
    st.sidebar.markdown("### Find a client")
    ui.applicant_picker()
    api = ui.get_api()
    try:
        health = api.health()
    except ApiError as error:
        st.title(page.title)
        ui.show_error(error)
        return
    st.sidebar.caption(
        f"Scoring service: {health.status} · model version {health.model_version or 'unknown'}"
    )
    try:
        page.run()
    except ApiError as error:
        ui.show_error(error)
    except Exception as exc:  # a page must never end in a traceback for the officer
        ui.show_unexpected(exc)


main()
