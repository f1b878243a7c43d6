"""The two cells a fitted file could still store for fewer than PRIVACY_MIN rows (issue 17), closed by
`PrivacyRules` (``python -m synthetic.fit --rare-values bins --group-missing pooled``):

- a discrete column's (or a conditional group's) rare middle value: with ``rare_values="bins"`` only values of
  PRIVACY_MIN rows are atoms; the rare ones are pooled in value order into bins of PRIVACY_MIN rows, drawn
  uniformly on the column's steps inside the bin (the data keeps its shape, no rare value has a share);
- a conditional group's missing (present) cell of 1 to PRIVACY_MIN - 1 rows: with ``group_missing="pooled"``
  the group stores the missing share of a pool of groups with PRIVACY_MIN missing and present rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic.fit import PrivacyRules, fit_column, fit_conditional, fit_numeric, pool_group_missing
from synthetic.joint import PRIVACY_MIN
from synthetic.stats import Conditional, NumericMarginal

BINS = PrivacyRules(rare_values="bins")
POOLED = PrivacyRules(group_missing="pooled")  # (the committed rule)
LOOSE = PrivacyRules()  # the atom rule before stop 28
EXACT = PrivacyRules(group_missing="exact")


def _stored_rows(fitted: dict) -> list[float]:
    """Rows behind every stored share of a numeric marginal (atoms and bins)."""
    n = fitted["n"]
    return [p * n for p in fitted["atom_probs"]] + [b[2] * n for b in fitted.get("bins", [])]


def test_rare_middle_values_are_pooled_into_a_bin_drawn_in_their_range() -> None:
    """2 (40 rows) between 1 and 3: no atom of its own; 2 and 4 (40 + 30 rows between the frequent 3 and 5)
    share one bin of 70 rows, drawn on the integers from 2 to 4 -- the frequent values keep their shares."""
    x = pd.Series([0] * 5000 + [1] * 1500 + [2] * 40 + [3] * 700 + [4] * 30 + [5] * 90)
    fitted = fit_numeric(x, integer=True, rare_values="bins")
    assert fitted["atoms"] == [0.0, 1.0, 3.0, 5.0]
    assert min(_stored_rows(fitted)) >= PRIVACY_MIN
    (lo, hi, share), = fitted["bins"]
    assert (lo, hi) == (1.5, 4.5) and share * len(x) == pytest.approx(70)
    draws = NumericMarginal.from_json(fitted).ppf(np.random.default_rng(0).random(200_000))
    assert set(np.unique(draws)) == {0.0, 1.0, 2.0, 3.0, 4.0, 5.0}
    freq = {v: np.mean(draws == v) for v in (0, 1, 2, 3, 4, 5)}
    assert freq[0] == pytest.approx(5000 / len(x), abs=0.005) and freq[5] == pytest.approx(90 / len(x), abs=0.002)
    # the bin's 70 rows spread over 2, 3 and 4 (3 in its span takes a third of them on top of its own)
    assert freq[2] == pytest.approx(70 / 3 / len(x), abs=0.001) and freq[4] == pytest.approx(freq[2], abs=0.001)
    assert freq[3] == pytest.approx((700 + 70 / 3) / len(x), abs=0.004)
    # the committed rule stores 2 and 4 with their own shares (40 and 30 rows)
    assert {2.0, 4.0} <= set(fit_numeric(x, integer=True)["atoms"])


def test_rare_values_too_few_for_a_bin_count_with_the_nearest_kept_value() -> None:
    x = pd.Series([0] * 5000 + [1] * 1500 + [2] * 20 + [3] * 700 + [4] * 90)
    fitted = fit_numeric(x, integer=True, rare_values="bins")
    assert fitted["atoms"] == [0.0, 1.0, 3.0, 4.0] and "bins" not in fitted
    assert fitted["atom_probs"][1] == pytest.approx(1520 / len(x), abs=1e-8)  # 2 counts with 1 (nearer first)


def test_a_group_of_a_many_valued_column_stores_no_value_of_few_rows() -> None:
    """A conditional group of 200 incomes with 80 distinct values (each < PRIVACY_MIN rows but for one): the
    committed rule lists them all as atoms; with bins the group is its frequent value plus three bins of
    >= PRIVACY_MIN rows on the column's 4,500 grid, drawn between the group's own smallest and largest values."""
    rng = np.random.default_rng(3)
    incomes = 4500.0 * np.r_[np.full(60, 30), rng.integers(10, 90, 140)]
    other = 4500.0 * rng.integers(5, 200, 2000)
    df = pd.DataFrame({"P": ["a"] * 200 + ["b"] * 2000, "X": np.r_[incomes, other]})
    types = {"P": "VARCHAR", "X": "DOUBLE"}
    committed = fit_conditional(df, types, "X", ["P"], None, LOOSE)["groups"]["a"]
    assert len(committed["atoms"]) > 50  # one atom per distinct value: 1-5 rows each
    group = fit_conditional(df, types, "X", ["P"], None, BINS)["groups"]["a"]
    assert group["atoms"] == [135000.0] and group["grid"] == 4500.0 and not group["quantiles"]
    assert len(group["bins"]) == 2 and min(b[2] * 200 for b in group["bins"]) >= PRIVACY_MIN
    draws = NumericMarginal.from_json(group).ppf(np.random.default_rng(1).random(20_000))
    assert np.all(draws % 4500 == 0)
    assert incomes.min() - 4500 <= draws.min() and draws.max() <= incomes.max() + 4500
    assert np.mean(draws == 135000.0) == pytest.approx(0.3 + 0.7 * 4500 / np.ptp(incomes), abs=0.02)
    assert abs(np.median(draws) - np.median(incomes)) < 0.1 * np.median(incomes)


def test_a_rest_too_small_for_quantiles_is_binned_not_drawn_at_its_median() -> None:
    """A many-valued column (25 frequent values, 96 rare ones between them): the committed rule draws the rest
    of fewer than 2 x PRIVACY_MIN values all at its median; bins keep its spread over the column's range."""
    rare = np.linspace(1500.0, 24500.0, 96).round()
    x = pd.Series(np.r_[np.repeat(np.arange(1000.0, 26000.0, 1000.0), 60), rare])
    committed = NumericMarginal.from_json(fit_numeric(x, integer=True))
    fitted = fit_numeric(x, integer=True, rare_values="bins")
    assert len(fitted["atoms"]) == 25 and not fitted["quantiles"] and len(fitted["bins"]) == 1
    assert min(_stored_rows(fitted)) >= PRIVACY_MIN
    u = np.random.default_rng(2).random(50_000)
    for marginal, spread in ((committed, False), (NumericMarginal.from_json(fitted), True)):
        draws = marginal.ppf(u)
        rest = draws[~np.isin(draws, fitted["atoms"])]
        assert rest.size == pytest.approx(50_000 * 96 / len(x), rel=0.3)
        assert (rest.std() > 5000) == spread  # uniform over 1,250..24,750, or one median value


