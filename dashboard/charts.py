"""Plotly figures of the pages, each paired with a text alternative that says what it shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go

from dashboard import palette
from dashboard.distributions import Histogram
from dashboard.formatting import band_position, format_value, humanize, number, pct
from dashboard.schemas import Contribution, Explanation, Importance, RiskBand

FONT = {"family": "sans-serif", "size": 14, "color": palette.BLACK}
PLOTLY_CONFIG = {"displayModeBar": False, "responsive": True}
# Pages pass theme=None to st.plotly_chart: the figures carry their own (Okabe-Ito) styling.


@dataclass(frozen=True)
class Chart:
    figure: go.Figure
    alt: str


def _layout(fig: go.Figure, height: int, **kwargs: object) -> go.Figure:
    options: dict[str, object] = {
        "height": height,
        "margin": {"l": 10, "r": 10, "t": 40, "b": 10},
        "font": FONT,
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
    }
    options.update(kwargs)
    fig.update_layout(**options)
    # axis labels get the room they need (the figures are drawn without Streamlit's theme)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


# -- decision gauge -------------------------------------------------------------------------------


def risk_gauge(
    probability: float, threshold: float, bands: Sequence[RiskBand], band_name: str | None
) -> Chart:
    """Probability on a 0-100 % gauge coloured by risk band, with the decision threshold marked."""
    ordered = sorted(bands, key=lambda b: b.lower)
    colours = palette.band_colours(len(ordered))
    steps = [
        {"range": [b.lower * 100, b.upper * 100], "color": c} for b, c in zip(ordered, colours, strict=True)
    ]
    ticks = sorted(
        {0.0, 100.0, threshold * 100, *(b.lower * 100 for b in ordered), *(b.upper * 100 for b in ordered)}
    )
    fig = go.Figure(
        go.Indicator(
            mode="gauge+number",
            value=probability * 100,
            number={"suffix": " %", "valueformat": ".1f", "font": {"size": 40, "color": palette.BLACK}},
            gauge={
                "shape": "angular",
                "axis": {
                    "range": [0, 100],
                    "tickvals": ticks,
                    "ticktext": [f"{t:.0f}%" for t in ticks],
                    "tickwidth": 1,
                    "tickcolor": palette.BLACK,
                },
                # the client's probability: a white arc outlined in black (the threshold is solid black)
                "bar": {"color": "white", "thickness": 0.35, "line": {"color": palette.BLACK, "width": 2}},
                "bgcolor": "white",
                "borderwidth": 1,
                "bordercolor": palette.GREY,
                "steps": steps,
                "threshold": {
                    "line": {"color": palette.BLACK, "width": 5},
                    "thickness": 1.0,
                    "value": threshold * 100,
                },
            },
        )
    )
    _layout(fig, 250, margin={"l": 40, "r": 40, "t": 30, "b": 10})
    pos = band_position(band_name, ordered)
    band_words = ", ".join(f"{b.name} from {pct(b.lower, 0)} to {pct(b.upper, 0)}" for b in ordered)
    where = f"in risk band '{band_name}' ({pos[0]} of {pos[1]}, 1 = lowest risk)" if pos else ""
    alt = (
        f"Gauge from 0 to 100 %. The client's probability of default, drawn as a white arc from 0, is "
        f"{pct(probability)} {where}. The decision threshold, drawn as a thick black line, is {pct(threshold)}. "
        f"Risk bands: {band_words or 'none given'}."
    )
    return Chart(fig, alt)


# -- explanation waterfall ------------------------------------------------------------------------


def _contribution_label(c: Contribution) -> str:
    label = c.label or humanize(c.feature)
    return f"{label} = {format_value(c.value)}"


@dataclass(frozen=True)
class WaterfallScale:
    """On what scale the SHAP values add up, in words."""

    probability_like: bool
    total: float
    matches_probability: bool

    def value(self, v: float) -> str:
        return f"{v * 100:.1f} %" if self.probability_like else f"{v:.3f}"

    def step(self, v: float) -> str:
        return f"{v * 100:+.1f} pts" if self.probability_like else f"{v:+.3f}"

    @property
    def name(self) -> str:
        if self.probability_like:
            return "probability scale" if self.matches_probability else "model's score before calibration"
        return "model's internal score (log-odds)"


def waterfall_scale(explanation: Explanation) -> WaterfallScale:
    total = explanation.base_value + sum(c.shap for c in explanation.contributions)
    probability_like = 0.0 <= explanation.base_value <= 1.0 and -1e-9 <= total <= 1.0 + 1e-9
    # the bars end at the probability itself (within rounding), or at a score calibration transforms
    matches = probability_like and abs(total - explanation.probability) <= max(
        0.001, 0.02 * explanation.probability
    )
    return WaterfallScale(probability_like, total, matches)


def waterfall(explanation: Explanation, top_k: int = 10) -> Chart:
    """The biggest contributions from the base value to the client's score, the rest grouped."""
    contributions = sorted(explanation.contributions, key=lambda c: abs(c.shap), reverse=True)
    top, rest = contributions[:top_k], contributions[top_k:]
    scale = waterfall_scale(explanation)

    # Drawn top-down: the starting point, the biggest factors, the rest together, the client's total.
    labels = ["Average past client (starting point)"]
    values = [explanation.base_value]
    measures = ["absolute"]
    texts = [scale.value(explanation.base_value)]
    for c in top:
        mark = palette.RAISES_RISK_MARK if c.shap > 0 else palette.LOWERS_RISK_MARK
        labels.append(_contribution_label(c))
        values.append(c.shap)
        measures.append("relative")
        texts.append(f"{mark} {scale.step(c.shap)}")
    if rest:
        rest_sum = sum(c.shap for c in rest)
        mark = palette.RAISES_RISK_MARK if rest_sum > 0 else palette.LOWERS_RISK_MARK
        labels.append(f"{len(rest)} other factors together")
        values.append(rest_sum)
        measures.append("relative")
        texts.append(f"{mark} {scale.step(rest_sum)}")
    labels.append("This client's score")
    values.append(0.0)
    measures.append("total")
    texts.append(scale.value(scale.total))

    fig = go.Figure(
        go.Waterfall(
            orientation="h",
            y=labels,
            x=values,
            measure=measures,
            text=texts,
            textposition="outside",
            cliponaxis=False,
            increasing={"marker": {"color": palette.RAISES_RISK}},
            decreasing={"marker": {"color": palette.LOWERS_RISK}},
            totals={"marker": {"color": palette.GREY}},
            connector={"line": {"color": palette.GREY, "width": 1}},
        )
    )
    _layout(fig, 110 + 34 * len(labels), showlegend=False, margin={"l": 10, "r": 70, "t": 20, "b": 10})
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(
        title_text=f"Contribution to the score ({scale.name})",
        zeroline=False,
        automargin=True,
        tickformat=".0%" if scale.probability_like else None,
    )
    ups = [c for c in top if c.shap > 0]
    downs = [c for c in top if c.shap < 0]

    def listing(items: list[Contribution]) -> str:
        return "; ".join(f"{_contribution_label(c)} ({scale.step(c.shap)})" for c in items) or "none"

    alt = (
        f"Waterfall chart on the {scale.name}. Starting from the average past client ({texts[0]}), "
        f"{len(ups)} of the {len(top)} main factors raise the risk: {listing(ups)}. "
        f"{len(downs)} lower it: {listing(downs)}."
        + (f" {len(rest)} other factors together move it by {texts[-2].split(' ', 1)[1]}." if rest else "")
        + f" This client's score: {texts[-1]}."
    )
    return Chart(fig, alt)


