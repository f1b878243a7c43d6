"""Business cost and threshold on hand-made cases."""

from __future__ import annotations

import numpy as np
import pytest

from models_ml.cost import (
    RowCosts,
    bayes_threshold,
    best_trivial,
    cost_at_threshold,
    cost_curve,
    cross_fitted_cost,
    optimal_threshold,
    trivial_costs,
)
from models_ml.metrics import decision_metrics


def test_hand_made_cost_and_threshold() -> None:
    y = np.array([0, 0, 1, 1])
    p = np.array([0.1, 0.4, 0.35, 0.8])
    costs = RowCosts.constant(4, cost_fn=10, cost_fp=1)
    curve = cost_curve(y, p, costs)
    # refuse all: 2 FP; grant 0.1: 1 FP; grant up to 0.35: 1 FN + 1 FP; up to 0.4: 1 FN; grant all: 2 FN
    assert curve.costs.tolist() == [2.0, 1.0, 11.0, 10.0, 20.0]
    assert curve.thresholds[:4].tolist() == pytest.approx([0.0, 0.225, 0.375, 0.6])
    assert curve.thresholds[4] > 0.8
    t, c = optimal_threshold(y, p, costs)
    assert t == pytest.approx(0.225)
    assert c == 1.0
    assert cost_at_threshold(y, p, t, costs) == 1.0


def test_cost_counts_fn_and_fp_with_their_weights() -> None:
    y = np.array([1, 1, 1, 0, 0, 0, 0])
    p = np.array([0.9, 0.2, 0.1, 0.8, 0.7, 0.1, 0.0])
    costs = RowCosts.constant(7, cost_fn=10, cost_fp=1)
    # threshold 0.5: refuse 0.9 (TP), 0.8 (FP), 0.7 (FP); grant 0.2 (FN), 0.1 (FN), 0.1, 0.0
    assert cost_at_threshold(y, p, 0.5, costs) == 2 * 10 + 2 * 1
    m = decision_metrics(y, p, 0.5, costs)
    assert (m["tp"], m["fn"], m["fp"], m["tn"]) == (1, 2, 2, 2)
    assert m["business_cost"] == pytest.approx(22 / 7)
    assert m["recall"] == pytest.approx(1 / 3)
    assert m["precision"] == pytest.approx(1 / 3)
    assert m["approval_rate"] == pytest.approx(4 / 7)
    assert m["best_trivial_policy"] == "refuse_all"
    assert m["cost_vs_best_trivial"] == pytest.approx(22 / 4)


def test_trivial_policies() -> None:
    y = np.array([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])  # 1 defaulter, 11 good clients
    costs = RowCosts.constant(len(y), 10, 1)
    assert trivial_costs(y, costs) == {"grant_all": 10.0, "refuse_all": 11.0}
    assert best_trivial(y, costs) == ("grant_all", 10.0)
    # the optimum never exceeds the best trivial policy (both are points of the curve)
    p = np.linspace(0.05, 0.95, len(y))
    assert optimal_threshold(y, p, costs)[1] <= 10.0


def test_optimum_matches_brute_force_on_random_data() -> None:
    rng = np.random.default_rng(3)
    y = (rng.uniform(size=400) < 0.15).astype(int)
    p = np.clip(0.1 + 0.3 * y + rng.normal(0, 0.15, 400), 0, 1).round(2)  # many ties
    costs = RowCosts(rng.uniform(1, 20, 400), rng.uniform(0.5, 2, 400))
    t, c = optimal_threshold(y, p, costs)
    grid = np.concatenate([[0.0], np.unique(p), [1.01]])
    brute = min(cost_at_threshold(y, p, g, costs) for g in grid)
    assert c == pytest.approx(brute)
    assert cost_at_threshold(y, p, t, costs) == pytest.approx(c)


def test_money_costs_scale_with_credit() -> None:
    costs = RowCosts.money(np.array([100_000.0, 200_000.0, np.nan]), loss_given_default=0.5, lost_margin_rate=0.1)
    assert costs.fn.tolist() == [50_000.0, 100_000.0, 75_000.0]  # missing amount -> median
    assert costs.fp.tolist() == pytest.approx([10_000.0, 20_000.0, 15_000.0])
    y = np.array([1, 0, 0])
    p = np.array([0.2, 0.9, 0.1])
    # threshold 0.5: the defaulter (100k) granted -> 50k; the 200k good client refused -> 20k
    assert cost_at_threshold(y, p, 0.5, costs) == pytest.approx(70_000.0)


def test_cross_fitted_cost_is_not_below_the_in_sample_optimum() -> None:
    rng = np.random.default_rng(0)
    y = (rng.uniform(size=600) < 0.1).astype(int)
    p = np.clip(0.08 + 0.2 * y + rng.normal(0, 0.1, 600), 0, 1)
    folds = np.arange(600) % 5
    costs = RowCosts.constant(600, 10, 1)
    assert cross_fitted_cost(y, p, folds, costs) >= optimal_threshold(y, p, costs)[1]


def test_bayes_threshold() -> None:
    assert bayes_threshold(10, 1) == pytest.approx(1 / 11)
    # with calibrated probabilities the empirical optimum is close to it
    rng = np.random.default_rng(1)
    p = rng.beta(1, 9, 200_000)
    y = (rng.uniform(size=len(p)) < p).astype(int)
    t, _ = optimal_threshold(y, p, RowCosts.constant(len(p), 10, 1))
    assert t == pytest.approx(1 / 11, abs=0.01)