def test_rare_missing_cells_take_the_share_of_a_pool_of_groups() -> None:
    """Three groups with 16, 21 and 13 missing rows (7 % each) pool into one of 50 missing rows; the group with
    40 missing rows of 191 (21 %) has no rare sibling left, so it joins the group of >= PRIVACY_MIN missing and
    present rows nearest in share; a group with 2 missing rows (0.7 %) and no pool is written off."""
    cells = {"a": (230, 16), "b": (284, 21), "c": (173, 13), "d": (191, 40), "e": (1000, 300), "f": (500, 0),
             "g": (800, 100)}
    shares, pools = pool_group_missing(cells)
    # (since stop 31 a pool's rows are not written and its share sits on a grid of them rounded down to a
    # multiple of PRIVACY_MIN, `band`: 687 -> 650, 991 -> 950)
    assert pools == [{"groups": ["a", "b", "c"]}, {"groups": ["d", "g"]}]
    assert shares["a"] == shares["b"] == shares["c"] == round(47 / 650, 6)  # 50 / 687 = 47.3 / 650
    assert shares["d"] == shares["g"] == round(134 / 950, 6)  # 140 / 991 = 134.2 / 950
    assert "e" not in shares and "f" not in shares
    shares, pools = pool_group_missing({"x": (300, 2), "y": (150, 148), "z": (1000, 500)})
    assert shares == {"x": 0.0, "y": 1.0} and pools == []


