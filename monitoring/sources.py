"""Where the compared data comes from: the current model version, its reference, the current batch.

- reference: ``$HC_ARTIFACTS/models/current/reference_sample.parquet`` (training features, ``target``,
  out-of-fold ``probability``); if absent, ``training_set`` of ``HC_WAREHOUSE`` restricted to the model's
  features and scored in-sample with the current model.
- current ``test``: ``applicant_features`` rows with ``dataset = 'test'``, scored with the current model.
- current ``log``: the API's request log ``request_log/date=YYYY-MM-DD/*.parquet`` between ``since``
  (inclusive) and ``until`` (exclusive), one row per applicant (the last request of each
  ``applicant_hash``), with the ``probability`` the API returned.
- labels: a CSV ``SK_ID_CURR,TARGET`` (or ``applicant_hash,TARGET`` for the request log).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from hc_contracts import request_log
from hc_contracts.layout import METADATA_FILE
from hc_contracts.log_privacy import DROPPED
from hc_contracts.metadata import MetadataError, ModelMetadata, read_metadata
from models_ml.registry import load_current
from monitoring.columns import Kind, importance_order, kinds_from_metadata
from monitoring.errors import EmptyBatchError, InputDataError, MissingColumnsError, NoModelError
from monitoring.settings import MonitoringSettings

REFERENCE_FILE = "reference_sample.parquet"
PREDICTION = "probability"
TARGET = "target"
ID = "sk_id_curr"
HASH = request_log.HASH_COLUMN

Scorer = Callable[[pd.DataFrame], np.ndarray]


@dataclass
class ModelContext:
    """The promoted model version as monitoring sees it (metadata only; scoring is loaded lazily)."""

    version: str
    path: Path
    metadata: ModelMetadata
    kinds: dict[str, Kind]
    importance: list[str]
    threshold: float | None
    _scorer: Scorer | None = field(default=None, repr=False)

    @property
    def features(self) -> list[str]:
        return list(self.kinds)

    def scorer(self, artifacts: Path) -> Scorer:
        """``predict_proba`` of ``models_ml.registry.load_current`` (loaded once)."""
        if self._scorer is None:
            try:
                model = load_current(artifacts)
            except Exception as exc:
                raise NoModelError(f"cannot load the current model from {artifacts / 'models'}: {exc}") from exc
            self._scorer = model.predict_proba
        return self._scorer


def request_log_view(model: ModelContext) -> ModelContext:
    """The model's features as the request log holds them: personal fields are not logged
    (`hc_contracts.log_privacy.DROPPED`), so they are not expected there nor monitored from it."""
    return ModelContext(
        version=model.version, path=model.path, metadata=model.metadata,
        kinds={k: v for k, v in model.kinds.items() if k not in DROPPED},
        importance=[f for f in model.importance if f not in DROPPED],
        threshold=model.threshold, _scorer=model._scorer,
    )


def load_model_context(settings: MonitoringSettings) -> ModelContext:
    link = settings.current_model_link
    if not link.exists():
        raise NoModelError(
            f"no model version yet: {link} does not exist. Train and promote one first "
            f"(`make train`), or point HC_ARTIFACTS at the artifacts folder (now {settings.artifacts}).")
    path = link.resolve()
    if not (path / METADATA_FILE).is_file():
        raise NoModelError(f"the current model version {path} has no {METADATA_FILE}: incomplete version")
    try:
        metadata = read_metadata(path)
    except MetadataError as exc:
        raise NoModelError(f"cannot read the current model's metadata: {exc}") from exc
    return ModelContext(
        version=metadata.version,
        path=path,
        metadata=metadata,
        kinds=kinds_from_metadata(metadata),
        importance=importance_order(metadata),
        threshold=metadata.threshold,
    )


# -- warehouse ------------------------------------------------------------------------------------------
def _connect(path: Path) -> duckdb.DuckDBPyConnection:
    if not Path(path).is_file():
        raise InputDataError(f"warehouse file not found: {path} (set HC_WAREHOUSE or run `make warehouse`)")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise InputDataError(f"cannot open the warehouse {path} as a DuckDB file: {exc}") from exc


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _read_table(path: Path, table: str, where: str = "") -> pd.DataFrame:
    con = _connect(path)
    try:
        tables = {r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = current_schema()").fetchall()}
        if table not in tables:
            raise InputDataError(f"the warehouse {path} has no table {table!r} (run `make warehouse`)")
        return con.execute(f"select * from {_quote(table)} {where}").df()
    finally:
        con.close()


# -- reference -----------------------------------------------------------------------------------------
@dataclass
class Reference:
    frame: pd.DataFrame
    source: str
    prediction_source: str


def load_reference(settings: MonitoringSettings, model: ModelContext) -> Reference:
    """The training features of the current version (reference sample, else the warehouse training_set)."""
    sample = model.path / REFERENCE_FILE
    if sample.is_file():
        try:
            frame = pd.read_parquet(sample)
        except Exception as exc:
            raise InputDataError(f"cannot read the reference sample {sample}: {exc}") from exc
        missing = [f for f in model.features if f not in frame.columns]
        if missing:
            raise MissingColumnsError(missing, f"the reference sample {sample}",
                                      "It should hold every feature of metadata.json")
        source, prediction_source = str(sample), "out-of-fold probability of the training run"
        if PREDICTION not in frame.columns:
            frame[PREDICTION] = model.scorer(settings.artifacts)(frame)
            prediction_source = "current model, in-sample (reference sample has no probability)"
    else:
        frame = _read_table(settings.warehouse, "training_set")
        missing = [f for f in model.features if f not in frame.columns]
        if missing:
            raise MissingColumnsError(missing, f"training_set of {settings.warehouse}")
        keep = [c for c in (ID, TARGET) if c in frame.columns]
        frame = frame[[*keep, *model.features]]
        frame[PREDICTION] = model.scorer(settings.artifacts)(frame)
        source = f"training_set of {settings.warehouse} ({REFERENCE_FILE} absent)"
        prediction_source = "current model, in-sample"
    if frame.empty:
        raise InputDataError(f"the reference ({source}) has no rows")
    return Reference(frame.reset_index(drop=True), source, prediction_source)


# -- current batch ----------------------------------------------------------------------------------
@dataclass
class Current:
    frame: pd.DataFrame
    source: str  # "test" | "log"
    description: str
    since: datetime | None = None
    until: datetime | None = None
    n_requests: int | None = None
    model_versions: dict[str, int] = field(default_factory=dict)


def load_test(settings: MonitoringSettings, model: ModelContext) -> Current:
    frame = _read_table(settings.warehouse, "applicant_features", "where dataset = 'test'")
    if frame.empty:
        raise EmptyBatchError(
            f"applicant_features in {settings.warehouse} has no row with dataset = 'test' (the "
            "application_test CSV may be empty): no current batch to compare. Use --current log with a window "
            "that has requests.")
    check_columns(frame, model.features, f"applicant_features (dataset='test') of {settings.warehouse}")
    frame = frame.reset_index(drop=True)
    frame[PREDICTION] = model.scorer(settings.artifacts)(frame)
    return Current(frame, "test", f"applicant_features where dataset='test' ({settings.warehouse})",
                   model_versions={model.version: len(frame)})


def default_window(now: datetime, days: int) -> tuple[datetime, datetime]:
    return now - timedelta(days=days), now


def parse_when(text: str, end: bool = False) -> datetime:
    """ISO date or date-time (UTC if no zone). A bare date as ``end`` means the end of that day."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end else moment
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputDataError(
            f"bad date {text!r}: expected YYYY-MM-DD or an ISO date-time like 2025-01-31T12:00:00Z") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def read_log(log_dir: Path, since: datetime, until: datetime) -> tuple[pd.DataFrame, int]:
    """Request-log rows logged in [since, until), last request per applicant; and the request count
    (the shared reader :func:`hc_contracts.request_log.read_log`; its errors become ``InputDataError``)."""
    try:
        return request_log.read_log(log_dir, since, until)
    except request_log.RequestLogError as exc:
        raise InputDataError(str(exc)) from exc


