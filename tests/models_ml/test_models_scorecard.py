"""The scorecard family: PDO scaling, additive points, monotone bins, readable artifact, points explanations."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from models_ml_synth import fast_settings, make_features

from models_ml.data import FeatureSchema, FeatureSpec
from models_ml.errors import ArtifactError
from models_ml.predictor import Predictor
from models_ml.registry import load_current, load_version
from models_ml.scorecard import ScorecardModel, fit_scorecard, probability_from_score, quick_iv, scaling
from models_ml.settings import ModelSettings, ScorecardConfig


def _schema(frame: pd.DataFrame) -> FeatureSchema:
    kinds = {"name_family_status": "categorical", "name_education_type": "categorical", "flag_own_car": "boolean"}
    return FeatureSchema(tuple(FeatureSpec(c, kinds.get(c, "numeric")) for c in frame.columns))  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fitted_scorecard() -> tuple[ScorecardModel, pd.DataFrame, np.ndarray, FeatureSchema]:
    df = make_features(1500, seed=3).drop(columns=["code_gender"])
    y = df.pop("target").to_numpy()
    X = df.drop(columns=["sk_id_curr"])
    schema = _schema(X)
    X = schema.prepare(X)
    return fit_scorecard(X, y, schema, ScorecardConfig(max_characteristics=6)), X, y, schema


def test_pdo_scaling_math() -> None:
    factor, offset = scaling(ScorecardConfig(base_score=600, base_odds=50, pdo=20))
    assert factor == pytest.approx(20 / math.log(2))
    assert offset == pytest.approx(600 - 20 / math.log(2) * math.log(50))
    # 600 points = odds 50:1 (p = 1/51); every 20 points double the odds
    assert probability_from_score(600, factor, offset) == pytest.approx(1 / 51)
    assert probability_from_score(620, factor, offset) == pytest.approx(1 / 101)
    assert probability_from_score(580, factor, offset) == pytest.approx(1 / 26)


def test_points_add_up_to_the_score_and_map_to_the_probability(fitted_scorecard) -> None:
    model, X, y, schema = fitted_scorecard
    points = model.points_matrix(X)
    assert np.all(points == np.rint(points))  # integer points
    score = model.score(X)
    assert np.array_equal(points.sum(axis=1) + model.intercept_points, score)
    assert np.allclose(model.predict_raw(X), 1 / (1 + np.exp((score - model.offset) / model.factor)), rtol=0,
                       atol=1e-15)
    expl = Predictor.from_fitted(model, schema, X).explain(X.iloc[:50])
    assert expl.output_scale == "points"
    assert np.array_equal(expl.base_value + expl.values.sum(axis=1), score[:50])
    # features outside the scorecard earn nothing and have no best bin
    unused = [j for j, n in enumerate(schema.names) if n not in model.names]
    assert np.all(expl.values[:, unused] == 0) and np.all(np.isnan(expl.best_points[unused]))
    # the scorecard ranks applicants: the better half of the scores defaults less
    assert y[score >= np.median(score)].mean() < y[score < np.median(score)].mean()


def test_bins_are_monotone_when_asked(fitted_scorecard) -> None:
    model, X, y, schema = fitted_scorecard
    df = make_features(1500, seed=3)
    cfg = ScorecardConfig(max_characteristics=6, trend="auto", trends=(("ext_source_2", "descending"),),
                          min_bin_share=0.1)
    forced = fit_scorecard(X, y, schema, cfg)
    ext2 = next(c for c in forced.characteristics if c.name == "ext_source_2")
    rates = [b["event_rate"] for b in ext2.bins[: ext2.n_regular]]
    assert len(rates) >= 2 and all(a >= b for a, b in zip(rates, rates[1:], strict=False))
    assert all(b["count"] >= 0.1 * len(df) - 1 for b in ext2.bins[: ext2.n_regular])
    for c in model.characteristics:  # default auto_asc_desc: every numeric characteristic is monotone
        if c.kind == "numeric" and c.n_regular > 1:
            r = [b["event_rate"] for b in c.bins[: c.n_regular]]
            assert r == sorted(r) or r == sorted(r, reverse=True), (c.name, r)


def test_missing_unseen_and_special_values_have_their_own_points(fitted_scorecard) -> None:
    model, X, y, schema = fitted_scorecard
    num = next(c for c in model.characteristics if c.kind == "numeric")
    assert num.points(np.array([np.nan]))[0] == num.bins[-1]["points"]  # the Missing bin
    cat = next((c for c in model.characteristics if c.kind == "categorical"), None)
    if cat is not None:
        assert cat.points(np.array(["never seen"], dtype=object))[0] == cat.unknown_points
    # a special code gets a bin of its own (with its own evidence), apart from the regular bins
    rng = np.random.default_rng(1)
    n = 3000
    y2 = (rng.uniform(size=n) < 0.1).astype(int)
    days = np.where(rng.uniform(size=n) < 0.15, 365243.0, -rng.uniform(100, 8000, n) - 2000 * y2)
    Xs = pd.DataFrame({"days_employed": days})
    sc = fit_scorecard(Xs, y2, FeatureSchema((FeatureSpec("days_employed", "numeric"),)),
                      ScorecardConfig(special_codes=(("days_employed", (365243.0,)),)))
    c = sc.characteristics[0]
    assert c.bins[c.n_regular]["bin"] == "Special" and c.bins[c.n_regular]["count"] == int((days == 365243).sum())
    assert c.bin_index(np.array([365243.0]))[0] == c.n_regular
    assert c.splits[-1] < 0  # the code 365243 did not stretch the regular bins


def test_quick_iv_separates_signal_from_noise() -> None:
    rng = np.random.default_rng(0)
    n = 4000
    y = (rng.uniform(size=n) < 0.1).astype(int)
    X = pd.DataFrame({"noise": rng.normal(size=n), "leak": y + rng.normal(scale=0.01, size=n),
                      "signal": rng.normal(size=n) + 0.8 * y})
    iv = quick_iv(X, y, FeatureSchema(tuple(FeatureSpec(c, "numeric") for c in X.columns)))
    assert iv["noise"] < 0.02 < iv["signal"] < iv["leak"]


@pytest.fixture(scope="module")
def scorecard_artifacts(small_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from models_ml.train import run_training

    artifacts = tmp_path_factory.mktemp("sc_art")
    run_training(fast_settings(small_warehouse, artifacts, families="dummy,scorecard"))
    return artifacts


def test_scorecard_is_trained_selected_and_round_trips(scorecard_artifacts: Path, small_warehouse: Path) -> None:
    model = load_current(scorecard_artifacts)
    meta = model.metadata
    assert meta.model_family == "scorecard" and meta.explanation_output_scale == "points"
    path = model.path
    assert {"scorecard.json", "scorecard.csv"} <= {p.name for p in path.iterdir()}
    assert not list(path.glob("*.pkl")) and not list(path.glob("*.skops"))
    stored = json.loads((path / "scorecard.json").read_text())
    assert stored["base_score"] == 600 and stored["base_odds"] == 50 and stored["pdo"] == 20
    table = pd.read_csv(path / "scorecard.csv")
    assert list(table.columns) == ["characteristic", "bin", "count", "event_rate", "woe", "points"]
    assert len(table) == len(meta.scorecard["table"])
    # the calibrated probability of the served model follows the points -> probability map
    from models_ml.data import load_applicants

    rows = load_applicants(small_warehouse, dataset="train").head(40)
    expl = model.explain(rows)
    score = expl.base_value + expl.values.sum(axis=1)
    sc = ScorecardModel.from_dict(stored)
    assert np.array_equal(score, sc.score(model.prepare(rows)))
    assert np.allclose(model.predict_raw(rows), sc.probability(score), rtol=0, atol=1e-15)
    card = (path / "model_card.md").read_text()
    assert "## Scorecard" in card and "### Points to probability" in card and "| characteristic | bin |" in card
    assert "mean abs deviation (points)" in card and "(SHAP" not in card
    m = meta.scorecard["score_to_probability"]
    assert [r["score"] for r in m] == sorted(r["score"] for r in m)
    assert all(a["probability_raw"] > b["probability_raw"] for a, b in zip(m, m[1:], strict=False))
    # reason codes: the largest shortfalls from the best bin, in points
    reasons = model.reasons(expl, row=0, top_k=3)
    assert reasons and all(r["shortfall"] > 0 and r["shap"] == -r["shortfall"] for r in reasons)
    assert [r["shortfall"] for r in reasons] == sorted((r["shortfall"] for r in reasons), reverse=True)
    assert all(f"{r['points']:g} points" in r["sentence"] for r in reasons)


def test_a_tampered_scorecard_is_refused_with_the_file_named(scorecard_artifacts: Path, tmp_path: Path) -> None:
    import shutil

    src = load_current(scorecard_artifacts).path
    bad = tmp_path / "v"
    shutil.copytree(src, bad)
    d = json.loads((bad / "scorecard.json").read_text())
    d["characteristics"][0]["name"] = "not_a_feature"
    (bad / "scorecard.json").write_text(json.dumps(d))
    with pytest.raises(ArtifactError, match="scorecard.json.*not_a_feature"):
        load_version(bad)
    d["characteristics"][0]["name"] = src.name
    d["characteristics"][0]["splits"] = []
    d["format_version"] = 99
    (bad / "scorecard.json").write_text(json.dumps(d))
    with pytest.raises(ArtifactError, match="format_version"):
        load_version(bad)


def test_families_setting_forces_the_scorecard_and_rejects_bad_trends() -> None:
    s = ModelSettings(families="scorecard", scorecard_trends="ext_source_2:descending",
                      scorecard_special_codes="days_employed:365243")
    assert s.family_list == ["scorecard"]
    cfg = s.scorecard_config
    assert cfg.trends == (("ext_source_2", "descending"),) and cfg.special_codes == (("days_employed", (365243.0,)),)
    with pytest.raises(ValueError, match="scorecard_trends"):
        ModelSettings(scorecard_trends="ext_source_2:sideways")
    with pytest.raises(ValueError, match="scorecard_special_codes"):
        ModelSettings(scorecard_special_codes="days_employed:abc")


def test_challenger_section_shows_the_table_without_a_calibrated_column(fitted_scorecard) -> None:
    from models_ml.model_card import scorecard_section
    from models_ml.reasons import FeatureLabeler
    from models_ml.scorecard import scorecard_summary

    model = fitted_scorecard[0]
    summary = scorecard_summary(model, None)
    assert summary["served"] is False and all(r["probability"] is None for r in summary["score_to_probability"])
    text = "\n".join(scorecard_section(summary, FeatureLabeler.default()))
    assert "## Scorecard (challenger, not served)" in text and "probability (calibrated)" not in text
    for row in model.table()[:3]:
        assert f"| {row['characteristic']} | {row['bin']} | {row['count']} |" in text
