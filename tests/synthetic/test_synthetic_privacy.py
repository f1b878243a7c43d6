"""Privacy rule of the fitted file (issue 17): no stored figure is one applicant's value. A column's
quantiles used to run from its minimum to its maximum (e.g. the largest income of the sample was the top
quantile), and the 1,500 real test rows were too few for their values to be pooled (test applicants'
incomes were stored one by one, share 1/1,500). A column with at most 120 distinct values and a categorical
column stored rare values / levels with their own shares: now no level share stands for fewer than
PRIVACY_MIN rows unless it is part of a pool that does, and no numeric atom is one of the PRIVACY_MIN - 1
most extreme values of its column unless seen on PRIVACY_MIN rows; a conditional group's missing (present)
cell of fewer rows takes its share from a pool of groups (`missing_pools`). Since stop 28 the committed file
is fitted under the strict atom rule (`COMMITTED_RULES`): every numeric atom share stands for PRIVACY_MIN
rows, its own or a written pool's, in the marginals, the fallbacks and every conditional group (a group's
shares checked against its real present values when the real rows are there: `group_values`)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from synthetic.fit import (
    ATOM_MIN_COUNT,
    COMBINATIONS,
    COMMITTED_RULES,
    PrivacyRules,
    band,
    banded_atoms,
    fit_categorical,
    fit_column,
    fit_conditional,
    fit_extra_counts,
    fit_marginal,
    fit_numeric,
    fit_table,
    fitted_groups,
    group_sizes,
    group_values,
    inner_range,
    marginal_values,
    real_tables,
)
from synthetic.joint import OTHER, PRIVACY_MIN, common_denominators, pattern_codes
from synthetic.stats import STATS_PATH, NumericMarginal

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


def test_a_rare_value_of_a_discrete_column_is_not_written() -> None:
    x = pd.Series([0] * 5000 + [1] * 1500 + [2] * 700 + [3] * 90 + [7] * 3 + [19])
    fitted = fit_numeric(x, integer=True)
    assert 19.0 not in _values(fitted) and 7.0 not in _values(fitted)
    assert fitted["atoms"] == [0.0, 1.0, 2.0, 3.0]  # 4 rare rows: too few for a continuous part, merged
    assert min(p * fitted["n"] for p in fitted["atom_probs"]) >= PRIVACY_MIN


def test_rare_extreme_values_of_a_discrete_column_count_with_the_nearest_kept_one() -> None:
    """Top coding: of 4..7 (40/30/20/13 rows) and one 19, the values beyond the PRIVACY_MIN-th largest (5)
    are written nowhere and their rows count with 5; 4, a middle value, stays an atom with its share."""
    x = pd.Series([0] * 5000 + [1] * 1500 + [2] * 700 + [3] * 90 + [4] * 40 + [5] * 30 + [6] * 20 + [7] * 13
                  + [19])  # fmt: skip
    fitted = fit_numeric(x, integer=True)
    assert fitted["atoms"] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0] and not fitted["quantiles"]
    assert fitted["atom_probs"][-2:] == pytest.approx([40 / len(x), 64 / len(x)], abs=1e-8)
    draws = NumericMarginal.from_json(fitted).ppf(np.random.default_rng(1).random(50_000))
    assert draws.max() == 5


def test_a_rare_middle_value_of_a_discrete_column_is_not_written() -> None:
    """Under the committed rule (strict since stop 28): 2, a middle value of 40 rows with no rare value to pool
    with, is no atom (its rows count with a neighbour); the loose rule of the file before kept it."""
    x = pd.Series([0] * 5000 + [1] * 1500 + [2] * 40 + [3] * 700 + [4] * 90)
    fitted = fit_column(x, "BIGINT", rules=COMMITTED_RULES)
    assert 2.0 not in fitted["atoms"] and 2.0 in fit_numeric(x, integer=True)["atoms"]


def test_rare_values_on_a_lattice_are_drawn_on_it() -> None:
    """A building's age coded in steps of 0.0068 (more than 120 values): the frequent values give the
    lattice, the rare ones are no atoms (only the trimmed quantiles of their part) but drawn on the
    lattice, so the data keeps its steps."""
    steps = np.round(0.6192 + 0.0068 * np.arange(130), 4)
    x = pd.Series(np.r_[np.repeat(steps[:100], 60), np.repeat(steps[100:], 10)])
    fitted = fit_numeric(x, integer=False)
    assert not (set(steps[100:].tolist()) & set(fitted["atoms"])) and steps[-1] not in _values(fitted)
    assert fitted["lattice"][1] == pytest.approx(0.0068, abs=1e-6)
    draws = NumericMarginal.from_json(fitted).ppf(np.random.default_rng(2).random(50_000))
    k = (draws - 0.6192) / 0.0068
    assert np.abs(k - np.rint(k)).max() < 0.02  # on the lattice (4-decimal rounding aside)
    assert np.mean(draws > steps[99]) > 0.02  # the rare region is drawn


def test_rare_values_on_a_lattice_of_one_nth_written_with_four_decimals_are_drawn_on_it() -> None:
    """The apartments' modes: every real one is k / 952 written with 4 decimals, whose rounding spaces the written
    values unevenly (0.0084, 0.0095, 0.0105, 0.0116: steps of 0.0011 and 0.0010), so the search for an even step
    found no lattice and half the generated modes fell between the real values (the column alone told them apart
    at AUC 0.57). Since stop 31 the lattice 1 / 952 is found from the frequent values' spelling and the rare ones'
    share (`_rational_lattice`) and the draws are put on it; values on no such lattice get none."""
    rng = np.random.default_rng(3)
    frequent = np.round(np.arange(8, 200, 8) / 952, 4)  # 24 values of 60 rows each
    rare = np.round(rng.integers(1, 900, 3000) / 952, 4)  # values of a few rows each
    x = pd.Series(np.r_[np.repeat(frequent, 60), rare])
    fitted = fit_numeric(x, integer=False)
    assert fitted["decimals"] == 4 and fitted["lattice"] == [0.0, pytest.approx(1 / 952)]
    draws = NumericMarginal.from_json(fitted).ppf(np.random.default_rng(2).random(20_000))
    assert (np.round(np.rint(draws * 952) / 952, 4) == draws).all()
    off = pd.Series(np.r_[np.repeat(frequent, 60), np.round(rng.uniform(0.001, 0.9, 3000), 4)])
    assert "lattice" not in fit_numeric(off, integer=False)


def test_a_score_kept_in_points_and_published_as_a_probability_is_drawn_on_its_points() -> None:
    """Kaggle's EXT_SOURCE_3: every real value is 1 / (1 + exp(-(start + k * step))) for an integer k (step
    0.0072126: 200 points to double the odds), lumped at about 10 rows per value in the sample; a smooth draw fell
    between them. Since stop 32 the two figures are found from the values (`_logit_lattice`) and the draws are put
    on the points; a column of smooth probabilities (EXT_SOURCE_1, _2) gets none."""
    start, step = -0.0029, 0.0072126
    k = np.rint(RNG.normal(-20, 200, 8000))  # scores of 0.05 to 0.95, written with full precision
    x = pd.Series(1.0 / (1.0 + np.exp(-(start + k * step))))
    fitted = fit_numeric(x, integer=False)
    assert fitted["decimals"] is None
    assert fitted["logit_lattice"] == [pytest.approx(start, abs=1e-9), pytest.approx(step, rel=1e-9)]
    draws = NumericMarginal.from_json(fitted).ppf(np.random.default_rng(2).random(20_000))
    r = (np.log(draws / (1.0 - draws)) - start) / step
    assert np.abs(r - np.rint(r)).max() < 1e-6 and np.unique(draws).size > 300
    assert "logit_lattice" not in fit_numeric(pd.Series(RNG.beta(5, 3, 8000)), integer=False)
    committed = json.loads(STATS_PATH.read_text(encoding="utf-8"))["marginals"]["application_train"]
    assert [c for c, m in committed.items() if "logit_lattice" in m] == ["EXT_SOURCE_3"]
    if (MARGINALS / "application_train.csv").exists():
        real = pd.read_csv(MARGINALS / "application_train.csv", usecols=["EXT_SOURCE_3"]).EXT_SOURCE_3.dropna()
        s, h = committed["EXT_SOURCE_3"]["logit_lattice"]
        r = (np.log(real / (1.0 - real)) - s) / h
        assert np.abs(r - np.rint(r)).max() < 1e-6


def test_an_atom_of_a_many_valued_column_is_seen_on_eight_rows_inside_the_extremes() -> None:
    """More than 120 distinct values: a value is an atom from ATOM_MIN_COUNT rows and a visible share, but
    among the PRIVACY_MIN - 1 most extreme values only from PRIVACY_MIN rows."""
    x = pd.Series(np.r_[np.round(RNG.normal(100, 10, 3000), 1), [100.0] * 12, [300.0] * 12])
    fitted = fit_numeric(x, integer=False)
    assert 100.0 in fitted["atoms"] and 300.0 not in _values(fitted)
    assert inner_range(x)[1] < 300.0


def test_a_rare_category_level_is_not_written_with_its_own_share() -> None:
    """Every level share stands for PRIVACY_MIN rows: its own, a pool's (the rare levels share it evenly),
    or none (share 0: too few rare rows in all for a pool)."""
    s = pd.Series(["Working"] * 4000 + ["Pensioner"] * 1300 + ["Businessman"] * 2)
    fitted = fit_categorical(s)
    shares = dict(zip(fitted["levels"], fitted["probs"], strict=True))
    assert min(p * fitted["n"] for p in shares.values() if p > 0) >= PRIVACY_MIN
    assert shares["Businessman"] == 0 and "pools" not in fitted
    s = pd.Series(["Working"] * 4000 + ["Pensioner"] * 1300 + ["Businessman"] * 2 + ["A"] * 30 + ["B"] * 45)
    fitted = fit_categorical(s)
    shares = dict(zip(fitted["levels"], fitted["probs"], strict=True))
    assert fitted["pools"] == [{"levels": ["A", "B", "Businessman"], "n": 77}]
    assert shares["A"] == shares["B"] == shares["Businessman"] == pytest.approx(77 / 3 / len(s), abs=1e-7)
    assert shares["Working"] == pytest.approx(4000 / len(s), abs=1e-7)


def test_a_group_keeps_its_frequent_cells_only() -> None:
    """Conditional groups: a categorical cell of PRIVACY_MIN rows keeps its share (scaled over the kept
    cells when they hold most of the group), the rare cells are dropped; a group without any frequent cell
    takes the column's marginal (``from_reference``). A numeric group keeps its values, but one among the
    column's PRIVACY_MIN - 1 most extreme (9, on 2 rows) counts with the group's nearest value."""
    parent = ["a"] * 200 + ["b"] * 400 + ["c"] * 150
    child = (["X"] * 150 + ["Y"] * 40 + ["Z"] * 10 + ["X"] * 100 + ["Y"] * 200 + ["Z"] * 100
             + ["X"] * 45 + ["Y"] * 45 + ["Z"] * 45 + ["W"] * 15)  # fmt: skip
    count = [0] * 160 + [1] * 30 + [2] * 8 + [9] * 2 + [0] * 100 + [1] * 200 + [2] * 100 + [0] * 50 + [1] * 100
    df = pd.DataFrame({"P": parent, "C": child, "N": np.asarray(count, dtype=float)})
    types = {"P": "VARCHAR", "C": "VARCHAR", "N": "BIGINT"}
    cat = fit_conditional(df, types, "C", ["P"], ["W", "X", "Y", "Z"])
    shares = {k: dict(zip(g["levels"], g["probs"], strict=True)) for k, g in cat["groups"].items()}
    assert shares["a"] == {"X": 1.0} and cat["groups"]["a"]["from_reference"] == []
    assert shares["b"] == pytest.approx({"X": 0.25, "Y": 0.5, "Z": 0.25})
    fb = cat["fallback"]
    fb_shares = dict(zip(fb["levels"], fb["probs"], strict=True))
    assert fb_shares["W"] == 0  # 15 rows in all: no pool
    # (since stop 30 the fallback's shares sit on a grid of the fewest values it tells: W's rows are hidden)
    assert fb["n"] == 750 and fb["share_grid"] == 750 - (PRIVACY_MIN - 1)
    assert fb_shares == pytest.approx({"W": 0, "X": 295 / 735, "Y": 285 / 735, "Z": 155 / 735}, abs=1 / 701)
    assert shares["c"] == pytest.approx({k: fb_shares[k] for k in "XYZ"}, abs=1e-7)
    assert cat["groups"]["c"]["from_reference"] == ["X", "Y", "Z"]
    num = fit_conditional(df, types, "N", ["P"], None, PrivacyRules())  # the loose atom rule (before stop 28)
    assert num["groups"]["a"]["atoms"] == [0.0, 1.0, 2.0]
    assert num["groups"]["a"]["atom_probs"] == pytest.approx([0.8, 0.15, 0.05])
    assert num["groups"]["b"]["atom_probs"] == pytest.approx([0.25, 0.5, 0.25])


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
        if "groups" in path:  # a conditional group: rows not written, values banded (stop 31, `banded_group`)
            assert "n" not in m, path
            assert m["missing"] >= 1 or m["share_grid"] % PRIVACY_MIN == 0 < m["share_grid"], path
            continue
        if "n" not in m:  # written as missing, nothing described (a numeric one keeps atom 0.0)
            assert m["missing"] == 1.0 and not m.get("levels") and not m.get("quantiles"), path
            continue
        assert m["n"] >= PRIVACY_MIN, path
        if m.get("quantiles"):
            assert m["quantile_trim"] >= PRIVACY_MIN, path
    assert seen > 300
    assert min(fitted["extra"]["bureau_per_applicant"]["counts"]) >= PRIVACY_MIN


def _check_shares(m: dict, values: float, reference: dict | None, where: tuple, group: bool = False) -> None:
    """Every level share of ``m`` (describing ``values`` values) stands for PRIVACY_MIN of them, or belongs
    to a pool that does (shared evenly), or is 0, or is the group's rest spread in proportion to the
    ``reference`` marginal (``from_reference``). A numeric atom of fewer rows is a middle value (the exact
    rule needs the real rows: `test_no_extreme_real_value_is_in_the_committed_file`): with a continuous
    part it has ATOM_MIN_COUNT rows; without one, a column's smallest and largest atom (the rarer extremes
    merged into them) stand for PRIVACY_MIN rows. A group's shares on a ``share_grid`` (its missing share not
    its own: `synthetic.fit.grid_shares`) are rounded counts: within one step of the grid (``values / share_grid``
    rows), and its pools' rows are not written."""
    keys, probs = (m["atoms"], m["atom_probs"]) if m["kind"] == "num" else (m["levels"], m["probs"])
    shares = dict(zip(keys, probs, strict=True))
    spread = set(m.get("from_reference", []))
    pooled = {lv for pool in m.get("pools", []) for lv in pool["levels"]}
    slack = 0.01 + (values / m["share_grid"] if m.get("share_grid") else 0.0)
    for pool in m.get("pools", []):
        own = [shares[lv] for lv in pool["levels"]]
        assert max(own) - min(own) < 1e-7, where
        if "n" not in pool:
            assert m.get("share_grid"), where
            continue
        assert pool["n"] >= PRIVACY_MIN, where
        assert abs(sum(own) * values - pool["n"]) < 0.01 * values, where
    if m["kind"] == "num" and m.get("quantiles"):  # the continuous part's share is a cell too
        rest = (1 - sum(m["atom_probs"])) * values
        assert rest < 0.01 or rest >= PRIVACY_MIN - slack, (where, rest)
    for lo, hi, share in m.get("bins", []):  # a bin of rare values (fit --rare-values bins)
        assert lo < hi and share * values >= PRIVACY_MIN - 0.01, (where, lo, hi, share * values)
    for key, share in shares.items():
        if share == 0 or key in pooled:
            continue
        if key in spread:  # (reference None: a group of several parents, spread by a coarser group)
            if reference is None:
                continue
            ref = dict(zip(*((reference["atoms"], reference["atom_probs"]) if m["kind"] == "num"
                             else (reference["levels"], reference["probs"])), strict=True))  # fmt: skip
            factor = sum(shares[k] for k in spread) / sum(ref[k] for k in spread)
            assert abs(share - factor * ref[key]) < 1e-7, (where, key)  # (8-decimal rounding)
            continue
        if m["kind"] == "num" and share * values < PRIVACY_MIN - slack:
            if m["quantiles"]:
                assert share * values >= ATOM_MIN_COUNT - 0.01, (where, key, share * values)
            else:
                assert group or min(keys) < key < max(keys), (where, key, share * values)
            continue
        assert share * values >= PRIVACY_MIN - slack, (where, key, share * values)


