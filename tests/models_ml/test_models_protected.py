"""Protected attributes never feed a decision: not a model input, not in explanations or reason codes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from models_ml.data import load_applicants, load_training_set
from models_ml.protected import alias_dependencies, protected_features
from models_ml.registry import load_current
from models_ml.settings import ModelSettings

SQL = """with applications as (select sk_id_curr, nullif(nullif(CODE_GENDER, 'XNA'), 'XAP') as code_gender,
  days_birth, cnt_fam_members from raw),
features as (
  select applications.sk_id_curr,
    cast(applications.days_birth as double) / -365.25 as age_years,
    case when applications.code_gender = 'F' then 1 else 0 end as is_female,  -- encodes gender
    age_years * 2 as twice_age,
    coalesce(applications.cnt_fam_members, 0) as family_size
  from applications)
select * from features"""


def test_lineage_finds_every_feature_computed_from_a_protected_column() -> None:
    deps = alias_dependencies(SQL)
    assert "days_birth" in deps["age_years"] and "double" not in deps  # cast(... as double) is no alias
    cols = ["code_gender", "is_female", "age_years", "twice_age", "family_size", "code_gender_m", "amt_credit"]
    assert protected_features(cols, ["code_gender"], [SQL]) == {
        "code_gender": "code_gender", "is_female": "code_gender", "code_gender_m": "code_gender"}
    assert set(protected_features(cols, ["days_birth"], [SQL])) == {"age_years", "twice_age"}  # transitive
    assert protected_features(cols, [], [SQL]) == {}


def test_default_protected_list_is_gender_and_is_one_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ModelSettings().protected_columns == ["code_gender"]
    monkeypatch.setenv("HC_PROTECTED_ATTRIBUTES", "CODE_GENDER,NAME_FAMILY_STATUS")
    assert ModelSettings().protected_columns == ["code_gender", "name_family_status"]
    with pytest.raises(ValueError, match="protected_attributes"):
        ModelSettings(protected_attributes="CODE GENDER;drop")


def test_training_data_leaves_protected_columns_out_but_keeps_them_for_fairness(small_warehouse: Path) -> None:
    data = load_training_set(small_warehouse, protected=["code_gender", "days_birth"])
    assert "code_gender" not in data.schema.names and "days_birth" not in data.schema.names
    assert data.protected == {"code_gender": "code_gender", "days_birth": "days_birth"}
    assert {"code_gender", "days_birth", "name_family_status"} <= set(data.sensitive.columns)
    assert len(data.sensitive) == data.n_rows


def test_the_served_model_never_uses_gender(trained_artifacts: Path, small_warehouse: Path) -> None:
    model = load_current(trained_artifacts)
    meta = json.loads((model.path / "metadata.json").read_text())
    names = [f["name"] for f in meta["features"]]
    assert "code_gender" not in names and "code_gender" not in model.feature_names
    assert all(g["feature"] != "code_gender" for g in meta["global_importance"])
    assert all(r["feature"] != "code_gender" for r in meta["local_example"]["reasons"])
    assert meta["protected_attributes"]["attributes"] == ["code_gender"]
    prep = json.loads((model.path / "preprocessing.json").read_text())
    assert "code_gender" not in json.dumps(prep)  # no encoder level, no one-hot column
    rows = load_applicants(small_warehouse, dataset=None).head(60)
    expl = model.explain(rows)
    assert "code_gender" not in expl.feature_names
    for i in range(len(rows)):
        assert all(r["feature"] != "code_gender" for r in model.reasons(expl, row=i, top_k=len(expl.feature_names)))
    # changing the gender changes nothing
    flipped = rows.copy()
    flipped["code_gender"] = np.where(rows["code_gender"] == "F", "M", "F")
    assert np.array_equal(model.predict_proba(rows), model.predict_proba(flipped))
    assert np.array_equal(model.explain(flipped).values, expl.values)


def test_fairness_is_measured_with_fairlearn_per_protected_group(trained_artifacts: Path) -> None:
    meta = load_current(trained_artifacts).metadata.to_dict()
    summary = meta["fairness_summary"]
    assert set(summary) == {"code_gender", "age_band", "name_family_status"}
    gender = [s for s in meta["fairness"] if s["attribute"] == "code_gender"]
    assert {s["group"] for s in gender} == {"F", "M"}
    rates = [s["approval_rate"] for s in gender]
    assert summary["code_gender"]["demographic_parity_difference"] == pytest.approx(max(rates) - min(rates))
    fnr = [s["false_negative_rate"] for s in gender]
    fpr = [s["false_positive_rate"] for s in gender]
    assert summary["code_gender"]["equalized_odds_difference"] == pytest.approx(
        max(max(fnr) - min(fnr), max(fpr) - min(fpr)))
    card = (load_current(trained_artifacts).path / "model_card.md").read_text()
    assert "demographic parity difference" in card and "left out of the model inputs" in card
