"""One feature of the comparison endpoint, made readable: units, groups, and sentences saying where the client stands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dashboard.distributions import (
    Histogram,
    category_share,
    median,
    parse_histogram,
    parse_quantiles,
    share_below,
)
from dashboard.formatting import DAYS_PER_YEAR, format_value, humanize, is_missing, pct
from dashboard.schemas import Distribution, FeatureComparison

GROUP_NAMES = {
    "all": "All clients",
    "similar": "Similar clients",
    "defaulters": "Clients who defaulted",
    "non_defaulters": "Clients who repaid",
}


@dataclass(frozen=True)
class GroupView:
    key: str
    name: str
    histogram: Histogram | None
    quantiles: list[tuple[float, float]]
    n: int | None = None
    default_rate: float | None = None
    k: int | None = None
    on_features: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeatureView:
    feature: str
    label: str
    unit: str | None
    numeric: bool
    client_value: Any
    percentile: float | None
    groups: dict[str, GroupView] = field(default_factory=dict)

    @property
    def client_text(self) -> str:
        return format_value(self.client_value, self.unit)

    def value_text(self, value: float) -> str:
        return format_value(value, self.unit)


def _is_day_count(feature: str, unit_hint: str | None) -> bool:
    return feature.startswith("days_") or (unit_hint or "").lower() in ("day", "days")


def _days_to_years(v: float) -> float:
    return -v / DAYS_PER_YEAR


def _convert_histogram(h: Histogram | None) -> Histogram | None:
    if h is None or not h.numeric:
        return h
    assert h.edges is not None
    # Years before the application grow as days (negative) shrink: reverse the bins.
    edges = tuple(_days_to_years(e) for e in reversed(h.edges))
    return Histogram(tuple(reversed(h.counts)), edges=edges)


def _group(key: str, dist: Distribution | None, to_years: bool) -> GroupView | None:
    if dist is None:
        return None
    hist = parse_histogram(dist.histogram)
    quants = parse_quantiles(dist.quantiles)
    if to_years:
        hist = _convert_histogram(hist)
        quants = sorted((1.0 - q, _days_to_years(v)) for q, v in quants)
    extra = dist.model_extra or {}
    return GroupView(
        key=key,
        name=GROUP_NAMES[key],
        histogram=hist,
        quantiles=quants,
        n=extra.get("n"),
        default_rate=extra.get("default_rate"),
        k=extra.get("k"),
        on_features=tuple(extra.get("on_features") or ()),
    )


def feature_view(
    fc: FeatureComparison, unit_hint: str | None = None, label_hint: str | None = None
) -> FeatureView:
    """Raises ``ValueError`` naming the problem when a distribution cannot be read."""
    kind = fc.kind
    value = fc.client_value
    numeric_value = isinstance(value, int | float) and not isinstance(value, bool)
    numeric = kind == "numeric" if kind else numeric_value
    to_years = numeric and _is_day_count(fc.feature, unit_hint)
    percentile = fc.client_percentile
    # The client-data page shows shares as percentages (value x 100, unit "%"); here values are raw shares.
    unit = "share" if (unit_hint or "").strip() == "%" else unit_hint
    if to_years:
        unit = "years"
        if numeric_value:
            value = _days_to_years(float(value))
        if percentile is not None:
            percentile = 1.0 - float(percentile)
    groups = {}
    for key in GROUP_NAMES:
        view = _group(key, getattr(fc, key), to_years)
        if view is not None:
            groups[key] = view
    if percentile is None and numeric and numeric_value and "all" in groups and groups["all"].histogram:
        percentile = share_below(float(value), groups["all"].histogram)
    return FeatureView(
        feature=fc.feature,
        label=label_hint or fc.label or humanize(fc.feature),
        unit=unit,
        numeric=numeric,
        client_value=value,
        percentile=percentile,
        groups=groups,
    )


def sentences(view: FeatureView) -> list[str]:
    """Where the client stands, in words (also the text alternative of the chart)."""
    lines = [f"This client: **{view.client_text}**."]
    if is_missing(view.client_value):
        lines.append("The information is missing for this client, so it cannot be placed among the others.")
    similar = view.groups.get("similar")
    if view.numeric:
        all_ = view.groups.get("all")
        if all_ is not None:
            parts = []
            if view.percentile is not None and not is_missing(view.client_value):
                parts.append(f"{pct(view.percentile, 0)} have a lower value than this client")
            mid = median(all_.quantiles, all_.histogram)
            if mid is not None:
                parts.append(f"the median is {view.value_text(mid)}")
            if parts:
                lines.append("Among all clients, " + "; ".join(parts) + ".")
        if similar is not None:
            mid = median(similar.quantiles, similar.histogram)
            if mid is not None:
                lines.append(f"Among similar clients, the median is {view.value_text(mid)}.")
        d, n = view.groups.get("defaulters"), view.groups.get("non_defaulters")
        if d is not None and n is not None:
            md, mn = median(d.quantiles, d.histogram), median(n.quantiles, n.histogram)
            if md is not None and mn is not None:
                lines.append(
                    f"Clients who defaulted had a median of {view.value_text(md)}; "
                    f"clients who repaid, {view.value_text(mn)}."
                )
    elif not is_missing(view.client_value):
        shares = []
        for key in ("all", "similar", "defaulters", "non_defaulters"):
            g = view.groups.get(key)
            share = category_share(view.client_value, g.histogram) if g and g.histogram else None
            if share is not None:
                shares.append(f"{pct(share, 0)} of {g.name[0].lower() + g.name[1:]}")
        if shares:
            lines.append(f"'{view.client_text}' is the case for " + ", ".join(shares) + ".")
    if similar is not None and similar.default_rate is not None:
        size = f"the {similar.k} " if similar.k else ""
        lines.append(
            f"Of {size}clients most similar to this one (with a known outcome), "
            f"{pct(similar.default_rate)} defaulted."
        )
    return lines


def quantile_rows(view: FeatureView) -> list[dict[str, str]]:
    """A table of the groups' quantiles (rows: quantiles in order; columns: groups)."""
    qs = sorted({q for g in view.groups.values() for q, _ in g.quantiles})
    rows = []
    for q in qs:
        row = {"Quantile": f"{q * 100:g} %"}
        for g in view.groups.values():
            value = dict(g.quantiles).get(q)
            row[g.name] = "—" if value is None else view.value_text(value)
        rows.append(row)
    return rows