@pytest.fixture(scope="module")
def real_group_sizes() -> dict | None:
    """The committed file's conditional groups' real (rows, present values) (`group_sizes`), or None without
    the real rows."""
    if not (MARGINALS / "application_test.csv").exists():
        return None
    return group_sizes(MARGINALS)


@pytest.fixture(scope="module")
def real_group_values(real_group_sizes: dict | None) -> dict | None:
    """The committed file's conditional groups' real present values (`group_values`), or None without the
    real rows."""
    return None if real_group_sizes is None else group_values(real_group_sizes)


def _group_values(cond: dict, key: str, real: dict[str, int] | None) -> float | None:
    """The values a group's shares are of: its real present rows (``real``: the conditional's, from
    `group_values`); without the real rows its ``share_grid``, the fewest the file allows (since stop 31 a
    group's rows are not written: `banded_group`): a share standing for PRIVACY_MIN of those stands for as many
    of the real ones, so the check without the real rows is stricter, not exact."""
    g = cond["groups"][key]
    if g["missing"] >= 1:  # written as missing: describes nothing (its placeholder atom is no statistic)
        return 0.0
    if real is not None:
        return float(real[key])
    return float(g["share_grid"])


def _described(fitted: dict, real: dict | None = None) -> Iterator[tuple[tuple, dict, float, dict | None]]:
    """Every marginal and conditional fallback of the committed file that describes values (``n``), and every
    conditional group: (where, marginal, the number of values its shares are of, the group's conditional or
    None). A group's values are its present rows (`_group_values`; ``real``: `group_values` of the rows the
    file was fitted on)."""
    for table, columns in fitted["marginals"].items():
        for column, m in columns.items():
            if "n" in m:
                yield (table, column), m, m["n"], None
    for table, conds in fitted["conditionals"].items():
        for name, cond in conds.items():
            fb = cond["fallback"]
            if "n" in fb:
                yield (table, name, "fallback"), fb, fb["n"], None
            for key, g in cond["groups"].items():
                values = _group_values(cond, key, None if real is None else real[table][name])
                if values is not None:
                    yield (table, name, key), g, values, cond