def test_a_pooled_conditional_stores_no_missing_cell_of_few_rows_and_draws_the_pool_share() -> None:
    """A categorical child: groups with 10 and 45 missing rows pool (55 rows); every group's missing and
    present rows (stored share x rows) are 0 or >= PRIVACY_MIN or its pool's are; drawn at the pooled share."""
    parent = ["a"] * 200 + ["b"] * 300 + ["c"] * 400
    child = ["X"] * 190 + [None] * 10 + ["Y"] * 255 + [None] * 45 + ["X"] * 200 + [None] * 200
    df = pd.DataFrame({"P": parent, "C": child})
    types = {"P": "VARCHAR", "C": "VARCHAR"}
    exact = fit_conditional(df, types, "C", ["P"], ["X", "Y"], EXACT)
    assert exact["groups"]["a"]["missing"] == pytest.approx(0.05)  # the rule before: 10 rows
    assert fit_conditional(df, types, "C", ["P"], ["X", "Y"]) == fit_conditional(df, types, "C", ["P"], ["X", "Y"], POOLED)
    cond = fit_conditional(df, types, "C", ["P"], ["X", "Y"], POOLED)
    assert cond["missing_pools"] == [{"groups": ["a", "b"]}]  # (500 rows, not written since stop 31)
    pooled = {k: cond["groups"][k]["missing"] for k in cond["groups"]}
    assert pooled == pytest.approx({"a": 0.11, "b": 0.11, "c": 0.5})
    for pool in cond["missing_pools"]:
        assert PRIVACY_MIN <= pooled[pool["groups"][0]] * 500 <= 500 - PRIVACY_MIN
    c = Conditional.from_json(cond)
    codes = c.sample_codes(np.random.default_rng(0), {"P": (np.repeat([0, 1, 2], 20_000), ["a", "b", "c"])},
                           ["X", "Y"])  # fmt: skip
    assert np.mean(codes[:20_000] < 0) == pytest.approx(0.11, abs=0.01)
    assert np.mean(codes[40_000:] < 0) == pytest.approx(0.5, abs=0.01)


def test_a_numeric_group_with_a_rare_present_cell_stays_written_as_missing() -> None:
    """A numeric group with fewer than PRIVACY_MIN values is described by nothing (missing 1): pooling does
    not give it a present share it could only draw from the placeholder atom."""
    df = pd.DataFrame({"P": ["a"] * 200 + ["b"] * 300,
                       "N": np.r_[np.arange(30.0), [np.nan] * 170, np.arange(300.0)]})  # fmt: skip
    cond = fit_conditional(df, {"P": "VARCHAR", "N": "DOUBLE"}, "N", ["P"], None, POOLED)
    assert cond["groups"]["a"]["missing"] == 1.0 and "missing_pools" not in cond


def test_the_rules_refuse_an_unknown_name() -> None:
    with pytest.raises(ValueError, match="rare_values: 'all'"):
        PrivacyRules(rare_values="all")
    with pytest.raises(ValueError, match="group_missing"):
        PrivacyRules(group_missing="zero")


