"""The request log: its schema, its salted applicant hash, its Parquet writer and its reader.

Written by the API (``api.request_log.RequestLog`` buffers the scores and calls :func:`write_part`), read by
monitoring (:func:`read_log`) as the "current" data of a drift report. Layout (docs/interfaces.md):
``$HC_ARTIFACTS/request_log/date=YYYY-MM-DD/part-<time>-<pid>-<random>.parquet``, one row per scored
applicant: :data:`FIXED_COLUMNS`, then the model's feature columns that :mod:`hc_contracts.log_privacy`
keeps (numeric -> double, boolean, categorical -> string), numbers coarsened. Files appear whole (written
under a hidden temporary name, then renamed), ``0600`` in ``0700`` folders; no raw identifier: the
applicant is the salted HMAC-SHA256 :func:`applicant_hash` of the id.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from pydantic import Field

from hc_contracts.log_privacy import coarsen_column, logged_feature_types
from hc_contracts.settings import PlatformSettings

FIXED_COLUMNS = ("logged_at", "model_version", "endpoint", "applicant_hash", "probability", "decision")
HASH_COLUMN = "applicant_hash"
ENDPOINTS = ("applicant_score", "score", "batch")
PARTITION_PREFIX = "date="
HASH_HEX_CHARS = 32
DEV_LOG_SALT = "hc-dev-salt"
ARROW_TYPES = {"numeric": pa.float64(), "boolean": pa.bool_(), "categorical": pa.string()}


class InsecureConfiguration(RuntimeError):
    """A setting that protects personal data is missing: the API refuses to start."""


class RequestLogError(ValueError):
    """A request-log file cannot be read or lacks a column of the schema (the message names the file)."""


class RequestLogSettings(PlatformSettings):
    """The salt of the applicant hash: ``HC_API_LOG_SALT``, required unless ``HC_API_ENV=dev``.

    The API writes the log with it and monitoring keys ``SK_ID_CURR`` labels to the log with it.
    """

    api_env: Literal["production", "dev"] = Field(
        "production", description="`dev` allows the development salt of the request log (`make api` sets it)"
    )
    api_log_salt: str = Field(
        "", description="secret salt of the applicant hash in the request log (required outside dev mode)"
    )

    def log_salt(self) -> str:
        """The request log's salt; `InsecureConfiguration` when it is missing or the development value
        outside dev mode (with a known salt every applicant hash is reversed by trying all ids)."""
        salt = self.api_log_salt.strip()
        if salt and salt != DEV_LOG_SALT:
            return salt
        if self.api_env == "dev":
            return DEV_LOG_SALT
        raise InsecureConfiguration(
            "HC_API_LOG_SALT is not set (or is the development value): set it to a long random secret, e.g. "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`, or run in development mode with "
            "HC_API_ENV=dev")


def applicant_hash(salt: str | bytes, sk_id_curr: int) -> str:
    """Salted HMAC-SHA256 of the applicant id, :data:`HASH_HEX_CHARS` hex characters (the log's only key)."""
    key = salt.encode("utf-8") if isinstance(salt, str) else salt
    return hmac.new(key, str(int(sk_id_curr)).encode(), hashlib.sha256).hexdigest()[:HASH_HEX_CHARS]


# -- the schema ----------------------------------------------------------------------------------------
def feature_table(features: pd.DataFrame, feature_types: dict[str, str]) -> pa.Table:
    """Features as Arrow columns of the model's types (numeric -> float64, boolean, categorical -> string)."""
    target = pa.schema([(n, ARROW_TYPES.get(feature_types.get(n, "numeric"), pa.float64()))
                        for n in features.columns])
    features = features.reset_index(drop=True)
    converted = {}
    for column in target:
        values = features[column.name]
        if values.dtype == object:  # Python objects (e.g. Decimal from HUGEINT, posted values): convert here
            if column.type == pa.float64():
                values = pd.to_numeric(values, errors="coerce")
            elif column.type == pa.string():
                values = values.astype("string")
            else:
                values = values.astype("boolean")
        converted[column.name] = values
    frame = pd.DataFrame(converted)
    return pa.Table.from_pandas(frame, preserve_index=False).cast(target)


def _features(rows: list[dict[str, Any]], names: list[str], feature_types: dict[str, str]) -> pa.Table:
    """The feature columns of the buffered rows, in row order. Rows logged by reference are taken from
    their source (an Arrow table of converted features, or a DataFrame) in one `take` per source."""
    parts: list[pa.Table] = []
    order: list[int] = []
    by_source: dict[int, tuple[Any, list[int], list[int]]] = {}
    mapped_rows: list[int] = []
    for i, row in enumerate(rows):
        source = row.get("_source")
        if source is None:
            mapped_rows.append(i)
        else:
            table, pos = source
            entry = by_source.setdefault(id(table), (table, [], []))
            entry[1].append(i)
            entry[2].append(pos)
    for source, indices, positions in by_source.values():
        if isinstance(source, pa.Table):  # the API's score book (numbers as float32), online rows (DuckDB types)
            part = source.take(pa.array(positions, type=pa.int64())).select(names)
            part = part.cast(pa.schema([(n, ARROW_TYPES.get(feature_types.get(n, "numeric"), pa.float64()))
                                        for n in names]), safe=False)
        else:
            part = feature_table(source.reindex(columns=names).take(positions), feature_types)
        parts.append(part)
        order += indices
    if mapped_rows:
        records = pd.DataFrame.from_records([rows[i].get("_features") or {} for i in mapped_rows], columns=names)
        parts.append(feature_table(records, feature_types))
        order += mapped_rows
    if not parts:
        return feature_table(pd.DataFrame(columns=names), feature_types)
    table = pa.concat_tables(parts) if len(parts) > 1 else parts[0]
    if order != sorted(order):
        table = table.take(pa.array(sorted(range(len(order)), key=order.__getitem__), type=pa.int64()))
    return table


def _coarsened(table: pa.Table) -> pa.Table:
    columns = []
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_floating(column.type):
            values = column.to_numpy(zero_copy_only=False).astype(np.float64)
            column = pa.array(coarsen_column(name, values), type=column.type, from_pandas=True)  # NaN -> null
        columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def to_arrow(rows: list[dict[str, Any]], feature_types: dict[str, str]) -> pa.Table:
    """Log rows (dicts with the :data:`FIXED_COLUMNS`, and ``_features`` (a mapping) or ``_source`` (table,
    row position)) as an Arrow table: fixed columns, then the features the privacy policy keeps
    (:mod:`hc_contracts.log_privacy`), typed by the model's schema, numbers coarsened."""
    names = [n for n in logged_feature_types(feature_types) if n not in FIXED_COLUMNS]
    features = _coarsened(_features(rows, names, feature_types))
    fixed = [
        pa.array([r["logged_at"] for r in rows], type=pa.timestamp("us", tz="UTC")),
        pa.array([r["model_version"] for r in rows], type=pa.string()),
        pa.array([r["endpoint"] for r in rows], type=pa.string()),
        pa.array([r["applicant_hash"] for r in rows], type=pa.string()),
        pa.array([r["probability"] for r in rows], type=pa.float64()),
        pa.array([r["decision"] for r in rows], type=pa.string()),
    ]
    return pa.Table.from_arrays(fixed + features.columns, names=[*FIXED_COLUMNS, *names])


# -- writing ---------------------------------------------------------------------------------------------
def private_dir(path: Path) -> None:
    """``path`` and missing parents created; ``path`` itself readable by the owner only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o777 != 0o700:
        os.chmod(path, 0o700)


def partition_dir(directory: Path, day: str | date) -> Path:
    return Path(directory) / f"{PARTITION_PREFIX}{day if isinstance(day, str) else day.isoformat()}"


def write_part(directory: Path, day: str | date, table: pa.Table) -> Path:
    """Write ``table`` as a new Parquet part of the ``date=<day>`` partition: hidden temporary name, then
    renamed (a reader never sees half a file); the file ``0600``, the folders ``0700``."""
    folder = partition_dir(directory, day)
    private_dir(Path(directory))
    private_dir(folder)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    name = f"part-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
    tmp = folder / f".{name}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as sink:
            pq.write_table(table, sink)
        os.replace(tmp, folder / name)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return folder / name


# -- reading ---------------------------------------------------------------------------------------------
def log_files(directory: Path, since: datetime, until: datetime) -> list[Path]:
    """The complete part files of the partitions from ``since``'s day to ``until``'s day (hidden files,
    i.e. parts being written, are skipped)."""
    files: list[Path] = []
    directory = Path(directory)
    if not directory.is_dir():
        return files
    first, last = since.date(), until.date()
    for folder in sorted(directory.glob(f"{PARTITION_PREFIX}*")):
        try:
            day = date.fromisoformat(folder.name.removeprefix(PARTITION_PREFIX))
        except ValueError:
            continue
        if first <= day <= last:
            files.extend(sorted(p for p in folder.glob("*.parquet") if not p.name.startswith(".")))
    return files


def read_log(directory: Path, since: datetime, until: datetime) -> tuple[pd.DataFrame, int]:
    """Rows logged in ``[since, until)``, the last request per applicant; and the number of requests.

    ``RequestLogError`` (naming the file) when a part cannot be read or lacks ``logged_at``."""
    frames = []
    for path in log_files(directory, since, until):
        try:
            frame = pd.read_parquet(path)
        except Exception as exc:
            raise RequestLogError(f"cannot read the request-log file {path}: {exc}") from exc
        if not frame.empty and "logged_at" not in frame.columns:
            raise RequestLogError(f"the request-log file {path} has no 'logged_at' column; expected the columns "
                                  f"{', '.join(FIXED_COLUMNS)} then the logged features")
        frames.append(frame)
    frames = [f for f in frames if not f.empty]
    if not frames:
        return pd.DataFrame(), 0
    log = pd.concat(frames, ignore_index=True)
    logged = pd.to_datetime(log["logged_at"], utc=True)
    log = log[(logged >= pd.Timestamp(since)) & (logged < pd.Timestamp(until))]
    n_requests = len(log)
    if HASH_COLUMN in log.columns and not log.empty:
        log = log.sort_values("logged_at", kind="stable").drop_duplicates(HASH_COLUMN, keep="last")
    return log.reset_index(drop=True), n_requests
