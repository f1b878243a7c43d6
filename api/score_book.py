"""Bulk scores of the known applicants: computed in the background once per model and warehouse file.

Known applicants' features are fixed for a warehouse file, so they are scored in bulk once per model
version and warehouse file (shared between workers through `api.book_file`); until the book is ready
requests score their own row.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa

from api.book_file import shared_book
from api.features import FeatureStore, Generation
from api.request_log import feature_table
from api.scoring_model import ScoringModel

log = logging.getLogger("api")

BOOK_CHUNK = 20_000


@dataclass(frozen=True)
class ScoreBook:
    """Probabilities of every row of one warehouse generation under one model object."""

    generation: Generation
    model: ScoringModel
    probabilities: np.ndarray
    features: pa.Table  # the model's features of every row, converted once for the request log

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
        names = list(model.feature_types)

        def compute() -> tuple[np.ndarray, pa.Table]:
            """Chunk by chunk, so that a warehouse too large to preload is never whole in memory as a
            DataFrame: only its model features as Arrow columns, until they are written and mapped."""
            probabilities, parts = [], []
            for chunk in self._features.chunks(gen, BOOK_CHUNK):
                probabilities.append(np.asarray(model.predict_proba(chunk), dtype=np.float64))
                parts.append(feature_table(chunk.reindex(columns=names), model.feature_types))
            if not parts:
                return np.empty(0), feature_table(pd.DataFrame(columns=names), model.feature_types)
            return np.concatenate(probabilities), pa.concat_tables(parts)

        try:  # one book per warehouse file and model, shared by the workers (api/book_file.py)
            (probabilities, features), shared = shared_book(
                self._directory, gen.identity, model.version, len(gen.positions), names, compute)
        except Exception as exc:  # scoring per request still works
            log.error("bulk scoring of known applicants failed (%s: %s)", type(exc).__name__, exc)
            self._failed = (model, gen.number)
            return
        self._book = ScoreBook(gen, model, probabilities, features)
        log.info("scored %d known applicants with model %s (%s)", len(probabilities), model.version,
                 "shared memory-mapped book" if shared else "private copy")
