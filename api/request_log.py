"""Append-only request log of every score, as Parquet files that monitoring reads as "current" data.

Rows are buffered in memory (thread-safe) and written every `flush_seconds`, beyond `flush_rows` rows
and at shutdown, to `<dir>/date=YYYY-MM-DD/part-<time>-<pid>-<random>.parquet` (written under a hidden
temporary name, then renamed: a reader never sees half a file). Columns: `logged_at` (UTC),
`model_version`, `endpoint`, `applicant_hash` (salted HMAC-SHA256 of the id, never the id itself),
`probability`, `decision`, then the model's feature columns. One file per date and model version.
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

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

log = logging.getLogger("api.request_log")

FIXED_COLUMNS = ("logged_at", "model_version", "endpoint", "applicant_hash", "probability", "decision")
_ARROW_TYPES = {"numeric": pa.float64(), "boolean": pa.bool_(), "categorical": pa.string()}


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
        source: tuple[pd.DataFrame, int] | None = None,
    ) -> None:
        """Buffer one score. The features come as a mapping, or as `source` = (frame, row position),
        read only when the buffer is written (keeps the request path cheap)."""
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
            for name in feature_types:
                row[name] = (features or {}).get(name)
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
        schema = pa.schema(
            [
                ("logged_at", pa.timestamp("us", tz="UTC")),
                ("model_version", pa.string()),
                ("endpoint", pa.string()),
                ("applicant_hash", pa.string()),
                ("probability", pa.float64()),
                ("decision", pa.string()),
            ]
            + [(name, _ARROW_TYPES.get(kind, pa.float64())) for name, kind in batch.feature_types.items()
               if name not in FIXED_COLUMNS]
        )
        kinds = batch.feature_types
        _fill_from_sources(batch.rows, [n for n in kinds if n not in FIXED_COLUMNS])
        rows = [{k: _arrow_value(v, kinds.get(k)) for k, v in r.items()} for r in batch.rows]
        table = pa.Table.from_pylist(rows, schema=schema)
        folder = self.directory / f"date={date}"
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        name = f"part-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:8]}.parquet"
        tmp = folder / f".{name}.tmp"
        pq.write_table(table, tmp)
        os.replace(tmp, folder / name)
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


def _fill_from_sources(rows: list[dict[str, Any]], names: list[str]) -> None:
    """Read the features of rows logged by reference, one gather per source frame."""
    groups: dict[int, tuple[pd.DataFrame, list[tuple[dict[str, Any], int]]]] = {}
    for row in rows:
        source = row.pop("_source", None)
        if source is not None:
            frame, pos = source
            groups.setdefault(id(frame), (frame, []))[1].append((row, pos))
    for frame, items in groups.values():
        present = [n for n in names if n in frame.columns]
        records = frame.iloc[[pos for _, pos in items]][present].to_dict(orient="records")
        for (row, _), values in zip(items, records, strict=True):
            row.update(values)


def _arrow_value(value: Any, kind: str | None) -> Any:
    """Plain Python values for Arrow: missing -> None, numpy scalars -> Python, cast to the feature type."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if kind == "numeric":
        return float(value)
    if kind == "boolean":
        return bool(value)
    if kind == "categorical":
        return str(value)
    return value
