"""Comparison page: the client's value on the distribution of all, similar, defaulting and repaying clients."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, palette, ui
from dashboard.distributions import category_share, median, parse_histogram, parse_quantiles, share_below
from dashboard.formatting import format_value, humanize, is_missing, pct
from dashboard.schemas import FeatureComparison

MAX_FEATURES = 6
DEFAULT_FEATURES = 3

st.title("How the client compares")
applicant_id = ui.require_applicant()
api = ui.get_api()
score = api.score(applicant_id)
model = api.model()
applicant = api.applicant(applicant_id)
ui.decision_summary(applicant_id, score)

labels = {f.name: f.label for g in applicant.groups for f in g.fields if f.label}
units = {f.name: f.unit for g in applicant.groups for f in g.fields}
labels.update({f.name: f.label for f in model.features if f.label})
known = [f.name for f in model.features] or [i.feature for i in model.global_importance]
ranked = [i.feature for i in model.global_importance if i.feature in set(known)]
options = ranked + [name for name in known if name not in set(ranked)]
defaults = ranked[:DEFAULT_FEATURES] or options[:DEFAULT_FEATURES]

chosen = st.multiselect(
    "Information to compare (most influential first)",
    options,
    default=defaults,
    format_func=lambda name: labels.get(name) or humanize(name),
    max_selections=MAX_FEATURES,
    key="compare_features",
    help=f"Pick up to {MAX_FEATURES}.",
)
if not chosen:
    st.info("Pick at least one piece of information to compare.", icon="👆")
    st.stop()

comparison = api.comparison(applicant_id, tuple(chosen))


def describe(fc: FeatureComparison, unit: str | None) -> list[str]:
    """Sentences saying where the client stands; they double as the chart's text alternative."""
    value = fc.client_value
    shown = format_value(value, unit)
    groups = {
        "all clients": fc.all,
        "similar clients": fc.similar,
        "clients who defaulted": fc.defaulters,
        "clients who repaid": fc.non_defaulters,
    }
    lines = [f"This client: **{shown}**."]
    if is_missing(value):
        lines.append("The value is missing for this client, so it cannot be placed on the distributions.")
    for name, dist in groups.items():
        if dist is None:
            continue
        hist = parse_histogram(dist.histogram)
        quants = parse_quantiles(dist.quantiles)
        if hist is not None and not hist.numeric:
            share = category_share(value, hist) if not is_missing(value) else None
            if share is not None:
                lines.append(f"Among {name}, {pct(share, 0)} share this client's value ({shown}).")
            continue
        parts = []
        mid = median(quants, hist)
        if mid is not None:
            parts.append(f"median {format_value(mid, unit)}")
        if hist is not None and isinstance(value, int | float) and not is_missing(value):
            below = share_below(float(value), hist)
            if below is not None:
                parts.append(f"the client's value is higher than about {pct(below, 0)} of them")
        if parts:
            lines.append(f"Among {name}: " + "; ".join(parts) + ".")
    return lines


for fc in comparison.features:
    label = fc.label or labels.get(fc.feature) or humanize(fc.feature)
    unit = units.get(fc.feature)
    st.subheader(label)
    try:
        hists = [
            parse_histogram(d.histogram) if d else None
            for d in (fc.all, fc.similar, fc.defaulters, fc.non_defaulters)
        ]
        sentences = describe(fc, unit)
    except ValueError as exc:
        st.warning(f"The distribution of '{label}' could not be read: {exc}", icon="⚠️")
        continue
    st.markdown("  \n".join(sentences))
    if any(h is not None for h in hists):
        fig = charts.distribution(
            label, fc.client_value, *hists, client_text=format_value(fc.client_value, unit)
        )
        alt = (
            f"Three panels of histograms for {label}: all clients, similar clients, and clients who defaulted "
            f"(hatched, {palette.DEFAULTERS}) versus clients who repaid (plain). A dashed black line marks "
            "this client. " + " ".join(s.replace("**", "") for s in sentences)
        )
        st.plotly_chart(fig, config=charts.PLOTLY_CONFIG, alt=alt, key=f"dist-{fc.feature}")
    rows = []
    for name, dist in (
        ("All clients", fc.all),
        ("Similar clients", fc.similar),
        ("Defaulted", fc.defaulters),
        ("Repaid", fc.non_defaulters),
    ):
        if dist is None:
            continue
        for q, v in parse_quantiles(dist.quantiles):
            rows.append({"Group": name, "Quantile": f"{q * 100:g} %", "Value": format_value(v, unit)})
    if rows:
        with st.expander(f"Figures for {label}"):
            table = pd.DataFrame(rows).pivot(index="Quantile", columns="Group", values="Value")
            st.table(table)
