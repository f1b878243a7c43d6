"""Tree conditionals: a column given all the others, as summary statistics of groups of real rows.

After the copula and the hand-built conditionals have drawn an applicant, a few columns are redrawn one
by one from their distribution *given every other column* (one sweep of Gibbs sampling): what a
Gaussian copula cannot carry (a categorical level tied to a band of another column, a non-monotone
dependence, a mixture) is carried by a decision tree fitted on the real rows.

- **Fit** (:func:`fit_tree`): the predictors are every other column, numeric ones cut into quantile
  bins of the whole column (so split points are bin numbers, never a real value), categorical ones
  one-hot over the levels seen on at least :data:`PRIVACY_MIN` rows, missing as its own indicator. A
  decision tree (leaves of at least ``MIN_GROUP`` rows) partitions the real rows; per leaf only the
  child's distribution is stored: for a numeric child ``LEAF_QUANTILES`` quantiles of its global
  uniform (rank within the column, so the column's marginal -- atoms, grid, rounding -- does the rest),
  for a categorical child the level frequencies. Each leaf stores its row count ``n``.
- **Sample** (:class:`TreeConditional`): route the generated rows down the tree, draw from the leaf.

A child is redrawn only on its ``rows`` (e.g. where it is present, so block missingness stays as
drawn; ``DAYS_EMPLOYED`` only for the employed): the tree is fitted on the same rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from synthetic.joint import PRIVACY_MIN, band, on_grid, rare_pools, share_on_grid
from synthetic.levels import LevelModel, fit_level_model
from synthetic.stats import Cat, CategoricalMarginal, Marginal, NumericMarginal, rerank

N_BINS = 24
LEAF_QUANTILES = 41
MAX_LEAVES = 256


@dataclass
class Encoder:
    """Predictor matrix from a frame: numeric columns as bin numbers (NaN kept), categorical columns
    one-hot over their frequent levels plus a missing indicator."""

    numeric: dict[str, np.ndarray]  # column -> bin edges
    categorical: dict[str, list[str]]  # column -> frequent levels

    @classmethod
    def fit(cls, df: pd.DataFrame, numeric: list[str], categorical: list[str]) -> Encoder:
        edges = {}
        for c in numeric:
            x = pd.to_numeric(df[c], errors="coerce").to_numpy(float)
            x = x[~np.isnan(x)]
            qs = np.unique(np.quantile(x, np.linspace(0, 1, N_BINS + 1)[1:-1])) if x.size else np.array([])
            edges[c] = qs
        cats = {}
        for c in categorical:
            vc = df[c].dropna().astype(str).value_counts()
            cats[c] = sorted(str(v) for v in vc.index[vc >= PRIVACY_MIN])
        return cls(edges, cats)

    @property
    def names(self) -> list[str]:
        out = list(self.numeric)
        for c, levels in self.categorical.items():
            out += [f"{c}={lv}" for lv in levels] + [f"{c}:missing"]
        return out

    def transform(self, frame: dict[str, Any], n: int, compact: bool = False) -> np.ndarray:
        """``frame``: column -> numeric array or (codes, levels). ``compact``: int8 codes with -1 for a
        missing value (bin numbers and 0/1 flags are small whole numbers), a matrix small enough for
        the CPU cache when rows are routed down the trees; else float with NaN (for fitting)."""
        x = np.empty((n, len(self.names)), dtype=np.int8)
        j = 0
        for c, e in self.numeric.items():
            v = np.asarray(frame[c], dtype=float)
            x[:, j] = np.where(np.isnan(v), -1, np.searchsorted(e, v, side="right"))
            j += 1
        for c, levels in self.categorical.items():
            codes, have = frame[c]
            index = {lv: i for i, lv in enumerate(have)}
            for lv in levels:
                x[:, j] = codes == index.get(lv, -2)
                j += 1
            x[:, j] = codes < 0
            j += 1
        if compact:
            return x
        out = x.astype(np.float32)
        out[x < 0] = np.nan
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "numeric": {c: [float(x) for x in e] for c, e in self.numeric.items()},
            "categorical": self.categorical,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Encoder:
        return cls({c: np.asarray(e, dtype=float) for c, e in d["numeric"].items()}, dict(d["categorical"]))


def _groups(leaf: np.ndarray) -> list[tuple[int, np.ndarray]]:
    """(leaf, row indices in increasing order) for every leaf present: one stable sort, not a scan of
    all rows per leaf."""
    order = np.argsort(leaf, kind="stable")
    keys, starts = np.unique(leaf[order], return_index=True)
    return list(zip(keys.tolist(), np.split(order, starts[1:]), strict=True))


@dataclass
class TreeConditional:
    """A fitted tree over encoded predictors; per leaf the child's distribution."""

    child: str
    predictors: list[str]  # encoded feature names (for reading the fitted file)
    feature: np.ndarray
    threshold: np.ndarray
    left: np.ndarray
    right: np.ndarray
    nan_left: np.ndarray
    leaf_of_node: np.ndarray  # node -> leaf index (-1 for inner nodes)
    #: {"n": rows, "q": uniform quantiles[, "missing": share]} or {"n", "probs", "share_grid"}; ``n`` not written
    leaves: list[dict[str, Any]]
    with_missing: bool = False  # missing values are redrawn too (a categorical child's last level)
    group: list[int] | None = None  # grown on level groups (`level_groups`): level -> group
    level_model: LevelModel | None = None  # the level within its group (leaves then hold group shares)
    _compact: tuple[np.ndarray, ...] | None = field(default=None, init=False, repr=False, compare=False)

    def leaf(self, x: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        """Leaf index of every row of the encoded matrix ``x`` (or of its ``rows``, without copying
        them out): the rows still at an inner node move one level down per step. ``x`` as
        `Encoder.transform` gives it, compact (int8, -1 missing) or float (NaN missing): the same bin
        numbers and flags, routed the same way."""
        idx = np.arange(x.shape[0]) if rows is None else np.asarray(rows)
        if x.dtype != np.int8:
            x = np.where(np.isnan(x), -1, x).astype(np.int8)
        return self._leaf_compact(np.ascontiguousarray(x), idx)

    def _leaf_compact(self, x: np.ndarray, idx: np.ndarray) -> np.ndarray:
        """:meth:`leaf` on int8 codes (-1 missing): a whole value goes left when it is at most the
        threshold's floor, a missing one when the node sends missing values left -- two comparisons
        with per-node bounds, one flat gather per level."""
        if self._compact is None:
            hi = np.clip(np.floor(self.threshold), -1, 127).astype(np.int8)
            lo = np.where(self.nan_left, -1, 0).astype(np.int8)
            child = np.column_stack([self.right, self.left]).ravel().astype(np.intp)  # [2 node + left]
            self._compact = (self.feature.astype(np.intp), hi, lo, child)
        feature, hi, lo, child = self._compact
        flat = x.ravel()
        node = np.zeros(idx.size, dtype=np.intp)
        pos = np.arange(idx.size)
        base = idx.astype(np.intp) * x.shape[1]
        while pos.size:
            nd = node[pos]
            feat = feature[nd]
            inner = feat >= 0
            if not inner.all():
                pos, nd, feat, base = pos[inner], nd[inner], feat[inner], base[inner]
                if not pos.size:
                    break
            v = flat[base + feat]
            go_left = (v <= hi[nd]) & (v >= lo[nd])
            node[pos] = child[2 * nd + go_left]
        return self.leaf_of_node[node]

    def sample_u(
        self,
        rng: np.random.Generator,
        leaf: np.ndarray,
        u: np.ndarray | None = None,
        miss_u: np.ndarray | None = None,
    ) -> np.ndarray:
        """Numeric child: uniforms of the column's marginal, drawn from each row's leaf. ``u`` /
        ``miss_u`` (optional): the rows' copula uniforms of the value / presence, re-ranked inside each
        leaf, so the leaf's distribution holds and the copula's dependence inside the leaf stays."""
        out = np.empty(leaf.size)
        for k, idx in _groups(leaf):
            q = np.asarray(self.leaves[k]["q"], dtype=float)
            r = rng.random(idx.size) if u is None else rerank(rng, u[idx])
            out[idx] = np.interp(r, np.linspace(0.0, 1.0, q.size), q) if q.size else r
            if self.leaves[k].get("missing"):
                m = rng.random(idx.size) if miss_u is None else rerank(rng, miss_u[idx])
                out[idx[m < self.leaves[k]["missing"]]] = np.nan
        return out

    def sample_codes(self, rng: np.random.Generator, leaf: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
        """Categorical child: level indices of the column's marginal (-1: missing, the extra level of
        a tree fitted with missing values). With a ``level_model`` the leaves draw a group of levels and
        the model the level within it, given the rows' encoded predictors ``x``."""
        out = np.empty(leaf.size, dtype=np.int64)
        for k, idx in _groups(leaf):
            cum = np.cumsum(np.asarray(self.leaves[k]["probs"], dtype=float))
            out[idx] = np.minimum(
                np.searchsorted(cum / cum[-1], rng.random(idx.size), side="right"), cum.size - 1
            )
        n_levels = len(self.leaves[0]["probs"])
        if self.level_model is not None:
            assert x is not None, f"{self.child}: the level model needs the rows' predictors"
            out = self.level_model.sample(rng, x, out)
            n_levels = len(self.level_model.group)
        if self.with_missing:
            out[out == n_levels - 1] = -1
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "child": self.child,
            "predictors": self.predictors,
            "feature": self.feature.tolist(),
            "threshold": [float(t) if np.isfinite(t) else 1e18 for t in self.threshold],
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "nan_left": self.nan_left.astype(int).tolist(),
            "leaf_of_node": self.leaf_of_node.tolist(),
            # a leaf's values behind its quantiles (``q_n``) stay in memory: with its rows they would tell a
            # missing cell of fewer than PRIVACY_MIN rows the leaf rule wrote off (stop 30); its rows (``n``)
            # too: the counts of two trees' nodes on the same rows, one inside the other, differed by 1-49 rows
            # in 11 places of the file of stop 30 (its shares sit on a grid of them banded: `band`, stop 31)
            "leaves": [{k: v for k, v in leaf.items() if k not in ("q_n", "n")} for leaf in self.leaves],
            "with_missing": self.with_missing,
            **({"group": self.group} if self.group is not None else {}),
            **({"level_model": self.level_model.to_json()} if self.level_model is not None else {}),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TreeConditional:
        return cls(
            child=d["child"],
            predictors=list(d["predictors"]),
            feature=np.asarray(d["feature"], dtype=np.int64),
            threshold=np.asarray(d["threshold"], dtype=float),
            left=np.asarray(d["left"], dtype=np.int64),
            right=np.asarray(d["right"], dtype=np.int64),
            nan_left=np.asarray(d["nan_left"], dtype=bool),
            leaf_of_node=np.asarray(d["leaf_of_node"], dtype=np.int64),
            leaves=list(d["leaves"]),
            with_missing=bool(d.get("with_missing", False)),
            group=list(d["group"]) if "group" in d else None,
            level_model=LevelModel.from_json(d["level_model"]) if "level_model" in d else None,
        )


def uniform_ranks(x: np.ndarray) -> np.ndarray:
    """Average ranks scaled into (0, 1): each value's position in the column's own distribution."""
    from scipy.stats import rankdata

    return (rankdata(x, method="average") - 0.5) / x.size


LEAF_RULES = ("exact", "pruned", "grown")


#: The largest share of a leaf's rows a rest of rarer cells of fewer than PRIVACY_MIN rows in all may hold
#: and be written off (share 0, like a column's rare levels) instead of the leaf being merged with its
#: sibling (docs/synthetic.md: 0.05 against 0 keeps bureau's detection AUC at 0.802 instead of 0.821).
REST_OFF = 0.05


def cells_ok(counts: np.ndarray) -> bool:
    """A leaf's cells follow the privacy rule with their exact shares: every cell has 0 or PRIVACY_MIN
    rows, except a rest of rarer cells (1 to PRIVACY_MIN - 1 rows each) of PRIVACY_MIN rows in all, or
    of at most REST_OFF of the leaf's rows (written off)."""
    return bool(cells_ok_many(np.asarray(counts, dtype=float)))


def written_off(root: np.ndarray) -> np.ndarray:
    """Cells rare at the root whose rows make fewer than PRIVACY_MIN in all: no group of the tree can
    stand for them (the rule of a column's marginal: such levels are never drawn)."""
    rare = (root > 0) & (root < PRIVACY_MIN)
    return rare if root[rare].sum() < PRIVACY_MIN else np.zeros(root.size, dtype=bool)


def prune(left: np.ndarray, right: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Collapse the tree bottom-up until every leaf's cells (``counts``: rows per node and cell) pass
    `cells_ok`: a leaf that fails is merged with its sibling into their parent (the parent becomes a
    leaf, its rows the sum), repeatedly upwards. Returns new child arrays (collapsed subtrees are left
    unreachable; `fit_tree` keeps the `reachable` ones)."""
    left, right = left.copy(), right.copy()
    ok = np.zeros(left.size, dtype=bool)
    for node in reversed(reachable(left, right).tolist()):  # children before their parent (pre-order reversed)
        if left[node] >= 0 and ok[left[node]] and ok[right[node]]:
            ok[node] = True
            continue
        left[node] = right[node] = -1
        ok[node] = cells_ok(counts[node])
    return left, right


def reachable(left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """The nodes reachable from the root (node 0), in pre-order."""
    order, stack = [], [0]
    while stack:
        node = stack.pop()
        order.append(node)
        if left[node] >= 0:
            stack += [int(right[node]), int(left[node])]
    return np.asarray(order, dtype=np.int64)


def pruned_shares(
    counts: np.ndarray, ancestors: list[np.ndarray], root_ref: np.ndarray
) -> tuple[np.ndarray, list[list[int]]]:
    """A pruned leaf's shares (``counts`` pass `cells_ok`): cells of 0 or PRIVACY_MIN rows keep their
    exact share; the rest of rarer cells (one pool of PRIVACY_MIN rows) keeps its exact total share,
    spread over its cells in proportion to each one's share in the nearest ancestor (parent first, root
    last) where it has PRIVACY_MIN rows, else to ``root_ref`` (the root's pooled shares); a rest of fewer
    rows (at most REST_OFF of the leaf) is written off."""
    counts = np.asarray(counts, dtype=float)
    shares = np.where(counts >= PRIVACY_MIN, counts, 0.0)
    pool = np.flatnonzero((counts > 0) & (counts < PRIVACY_MIN))
    if counts[pool].sum() < PRIVACY_MIN:  # a small rest (REST_OFF): written off
        pool = pool[:0]
    if pool.size:
        ref = np.empty(pool.size)
        for i, j in enumerate(pool):
            group = next((a for a in ancestors if a[j] >= PRIVACY_MIN), None)
            ref[i] = group[j] / group.sum() if group is not None else root_ref[j]
        ref = ref if ref.sum() > 0 else np.ones(pool.size)
        shares[pool] = counts[pool].sum() * ref / ref.sum()
    return shares / shares.sum(), [pool.tolist()] if pool.size else []


def leaf_grid(
    shares: np.ndarray, pools: list[list[int]], rows: int, counts: np.ndarray, tree_off: bool
) -> tuple[np.ndarray, int | None]:
    """A categorical leaf's shares (of its cells ``counts``, from `pruned_shares` / `grouped_shares`) and their
    grid: when some of its ``rows`` are behind no share (its rare rest written off by `pruned_shares`, levels
    written off in the whole tree, ``tree_off``: `written_off`), exact shares of the other rows tell their count,
    and with the leaf's ``n`` the hidden rows (the file of stop 29: 6 `OCCUPATION_TYPE` leaves). They are put on
    a grid of the fewest rows the shares can be of (`on_grid`): ``rows`` less PRIVACY_MIN - 1 for each kind of
    hidden rows that may be in the leaf, never below PRIVACY_MIN. None: nothing hidden, exact shares kept."""
    if rows - int(np.asarray(counts)[shares > 0].sum()) <= 0:
        return shares, None
    grid = max(PRIVACY_MIN, rows - (PRIVACY_MIN - 1) * (2 if tree_off else 1))
    return on_grid(shares, grid, pools), grid


def root_shares(root: np.ndarray) -> np.ndarray:
    """The root's shares with its rare cells pooled as in a column's marginal (pools of PRIVACY_MIN rows
    sharing their total evenly): the reference of a level rare in every node."""
    root = np.asarray(root, dtype=float)
    ref = np.where(root >= PRIVACY_MIN, root, 0.0)
    pools, _ = rare_pools(sorted((int(c), j) for j, c in enumerate(root) if 0 < c < PRIVACY_MIN))
    for pool in pools:
        for _, j in pool:
            ref[j] = sum(c for c, _ in pool) / len(pool)
    return ref / max(ref.sum(), 1.0)


#: Many-level categorical children grown (``leaf_rule="grown"``) on a GROUP of levels instead of the level:
#: child -> number of groups (`level_groups`). Their leaves then hold large group cells with exact shares;
#: the level is drawn within its group from the nearest node where the group's levels follow the rule
#: (`grouped_shares`). docs/synthetic.md: the ORGANIZATION_TYPE tree lost its ties under the rule. Empty
#: since stop 27b: with the level models ORGANIZATION_TYPE is grown on its frequent / rare levels like any
#: other child (its 8 k-means groups under-drew the small groups; detection 0.7485 against 0.7525).
LEVEL_GROUPS: dict[str, int] = {}

#: Categorical children (``"*"``: all of them) whose level is drawn, under ``leaf_rule="grown"``, from a
#: softmax of the level given the predictors fitted on all the rows (`synthetic.levels.LevelModel`), within
#: the group of levels a tree leaf draws (LEVEL_GROUPS groups; 1 when not listed there: the frequent
#: levels one group, the rare ones another), instead of a node's level shares.
LEVEL_MODELS: set[str] = {"*"}


def has_level_model(child: str) -> bool:
    return child in LEVEL_MODELS or "*" in LEVEL_MODELS


def level_groups(
    x: np.ndarray, y: np.ndarray, n_levels: int, n_groups: int, alone: tuple[int, ...] = ()
) -> np.ndarray:
    """Group of every level (array level -> group 0..G-1): the levels with PRIVACY_MIN rows clustered
    (k-means, seeded, weighted by rows) by their profile -- the mean of each encoded predictor over the
    level's rows, in units of the predictor's spread: a statistic of >= PRIVACY_MIN rows only. The rarer
    levels form one group of their own (its cells follow the rule like any other; written off when it
    has fewer than PRIVACY_MIN rows in all). ``alone``: levels of PRIVACY_MIN rows that form a group each
    (a child's missing value: its leaf share then stays exact under the rule, not a model's smoothed one)."""
    from sklearn.cluster import KMeans

    counts = np.bincount(y, minlength=n_levels)
    solo = [j for j in alone if counts[j] >= PRIVACY_MIN]
    big = np.setdiff1d(np.flatnonzero(counts >= PRIVACY_MIN), solo)
    group = np.full(n_levels, -1, dtype=np.int64)
    if big.size and n_groups == 1:
        group[big] = 0
    elif big.size:
        xf = np.where(np.isnan(x), -1.0, x).astype(float)
        sd = xf.std(axis=0)
        sd[sd == 0] = 1.0
        sums = np.zeros((n_levels, xf.shape[1]))
        np.add.at(sums, y, xf)
        prof = sums[big] / counts[big, None] / sd
        k = min(n_groups, big.size)
        km = KMeans(n_clusters=k, n_init=10, random_state=0).fit(prof, sample_weight=counts[big])
        group[big] = km.labels_
    for j in solo:
        group[j] = group.max() + 1
    group[group < 0] = group.max() + 1  # the rare levels (and levels without rows): one group
    _, group = np.unique(group, return_inverse=True)
    return group.astype(np.int64)


def grouped_shares(
    counts: np.ndarray, ancestors: list[np.ndarray], root_ref: np.ndarray, group: np.ndarray
) -> tuple[np.ndarray, list[list[int]]]:
    """A leaf's level shares when the tree was grown on groups of levels (``group``: level -> group):
    the groups' shares are `pruned_shares` of the group cells (exact; a rest pool spread by the
    ancestors); within a group the levels are spread by the nearest node -- the leaf, else its parent,
    ... the root -- where the group has PRIVACY_MIN rows and its level cells pass `cells_ok`, with that
    node's `pruned_shares`. Pools: every drawn group's levels (its share stands for PRIVACY_MIN rows of
    the leaf), the groups of the rest pool together."""
    n_groups = int(group.max()) + 1
    member = np.zeros((group.size, n_groups))
    member[np.arange(group.size), group] = 1.0
    gshares, gpools = pruned_shares(counts @ member, [a @ member for a in ancestors], root_ref @ member)
    nodes = [np.asarray(counts, dtype=float), *[np.asarray(a, dtype=float) for a in ancestors]]
    probs = np.zeros(group.size)
    for g in np.flatnonzero(gshares > 0):
        lv = np.flatnonzero(group == g)
        ref = root_ref[lv] if root_ref[lv].sum() > 0 else np.ones(lv.size)
        within = ref / ref.sum()
        for i, c in enumerate(nodes):
            if c[lv].sum() >= PRIVACY_MIN and cells_ok(c[lv]):
                within, _ = pruned_shares(c[lv], [a[lv] for a in nodes[i + 1:]], within)
                break
        probs[lv] = gshares[g] * within
    rest = {int(g) for pool in gpools for g in pool}
    pools = [[int(j) for j in np.flatnonzero((group == g) & (probs > 0))] for g in range(n_groups)
             if gshares[g] > 0 and g not in rest]  # fmt: skip
    if rest:
        pools.append([int(j) for j in np.flatnonzero(np.isin(group, list(rest)) & (probs > 0))])
    return probs / probs.sum(), [p for p in pools if p]


def cells_ok_many(c: np.ndarray) -> np.ndarray:
    """`cells_ok` over the last axis of cell counts of any leading shape."""
    rare = np.where((c > 0.5) & (c < PRIVACY_MIN - 0.5), c, 0.0).sum(-1)
    return (rare < 0.5) | (rare > PRIVACY_MIN - 0.5) | (rare <= REST_OFF * c.sum(-1) + 1e-9)


def _grow(x: np.ndarray, y: np.ndarray, n_cells: int, categorical: bool, min_leaf: int) -> Any:
    """`synthetic.grow.grow` for a categorical child's codes ``y`` (Gini over its levels; the levels
    written off at the root do not count as cells) or a numeric child's uniforms with NaN (squared
    error of presence and value, as sklearn's two outputs; cells present / missing)."""
    from synthetic.grow import grow

    if categorical:
        w = np.zeros((y.size, 1 + n_cells))
        w[:, 0] = 1.0
        w[np.arange(y.size), 1 + y] = 1.0
        off = written_off(w[:, 1:].sum(axis=0))

        def cells(s: np.ndarray) -> np.ndarray:
            return np.where(off, 0.0, s[..., 1:])
    else:
        miss = np.isnan(y)
        w = np.column_stack([np.ones(y.size), miss, np.nan_to_num(y, nan=0.5)])
        off = written_off(np.array([(~miss).sum(), miss.sum()], dtype=float))

        def cells(s: np.ndarray) -> np.ndarray:
            return np.where(off, 0.0, np.stack([s[..., 0] - s[..., 1], s[..., 1]], axis=-1))

    return grow(x, w, cells, cells_ok_many, min_leaf, MAX_LEAVES)


def fit_tree(
    x: np.ndarray,
    names: list[str],
    child: pd.Series,
    categorical_levels: list[str] | None,
    min_leaf: int,
    u: np.ndarray | None = None,
    with_missing: bool = False,
    leaf_rule: str = "exact",
    n_groups: int = 0,
    level_model: bool = False,
) -> TreeConditional:
    """A tree predicting ``child`` (the rows to redraw) from the encoded ``x``; ``u``: a numeric child's
    uniforms within its whole column (default: ranks within these rows). ``with_missing``: the child's
    missing values are part of what the tree predicts (else ``child`` has none). ``leaf_rule`` for a
    leaf's cells (levels; present / missing): ``"exact"`` each leaf stores its own shares of every cell
    (sklearn's tree); ``"pruned"`` sklearn's tree collapsed until every leaf passes `cells_ok` (`prune`);
    ``"grown"`` a tree grown with only splits whose both children pass `cells_ok` (`synthetic.grow`).
    With both rules a leaf stores its exact shares, its rest pool (if any) spread by the ancestors
    (`pruned_shares`); cells rare in the whole tree (`written_off`) get share 0. ``n_groups`` (a
    categorical child under ``"grown"``): the tree is grown on `level_groups` of its levels, a leaf's
    level shares are `grouped_shares`; with ``level_model`` a leaf stores its group shares only (exact, by
    `pruned_shares` of the group cells) and the level within its group is drawn from a softmax fitted on
    all the rows (`synthetic.levels`)."""
    from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor

    assert min_leaf >= PRIVACY_MIN
    assert leaf_rule in LEAF_RULES, leaf_rule
    if categorical_levels is not None:
        index = {lv: i for i, lv in enumerate(categorical_levels)}
        y = child.astype(object).map(index).fillna(len(categorical_levels)).to_numpy(np.int64)
        if with_missing:
            categorical_levels = [*categorical_levels, ":missing"]
        model: Any = DecisionTreeClassifier(
            min_samples_leaf=min_leaf, max_leaf_nodes=MAX_LEAVES, random_state=0
        )
    else:
        y_num = uniform_ranks(pd.to_numeric(child).to_numpy(float)) if u is None else u
        model = DecisionTreeRegressor(min_samples_leaf=min_leaf, max_leaf_nodes=MAX_LEAVES, random_state=0)
    n_cells = len(categorical_levels) if categorical_levels is not None else 2
    ruled = leaf_rule != "exact" and (categorical_levels is not None or with_missing)  # cells under the rule
    group = None
    if ruled and leaf_rule == "grown":
        if categorical_levels is not None and n_groups > 0:
            # a missing value redrawn with the levels: its own group (exact leaf shares, e.g. the occupation
            # of every applicant without employment missing, as in the real rows), the model draws the rest
            group = level_groups(x, y, n_cells, n_groups, (n_cells - 1,) if with_missing else ())
            g = _grow(x, group[y], int(group.max()) + 1, True, min_leaf)
        else:
            g = _grow(x, y if categorical_levels is not None else y_num, n_cells, categorical_levels is not None,
                      min_leaf)
        feature_all, threshold_all, nan_all = g.feature, g.threshold, g.nan_left
        left, right, paths = g.left, g.right, g.paths
    else:
        if categorical_levels is not None:
            model.fit(x, y)
        elif with_missing:  # two outputs: presence and the value's uniform (0.5 where missing)
            model.fit(x, np.column_stack([np.isnan(y_num), np.nan_to_num(y_num, nan=0.5)]).astype(float))
        else:
            model.fit(x, y_num)
        t = model.tree_
        feature_all, threshold_all = t.feature, np.round(t.threshold, 6)
        nan_all = np.asarray(t.missing_go_to_left, dtype=bool)
        left, right = t.children_left.astype(np.int64), t.children_right.astype(np.int64)
        # the rows of each node: a numeric leaf's ancestors' quantiles, and the ancestors' cells
        paths = model.decision_path(x).tocsc() if categorical_levels is None or ruled else None
    node_counts = None
    if ruled:
        assert paths is not None
        # rows per node and cell (a categorical child's levels; a numeric child's present / missing)
        cells = y if categorical_levels is not None else np.isnan(y_num).astype(np.int64)
        onehot = np.zeros((cells.size, n_cells))
        onehot[np.arange(cells.size), cells] = 1.0
        node_counts = np.asarray(paths.T @ onehot).round().astype(np.int64)
    root_ref = None
    tree_off = False  # levels written off in the whole tree (their rows are behind no leaf's share)
    if node_counts is not None:
        off = written_off(node_counts[0])
        tree_off = bool(off.any())
        node_counts[:, off] = 0  # a rare rest of the whole tree: never drawn
        root_ref = root_shares(node_counts[0])
        if group is None:
            left, right = prune(left, right, node_counts)  # a grown tree passes already
    keep = np.sort(reachable(left, right))  # old node numbers in their order (all of them unless pruned)
    new_of = np.full(left.size, -1, dtype=np.int64)
    new_of[keep] = np.arange(keep.size)
    left = np.where(left[keep] >= 0, new_of[np.maximum(left[keep], 0)], -1)
    right = np.where(right[keep] >= 0, new_of[np.maximum(right[keep], 0)], -1)
    parent = np.full(keep.size, -1, dtype=np.int64)
    inner = np.flatnonzero(left >= 0)
    parent[left[inner]] = inner
    parent[right[inner]] = inner
    leaf_nodes = np.flatnonzero(left < 0)
    leaf_of_node = np.full(keep.size, -1, dtype=np.int64)
    leaf_of_node[leaf_nodes] = np.arange(leaf_nodes.size)
    if paths is None:  # exact leaves of sklearn's tree: its leaf of each row
        leaf_rows = new_of[model.apply(x)]
    else:
        leaf_rows = np.full(x.shape[0], -1, dtype=np.int64)
        for node in leaf_nodes:
            leaf_rows[paths[:, keep[node]].nonzero()[0]] = node
    counts_of = None if node_counts is None else node_counts[keep]
    leaves: list[dict[str, Any]] = []
    for node in leaf_nodes:
        rows = leaf_rows == node
        k = int(rows.sum())
        assert k >= min_leaf
        chain = []
        up = parent[node]
        while counts_of is not None and up >= 0:
            chain.append(counts_of[up])
            up = parent[up]
        shares = pools = None
        grid = None
        if counts_of is not None:  # the rule's leaves (root_ref is set with the counts)
            assert root_ref is not None
            cell_counts = counts_of[node]
            if group is not None and level_model:  # group shares; the level from the model
                member = np.eye(int(group.max()) + 1)[group]
                cell_counts = counts_of[node] @ member
                shares, pools = pruned_shares(cell_counts, [a @ member for a in chain], root_ref @ member)
            elif group is not None:  # grown on groups
                shares, pools = grouped_shares(counts_of[node], chain, root_ref, group)
            else:
                shares, pools = pruned_shares(cell_counts, chain, root_ref)
            if categorical_levels is not None:
                shares, grid = leaf_grid(shares, pools, k, cell_counts, tree_off)
        if categorical_levels is not None:
            if shares is None:
                shares, pools = np.bincount(y[rows], minlength=len(categorical_levels)) / k, []
            grid = band(k if grid is None else grid)  # (rows not written: `TreeConditional.to_json`)
            shares = on_grid(shares, grid, pools)
            leaf_c: dict[str, Any] = {"n": k, "probs": [round(float(p), 6) for p in shares], "share_grid": grid}
            if pools:
                leaf_c["pools"] = pools
            leaves.append(leaf_c)
        else:
            vals = y_num[rows]
            vals = vals[~np.isnan(vals)]
            vals_here = vals.size
            leaf: dict[str, Any] = {"n": k}  # (not written: `TreeConditional.to_json`)
            # quantiles only of at least PRIVACY_MIN values: a leaf with fewer present values takes
            # those of its nearest ancestor with enough (its rows' values, not the whole column's)
            up = node
            while vals.size < PRIVACY_MIN and parent[up] >= 0:
                up = parent[up]
                assert paths is not None
                anc = y_num[paths[:, keep[up]].nonzero()[0]]
                vals = anc[~np.isnan(anc)]
            q = np.quantile(vals, np.linspace(0, 1, LEAF_QUANTILES)) if vals.size >= PRIVACY_MIN else []
            leaf["q"] = [round(float(v), 6) for v in q]
            if len(q):
                leaf["q_n"] = int(vals.size)  # values behind the quantiles (>= PRIVACY_MIN; not written: to_json)
            if with_missing and shares is not None:
                leaf["missing"] = round(float(on_grid(shares, band(k), pools)[1]), 6)
                if pools:
                    leaf["pools"] = pools
            elif with_missing:
                leaf["missing"] = share_on_grid(1.0 - vals_here / k, k)
            leaves.append(leaf)
    feature = np.where(left < 0, -1, feature_all[keep]).astype(np.int64)
    return TreeConditional(
        child=str(child.name),
        predictors=names,
        feature=feature,
        threshold=np.where(left < 0, -2.0, threshold_all[keep]),
        left=left,
        right=right,
        nan_left=nan_all[keep],
        leaf_of_node=leaf_of_node,
        leaves=leaves,
        with_missing=with_missing,
        group=None if group is None else group.tolist(),
        level_model=None if group is None or not level_model or root_ref is None
        else fit_level_model(x, names, y, group, root_ref),
    )


def redraw(
    rng: np.random.Generator,
    tree: TreeConditional,
    x: np.ndarray,
    rows: np.ndarray,
    marginal: Marginal,
    copula_u: tuple[np.ndarray | None, np.ndarray | None] = (None, None),
) -> np.ndarray | None:
    """New values (numeric) or codes (categorical, into the marginal's levels) for ``rows``;
    ``copula_u``: a numeric child's copula uniforms of value and presence on these rows (or None)."""
    if rows.size == 0:
        return None
    leaf = tree.leaf(x, rows)
    if isinstance(marginal, CategoricalMarginal):
        return tree.sample_codes(rng, leaf, None if tree.level_model is None else x[rows])
    assert isinstance(marginal, NumericMarginal)
    u = tree.sample_u(rng, leaf, *copula_u)
    out = np.full(u.size, np.nan)
    ok = ~np.isnan(u)
    out[ok] = marginal.ppf(np.clip(u[ok], 0.0, 1.0))
    return out


def tree_key(child: str, target: str) -> str:
    """A tree's name in the fitted file: the column, or ``column|derived`` when it is drawn as a derived
    column (a column may have both, on different rows)."""
    return child if target == child else f"{child}|{target}"


def present(col: Any) -> np.ndarray:
    return col[0] >= 0 if isinstance(col, tuple) else ~np.isnan(np.asarray(col, dtype=float))


def sweep(
    rng: np.random.Generator,
    fitted: dict[str, Any],
    f: dict[str, Any],
    n: int,
    entries: list[tuple],
    marginal: Callable[[str], Marginal],
    back: Callable[[str, np.ndarray, np.ndarray], np.ndarray] | None,
    bound: Callable[[str, np.ndarray, np.ndarray], np.ndarray],
    copula_u: Callable[[str], tuple[np.ndarray | None, np.ndarray | None]] | None = None,
) -> None:
    """Redraw the ``entries`` ((column, rows function[, derived column or None[, with missing values]]))
    of the frame ``f`` in place,
    one after the other, each from its tree given the current values of all the others. ``marginal``:
    the fitted marginal of a column; ``back``: a derived value back to its column's value; ``bound``:
    a column's value kept within its structural limits (both on the redrawn ``rows``); ``copula_u``:
    a column's copula uniforms of value and presence (all rows, or None), re-ranked in each leaf."""
    enc: Encoder = fitted["encoder"]
    x = enc.transform(f, n, compact=True)
    names = enc.names
    for entry in entries:
        child, rows_fn = entry[0], entry[1]
        target = (entry[2] if len(entry) > 2 else None) or child
        tree = fitted["trees"].get(tree_key(child, target))
        if tree is None:
            continue
        rows = np.asarray(rows_fn(f), dtype=bool)
        rows = np.flatnonzero(rows if tree.with_missing else rows & present(f[child]))
        cu = copula_u(target) if copula_u is not None else (None, None)
        cu = tuple(None if a is None else a[rows] for a in cu)
        new = redraw(rng, tree, x, rows, marginal(target), cu)
        if new is None:
            continue
        if target != child:
            assert back is not None, f"{child}: drawn as {target}, no way back"
            new = back(target, new, rows)
        if isinstance(f[child], tuple):
            codes, levels = f[child]
            codes = codes.copy()
            codes[rows] = new
            f[child] = sub = (codes, levels)
        else:
            v = np.asarray(f[child], dtype=float).copy()
            v[rows] = bound(child, new, rows)
            f[child] = sub = v
        # keep the encoded matrix in step with the frame
        cols = [i for i, nm in enumerate(names) if nm == child or nm.startswith(child + "=")
                or nm == child + ":missing"]  # fmt: skip
        if cols:
            part = Encoder(
                {k: e for k, e in enc.numeric.items() if k == child},
                {k: lv for k, lv in enc.categorical.items() if k == child},
            )
            x[:, cols] = part.transform({child: sub}, n, compact=True)


def to_frame(df: pd.DataFrame, categorical: dict[str, list[str]]) -> dict[str, Any]:
    """Real rows in the generator's frame form (categorical columns as codes into ``levels``)."""
    out: dict[str, Any] = {}
    for c in df.columns:
        if c in categorical:
            index = {lv: i for i, lv in enumerate(categorical[c])}
            codes = df[c].astype(object).map(index).fillna(-1).to_numpy(np.int64)
            out[c] = (codes, categorical[c])
        else:
            out[c] = pd.to_numeric(df[c], errors="coerce").to_numpy(float)
    return out


def fit_gibbs(
    df: pd.DataFrame,
    children: list[tuple[str, Any]],
    numeric: list[str],
    categorical: dict[str, list[str]],
    min_leaf: int,
    leaf_rule: str = "exact",
) -> dict[str, Any]:
    """Trees for ``children`` ((column, rows function of the frame[, derived column drawn instead of the
    column itself, e.g. a ratio])), each given all the other
    ``numeric`` and ``categorical`` columns (``categorical``: column -> the marginal's levels).
    ``leaf_rule``: see `fit_tree` (recorded in the result unless ``"exact"``)."""
    frame = to_frame(df[[*numeric, *categorical]], categorical)
    enc = Encoder.fit(df, numeric, list(categorical))
    x = enc.transform(frame, len(df))
    names = enc.names
    trees = {}
    for entry in children:
        child, target, with_missing, keep, xs = _tree_rows(entry, df, frame, enc, x, categorical)
        if target in categorical:
            tree = fit_tree(
                xs[keep],
                names,
                df.loc[keep, target],
                categorical[target],
                min_leaf,
                with_missing=with_missing,
                leaf_rule=leaf_rule,
                n_groups=LEVEL_GROUPS.get(child, int(has_level_model(child))) if target == child else 0,
                level_model=has_level_model(child) and target == child,
            )
        else:
            v = pd.to_numeric(df[target], errors="coerce").to_numpy(float)
            u = np.full(v.size, np.nan)
            u[~np.isnan(v)] = uniform_ranks(v[~np.isnan(v)])
            tree = fit_tree(xs[keep], names, df.loc[keep, target], None, min_leaf, u[keep], with_missing, leaf_rule)
        trees[tree_key(child, target)] = tree.to_json()
    out = {"encoder": enc.to_json(), "trees": trees}
    return {**out, "leaf_rule": leaf_rule} if leaf_rule != "exact" else out


def _tree_rows(
    entry: tuple, df: pd.DataFrame, frame: dict[str, Any], enc: Encoder, x: np.ndarray, categorical: dict[str, list[str]]
) -> tuple[str, str, bool, np.ndarray, np.ndarray]:
    """A `fit_gibbs` entry's child, target column, whether its missing values are drawn too, the rows its tree is
    fitted on (mask) and the encoded predictors with the child's own columns blanked (a child never predicts
    itself)."""
    child, rows_fn = entry[0], entry[1]
    target = (entry[2] if len(entry) > 2 else None) or child  # a derived column for the child
    with_missing = len(entry) > 3 and bool(entry[3])
    keep = np.asarray(rows_fn(frame), dtype=bool)
    own = [i for i, nm in enumerate(enc.names) if nm == child or nm.startswith(child + "=") or nm == child + ":missing"]
    xs = x.copy()
    xs[:, own] = np.nan if child in enc.numeric else 0.0
    if not with_missing and target in categorical:
        keep &= df[target].notna().to_numpy()
    elif not with_missing:
        keep &= df[child].notna().to_numpy() & pd.to_numeric(df[target], errors="coerce").notna().to_numpy()
    return child, target, with_missing, keep, xs


def leaf_sizes(df: pd.DataFrame, children: list[tuple[str, Any]], numeric: list[str],
               categorical: dict[str, list[str]], fitted: dict[str, Any]) -> dict[str, list[int]]:
    """The rows of every leaf of the trees ``fitted`` by `fit_gibbs` on ``df`` (same arguments): tree -> rows per
    leaf, by routing the rows down the stored trees. Never written (stop 31: with the trees' shapes, two nodes'
    exact counts, one inside the other, told the rows between them): for checking a fitted file against the real
    rows."""
    frame = to_frame(df[[*numeric, *categorical]], categorical)
    enc = Encoder.from_json(fitted["encoder"])
    x = enc.transform(frame, len(df))
    out = {}
    for entry in children:
        child, target, _, keep, xs = _tree_rows(entry, df, frame, enc, x, categorical)
        tree = TreeConditional.from_json(fitted["trees"][tree_key(child, target)])
        out[tree_key(child, target)] = np.bincount(tree.leaf(xs[keep]), minlength=len(tree.leaves)).tolist()
    return out


__all__ = ["Cat", "Encoder", "TreeConditional", "fit_gibbs", "fit_tree", "redraw", "sweep", "to_frame"]