def load_log(settings: MonitoringSettings, model: ModelContext, since: datetime, until: datetime) -> Current:
    log_dir = settings.request_log_dir
    frame, n_requests = read_log(log_dir, since, until)
    window = f"[{since.isoformat()}, {until.isoformat()})"
    if frame.empty:
        raise EmptyBatchError(
            f"the request log {log_dir} has no request in the window {window}: nothing to compare. "
            "Widen --since/--until, or use --current test.")
    versions = {str(k): int(v) for k, v in frame["model_version"].value_counts().items()} \
        if "model_version" in frame.columns else {}
    check_columns(frame, model.features, f"the request log {log_dir} in {window}",
                  f"model versions in the window: {versions or 'unknown'}; the log keeps the features of the "
                  "version that scored each request")
    return Current(frame, "log", f"request log {log_dir}", since=since, until=until,
                   n_requests=n_requests, model_versions=versions)


def log_has_rows(settings: MonitoringSettings, since: datetime, until: datetime) -> bool:
    frame, _ = read_log(settings.request_log_dir, since, until)
    return not frame.empty


def check_columns(frame: pd.DataFrame, features: list[str], where: str, hint: str = "") -> None:
    missing = [f for f in features if f not in frame.columns]
    if missing:
        raise MissingColumnsError(missing, where, hint)


