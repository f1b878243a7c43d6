"""MLflow experiment tracking and model registry for training runs (docs/modeling.md, "Experiment tracking").

Every training is one MLflow run: its settings when it starts; at the end the selected model's parameters,
the out-of-fold metrics (per-fold values as steps), one child run per candidate of the comparison and of the
tuning, the model card, plots and ``metadata.json``, and the model itself as an ``mlflow.pyfunc`` model from
code (``models_ml/mlflow_model.py``) whose artifact is the version folder. The version is registered under one
registered model name with the tag ``hc_version``; promotion moves the alias ``champion``
(``registry.promote`` calls :func:`mirror_promotion`), ``--no-promote`` sets ``challenger``. A run whose
training raises ends FAILED and promotes nothing.

The version folder and ``models/current`` stay the source of truth: tracking never breaks training. When the
store cannot be reached (or an MLflow call fails) the run goes on untracked, one warning says so, and
``python -m models_ml.track VERSION`` logs the version folder as a run afterwards.

Default store: the MLflow file store under ``$HC_ARTIFACTS/mlruns`` (embedded, no server; ``mlflow-skinny``
has no SQLAlchemy for a SQLite store). MLflow 3.17 refuses the file store unless ``MLFLOW_ALLOW_FILE_STORE``
is true; this module sets it for that store only. ``MLFLOW_TRACKING_URI`` points at any other store.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from hc_contracts.layout import METADATA_FILE, ArtifactLayout
from hc_contracts.metadata import MetadataError, read_metadata
from hc_contracts.settings import PlatformSettings
from models_ml.errors import ArtifactError

log = logging.getLogger("models_ml.track")

CHAMPION = "champion"
CHALLENGER = "challenger"
VERSION_TAG = "hc_version"
MODEL_ARTIFACT = "model"
# the pyfunc model from code (read by MLflow, not imported here: importing it registers the model object)
MODEL_CODE = Path(__file__).with_name("mlflow_model.py")
VERSION_ARTIFACT = "version"  # pyfunc artifact name of the version folder
REPORT_ARTIFACT = "report"
REPORT_SUFFIXES = (".html", ".md", ".png")  # model card and plots; plus metadata.json
# never copied into the tracking store: rows of training data (personal data stays in the artifacts folder)
NOT_TRACKED = frozenset({"reference_sample.parquet"})
RELOG_HINT = "python -m models_ml.track VERSION"

T = TypeVar("T")

# Stores that already failed in this process: warned about once, never retried (no minutes of retries).
_failed_stores: set[str] = set()


class TrackingSettings(PlatformSettings):
    """Where and how runs are tracked (``HC_*`` variables; ``MLFLOW_TRACKING_URI`` for the store)."""

    model_config = SettingsConfigDict(
        env_prefix="HC_", extra="ignore", protected_namespaces=(), populate_by_name=True
    )

    tracking_uri: str | None = Field(
        None,
        validation_alias="MLFLOW_TRACKING_URI",
        description="MLflow tracking store (MLFLOW_TRACKING_URI); default: file store $HC_ARTIFACTS/mlruns",
    )
    tracking: bool = Field(True, description="HC_TRACKING=false: no MLflow run at all")
    mlflow_experiment: str = Field("homecredit-default-risk", min_length=1, description="experiment name")
    mlflow_model_name: str = Field(
        "homecredit-default-risk", min_length=1, description="registered model name of every promoted version"
    )
    mlflow_timeout_s: int = Field(10, ge=1, le=600, description="seconds per MLflow HTTP request")
    mlflow_retries: int = Field(1, ge=0, le=10, description="retries of a failed MLflow HTTP request")

    @property
    def default_store(self) -> Path:
        return self.layout.mlruns_dir.resolve()

    @property
    def uri(self) -> str:
        return self.tracking_uri or self.default_store.as_uri()

    @property
    def is_file_store(self) -> bool:
        scheme = urlsplit(self.uri).scheme
        return scheme in ("", "file")


def redact(uri: str) -> str:
    """The URI without user name or password (safe for logs)."""
    parts = urlsplit(uri)
    if parts.username or parts.password:
        host = parts.hostname or ""
        netloc = f"***@{host}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return uri


def _configure_mlflow(cfg: TrackingSettings) -> None:
    """MLflow reads these from the environment: short HTTP timeouts and few retries (its defaults, 120 s x 7
    retries with backoff, would stall training for minutes on a dead server), and the file-store opt-in."""
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", str(cfg.mlflow_timeout_s))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", str(cfg.mlflow_retries))
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", "1")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    if cfg.is_file_store:
        os.environ["MLFLOW_ALLOW_FILE_STORE"] = "true"
        _file_store_under_artifacts_folder()


_URI_VARIABLES = ("MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI")


def _point_mlflow_at(uri: str) -> dict[str, str | None]:
    """Point MLflow's fluent API at ``uri``; returns what to restore. ``mlflow.set_tracking_uri`` also writes
    MLFLOW_TRACKING_URI into the environment, where the next run of this process would read it as the
    user's choice: the run restores it when it ends."""
    import mlflow

    before = {k: os.environ.get(k) for k in _URI_VARIABLES}
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    return before


