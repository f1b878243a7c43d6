"""A many-level column's level given the other columns: a penalised softmax fitted on all the real rows.

Under the leaf privacy rule (``synthetic.gibbs`` ``leaf_rule="grown"``) a tree leaf of 50-190 rows holds
no level cell of 50 rows for a column of 58 levels (``ORGANIZATION_TYPE``): per-leaf level shares cannot
carry a level's tie to the other columns. Here the tree is grown on GROUPS of levels (``level_groups``)
and the level WITHIN its group is drawn from a multinomial logistic regression of the level on the
tree's predictors, fitted on every real row (restricted to the row's group: the conditional likelihood
of the level given its group):

- **classes**: the levels seen on at least :data:`PRIVACY_MIN` of the rows (the rarer ones form a group
  of their own in the tree; inside it they are drawn by their pooled shares, as in a column's marginal);
- **features** (:func:`feature_spec`): from the encoded predictors (``synthetic.gibbs.Encoder``: bin
  numbers of quantile bins, 0/1 flags, -1 missing) -- a numeric predictor's normal score of its bin (a
  function of the bin number only) and one indicator per value (bin, flag, missing) that is 1 on at
  least PRIVACY_MIN rows and 0 on at least PRIVACY_MIN rows: no feature singles out a smaller group;
- **penalty** (:data:`L2`): strong ridge on the coefficients (not the intercepts), so each coefficient is
  a smoothed contrast of whole groups of >= PRIVACY_MIN rows and no single row moves it much.

Stored: the coefficient matrix and intercepts (rounded), the feature list (column numbers and values, no
real value), the rows behind the fit ``n`` -- summary statistics of the whole table, not of a cell.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import minimize
from scipy.special import ndtri
from threadpoolctl import threadpool_limits

from synthetic.joint import PRIVACY_MIN

#: Ridge strength on the mean log-likelihood (per row): loss = -mean log p + L2 / 2 * |W|^2. With ~10,000
#: rows it is sklearn's ``C = 1 / (L2 * n)`` ~ 0.03: a coefficient moves only for a contrast seen on many
#: rows (docs/synthetic.md: the chosen strength, with the held-out log-loss and detection of others).
L2 = 1e-3
COEF_DECIMALS = 4
MAX_ITER = 300
N_CODES = 130  # encoded values -1 .. 127 (int8), shifted by one


def _codes(x: np.ndarray) -> np.ndarray:
    """The encoded matrix as int8 codes (-1 missing), whether given compact or as float with NaN."""
    if x.dtype == np.int8:
        return x
    return np.where(np.isnan(x), -1, x).astype(np.int8)


def feature_spec(x: np.ndarray, names: list[str], min_rows: int = PRIVACY_MIN) -> dict[str, list[list[int]]]:
    """Features of the rows ``x`` (encoded predictors; ``names`` their encoded names): ``score`` [column,
    bins] for each numeric predictor (normal score of its bin number, 0 when missing) that has two bins
    of ``min_rows`` rows; ``eq`` [column, value] for each value of a predictor seen on at least ``min_rows``
    rows and missing from at least ``min_rows`` rows (a bin, a flag's 1, a missing value)."""
    c = _codes(x)
    n = c.shape[0]
    score: list[list[int]] = []
    eq: list[list[int]] = []
    for j, name in enumerate(names):
        counts = np.bincount(c[:, j].astype(np.int64) + 1, minlength=2)  # index 0: missing
        numeric = "=" not in name and not name.endswith(":missing")
        ok = (counts >= min_rows) & (counts <= n - min_rows)
        if numeric:
            if (counts[1:] >= min_rows).sum() >= 2:
                score.append([j, int(counts.size - 1)])
            eq += [[j, int(v) - 1] for v in np.flatnonzero(ok)]
        elif ok[2:].any():  # a flag: its 1
            eq.append([j, 1])
    return {"score": score, "eq": eq}


def _parts(x: np.ndarray, spec: dict[str, list[list[int]]]) -> tuple[np.ndarray, sparse.csr_matrix]:
    """The normal scores (rows x scores, dense) and the indicators (rows x indicators, sparse: at most one
    per predictor column and row, built straight as CSR) of ``spec`` on the encoded rows ``x``."""
    c = _codes(x)
    n = c.shape[0]
    if spec["score"]:
        j = np.asarray([s[0] for s in spec["score"]], dtype=np.int64)
        bins = np.asarray([s[1] for s in spec["score"]], dtype=float)
        v = c[:, j].astype(float)
        score = np.where(v >= 0, ndtri((v + 0.5) / bins), 0.0)
    else:
        score = np.zeros((n, 0))
    cols = sorted({j for j, _ in spec["eq"]})
    lookup = np.full((len(cols), N_CODES), -1, dtype=np.int64)  # predictor column, value -> indicator
    at = {j: i for i, j in enumerate(cols)}
    for k, (j, v) in enumerate(spec["eq"]):
        lookup[at[j], v + 1] = k
    hit = lookup[np.arange(len(cols))[None, :], c[:, cols].astype(np.int64) + 1] if cols else np.zeros((n, 0), int)
    on = hit >= 0
    indptr = np.concatenate([[0], np.cumsum(on.sum(axis=1))])
    eq = sparse.csr_matrix((np.ones(int(indptr[-1])), hit[on], indptr), shape=(n, len(spec["eq"])))
    return score, eq


def features(x: np.ndarray, spec: dict[str, list[list[int]]]) -> sparse.csr_matrix:
    """The design matrix (rows x features, sparse) of ``spec`` on the encoded rows ``x``: the normal
    scores first, then the indicators."""
    score, eq = _parts(x, spec)
    return sparse.hstack([sparse.csr_matrix(score), eq], format="csr")


#: Largest table of a pack of predictor columns (rows: the product of the columns' code ranges in the rows
#: drawn): two numeric columns of 24 bins and missing (625), or up to ten 0/1 indicators, in one gather.
PACK_ROWS = 1024


@dataclass
class _GroupPlan:
    """How `LevelModel.sample` draws within one group: ``modelled`` levels (softmax of ``intercept`` +
    ``tables``, logits relative to the first; all 0 when there is one) and ``rest_levels`` with their
    ``rest`` shares (summing to 1), each block weighing 1 as in `LevelModel.probs`; candidates in level
    order."""

    modelled: np.ndarray
    rest_levels: np.ndarray
    rest: np.ndarray
    intercept: np.ndarray  # modelled classes but the first
    cols: np.ndarray  # predictor columns with a contribution
    tables: np.ndarray  # columns x classes but the first x (code + 1): relative logits

    def logits(self, c: np.ndarray) -> np.ndarray:
        """(Modelled classes but the first) x rows: the intercept plus every column's table row of its
        code, gathered in packs of columns -- a pack's code is the mixed-radix number of its columns'
        codes (ranges taken from these rows), its table the sums of their rows (`PACK_ROWS` at most), so
        one gather adds several columns."""
        m, k1 = c.shape[0], self.intercept.size
        z = np.empty((k1, m))
        z[:] = self.intercept[:, None]
        if not self.cols.size:
            return z
        codes = np.ascontiguousarray(c[:, self.cols].T)  # a row per column, int8
        lo = codes.min(axis=1).astype(np.int64)
        span = codes.max(axis=1).astype(np.int64) - lo + 1
        tmp = np.empty_like(z)
        idx = np.empty(m, dtype=np.int16)  # PACK_ROWS < 2 ** 15
        i, p = 0, self.cols.size
        while i < p:
            rows, j = 1, i
            table = np.zeros((k1, 1))
            idx[:] = 0
            while j < p and (rows * span[j] <= PACK_ROWS or j == i):
                part = self.tables[j, :, lo[j] + 1: lo[j] + 1 + span[j]]
                table = (table[:, :, None] + part[:, None, :]).reshape(k1, -1)
                rows *= int(span[j])
                idx *= np.int16(span[j])
                idx += codes[j]
                idx -= np.int16(lo[j])  # within 0 .. rows - 1 at every step
                j += 1
            np.take(table, idx.astype(np.intp), axis=1, out=tmp)
            z += tmp
            i = j
        return z

    def draw(self, c: np.ndarray, u: np.ndarray) -> np.ndarray:
        """A level per row (``c`` the rows' codes, ``u`` a uniform each): inverse CDF over the candidates
        in level order, one vector pass per candidate."""
        m = c.shape[0]
        k = self.modelled.size
        if k == 1 and not self.rest_levels.size:
            return np.full(m, self.modelled[0], dtype=np.int64)
        if k == 0 and self.rest_levels.size == 1:
            return np.full(m, self.rest_levels[0], dtype=np.int64)
        weights: list[np.ndarray | float] = []
        if k >= 2:
            z = self.logits(c)
            top = np.zeros(m)
            for r in z:
                np.maximum(top, r, out=top)
            z -= top
            np.exp(z, out=z)
            total = np.exp(-top)
            weights.append(total.copy())
            for r in z:
                total += r
                weights.append(r)
            for w in weights:
                w /= total  # type: ignore[operator]
        elif k == 1:
            weights.append(1.0)
        weights += self.rest.tolist()
        level = np.concatenate([self.modelled, self.rest_levels])
        t = u * (float(k > 0) + float(self.rest.size > 0))
        cum = np.zeros(m)
        pick = np.zeros(m, dtype=np.int64)
        for q in np.argsort(level, kind="stable").tolist():
            cum += weights[q]
            pick += cum <= t
        return np.sort(level)[np.minimum(pick, level.size - 1)]


@dataclass
class LevelModel:
    """Softmax of the modelled ``levels`` (indices into the column's levels) given the features of
    ``spec``; ``group`` (level -> group, all levels) restricts a draw to the levels of the row's group;
    ``rest`` (level -> share) spreads a group without modelled levels (the rare levels' group)."""

    levels: list[int]
    spec: dict[str, list[list[int]]]
    coef: np.ndarray  # classes x features
    intercept: np.ndarray  # classes
    group: list[int]
    rest: dict[int, float]
    n: int | None  # rows of the modelled levels it was fitted on (in memory only: None when read from the file)
    l2: float
    _tables: list[tuple[int, np.ndarray]] | None = field(default=None, init=False, repr=False, compare=False)
    _plan_cache: dict[int, _GroupPlan] | None = field(default=None, init=False, repr=False, compare=False)

    def logits(self, x: np.ndarray) -> np.ndarray:
        """Rows x classes: every feature is a function of one predictor column's code, so a column's whole
        contribution is one row of a table per code (`_tables`, built once) -- a gather and an add per
        predictor column, no design matrix."""
        if self._tables is None:
            self._tables = self._build_tables()
        c = _codes(x)
        z = np.broadcast_to(self.intercept, (c.shape[0], self.intercept.size)).copy()
        codes = c[:, [j for j, _ in self._tables]].T.astype(np.intp) + 1  # one gather: a row per column
        for (_, table), code in zip(self._tables, codes, strict=True):
            z += table[code]
        return z

    def _build_tables(self) -> list[tuple[int, np.ndarray]]:
        """(predictor column, table code + 1 -> contribution to the logits) for every column used."""
        tables: dict[int, np.ndarray] = {}
        k = len(self.spec["score"])

        def table(j: int) -> np.ndarray:
            return tables.setdefault(j, np.zeros((N_CODES, len(self.levels))))

        for i, (j, bins) in enumerate(self.spec["score"]):
            v = np.arange(bins)
            table(j)[v + 1] += np.outer(ndtri((v + 0.5) / bins), self.coef[:, i])  # missing (row 0): score 0
        for i, (j, v) in enumerate(self.spec["eq"]):
            table(j)[v + 1] += self.coef[:, k + i]
        return sorted(tables.items())

    def probs(self, x: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """Rows x all levels: each row's level probabilities within its group ``groups``."""
        n_levels = len(self.group)
        group = np.asarray(self.group)
        out = np.zeros((x.shape[0], n_levels))
        lv = np.asarray(self.levels, dtype=np.int64)
        if lv.size:
            z = self.logits(x)
            allowed = group[lv][None, :] == groups[:, None]
            z = np.where(allowed, z, -np.inf)
            some = allowed.any(axis=1)
            z[some] -= z[some].max(axis=1, keepdims=True)
            e = np.exp(z)
            out[np.ix_(some, lv)] = e[some] / e[some].sum(axis=1, keepdims=True)
        rest_lv = np.asarray(sorted(self.rest), dtype=np.int64)
        if rest_lv.size:
            share = np.asarray([self.rest[j] for j in rest_lv.tolist()])
            for g in np.unique(group[rest_lv]):
                rows = groups == g
                mine = group[rest_lv] == g
                out[np.ix_(rows, rest_lv[mine])] = share[mine] / share[mine].sum()
        return out

    def sample(self, rng: np.random.Generator, x: np.ndarray, groups: np.ndarray) -> np.ndarray:
        """A level index per row of ``x``, drawn within the row's group with the probabilities of
        :meth:`probs` (the reference), computed only where they are needed: per group, its candidate
        levels (modelled and rest levels, in level order); logits only for a group of two or more modelled
        levels, on its rows and its classes, relative to its first class (`_group_tables`: float32, one
        ``np.take`` per predictor column); the level by inverse CDF on one uniform per row."""
        c = _codes(x)
        m = c.shape[0]
        u = rng.random(m)
        out = np.empty(m, dtype=np.int64)
        if m == 0:
            return out
        plans = self._plans()
        present = np.unique(groups).tolist()
        for g in present:
            rows = np.flatnonzero(groups == g) if len(present) > 1 else None
            plan = plans.get(g)
            if plan is None:  # no candidate level (as probs: all 0, the inverse CDF ends on the last level)
                out[rows if rows is not None else slice(None)] = len(self.group) - 1
                continue
            out[rows if rows is not None else slice(None)] = plan.draw(
                c if rows is None else c[rows], u if rows is None else u[rows]
            )
        return out

    def _plans(self) -> dict[int, _GroupPlan]:
        if self._plan_cache is None:
            self._plan_cache = self._build_plans()
        return self._plan_cache

    def _build_plans(self) -> dict[int, _GroupPlan]:
        """Per group with a candidate level: its candidates and, for two or more modelled levels, the
        float32 tables of their logits relative to the first modelled level."""
        if self._tables is None:
            self._tables = self._build_tables()
        group = np.asarray(self.group, dtype=np.int64)
        lv = np.asarray(self.levels, dtype=np.int64)
        rest_lv = np.asarray(sorted(self.rest), dtype=np.int64)
        share = np.asarray([self.rest[j] for j in rest_lv.tolist()], dtype=float)
        plans: dict[int, _GroupPlan] = {}
        for g in np.unique(group).tolist():
            cls = np.flatnonzero(group[lv] == g)  # indices into self.levels
            mine = group[rest_lv] == g
            if not cls.size and not mine.any():
                continue
            rest = share[mine] / share[mine].sum() if mine.any() else np.zeros(0)
            cols: list[int] = []
            tables: list[np.ndarray] = []
            if cls.size >= 2:
                for j, t in self._tables:
                    d = t[:, cls[1:]] - t[:, cls[:1]]
                    if np.any(d != 0):
                        cols.append(j)
                        tables.append(d.T)
            k1 = max(cls.size - 1, 0)
            plans[g] = _GroupPlan(
                modelled=lv[cls],
                rest_levels=rest_lv[mine],
                rest=rest,
                intercept=self.intercept[cls[1:]] - self.intercept[cls[0]] if cls.size else np.zeros(0),
                cols=np.asarray(cols, dtype=np.intp),
                tables=np.asarray(tables) if tables else np.zeros((0, k1, N_CODES)),
            )
        return plans

    def to_json(self) -> dict[str, Any]:
        return {
            "levels": self.levels,
            "spec": self.spec,
            "coef": [[round(float(v), COEF_DECIMALS) for v in row] for row in self.coef],
            "intercept": [round(float(v), COEF_DECIMALS) for v in self.intercept],
            "group": self.group,
            "rest": {str(k): round(float(v), 6) for k, v in self.rest.items()},
            "l2": self.l2,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LevelModel:
        n_feat = len(d["spec"]["score"]) + len(d["spec"]["eq"])
        return cls(
            levels=[int(v) for v in d["levels"]],
            spec={k: [list(map(int, p)) for p in v] for k, v in d["spec"].items()},
            coef=np.asarray(d["coef"], dtype=float).reshape(len(d["levels"]), n_feat),
            intercept=np.asarray(d["intercept"], dtype=float),
            group=[int(g) for g in d["group"]],
            rest={int(k): float(v) for k, v in d["rest"].items()},
            n=None,  # not written (stop 30): with its tree's rows it told the rows of the rare levels left out
            l2=float(d["l2"]),
        )


def fit_softmax(
    a: sparse.csr_matrix, y: np.ndarray, allowed: np.ndarray, l2: float, max_iter: int = MAX_ITER
) -> tuple[np.ndarray, np.ndarray]:
    """(coef, intercept) minimising the mean negative log-likelihood of ``y`` (class per row) under a
    softmax restricted to each row's ``allowed`` classes (rows x classes, bool) + ``l2`` / 2 |coef|^2
    (L-BFGS, from zero: deterministic)."""
    n, f = a.shape
    k = allowed.shape[1]
    at = a.T.tocsr()

    restricted = not allowed.all()
    rows = np.arange(n)

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: k * f].reshape(k, f), theta[k * f:]
        z = np.asarray(a @ w.T) + b
        if restricted:
            z[~allowed] = -np.inf
        z -= z.max(axis=1, keepdims=True)
        e = np.exp(z)
        s = e.sum(axis=1)
        value = -float((z[rows, y] - np.log(s)).mean()) + 0.5 * l2 * float((w * w).sum())
        g = e / s[:, None]
        g[rows, y] -= 1.0
        g /= n
        grad_w = np.asarray(at @ g).T + l2 * w
        return value, np.concatenate([grad_w.ravel(), g.sum(axis=0)])

    # one BLAS thread: L-BFGS-B's vector products over the k * f coefficients are otherwise split across
    # threads (OpenBLAS, > 10,000 values) -- spinning threads took ~5x the CPU, and the rounding (so, after
    # max_iter steps, the coefficients) depended on the machine's number of cores
    with threadpool_limits(limits=1, user_api="blas"):
        res = minimize(loss, np.zeros(k * f + k), jac=True, method="L-BFGS-B", options={"maxiter": max_iter})
    return res.x[: k * f].reshape(k, f), res.x[k * f:]


def fit_level_model(
    x: np.ndarray,
    names: list[str],
    y: np.ndarray,
    group: np.ndarray,
    rest_ref: np.ndarray,
    l2: float | None = None,
) -> LevelModel:
    """The level within its group: ``y`` level per row (index into the column's levels), ``group`` level
    -> group, ``rest_ref`` the column's pooled shares (for the levels of fewer than PRIVACY_MIN rows,
    which are not modelled). Fitted on the rows of the modelled levels only; ``l2`` default :data:`L2`."""
    l2 = L2 if l2 is None else l2
    n_levels = group.size
    counts = np.bincount(y, minlength=n_levels)
    levels = np.flatnonzero(counts >= PRIVACY_MIN)
    keep = np.isin(y, levels)
    xs = _codes(x)[keep]
    spec = feature_spec(xs, names)
    a = features(xs, spec)
    cls = np.searchsorted(levels, y[keep])
    allowed = group[levels][None, :] == group[y[keep]][:, None]
    coef, intercept = fit_softmax(a, cls, allowed, l2)
    rare = np.flatnonzero((counts > 0) & (counts < PRIVACY_MIN) & (rest_ref > 0))
    return LevelModel(
        levels=levels.tolist(),
        spec=spec,
        coef=coef,
        intercept=intercept,
        group=group.tolist(),
        rest={int(j): float(rest_ref[j]) for j in rare},
        n=int(keep.sum()),
        l2=l2,
    )
