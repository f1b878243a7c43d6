"""Pieces shared by the pages: the applicant picker, error messages, the decision card."""

from __future__ import annotations

import html
import logging
import re

import streamlit as st
from pydantic import ValidationError

from dashboard import charts, palette
from dashboard.client import ApiError, ApiValidationError
from dashboard.data import DashboardApi
from dashboard.formatting import band_for, band_position, band_text, decision_text, pct
from dashboard.schemas import ModelInfo, Score
from dashboard.settings import DashboardSettings

log = logging.getLogger("dashboard")

APPLICANT_KEY = "applicant_id"
_ID_PATTERN = re.compile(r"^\d{1,12}$")

_ERROR_TITLES = {
    "unavailable": "The scoring service is not available",
    "auth": "The dashboard is not allowed to use the scoring service",
    "not_found": "Not found",
    "invalid": "Some values were rejected",
    "response": "Unexpected answer from the scoring service",
    "error": "Something went wrong",
}


def load_settings() -> DashboardSettings:
    """The dashboard's settings; a bad HC_* value is shown in the page and the run stops."""
    try:
        return DashboardSettings()
    except ValidationError as exc:
        problems = "; ".join(
            f"HC_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        st.error(f"**The dashboard's configuration is invalid.** {problems}", icon=":material/settings:")
        st.stop()
        raise  # unreachable: st.stop() ends the run


def get_api() -> DashboardApi:
    return DashboardApi.from_settings(load_settings())


def show_error(error: ApiError) -> None:
    """An API failure as a message for the officer (title + what to do), never a traceback."""
    title = _ERROR_TITLES.get(error.kind, _ERROR_TITLES["error"])
    icon = {
        "not_found": ":material/search_off:",
        "auth": ":material/lock:",
        "invalid": ":material/edit:",
        "unavailable": ":material/cloud_off:",
    }.get(error.kind, ":material/warning:")
    text = f"**{title}.** {error.message}"
    if isinstance(error, ApiValidationError) and len(error.errors) > 1:
        text += "\n\n" + "\n".join(f"- **{f}**: {p}" for f, p in error.errors)
    if error.kind == "not_found":
        st.warning(text, icon=icon)
    else:
        st.error(text, icon=icon)


def show_unexpected(exc: Exception) -> None:
    log.exception("page failed")
    st.error(
        f"**This page could not be drawn** ({type(exc).__name__}). The other pages may still work; "
        "the details are in the dashboard's log.",
        icon=":material/warning:",
    )


def parse_applicant_id(text: str | None) -> int | None:
    """The sidebar's text as an id; None when empty; ``ValueError`` with a readable message otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    if not _ID_PATTERN.match(text):
        raise ValueError(
            f"An applicant id is a whole number of up to 12 digits, such as 100002 (you typed '{text}')."
        )
    return int(text)


def applicant_picker() -> int | None:
    """Sidebar input for the applicant id (kept in the URL as ?applicant_id=...)."""
    st.sidebar.text_input(
        "Applicant id (SK_ID_CURR)",
        key=APPLICANT_KEY,
        placeholder="e.g. 100002",
        help="The number on the application file. Press Enter to load the client.",
        bind="query-params",
    )
    try:
        return parse_applicant_id(st.session_state.get(APPLICANT_KEY))
    except ValueError as exc:
        st.sidebar.error(str(exc), icon=":material/edit:")
        return None


def current_applicant() -> int | None:
    try:
        return parse_applicant_id(st.session_state.get(APPLICANT_KEY))
    except ValueError:
        return None


def require_applicant() -> int:
    applicant_id = current_applicant()
    if applicant_id is None:
        st.info("Enter an applicant id in the sidebar to see this page.", icon=":material/arrow_back:")
        st.stop()
    return applicant_id  # type: ignore[return-value]


def decision_banner(score: Score) -> None:
    """The decision as a large banner: icon + words + colour (Okabe-Ito blue / vermillion).

    Black text on a light tint of the colour, framed by the full colour: readable (contrast well
    above WCAG AA) whatever the colour vision, since the words and the icon carry the meaning.
    """
    text = decision_text(score)
    colour = palette.BLUE if text.granted else palette.VERMILLION
    st.markdown(
        f'<div role="status" style="background:{colour}1F;border:3px solid {colour};border-left-width:12px;'
        f'color:#000;padding:0.8rem 1.1rem;border-radius:0.5rem;margin-bottom:0.6rem">'
        f'<div style="font-size:1.8rem;font-weight:700">{text.icon} {html.escape(text.headline)}</div>'
        f'<div style="font-size:1.05rem">{html.escape(text.explanation)}</div></div>',
        unsafe_allow_html=True,
    )


def decision_summary(applicant_id: int, score: Score) -> None:
    """One line recalling the client and decision at the top of the detail pages."""
    text = decision_text(score)
    st.caption(
        f"Applicant {applicant_id} · {text.icon} {text.headline} · probability of default "
        f"{pct(score.probability)} · threshold {pct(score.threshold)} · model {score.model_version}"
    )


def decision_card(applicant_id: int, score: Score, model: ModelInfo | None) -> None:
    decision_banner(score)
    bands = model.risk_bands if model else []
    band_name = score.risk_band
    if band_position(band_name, bands) is None and (fallback := band_for(score.probability, bands)):
        band_name = fallback.name  # the API named no band of the model: place the probability ourselves
    pos = band_position(band_name, bands)
    band_label = band_name or "not given"
    if pos:
        band_label = f"{palette.band_mark(pos[0])} {band_label} ({pos[0]} of {pos[1]})"
    c1, c2, c3 = st.columns(3)
    c1.metric("Probability of default", pct(score.probability))
    c2.metric("Decision threshold", pct(score.threshold))
    c3.metric("Risk band", band_label)
    if bands:
        chart = charts.risk_gauge(score.probability, score.threshold, bands, band_name)
        left, right = st.columns([3, 2], vertical_alignment="center")
        with left:
            st.plotly_chart(chart.figure, config=charts.PLOTLY_CONFIG, theme=None, alt=chart.alt, key="gauge")
        ordered = sorted(bands, key=lambda b: b.lower)
        colours = palette.band_colours(len(ordered))
        rows = []
        for i, (band, colour) in enumerate(zip(ordered, colours, strict=True), start=1):
            here = " ◀ **this client**" if pos and pos[0] == i else ""
            swatch = f'<span style="color:{colour}" aria-hidden="true">■</span>'
            rows.append(f"| {swatch} {palette.band_mark(i)} | {html.escape(band_text(band))}{here} |")
        with right:
            st.markdown(
                "| Risk band | Probability of default |\n|---|---|\n" + "\n".join(rows),
                unsafe_allow_html=True,
            )
            st.caption(
                "Band ① is the lowest risk. On the gauge, the white arc runs up to the client's "
                "probability and the thick black line marks the decision threshold."
            )
        st.caption(f"**Chart in words:** {chart.alt}")
    st.caption(
        f"Model version {score.model_version}. The decision compares the probability with the threshold "
        "chosen to minimise the lender's expected cost; it is a recommendation for the officer."
    )
