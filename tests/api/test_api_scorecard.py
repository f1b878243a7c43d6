"""A scorecard served by the API: explanations in points, exactly additive to the score."""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest
from api_helpers import API_KEY, ApiEnv, api_settings
from fastapi.testclient import TestClient

from api.main import create_app
from models_ml.registry import load_current
from models_ml.scorecard import ScorecardModel
from models_ml.settings import ModelSettings
from warehouse.online import fetch_frame

H = {"X-API-Key": API_KEY}


@pytest.fixture(scope="module")
def scorecard_env(built_env: ApiEnv, tmp_path_factory: pytest.TempPathFactory) -> ApiEnv:
    from models_ml.train import run_training

    artifacts = tmp_path_factory.mktemp("api_scorecard")
    run_training(ModelSettings(warehouse=built_env.warehouse, artifacts=artifacts, train_profile="fast", n_folds=3,
                               n_jobs=1, families="dummy,scorecard"))
    return ApiEnv(built_env.raw_dir, built_env.warehouse, artifacts, artifacts)


@pytest.fixture(scope="module")
def client(scorecard_env: ApiEnv):
    with TestClient(create_app(api_settings(scorecard_env)), raise_server_exceptions=False) as c:
        yield c


def test_explanation_in_points_adds_up_to_the_score(client, scorecard_env: ApiEnv) -> None:
    model = load_current(scorecard_env.artifacts)
    assert model.metadata.model_family == "scorecard"
    with duckdb.connect(str(scorecard_env.warehouse), read_only=True) as con:
        rows = fetch_frame(con.sql("select * from applicant_features where dataset = 'train' order by sk_id_curr "
                                   "limit 5"))
    sc = ScorecardModel.from_dict(__import__("json").loads((model.path / "scorecard.json").read_text()))
    for sk_id in rows["sk_id_curr"].tolist()[:3]:
        r = client.get(f"/v1/applicants/{sk_id}/explanation", headers=H, params={"top": 1000, "reasons": 20})
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["output_scale"] == "points"
        row = rows[rows["sk_id_curr"] == sk_id]
        score = float(sc.score(model.prepare(row))[0])
        contributions = body["contributions"]
        assert {c["feature"] for c in contributions} == set(sc.names)  # the characteristics, nothing else
        assert body["score_points"] == score == sum(c["points"] for c in contributions)
        assert body["base_value"] + sum(c["shap"] for c in contributions) == pytest.approx(score, abs=1e-9)
        assert all(c["shap"] == c["points"] - c["best_points"] <= 0 for c in contributions)
        # the probability served is the calibrated map of the score's own probability
        raw = 1 / (1 + math.exp((score - sc.offset) / sc.factor))
        assert float(model.predict_raw(row)[0]) == pytest.approx(raw, abs=1e-15)
        assert body["probability"] == pytest.approx(float(model.predict_proba(row)[0]), abs=1e-12)
        reasons = body["reasons"]
        short = sorted((c["best_points"] - c["points"] for c in contributions if c["points"] < c["best_points"]),
                       reverse=True)
        assert [x["shortfall"] for x in reasons] == short[: len(reasons)]
        assert all(x["direction"] == "increases_risk" and "points" in x["sentence"] for x in reasons)
        assert "code_gender" not in {c["feature"] for c in contributions}
    assert np.isfinite(body["base_value"])
