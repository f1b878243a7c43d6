"""What-if for a known applicant: changed application values, the applicant's own history, the same SQL."""

from __future__ import annotations

import re

import duckdb
import pandas as pd
import pyarrow.parquet as pq
import pytest
from api_helpers import API_KEY, api_settings
from fastapi.testclient import TestClient

from api.main import create_app
from api.schemas.requests import WHAT_IF_FIELDS
from models_ml.registry import load_current
from warehouse.online import fetch_frame

H = {"X-API-Key": API_KEY}


@pytest.fixture(scope="module")
def client(api_env):
    with TestClient(create_app(api_settings(api_env)), raise_server_exceptions=False) as c:
        yield c


@pytest.fixture(scope="module")
def model(api_env):
    return load_current(api_env.artifacts)


@pytest.fixture(scope="module")
def rows(api_env) -> pd.DataFrame:
    with duckdb.connect(str(api_env.warehouse), read_only=True) as con:
        return fetch_frame(con.sql("select * from applicant_features order by sk_id_curr"))


@pytest.fixture(scope="module")
def with_history(rows) -> int:
    """A training applicant with Credit Bureau and previous-application history."""
    chosen = rows[(rows.dataset == "train") & (rows.bureau_credit_count > 0) & (rows.prev_application_count > 0)]
    return int(chosen.sk_id_curr.iloc[0])