def _restore_mlflow_uris(before: dict[str, str | None]) -> None:
    import mlflow

    mlflow.set_tracking_uri(None)  # type: ignore[arg-type]  # None: back to the environment's choice
    mlflow.set_registry_uri(None)  # type: ignore[arg-type]
    for key, value in before.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@contextmanager
def using_store(uri: str) -> Iterator[None]:
    """MLflow's fluent API (``mlflow.pyfunc.load_model("models:/...")``, ``mlflow.get_run``, ...) on ``uri``
    for a while, with the file-store settings training uses (opt-in, path guard below the store root)."""
    _configure_mlflow(TrackingSettings(tracking_uri=uri))
    before = _point_mlflow_at(uri)
    try:
        yield
    finally:
        _restore_mlflow_uris(before)


def _file_store_under_artifacts_folder() -> None:
    """MLflow 3.17's file store takes any run directory with a folder named ``artifacts`` in its path for a
    run planted inside some run's artifacts (a path-traversal guard) and refuses it -- the store's own
    location included, so a store in ``$HC_ARTIFACTS/mlruns`` with the default ``HC_ARTIFACTS=artifacts``
    finds none of its runs ("Run ... not found"). Same guard, applied below the store's root only."""
    from mlflow.store.tracking.file_store import FileStore

    if getattr(FileStore, "_hc_guard_below_root", False):
        return
    original = FileStore._is_valid_run_directory

    def _is_valid_run_directory(self: FileStore, run_dir: str) -> bool:
        root = os.path.normpath(os.path.abspath(self.root_directory))
        path = os.path.normpath(os.path.abspath(run_dir))
        if os.path.commonpath([root, path]) != root:
            return original(self, run_dir)
        inner = os.path.relpath(path, root).split(os.sep)
        if FileStore.ARTIFACTS_FOLDER_NAME in inner[:-1]:
            return False
        folders = (
            FileStore.METRICS_FOLDER_NAME,
            FileStore.PARAMS_FOLDER_NAME,
            FileStore.ARTIFACTS_FOLDER_NAME,
        )
        return all(os.path.isdir(os.path.join(path, folder)) for folder in folders)

    FileStore._is_valid_run_directory = _is_valid_run_directory  # type: ignore[method-assign]
    FileStore._hc_guard_below_root = True  # type: ignore[attr-defined]


def _probe(cfg: TrackingSettings) -> None:
    """One quick request to an HTTP store; raises when nothing answers there (any HTTP answer is fine)."""
    if urlsplit(cfg.uri).scheme not in ("http", "https"):
        return
    import requests

    requests.get(cfg.uri.rstrip("/") + "/health", timeout=min(cfg.mlflow_timeout_s, 5))