def _rare_atoms(m: dict, values: float) -> list[float]:
    """The numeric atoms of ``m`` (describing ``values`` values) whose share stands for 1 to PRIVACY_MIN - 1
    rows and is not a pool's."""
    pooled = {v for pool in m.get("pools", []) for v in pool["levels"]}
    slack = 0.01 + (values / m["share_grid"] if m.get("share_grid") else 0.0)  # (a rounded count: one step)
    return [atom for atom, share in zip(m["atoms"], m["atom_probs"], strict=True)
            if atom not in pooled and 0 < share * values < PRIVACY_MIN - slack]


def test_a_group_whose_missing_cell_was_written_off_is_checked_on_its_present_values() -> None:
    """Group a: 160 rows, 8 missing (5 %, no pool to join: written off, stored missing 0), 152 present; the
    loose rule keeps its middle value 1 (48 rows) as an atom of share 48 / 152. Counted against ``n * (1 -
    missing)`` = 160 values it seemed to stand for 50.5 rows (the check passed it); against the group's real
    152 values it stands for 48 (caught); since stop 31 (no ``n``) the check without the real rows counts it
    against the group's ``share_grid`` (100: 160 - 49 banded), where it stands for 32 (caught). With 1 (30 rows) and 3 (20 rows) the strict rule writes a pool of
    50 rows, which the pool check found to be of 52.6 rows (failed it) counted against 160 values (until stop 29,
    which writes no pool's rows in such a group)."""
    types = {"P": "VARCHAR", "N": "BIGINT"}
    other = list(np.arange(1000.0) % 5)
    df = pd.DataFrame({"P": ["a"] * 160 + ["b"] * 1000,
                       "N": [np.nan] * 8 + [0.0] * 52 + [1.0] * 48 + [2.0] * 52 + other})
    cond = fit_conditional(df, types, "N", ["P"], None, PrivacyRules())  # the loose atom rule
    g = cond["groups"]["a"]
    assert g["missing"] == 0.0 and "missing_pools" not in cond  # written off
    real = {"a": 152, "b": 1000}
    assert _group_values(cond, "a", None) == 100 and _group_values(cond, "a", real) == 152
    assert g["atom_probs"][1] * 160 > PRIVACY_MIN  # against n (1 - missing), before stop 31: passed wrongly
    assert 1.0 in _rare_atoms(g, _group_values(cond, "a", None))  # caught (so are 0 and 2: 34 of those 100)
    assert g["atom_probs"][1] * 152 < PRIVACY_MIN  # 48.6 of the real 152 values: 48 within a step of the grid
    df = pd.DataFrame({"P": ["a"] * 160 + ["b"] * 1000,
                       "N": [np.nan] * 8 + [0.0] * 52 + [1.0] * 30 + [2.0] * 50 + [3.0] * 20 + other})
    strict = fit_conditional(df, types, "N", ["P"], None, PrivacyRules(atom_rule="strict"))
    s = strict["groups"]["a"]
    # (since stop 29 the pool's rows are not written: a group written off stores its shares on a grid, whose
    # rows over a pool's share would tell its present values -- `grid_shares`)
    assert s["pools"] == [{"levels": [1.0, 3.0]}] and s["missing"] == 0.0 and s["share_grid"] == 100  # 111 banded
    _check_shares(s, _group_values(strict, "a", real), strict["fallback"], ("a",), group=True)
    assert not _rare_atoms(s, _group_values(strict, "a", real))


