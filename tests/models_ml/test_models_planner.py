"""The time-budget planner's choices on synthetic timing estimates (no model is fitted here)."""

from __future__ import annotations

import pytest

from models_ml.planner import (
    Budget,
    Trial,
    final_reserve,
    promote,
    ranked,
    rung_sizes,
    scaled_seconds,
    tuning_trials,
)


def _trial(key: str, cost: float, seconds: float, se: float = 0.001, auc: float = 0.75, rows: int = 20_000) -> Trial:
    return Trial(key, key.split("/")[0], cost, se, auc, seconds, rows)


def test_rungs_grow_by_eta_down_to_the_smallest_rung_and_end_with_the_whole_sample() -> None:
    assert rung_sizes(60_000, 15_000, 3) == [20_000, 60_000]
    assert rung_sizes(60_000, 5_000, 3) == [6_667, 20_000, 60_000]
    assert rung_sizes(60_000, 15_000, 2) == [15_000, 30_000, 60_000]
    assert rung_sizes(9_225, 15_000, 3) == [9_225]  # too small to halve: one rung, every candidate on every row
    assert rung_sizes(60_000, 15_000, 1) == [60_000]


def test_time_estimates_scale_with_rows_and_reserve_the_final_cross_validation() -> None:
    assert scaled_seconds(67.0, 60_000, 307_511) == pytest.approx(343.4, abs=0.1)  # 344 s measured at SCALE=1
    # final CV (5.1x the comparison fit) + final fit (a quarter of that with 5 folds) + 8 % of the budget
    assert final_reserve(67.0, 60_000, 307_511, 5, 900) == pytest.approx(343.4 + 85.9 + 72, abs=0.2)
    # the comparison already used every row: only the final fit and the tail are left
    assert final_reserve(10.0, 9_000, 9_000, 5, 300) == pytest.approx(2.5 + 24)


def test_the_reserve_counts_the_scorecard_challenger_fitted_on_every_row() -> None:
    # when the scorecard is compared but not selected, the run fits it once more on every row for the model card
    # (governance): 36.6 s at SCALE=1, after the budget had been spent (stop 28: 942 s for an 840 s budget)
    base = final_reserve(67.0, 60_000, 307_511, 5, 900)
    # compared on 20,000 rows in 12 s (5 folds of 16,000 rows): one fit on 307,511 rows ~ 12 x 307,511 / 80,000
    with_challenger = final_reserve(67.0, 60_000, 307_511, 5, 900, challenger=(12.0, 20_000))
    assert with_challenger == pytest.approx(base + 46.1, abs=0.1)
    assert final_reserve(67.0, 60_000, 307_511, 5, 900, challenger=None) == base


def test_dominated_and_slow_candidates_stop_early_and_the_best_always_goes_on() -> None:
    trials = [_trial("dummy/none", 0.85, 1), _trial("lightgbm/none", 0.450, 20), _trial("xgboost/none", 0.4505, 40),
              _trial("logistic_regression/none", 0.49, 10), _trial("random_forest/none", 0.47, 30),
              _trial("lightgbm/undersample", 0.46, 15), _trial("scorecard/none", 0.50, 8)]
    keep, notes = promote(trials, 60_000, seconds_left=10_000, eta=3)
    # best third (ceil(6/3) = 2) by cost; the dummy is a baseline, never promoted
    assert keep == ["lightgbm/none", "xgboost/none"]
    assert any("random_forest/none: dominated" in n for n in notes)
    # within one standard error of the best: not dominated, goes on too (at most twice the quota)
    wide = [_trial("lightgbm/none", 0.450, 20, se=0.02), *trials[2:]]
    keep_wide, _ = promote(wide, 60_000, seconds_left=10_000, eta=3)
    assert keep_wide == ["lightgbm/none", "xgboost/none", "lightgbm/undersample", "random_forest/none"]
    # budget: 60k rows cost 3x the 20k-row time; 130 s fit lightgbm (60 s) but not xgboost too (120 s)
    keep_tight, notes_tight = promote(trials, 60_000, seconds_left=130, eta=3)
    assert keep_tight == ["lightgbm/none"]
    assert any("xgboost/none: stopped at 20,000 rows" in n and "time budget" in n for n in notes_tight)
    # no time at all: the best still goes on (the run is soft-budgeted, never left without a model)
    assert promote(trials, 60_000, seconds_left=-5, eta=3)[0] == ["lightgbm/none"]


def test_ranking_breaks_cost_ties_by_auc_and_leaves_the_baseline_out() -> None:
    order = ranked([_trial("dummy/none", 0.1, 1), _trial("a/none", 0.4, 1, auc=0.70), _trial("b/none", 0.4, 1, auc=0.72)])
    assert [t.key for t in order] == ["b/none", "a/none"]


def test_tuning_gets_as_many_trials_as_the_time_left_affords() -> None:
    assert tuning_trials(6, 67.0, 1000.0) == 6
    assert tuning_trials(6, 67.0, 200.0) == 2
    assert tuning_trials(6, 67.0, 50.0) == 0
    assert tuning_trials(6, 0.0, 10.0) == 6
    assert tuning_trials(0, 1.0, 1000.0) == 0


def test_budget_counts_down_from_its_start() -> None:
    b = Budget(100.0, started=0.0)
    assert b.elapsed() > 0 and b.left() < 100.0


def test_the_challenger_is_the_compared_scorecard_unless_the_scorecard_is_selected() -> None:
    from models_ml.steps.comparison import challenger_timing

    table = [{"model_family": "lightgbm", "imbalance": "none", "fit_seconds": 30.0, "n_rows": 60_000},
             {"model_family": "scorecard", "imbalance": "none", "fit_seconds": 12.0, "n_rows": 20_000}]
    assert challenger_timing(table, "lightgbm") == (12.0, 20_000)
    assert challenger_timing({"x": table[1]}, "xgboost") == (12.0, 20_000)  # the comparison's rows by key
    assert challenger_timing(table, "scorecard") is None  # served, not refitted
    assert challenger_timing(table[:1], "lightgbm") is None  # not compared: the card fits none
