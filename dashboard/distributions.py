"""Reading the distributions of the comparison endpoint and describing where a client stands.

The API sends, per group of clients, ``quantiles`` and a ``histogram``. This module accepts the
usual JSON spellings of both and turns them into one form; anything else raises a clear
``ValueError`` naming what was expected.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dashboard.formatting import is_missing


@dataclass(frozen=True)
class Histogram:
    """Numeric (``edges`` has one more item than ``counts``) or categorical (``categories``)."""

    counts: tuple[float, ...]
    edges: tuple[float, ...] | None = None
    categories: tuple[str, ...] | None = None

    @property
    def numeric(self) -> bool:
        return self.edges is not None

    @property
    def total(self) -> float:
        return float(sum(self.counts))

    def shares(self) -> tuple[float, ...]:
        """Relative frequencies (sum 1), so that groups of different sizes compare."""
        total = self.total
        return tuple(c / total if total else 0.0 for c in self.counts)

    def centres(self) -> tuple[float, ...]:
        assert self.edges is not None
        return tuple((a + b) / 2 for a, b in zip(self.edges[:-1], self.edges[1:], strict=True))

    def widths(self) -> tuple[float, ...]:
        assert self.edges is not None
        return tuple(b - a for a, b in zip(self.edges[:-1], self.edges[1:], strict=True))


_EDGE_KEYS = ("bin_edges", "edges", "bins", "breaks")
_CAT_KEYS = ("categories", "levels", "labels", "values", "keys")
_LOWER_KEYS = ("lower", "left", "start", "from", "min")
_UPPER_KEYS = ("upper", "right", "end", "to", "max")
_CAT_ITEM_KEYS = ("category", "level", "value", "label", "bin", "key")


def _first(mapping: Mapping[str, Any], keys: Sequence[str]) -> Any:
    for key in keys:
        if key in mapping:
            return mapping[key]
    return None


def parse_histogram(raw: Any) -> Histogram | None:
    """One of the accepted histogram spellings -> :class:`Histogram` (None when absent/empty)."""
    if raw is None or (isinstance(raw, Sequence | Mapping) and len(raw) == 0):
        return None
    if isinstance(raw, Mapping):
        counts = raw.get("counts", raw.get("count"))
        edges = _first(raw, _EDGE_KEYS)
        cats = _first(raw, _CAT_KEYS)
        if counts is not None and edges is not None:
            counts_t = tuple(float(c) for c in counts)
            edges_t = tuple(float(e) for e in edges)
            if len(edges_t) != len(counts_t) + 1:
                raise ValueError(
                    f"histogram has {len(edges_t)} edges for {len(counts_t)} counts; expected one edge more"
                )
            return Histogram(counts_t, edges=edges_t)
        if counts is not None and cats is not None:
            if len(cats) != len(counts):
                raise ValueError(f"histogram has {len(cats)} categories for {len(counts)} counts")
            return Histogram(tuple(float(c) for c in counts), categories=tuple(str(c) for c in cats))
        if all(isinstance(v, int | float) for v in raw.values()):  # {category: count}
            return Histogram(tuple(float(v) for v in raw.values()), categories=tuple(str(k) for k in raw))
    if isinstance(raw, Sequence) and not isinstance(raw, str) and all(isinstance(i, Mapping) for i in raw):
        first = raw[0]
        if _first(first, _LOWER_KEYS) is not None and _first(first, _UPPER_KEYS) is not None:
            edges = [float(_first(first, _LOWER_KEYS))] + [float(_first(i, _UPPER_KEYS)) for i in raw]
            return Histogram(tuple(float(i.get("count", 0)) for i in raw), edges=tuple(edges))
        if _first(first, _CAT_ITEM_KEYS) is not None:
            cats = tuple(str(_first(i, _CAT_ITEM_KEYS)) for i in raw)
            return Histogram(tuple(float(i.get("count", 0)) for i in raw), categories=cats)
    raise ValueError(
        "histogram not understood: expected {bin_edges, counts}, {categories, counts}, "
        f"a list of {{lower, upper, count}} or of {{category, count}}; got {str(raw)[:120]}"
    )


_Q_KEY = re.compile(r"^(?:p|q|quantile_?)?(\d+(?:\.\d+)?)%?$", re.IGNORECASE)
_NAMED_Q = {"min": 0.0, "median": 0.5, "max": 1.0}


def _q_of(key: Any) -> float | None:
    if isinstance(key, int | float):
        q = float(key)
        return q / 100 if q > 1 else q
    text = str(key).strip().lower()
    if text in _NAMED_Q:
        return _NAMED_Q[text]
    m = _Q_KEY.match(text)
    if not m:
        return None
    digits = m.group(1)
    q = float(digits)
    if "." in digits and q <= 1:
        return q  # "0.25"
    return q / 100  # "p25", "25", "25%", "p05"


def parse_quantiles(raw: Any) -> list[tuple[float, float]]:
    """Accepted spellings -> sorted ``[(q, value)]`` with q in [0, 1]; non-numeric values are skipped."""
    if raw is None:
        return []
    pairs: list[tuple[float, float]] = []
    if isinstance(raw, Mapping):
        for key, value in raw.items():
            q = _q_of(key)
            if q is not None and isinstance(value, int | float) and not is_missing(value):
                pairs.append((q, float(value)))
    elif isinstance(raw, Sequence) and not isinstance(raw, str):
        for item in raw:
            if isinstance(item, Mapping):
                q = _q_of(item.get("q", item.get("quantile", item.get("p"))))
                value = item.get("value")
                if q is not None and isinstance(value, int | float) and not is_missing(value):
                    pairs.append((q, float(value)))
    return sorted(pairs)


def median(quantiles: Sequence[tuple[float, float]], hist: Histogram | None = None) -> float | None:
    for q, v in quantiles:
        if math.isclose(q, 0.5):
            return v
    if len(quantiles) >= 2:
        return _interp(quantiles, 0.5)
    if hist is not None and hist.numeric and hist.total:
        return _hist_quantile(hist, 0.5)
    return None


def _interp(quantiles: Sequence[tuple[float, float]], q: float) -> float | None:
    for (q0, v0), (q1, v1) in zip(quantiles[:-1], quantiles[1:], strict=True):
        if q0 <= q <= q1:
            return v0 if q1 == q0 else v0 + (v1 - v0) * (q - q0) / (q1 - q0)
    return None


def _hist_quantile(hist: Histogram, q: float) -> float:
    assert hist.edges is not None
    target, running = q * hist.total, 0.0
    for (a, b), c in zip(zip(hist.edges[:-1], hist.edges[1:], strict=True), hist.counts, strict=True):
        if running + c >= target and c > 0:
            return a + (b - a) * (target - running) / c
        running += c
    return hist.edges[-1]


def share_below(value: float, hist: Histogram) -> float | None:
    """Share of the group with a value below ``value`` (linear within a bin), from the histogram."""
    if not hist.numeric or not hist.total:
        return None
    assert hist.edges is not None
    below = 0.0
    for (a, b), c in zip(zip(hist.edges[:-1], hist.edges[1:], strict=True), hist.counts, strict=True):
        if value >= b:
            below += c
        elif value > a:
            below += c * (value - a) / (b - a)
    return below / hist.total


def category_share(value: Any, hist: Histogram) -> float | None:
    if hist.categories is None or not hist.total:
        return None
    text = str(value)
    for cat, count in zip(hist.categories, hist.counts, strict=True):
        if cat == text:
            return count / hist.total
    return 0.0
