"""Stopping a worker stops its background passes over the warehouse (the bulk scores, the explanation rows).

Found at stop 28: `Services.close` closed the warehouse connection while the score book could still be reading and
predicting in its daemon thread; at the interpreter's exit such a thread, inside DuckDB's or XGBoost's C++ code, was
unwound by force and the process aborted ("terminate called ... FATAL: exception not rethrown", `make test` exit 2
after every test had passed). A stopping service now tells the passes to stop at their next chunk and waits for them."""

from __future__ import annotations

import threading
import time

from api import score_book
from api.features import FeatureStore
from api.score_book import ScoreBooks


def _slow_chunks(features: FeatureStore, delay: float, after_stop: list[int]):
    original = features.chunks

    def chunks(gen, size):
        for chunk in original(gen, size):
            time.sleep(delay)  # a large warehouse: many chunks, each taking a while
            if features.stopping:
                after_stop.append(len(chunk))
            yield chunk

    return chunks


def test_stopping_the_features_ends_the_bulk_score_pass_at_its_next_chunk(boosted_env, tmp_path, monkeypatch):
    from models_ml.registry import load_current

    monkeypatch.setattr(score_book, "BOOK_CHUNK", 200)
    features = FeatureStore(boosted_env.warehouse, reload_seconds=3600)
    after_stop: list[int] = []  # chunks handed to the pass after the service began to stop
    monkeypatch.setattr(features, "chunks", _slow_chunks(features, 0.2, after_stop))
    books = ScoreBooks(tmp_path / "books", features)
    model, gen = load_current(boosted_env.artifacts), features.current()
    assert len(gen.positions) > 2000  # >= 10 chunks: >= 2 s of work left when stopped
    assert books.get(model, gen) is None  # started in the background
    thread = next(t for t in threading.enumerate() if t.name == "score-book")
    time.sleep(0.3)
    features.stop_background()
    books.wait(timeout=10)
    assert not thread.is_alive(), "the bulk score pass went on after the service stopped"
    assert len(after_stop) <= 1, f"{len(after_stop)} chunks read after the stop"  # at most the one being read
    assert books.ready(model, gen) is None  # no book from a pass that was stopped
    features.close()