def _own_missing(g: dict, rows: int, present: int) -> bool:
    """Whether a group's missing share is its own (not a pool's, not written off): the real one within a step of
    the grid it sits on since stop 31, its ``rows`` rounded down to a multiple of PRIVACY_MIN (`band`)."""
    return abs(present - rows * (1 - g["missing"])) <= rows / band(rows) + 0.01


def test_the_real_group_sizes_are_those_of_the_fitted_groups(real_group_sizes: dict | None) -> None:
    """`group_sizes` finds every group of the committed file with its rows and present values, which the file
    tells only to a band (stop 31, `banded_group`): a group's ``share_grid`` is a multiple of PRIVACY_MIN, at most
    its present values."""
    if real_group_sizes is None:
        pytest.skip("real marginal rows not present")
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    differ = 0
    for table, conds in fitted["conditionals"].items():
        for name, cond in conds.items():
            real = real_group_sizes[table][name]
            assert set(cond["groups"]) <= set(real), (table, name)
            for key, g in cond["groups"].items():
                rows, present = real[key]
                if g["missing"] >= 1:
                    continue
                own = _own_missing(g, rows, present)
                assert g["share_grid"] % PRIVACY_MIN == 0 and g["share_grid"] <= present, (table, name, key)
                differ += not own
    assert differ > 10  # the pooled and written-off missing cells


def test_every_stored_share_of_the_committed_file_stands_for_the_minimum(real_group_values: dict | None) -> None:
    """Marginals (tables, extras) and every group of every conditional: no atom or level share stands for
    fewer than PRIVACY_MIN rows unless pooled or spread from the column's marginal (the rule above); a group's
    shares counted on its real present values (`_group_values`)."""
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    checked = 0
    for name in ("card_first_month", "card_last_month"):
        _check_shares(fitted["extra"][name], fitted["extra"][name]["n"], None, ("extra", name))
    for where, m, values, cond in _described(fitted, real_group_values):
        if cond is None:
            _check_shares(m, values, None, where)
            checked += len(where) == 2  # a table's marginal (a fallback is not counted)
            continue
        if m["missing"] < 1 and len(m["atoms"] if m["kind"] == "num" else m["levels"]):
            ref = cond["fallback"] if len(cond["parents"]) == 1 or m["kind"] == "num" else None
            _check_shares(m, values, ref, where, group=True)
            assert m["kind"] == "num" or m["from_reference"] or sum(m["probs"]) == pytest.approx(1.0)
        checked += 1
    assert checked > 1000


def test_no_numeric_atom_of_the_committed_file_stands_for_fewer_than_the_minimum(real_group_values: dict | None) -> None:
    """The issue's rule taken literally for the numeric atoms: every atom share of a marginal, a conditional's
    fallback or one of its groups (on its real present values) stands for PRIVACY_MIN rows (its own or a
    pool's), or is 0."""
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    below: list[tuple] = []
    for where, m, values, _ in _described(fitted, real_group_values):
        if m["kind"] == "num":
            below.extend(where for _ in _rare_atoms(m, values))  # no value named
    assert not below, f"{len(below)} numeric atom shares stand for fewer than {PRIVACY_MIN} rows, e.g. {below[:3]}"


@pytest.mark.real_data
@pytest.mark.skipif(not (MARGINALS / "application_test.csv").exists(), reason="real marginal rows not present")
def test_no_extreme_real_value_is_in_the_committed_file(real_group_values: dict | None) -> None:
    """Against the real rows the file was fitted on: no numeric marginal of the application tables stores
    any of the PRIVACY_MIN - 1 most extreme values of its column (test rows pooled with the train rows), and
    no atom of fewer than PRIVACY_MIN rows (marginals, and groups of the train conditionals) lies outside
    the column's `inner_range`."""
    whole = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    fitted = whole["marginals"]
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

    def rare_atoms(m: dict, values: float) -> list[float]:
        return [a for a, p in zip(m["atoms"], m["atom_probs"], strict=True) if p * values < PRIVACY_MIN - 0.01]

    assert real_group_values is not None
    inside = seen = 0
    marginals = [(train, column, m, m["n"]) for column, m in fitted["application_train"].items()
                 if m["kind"] == "num" and "n" in m]  # fmt: skip
    for name, cond in whole["conditionals"]["application_train"].items():
        for key, g in cond["groups"].items():
            if g["kind"] == "num" and g["missing"] < 1:
                marginals.append((train, cond["child"], g, real_group_values["application_train"][name][key]))
    for rows, column, m, values in marginals:
        if column not in rows:  # a derived column (e.g. EMPLOYED_SHARE): not in the real rows as such
            continue
        lo, hi = inner_range(rows[column])
        seen += 1
        for atom in rare_atoms(m, values):  # (since stop 28 only pooled ones)
            assert lo <= atom <= hi, (column, atom)
            inside += 1
    assert seen > 150