def _warn_once(cfg: TrackingSettings, what: str, exc: BaseException) -> None:
    key = cfg.uri
    if key in _failed_stores:
        return
    _failed_stores.add(key)
    log.debug("MLflow failure while %s", what, exc_info=exc)
    reason = f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
    secret = urlsplit(cfg.uri).password
    if secret:
        reason = reason.replace(secret, "***")
    log.warning(
        "MLflow tracking at %s is off for this process (%s failed: %s). Training is not affected; "
        "once the store is reachable, log the version with `%s`.",
        redact(cfg.uri),
        what,
        reason,
        RELOG_HINT,
    )


def _end_orphan(cfg: TrackingSettings, experiment_id: str, run_name: str) -> None:
    """A run the store created before ``start_run`` failed would stay RUNNING for ever: end it FAILED."""
    with suppress(Exception):
        client = _client(cfg)
        for run in client.search_runs(
            [experiment_id], f"attributes.run_name = '{run_name}' and attributes.status = 'RUNNING'"
        ):
            client.set_terminated(run.info.run_id, "FAILED")


def store_failed(cfg: TrackingSettings) -> bool:
    return cfg.uri in _failed_stores


def _scalar_metrics(values: dict[str, Any], prefix: str = "") -> dict[str, float]:
    out: dict[str, float] = {}
    for key, value in values.items():
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            continue
        if np.isfinite(float(value)):
            out[f"{prefix}{key}"] = float(value)
    return out


def _param(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:6000]


def config_params(meta: dict[str, Any]) -> dict[str, str]:
    """What the run was asked to do: families, costs, folds, seed, profile (from the settings or metadata)."""
    keys = (
        "families",
        "cost_fn",
        "cost_fp",
        "cost_mode",
        "n_folds",
        "seed",
        "train_profile",
        "compare_max_rows",
        "undersample_ratio",
        "time_budget_s",
        "promote",
    )
    params = {k: _param(meta[k]) for k in keys if meta.get(k) is not None}
    money = meta.get("money_costs") or {}  # metadata.json; the settings carry the two fields directly
    if meta.get("cost_mode") == "money":
        for k in ("loss_given_default", "lost_margin_rate"):
            value = meta.get(k, money.get(k))
            if value is not None:
                params[k] = _param(value)
    return params


def result_params(meta: dict[str, Any]) -> dict[str, str]:
    """What the run chose: family, imbalance strategy, hyper-parameters, calibration, data fingerprint."""
    params = {
        "model_family": meta["model_family"],
        "imbalance": meta["imbalance"],
        "data_fingerprint": meta.get("data_fingerprint", ""),
        "calibration": (meta.get("calibration") or {}).get("method", ""),
        "boosting_rounds": meta.get("boosting_rounds"),
        "version": meta["version"],
    }
    data = meta.get("data") or {}
    params.update({"data_rows": data.get("rows"), "data_features": data.get("features")})
    params.update({f"hp.{k}": v for k, v in (meta.get("params") or {}).items()})
    return {k: _param(v) for k, v in params.items() if v is not None}


def final_metrics(meta: dict[str, Any]) -> tuple[dict[str, float], dict[str, list[float]]]:
    """Scalar out-of-fold metrics of the final model and per-fold series (logged as steps)."""
    metrics = meta.get("metrics") or {}
    scalars = _scalar_metrics(metrics)
    scalars["threshold"] = float(meta["threshold"])
    scalars.update(_scalar_metrics(meta.get("timings_s") or {}, "timing_"))
    series = {
        k: [float(v) for v in vals]
        for k, vals in metrics.items()
        if k.endswith("_folds") and isinstance(vals, list)
    }
    return scalars, series


