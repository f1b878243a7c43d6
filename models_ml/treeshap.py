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
SCALE=1 model (358 trees of depth 4, ~480 features) XGBoost's own TreeSHAP takes ~0.55 ms per row; this
~0.05 ms (bench/bench_api.py, explanation p99 at 16 concurrent is issue 16's goal 3).

The values are XGBoost's ``pred_contribs`` up to rounding: XGBoost accumulates in float32, the tables in
float64 (tests/models_ml/test_treeshap.py compares them on the trained models). Splits follow XGBoost's
prediction: the value in float32 ``< threshold`` goes left, missing takes the default branch, a categorical
split sends its listed categories right and any other (or an invalid) category left. Only models whose
paths have at most ``MAX_PATH_FEATURES`` distinct features are tabled (``2^d`` entries per leaf and feature);
deeper ones keep the library's TreeSHAP.
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


MAX_PATH_FEATURES = 6   # 64 patterns per leaf: depth-6 trees at most (the family's sizes are 2 to 5)
MAX_TABLE = 20_000_000  # table entries (float64, 160 MB): larger ensembles keep the library's TreeSHAP


@dataclass(frozen=True)
class ShapTable:
    """The tabled TreeSHAP of one ensemble: `contributions(M)` gives the library's ``pred_contribs`` layout
    (rows x (features + 1), the last column the bias: the mean output)."""

    n_features: int
    bias: float
    # split nodes (all trees)
    node_feature: np.ndarray      # int64
    node_threshold: np.ndarray    # float32
    node_default_left: np.ndarray  # bool
    node_cat_start: np.ndarray    # int64, -1 for a numeric split; categories in cat_values[start:end]
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
        _contributions(X, out, self.node_feature, self.node_threshold, self.node_default_left, self.node_cat_start,
                       self.node_cat_end, self.cat_values, self.leaf_pair_start, self.leaf_table_start,
                       self.pair_feature, self.pair_edge_start, self.edge_node, self.edge_left, self.table)
        out[:, -1] = self.bias
        return out


def from_xgboost_json(model: dict[str, Any], n_rounds: int | None, n_features: int, bias: float) -> ShapTable | None:
    """The table of an XGBoost binary model (``json.loads(booster.save_raw("json"))``), its first ``n_rounds``
    trees; ``bias`` is the library's bias column (base margin + the trees' mean outputs). None when the model
    is not a single-output gbtree or its paths are too long to table."""
    learner = model["learner"]
    booster = learner["gradient_booster"]
    if booster.get("name") != "gbtree" or int(float(learner["learner_model_param"].get("num_class", "0"))) > 1:
        return None
    trees = booster["model"]["trees"]
    per_round = int(booster["model"]["gbtree_model_param"].get("num_parallel_tree", "1"))
    if n_rounds:
        trees = trees[: n_rounds * per_round]
    nodes: dict[str, list[Any]] = {k: [] for k in ("feature", "threshold", "default_left", "cat_start", "cat_end")}
    cat_values: list[int] = []
    leaves: list[tuple[float, list[tuple[int, float, list[tuple[int, bool]]]]]] = []
    for tree in trees:
        left, right = tree["left_children"], tree["right_children"]
        cats = {int(n): (int(s), int(z)) for n, s, z in zip(tree["categories_nodes"], tree["categories_segments"],
                                                             tree["categories_sizes"], strict=True)}
        cat_list = tree["categories"]
        index: dict[int, int] = {}  # split node -> position in the node arrays (leaves are not kept)
        for nid in range(len(left)):
            if left[nid] == -1:
                continue
            index[nid] = len(nodes["feature"])
            nodes["feature"].append(int(tree["split_indices"][nid]))
            nodes["threshold"].append(float(tree["split_conditions"][nid]))
            nodes["default_left"].append(bool(tree["default_left"][nid]))
            if int(tree["split_type"][nid]) == 1:
                start, size = cats.get(nid, (0, 0))
                nodes["cat_start"].append(len(cat_values))
                cat_values.extend(int(c) for c in cat_list[start : start + size])
                nodes["cat_end"].append(len(cat_values))
            else:
                nodes["cat_start"].append(-1)
                nodes["cat_end"].append(-1)
        cover = tree["sum_hessian"]
        # depth-first walk: (node, path as [(node, goes left, zero fraction)])
        stack: list[tuple[int, list[tuple[int, bool, float]]]] = [(0, [])]
        while stack:
            nid, path = stack.pop()
            if left[nid] == -1:
                if path:
                    leaves.append((float(tree["split_conditions"][nid]), _pairs(path, tree["split_indices"], index)))
                continue
            parent = float(cover[nid])
            for child, goes_left in ((left[nid], True), (right[nid], False)):
                share = float(cover[child]) / parent if parent > 0 else 0.0
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
        node_feature=np.array(nodes["feature"], dtype=i64),
        node_threshold=np.array(nodes["threshold"], dtype=np.float32),
        node_default_left=np.array(nodes["default_left"], dtype=bool),
        node_cat_start=np.array(nodes["cat_start"], dtype=i64), node_cat_end=np.array(nodes["cat_end"], dtype=i64),
        cat_values=np.array(cat_values, dtype=i64),
        leaf_pair_start=leaf_pair_start_a, leaf_table_start=leaf_table_start_a,
        pair_feature=np.array(pair_feature, dtype=i64), pair_edge_start=np.array(pair_edge_start, dtype=i64),
        edge_node=np.array(edge_node, dtype=i64), edge_left=np.array(edge_left, dtype=bool), table=table,
    )