def test_no_group_of_the_committed_file_stores_a_rare_missing_cell(real_group_sizes: dict | None) -> None:
    """A group's missing share is a cell too: counted on the group's real rows (`group_sizes`; since stop 31 the
    file writes no group's or pool's rows), its missing and its present values each stand for PRIVACY_MIN rows,
    or for none, or the share is its pool's (``missing_pools``: every group of the pool stores the pool's share,
    computed on PRIVACY_MIN missing and PRIVACY_MIN present rows of the pool's groups). A share on a grid of
    the rows banded (`band`) is within a step of the cell."""
    if real_group_sizes is None:
        pytest.skip("real marginal rows not present")
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    checked = pooled = 0
    for table, conds in fitted["conditionals"].items():
        for name, cond in conds.items():
            real = real_group_sizes[table][name]
            in_pool = {}
            for pool in cond.get("missing_pools", []):
                shares = {cond["groups"][k]["missing"] for k in pool["groups"]}
                n = sum(real[k][0] for k in pool["groups"])
                assert len(shares) == 1 and "n" not in pool, (table, name, pool)
                rows, step = shares.pop() * n, n / band(n) + 0.01
                assert PRIVACY_MIN - step < rows < n - PRIVACY_MIN + step, (table, name, pool)
                in_pool.update(dict.fromkeys(pool["groups"], True))
            for key, g in cond["groups"].items():
                checked += 1
                if in_pool.get(key):
                    pooled += 1
                    continue
                n = real[key][0]
                rows, step = g["missing"] * n, n / band(n) + 0.01
                assert rows < step or rows > PRIVACY_MIN - step, (table, name, key)
                assert n - rows < step or n - rows > PRIVACY_MIN - step, (table, name, key)
    assert checked > 800 and pooled > 10


def _own_shares(m: dict) -> list[float]:
    """A group's shares that are counts of its own rows (present values, or its kept cells' rows): not a pool
    member's, not spread from a reference, neither 0 nor 1."""
    keys, probs = (m["atoms"], m["atom_probs"]) if m["kind"] == "num" else (m["levels"], m["probs"])
    pooled = {v for pool in m.get("pools", []) for v in pool["levels"]}
    spread = set(m.get("from_reference", []))
    return [p for k, p in zip(keys, probs, strict=True) if 0 < p < 1 and k not in pooled and k not in spread]


def test_the_denominator_search_finds_a_group_of_exact_shares() -> None:
    """The search on a group fitted with exact shares: 121 X and 93 Y of 214 present rows (16 missing) tell 214,
    one share alone too; 120 / 214 leaves 107 and 214."""
    assert common_denominators([round(121 / 214, 8), round(93 / 214, 8)], 230) == [214]
    assert common_denominators([round(121 / 214, 8)], 230) == [214]
    assert common_denominators([round(120 / 214, 8)], 230) == [107, 214]
    on_grid = [round(121 / 181, 8), round(60 / 181, 8)]  # a grid of 1 / 181: every count from 181 fits
    assert set(range(181, 231)) <= set(common_denominators(on_grid, 230, grid=181))


def _groups_and_real_values(real: dict) -> Iterator[tuple[tuple[str, str, str], dict, dict, Any]]:
    """Every conditional group of the committed file: ((table, conditional, group), its conditional, the group,
    its real present values from ``real`` (`group_values`), or its (rows, present values) (`group_sizes`))."""
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    for table, conds in fitted["conditionals"].items():
        for name, cond in conds.items():
            for key, g in cond["groups"].items():
                yield (table, name, key), cond, g, real[table][name][key]


def test_no_group_whose_missing_share_is_not_its_own_tells_its_present_values(real_group_sizes: dict | None) -> None:
    """A group whose missing share is a pool's or written off (`missing_pools`, `MISSING_OFF`) hides its rare
    missing cell only if its other shares do not tell its present values: a search for the common denominator
    of its own shares (`common_denominators`, the group's ``share_grid`` if it has one) must not narrow them down
    to a few counts among PRIVACY_MIN..n that include the real one (`group_values`: the real rows the file was
    fitted on, never stored). The file of stop 28 stored exact shares: the search found 17 groups' counts (e.g.
    40 missing occupations of `Business Entity Type 2|M`, 3 missing payment delays). Its rows: `group_sizes`."""
    if real_group_sizes is None:
        pytest.skip("real marginal rows not present")
    told, checked = [], 0
    for (table, name, key), cond, g, (rows, real) in _groups_and_real_values(real_group_sizes):
        pooled = {k for pool in cond.get("missing_pools", []) for k in pool["groups"]}
        if g["missing"] >= 1 or (_own_missing(g, rows, real) and key not in pooled):
            continue
        shares = _own_shares(g)
        if not shares:
            continue
        checked += 1
        found = common_denominators(shares, rows, g.get("share_grid"))
        if real in found and len(found) <= 5:
            told.append((table, name, key))
        for pool in g.get("pools", []):  # a pool's rows over its share would tell them too
            assert "n" not in pool or "share_grid" not in g, (table, name, key)
    assert checked > 15
    assert not told, f"{len(told)} groups tell their present values, e.g. {told[:3]}"


def test_a_column_missing_on_few_rows_tells_neither_the_cell_nor_its_present_values() -> None:
    """1,000 rows, 8 missing, the rest on four values of 301, 297, 211 and 183 rows: exact shares of 992 and ``n`` told
    the 8 missing rows. `fit_marginal` writes the cell as PRIVACY_MIN rows (its ``n`` 950) and the shares on a grid
    of 1 / 950, which every count from 950 up fits; a column of fewer than 2 x PRIVACY_MIN rows writes the cell
    off. The missing share of a conditional group is hidden by its pools (`pool_group_missing`), not here."""
    x = pd.Series([np.nan] * 8 + [1.0] * 301 + [2.0] * 297 + [3.0] * 211 + [4.0] * 183)
    exact = fit_column(x, "BIGINT")
    assert exact["n"] == 992 and common_denominators(exact["atom_probs"][:1], 1000) == [992]
    m = fit_marginal(x, "BIGINT")
    assert m["missing"] == PRIVACY_MIN / 1000 and m["n"] == 1000 - PRIVACY_MIN and m["share_grid"] == 950
    assert m["n"] * m["missing"] / (1 - m["missing"]) == pytest.approx(PRIVACY_MIN)
    assert set(range(950, 1001)) <= set(common_denominators(_own_shares(m), 1000, m["share_grid"]))
    assert sum(m["atom_probs"]) == pytest.approx(1.0)
    small = fit_marginal(pd.Series([np.nan] * 3 + [1.0, 2.0] * 40), "BIGINT")
    assert small["missing"] == 0.0 and small["n"] == 83 and small["share_grid"] == PRIVACY_MIN
    full = fit_marginal(pd.Series([np.nan] * 60 + [1.0, 2.0] * 470), "BIGINT")  # a cell of 60: its own share
    assert full == fit_column(pd.Series([np.nan] * 60 + [1.0, 2.0] * 470), "BIGINT") and "share_grid" not in full