def input_example(version_dir: Path, features: list[dict[str, str]]) -> pd.DataFrame:
    """One synthetic row -- the median of every numeric feature, the most frequent category or flag -- from
    the version's reference sample: an aggregate, never an applicant's row, and no identifier."""
    ref_path = version_dir / "reference_sample.parquet"
    ref = pd.read_parquet(ref_path) if ref_path.is_file() else pd.DataFrame()
    row: dict[str, Any] = {}
    for spec in features:
        name, kind = spec["name"], spec["type"]
        col = ref[name] if name in ref.columns else pd.Series(dtype=object)
        if kind == "categorical":
            mode = col.dropna().astype(str).mode()
            row[name] = str(mode.iloc[0]) if len(mode) else ""
        elif kind == "boolean":
            mode = pd.to_numeric(col.dropna().astype(float), errors="coerce").mode()
            row[name] = float(mode.iloc[0]) if len(mode) else 0.0
        else:
            med = pd.to_numeric(col, errors="coerce").median()
            row[name] = float(med) if pd.notna(med) else 0.0
    return pd.DataFrame([row], columns=[f["name"] for f in features])


def model_signature(features: list[dict[str, str]]) -> Any:
    """Inputs: every feature by name, typed ``Any`` and optional; outputs: probability, decision, risk band.

    MLflow's typed enforcement refuses what the warehouse really hands out (``int64`` columns for a
    ``double`` spec, ``None`` in flags), and its enforcement errors print the whole input frame -- applicant
    data -- in the message. The model checks its inputs itself (``FeatureSchema.prepare``: a missing or
    mistyped column is named, no value beyond the offending one is shown)."""
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from mlflow.types.schema import AnyType

    inputs = Schema([ColSpec(AnyType(), f["name"], required=False) for f in features])
    outputs = Schema(
        [ColSpec("double", "probability"), ColSpec("string", "decision"), ColSpec("string", "risk_band")]
    )
    return ModelSignature(inputs=inputs, outputs=outputs)


def pip_requirements(meta: dict[str, Any]) -> list[str]:
    """The packages the model needs at load time, pinned to the versions it was trained with."""
    from importlib import metadata as importlib_metadata

    names = {"xgboost": "xgboost-cpu"}
    out = []
    for dist, version in sorted((meta.get("package_versions") or {}).items()):
        if dist == "python" or not version or version in ("unknown", "not installed"):
            continue
        out.append(f"{names.get(dist, dist)}=={version}")
    with suppress(importlib_metadata.PackageNotFoundError):
        out.append(f"mlflow-skinny=={importlib_metadata.version('mlflow-skinny')}")
    return out


