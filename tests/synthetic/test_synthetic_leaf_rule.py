"""Tree leaves that obey the privacy rule with exact shares (synthetic.gibbs leaf_rule "pruned" / "grown")."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from synthetic.gibbs import (
    Encoder,
    TreeConditional,
    cells_ok,
    fit_gibbs,
    grouped_shares,
    leaf_sizes,
    level_groups,
    prune,
    pruned_shares,
    to_frame,
    written_off,
)
from synthetic.joint import PRIVACY_MIN, band, common_denominators


def test_a_leaf_with_a_rare_cell_is_merged_with_its_sibling_upwards() -> None:
    """Root 0 -> (1, 2); 2 -> (3, 4); 4 -> (5, 6). Leaf 6 has a missing cell of 15 rows: 4 becomes a leaf,
    whose 30 rare rows still fail, so 2 becomes a leaf too (dropping 3's fine leaf); 1 and 2 pass and stay."""
    left = np.array([1, -1, 3, -1, 5, -1, -1])
    right = np.array([2, -1, 4, -1, 6, -1, -1])
    counts = np.array([[600, 130], [300, 60], [300, 70], [100, 40], [200, 30], [140, 15], [60, 15]])
    counts[4] = counts[5] + counts[6]
    counts[2] = counts[3] + counts[4]
    counts[0] = counts[1] + counts[2]
    new_left, new_right = prune(left, right, counts)
    assert new_left[0] == 1 and new_right[0] == 2  # the root's split stays
    assert new_left[2] == -1 and new_right[2] == -1  # merged twice upwards
    # without the rare cell nothing is merged
    ok = counts.copy()
    ok[:, 1] = np.where(ok[:, 1] < PRIVACY_MIN, 0, ok[:, 1])
    assert not cells_ok(counts[6]) and cells_ok(ok[6])
    same_left, _ = prune(left, right, np.array([[700, 0], [300, 0], [400, 0], [100, 0], [300, 0], [150, 0], [150, 0]]))
    assert same_left.tolist() == left.tolist()


def test_cells_ok_allows_zero_frequent_cells_and_one_rest_pool_of_the_minimum() -> None:
    assert cells_ok(np.array([300, 0, 60]))  # a true 0 is no statistic of a small group
    assert not cells_ok(np.array([300, 30, 60]))
    assert cells_ok(np.array([300, 10, 60]))  # 10 rows, at most REST_OFF of the leaf: written off
    assert cells_ok(np.array([300, 30, 25, 60]))  # a rest of 55 rows: one pool
    assert not cells_ok(np.array([60, 15]))  # a flag's 15 rows
    assert cells_ok(np.array([45, 15]))  # the whole leaf one pool (spread by the ancestors)
    assert written_off(np.array([5000.0, 20.0, 10.0])).tolist() == [False, True, True]
    assert not written_off(np.array([5000.0, 30.0, 25.0])).any()  # 55 rows: pooled at the root, not written off


def test_pruned_shares_are_exact_and_the_rest_pool_is_spread_by_the_ancestors() -> None:
    """Frequent cells and the pool's total keep their exact shares; the pool is spread over its cells by
    each one's share in the nearest ancestor where it has PRIVACY_MIN rows (level 3: the root reference)."""
    counts = np.array([300, 30, 25, 0, 10])
    parent = np.array([900, 200, 60, 0, 40])
    root = np.array([2000, 400, 300, 100, 45])
    root_ref = np.array([0.7, 0.1, 0.1, 0.05, 0.05])
    shares, pools = pruned_shares(counts, [parent, root], root_ref)
    assert pools == [[1, 2, 4]]
    assert shares[0] == pytest.approx(300 / 365) and shares[3] == 0.0
    assert shares[[1, 2, 4]].sum() == pytest.approx(65 / 365)
    w = np.array([200 / 1200, 60 / 1200, 0.05])  # parent, parent, the root's reference (45 < 50 rows)
    assert shares[[1, 2, 4]] == pytest.approx(65 / 365 * w / w.sum())
    assert abs(shares[1] * 365 - 30) > 1  # not the leaf's own 30 rows
    shares, pools = pruned_shares(np.array([300, 10, 60]), [parent[:3], root[:3]], root_ref[:3])
    assert pools == [] and shares.tolist() == pytest.approx([300 / 360, 0.0, 60 / 360])  # written off


def _leaf_cells(tree: TreeConditional, x: np.ndarray, cells: np.ndarray, n_cells: int) -> np.ndarray:
    leaf = tree.leaf(x)
    return np.array([np.bincount(cells[leaf == k], minlength=n_cells) for k in range(len(tree.leaves))])


@pytest.fixture
def no_level_models(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leaves store level shares (the rule's own leaves), not group shares for a level model
    (tests/synthetic/test_synthetic_level_model.py covers those)."""
    import synthetic.gibbs as gibbs

    monkeypatch.setattr(gibbs, "LEVEL_MODELS", set())


@pytest.mark.parametrize("rule", ["pruned", "grown"])
@pytest.mark.usefixtures("no_level_models")
def test_fitted_leaves_follow_the_rule_with_exact_shares(rule: str) -> None:
    """Small frame: a flag-like child whose minority is tied to a band of X, a rare level, a numeric child
    missing mostly in one band. With the rule every leaf's real cells (rows routed down the stored tree)
    pass cells_ok, frequent cells keep their exact shares, the tree still learns the band; the exact rule
    breaks it on the same frame (so the check can fail)."""
    rng = np.random.default_rng(4)
    n = 3000
    x = rng.uniform(0, 1, n)
    u = rng.random(n)
    y = np.where(x < 0.3, np.where(u < 0.8, "a", "b"), np.where(u < 0.03, "b", "a"))
    y = np.where(rng.random(n) < 0.004, "c", y)  # 12 rows in all: written off
    z = np.where(rng.random(n) < np.where(x < 0.5, 0.05, 0.4), np.nan, x + rng.normal(0, 0.1, n))
    df = pd.DataFrame({"X": x, "Y": y, "Z": z})
    levels = ["a", "b", "c"]
    every = lambda f: np.ones(n, dtype=bool)  # noqa: E731
    entries = [("Y", every), ("Z", every, None, True)]
    codes = pd.Series(y).map({lv: i for i, lv in enumerate(levels)}).to_numpy()
    broken = 0
    for leaf_rule in (rule, "exact"):
        fitted = fit_gibbs(df, entries, ["X", "Z"], {"Y": levels}, 50, leaf_rule=leaf_rule)
        mat = Encoder.from_json(fitted["encoder"]).transform(to_frame(df, {"Y": levels}), n)
        tree = TreeConditional.from_json(fitted["trees"]["Y"])
        real = _leaf_cells(tree, mat, codes, 3)
        assert leaf_sizes(df, entries, ["X", "Z"], {"Y": levels}, fitted)["Y"] == real.sum(axis=1).tolist()
        ztree = TreeConditional.from_json(fitted["trees"]["Z"])
        zreal = _leaf_cells(ztree, mat, np.isnan(z).astype(int), 2)
        if leaf_rule == "exact":
            broken = sum(not cells_ok(c) for c in real) + sum(not cells_ok(c) for c in zreal)
            continue
        assert fitted["leaf_rule"] == rule
        assert len(tree.leaves) >= 2 and len(ztree.leaves) >= 2  # the bands are still learnt
        for leaf, c in zip(tree.leaves, real, strict=True):
            n_leaf = int(c.sum())
            c = c.copy()
            c[2] = 0  # level c: 12 rows in the whole tree, written off
            assert cells_ok(c), (leaf, c)
            assert leaf["probs"][2] == 0.0
            rest = c[(c > 0) & (c < PRIVACY_MIN)].sum()
            kept = c.sum() - (rest if rest < PRIVACY_MIN else 0)  # a small rest is written off
            # (exact up to the 6-decimal rounding until stop 30; since stop 31 within a step of the leaf's grid, its
            # rows banded, or fewer when some of them are behind no share:
            # `test_a_leaf_with_rows_written_off_stores_its_shares_on_a_grid`)
            tol = 1 / leaf["share_grid"]
            assert leaf["share_grid"] == band(n_leaf) if kept == n_leaf else leaf["share_grid"] <= band(n_leaf - 49)
            for j in (0, 1):
                if c[j] >= PRIVACY_MIN or c[j] == 0:
                    assert leaf["probs"][j] == pytest.approx(c[j] / kept, abs=tol)
        for leaf, c in zip(ztree.leaves, zreal, strict=True):
            assert cells_ok(c), (leaf, c)
            if "pools" not in leaf and min(c) >= PRIVACY_MIN:  # (on a grid of its rows banded: stop 31)
                assert leaf["missing"] == pytest.approx(c[1] / c.sum(), abs=1 / band(int(c.sum())))
            elif "pools" not in leaf:  # a rare cell of at most REST_OFF of the leaf: written off
                assert leaf["missing"] == (0.0 if c[1] < PRIVACY_MIN else 1.0)
        low = np.array([np.mean(x[tree.leaf(mat) == k] < 0.3) for k in range(len(tree.leaves))])
        assert {0.0, 1.0} <= set(np.round(low, 1))  # leaves of the band and leaves without it
    assert broken >= 3


def test_level_groups_are_built_from_levels_of_the_minimum_rows_only() -> None:
    """Six frequent levels with two profiles (X low / high) fall into two groups by profile; the rare
    levels (< PRIVACY_MIN rows each) form one group of their own whatever their rows look like, so
    moving a rare level's rows changes no group."""
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(8), [200, 200, 200, 200, 200, 200, 30, 20])
    x = np.where(y < 3, rng.uniform(0, 0.3, y.size), rng.uniform(0.7, 1.0, y.size))[:, None]
    group = level_groups(x, y, 9, 2)  # level 8: no rows
    assert group[0] == group[1] == group[2] != group[3] == group[4] == group[5]
    assert group[6] == group[7] == group[8] not in {group[0], group[3]}
    x2 = x.copy()
    x2[y == 6] = 0.1  # a rare level's rows look like the low levels now: no group moves
    assert level_groups(x2, y, 9, 2).tolist() == group.tolist()
    x3 = x.copy()
    x3[y == 3] = 0.1  # a frequent level's profile moves: it joins the low levels
    moved = level_groups(x3, y, 9, 2)
    assert moved[3] == moved[0] != moved[4]


def test_grouped_shares_keep_exact_group_shares_and_spread_a_group_by_a_node_that_follows_the_rule() -> None:
    """Levels 0-2 group 0, 3-4 group 1. In the leaf group 0 has 120 rows (90 / 20 / 10: its level cells
    fail the rule), group 1 60 rows (60 / 0). Group shares are exact (120 / 180); group 0 is spread by the
    parent, where its cells 300 / 150 / 60 all have 50 rows; group 1 by the leaf itself."""
    group = np.array([0, 0, 0, 1, 1])
    leaf = np.array([90, 20, 10, 60, 0])
    parent = np.array([300, 150, 60, 200, 100])
    root = np.array([900, 400, 200, 600, 300])
    shares, pools = grouped_shares(leaf, [parent, root], root / root.sum(), group)
    assert shares[:3].sum() == pytest.approx(120 / 180) and shares[3] == pytest.approx(60 / 180)
    assert shares[:3] == pytest.approx(120 / 180 * parent[:3] / 510)
    assert shares[4] == 0.0
    assert sorted(map(sorted, pools)) == [[0, 1, 2], [3]]
    for pool in pools:
        assert shares[pool].sum() * 180 >= PRIVACY_MIN - 1e-9


@pytest.mark.usefixtures("no_level_models")
def test_a_many_level_child_grown_on_level_groups_follows_the_rule_and_keeps_its_tie() -> None:
    """24 levels of 125 rows each, tied to a band of X (levels 0-11 low, 12-23 high), spread thinly: the
    tree grown on level groups has leaves whose GROUP cells pass cells_ok with exact shares, whose level
    shares stand for PRIVACY_MIN rows (a pool per group), and which still know the band; grown on the
    levels themselves the same leaves could hold no such tie per level."""
    rng = np.random.default_rng(1)
    n = 3000
    y = np.repeat(np.arange(24), 125)
    x = np.where(y < 12, rng.uniform(0, 0.5, n), rng.uniform(0.5, 1.0, n))
    x = np.where(rng.random(n) < 0.1, rng.uniform(0, 1, n), x)  # some noise across the band
    levels = [f"L{j:02d}" for j in range(24)]
    df = pd.DataFrame({"X": x, "Y": [levels[j] for j in y]})
    every = lambda f: np.ones(n, dtype=bool)  # noqa: E731
    fitted = fit_gibbs(df, [("Y", every)], ["X"], {"Y": levels}, 50, leaf_rule="grown")
    assert "group" not in fitted["trees"]["Y"]  # only the children named in LEVEL_GROUPS
    import synthetic.gibbs as gibbs

    old = dict(gibbs.LEVEL_GROUPS)
    gibbs.LEVEL_GROUPS["Y"] = 4
    try:
        fitted = fit_gibbs(df, [("Y", every)], ["X"], {"Y": levels}, 50, leaf_rule="grown")
    finally:
        gibbs.LEVEL_GROUPS.clear()
        gibbs.LEVEL_GROUPS.update(old)
    tree = TreeConditional.from_json(fitted["trees"]["Y"])
    group = np.asarray(tree.group)
    assert len(set(group[:12]) & set(group[12:])) == 0  # the groups follow the band
    mat = Encoder.from_json(fitted["encoder"]).transform(to_frame(df, {"Y": levels}), n)
    real = _leaf_cells(tree, mat, group[y], int(group.max()) + 1)
    assert len(tree.leaves) >= 2
    low = []
    for leaf, c in zip(tree.leaves, real, strict=True):
        assert cells_ok(c), c
        probs = np.asarray(leaf["probs"])
        rest = c[(c > 0) & (c < PRIVACY_MIN)].sum()
        kept = c.sum() - (rest if rest < PRIVACY_MIN else 0)  # a small rest is written off
        tol = 1 / leaf["share_grid"]  # (a grid of its rows banded, or fewer: rows behind no share)
        for g in np.flatnonzero(c >= PRIVACY_MIN):
            assert probs[group == g].sum() == pytest.approx(c[g] / kept, abs=tol)  # exact group share
        pooled = {j for pool in leaf["pools"] for j in pool}
        n_leaf, slack = int(c.sum()), 0.01 + c.sum() / leaf["share_grid"]
        for pool in leaf["pools"]:
            assert probs[pool].sum() * n_leaf >= PRIVACY_MIN - slack
        assert all(p == 0 or j in pooled or p * n_leaf >= PRIVACY_MIN - slack for j, p in enumerate(probs))
        low.append(probs[:12].sum())
    assert min(low) < 0.2 and max(low) > 0.8  # leaves of each band


def _denominators(shares: list[float], n: int, grid: int | None) -> list[int]:
    """`common_denominators` of a leaf's shares (6 decimals)."""
    return common_denominators(shares, n, grid, decimals=6)


def _own(leaf: dict) -> list[float]:
    pooled = {j for pool in leaf.get("pools", []) for j in pool}
    return [p for j, p in enumerate(leaf["probs"]) if 0 < p < 1 and j not in pooled]


def test_no_leaf_of_the_committed_file_tells_the_rows_behind_its_shares(real_leaf_sizes: dict) -> None:
    """A categorical leaf whose rare rest (`pruned_shares`) or rare levels of the whole tree (`written_off`) got
    share 0 stores its other shares as counts of fewer rows than its ``n``: exact, a search for their common
    denominator told that count, and with ``n`` the rows written off (the file of stop 29: 6 `OCCUPATION_TYPE`
    leaves, e.g. 169 of 170 rows: 1 hidden). Every leaf's shares are on its ``share_grid`` (since stop 31 its rows
    are not written: `real_leaf_sizes`)."""
    import json

    from synthetic.stats import STATS_PATH

    gibbs = json.loads(STATS_PATH.read_text(encoding="utf-8"))["gibbs"]
    told, checked = [], 0
    for table, fitted in gibbs.items():
        for name, tree in fitted["trees"].items():
            for k, (leaf, n) in enumerate(zip(tree["leaves"], real_leaf_sizes[table][name], strict=True)):
                if "probs" not in leaf or not _own(leaf):
                    continue
                checked += 1
                found = _denominators(_own(leaf), n, leaf.get("share_grid"))
                if n not in found and 0 < len(found) <= 3:
                    told.append((table, name, k, n, found))
    assert checked > 20
    assert not told, f"{len(told)} leaves tell the rows behind their shares, e.g. {told[:3]}"


@pytest.mark.usefixtures("no_level_models")
def test_a_leaf_with_rows_written_off_stores_its_shares_on_a_grid() -> None:
    """Levels a / b tied to a band of X, and level c on 3 rows of the band x < 0.5 (written off in the whole tree):
    the leaves of that band hide 3 rows, which exact shares of their other rows told; on a grid of n - 2 x
    (PRIVACY_MIN - 1) rows (a leaf rest and the tree's written-off levels may both be there; banded since stop 31)
    every count from the grid up fits. A leaf without hidden rows has its exact shares on a grid of its rows
    banded."""
    rng = np.random.default_rng(1)
    n = 1200
    x = rng.uniform(0, 1, n)
    y = np.where(rng.random(n) < np.where(x < 0.5, 0.3, 0.7), "a", "b").astype(object)
    y[np.flatnonzero(x < 0.5)[:3]] = "c"
    df = pd.DataFrame({"X": x, "Y": y})
    every = lambda f: np.ones(n, dtype=bool)  # noqa: E731
    fitted = fit_gibbs(df, [("Y", every)], ["X"], {"Y": ["a", "b", "c"]}, 200, leaf_rule="grown")
    tree = TreeConditional.from_json(fitted["trees"]["Y"])
    mat = Encoder.from_json(fitted["encoder"]).transform(to_frame(df, {"Y": ["a", "b", "c"]}), n)
    real = _leaf_cells(tree, mat, pd.Series(y).map({"a": 0, "b": 1, "c": 2}).to_numpy(), 3)
    hiding = 0
    for leaf, c in zip(tree.leaves, real, strict=True):
        assert leaf["probs"][2] == 0.0
        kept = int(c[:2].sum())
        assert "pools" not in leaf  # (leaves of 200 rows: both levels frequent)
        n_leaf = int(c.sum())
        if c[2] == 0:  # nothing hidden: its shares of its n, banded
            assert leaf["share_grid"] == band(n_leaf)
            assert leaf["probs"][0] == pytest.approx(c[0] / kept, abs=1 / band(n_leaf))
            continue
        hiding += 1
        assert leaf["share_grid"] == band(max(PRIVACY_MIN, n_leaf - 2 * (PRIVACY_MIN - 1)))
        assert abs(leaf["probs"][0] - c[0] / kept) <= 1 / leaf["share_grid"]
        assert sum(leaf["probs"]) == pytest.approx(1.0)
        exact = [round(c[0] / kept, 6), round(c[1] / kept, 6)]
        assert kept in _denominators(exact, n_leaf, None)  # what exact shares told
        assert set(range(leaf["share_grid"], n_leaf + 1)) <= set(_denominators(_own(leaf), n_leaf, leaf["share_grid"]))
    assert hiding >= 1 and len(tree.leaves) >= 2