# -- labels ---------------------------------------------------------------------------------------------
def read_labels(path: Path) -> pd.DataFrame:
    """``SK_ID_CURR,TARGET`` (or ``applicant_hash,TARGET``) as columns ``key``/``target``, checked."""
    if not path.is_file():
        raise InputDataError(f"labels file not found: {path}")
    try:
        labels = pd.read_csv(path)
    except Exception as exc:
        raise InputDataError(f"cannot read the labels file {path} as CSV: {exc}") from exc
    cols = {c.lower(): c for c in labels.columns}
    if "target" not in cols or not ({"sk_id_curr", HASH} & set(cols)):
        raise InputDataError(
            f"labels file {path} has columns {list(labels.columns)}; expected SK_ID_CURR,TARGET "
            "(or applicant_hash,TARGET for the request log)")
    key = "sk_id_curr" if "sk_id_curr" in cols else HASH
    out = pd.DataFrame({"key": labels[cols[key]], TARGET: pd.to_numeric(labels[cols["target"]], errors="coerce")})
    bad = out[TARGET].isna() | ~out[TARGET].isin([0, 1])
    if bad.any():
        example = labels[cols["target"]][bad].iloc[0]
        raise InputDataError(f"column TARGET of {path} must be 0 or 1 on every row; found {example!r} "
                             f"({int(bad.sum())} bad rows)")
    if key == "sk_id_curr":
        out["key"] = pd.to_numeric(out["key"], errors="coerce")
        if out["key"].isna().any():
            raise InputDataError(f"column SK_ID_CURR of {path} must hold integer ids")
        out["key"] = out["key"].astype("int64")
    out.attrs["key"] = key
    return out.drop_duplicates("key", keep="last")


def attach_labels(current: Current, labels: pd.DataFrame, path: Path, hasher: Callable[[int], str] | None) -> int:
    """Add ``target`` to the current frame from ``labels``; returns how many rows got a label."""
    key = labels.attrs.get("key", "sk_id_curr")
    frame = current.frame
    if current.source == "test":
        if key != "sk_id_curr":
            raise InputDataError(f"labels file {path} must key the test set by SK_ID_CURR")
        keys = frame[ID].astype("int64")
    elif key == HASH:
        keys = frame[HASH]
    else:
        if hasher is None:
            raise InputDataError(f"labels file {path} is keyed by SK_ID_CURR but the request log holds only "
                                 "salted hashes; give applicant_hash,TARGET")
        labels = labels.assign(key=[hasher(int(k)) for k in labels["key"]])
        keys = frame[HASH]
    mapping = dict(zip(labels["key"], labels[TARGET], strict=True))
    target = keys.map(mapping)
    n = int(target.notna().sum())
    if n == 0:
        raise InputDataError(f"none of the {len(labels)} labelled applicants of {path} is in the current batch "
                             f"({current.description})")
    frame[TARGET] = target
    return n