class TrainingRun:
    """One MLflow run around a training (a context manager). Every MLflow call is guarded: the first failure
    warns once and turns tracking off for the rest of the run; the training itself never sees it."""

    def __init__(
        self,
        cfg: TrackingSettings,
        config: dict[str, Any],
        run_name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> None:
        self.cfg = cfg
        self.config = config
        self.run_name = run_name or f"train-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        self.tags = dict(tags or {})
        self.run_id: str | None = None
        self.registered: str | None = None  # registry version number of the logged model
        self.version: str | None = None
        self._mlflow: Any = None
        self.seconds = 0.0  # spent in MLflow calls (bench/bench_tracking.py)
        self._uris_before: dict[str, str | None] | None = None

    # --- life cycle -------------------------------------------------------------------------------------
    @property
    def active(self) -> bool:
        return self.run_id is not None and not store_failed(self.cfg)

    def __enter__(self) -> TrainingRun:
        if not self.cfg.tracking:
            return self
        if store_failed(self.cfg):
            return self
        self._guard("starting the run", self._start)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._mlflow is None or self.run_id is None:
            self._restore_uris()
            if exc is None and self.cfg.tracking and self.version:
                log.info(
                    "version %s is not tracked in MLflow; log it later with `python -m models_ml.track %s`",
                    self.version,
                    self.version,
                )
            return
        mlflow = self._mlflow
        try:
            if exc is not None and self.active:
                self._guard(
                    "marking the run failed",
                    lambda: mlflow.set_tags(
                        {"hc_error": f"{exc_type.__name__ if exc_type else 'Error'}: {str(exc)[:500]}"}
                    ),
                )
            status = "FAILED" if exc is not None else "FINISHED"
            if self.active:
                self._guard("ending the run", lambda: mlflow.end_run(status=status))
                log.info(
                    "MLflow run %s %s at %s (%.1f s of tracking)",
                    self.run_id,
                    status,
                    redact(self.cfg.uri),
                    self.seconds,
                )
            elif exc is None and self.version:
                log.info(
                    "version %s is not fully tracked in MLflow; log it later with "
                    "`python -m models_ml.track %s`",
                    self.version,
                    self.version,
                )
        finally:
            # never leave a run open in this process, whatever the store did
            while mlflow.active_run() is not None:
                try:
                    mlflow.end_run(status="FAILED")
                except Exception:  # noqa: BLE001 - the store is gone; local state is cleared anyway
                    break
            self._restore_uris()

    def _restore_uris(self) -> None:
        if self._uris_before is not None:
            _restore_mlflow_uris(self._uris_before)
            self._uris_before = None

    def _start(self) -> None:
        _configure_mlflow(self.cfg)
        _probe(self.cfg)
        import mlflow

        self._mlflow = mlflow
        self._uris_before = _point_mlflow_at(self.cfg.uri)
        experiment = mlflow.set_experiment(self.cfg.mlflow_experiment)
        try:
            run = mlflow.start_run(
                run_name=self.run_name, tags={"hc_component": "models_ml.train", **self.tags}
            )
        except Exception:
            _end_orphan(self.cfg, experiment.experiment_id, self.run_name)
            raise
        self.run_id = run.info.run_id
        mlflow.log_params({k: _param(v) for k, v in config_params(self.config).items()})

    def _guard(self, what: str, fn: Callable[[], T]) -> T | None:
        if store_failed(self.cfg) or not self.cfg.tracking:
            return None
        t0 = time.perf_counter()
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - tracking must never break training
            _warn_once(self.cfg, what, exc)
            return None
        finally:
            self.seconds += time.perf_counter() - t0

    # --- logging a written version ----------------------------------------------------------------------
    def log_version(self, version_dir: Path, alias: str | None = None) -> None:
        """Log the version folder (params, metrics, child runs, report, pyfunc model) and register it."""
        meta = read_metadata(version_dir).to_dict()  # validated (hc_contracts.metadata); JSON form to flatten
        self.version = meta["version"]
        if not self.active:
            return
        self._guard("logging the results", lambda: self._log_results(meta))
        self._guard("logging the report", lambda: self._log_report(Path(version_dir)))
        self._guard("logging the model", lambda: self._log_model(Path(version_dir), meta))
        if alias and self.registered:
            self._guard(f"setting the alias {alias!r}", lambda: set_alias(self.cfg, self.registered, alias))

    def _log_results(self, meta: dict[str, Any]) -> None:
        mlflow = self._mlflow
        mlflow.set_tags({VERSION_TAG: meta["version"], "mlflow.runName": meta["version"]})
        mlflow.log_params(result_params(meta))
        scalars, series = final_metrics(meta)
        mlflow.log_metrics(scalars)
        for key, values in series.items():
            for step, value in enumerate(values):
                if np.isfinite(value):
                    mlflow.log_metric(key, value, step=step)
        rows = [dict(r, stage="comparison") for r in meta.get("comparison") or []]
        rows += [
            dict(r, stage="tuning", model_family=meta["model_family"], imbalance=meta["imbalance"])
            for r in (meta.get("tuning") or [])[1:]
        ]  # the first trial is the selected default
        for i, row in enumerate(rows):
            name = f"{row['stage']}: {row['model_family']}/{row['imbalance']}"
            with mlflow.start_run(
                run_name=name if row["stage"] == "comparison" else f"{name} #{i}",
                nested=True,
                tags={"hc_stage": row["stage"], VERSION_TAG: meta["version"]},
            ):
                params = {
                    "model_family": row["model_family"],
                    "imbalance": row["imbalance"],
                    **{f"hp.{k}": v for k, v in (row.get("params") or {}).items()},
                }
                mlflow.log_params({k: _param(v) for k, v in params.items()})
                mlflow.log_metrics(_scalar_metrics({k: v for k, v in row.items() if k != "params"}))
        if meta.get("comparison"):
            mlflow.log_table(
                pd.DataFrame([{k: v for k, v in r.items() if k != "params"} for r in meta["comparison"]]),
                "comparison.json",
            )

    def _log_report(self, version_dir: Path) -> None:
        for path in sorted(version_dir.iterdir()):
            if path.is_file() and (path.suffix in REPORT_SUFFIXES or path.name == "metadata.json"):
                self._mlflow.log_artifact(str(path), REPORT_ARTIFACT)

    def _log_model(self, version_dir: Path, meta: dict[str, Any]) -> None:
        mlflow = self._mlflow
        features = meta["features"]
        with tempfile.TemporaryDirectory(prefix="hc-mlflow-") as tmp:
            staged = Path(tmp) / meta["version"]
            shutil.copytree(
                version_dir, staged, ignore=lambda _d, names: [n for n in names if n in NOT_TRACKED]
            )
            info = mlflow.pyfunc.log_model(
                name=MODEL_ARTIFACT,
                python_model=str(MODEL_CODE),
                artifacts={VERSION_ARTIFACT: str(staged)},
                signature=model_signature(features),
                input_example=input_example(version_dir, features),
                pip_requirements=pip_requirements(meta),
                tags={VERSION_TAG: meta["version"]},
            )
        mv = mlflow.register_model(
            info.model_uri,
            self.cfg.mlflow_model_name,
            tags={VERSION_TAG: meta["version"], "model_family": meta["model_family"]},
        )
        self.registered = str(mv.version)
        mlflow.set_tag("hc_registered_version", f"{self.cfg.mlflow_model_name}/{mv.version}")


# --- registry --------------------------------------------------------------------------------------------
def _client(cfg: TrackingSettings) -> Any:
    _configure_mlflow(cfg)
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=cfg.uri, registry_uri=cfg.uri)