# -- comparison -----------------------------------------------------------------------------------


def _bars(hist: Histogram, name: str, colour: str, pattern: str = "", side: int = 0) -> go.Bar:
    """Bars of a group's shares; ``side`` -1 / +1 draws them in the left / right half of each bin."""
    shares = [s * 100 for s in hist.shares()]
    marker = {
        "color": colour,
        # the hatch is drawn over the fill colour (Streamlit's plotly.js drops `bgcolor` in "replace" mode)
        "pattern": {"shape": pattern, "fgcolor": palette.BLACK, "fgopacity": 0.6, "fillmode": "overlay"},
        "line": {"color": "white", "width": 0.5},
    }
    hover = "%{x}: %{y:.1f} %<extra>" + name + "</extra>"
    if hist.numeric:
        widths = list(hist.widths())
        x = list(hist.centres())
        if side:
            return go.Bar(
                x=x,
                y=shares,
                width=[w / 2 for w in widths],
                offset=[-w / 2 if side < 0 else 0.0 for w in widths],
                name=name,
                marker=marker,
                hovertemplate=hover,
            )
        return go.Bar(x=x, y=shares, width=widths, name=name, marker=marker, hovertemplate=hover)
    x = list(hist.categories or ())
    if side:
        return go.Bar(
            x=x,
            y=shares,
            width=0.4,
            offset=-0.4 if side < 0 else 0.0,
            name=name,
            marker=marker,
            hovertemplate=hover,
        )
    return go.Bar(x=x, y=shares, width=0.8, name=name, marker=marker, hovertemplate=hover)