def test_a_groups_bins_are_drawn_on_the_values_its_column_has() -> None:
    """Incomes mostly on multiples of 22,500 (the column's frequent values): a group's bins of rare incomes are
    drawn in proportion to the column's marginal inside each bin (``bins_from``), so the group keeps the round
    values, and its own frequent value keeps exactly its share; drawn uniformly on the 4,500 grid (the bins
    without their reference) only a fifth of the draws in a bin would be round."""
    rng = np.random.default_rng(3)
    column = np.r_[22500.0 * rng.integers(2, 12, 3000), 4500.0 * rng.integers(10, 60, 300)]
    group = np.r_[np.full(60, 135000.0), 22500.0 * rng.integers(3, 9, 120), 4500.0 * rng.integers(15, 45, 20)]
    df = pd.DataFrame({"P": ["b"] * column.size + ["a"] * group.size, "X": np.r_[column, group]})
    cond = fit_conditional(df, {"P": "VARCHAR", "X": "DOUBLE"}, "X", ["P"], None, BINS)
    assert cond["bins_from"] == "fallback"
    assert cond["groups"]["a"]["atoms"] == [135000.0] and len(cond["groups"]["a"]["bins"]) == 2
    like_column = Conditional.from_json(cond).groups["a"]
    uniform = NumericMarginal.from_json(cond["groups"]["a"])
    assert isinstance(like_column, NumericMarginal) and like_column.reference is not None
    u = np.random.default_rng(0).random(20_000)
    rounds = {}
    for name, marginal, tol in (("like column", like_column, 0.01), ("uniform", uniform, 0.03)):
        draws = marginal.ppf(u)
        assert np.mean(draws == 135000.0) == pytest.approx(np.mean(group == 135000.0), abs=tol)
        assert np.all(draws % 4500 == 0) and group.min() - 22500 < draws.min() and draws.max() < group.max() + 22500
        rounds[name] = np.mean(draws[draws != 135000.0] % 22500 == 0)
    real = np.mean(group[group != 135000.0] % 22500 == 0)
    assert real > 0.8 and rounds["like column"] > 0.8 and rounds["uniform"] < 0.4


def test_pooled_rare_values_share_their_pool_evenly_like_rare_levels() -> None:
    """``--rare-values pooled`` (a variant, not the committed file): a discrete column's values of fewer than
    PRIVACY_MIN rows are written as a categorical column's rare levels are -- pooled from the rarest up into
    pools of PRIVACY_MIN rows sharing the pool's share evenly; a rare rest of fewer rows in all, and the rare
    extremes, count with the nearest value written; drawn as atoms on the real values."""
    pooled = PrivacyRules(rare_values="pooled")
    x = pd.Series([0] * 5000 + [1] * 1500 + [2] * 40 + [3] * 700 + [4] * 90)
    fitted = fit_numeric(x, integer=True, rare_values=pooled.rare_values)
    assert 2.0 not in fitted["atoms"]  # 40 rows in all: no pool, its rows count with a neighbour
    x = pd.Series([0.0] * 5000 + [1] * 1500 + [2] * 40 + [3] * 700 + [5] * 20 + [6] * 30 + [8] * 90 + [9] * 3)
    fitted = fit_numeric(x, integer=False, rare_values=pooled.rare_values)
    shares = dict(zip(fitted["atoms"], fitted["atom_probs"], strict=True))
    assert fitted["quantiles"] == [] and "bins" not in fitted and 9.0 not in shares  # 9: a rare extreme
    pool = [shares[v] for v in (2.0, 5.0, 6.0)]  # 90 rows in all, shared evenly
    assert pool == [pool[0]] * 3 and sum(pool) * x.size == pytest.approx(90, abs=0.01)
    assert all(p * x.size >= PRIVACY_MIN - 0.01 for v, p in shares.items() if v not in (2.0, 5.0, 6.0))
    draws = NumericMarginal.from_json(fitted).ppf(np.random.default_rng(1).random(20_000))
    assert set(np.unique(draws)) <= set(shares) and abs(np.mean(draws == 5.0) - 30 / x.size) < 0.003
    # the rare extremes count with the nearest value written, not with its whole pool (top coding)
    x = pd.Series([0.0] * 60 + [1] * 30 + [2] * 5 + [3] * 20 + [4] * 25 + [5] * 3000 + [7] * 10 + [8] * 40)
    fitted = fit_numeric(x, integer=False, rare_values=pooled.rare_values)
    shares = {v: p * x.size for v, p in zip(fitted["atoms"], fitted["atom_probs"], strict=True)}
    assert 8.0 not in shares and shares[7.0] == pytest.approx(90 / 5 + 40)  # 8 (the 40 top rows) -> 7
    assert [shares[v] for v in (1.0, 2.0, 3.0, 4.0)] == pytest.approx([18.0] * 4)  # the pool 1-4 and 7: 90 rows