def test_a_categorical_column_does_not_tell_its_dropped_levels() -> None:
    """Levels A 601, B 379 and two rare ones of 3 and 2 rows (5 in all: share 0, counted in ``n`` = 985): exact
    shares of the 980 kept rows told 985 - 980 = 5 rows. `fit_marginal` keeps ``n`` and puts the shares on a grid
    of 985 - (PRIVACY_MIN - 1) rows."""
    s = pd.Series(["A"] * 601 + ["B"] * 379 + ["C"] * 3 + ["D"] * 2 + [None] * 100)
    exact = fit_column(s, "VARCHAR")
    assert exact["n"] == 985 and common_denominators(_own_shares(exact), 985) == [980]
    m = fit_marginal(s, "VARCHAR")
    assert m["n"] == 985 and m["missing"] == exact["missing"] and m["share_grid"] == 985 - (PRIVACY_MIN - 1)
    assert dict(zip(m["levels"], m["probs"], strict=True))["C"] == 0.0
    found = common_denominators(_own_shares(m), 985, m["share_grid"])
    assert set(range(m["share_grid"], 986)) <= set(found)
    with_missing = fit_marginal(pd.Series(["A"] * 601 + ["B"] * 379 + ["C"] * 3 + [None] * 20), "VARCHAR")
    assert with_missing["n"] == 1003 - PRIVACY_MIN and with_missing["share_grid"] == 1003 - 2 * PRIVACY_MIN + 1

def _column_cells(fitted: dict) -> Iterator[tuple[tuple, str, dict]]:
    """Every table marginal and conditional fallback of ``fitted`` that describes values (``n``): (where, the key
    of its real values in `marginal_values`, marginal)."""
    for table, columns in fitted["marginals"].items():
        for column, m in columns.items():
            if "n" in m:
                yield (table, column), column, m
    for table, conds in fitted["conditionals"].items():
        for name, cond in conds.items():
            if "n" in cond["fallback"]:
                yield (table, name, "fallback"), f"{name}:fallback", cond["fallback"]


def test_no_marginal_of_the_committed_file_tells_a_rare_missing_cell() -> None:
    """A column's missing share is a cell too: with its present values ``n`` it tells the missing rows
    (``n * missing / (1 - missing)``), which must be none or at least PRIVACY_MIN. The file of stop 29 told 27 of
    1-49 rows, e.g. the 8 applicants without a goods price and the 35 without `EXT_SOURCE_2`."""
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    told, checked = [], 0
    for where, _, m in _column_cells(fitted):
        checked += 1
        if m["missing"] > 0:
            rows = m["n"] * m["missing"] / (1 - m["missing"])
            if rows < PRIVACY_MIN - 0.5:  # (a count; the share is rounded to 6 decimals)
                told.append((where, round(rows, 2)))
    assert checked > 400
    assert not told, f"{len(told)} marginals tell a missing cell of fewer than {PRIVACY_MIN} rows, e.g. {told[:3]}"


@pytest.fixture(scope="module")
def real_marginal_values() -> dict | None:
    """The committed file's marginals' real values (`marginal_values`), or None without the real rows."""
    if not (MARGINALS / "application_test.csv").exists():
        return None
    return marginal_values(MARGINALS)


def test_no_marginal_of_the_committed_file_tells_the_values_its_shares_are_of(
    real_marginal_values: dict | None,
) -> None:
    """A marginal whose shares are of another number of values than its ``n`` (a missing cell of 1-49 rows
    written as PRIVACY_MIN; a categorical column's rare levels dropped, share 0, counted in ``n``) hides that
    cell only if its shares do not tell their denominator: a search for it (`common_denominators` over
    PRIVACY_MIN up to the column's rows, on the marginal's ``share_grid`` if it has one) must not narrow it down
    to a few counts including the real one (`marginal_values`: the real rows the file was fitted on, never
    stored). The file of stop 29 stored exact shares: e.g. `NAME_INCOME_TYPE`'s told its present rows less its
    two dropped levels', and with ``n`` those levels' rows."""
    if real_marginal_values is None:
        pytest.skip("real marginal rows not present")
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    told, checked = [], 0
    for where, key, m in _column_cells(fitted):
        real = real_marginal_values[where[0]][key]
        if real == m["n"]:  # its shares are of its n: nothing hidden behind them
            continue
        shares = _own_shares(m)
        if not shares:
            continue
        checked += 1
        rows = int(round(m["n"] / (1 - m["missing"])))
        found = common_denominators(shares, rows, m.get("share_grid"))
        if real in found and len(found) <= 5:
            told.append(where)
        for pool in m.get("pools", []):  # a pool's rows over its share would tell them too
            assert "n" not in pool, where
    assert checked > 20
    assert not told, f"{len(told)} marginals tell the values their shares are of, e.g. {told[:3]}"


def test_no_pattern_rate_of_the_committed_file_tells_a_rare_cell() -> None:
    """A pattern block's rare patterns are pooled as ``other``, with one rate per column (the share of the other
    rows with the column present / set): a rate's set and unset rows each stand for PRIVACY_MIN, or none, or the
    rate is a pool's (``pools``: columns sharing one rate, their rare side making PRIVACY_MIN rows in all). The
    file of stop 29 told e.g. 2 applicants of the rare document patterns with `FLAG_DOCUMENT_4` and 15 of the rare
    housing patterns without a column."""
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    told, checked = [], 0
    for table, blocks in fitted["patterns"].items():
        for name, block in blocks.items():
            other = block["other"]
            if "n" not in other:  # no rates written (a pool too small to describe)
                assert not any(other["rates"]), (table, name)
                continue
            n, rates = other["n"], other["rates"]
            pooled = set()
            for pool in other.get("pools", []):
                shared = {rates[j] for j in pool}
                ones = sum(rates[j] for j in pool) * n
                assert len(shared) == 1 and min(ones, len(pool) * n - ones) >= PRIVACY_MIN - 0.01, (table, name)
                pooled.update(pool)
            for j, r in enumerate(rates):
                checked += 1
                if j not in pooled and (0.5 < r * n < PRIVACY_MIN - 0.5 or 0.5 < (1 - r) * n < PRIVACY_MIN - 0.5):
                    told.append((table, name, block["columns"][j], round(r * n, 2)))
    assert checked > 50
    assert not told, f"{len(told)} pattern rates tell a cell of fewer than {PRIVACY_MIN} rows, e.g. {told[:3]}"


