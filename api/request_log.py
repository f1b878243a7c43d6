"""Append-only request log of every score, as Parquet files that monitoring reads as "current" data.

Rows are buffered in memory (thread-safe) and written every `flush_seconds`, beyond `flush_rows` rows
and at shutdown, to `<dir>/date=YYYY-MM-DD/part-<time>-<pid>-<random>.parquet` (written under a hidden
temporary name, then renamed: a reader never sees half a file). Columns: `logged_at` (UTC),
`model_version`, `endpoint`, `applicant_hash` (salted HMAC-SHA256 of the id, never the id itself),
`probability`, `decision`, then the model's feature columns as `api.log_privacy` allows: personal fields
dropped, the age banded, other numbers rounded. One file per date and model version. Files are 0600 and
folders 0700 (readable by the service's user only).

Loss window: rows are buffered for at most `flush_seconds` (or `flush_rows`); a normal stop (SIGTERM,
Ctrl-C) writes them, a hard kill (SIGKILL, OOM, power loss) loses what was buffered.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from api.log_privacy import coarsen_column, logged_feature_types

log = logging.getLogger("api.request_log")

FIXED_COLUMNS = ("logged_at", "model_version", "endpoint", "applicant_hash", "probability", "decision")


@dataclass
class _Batch:
    feature_types: dict[str, str]
    rows: list[dict[str, Any]] = field(default_factory=list)


class RequestLog:
    def __init__(self, directory: Path, salt: str, flush_seconds: float = 5.0, flush_rows: int = 5000) -> None:
        self.directory = directory
        self._salt = salt.encode("utf-8")
        self._flush_seconds = flush_seconds
        self._flush_rows = flush_rows
        self._buffer: dict[tuple[str, str], _Batch] = {}
        self._pending = 0
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def applicant_hash(self, sk_id_curr: int) -> str:
        return hmac.new(self._salt, str(int(sk_id_curr)).encode(), hashlib.sha256).hexdigest()[:32]

    # -- appending ---------------------------------------------------------------------------------
    def append(
        self,
        *,
        endpoint: str,
        model_version: str,
        feature_types: dict[str, str],
        sk_id_curr: int,
        probability: float,
        decision: str,
        features: Mapping[str, Any] | None = None,
        source: tuple[Any, int] | None = None,
    ) -> None:
        """Buffer one score. The features come as a mapping, or as `source` = (table, row position) with
        an Arrow table from `feature_table` or a DataFrame, read only when the buffer is written."""
        now = datetime.now(UTC)
        row = {
            "logged_at": now,
            "model_version": model_version,
            "endpoint": endpoint,
            "applicant_hash": self.applicant_hash(sk_id_curr),
            "probability": float(probability),
            "decision": decision,
        }
        if source is not None:
            row["_source"] = source
        else:
            row["_features"] = dict(features or {})
        key = (now.strftime("%Y-%m-%d"), model_version)
        with self._lock:
            batch = self._buffer.get(key)
            if batch is None:
                batch = self._buffer[key] = _Batch(feature_types)
            batch.rows.append(row)
            self._pending += 1
            full = self._pending >= self._flush_rows
        if full:
            self.flush()

    @property
    def pending(self) -> int:
        return self._pending

    # -- writing -----------------------------------------------------------------------------------
    def flush(self) -> list[Path]:
        """Write what is buffered; returns the files written."""
        with self._lock:
            buffer, self._buffer, self._pending = self._buffer, {}, 0
        written = []
        with self._write_lock:
            for (date, _version), batch in buffer.items():
                if batch.rows:
                    try:
                        written.append(self._write(date, batch))
                    except Exception as exc:  # never lose the service for a log write
                        log.error("request log: %d rows not written (%s: %s)", len(batch.rows),
                                  type(exc).__name__, exc)
        return written

    def _write(self, date: str, batch: _Batch) -> Path:
        table = to_arrow(batch.rows, batch.feature_types)
        folder = self.directory / f"date={date}"
        _private_dir(self.directory)
        _private_dir(folder)
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

    # -- background flushing -------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="request-log-flush", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._flush_seconds):
            self.flush()

    def close(self) -> None:
        """Stop the flusher and write everything still buffered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush()


def _private_dir(path: Path) -> None:
    """``path`` and missing parents created; ``path`` itself readable by the owner only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o777 != 0o700:
        os.chmod(path, 0o700)


_ARROW_TYPES = {"numeric": pa.float64(), "boolean": pa.bool_(), "categorical": pa.string()}


def feature_table(features: pd.DataFrame, feature_types: dict[str, str]) -> pa.Table:
    """Features as Arrow columns of the model's types (numeric -> float64, boolean, categorical -> string)."""
    target = pa.schema([(n, _ARROW_TYPES.get(feature_types.get(n, "numeric"), pa.float64()))
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
        if isinstance(source, pa.Table):
            part = source.take(pa.array(positions, type=pa.int64())).select(names)
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
    """The log rows as an Arrow table: fixed columns, then the features the privacy policy keeps
    (`api.log_privacy`), typed by the model's schema, numbers coarsened."""
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