STRICT = PrivacyRules(atom_rule="strict")


def _atom_rows(fitted: dict, values: float) -> dict[float, float]:
    """Rows behind each atom share; a pooled atom's are its pool's (checked: shared evenly)."""
    shares = dict(zip(fitted["atoms"], fitted["atom_probs"], strict=True))
    rows = {v: p * values for v, p in shares.items()}
    for pool in fitted.get("pools", []):  # (a conditional group's pool rows: not written since stop 31)
        own = [shares[v] for v in pool["levels"]]
        assert max(own) - min(own) < 1e-7 and pool.get("n", PRIVACY_MIN) >= PRIVACY_MIN
        step = values / fitted["share_grid"] if "share_grid" in fitted else 0.01
        assert sum(own) * values == pytest.approx(pool.get("n", sum(own) * values), abs=step)
        rows.update({v: sum(own) * values for v in pool["levels"]})
    return rows


def test_the_strict_atom_rule_writes_no_atom_of_fewer_than_the_minimum() -> None:
    """``atom_rule="strict"`` (stop 27c, ``fit --atom-rule strict``): a many-valued column's value seen on
    ATOM_MIN_COUNT to PRIVACY_MIN - 1 rows inside its extremes is no atom (drawn from the trimmed quantiles);
    a discrete column's rare middle values are pooled with the pools written (``pools``), and a rare
    extreme's rows go to the nearest kept value, or to the whole pool of the nearest pooled one."""
    x = pd.Series(np.r_[np.round(np.random.default_rng(0).normal(100, 10, 3000), 1), [100.0] * 12, [120.0] * 60])
    loose, strict = fit_numeric(x, integer=False), fit_numeric(x, integer=False, atom_rule=STRICT.atom_rule)
    assert 100.0 in loose["atoms"] and 100.0 not in strict["atoms"] and 120.0 in strict["atoms"]
    assert strict["quantiles"] and min(_atom_rows(strict, x.size).values()) >= PRIVACY_MIN - 0.01
    x = pd.Series([0.0] * 5000 + [1] * 1500 + [2] * 40 + [3] * 700 + [5] * 20 + [6] * 30 + [8] * 90 + [9] * 3)
    fitted = fit_numeric(x, integer=False, rare_values="atoms", atom_rule=STRICT.atom_rule)
    assert fitted["pools"] == [{"levels": [2.0, 5.0, 6.0], "n": 90}] and 9.0 not in fitted["atoms"]
    assert min(_atom_rows(fitted, x.size).values()) >= PRIVACY_MIN
    assert fit_numeric(pd.Series([0] * 5000 + [1] * 1500 + [2] * 40 + [3] * 700 + [4] * 90), integer=True,
                       atom_rule="strict")["atoms"] == [0.0, 1.0, 3.0, 4.0]  # 2: 40 rows in all, no pool
    # the 40 top rows (8) have the pooled 7 as nearest value: they join the pool 1-4, 7 (90 + 40 rows)
    x = pd.Series([0.0] * 60 + [1] * 30 + [2] * 5 + [3] * 20 + [4] * 25 + [5] * 3000 + [7] * 10 + [8] * 40)
    fitted = fit_numeric(x, integer=False, atom_rule=STRICT.atom_rule)
    rows = _atom_rows(fitted, x.size)
    assert 8.0 not in rows and fitted["pools"] == [{"levels": [1.0, 2.0, 3.0, 4.0, 7.0], "n": 130}]
    draws = NumericMarginal.from_json(fitted).ppf(np.random.default_rng(1).random(20_000))
    assert set(np.unique(draws)) <= set(fitted["atoms"])
    # no value of 50 rows and too few rare middle rows for a pool: no atom at all, only the trimmed quantiles
    x = pd.Series(np.r_[np.arange(50.0), [75.0] * 10, np.arange(100.0, 150.0)])  # 102 values: discrete
    assert 75.0 in fit_numeric(x, integer=False)["atoms"]
    fitted = fit_numeric(x, integer=False, atom_rule=STRICT.atom_rule)
    assert fitted["atoms"] == [] and fitted["quantiles"]


