"""Each named training step on tiny data: typed inputs in, typed outputs with the expected values out."""

from __future__ import annotations

import io
import json
import os
from pathlib import Path

import numpy as np
import pytest
from rich.console import Console

from models_ml import steps
from models_ml.cost import cost_at_threshold
from models_ml.cv import CVResult, make_folds
from models_ml.data import TrainingData, data_fingerprint, load_training_set
from models_ml.families import Candidate, FitContext, default_params, fit_candidate
from models_ml.planner import Budget
from models_ml.predictor import Predictor
from models_ml.progress import TrainingProgress
from models_ml.registry import load_current, load_version
from models_ml.settings import PROFILES, ModelSettings
from models_ml.steps.tuning import search_draws

QUIET = TrainingProgress(Console(file=io.StringIO()))


@pytest.fixture(scope="module")
def tiny(small_warehouse: Path) -> tuple[TrainingData, FitContext, ModelSettings]:
    data = load_training_set(small_warehouse, min_per_class=3)
    settings = ModelSettings(warehouse=small_warehouse, train_profile="fast", n_folds=3, n_jobs=1)
    ctx = FitContext(data.schema, PROFILES["fast"], 0, 1, settings.undersample_ratio)
    return data, ctx, settings


def _cands(n: int) -> list[Candidate]:
    fast = PROFILES["fast"]
    return [Candidate("dummy"), Candidate("logistic_regression", "none", default_params("logistic_regression", n, fast)),
            Candidate("lightgbm", "none", default_params("lightgbm", n, fast)),
            Candidate("lightgbm", "undersample", default_params("lightgbm", n, fast))]


def test_compare_halves_the_candidates_over_rungs_and_selects_among_the_last(tiny) -> None:
    data, ctx, settings = tiny
    costs = steps.row_costs(settings, data.frame)
    sample = steps.comparison_sample(data.frame, data.target, costs, 600, 3, 0)
    assert isinstance(sample, steps.CompareSample) and sample.n_rows == 600 and len(sample.index) == 600
    assert set(np.bincount(sample.folds)) <= {199, 200, 201}
    cmp = steps.compare(_cands(600), sample, ctx, 3, QUIET, budget=Budget(1e6), n_rows_total=data.n_rows,
                        min_rung_rows=150, eta=2)
    assert isinstance(cmp, steps.Comparison) and cmp.rungs == [150, 300, 600]
    rows = {f"{r['model_family']}/{r['imbalance']}": r for r in cmp.rows}
    assert list(rows) == [c.key for c in _cands(600)]  # every candidate keeps its row in the table
    assert rows["dummy/none"]["n_rows"] == 150  # the baseline is compared on the first rung only
    finalists = [k for k, r in rows.items() if r["n_rows"] == 600]
    assert finalists and cmp.selected.key in finalists
    dropped = [k for k, r in rows.items() if r["n_rows"] < 600 and k != "dummy/none"]
    assert all(any(note.startswith(f"{k}:") for note in cmp.notes) for k in dropped)  # each says why it stopped
    assert cmp.selected_row == steps.select([rows[k] for k in finalists])
    assert isinstance(cmp.results[cmp.selected.key], CVResult) and cmp.notes[0].startswith("successive halving")
    # without a budget: every candidate on the whole sample, as before the planner
    flat = steps.compare(_cands(600)[:2], sample, ctx, 3, QUIET)
    assert flat.rungs == [600] and {r["n_rows"] for r in flat.rows} == {600}
    # a single candidate to choose from goes straight to the whole sample, budget or not
    single = steps.compare(_cands(600)[:2], sample, ctx, 3, QUIET, budget=Budget(1e6), min_rung_rows=150, eta=2)
    assert single.rungs == [600] and single.selected.family == "logistic_regression"


def test_tune_draws_a_seeded_parameter_sample_and_respects_the_budget(tiny) -> None:
    data, ctx, settings = tiny
    space = {"num_leaves": [4, 7, 15], "lambda_l2": [1.0, 10.0]}
    base = {"num_leaves": 4, "lambda_l2": 1.0, "learning_rate": 0.1}
    draws = search_draws(space, base, 3, seed=0)
    assert draws == search_draws(space, base, 3, seed=0)  # seeded: the same search every run
    assert len(draws) == 3 and base not in draws and len({json.dumps(d, sort_keys=True) for d in draws}) == 3
    assert all(d["learning_rate"] == 0.1 for d in draws)  # parameters outside the space are kept
    assert len(search_draws(space, base, 10, seed=0)) == 5  # the whole 6-point grid but the base

    costs = steps.row_costs(settings, data.frame)
    sample = steps.comparison_sample(data.frame, data.target, costs, 800, 3, 0)
    start = Candidate("lightgbm", "none", default_params("lightgbm", 800, PROFILES["fast"]))
    cmp = steps.compare([start], sample, ctx, 3, QUIET)
    tuned = steps.tune(start, cmp.selected_row, cmp.results[start.key], sample, ctx, 2, QUIET)
    assert isinstance(tuned, steps.Tuned) and len(tuned.trials) == 3  # the starting point + 2 trials
    assert tuned.candidate.family == "lightgbm" and tuned.row["params"] == tuned.candidate.params
    # no time left: no trial, the starting point is kept, and the note says why
    spent = steps.tune(start, cmp.selected_row, cmp.results[start.key], sample, ctx, 2, QUIET,
                       budget=Budget(1.0, started=0.0))
    assert spent.candidate == start and len(spent.trials) == 1 and "time budget" in spent.notes[0]


