"""A decision tree grown under the privacy rule of a leaf's cells (synthetic.gibbs ``leaf_rule="grown"``).

sklearn's trees split wherever the impurity falls; a leaf of 60 rows with 45 / 15 (a flag, a numeric
column present / missing) then stores a share that stands for 15 rows. Here a split is taken only when
both children pass a rule on their cells (levels of a categorical child; present / missing of a numeric
one; `synthetic.gibbs.cells_ok`): every leaf then stores its exact shares and no statistic of fewer than
PRIVACY_MIN rows -- the tree's shape obeys the rule instead of its leaves being pooled afterwards.

The criterion is sklearn's (best first, up to ``max_leaves``; Gini for a categorical child = squared
error of its one-hot levels; squared error of the outputs for a numeric one), on the encoded predictors
of `synthetic.gibbs.Encoder` (bin numbers, 0/1 flags, -1 missing). A split at bin ``t`` sends the values
up to ``t`` left, missing values left or right (``nan_left``), as `TreeConditional.leaf` routes them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import sparse

N_VALUES = 26  # encoded values -1 (missing) .. 24, shifted by one


@dataclass
class Grown:
    """A grown tree as parallel node arrays (node 0 the root; -1 children for a leaf) and the rows of
    every node (n x nodes, sparse 0/1), as sklearn's ``decision_path``."""

    feature: np.ndarray
    threshold: np.ndarray
    nan_left: np.ndarray
    left: np.ndarray
    right: np.ndarray
    paths: sparse.csc_matrix


def _best_split(
    m: sparse.csr_matrix,
    w: np.ndarray,
    idx: np.ndarray,
    min_leaf: int,
    cells: Callable[[np.ndarray], np.ndarray],
    ok: Callable[[np.ndarray], np.ndarray],
) -> tuple[float, int, int, bool]:
    """(gain, feature, bin, missing left) of the best allowed split of the rows ``idx``; gain -1 when none."""
    p = m.shape[1] // N_VALUES
    h = np.asarray(m[idx].T @ w[idx]).reshape(p, N_VALUES, w.shape[1])
    total = w[idx].sum(axis=0)
    best = (-1.0, -1, -1, False)
    parent = float((total[1:] ** 2).sum() / total[0])
    for nan_left in (True, False):
        cum = np.cumsum(h if nan_left else h[:, 1:, :], axis=1)
        if not nan_left:
            cum = np.concatenate([np.zeros((p, 1, w.shape[1])), cum], axis=1)  # align: index = shifted value
        cum = cum[:, 1:, :]  # left = values up to bin t (shifted index t + 1 >= 1)
        nl = cum[..., 0]
        nr = total[0] - nl
        valid = (nl >= min_leaf) & (nr >= min_leaf)
        if not valid.any():
            continue
        valid &= ok(cells(cum)) & ok(cells(total - cum))
        if not valid.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            score = (cum[..., 1:] ** 2).sum(-1) / nl + ((total[1:] - cum[..., 1:]) ** 2).sum(-1) / nr
        score = np.where(valid, score - parent, -np.inf)
        j, t = np.unravel_index(int(np.argmax(score)), score.shape)
        if score[j, t] > best[0] + 1e-9:
            best = (float(score[j, t]), int(j), int(t), nan_left)
    return best


def grow(
    x: np.ndarray,
    w: np.ndarray,
    cells: Callable[[np.ndarray], np.ndarray],
    ok: Callable[[np.ndarray], np.ndarray],
    min_leaf: int,
    max_leaves: int,
) -> Grown:
    """Best-first tree on ``x`` (n x p encoded predictors, int8 with -1 missing, or float with NaN) and
    ``w`` (n x 1+K: a column of ones, then the K outputs whose squared error is minimised); a split is
    allowed when both children have ``min_leaf`` rows and ``ok(cells(sums))`` (``sums``: the children's
    column sums of ``w``, any leading shape; ``cells`` turns them into cell counts, ``ok`` into a bool)."""
    if x.dtype != np.int8:
        x = np.where(np.isnan(x), -1, x).astype(np.int8)
    n, p = x.shape
    cols = (np.arange(p) * N_VALUES + x.astype(np.int64) + 1).ravel()
    m = sparse.csr_matrix((np.ones(n * p), (np.repeat(np.arange(n), p), cols)), shape=(n, p * N_VALUES))
    w = np.asarray(w, dtype=float)
    feature, threshold, nan_left, left, right, rows = [-1], [-2.0], [False], [-1], [-1], [np.arange(n)]
    heap: list[tuple[float, int, int, int, bool]] = []

    def push(node: int) -> None:
        gain, j, t, nl = _best_split(m, w, rows[node], min_leaf, cells, ok)
        if gain > 1e-9:
            heapq.heappush(heap, (-gain, node, j, t, nl))

    push(0)
    leaves = 1
    while heap and leaves < max_leaves:
        _, node, j, t, nl = heapq.heappop(heap)
        v = x[rows[node], j]
        go = (v <= t) & ((v >= 0) | nl)
        feature[node], threshold[node], nan_left[node] = j, t + 0.5, nl
        for side, keep in (("l", go), ("r", ~go)):
            k = len(feature)
            feature.append(-1), threshold.append(-2.0), nan_left.append(False), left.append(-1), right.append(-1)
            rows.append(rows[node][keep])
            if side == "l":
                left[node] = k
            else:
                right[node] = k
            push(k)
        leaves += 1
    counts = np.array([r.size for r in rows])
    paths = sparse.csc_matrix(
        (np.ones(counts.sum()), (np.concatenate(rows), np.repeat(np.arange(len(rows)), counts))),
        shape=(n, len(rows)),
    )
    return Grown(
        np.asarray(feature, dtype=np.int64),
        np.asarray(threshold, dtype=float),
        np.asarray(nan_left, dtype=bool),
        np.asarray(left, dtype=np.int64),
        np.asarray(right, dtype=np.int64),
        paths,
    )