def test_the_strict_atom_rule_holds_inside_a_conditional_group() -> None:
    """A group is fitted under the same rule on its own rows: group a's values 1 (43 rows) and 2 (30) make a
    pool; 3 (25) and 9 (2), among the column's PRIVACY_MIN most extreme values, go to the nearest value
    written, 2, so to its pool."""
    parent = ["a"] * 200 + ["b"] * 400
    count = [0] * 100 + [1] * 43 + [2] * 30 + [3] * 25 + [9] * 2 + [0] * 100 + [1] * 200 + [2] * 100
    df = pd.DataFrame({"P": parent, "N": np.asarray(count, dtype=float)})
    loose = fit_conditional(df, {"P": "VARCHAR", "N": "BIGINT"}, "N", ["P"], None, LOOSE)
    strict = fit_conditional(df, {"P": "VARCHAR", "N": "BIGINT"}, "N", ["P"], None, STRICT)
    assert min(p * 200 for p in loose["groups"]["a"]["atom_probs"]) < PRIVACY_MIN
    a = strict["groups"]["a"]
    assert a["atoms"] == [0.0, 1.0, 2.0] and a["pools"] == [{"levels": [1.0, 2.0]}]  # (rows not written)
    assert min(_atom_rows(a, 200).values()) >= PRIVACY_MIN


def test_the_groups_atom_rule_is_strict_inside_the_conditionals_only() -> None:
    """``atom_rule="groups"``: a conditional's groups and fallback as ``"strict"``, a table's marginal as
    ``"loose"`` (the rare middle value 2 keeps its own share there)."""
    parent = ["a"] * 200 + ["b"] * 400
    count = [0] * 100 + [1] * 43 + [2] * 30 + [3] * 25 + [9] * 2 + [0] * 100 + [1] * 200 + [2] * 100
    df = pd.DataFrame({"P": parent, "N": np.asarray(count, dtype=float)})
    groups = PrivacyRules(atom_rule="groups")
    types = {"P": "VARCHAR", "N": "BIGINT"}
    assert fit_conditional(df, types, "N", ["P"], None, groups) == fit_conditional(df, types, "N", ["P"], None, STRICT)
    x = pd.Series([0] * 5000 + [1] * 1500 + [2] * 40 + [3] * 700 + [4] * 90)
    assert fit_column(x, "BIGINT", rules=groups) == fit_column(x, "BIGINT", rules=LOOSE)
    assert 2.0 in fit_column(x, "BIGINT", rules=groups)["atoms"]


def test_the_atom_rule_refuses_an_unknown_name() -> None:
    with pytest.raises(ValueError, match="atom_rule: 'exact'"):
        PrivacyRules(atom_rule="exact")