def test_calibrate_threshold_explain_package_promote(tiny, tmp_path: Path) -> None:
    data, ctx, settings = tiny
    X, y = data.frame, data.target
    folds = make_folds(y, 3, 0)
    costs = steps.row_costs(settings, X)
    rng = np.random.default_rng(0)
    oof = 0.45 * y + rng.uniform(0.01, 0.5, len(y))  # informative scores in (0, 1)

    calibrated = steps.calibrate(oof, y, folds, "class_weight", settings.undersample_ratio)
    assert isinstance(calibrated, steps.Calibrated)
    assert calibrated.beta == pytest.approx(y.sum() / (len(y) - y.sum()))
    assert calibrated.p_cal.shape == y.shape and np.all((calibrated.p_cal >= 0) & (calibrated.p_cal <= 1))
    assert calibrated.metadata()["method"] in ("none", "sigmoid", "isotonic")

    decision = steps.choose_threshold(y, calibrated.p_cal, oof, folds, costs, data.sensitive)
    assert isinstance(decision, steps.Decision)
    best = cost_at_threshold(y, calibrated.p_cal, decision.threshold, costs)
    assert all(best <= cost_at_threshold(y, calibrated.p_cal, t, costs) + 1e-9 for t in np.linspace(0, 1, 101))
    assert decision.metrics["business_cost"] == pytest.approx(best / len(y))
    assert decision.bands[1]["upper"] == decision.threshold and decision.bands[2]["decision"] == "refuse"
    assert {s["attribute"] for s in decision.fairness} >= {"code_gender"}

    cand = Candidate("lightgbm", "none", default_params("lightgbm", len(y), PROFILES["fast"]))
    model = fit_candidate(cand, X, y, ctx, n_rounds=20)
    predictor = Predictor.from_fitted(model, data.schema, X)
    explained = steps.explain(predictor, X, calibrated.calibrator.transform, decision.threshold, 50, seed=0)
    assert isinstance(explained, steps.Explained) and len(explained.X) == 50
    assert explained.explanation.values.shape == (50, len(data.schema.features))
    assert explained.local["decision"] == ("refuse" if explained.local["probability"] >= decision.threshold
                                          else "grant")

    art = tmp_path / "art"
    fingerprint = data_fingerprint(data)
    version, created = steps.new_version(fingerprint, "test")
    pkg = steps.ModelPackage(
        settings=settings.model_copy(update={"artifacts": art}), version=version, created=created, candidate=cand,
        params=cand.params, n_rounds=20, predictor=predictor, calibrated=calibrated, decision=decision,
        explained=explained, reference=steps.reference_sample(data, calibrated.p_cal, 0, 100), y=y, oof=oof,
        costs=costs, schema=data.schema, excluded_columns=data.excluded_columns, features_left_out=data.protected,
        fingerprint=fingerprint, tuning=[],
        comparison=[steps.summarize_cv(CVResult(cand, oof, [20, 20, 20], 1.0), y, folds, costs)], selection_rule="test",
        data={"rows": len(y), "features": len(data.schema.features), "defaults": int(y.sum()),
              "default_rate": float(y.mean()), "comparison_rows": len(y), "warehouse": "test"},
        timings={}, notes=[], started=0.0, extra={"engine": "test"})
    path = steps.package(pkg)
    meta = json.loads((path / "metadata.json").read_text())
    assert path.name == version and meta["threshold"] == decision.threshold and meta["engine"] == "test"
    assert meta["calibration"]["method"] == calibrated.calibrator.method
    loaded = load_version(path)
    np.testing.assert_allclose(loaded.predict_proba(explained.X), explained.probability, atol=1e-9)
    # promote: off leaves models/current absent; on points it at the version
    assert steps.promote_version(path, art, False) is False and not (art / "models" / "current").exists()
    assert steps.promote_version(path, art, True) is True
    assert os.readlink(art / "models" / "current") == version and load_current(art).version == version
