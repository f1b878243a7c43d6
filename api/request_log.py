"""Append-only request log of every score, as Parquet files that monitoring reads as "current" data.

The schema, the applicant hash and the file writer are the shared contract :mod:`hc_contracts.request_log`;
this module buffers the API's scores and flushes them.

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

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hc_contracts.request_log import FIXED_COLUMNS, applicant_hash, feature_table, to_arrow, write_part

__all__ = ["FIXED_COLUMNS", "RequestLog", "feature_table", "to_arrow"]

log = logging.getLogger("api.request_log")


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
        return applicant_hash(self._salt, sk_id_curr)

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
        return write_part(self.directory, date, to_arrow(batch.rows, batch.feature_types))

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