def find_model_version(cfg: TrackingSettings, version: str) -> Any | None:
    """The newest registered model version carrying our ``version`` id, or None."""
    client = _client(cfg)
    from mlflow.exceptions import MlflowException

    try:
        found = client.search_model_versions(f"name='{cfg.mlflow_model_name}'")
    except MlflowException:
        return None
    mine = [mv for mv in found if (mv.tags or {}).get(VERSION_TAG) == version]
    return max(mine, key=lambda mv: int(mv.version)) if mine else None


def set_alias(cfg: TrackingSettings, registered_version: str, alias: str) -> None:
    """Point ``alias`` at a registered version; ``champion`` also clears ``challenger`` on that version."""
    client = _client(cfg)
    name = cfg.mlflow_model_name
    client.set_registered_model_alias(name, alias, registered_version)
    if alias == CHAMPION:
        current = client.get_registered_model(name).aliases or {}
        if str(current.get(CHALLENGER, "")) == str(registered_version):
            client.delete_registered_model_alias(name, CHALLENGER)
        client.set_model_version_tag(
            name, registered_version, "hc_promoted_at", datetime.now(UTC).isoformat(timespec="seconds")
        )


def mirror_promotion(artifacts_dir: Path | str, version: str) -> None:
    """Move ``champion`` to the registered model version of ``version`` (called by ``registry.promote``).

    Best effort and quiet when there is nothing to mirror (tracking off, no store yet, version never logged).
    """
    cfg = TrackingSettings(artifacts=Path(artifacts_dir))
    if not cfg.tracking or store_failed(cfg):
        return
    if cfg.tracking_uri is None and not cfg.default_store.is_dir():
        return
    try:
        _probe(cfg)
        mv = find_model_version(cfg, version)
        if mv is None:
            log.info(
                "promoted %s is not registered in MLflow; log it with `python -m models_ml.track %s`",
                version,
                version,
            )
            return
        set_alias(cfg, str(mv.version), CHAMPION)
        log.info("MLflow: %s@%s -> version %s (%s)", cfg.mlflow_model_name, CHAMPION, mv.version, version)
    except Exception as exc:  # noqa: BLE001 - the promotion itself is done; tracking must not undo it
        _warn_once(cfg, f"moving the alias {CHAMPION!r}", exc)