_PANEL_TITLES = (
    "All clients",
    "Similar clients",
    "Clients who defaulted (hatched, left) and who repaid (plain, right)",
)
_PANEL_GAP = 0.1


def distribution(
    label: str,
    client_value: object,
    all_clients: Histogram | None,
    similar: Histogram | None,
    defaulters: Histogram | None,
    non_defaulters: Histogram | None,
    client_text: str,
) -> go.Figure:
    """Three panels on one x axis: all clients, similar clients, defaulters beside non-defaulters.

    Built as one layout dictionary (validated once): ``make_subplots`` and per-panel ``add_vline``
    cost ~0.2 s per figure, which mattered on a page drawing several of them.
    """
    height = (1 - 2 * _PANEL_GAP) / 3
    domains = [(1 - height, 1.0), (0.5 - height / 2, 0.5 + height / 2), (0.0, height)]
    traces: list[go.Bar] = []
    panels = [
        [(all_clients, "All clients", palette.ALL_CLIENTS, "", 0)],
        [(similar, "Similar clients", palette.SIMILAR_CLIENTS, "", 0)],
        [
            (defaulters, "Defaulted", palette.DEFAULTERS, palette.DEFAULTERS_PATTERN, -1),
            (non_defaulters, "Repaid", palette.NON_DEFAULTERS, "", +1),
        ],
    ]
    for row, series in enumerate(panels, start=1):
        suffix = "" if row == 1 else str(row)
        for hist, name, colour, pattern, side in series:
            if hist is not None:
                traces.append(
                    _bars(hist, name, colour, pattern, side).update(xaxis=f"x{suffix}", yaxis=f"y{suffix}")
                )
    numeric_client = isinstance(client_value, int | float) and not isinstance(client_value, bool)
    categorical = all_clients is not None and not all_clients.numeric
    shapes = []
    if numeric_client or (client_value is not None and categorical):
        x = client_value if numeric_client else str(client_value)
        for row in (1, 2, 3):
            suffix = "" if row == 1 else str(row)
            shapes.append(
                {
                    "type": "line",
                    "xref": f"x{suffix}",
                    "x0": x,
                    "x1": x,
                    "yref": f"y{suffix} domain",
                    "y0": 0,
                    "y1": 1,
                    "line": {"color": palette.BLACK, "width": 3, "dash": "dash"},
                }
            )
        title = f"Dashed line: this client ({client_text})"
    else:
        title = f"This client: {client_text} (not shown)"
    layout: dict[str, object] = {
        "barmode": "overlay",
        "bargap": 0.0,
        "shapes": shapes,
        "annotations": [
            {
                "text": text,
                "x": 0.0,
                "xref": "paper",
                "xanchor": "left",
                "y": top,
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "font": {"size": 14},
            }
            for text, (_, top) in zip(_PANEL_TITLES, domains, strict=True)
        ],
    }
    for row, (low, high) in enumerate(domains, start=1):
        suffix = "" if row == 1 else str(row)
        layout[f"yaxis{suffix}"] = {
            "domain": [low, high],
            "anchor": f"x{suffix}",
            "title": {"text": "% of group"},
            "ticksuffix": "%",
            "automargin": True,
        }
        layout[f"xaxis{suffix}"] = {
            "anchor": f"y{suffix}",
            "automargin": True,
            **({"matches": "x3", "showticklabels": False} if row < 3 else {"title": {"text": label}}),
        }
    fig = go.Figure(data=traces, layout=layout)
    return _layout(
        fig,
        580,
        title={"text": title, "x": 1.0, "xanchor": "right", "font": {"size": 14}},
        margin={"l": 10, "r": 10, "t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.16},
    )


# -- model ---------------------------------------------------------------------------------------


def importance(items: Sequence[Importance], labels: dict[str, str], top_k: int = 15) -> Chart:
    top = list(items)[:top_k]
    names = [labels.get(i.feature) or i.label or humanize(i.feature) for i in top]
    fig = go.Figure(
        go.Bar(
            x=[i.mean_abs_shap for i in top],
            y=names,
            orientation="h",
            marker={"color": palette.BLUE},
            text=[number(i.mean_abs_shap, 3) for i in top],
            textposition="outside",
            cliponaxis=False,
        )
    )
    _layout(fig, 80 + 28 * len(top), showlegend=False, margin={"l": 10, "r": 60, "t": 20, "b": 10})
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title_text="Average influence on the score (mean |SHAP value|)")
    alt = "Bar chart of the factors that most influence the model overall, from most to least: " + "; ".join(
        f"{n} {number(i.mean_abs_shap, 3)}" for n, i in zip(names, top, strict=True)
    )
    return Chart(fig, alt + ".")


