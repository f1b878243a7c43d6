"""Exact TreeSHAP of a boosted tree ensemble from tables computed once per model ("Fast TreeSHAP v2",
Yang 2021, arXiv:2109.09847).

TreeSHAP's contribution of one leaf to the features of its path depends on the row only through which of
those features the row "follows" (every split of that feature on the path sends the row the path's way): with
``v`` the leaf's value, ``F`` the path's distinct features (``d`` of them), ``z_i`` the share of the training
cover that follows feature ``i``'s splits (the product of child / parent covers) and ``o_i`` 1 when the row
follows them, 0 otherwise, the leaf gives feature ``i``

    v (o_i - z_i) sum over S subset of F - {i} with o_S = 1 of |S|! (d - |S| - 1)! / d! prod_{j in F - S - {i}} z_j

(the Shapley value of ``S -> v prod_{j in S} o_j prod_{j not in S} z_j``; a feature met twice on a path is one
feature whose ``z`` and ``o`` are the products over its splits, as TreeSHAP's path unwinding makes them). That
is a function of the ``2^d`` patterns of ``o``: tabled per leaf once, a row then costs one pass over the
splits and one table look-up per (leaf, feature) instead of TreeSHAP's O(d^2) path arithmetic per leaf. On the
SCALE=1 model (358 trees of depth 4, ~480 features) XGBoost's own TreeSHAP takes ~0.55 ms per row in batches of 8;
this ~0.11 ms (bench/bench_api.py: the explanation p99 at 16 concurrent is issue 16's goal 3); a LightGBM model of
15-leaf trees, 5.3 against 1.4 ms for 8 rows.

The values are XGBoost's ``pred_contribs`` up to its float32 rounding and LightGBM's ``pred_contrib`` to ~1e-15
(tests/models_ml/test_treeshap.py compares them on trained models). Splits follow each library's prediction
(`from_xgboost_json`, `from_lightgbm_dump`). Only models whose paths have at most ``MAX_PATH_FEATURES`` distinct
features, and whose tables fit in ``MAX_TABLE`` entries, are tabled (``2^d`` entries per leaf and feature); the
others keep the library's TreeSHAP.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numba import njit


def _compiled(**options: Any) -> Any:
    """``numba.njit`` with the machine code cached on disk (beside this file, else in the user's cache or
    NUMBA_CACHE_DIR): compiling both kernels takes ~1.5 s. Where no location is writable numba refuses
    ``cache=True``; the kernels are then compiled once per process."""
    def wrap(function: Any) -> Any:
        try:
            return njit(cache=True, **options)(function)
        except RuntimeError:
            return njit(**options)(function)
    return wrap


MAX_PATH_FEATURES = 12  # 4,096 patterns per leaf (LightGBM's 15-leaf trees reach 11 distinct features)
MAX_TABLE = 20_000_000  # table entries (float64, 160 MB): larger ensembles keep the library's TreeSHAP


# how a split node decides (node_kind)
XGB_NUMERIC, CATEGORICAL, LGB_NUMERIC = 0, 1, 2
# LightGBM's missing types (node_missing)
MISSING_NONE, MISSING_ZERO, MISSING_NAN = 0, 1, 2


@dataclass(frozen=True)
class ShapTable:
    """The tabled TreeSHAP of one ensemble: `contributions(M)` gives the library's contributions layout
    (rows x (features + 1), the last column the bias: the mean output)."""

    n_features: int
    bias: float
    # split nodes (all trees)
    node_feature: np.ndarray      # int64
    node_kind: np.ndarray         # int64: XGB_NUMERIC, CATEGORICAL, LGB_NUMERIC
    node_threshold: np.ndarray    # float64 (an XGBoost threshold is a float32 value)
    node_default_left: np.ndarray  # bool: where a missing value goes
    node_missing: np.ndarray      # int64: LightGBM's missing type of a numeric split
    node_listed_left: np.ndarray  # bool: a categorical split sends its listed categories left (else right)
    node_cat_start: np.ndarray    # int64: its categories are cat_values[start:end]
    node_cat_end: np.ndarray
    cat_values: np.ndarray        # int64
    # leaves with a path, their (leaf, feature) pairs and the pairs' splits
    leaf_pair_start: np.ndarray   # int64, len leaves + 1
    leaf_table_start: np.ndarray  # int64
    pair_feature: np.ndarray      # int64
    pair_edge_start: np.ndarray   # int64, len pairs + 1
    edge_node: np.ndarray         # int64: index into the node arrays
    edge_left: np.ndarray         # bool: the path goes to the left child
    table: np.ndarray             # float64

    def contributions(self, M: np.ndarray) -> np.ndarray:
        X = np.ascontiguousarray(M, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(f"expected a matrix of {self.n_features} feature columns, got shape {X.shape}")
        out = np.zeros((X.shape[0], self.n_features + 1), dtype=np.float64)
        _contributions(X, out, self.node_feature, self.node_kind, self.node_threshold, self.node_default_left,
                       self.node_missing, self.node_listed_left, self.node_cat_start, self.node_cat_end,
                       self.cat_values, self.leaf_pair_start, self.leaf_table_start, self.pair_feature,
                       self.pair_edge_start, self.edge_node, self.edge_left, self.table)
        out[:, -1] = self.bias
        return out


@dataclass
class _Split:
    feature: int
    kind: int
    threshold: float
    default_left: bool
    missing: int = MISSING_NONE
    listed_left: bool = False
    categories: tuple[int, ...] = ()


@dataclass
class _Node:
    """A node of a tree in one form for both libraries: a split with its children, or a leaf's value;
    ``cover`` is what TreeSHAP weighs the children by (XGBoost: the hessian sum, LightGBM: the row count)."""

    cover: float
    split: _Split | None = None
    left: int = -1
    right: int = -1
    value: float = 0.0


def from_xgboost_json(model: dict[str, Any], n_rounds: int | None, n_features: int, bias: float) -> ShapTable | None:
    """The table of an XGBoost binary model (``json.loads(booster.save_raw("json"))``), its first ``n_rounds``
    trees; ``bias`` is the library's bias column (base margin + the trees' mean outputs). None when the model
    is not a single-output gbtree or its paths are too long to table. Splits as XGBoost predicts: the value in
    float32 ``< threshold`` goes left, a missing one the default way, a categorical split sends its listed
    categories right and others (or an invalid code) left."""
    learner = model["learner"]
    booster = learner["gradient_booster"]
    params = learner["learner_model_param"]
    if (booster.get("name") != "gbtree" or int(float(params.get("num_class", "0"))) > 1
            or int(float(params.get("num_target", "1"))) > 1):
        return None  # dart, several classes or targets: the library's TreeSHAP
    trees = booster["model"]["trees"]
    if any(int(t["tree_param"].get("size_leaf_vector", "1")) > 1 for t in trees):
        return None  # vector leaves
    per_round = int(booster["model"]["gbtree_model_param"].get("num_parallel_tree", "1"))
    if n_rounds:
        trees = trees[: n_rounds * per_round]
    forest = []
    for tree in trees:
        left, right = tree["left_children"], tree["right_children"]
        cats = {int(n): (int(s), int(z)) for n, s, z in zip(tree["categories_nodes"], tree["categories_segments"],
                                                             tree["categories_sizes"], strict=True)}
        nodes = []
        for nid in range(len(left)):
            node = _Node(cover=float(tree["sum_hessian"][nid]), left=int(left[nid]), right=int(right[nid]),
                         value=float(tree["split_conditions"][nid]))
            if left[nid] != -1:
                categorical = int(tree["split_type"][nid]) == 1
                start, size = cats.get(nid, (0, 0))
                node.split = _Split(
                    feature=int(tree["split_indices"][nid]), kind=CATEGORICAL if categorical else XGB_NUMERIC,
                    # the JSON's shortest decimal of the float32 threshold: back to that float32 exactly
                    threshold=float(np.float32(tree["split_conditions"][nid])),
                    default_left=bool(tree["default_left"][nid]),
                    categories=tuple(int(c) for c in tree["categories"][start : start + size]) if categorical else ())
            nodes.append(node)
        forest.append(nodes)
    return _build(forest, n_features, bias)


def from_lightgbm_dump(model: dict[str, Any], n_rounds: int | None, n_features: int, bias: float) -> ShapTable | None:
    """The table of a LightGBM binary model (``booster.dump_model()``), its first ``n_rounds`` trees. Splits as
    LightGBM predicts: ``value <= threshold`` goes left in float64; a missing value is 0 unless the split's missing
    type is NaN, and goes the default way when that type is NaN (a missing value) or Zero (a zero); a categorical
    split sends its listed categories left, others, negative codes and missing values right."""
    if int(model.get("num_class", 1)) > 1 or int(model.get("num_tree_per_iteration", 1)) > 1:
        return None
    trees = model["tree_info"]
    if n_rounds:
        trees = trees[:n_rounds]
    missing_types = {"None": MISSING_NONE, "Zero": MISSING_ZERO, "NaN": MISSING_NAN}
    forest = []
    for info in trees:
        nodes: list[_Node] = []

        def add(entry: dict[str, Any], nodes: list[_Node] = nodes) -> int:
            at = len(nodes)
            if "leaf_coeff" in entry:  # a linear tree: its leaves are not constants
                raise _NotTabled
            if "leaf_value" in entry:
                nodes.append(_Node(cover=float(entry.get("leaf_count", 0)), value=float(entry["leaf_value"])))
                return at
            node = _Node(cover=float(entry["internal_count"]))
            nodes.append(node)
            categorical = entry["decision_type"] == "=="
            node.split = _Split(
                feature=int(entry["split_feature"]), kind=CATEGORICAL if categorical else LGB_NUMERIC,
                # a missing category goes right whatever the flag says (LightGBM's CategoricalDecision)
                threshold=0.0 if categorical else float(entry["threshold"]),
                default_left=bool(entry["default_left"]) and not categorical,
                missing=missing_types[entry["missing_type"]], listed_left=True,
                categories=tuple(int(c) for c in str(entry["threshold"]).split("||")) if categorical else ())
            node.left = add(entry["left_child"])
            node.right = add(entry["right_child"])
            return at

        try:
            add(info["tree_structure"])
        except _NotTabled:
            return None
        forest.append(nodes)
    return _build(forest, n_features, bias)


class _NotTabled(Exception):
    """A tree the tables cannot represent (the library's TreeSHAP is used)."""


def _build(forest: list[list[_Node]], n_features: int, bias: float) -> ShapTable | None:
    nodes: dict[str, list[Any]] = {k: [] for k in ("feature", "kind", "threshold", "default_left", "missing",
                                                   "listed_left", "cat_start", "cat_end")}
    cat_values: list[int] = []
    leaves: list[tuple[float, list[tuple[int, float, list[tuple[int, bool]]]]]] = []
    for tree in forest:
        index: dict[int, int] = {}  # split node -> position in the node arrays (leaves are not kept)
        for nid, node in enumerate(tree):
            split = node.split
            if split is None:
                continue
            index[nid] = len(nodes["feature"])
            for key in ("feature", "kind", "threshold", "default_left", "missing", "listed_left"):
                nodes[key].append(getattr(split, key))
            nodes["cat_start"].append(len(cat_values))
            cat_values.extend(split.categories)
            nodes["cat_end"].append(len(cat_values))
        # depth-first walk: (node, path as [(node, goes left, zero fraction)])
        stack: list[tuple[int, list[tuple[int, bool, float]]]] = [(0, [])]
        while stack:
            nid, path = stack.pop()
            node = tree[nid]
            if node.split is None:
                if path:
                    leaves.append((node.value, _pairs(path, tree, index)))
                continue
            for child, goes_left in ((node.left, True), (node.right, False)):
                share = tree[child].cover / node.cover if node.cover > 0 else 0.0
                stack.append((child, [*path, (nid, goes_left, share)]))
    widths = [len(pairs) for _, pairs in leaves]
    if widths and max(widths) > MAX_PATH_FEATURES:
        return None
    if sum((1 << d) * d for d in widths) > MAX_TABLE:
        return None
    leaf_pair_start, leaf_table_start, pair_feature, pair_zero, pair_edge_start = [0], [], [], [], [0]
    edge_node, edge_left, values = [], [], []
    table_size = 0
    for value, pairs in leaves:
        leaf_table_start.append(table_size)
        table_size += (1 << len(pairs)) * len(pairs)
        values.append(value)
        for feature, zero, edges in pairs:
            pair_feature.append(feature)
            pair_zero.append(zero)
            for node, goes_left in edges:
                edge_node.append(node)
                edge_left.append(goes_left)
            pair_edge_start.append(len(edge_node))
        leaf_pair_start.append(len(pair_feature))
    i64 = np.int64
    leaf_pair_start_a = np.array(leaf_pair_start, dtype=i64)
    leaf_table_start_a = np.array(leaf_table_start, dtype=i64)
    table = np.zeros(table_size, dtype=np.float64)
    _fill_tables(table, leaf_pair_start_a, leaf_table_start_a, np.array(pair_zero, dtype=np.float64),
                 np.array(values, dtype=np.float64), _shapley_weights(MAX_PATH_FEATURES))
    return ShapTable(
        n_features=n_features, bias=float(bias),
        node_feature=np.array(nodes["feature"], dtype=i64), node_kind=np.array(nodes["kind"], dtype=i64),
        node_threshold=np.array(nodes["threshold"], dtype=np.float64),
        node_default_left=np.array(nodes["default_left"], dtype=bool),
        node_missing=np.array(nodes["missing"], dtype=i64),
        node_listed_left=np.array(nodes["listed_left"], dtype=bool),
        node_cat_start=np.array(nodes["cat_start"], dtype=i64), node_cat_end=np.array(nodes["cat_end"], dtype=i64),
        cat_values=np.array(cat_values, dtype=i64),
        leaf_pair_start=leaf_pair_start_a, leaf_table_start=leaf_table_start_a,
        pair_feature=np.array(pair_feature, dtype=i64), pair_edge_start=np.array(pair_edge_start, dtype=i64),
        edge_node=np.array(edge_node, dtype=i64), edge_left=np.array(edge_left, dtype=bool), table=table,
    )


def _pairs(path: list[tuple[int, bool, float]], tree: list[_Node],
           index: dict[int, int]) -> list[tuple[int, float, list[tuple[int, bool]]]]:
    """A path's distinct features in order of first split: (feature, zero fraction, [(node, goes left)])."""
    by_feature: dict[int, tuple[float, list[tuple[int, bool]]]] = {}
    for nid, goes_left, share in path:
        split = tree[nid].split
        assert split is not None
        zero, edges = by_feature.get(split.feature, (1.0, []))
        by_feature[split.feature] = (zero * share, [*edges, (index[nid], goes_left)])
    return [(f, zero, edges) for f, (zero, edges) in by_feature.items()]


def _shapley_weights(d_max: int) -> np.ndarray:
    """w[s, d] = s! (d - s - 1)! / d!: the weight of a coalition of s of the other d - 1 features."""
    w = np.zeros((d_max + 1, d_max + 1))
    for d in range(1, d_max + 1):
        for s in range(d):
            w[s, d] = math.factorial(s) * math.factorial(d - s - 1) / math.factorial(d)
    return w


@_compiled()
def _fill_tables(table, leaf_pair_start, leaf_table_start, pair_zero, leaf_value, weights):  # pragma: no cover
    """table[leaf, mask, i] = v (o_i - z_i) sum_{S subset A} w(|S|, d) prod_{j in F - S - {i}} z_j with A the
    followed features but i: the product splits into the features not followed (all in it) and those of A - S,
    so the sum is sum_t w(|A| - t, d) e_t(z_A), e_t the elementary symmetric sums of A's zero fractions:
    O(d^2) per entry instead of a walk over the 2^|A| subsets."""
    e = np.zeros(weights.shape[0] + 1)
    for leaf in range(len(leaf_table_start)):
        first = leaf_pair_start[leaf]
        d = leaf_pair_start[leaf + 1] - first
        v = leaf_value[leaf]
        for mask in range(1 << d):
            for i in range(d):
                z_i = pair_zero[first + i]
                o_i = (mask >> i) & 1
                outside = 1.0
                e[:] = 0.0
                e[0] = 1.0
                size = 0
                for j in range(d):
                    if j == i:
                        continue
                    z_j = pair_zero[first + j]
                    if (mask >> j) & 1:
                        size += 1
                        for t in range(size, 0, -1):
                            e[t] += e[t - 1] * z_j
                    else:
                        outside *= z_j
                total = 0.0
                for t in range(size + 1):
                    total += weights[size - t, d] * e[t]
                table[leaf_table_start[leaf] + mask * d + i] = v * (o_i - z_i) * outside * total


@_compiled(nogil=True)
def _contributions(X, out, node_feature, node_kind, node_threshold, node_default_left, node_missing, node_listed_left,
                   node_cat_start, node_cat_end, cat_values, leaf_pair_start, leaf_table_start, pair_feature,
                   pair_edge_start, edge_node, edge_left, table):  # pragma: no cover - compiled; tested against the libraries
    n_rows = X.shape[0]
    n_nodes = len(node_feature)
    goes_left = np.empty((n_nodes, n_rows), dtype=np.bool_)
    for node in range(n_nodes):
        feature = node_feature[node]
        kind = node_kind[node]
        for r in range(n_rows):
            x = X[r, feature]
            if kind == 0:  # XGBoost, branch-free: the outcomes are as good as random
                goes_left[node, r] = (np.float32(x) < node_threshold[node]) | (np.isnan(x) & node_default_left[node])
            elif kind == 2:  # LightGBM
                missing = node_missing[node]
                if np.isnan(x) and missing != 2:
                    x = 0.0
                if (missing == 1 and abs(x) <= 1e-35) or (missing == 2 and np.isnan(x)):
                    goes_left[node, r] = node_default_left[node]
                else:
                    goes_left[node, r] = x <= node_threshold[node]
            else:  # categorical
                if np.isnan(x):
                    goes_left[node, r] = node_default_left[node]
                    continue
                listed = False
                if x >= 0:
                    code = np.int64(x)
                    for k in range(node_cat_start[node], node_cat_end[node]):
                        listed |= cat_values[k] == code
                goes_left[node, r] = listed == node_listed_left[node]
    masks = np.empty(n_rows, dtype=np.int64)
    for leaf in range(len(leaf_table_start)):  # a leaf's table is read for every row at once
        first = leaf_pair_start[leaf]
        d = leaf_pair_start[leaf + 1] - first
        masks[:] = 0
        for i in range(d):
            for r in range(n_rows):
                follows = 1
                for e in range(pair_edge_start[first + i], pair_edge_start[first + i + 1]):
                    follows &= goes_left[edge_node[e], r] == edge_left[e]
                masks[r] |= follows << i
        for r in range(n_rows):
            base = leaf_table_start[leaf] + masks[r] * d
            for i in range(d):
                out[r, pair_feature[first + i]] += table[base + i]
