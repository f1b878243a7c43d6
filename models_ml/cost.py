"""Business cost of grant/refuse decisions and the threshold that minimises it.

Decision rule everywhere: refuse when ``probability >= threshold``, grant otherwise.
A false negative (FN) is a granted client who defaults; a false positive (FP) a refused good client.
Costs are given per row so that the money-based variant (cost proportional to the credit amount)
uses the same code as the count-based one (constant c_FN, c_FP).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RowCosts:
    """Cost of a missed defaulter (``fn``) and of a refused good client (``fp``) for each row."""

    fn: np.ndarray
    fp: np.ndarray

    @classmethod
    def constant(cls, n: int, cost_fn: float, cost_fp: float) -> RowCosts:
        return cls(np.full(n, float(cost_fn)), np.full(n, float(cost_fp)))

    @classmethod
    def money(cls, credit_amount: np.ndarray, loss_given_default: float, lost_margin_rate: float) -> RowCosts:
        amount = np.asarray(credit_amount, dtype=float)
        amount = np.where(np.isfinite(amount), amount, np.nanmedian(amount))
        return cls(loss_given_default * amount, lost_margin_rate * amount)

    def subset(self, idx: np.ndarray) -> RowCosts:
        return RowCosts(self.fn[idx], self.fp[idx])


def decisions(p: np.ndarray, threshold: float) -> np.ndarray:
    """Boolean array: True = refuse."""
    return np.asarray(p, dtype=float) >= threshold


def total_cost(y: np.ndarray, refuse: np.ndarray, costs: RowCosts) -> float:
    y = np.asarray(y).astype(bool)
    refuse = np.asarray(refuse).astype(bool)
    return float(costs.fn[y & ~refuse].sum() + costs.fp[~y & refuse].sum())


def cost_at_threshold(y: np.ndarray, p: np.ndarray, threshold: float, costs: RowCosts) -> float:
    return total_cost(y, decisions(p, threshold), costs)


def trivial_costs(y: np.ndarray, costs: RowCosts) -> dict[str, float]:
    """Total cost of the two policies that ignore the model: grant everyone, refuse everyone."""
    y = np.asarray(y).astype(bool)
    return {"grant_all": float(costs.fn[y].sum()), "refuse_all": float(costs.fp[~y].sum())}


def best_trivial(y: np.ndarray, costs: RowCosts) -> tuple[str, float]:
    tc = trivial_costs(y, costs)
    name = min(tc, key=lambda k: (tc[k], k))
    return name, tc[name]


@dataclass(frozen=True)
class CostCurve:
    """Total cost for every distinct decision: ``thresholds[i]`` yields ``costs[i]``."""

    thresholds: np.ndarray
    costs: np.ndarray

    def best(self) -> tuple[float, float]:
        i = int(np.argmin(self.costs))  # first minimum: the lowest threshold among ties
        return float(self.thresholds[i]), float(self.costs[i])


def cost_curve(y: np.ndarray, p: np.ndarray, costs: RowCosts) -> CostCurve:
    """Exact cost of every distinct split of the sorted probabilities.

    Candidate thresholds are 0 (refuse all), the midpoints between consecutive distinct
    probabilities, and a value above the largest probability (grant all).
    """
    y = np.asarray(y).astype(bool)
    p = np.asarray(p, dtype=float)
    if len(p) == 0:
        return CostCurve(np.array([0.0]), np.array([0.0]))
    order = np.argsort(p, kind="stable")
    ps, ys = p[order], y[order]
    fn_sorted = np.where(ys, costs.fn[order], 0.0)
    fp_sorted = np.where(~ys, costs.fp[order], 0.0)
    granted_fn = np.concatenate([[0.0], np.cumsum(fn_sorted)])          # FN cost if the first i are granted
    refused_fp = fp_sorted.sum() - np.concatenate([[0.0], np.cumsum(fp_sorted)])  # FP cost of refusing the rest
    uniq, first = np.unique(ps, return_index=True)
    n_granted = np.concatenate([first, [len(ps)]])
    mids = (uniq[:-1] + uniq[1:]) / 2.0
    top = uniq[-1]
    above = (top + 1.0) / 2.0 if top < 1.0 else float(np.nextafter(top, np.inf))
    thresholds = np.concatenate([[0.0], mids, [above]])
    totals = granted_fn[n_granted] + refused_fp[n_granted]
    return CostCurve(thresholds, totals)


def optimal_threshold(y: np.ndarray, p: np.ndarray, costs: RowCosts) -> tuple[float, float]:
    """Threshold minimising the total cost on (y, p), and that cost."""
    return cost_curve(y, p, costs).best()


def cross_fitted_cost(y: np.ndarray, p: np.ndarray, folds: np.ndarray, costs: RowCosts) -> float:
    """Total cost when each fold is decided with the threshold chosen on the other folds (no optimism)."""
    total = 0.0
    for k in np.unique(folds):
        test = folds == k
        t, _ = optimal_threshold(y[~test], p[~test], costs.subset(~test))
        total += cost_at_threshold(y[test], p[test], t, costs.subset(test))
    return total


def bayes_threshold(cost_fn: float, cost_fp: float) -> float:
    """Cost-optimal threshold for perfectly calibrated probabilities: c_FP / (c_FP + c_FN)."""
    return cost_fp / (cost_fp + cost_fn)
