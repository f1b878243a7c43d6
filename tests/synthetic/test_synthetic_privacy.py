"""Privacy rule of the fitted file (issue 17): no value, level or statistic stands for fewer than
PRIVACY_MIN real rows. A marginal used to keep every value of a column with few distinct values, each
with its own share (a value seen on one applicant, e.g. one applicant's income among the test rows,
was written out with share 1/1,500), and the extreme quantiles of a continuous column were its
minimum and maximum, i.e. one applicant's value each."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from synthetic.fit import fit_categorical, fit_numeric
from synthetic.joint import PRIVACY_MIN
from synthetic.stats import STATS_PATH

RNG = np.random.default_rng(0)


def _values(fitted: dict) -> set[float]:
    return {*fitted.get("atoms", []), *fitted.get("quantiles", [])}


def test_a_rare_value_of_a_discrete_column_is_not_written() -> None:
    """Children per applicant: 0-3 on many rows, 7 on 3 rows, 19 on one: neither 7 nor 19 is stored;
    their rows count with the nearest value that has enough rows."""
    x = pd.Series([0] * 5000 + [1] * 1500 + [2] * 700 + [3] * 90 + [7] * 3 + [19])
    fitted = fit_numeric(x, integer=True)
    assert 19.0 not in _values(fitted) and 7.0 not in _values(fitted)
    assert fitted["atoms"] == [0.0, 1.0, 2.0, 3.0]
    assert fitted["n"] == len(x)
    assert min(p * fitted["n"] for p in fitted["atom_probs"]) >= PRIVACY_MIN
    assert sum(fitted["atom_probs"]) == np.float64(1.0) or abs(sum(fitted["atom_probs"]) - 1) < 1e-6


def test_the_extremes_of_a_continuous_column_are_not_written() -> None:
    """Incomes: the largest and smallest values (one applicant each) are not among the stored quantiles,
    nor anything beyond the PRIVACY_MIN-th value from either end."""
    x = pd.Series(np.round(RNG.lognormal(11.8, 0.5, 7000), 1))
    fitted = fit_numeric(x, integer=False)
    qs = np.asarray(fitted["quantiles"])
    ordered = np.sort(x.to_numpy())
    assert qs.size >= 2
    assert qs.min() >= ordered[PRIVACY_MIN - 1] and qs.max() <= ordered[-PRIVACY_MIN]
    assert ordered[-1] not in _values(fitted) and ordered[0] not in _values(fitted)


def test_a_column_with_too_few_values_is_not_described() -> None:
    x = pd.Series([np.nan] * 500 + list(RNG.normal(size=PRIVACY_MIN - 1)))
    fitted = fit_numeric(x, integer=False)
    assert fitted["missing"] == 1.0 and not fitted["quantiles"]
    assert not (_values(fitted) & set(x.dropna().tolist()))


def test_a_rare_category_level_is_not_written() -> None:
    s = pd.Series(["Working"] * 4000 + ["Pensioner"] * 1300 + ["Businessman"] * 2 + ["Student"] * 49 + [None] * 10)
    fitted = fit_categorical(s)
    assert fitted["levels"] == ["Pensioner", "Working"]
    assert abs(sum(fitted["probs"]) - 1.0) < 1e-6
    assert min(p * fitted["n"] for p in fitted["probs"]) >= PRIVACY_MIN


def test_rare_counts_per_applicant_are_not_written() -> None:
    from synthetic.fit import fit_extra_counts

    counts = pd.Series([0] * 3000 + [1] * 2000 + [5] * 400 + [31] * 2 + [60])
    fitted = fit_extra_counts(counts)
    assert 31 not in fitted["values"] and 60 not in fitted["values"]
    assert min(fitted["counts"]) >= PRIVACY_MIN


def _marginals(node, path=()):
    """Every fitted marginal (a dict with "kind") in the committed file, with its path."""
    if isinstance(node, dict):
        if node.get("kind") in {"num", "cat"}:
            yield path, node
        for key, value in node.items():
            yield from _marginals(value, (*path, key))
    elif isinstance(node, list):
        for k, value in enumerate(node):
            yield from _marginals(value, (*path, k))


def test_the_committed_file_keeps_the_privacy_minimum() -> None:
    """Every marginal of the committed file (tables, conditional groups, extras) describes at least
    PRIVACY_MIN values, each stored value or level stands for at least PRIVACY_MIN of them, and its
    quantiles leave PRIVACY_MIN values beyond each end."""
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    seen = 0
    for path, m in _marginals(fitted):
        seen += 1
        described = m.get("levels") or m.get("atoms") or m.get("quantiles")
        if not described:
            continue
        n = m["n"]
        assert n >= PRIVACY_MIN, path
        shares = m.get("probs") if m["kind"] == "cat" else m["atom_probs"]
        for share in shares:
            assert share * n >= PRIVACY_MIN - 1e-3, (path, share, n)
        if m.get("quantiles"):
            assert m["quantile_trim"] >= PRIVACY_MIN, path
    assert seen > 300
    for name, counts in fitted["extra"].items():
        if "counts" in counts:
            assert min(counts["counts"]) >= PRIVACY_MIN, name