def _pairs(path: list[tuple[int, bool, float]], split_indices: list[int],
           index: dict[int, int]) -> list[tuple[int, float, list[tuple[int, bool]]]]:
    """A path's distinct features in order of first split: (feature, zero fraction, [(node, goes left)])."""
    by_feature: dict[int, tuple[float, list[tuple[int, bool]]]] = {}
    for nid, goes_left, share in path:
        feature = int(split_indices[nid])
        zero, edges = by_feature.get(feature, (1.0, []))
        by_feature[feature] = (zero * share, [*edges, (index[nid], goes_left)])
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
    for leaf in range(len(leaf_table_start)):
        first = leaf_pair_start[leaf]
        d = leaf_pair_start[leaf + 1] - first
        v = leaf_value[leaf]
        for mask in range(1 << d):
            for i in range(d):
                z_i = pair_zero[first + i]
                o_i = (mask >> i) & 1
                rest = mask & ~(1 << i)
                total = 0.0
                subset = rest
                while True:  # every subset S of `rest`, `rest` itself first, the empty set last
                    prod = 1.0
                    size = 0
                    for j in range(d):
                        if j == i:
                            continue
                        if (subset >> j) & 1:
                            size += 1
                        else:
                            prod *= pair_zero[first + j]
                    total += weights[size, d] * prod
                    if subset == 0:
                        break
                    subset = (subset - 1) & rest
                table[leaf_table_start[leaf] + mask * d + i] = v * (o_i - z_i) * total


@_compiled(nogil=True)
def _contributions(X, out, node_feature, node_threshold, node_default_left, node_cat_start, node_cat_end,
                   cat_values, leaf_pair_start, leaf_table_start, pair_feature, pair_edge_start, edge_node,
                   edge_left, table):  # pragma: no cover - compiled; tested against the library's values
    n_rows = X.shape[0]
    n_nodes = len(node_feature)
    goes_left = np.empty((n_nodes, n_rows), dtype=np.bool_)
    for node in range(n_nodes):
        feature = node_feature[node]
        for r in range(n_rows):
            x = X[r, feature]
            if node_cat_start[node] >= 0:
                listed = False
                if x >= 0:
                    code = np.int64(x)
                    for k in range(node_cat_start[node], node_cat_end[node]):
                        listed |= cat_values[k] == code
                goes_left[node, r] = node_default_left[node] if np.isnan(x) else not listed
            else:  # branch-free: the outcomes are as good as random
                goes_left[node, r] = (np.float32(x) < node_threshold[node]) | (np.isnan(x) & node_default_left[node])
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
