"""Privacy rule of the fitted file (issue 17): no stored figure is one applicant's value. A column's
quantiles used to run from its minimum to its maximum (e.g. the largest income of the sample was the top
quantile), and the 1,500 real test rows were too few for their values to be pooled (test applicants'
incomes were stored one by one, share 1/1,500). Known gap, written as strict xfails below: a column with
at most 120 distinct values and a categorical column still store rare values / levels with their shares
(enforcing it raised the detection AUC from 0.733 to 0.75-0.84: docs/synthetic.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthetic.fit import fit_categorical, fit_extra_counts, fit_numeric
from synthetic.joint import PRIVACY_MIN
from synthetic.stats import STATS_PATH

RNG = np.random.default_rng(0)
MARGINALS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "home-credit-marginals"


def _values(fitted: dict) -> set[float]:
    return {*fitted.get("atoms", []), *fitted.get("quantiles", [])}


def test_the_extremes_of_a_continuous_column_are_not_written() -> None:
    """Incomes: none of the PRIVACY_MIN - 1 largest or smallest values (one applicant each) is stored;
    the tails are drawn from a uniform tail with the mean of the PRIVACY_MIN most extreme values."""
    x = pd.Series(np.round(RNG.lognormal(11.8, 0.5, 7000), 1))
    fitted = fit_numeric(x, integer=False)
    qs = np.asarray(fitted["quantiles"])
    ordered = np.sort(x.to_numpy())
    extreme = {*ordered[: PRIVACY_MIN - 1].tolist(), *ordered[-(PRIVACY_MIN - 1):].tolist()}
    assert qs.size >= 2 and not (_values(fitted) & extreme)
    assert fitted["n"] == len(x) and fitted["quantile_trim"] == PRIVACY_MIN
    assert np.all(np.diff(qs) >= 0) and qs.min() >= 0  # a non-negative column stays non-negative
    top_mean = ordered[-PRIVACY_MIN:].mean()
    tail = qs[qs >= ordered[-PRIVACY_MIN]]
    assert abs(tail.mean() - top_mean) < 0.15 * top_mean  # the tail keeps its size, not its members


def test_a_column_with_too_few_values_is_not_described() -> None:
    x = pd.Series([np.nan] * 500 + list(RNG.normal(size=PRIVACY_MIN - 1)))
    fitted = fit_numeric(x, integer=False)
    assert fitted["missing"] == 1.0 and not fitted["quantiles"] and "n" not in fitted
    assert not (_values(fitted) & set(x.dropna().tolist()))


def test_rare_counts_per_applicant_are_not_written() -> None:
    counts = pd.Series([0] * 3000 + [1] * 2000 + [5] * 400 + [31] * 2 + [60])
    fitted = fit_extra_counts(counts)
    assert fitted["values"] == [0, 1, 5] and fitted["counts"] == [3000, 2000, 403]
    assert min(fitted["counts"]) >= PRIVACY_MIN


@pytest.mark.xfail(strict=True, reason="known gap: discrete columns keep rare values (docs/synthetic.md)")
def test_a_rare_value_of_a_discrete_column_is_not_written() -> None:
    x = pd.Series([0] * 5000 + [1] * 1500 + [2] * 700 + [3] * 90 + [7] * 3 + [19])
    assert 19.0 not in _values(fit_numeric(x, integer=True))


@pytest.mark.xfail(strict=True, reason="known gap: rare category levels keep their shares (docs/synthetic.md)")
def test_a_rare_category_level_is_not_written_with_its_own_share() -> None:
    s = pd.Series(["Working"] * 4000 + ["Pensioner"] * 1300 + ["Businessman"] * 2)
    fitted = fit_categorical(s)
    assert min(p * fitted["n"] for p in fitted["probs"]) >= PRIVACY_MIN


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


def test_the_committed_file_describes_no_column_on_fewer_than_the_minimum() -> None:
    """Every marginal of the committed file (tables, conditional groups, extras) describes at least
    PRIVACY_MIN values or nothing, and its quantiles are trimmed; the per-applicant counts are pooled."""
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    seen = 0
    for path, m in _marginals(fitted):
        seen += 1
        if "n" not in m:  # written as missing, nothing described (a numeric one keeps atom 0.0)
            assert m["missing"] == 1.0 and not m.get("levels") and not m.get("quantiles"), path
            continue
        assert m["n"] >= PRIVACY_MIN, path
        if m.get("quantiles"):
            assert m["quantile_trim"] >= PRIVACY_MIN, path
    assert seen > 300
    assert min(fitted["extra"]["bureau_per_applicant"]["counts"]) >= PRIVACY_MIN


@pytest.mark.real_data
@pytest.mark.skipif(not (MARGINALS / "application_test.csv").exists(), reason="real marginal rows not present")
def test_no_extreme_real_value_is_in_the_committed_file() -> None:
    """Against the real rows the file was fitted on: no numeric marginal of the application tables stores
    any of the PRIVACY_MIN - 1 most extreme values of its column (test rows pooled with the train rows)."""
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))["marginals"]
    train = pd.read_csv(MARGINALS / "application_train.csv", low_memory=False)
    test = pd.read_csv(MARGINALS / "application_test.csv", low_memory=False)
    checked = 0
    for table, rows in (("application_train", train), ("application_test", pd.concat([train, test]))):
        for column, m in fitted[table].items():
            if m["kind"] != "num" or not m.get("quantiles") or column not in rows:
                continue
            ordered = np.sort(pd.to_numeric(rows[column], errors="coerce").dropna().to_numpy())
            # values beyond the PRIVACY_MIN-th from either end (that value itself has enough rows at or beyond it)
            extreme = {*ordered[: PRIVACY_MIN - 1].tolist(), *ordered[-(PRIVACY_MIN - 1):].tolist()}
            # (0.0 is the floor of a non-negative column's tail: a constant, not a value of the data)
            extreme -= {ordered[PRIVACY_MIN - 1], ordered[-PRIVACY_MIN], *m["atoms"], 0.0}
            assert not (set(m["quantiles"]) & extreme), (table, column)
            checked += 1
    assert checked > 50
