"""metadata.json through the typed contract: round trip, a file written by the previous main, clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hc_contracts.metadata import (
    MetadataError,
    ModelMetadata,
    RiskBand,
    build_metadata,
    read_metadata,
    write_metadata,
)

# metadata.json as written by `make train` (fast profile, synthetic SCALE=0.01) on main at 8da5712, before
# the typed model existed: every artifact of that time must keep loading.
OLD_FILE = Path(__file__).with_name("fixtures") / "metadata_main_8da5712.json"


def _minimal(**extra: object) -> dict:
    return {"version": "20260101T000000Z-abcd1234", "threshold": 0.12,
            "features": [{"name": "ext_source_2", "type": "numeric"}, {"name": "flag_own_car", "type": "boolean"}],
            **extra}


def test_a_file_written_before_the_typed_model_loads_and_round_trips_unchanged(tmp_path: Path) -> None:
    original = json.loads(OLD_FILE.read_text())
    (tmp_path / "metadata.json").write_text(OLD_FILE.read_text())
    meta = read_metadata(tmp_path)
    assert meta.version == original["version"] and meta.threshold == pytest.approx(original["threshold"])
    assert meta.model_family == original["model_family"]
    assert meta.feature_names == [f["name"] for f in original["features"]]
    assert meta.metrics is not None and meta.metrics.roc_auc == pytest.approx(original["metrics"]["roc_auc"])
    assert meta.importance_order[0] == original["global_importance"][0]["feature"]
    assert [b.name for b in meta.risk_bands] == [b["name"] for b in original["risk_bands"]]
    assert meta.data is not None and meta.data.rows == original["data"]["rows"]
    assert meta.to_dict() == original  # nothing lost, nothing added (descriptive fields kept as written)
    out = tmp_path / "again"
    out.mkdir()
    write_metadata(out, meta)
    assert json.loads((out / "metadata.json").read_text()) == original


def test_training_values_are_validated_and_made_json_on_the_way_in(tmp_path: Path) -> None:
    meta = build_metadata(_minimal(
        cost_fn=np.float64(10), boosting_rounds=np.int64(42), timings_s={"fit_s": np.float32(1.5)},
        metrics={"roc_auc": np.float64(0.75), "business_cost": 0.5, "ks": float("nan"), "roc_auc_std": 0.01},
        risk_bands=[{"name": "low", "lower": 0.0, "upper": 0.06, "decision": "grant"},
                    {"name": "high", "lower": 0.06, "upper": 1.0, "decision": "refuse"}],
        global_importance=[{"feature": "flag_own_car", "mean_abs_shap": 0.1},
                           {"feature": "ext_source_2", "mean_abs_shap": 0.4}],
        future_field={"kept": True}))
    assert meta.boosting_rounds == 42 and meta.metrics is not None and meta.metrics.ks is None  # NaN -> null
    assert meta.importance_order == ["ext_source_2", "flag_own_car"]
    assert meta.feature_kinds == {"ext_source_2": "numeric", "flag_own_car": "boolean"}
    assert meta.risk_bands[1] == RiskBand(name="high", lower=0.06, upper=1.0, decision="refuse")
    write_metadata(tmp_path, meta)
    back = read_metadata(tmp_path)
    assert back == meta
    assert back.to_dict()["future_field"] == {"kept": True}  # unknown keys survive
    assert back.to_dict()["metrics"]["roc_auc_std"] == 0.01
    assert "created_at" not in back.to_dict()  # defaults training did not set are not written
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file left


@pytest.mark.parametrize(("fields", "named"), [
    ({"threshold": 0.1, "features": [{"name": "a", "type": "numeric"}]}, r"field 'version': Field required"),
    (_minimal(threshold=1.5), r"field 'threshold': .*less than or equal to 1.*1\.5"),
    (_minimal(features=[{"name": "a", "type": "text"}]), r"field 'features\.0\.type': .*'numeric'.*'text'"),
    (_minimal(metrics={"roc_auc": 0.7}), r"field 'metrics\.business_cost': Field required"),
    (_minimal(risk_bands=[{"name": "low", "lower": -1, "upper": 0.5}]), r"field 'risk_bands\.0\.lower'"),
])
def test_a_bad_field_is_named_with_the_file(tmp_path: Path, fields: dict, named: str) -> None:
    (tmp_path / "metadata.json").write_text(json.dumps(fields))
    with pytest.raises(MetadataError, match=named) as err:
        read_metadata(tmp_path)
    assert str(tmp_path / "metadata.json") in str(err.value)


def test_missing_or_unreadable_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(MetadataError, match=r"metadata\.json is missing: not a complete model version"):
        read_metadata(tmp_path)
    (tmp_path / "metadata.json").write_text("{ not json")
    with pytest.raises(MetadataError, match=r"metadata\.json is not valid JSON"):
        read_metadata(tmp_path)
    (tmp_path / "metadata.json").write_text("[1, 2]")
    with pytest.raises(MetadataError, match="must hold a JSON object"):
        read_metadata(tmp_path)


def test_the_model_is_the_one_documented_in_interfaces_md(repo_root: Path) -> None:
    doc = (repo_root / "docs" / "interfaces.md").read_text()
    section = doc[doc.index("<version>/metadata.json"):doc.index("A scorecard version holds")]
    for name in ("version", "created_at", "model_family", "imbalance", "threshold", "cost_fn", "cost_fp", "metrics",
                 "comparison", "features", "global_importance", "protected_attributes", "fairness",
                 "fairness_summary", "strongest_characteristics", "scorecard", "monotone", "risk_bands",
                 "data_fingerprint", "package_versions"):
        assert f"`{name}`" in section and name in ModelMetadata.model_fields, name
