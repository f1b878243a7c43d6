"""Bulk scores of the known applicants: computed in the background once per model and warehouse file.

Known applicants' features are fixed for a warehouse file, so they are scored in bulk once per model
version and warehouse file (shared between workers through `api.book_file`); until the book is ready
requests score their own row.

Beside the probabilities the book keeps what the request log needs of each row, and only that: the
features the privacy policy logs (`hc_contracts.log_privacy`: personal fields dropped), already coarsened
the way the log coarsens them, numbers as float32. A coarsened value has two significant digits, so
float32 holds it exactly enough that coarsening it again gives the very same float64 (the log's values do
not change); the book is ~45 % of a float64 copy of every feature (0.6 instead of 1.4 GB at full Kaggle
volume, mapped by every worker: pages a request-log flush touches count in the resident memory).
Chunks are read, scored and written one at a time: the start-up never holds the whole table.

For a boosted model the same pass also writes the rows explanations take (`api.explanation_rows`): each chunk is
encoded once into the booster's matrix, written to that file and scored from it (`predict_rows`, the same
probabilities), so the warehouse is read and converted once for both (at full Kaggle volume a pass costs ~3 s of
reading and ~5 s of conversion). When that file is there already, or another worker is writing it, the book's pass
scores the rows as usual.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from api import metrics
from api.book_file import Built, shared_book
from api.explanation_rows import RowEncoder, RowsWriter, rows_beside, rows_key
from api.features import FeatureStore, Generation, ServiceStopping
from api.scoring_model import ScoringModel
from hc_contracts.log_privacy import coarsen_column, logged_feature_types
from hc_contracts.request_log import FIXED_COLUMNS

log = logging.getLogger("api")

BOOK_CHUNK = 20_000


@dataclass(frozen=True)
class ScoreBook:
    """Probabilities of every row of one warehouse generation under one model object."""

    generation: Generation
    model: ScoringModel
    probabilities: np.ndarray
    features: pa.Table  # the logged features of every row, converted once for the request log (`log_features`)

    def serves(self, model: ScoringModel, gen: Generation) -> bool:
        return self.model is model and self.generation is gen


class ScoreBooks:
    """The current score book of one process and the background thread that builds the next one."""

    def __init__(self, directory: Path, features: FeatureStore) -> None:
        self._directory = directory
        self._features = features
        self._book: ScoreBook | None = None
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        # (model, warehouse generation) whose bulk scoring failed: not retried on every request / probe
        self._failed: tuple[ScoringModel, int] | None = None

    @property
    def directory(self) -> Path:
        """The folder of the shared book files (0700)."""
        return self._directory

    def ready(self, model: ScoringModel, gen: Generation | None) -> ScoreBook | None:
        """The book of `model` and `gen` when it is ready (never starts work: safe on the event loop)."""
        book = self._book
        return book if gen is not None and book is not None and book.serves(model, gen) else None

    def get(self, model: ScoringModel, gen: Generation) -> ScoreBook | None:
        """The book of `model` and `gen`, or None while it is computed (in the background, started here)."""
        book = self.ready(model, gen)
        if book is not None or not gen.positions or self.failed(model, gen):
            return book
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                thread = threading.Thread(target=self._build, args=(model, gen), name="score-book", daemon=True)
                thread.start()
                self._thread = thread
        return None

    def failed(self, model: ScoringModel, gen: Generation) -> bool:
        failed = self._failed
        return failed is not None and failed[0] is model and failed[1] == gen.number

    def wait(self, timeout: float | None = None) -> None:
        """Wait for the background build (start-up of a bench or test that wants the book ready)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _build(self, model: ScoringModel, gen: Generation) -> None:
        names = logged_names(model.feature_types)
        seconds = {"read": 0.0, "predict": 0.0, "log_features": 0.0}

        def frames() -> Iterator[pd.DataFrame]:
            chunks = self._features.chunks(gen, BOOK_CHUNK)
            while True:
                started = time.perf_counter()
                chunk = next(chunks, None)
                seconds["read"] += time.perf_counter() - started
                if chunk is None:
                    return
                yield chunk

        def scored(rows: RowsWriter | None) -> Iterator[tuple[pd.DataFrame, np.ndarray]]:
            """Each chunk with its probabilities; when ``rows`` is given, the chunk's rows are encoded once, written
            to the explanation rows file and scored from that encoding (the same probabilities, `predict_rows`)."""
            if rows is None:
                for chunk in frames():
                    started = time.perf_counter()
                    probabilities = np.asarray(model.predict_proba(chunk), dtype=np.float64)
                    seconds["predict"] += time.perf_counter() - started
                    yield chunk, probabilities
                return
            assert isinstance(model, RowEncoder)
            levels: dict[str, list[str]] = {}
            current: list[pd.DataFrame] = []

            def remembered() -> Iterator[pd.DataFrame]:
                for chunk in frames():
                    current[:] = [chunk]
                    yield chunk

            blocks = model.encode_chunks(remembered(), levels)
            writing: RowsWriter | None = rows
            while True:
                started, read = time.perf_counter(), seconds["read"]
                block = next(blocks, None)  # reads the next chunk (counted as read) and encodes it
                if block is None:
                    break
                writing = _written(writing, lambda w, b=block: w.add(b))
                positions = range(len(block))
                probabilities = np.asarray(model.predict_rows(model.encoded_rows(block, levels), positions),
                                           dtype=np.float64)
                seconds["predict"] += time.perf_counter() - started - (seconds["read"] - read)
                yield current[0], probabilities
            _written(writing, lambda w: w.commit(levels))

        def compute() -> Iterator[Built]:
            """Chunk by chunk (a warehouse too large to preload is never whole in memory)."""
            empty = True
            with rows_beside(self._directory, gen.identity, model.version, len(gen.positions),
                             list(model.feature_types)) if rows_key(model, gen) else nullcontext() as rows:
                for chunk, probabilities in scored(rows):
                    started = time.perf_counter()
                    features = log_features(chunk, model.feature_types)
                    seconds["log_features"] += time.perf_counter() - started
                    empty = False
                    yield probabilities, features
            if empty:
                yield np.empty(0), log_features(pd.DataFrame(columns=list(model.feature_types)), model.feature_types)

        started = time.perf_counter()
        try:  # one book per warehouse file and model, shared by the workers (api/book_file.py)
            (probabilities, features), shared = shared_book(
                self._directory, gen.identity, model.version, len(gen.positions), names, compute)
        except ServiceStopping:
            log.info("bulk scoring of known applicants stopped: the service is stopping")
            return
        except Exception as exc:  # scoring per request still works
            log.error("bulk scoring of known applicants failed (%s: %s)", type(exc).__name__, exc)
            self._failed = (model, gen.number)
            return
        self._book = ScoreBook(gen, model, probabilities, features)
        total = time.perf_counter() - started
        for step, value in seconds.items():
            metrics.observe_startup(f"bulk_scores_{step}", value)
        metrics.observe_startup("bulk_scores_write", max(0.0, total - sum(seconds.values())))
        metrics.observe_startup("bulk_scores", total)
        log.info("scored %d known applicants with model %s in %.1f s (%s)", len(probabilities), model.version,
                 total, "shared memory-mapped book" if shared else "private copy")


