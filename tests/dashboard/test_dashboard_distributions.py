"""Reading the comparison endpoint's distributions and placing a client on them."""

from __future__ import annotations

import pytest

from dashboard.distributions import (
    category_share,
    median,
    parse_histogram,
    parse_quantiles,
    share_below,
)


def test_numeric_histogram_edges_counts():
    h = parse_histogram({"edges": [0, 10, 20, 30], "counts": [1, 2, 1]})
    assert h.numeric and h.total == 4
    assert h.centres() == (5.0, 15.0, 25.0)
    assert h.shares() == (0.25, 0.5, 0.25)
    assert share_below(15, h) == pytest.approx(0.5)  # 1 + half of 2
    assert share_below(-5, h) == 0.0
    assert share_below(99, h) == 1.0


def test_categorical_histogram_and_share():
    h = parse_histogram({"categories": ["Working", "Pensioner"], "counts": [3, 1]})
    assert not h.numeric and h.categories == ("Working", "Pensioner")
    assert category_share("Working", h) == 0.75
    assert category_share("Student", h) == 0.0


def test_other_histogram_spellings():
    assert parse_histogram(
        [{"lower": 0, "upper": 1, "count": 2}, {"lower": 1, "upper": 2, "count": 3}]
    ).edges == (
        0.0,
        1.0,
        2.0,
    )
    assert parse_histogram({"yes": 2, "no": 5}).categories == ("yes", "no")
    assert parse_histogram(None) is None
    assert parse_histogram({}) is None


def test_bad_histogram_names_the_expected_form():
    with pytest.raises(ValueError, match="one edge more"):
        parse_histogram({"edges": [0, 1], "counts": [1, 2]})
    with pytest.raises(ValueError, match="expected"):
        parse_histogram({"weird": "shape"})


def test_quantiles_spellings_and_median():
    q = parse_quantiles({"p05": 1.0, "p25": 2.0, "p50": 3.0, "p75": 4.0, "p95": None})
    assert q == [(0.05, 1.0), (0.25, 2.0), (0.5, 3.0), (0.75, 4.0)]
    assert median(q) == 3.0
    assert parse_quantiles({"0.25": 2.0, "0.75": 4.0}) == [(0.25, 2.0), (0.75, 4.0)]
    assert median(parse_quantiles({"0.25": 2.0, "0.75": 4.0})) == 3.0
    assert parse_quantiles([{"q": 0.5, "value": 7}]) == [(0.5, 7.0)]
    assert median([], parse_histogram({"edges": [0, 10], "counts": [4]})) == 5.0