def what_if(official: float, scenario: float, threshold: float, official_decision: str,
            scenario_decision: str) -> Chart:
    """Bars of the probability: the official score and the score with the officer's changes."""

    def mark(decision: str) -> str:
        return "✔ grant" if decision.lower() == "grant" else "✖ refuse"

    names = ["Official score", "With the changes"]
    values = [official, scenario]
    colours = [palette.GREY, palette.BLUE]
    texts = [f"{pct(official)} · {mark(official_decision)}", f"{pct(scenario)} · {mark(scenario_decision)}"]
    fig = go.Figure(
        go.Bar(
            x=names,
            y=[v * 100 for v in values],
            marker={"color": colours},
            text=texts,
            textposition="outside",
            cliponaxis=False,
        )
    )
    fig.add_hline(
        y=threshold * 100,
        line={"color": palette.BLACK, "width": 2, "dash": "dash"},
        annotation_text=f"threshold {pct(threshold)}: refused at or above",
        annotation_position="top right",
        annotation_bgcolor="rgba(255,255,255,0.85)",
    )
    top = max(*values, threshold) * 100
    fig.update_yaxes(title_text="Probability of default", ticksuffix=" %", range=[0, top * 1.3 + 1])
    _layout(fig, 340, showlegend=False)
    parts = [f"{n.lower()} {t}" for n, t in zip(names, texts, strict=True)]
    alt = f"Bar chart of the probability of default: {'; '.join(parts)}. The dashed line is the threshold {pct(threshold)}."
    return Chart(fig, alt.replace("✔ ", "").replace("✖ ", ""))


# -- scorecard points ------------------------------------------------------------------------------


def points_table(explanation: Explanation) -> list[dict[str, object]]:
    """A scorecard's explanation as rows: characteristic, the client's value, points earned, best points,
    points short of the best bin (largest shortfall first; the points add up to the score)."""
    rows = []
    for c in sorted(explanation.contributions, key=lambda c: (c.points or 0) - (c.best_points or 0)):
        earned, best = float(c.points or 0.0), float(c.best_points or 0.0)
        rows.append({"Characteristic": c.label or humanize(c.feature), "Client's value": format_value(c.value),
                     "Points": earned, "Best possible": best, "Short of the best": best - earned})
    return rows


def points_bars(explanation: Explanation) -> Chart:
    """Points earned per characteristic (bars) against the best bin's points (markers)."""
    rows = points_table(explanation)
    names = [r["Characteristic"] for r in rows]
    fig = go.Figure()
    fig.add_bar(y=names, x=[r["Points"] for r in rows], orientation="h", name="points earned",
                marker={"color": palette.GREY}, text=[f"{r['Points']:g}" for r in rows], textposition="auto")
    fig.add_scatter(y=names, x=[r["Best possible"] for r in rows], mode="markers", name="best possible",
                    marker={"color": palette.BLACK, "symbol": "line-ns-open", "size": 14})
    _layout(fig, 110 + 30 * len(rows), showlegend=True, margin={"l": 10, "r": 20, "t": 20, "b": 10})
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title_text="Points (a higher score means a lower risk)", automargin=True)
    short = [r for r in rows if r["Short of the best"] > 0][:5]
    alt = (f"Bar chart of the points earned on {len(rows)} characteristics; they add up to the score of "
           f"{number(explanation.score_points or 0.0)} points. Largest shortfalls from the best possible: "
           + ("; ".join(f"{r['Characteristic']} ({r['Points']:g} of {r['Best possible']:g})" for r in short)
              or "none") + ".")
    return Chart(fig, alt)