def _written(rows: RowsWriter | None, step: Callable[[RowsWriter], None]) -> RowsWriter | None:
    """``step`` on the rows file being written beside the book; a write that fails (e.g. a full disk) drops that file
    and is logged, the book goes on (the explanation service encodes its rows itself later, or converts them)."""
    if rows is None:
        return None
    try:
        step(rows)
    except OSError as exc:
        log.warning("explanation rows not written beside the bulk scores: %s (%s)", rows.matrix, exc.strerror)
        rows.abort()
        return None
    return rows


def logged_names(feature_types: dict[str, str]) -> list[str]:
    """The features the request log keeps, in the model's order (exactly the columns `to_arrow` writes)."""
    return [n for n in logged_feature_types(feature_types) if n not in FIXED_COLUMNS]


_BOOK_TYPES = {"numeric": pa.float32(), "boolean": pa.bool_(), "categorical": pa.string()}


def log_features(frame: pd.DataFrame, feature_types: dict[str, str]) -> pa.Table:
    """The rows' logged features as the book keeps them: personal fields dropped, numbers coarsened like
    the request log coarsens them (`coarsen_column`) and stored as float32 (see the module docstring)."""
    names = logged_names(feature_types)
    arrays = []
    for name in names:
        kind = feature_types[name]
        values = frame[name] if name in frame.columns else pd.Series([None] * len(frame), dtype=object)
        if kind == "numeric":  # column by column: small arrays that stay in the cache, no big temporaries
            numbers = coarsen_column(name, _numbers(values))
            arrays.append(pa.array(numbers.astype(np.float32), type=pa.float32(), from_pandas=True))  # NaN -> null
        elif kind == "boolean":
            arrays.append(pa.array(values.astype("boolean"), type=pa.bool_(), from_pandas=True))
        else:
            try:
                arrays.append(pa.array(values, type=pa.string(), from_pandas=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError):  # levels that are not strings (e.g. numbers)
                arrays.append(pa.array([None if pd.isna(v) else str(v) for v in values], type=pa.string()))
    return pa.Table.from_arrays(arrays, schema=pa.schema([(n, _BOOK_TYPES[feature_types[n]]) for n in names]))


def _numbers(column: pd.Series) -> np.ndarray:
    """A column as float64 (missing or unreadable values -> NaN)."""
    try:
        return column.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError):  # Python objects (e.g. Decimal): converted value by value
        return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