def test_a_group_of_a_continuous_column_keeps_its_median_under_the_committed_rule() -> None:
    """A yield group's rates (on a 0.01 grid: ~30 values, none but 0.08 on 50 rows) of a column with a
    continuous part: the strict rule alone pools the group's rare values from the rarest up with even shares,
    which moved the real `low_action` group's median (0.12 -> 0.17); the committed rule fits such a group like
    its column -- atoms of PRIVACY_MIN rows, the trimmed quantiles of the rest (>= 2 x PRIVACY_MIN values) -- so
    the median holds and no share stands for fewer than PRIVACY_MIN rows."""
    rng = np.random.default_rng(5)
    group = np.r_[np.full(70, 0.08), np.round(rng.gamma(4.0, 0.03, 300), 2)]
    column = np.round(rng.uniform(0.0, 1.0, 3000), 3)
    df = pd.DataFrame({"P": ["a"] * group.size + ["b"] * column.size, "R": np.r_[group, column]})
    cond = fit_conditional(df, {"P": "VARCHAR", "R": "DOUBLE"}, "R", ["P"], None, STRICT)
    a = cond["groups"]["a"]
    assert a["atoms"] == [0.08] and len(a["quantiles"]) > 2 and "pools" not in a
    assert (1 - a["atom_probs"][0]) * group.size >= 2 * PRIVACY_MIN
    draws = Conditional.from_json(cond).groups["a"].ppf(np.random.default_rng(0).random(40_000))
    assert abs(np.median(draws) - np.median(group)) < 0.01
    alone = fit_numeric(pd.Series(group), integer=False, atom_rule="strict")  # not a group: pooled values
    assert alone["pools"] and not alone["quantiles"]


def test_a_group_whose_missing_share_is_pooled_stores_its_shares_on_a_coarse_grid() -> None:
    """Groups a, b, c (16, 21, 13 missing rows) pool their missing cells; a's level shares 121 / 214 and 93 / 214
    told its 214 present rows (its 16 missing ones with its n = 230). Now the shares of a group whose missing
    share is not its own are multiples of 1 / ``share_grid``, the fewest present rows it can have by what the
    file tells (n minus its pool's missing rows plus 1, at least PRIVACY_MIN): every count from there to n fits
    them. Group d (200 missing) joins no pool and keeps its exact shares; a numeric group with 3 missing of 300
    (written off) gets a grid of n - PRIVACY_MIN + 1. Since stop 31 (`banded_group`) every grid is that count
    rounded down to a multiple of PRIVACY_MIN, and d's shares are on one too."""
    def part(x: int, y: int, missing: int) -> list:
        return ["X"] * x + ["Y"] * y + [None] * missing

    parent = ["a"] * 230 + ["b"] * 284 + ["c"] * 173 + ["d"] * 600
    child = part(121, 93, 16) + part(150, 113, 21) + part(90, 70, 13) + part(300, 100, 200)
    df = pd.DataFrame({"P": parent, "C": child})
    cond = fit_conditional(df, {"P": "VARCHAR", "C": "VARCHAR"}, "C", ["P"], ["X", "Y"])
    assert cond["missing_pools"] == [{"groups": ["a", "b", "c"]}]
    a = cond["groups"]["a"]
    assert a["share_grid"] == 150  # 230 - 50 + 1 = 181, banded
    units = [p * a["share_grid"] for p in a["probs"]]
    assert units == pytest.approx(np.round(units), abs=1e-5) and sum(a["probs"]) == pytest.approx(1.0)
    assert a["probs"] == pytest.approx([121 / 214, 93 / 214], abs=1 / a["share_grid"])
    assert cond["groups"]["d"]["share_grid"] == 400 and cond["groups"]["d"]["probs"] == [0.75, 0.25]
    num = pd.DataFrame({"P": ["a"] * 300 + ["b"] * 300,
                        "N": [np.nan] * 3 + [0.0] * 100 + [1.0] * 97 + [2.0] * 100 + [0.0, 1.0, 2.0] * 100})
    g = fit_conditional(num, {"P": "VARCHAR", "N": "BIGINT"}, "N", ["P"], None)["groups"]["a"]
    assert g["missing"] == 0.0 and g["share_grid"] == 250  # 300 - PRIVACY_MIN + 1, banded
    assert g["atom_probs"] == pytest.approx([100 / 297, 97 / 297, 100 / 297], abs=1 / g["share_grid"])
    assert sum(g["atom_probs"]) == pytest.approx(1.0)