def test_no_change_reproduces_the_official_score(client, with_history):
    official = client.get(f"/v1/applicants/{with_history}/score", headers=H).json()
    r = client.post(f"/v1/applicants/{with_history}/what-if", headers=H, json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["official"]["probability"] == pytest.approx(official["probability"], abs=1e-12)
    assert body["scenario"]["probability"] == pytest.approx(official["probability"], abs=1e-12)
    assert body["feature_changes"] == [] and body["changes"] == {}


def test_changes_move_the_application_features_and_keep_the_history(client, model, rows, with_history):
    row = rows[rows.sk_id_curr == with_history].iloc[0]
    changes = {"AMT_INCOME_TOTAL": float(row.amt_income_total) * 3, "AMT_CREDIT": float(row.amt_credit) / 2}
    body = client.post(f"/v1/applicants/{with_history}/what-if", headers=H, json=changes).json()
    assert body["changes"] == changes and body["model_version"] == model.version
    moved = {c["feature"]: c for c in body["feature_changes"]}
    assert moved["amt_income_total"]["after"] == pytest.approx(changes["AMT_INCOME_TOTAL"])
    assert moved["amt_income_total"]["before"] == pytest.approx(float(row.amt_income_total))
    assert moved["amt_credit"]["after"] == pytest.approx(changes["AMT_CREDIT"])
    derived = [f for f in ("credit_income_ratio", "annuity_income_ratio", "credit_goods_ratio") if f in model.feature_types]
    assert derived and all(f in moved for f in derived)
    assert not any(f.startswith(("bureau_", "prev_", "inst_", "pos_", "cc_")) for f in moved)  # history kept
    # the scenario is the model on the official row with exactly those features changed
    scenario = rows[rows.sk_id_curr == with_history].copy()
    for name, change in moved.items():
        scenario[name] = pd.array([change["after"]], dtype=scenario[name].dtype)
    assert body["scenario"]["probability"] == pytest.approx(float(model.predict_proba(scenario)[0]), abs=1e-9)
    assert body["scenario"]["decision"] == model.decide(body["scenario"]["probability"])


def test_what_if_scores_are_not_logged(client, api_env, with_history):
    services = client.app.state.services
    log_dir = api_settings(api_env).request_log_dir
    client.get(f"/v1/applicants/{with_history}/score", headers=H)
    services.request_log.flush()
    counted = _logged(log_dir)
    assert counted >= 1
    r = client.post(f"/v1/applicants/{with_history}/what-if", headers=H, json={"AMT_CREDIT": 123456.0})
    assert r.status_code == 200, r.text
    services.request_log.flush()
    assert _logged(log_dir) == counted


def _logged(log_dir) -> int:
    files = sorted(log_dir.rglob("*.parquet")) if log_dir.exists() else []
    return sum(pq.read_metadata(f).num_rows for f in files)


@pytest.mark.parametrize(("body", "field"), [
    ({"AMT_INCOME_TOTAL": -5}, "AMT_INCOME_TOTAL"),
    ({"AMT_CREDIT": "a lot"}, "AMT_CREDIT"),
    ({"DAYS_EMPLOYED": -100}, "DAYS_EMPLOYED"),  # not an editable field
    ({"CNT_CHILDREN": 1e9}, "CNT_CHILDREN"),
])
def test_bad_changes_are_422_naming_the_field(client, with_history, body, field):
    r = client.post(f"/v1/applicants/{with_history}/what-if", headers=H, json=body)
    assert r.status_code == 422
    assert field in r.text


def test_unknown_applicant_is_404(client):
    r = client.post("/v1/applicants/987654321/what-if", headers=H, json={"AMT_CREDIT": 100000.0})
    assert r.status_code == 404 and "987654321" in r.json()["detail"]


def test_stored_rows_that_do_not_fit_the_sql_are_503_not_422(client, with_history, monkeypatch):
    """Changes are validated by the schema; a failure to load the applicant's stored rows into the feature
    SQL is the warehouse's fault (e.g. built by another version of the models): 503, no traceback."""
    from warehouse.online import OnlineFeatureBuilder, OnlineInputError

    def broken(self, warehouse, sk_id_curr, changes):
        raise OnlineInputError("int_bureau_features: the seeded rows do not match the model's columns")

    monkeypatch.setattr(OnlineFeatureBuilder, "what_if", broken)
    r = client.post(f"/v1/applicants/{with_history}/what-if", headers=H, json={"AMT_CREDIT": 100000.0})
    assert r.status_code == 503
    assert "int_bureau_features" in r.json()["detail"] and "Traceback" not in r.text


def test_editable_fields_are_plain_renames_in_staging(repo_root):
    """The what-if writes values into the staged application: staging must not clean these columns."""
    for model in ("stg_application_train", "stg_application_test"):
        sql = (repo_root / "warehouse" / "models" / "staging" / f"{model}.sql").read_text()
        for field in WHAT_IF_FIELDS:
            assert re.search(rf"^\s*{field} as {field.lower()},?\s*$", sql, re.M), f"{model}: {field}"


def test_a_family_smaller_than_its_children_is_422(client, with_history, rows):
    """Issue 10, finding 4: CNT_FAM_MEMBERS counts the applicant and the children (warehouse test)."""
    r = client.post(f"/v1/applicants/{with_history}/what-if", headers=H, json={"CNT_FAM_MEMBERS": 0})
    assert r.status_code == 422 and "CNT_FAM_MEMBERS" in r.text
    r = client.post(f"/v1/applicants/{with_history}/what-if", headers=H,
                    json={"CNT_FAM_MEMBERS": 1, "CNT_CHILDREN": 5})
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "body.CNT_FAM_MEMBERS"
    stored = rows.loc[rows.sk_id_curr == with_history, "cnt_fam_members"].iloc[0]
    r = client.post(f"/v1/applicants/{with_history}/what-if", headers=H, json={"CNT_CHILDREN": int(stored) + 3})
    assert r.status_code == 422 and "CNT_FAM_MEMBERS" in r.text  # the stored family size is too small


@pytest.mark.parametrize("path_id", ["100002.0", "1e5", "+100002", " 100002"])
def test_path_ids_are_plain_integers(client, path_id):
    r = client.get(f"/v1/applicants/{path_id}/score", headers=H)
    assert r.status_code == 422 and r.json()["detail"][0]["field"] == "path.sk_id_curr"
