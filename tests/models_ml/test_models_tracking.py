"""MLflow tracking of training runs: one run per training with its params, metrics and artifacts, the model
back from the registry, champion/challenger aliases, failed runs, an unreachable store and re-logging."""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from models_ml_synth import fast_settings

from models_ml import track
from models_ml.data import load_applicants
from models_ml.registry import load_current, promote
from models_ml.train import run_training

MODEL_NAME = "homecredit-default-risk"


@pytest.fixture(autouse=True)
def _fresh_tracking_state(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in (
        "MLFLOW_TRACKING_URI",
        "HC_TRACKING_URI",
        "HC_TRACKING",
        "HC_MLFLOW_MODEL_NAME",
        "HC_MLFLOW_EXPERIMENT",
    ):
        monkeypatch.delenv(var, raising=False)
    track._failed_stores.clear()
    yield
    track._failed_stores.clear()


def _client(artifacts: Path):  # noqa: ANN202 - mlflow.MlflowClient, imported lazily
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow import MlflowClient

    uri = (artifacts / "mlruns").resolve().as_uri()
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _parent_runs(client, status: str | None = None) -> list:  # noqa: ANN001
    exp = client.get_experiment_by_name(track.TrackingSettings().mlflow_experiment)
    runs = client.search_runs([exp.experiment_id], max_results=1000)
    return [
        r
        for r in runs
        if "mlflow.parentRunId" not in r.data.tags and (status is None or r.info.status == status)
    ]


def _alias_version(client, alias: str) -> str | None:  # noqa: ANN001
    return (client.get_registered_model(MODEL_NAME).aliases or {}).get(alias)


def _copy(artifacts: Path, dest: Path) -> Path:
    shutil.copytree(artifacts, dest, symlinks=True)
    return dest


def test_training_is_one_mlflow_run_with_params_metrics_and_artifacts(trained_artifacts: Path) -> None:
    meta = json.loads((trained_artifacts / "models" / "current" / "metadata.json").read_text())
    client = _client(trained_artifacts)
    runs = _parent_runs(client)
    assert len(runs) == 1
    run = runs[0]
    assert run.info.status == "FINISHED"
    assert run.data.tags[track.VERSION_TAG] == meta["version"] == run.info.run_name
    params = run.data.params
    assert params["model_family"] == meta["model_family"] and params["imbalance"] == meta["imbalance"]
    assert params["data_fingerprint"] == meta["data_fingerprint"]
    assert (params["n_folds"], params["seed"], params["cost_fn"]) == ("3", "0", "10.0")
    assert params["families"] == "dummy,logistic_regression,random_forest,lightgbm,xgboost"
    for key, value in meta["params"].items():
        assert params[f"hp.{key}"] == json.dumps(value) if not isinstance(value, str) else value
    metrics = run.data.metrics
    for key in ("roc_auc", "pr_auc", "brier", "ece", "business_cost"):
        assert metrics[key] == pytest.approx(meta["metrics"][key], rel=1e-12), key
    assert metrics["threshold"] == pytest.approx(meta["threshold"])
    folds = client.get_metric_history(run.info.run_id, "roc_auc_folds")
    # (MLflow 3 repeats the run's latest values when it links them to the logged model: compare by step)
    by_step = {m.step: m.value for m in folds}
    assert sorted(by_step) == [0, 1, 2]
    assert [by_step[i] for i in range(3)] == pytest.approx(meta["metrics"]["roc_auc_folds"])
    # one child run per candidate of the comparison (and per extra tuning trial), same numbers
    exp_id = run.info.experiment_id
    children = client.search_runs(
        [exp_id], f"tags.mlflow.parentRunId = '{run.info.run_id}'", max_results=1000
    )
    compared = {c.info.run_name: c for c in children if c.data.tags["hc_stage"] == "comparison"}
    assert len(compared) == len(meta["comparison"])
    for row in meta["comparison"]:
        child = compared[f"comparison: {row['model_family']}/{row['imbalance']}"]
        assert child.data.metrics["roc_auc"] == pytest.approx(row["roc_auc"])
        assert child.data.metrics["business_cost"] == pytest.approx(row["business_cost"])
    assert len(children) - len(compared) == len(meta["tuning"]) - 1
    # report artifacts, the model, and no rows of training data in the tracking store
    report = {Path(f.path).name for f in client.list_artifacts(run.info.run_id, track.REPORT_ARTIFACT)}
    assert {
        "model_card.html",
        "model_card.md",
        "metadata.json",
        "reliability.png",
        "comparison.png",
    } <= report
    assert not list((trained_artifacts / "mlruns").rglob("reference_sample.parquet"))
    assert run.data.tags["hc_registered_version"] == f"{MODEL_NAME}/1"


def test_champion_loads_back_and_scores_like_the_native_artifact(
    trained_artifacts: Path, small_warehouse: Path
) -> None:
    import mlflow

    native = load_current(trained_artifacts)
    client = _client(trained_artifacts)
    champion = client.get_model_version_by_alias(MODEL_NAME, track.CHAMPION)
    assert champion.tags[track.VERSION_TAG] == native.version
    with track.using_store((trained_artifacts / "mlruns").resolve().as_uri()):
        model = mlflow.pyfunc.load_model(f"models:/{MODEL_NAME}@{track.CHAMPION}")
    frame = load_applicants(small_warehouse, dataset=None)  # warehouse dtypes: int64, bool, str, extra ids
    out = model.predict(frame)
    np.testing.assert_allclose(out["probability"].to_numpy(), native.predict_proba(frame), rtol=0, atol=1e-12)
    assert list(out["decision"]) == native.decide(out["probability"].to_numpy())
    # the signature names every feature; the input example is one synthetic row, no identifier
    signature = model.metadata.signature
    assert signature.inputs.input_names() == native.feature_names
    assert signature.outputs.input_names() == ["probability", "decision", "risk_band"]
    example = model.input_example
    assert len(example) == 1 and "sk_id_curr" not in example.columns and "target" not in example.columns
    train = frame[frame["dataset"] == "train"]
    assert example["amt_credit"].iloc[0] == pytest.approx(train["amt_credit"].median(), rel=0.2)
    # models from code: no pickled object of ours in the store
    assert not [p for p in (trained_artifacts / "mlruns").rglob("*") if p.suffix in (".pkl", ".pickle")]


def test_failed_run_is_marked_failed_and_moves_nothing(
    trained_artifacts: Path, small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    artifacts = _copy(trained_artifacts, tmp_path / "art")
    client = _client(artifacts)
    champion_before = _alias_version(client, track.CHAMPION)
    versions_before = len(client.search_model_versions(f"name='{MODEL_NAME}'"))

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk full while writing the model card")

    monkeypatch.setattr("models_ml.steps.packaging.write_model_card", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        run_training(fast_settings(small_warehouse, artifacts, families="dummy"))
    failed = _parent_runs(client, "FAILED")
    assert len(failed) == 1
    assert "disk full" in failed[0].data.tags["hc_error"]
    assert _alias_version(client, track.CHAMPION) == champion_before
    assert len(client.search_model_versions(f"name='{MODEL_NAME}'")) == versions_before


def test_no_promote_sets_challenger_and_promotion_moves_champion(
    trained_artifacts: Path, small_warehouse: Path, tmp_path: Path
) -> None:
    artifacts = _copy(trained_artifacts, tmp_path / "art")
    client = _client(artifacts)
    champion_before = _alias_version(client, track.CHAMPION)
    path = run_training(fast_settings(small_warehouse, artifacts, families="dummy", promote=False))
    challenger = client.get_model_version_by_alias(MODEL_NAME, track.CHALLENGER)
    assert challenger.tags[track.VERSION_TAG] == path.name
    assert _alias_version(client, track.CHAMPION) == champion_before
    # promoting the version later mirrors into the registry: champion moves, challenger is cleared
    promote(artifacts, path.name)
    assert client.get_model_version_by_alias(MODEL_NAME, track.CHAMPION).tags[track.VERSION_TAG] == path.name
    assert _alias_version(client, track.CHALLENGER) is None
    promote(artifacts, _our_version(client, champion_before))
    assert _alias_version(client, track.CHAMPION) == champion_before


def _our_version(client, registered: str) -> str:  # noqa: ANN001
    return client.get_model_version(MODEL_NAME, registered).tags[track.VERSION_TAG]


@pytest.mark.trains
def test_unreachable_store_warns_once_and_the_version_can_be_relogged(
    small_warehouse: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    artifacts = tmp_path / "art"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://user:secret@127.0.0.1:9")
    with caplog.at_level(logging.INFO, logger="models_ml"):
        path = run_training(fast_settings(small_warehouse, artifacts, families="dummy"))
    assert (artifacts / "models" / "current").resolve() == path.resolve()
    warnings = [r for r in caplog.records if r.name == "models_ml.track" and r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    message = warnings[0].getMessage()
    assert "python -m models_ml.track VERSION" in message and "127.0.0.1:9" in message
    assert "secret" not in caplog.text
    assert f"python -m models_ml.track {path.name}" in caplog.text  # the exact command, once trained
    assert not (artifacts / "mlruns").exists()

    # later, with a reachable store: the command logs the version folder as a run and registers it
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    assert track.main([path.name, "--artifacts", str(artifacts)]) == 0
    assert f"logged {path.name}" in capsys.readouterr().out
    client = _client(artifacts)
    runs = _parent_runs(client, "FINISHED")
    assert [r.data.tags[track.VERSION_TAG] for r in runs] == [path.name]
    meta = json.loads((path / "metadata.json").read_text())
    assert runs[0].data.metrics["roc_auc"] == pytest.approx(meta["metrics"]["roc_auc"])
    assert runs[0].data.params["families"] == "dummy"
    assert client.get_model_version_by_alias(MODEL_NAME, track.CHAMPION).tags[track.VERSION_TAG] == path.name
    # a second re-log does not duplicate it
    assert track.main([path.name, "--artifacts", str(artifacts)]) == 0
    assert "already registered" in capsys.readouterr().out
    assert len(_parent_runs(client)) == 1


def test_relog_of_an_unknown_version_names_the_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert track.main(["20990101T000000Z-deadbeef", "--artifacts", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "20990101T000000Z-deadbeef" in err and "metadata.json missing" in err


@pytest.mark.trains
def test_tracking_can_be_switched_off(
    small_warehouse: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HC_TRACKING", "false")
    path = run_training(fast_settings(small_warehouse, tmp_path, families="dummy"))
    assert path.is_dir() and not (tmp_path / "mlruns").exists()


def test_redact_hides_credentials() -> None:
    assert track.redact("https://bob:pw@mlflow.example:5000/x") == "https://***@mlflow.example:5000/x"
    assert track.redact("file:///tmp/mlruns") == "file:///tmp/mlruns"


def test_each_run_goes_to_its_own_store(tmp_path: Path) -> None:
    """mlflow.set_tracking_uri writes MLFLOW_TRACKING_URI into the environment: a second training in the
    same process (another HC_ARTIFACTS) must not read it back as the user's choice."""
    for name in ("a", "b"):
        with track.TrainingRun(track.TrackingSettings(artifacts=tmp_path / name), {"seed": 0}) as run:
            assert run.run_id is not None
        assert "MLFLOW_TRACKING_URI" not in os.environ
        client = _client(tmp_path / name)
        assert [r.info.run_id for r in _parent_runs(client, "FINISHED")] == [run.run_id]


def test_the_ui_lock_matches_the_tracking_client(repo_root: Path) -> None:
    """`make mlflow` serves the store that mlflow-skinny writes: same MLflow version in both locks."""

    def pins(name: str) -> dict[str, str]:
        lines = (repo_root / name).read_text().splitlines()
        return dict(line.split("==", 1) for line in lines if "==" in line and not line.startswith("#"))

    client, ui = pins("requirements.lock"), pins("requirements-mlflow-ui.lock")
    assert ui["mlflow"] == ui["mlflow-skinny"] == client["mlflow-skinny"]


def test_run_parameters_from_settings_and_from_metadata_agree() -> None:
    from models_ml.settings import ModelSettings

    live = track.config_params(ModelSettings(cost_mode="money", seed=3, n_folds=4).model_dump())
    assert (live["cost_mode"], live["seed"], live["n_folds"]) == ("money", "3", "4")
    assert (live["loss_given_default"], live["lost_margin_rate"]) == ("0.6", "0.06")
    meta = {"cost_mode": "money", "seed": 3, "n_folds": 4, "cost_fn": 10.0, "cost_fp": 1.0,
            "money_costs": {"loss_given_default": 0.6, "lost_margin_rate": 0.06}}
    relogged = track.config_params(meta)  # python -m models_ml.track reads metadata.json
    assert {k: live[k] for k in relogged} == relogged
    assert "loss_given_default" not in track.config_params(ModelSettings().model_dump())


def test_a_run_that_fails_to_start_is_not_left_running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       caplog: pytest.LogCaptureFixture) -> None:
    """The file store writes the run before its tags: a failure in between must not leave it RUNNING."""
    os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
    from mlflow.store.tracking.file_store import FileStore

    original = FileStore.set_tag

    def flaky(self: FileStore, run_id: str, tag: object) -> None:
        if getattr(tag, "key", "") == "hc_component":
            raise OSError("disk hiccup")
        original(self, run_id, tag)

    monkeypatch.setattr(FileStore, "set_tag", flaky)
    cfg = track.TrackingSettings(artifacts=tmp_path)
    with caplog.at_level(logging.WARNING, logger="models_ml"), track.TrainingRun(cfg, {"seed": 0}) as run:
        assert run.run_id is None
    assert [r.info.status for r in _parent_runs(_client(tmp_path))] == ["FAILED"]
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1


def test_a_store_inside_a_folder_named_artifacts_finds_its_runs(tmp_path: Path) -> None:
    """HC_ARTIFACTS defaults to `artifacts`: MLflow 3.17's file store refuses every run directory with a
    folder named `artifacts` in its path, its own location included (runs 'not found')."""
    artifacts = tmp_path / "artifacts"
    with track.TrainingRun(track.TrackingSettings(artifacts=artifacts), {"seed": 0}) as run:
        assert run.run_id is not None
    client = _client(artifacts)
    assert client.get_run(run.run_id).info.status == "FINISHED"
    assert client.get_run(run.run_id).data.params["seed"] == "0"