def test_the_rare_patterns_rates_pool_their_rare_cells() -> None:
    """200 rows of rare patterns (ten filler flags set at random make each pattern rare): flag A set on 3 of them,
    B on 20, C on 40, D unset on 10. A, B and C share the rate of one pool of 63 set rows (21 each); D's 10 unset
    rows make no pool: written off (rate 1); the fillers keep their own rates."""
    rng = np.random.default_rng(3)
    n_other = 200
    fill = [f"F{k}" for k in range(10)]
    other = pd.DataFrame(rng.integers(0, 2, (n_other, 10)).astype(float), columns=fill)
    for c, k in (("A", 3), ("B", 20), ("C", 40)):
        other[c] = 0.0
        other.loc[rng.choice(n_other, k, replace=False), c] = 1.0
    other["D"] = 1.0
    other.loc[rng.choice(n_other, 10, replace=False), "D"] = 0.0
    columns = [*"ABCD", *fill]
    frequent = pd.DataFrame([[0.0, 1.0, 0.0, 1.0] + [0.0] * 10] * 300, columns=columns)
    frame = pd.concat([frequent, other[columns]], ignore_index=True)
    codes, fitted = pattern_codes(frame, columns, "one")
    assert list(fitted["counts"].values()) == [300] and (codes == OTHER).sum() == n_other
    n = fitted["other"]["n"]
    assert n == n_other
    rates = dict(zip(columns, fitted["other"]["rates"], strict=True))
    assert fitted["other"]["pools"] == [[0, 1, 2]]
    assert rates["A"] == rates["B"] == rates["C"] == round(63 / 3 / n, 6)
    assert rates["D"] == 1.0
    for c in fill:
        assert rates[c] == round(other[c].mean(), 6) and PRIVACY_MIN <= other[c].sum() <= n - PRIVACY_MIN


def test_no_group_of_the_committed_file_tells_the_rows_of_its_rare_levels(real_group_values: dict | None) -> None:
    """A categorical group whose frequent levels hold GROUP_KEPT of it scales their shares to a total of 1 (its
    rare levels dropped, `_group_shares`): exact, those shares are counts of its present rows less the rare
    levels', and a search for their common denominator tells the rare levels' rows (the file of stop 29: 83 groups
    of 1-49 such rows, e.g. 1 of the 1,239 applicants of `NAME_INCOME_TYPE` group ``0|3``). Every group's shares
    are of its present values, or on its ``share_grid``, or tell a rest of PRIVACY_MIN rows at least."""
    if real_group_values is None:
        pytest.skip("real marginal rows not present")
    told, checked = [], 0
    for where, _, g, values in _groups_and_real_values(real_group_values):
        shares = _own_shares(g)
        if g["missing"] >= 1 or g["kind"] != "cat" or not shares:
            continue
        checked += 1
        found = common_denominators(shares, values, g.get("share_grid"))
        if values not in found and len(found) <= 5 and any(0 < values - d < PRIVACY_MIN for d in found):
            told.append(where)
    assert checked > 150
    assert not told, f"{len(told)} groups tell the rows of their rare levels, e.g. {told[:3]}"


def test_a_group_scaled_over_its_rare_levels_stores_its_shares_on_a_grid() -> None:
    """Group a: 300 rows, X 201, Y 94 and Z on 5 (rare; the kept levels hold 98 % of the group: scaled to a
    total of 1, `_group_shares`). Exact shares of 295 told Z's 5 rows; on a grid of 300 - 49 rows (banded to 250
    since stop 31) every count from 250 up fits. Group b has no rare level: its exact shares sit on a grid of 400."""
    df = pd.DataFrame({"P": ["a"] * 300 + ["b"] * 400,
                       "C": ["X"] * 201 + ["Y"] * 94 + ["Z"] * 5 + ["X"] * 200 + ["Y"] * 100 + ["W"] * 100})
    cond = fit_conditional(df, {"P": "VARCHAR", "C": "VARCHAR"}, "C", ["P"], ["W", "X", "Y", "Z"])
    a, b = cond["groups"]["a"], cond["groups"]["b"]
    assert a["share_grid"] == 250 and b["share_grid"] == 400 and b["probs"] == [0.25, 0.5, 0.25]
    shares = dict(zip(a["levels"], a["probs"], strict=True))
    assert shares.get("Z", 0) == 0 and abs(shares["X"] - 201 / 295) <= 1 / 250
    assert common_denominators([round(201 / 295, 8), round(94 / 295, 8)], 300) == [295]  # what exact shares told
    assert set(range(250, 301)) <= set(common_denominators(_own_shares(a), 300, a["share_grid"]))


def test_no_conditional_of_the_committed_file_leaves_few_rows_out_of_its_groups(real_group_sizes: dict | None) -> None:
    """A conditional's groups (their real rows: `group_sizes`) cover its rows (its fallback's ``n / (1 -
    missing)``) but for the groups too small for statistics of their own: those rows must be none or PRIVACY_MIN,
    else the column's marginal less the groups describes them (the file of stop 29, which wrote each group's
    ``n``: 24 conditionals, e.g. 3 applicants of rare income types, 2 previous applications of contract type XNA)."""
    if real_group_sizes is None:
        pytest.skip("real marginal rows not present")
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    told, checked = [], 0
    for table, conds in fitted["conditionals"].items():
        for name, cond in conds.items():
            fb = cond["fallback"]
            if "n" not in fb:
                continue
            checked += 1
            out = fb["n"] / (1 - fb["missing"]) - sum(real_group_sizes[table][name][k][0] for k in cond["groups"])
            if 0.5 < out < PRIVACY_MIN - 0.5:
                told.append((table, name, round(out, 1)))
    assert checked > 50
    assert not told, f"{len(told)} conditionals leave fewer than {PRIVACY_MIN} rows out, e.g. {told[:3]}"