@contextmanager
def training_run(config: dict[str, Any], artifacts: Path) -> Iterator[TrainingRun]:
    """The run of one ``make train``: ``config`` is the training settings (``ModelSettings.model_dump()``)."""
    with TrainingRun(TrackingSettings(artifacts=artifacts), config) as run:
        yield run


# --- python -m models_ml.track VERSION --------------------------------------------------------------------
def relog(artifacts: Path, version: str, alias: str | None = None) -> TrainingRun:
    """Log an existing version folder as a new (finished) run and register it; ``champion`` if it is the
    promoted version, else ``alias`` if given."""
    from models_ml.registry import current_path

    layout = ArtifactLayout(Path(artifacts))
    version_dir = layout.version_dir(version)
    if not (version_dir / METADATA_FILE).is_file():
        raise ArtifactError(
            f"no model version at {version_dir} ({METADATA_FILE} missing); "
            f"versions are the folders of {layout.models_dir}"
        )
    try:
        meta = read_metadata(version_dir).to_dict()
    except MetadataError as exc:
        raise ArtifactError(str(exc)) from exc
    config = {
        **meta,
        "families": ",".join(dict.fromkeys(r["model_family"] for r in meta.get("comparison", []))),
    }
    current = current_path(artifacts)
    is_current = current.exists() and current.resolve() == version_dir.resolve()
    cfg = TrackingSettings(artifacts=Path(artifacts))
    with TrainingRun(cfg, config, run_name=version, tags={"hc_relogged": "true"}) as run:
        run.log_version(version_dir, alias=CHAMPION if is_current else alias)
    return run


def _already_registered(cfg: TrackingSettings, version: str) -> Any | None:
    """The registered model version of ``version``; None when there is none or the store cannot say."""
    if cfg.tracking_uri is None and not cfg.default_store.is_dir():
        return None
    try:
        _configure_mlflow(cfg)
        _probe(cfg)
        return find_model_version(cfg, version)
    except Exception:  # noqa: BLE001 - relog() reports an unreachable store with the usual warning
        return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m models_ml.track",
        description="Log a model version folder as an MLflow run and register it "
        "(for runs trained while the tracking store was unreachable).",
    )
    p.add_argument("version", help="version id: a folder name under $HC_ARTIFACTS/models")
    p.add_argument("--artifacts", type=Path, help="artifacts folder (HC_ARTIFACTS)")
    p.add_argument("--alias", choices=[CHALLENGER], help="alias of a version that is not the promoted one")
    p.add_argument("--force", action="store_true", help="log it again even if it is already registered")
    args = p.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S"
    )
    cfg = TrackingSettings(**({"artifacts": args.artifacts} if args.artifacts else {}))
    if not cfg.tracking:
        print("error: tracking is off (HC_TRACKING=false)", file=sys.stderr)
        return 2
    existing = None if args.force else _already_registered(cfg, args.version)
    if existing is not None:
        print(
            f"{args.version} is already registered as {cfg.mlflow_model_name} version {existing.version} "
            f"(run {existing.run_id}); --force logs it again"
        )
        return 0
    try:
        run = relog(cfg.artifacts, args.version, args.alias)
    except ArtifactError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if run.run_id is None or store_failed(cfg) or run.registered is None:
        print(
            f"error: version {args.version} could not be logged to {redact(cfg.uri)} (see the warning above)",
            file=sys.stderr,
        )
        return 1
    print(
        f"logged {args.version} as run {run.run_id} in {redact(cfg.uri)}; registered "
        f"{cfg.mlflow_model_name} version {run.registered}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