def test_the_few_rows_of_small_groups_are_fitted_with_the_largest_group() -> None:
    """Groups a (400 rows), b (200) and c (3, too small for a group of its own): c's rows are fitted with a, so
    the column less the groups describes nobody; with c on 60 rows (a cell of its own) nothing is merged."""
    df = pd.DataFrame({"P": ["a"] * 400 + ["b"] * 200 + ["c"] * 3, "C": ["X", "Y", "Z"] * 201})
    cond = fit_conditional(df, {"P": "VARCHAR", "C": "VARCHAR"}, "C", ["P"], ["X", "Y", "Z"])
    assert set(cond["groups"]) == {"a", "b"} and {k: len(v) for k, v in fitted_groups(df["P"]).items()} == {
        "a": 403, "b": 200}
    df = pd.DataFrame({"P": ["a"] * 400 + ["b"] * 200 + ["c"] * 60, "C": ["X", "Y", "Z"] * 220})
    cond = fit_conditional(df, {"P": "VARCHAR", "C": "VARCHAR"}, "C", ["P"], ["X", "Y", "Z"])
    assert set(cond["groups"]) == {"a", "b"} and {k: len(v) for k, v in fitted_groups(df["P"]).items()} == {
        "a": 400, "b": 200}


def test_nested_conditionals_do_not_tell_a_small_group_by_their_difference() -> None:
    """Two conditionals on the same rows whose parents nest: C by P, and C by P x Q. P x Q's group a|z (20 rows)
    is too small for statistics of its own and is fitted with the largest group, b|x (`fitted_groups`). Exact
    group sizes told it: P's group a (500 rows) less a|x (300) and a|y (180). The file of stop 30 did so in 143
    places (e.g. `DAYS_BIRTH` bins alone against `DAYS_EMPLOYED` x `DAYS_BIRTH`, contract type alone against
    contract type x status). Since stop 31 a group writes no rows and its shares sit on a grid of its values
    rounded down to a multiple of PRIVACY_MIN (`banded_group`): to one who knows the rule each group is one of
    PRIVACY_MIN sizes, and a's rows less a|x's and a|y's anything from below 0 to PRIVACY_MIN and more."""
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"P": ["a"] * 500 + ["b"] * 500,
                       "Q": ["x"] * 300 + ["y"] * 180 + ["z"] * 20 + ["x"] * 350 + ["y"] * 150,
                       "C": rng.choice(["U", "V"], size=1000)})
    types = {"P": "VARCHAR", "Q": "VARCHAR", "C": "VARCHAR"}
    coarse = fit_conditional(df, types, "C", ["P"], ["U", "V"])["groups"]
    fine = fit_conditional(df, types, "C", ["P", "Q"], ["U", "V"])["groups"]
    assert set(fine) == {"a|x", "a|y", "b|x", "b|y"}  # a|z fitted with b|x
    assert not any("n" in g for g in [*coarse.values(), *fine.values()])

    def sizes(g: dict) -> list[int]:  # the counts its stored shares fit, within the rule's band
        fits = common_denominators(_own_shares(g), len(df), g["share_grid"])
        return [d for d in fits if g["share_grid"] <= d < g["share_grid"] + PRIVACY_MIN]

    a, ax, ay = sizes(coarse["a"]), sizes(fine["a|x"]), sizes(fine["a|y"])
    assert len(a) == len(ax) == len(ay) == PRIVACY_MIN and 500 in a and 300 in ax and 180 in ay
    left = {n - m - k for n in a for m in ax for k in ay}
    assert 20 in left and min(left) < 0 and max(left) >= PRIVACY_MIN


def test_no_value_of_a_frequent_combination_tells_its_rows_outside_the_combinations() -> None:
    """LOAN_PAIR stores the counts of the frequent (goods price, credit) pairs; the credit's and the goods price's
    marginals stored each frequent value's share of exact rows: a value's rows less the rows of the pairs holding it
    told its rows outside the pairs (the stop-30 file: 13 counts of 1-49 rows, e.g. 2 applicants with a credit of
    180,000 whose goods price is not 180,000). Since stop 31 such a column's atoms are written rounded down to a
    multiple of PRIVACY_MIN rows (`banded_atoms`), and the real count is in that band; a toy column shows the
    rounding."""
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    checked = 0
    real = real_tables(MARGINALS) if (MARGINALS / "application_test.csv").exists() else None
    for table, blocks in fitted["patterns"].items():
        for name, columns in COMBINATIONS["application_train"].items():
            assert name in blocks, (table, name)
            for c in columns:
                m = fitted["marginals"][table][c]
                pooled = {v for pool in m.get("pools", []) for v in pool["levels"]}
                counts = real[table][c].value_counts() if real is not None else None
                for v, share in zip(m["atoms"], m["atom_probs"], strict=True):
                    if v in pooled:
                        continue
                    rows = share * m["n"]
                    assert abs(rows - PRIVACY_MIN * round(rows / PRIVACY_MIN)) < 0.01, (table, c, v, rows)
                    if counts is not None:  # (n: a rare missing cell written as PRIVACY_MIN rows is not the real one)
                        scale = counts.sum() / m["n"]
                        assert rows * scale - 0.5 <= counts[v] < (rows + PRIVACY_MIN) * scale + 0.5, (table, c, v, rows)
                    checked += 1
    assert checked > 80
    toy = {"kind": "num", "n": 1000, "atoms": [1.0, 2.0, 3.0], "atom_probs": [0.329, 0.102, 0.05], "pools": []}
    assert banded_atoms(toy)["atom_probs"] == [0.3, 0.1, 0.05]


def test_the_test_applicants_statistics_are_fitted_on_their_rows_alone() -> None:
    """application_test's statistics were fitted on the train and test rows pooled: less the train ones they told
    the test rows' counts (the stop-30 file: 1,156 counts of 1-49 test applicants in the marginals alone, e.g. 13
    with a revolving loan, 6 with an income of 45,000; its pattern counts likewise). At stop 31 they were the
    train rows' but for the test rows' missing shares; since stop 32 they are fitted on the test rows alone, under
    the rule of every table (no train row in them, so no difference tells a test count): refitted from the test
    rows, the committed section comes back as it is."""
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))
    test = fitted["marginals"]["application_test"]
    assert test["NAME_CONTRACT_TYPE"]["n"] < fitted["marginals"]["application_train"]["NAME_CONTRACT_TYPE"]["n"] / 5
    assert "application_test" not in fitted["copulas"] and "application_test" not in fitted["gibbs"]
    if not (MARGINALS / "application_test.csv").exists():
        pytest.skip("real marginal rows not present")
    with warnings.catch_warnings():  # (pandas: the derived columns inserted one by one)
        warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
        refit = fit_table(pd.read_csv(MARGINALS / "application_test.csv", low_memory=False), "application_test")
    for section in ("marginals", "conditionals", "patterns"):
        assert json.loads(json.dumps(refit[section])) == fitted[section]["application_test"], section


