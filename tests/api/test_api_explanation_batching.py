"""Explanations computed together (api/explanations.py): concurrent requests share one model call, each
gets exactly its own row's values, an unknown id fails alone, and the cache answers repeated asks."""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np
import pytest

from api.explanation_rows import RowFile
from api.explanations import ExplanationService
from api.features import FeatureStore
from api.score_book import ScoreBooks
from api.scoring import UnknownApplicants


@pytest.fixture(scope="module")
def setup(boosted_env, tmp_path_factory):
    from models_ml.registry import load_current

    features = FeatureStore(boosted_env.warehouse, reload_seconds=3600)
    books = ScoreBooks(tmp_path_factory.mktemp("books"), features)
    yield load_current(boosted_env.artifacts), features, books
    features.close()


def test_concurrent_explanations_share_one_computation(setup):
    model, features, books = setup
    service = ExplanationService(features, books)
    frame = features.current().frame
    ids = [int(i) for i in frame["sk_id_curr"].iloc[[3, 50, 700, 1200]]]

    async def ask_all(asked):
        return await asyncio.gather(*(service.explained(model, i) for i in asked), return_exceptions=True)

    got = asyncio.run(ask_all([*ids, 1]))  # 1: not an applicant
    assert service.computations == 1
    assert isinstance(got[-1], UnknownApplicants)
    for sk_id, (probability, expl) in zip(ids, got[:-1], strict=True):
        row = features.get(sk_id)
        alone = model.explain(row)
        np.testing.assert_allclose(expl.values, alone.values, rtol=0, atol=1e-12)
        assert expl.values.shape == (1, len(model.feature_types))
        assert probability == pytest.approx(float(model.predict_proba(row)[0]), rel=1e-12)
    again = asyncio.run(ask_all(ids))  # from the cache: no new computation
    assert service.computations == 1
    assert [p for p, _ in again] == [p for p, _ in got[:-1]]


def _explain_all(service, model, ids):
    async def ask_all():
        return await asyncio.gather(*(service.explained(model, i) for i in ids), return_exceptions=True)

    return asyncio.run(ask_all())


def _same_as_alone(model, features, ids, got):
    for sk_id, (probability, expl) in zip(ids, got, strict=True):
        row = features.get(sk_id)
        alone = model.explain(row)
        assert np.array_equal(expl.values, alone.values) and expl.base_value == alone.base_value
        assert [str(v) for v in expl.data.iloc[0]] == [str(v) for v in alone.data.iloc[0]]
        assert probability == pytest.approx(float(model.predict_proba(row)[0]), rel=1e-12)


@pytest.mark.parametrize("preload", [True, False], ids=["in-memory warehouse", "warehouse read per id"])
def test_explanations_from_the_encoded_rows_equal_those_from_the_rows(setup, boosted_env, tmp_path, preload):
    """Once the known applicants' rows are encoded for the model (in the background, into a shared file),
    batches take their rows from it: the same explanations and probabilities, whether the warehouse is held in
    memory or read per id (full volume), and the encoding is done once per model and file."""
    from api.explanations import RowEncoder

    model, memory_features, _ = setup
    assert isinstance(model, RowEncoder) and model.encodes_rows
    features = memory_features if preload else FeatureStore(boosted_env.warehouse, reload_seconds=3600, preload_rows=0)
    service = ExplanationService(features, ScoreBooks(tmp_path / "books", features))
    gen = features.current()
    assert (gen.frame is not None) == preload
    ids = [int(i) for i in memory_features.current().frame["sk_id_curr"].iloc[[0, 9, 444, 1001, -1]]]
    assert service.encoded(model, gen) is None  # started, not ready
    service.wait_encoded(120)
    encoded = service.encoded(model, gen)
    assert encoded is not None and encoded.values.shape == (len(gen.positions), len(model.feature_types))
    assert service.encoded(model, gen) is encoded  # kept, not rebuilt

    calls = []
    original = model.explain_rows
    try:
        model.explain_rows = lambda enc, positions: calls.append(list(positions)) or original(enc, positions)
        got = _explain_all(service, model, [*ids, 1])  # 1: not an applicant
    finally:
        del model.explain_rows
    assert calls == [[gen.positions[i] for i in ids]]  # one batch, from the encoded rows
    assert isinstance(got[-1], UnknownApplicants)
    _same_as_alone(model, features, ids, got[:-1])
    if not preload:
        features.close()


def test_workers_share_one_encoded_rows_file(setup, tmp_path):
    """The first worker encodes the rows into a 0600 file of a 0700 folder; the next one maps that file
    instead of encoding again; a folder that cannot be written leaves each worker its own copy."""
    model, features, _ = setup
    gen = features.current()
    built = []
    original = model.encode_chunks
    try:
        model.encode_chunks = lambda frames, levels: built.append(1) or original(frames, levels)
        first = ExplanationService(features, ScoreBooks(tmp_path / "books", features))
        second = ExplanationService(features, ScoreBooks(tmp_path / "books", features))
        for service in (first, second):
            service.encoded(model, gen)
            service.wait_encoded(120)
        (tmp_path / "file").write_text("not a folder")
        private = ExplanationService(features, ScoreBooks(tmp_path / "file" / "books", features))
        private.encoded(model, gen)
        private.wait_encoded(120)
    finally:
        del model.encode_chunks
    assert built == [1, 1]  # the first worker's file, the private copy
    a, b, c = (s.encoded(model, gen) for s in (first, second, private))
    assert isinstance(a.values, RowFile) and isinstance(b.values, RowFile) and isinstance(c.values, np.ndarray)
    assert np.array_equal(a.values[np.arange(len(c.values))], c.values, equal_nan=True)
    assert {k: v.tolist() for k, v in a.levels.items()} == {k: v.tolist() for k, v in c.levels.items()}
    files = sorted(p.name.split("-")[0] + p.suffix for p in (tmp_path / "books").iterdir() if p.name.startswith("rows-"))
    assert files == ["rows.json", "rows.lock", "rows.npy"]
    assert (tmp_path / "books").stat().st_mode & 0o777 == 0o700
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in (tmp_path / "books").glob("rows-*"))
    ids = [int(i) for i in gen.frame["sk_id_curr"].iloc[[7, 70]]]
    _same_as_alone(model, features, ids, _explain_all(private, model, ids))


def test_a_failed_encoding_leaves_explanations_working_and_is_not_retried(setup, caplog, tmp_path):
    model, features, _ = setup
    service = ExplanationService(features, ScoreBooks(tmp_path / "books", features))
    gen = features.current()
    attempts = []

    def broken(frames, levels):
        attempts.append(1)
        raise MemoryError("no room for the copy")

    model.encode_chunks = broken
    try:
        with caplog.at_level("WARNING", logger="api"):
            assert service.encoded(model, gen) is None
            service.wait_encoded(60)
            assert service.encoded(model, gen) is None
            service.wait_encoded(60)
        sk_id = int(gen.frame["sk_id_curr"].iloc[5])
        probability, expl = asyncio.run(service.explained(model, sk_id))
    finally:
        del model.encode_chunks
    assert attempts == [1]  # tried once for this model and file
    left = sorted(p.suffix for p in (tmp_path / "books").iterdir())
    assert left == [".lock"]  # nothing half-written left (no temporary, no .npy, no .json)
    assert "MemoryError: no room for the copy" in caplog.text and str(sk_id) not in caplog.text
    np.testing.assert_array_equal(expl.values, model.explain(features.get(sk_id)).values)


def _counted_chunks(features, reads):
    original = features.chunks

    def chunks(gen, size):
        reads.append(size)
        return original(gen, size)

    return chunks


@pytest.mark.parametrize("preload", [True, False], ids=["in-memory warehouse", "warehouse read per id"])
def test_the_bulk_scores_write_the_explanation_rows_in_the_same_pass(setup, boosted_env, tmp_path, preload, monkeypatch):
    """A boosted model's bulk scores and explanation rows come from ONE read of the warehouse (each read of every
    row costs ~2.6 s and its conversion ~3-5 s at full volume, and start-up waits for both): the book's pass writes
    the rows file beside the book, the explanation service then opens it. Probabilities and rows are exactly those of
    the separate computations."""
    import api.score_book

    monkeypatch.setattr(api.score_book, "BOOK_CHUNK", 1000)  # several chunks: levels met in later ones too
    model, memory_features, _ = setup
    features = memory_features if preload else FeatureStore(boosted_env.warehouse, reload_seconds=3600, preload_rows=0)
    reads: list[int] = []
    features.chunks = _counted_chunks(features, reads)
    try:
        books = ScoreBooks(tmp_path / "books", features)
        gen = features.current()
        assert books.get(model, gen) is None
        books.wait(120)
        book = books.ready(model, gen)
        service = ExplanationService(features, books)
        service.encoded(model, gen)
        service.wait_encoded(120)
        encoded = service.encoded(model, gen)
    finally:
        del features.chunks
    assert len(reads) == 1  # one pass over the warehouse for both
    assert book is not None and isinstance(encoded.values, RowFile)
    frame = memory_features.current().frame
    frame = frame.iloc[np.argsort([gen.positions[int(i)] for i in frame["sk_id_curr"]])]  # this store's row order
    np.testing.assert_array_equal(book.probabilities, model.predict_proba(frame))
    alone = model.encode_rows(frame)
    assert np.array_equal(encoded.values[np.arange(len(frame))], alone.values, equal_nan=True)
    assert {k: v.tolist() for k, v in encoded.levels.items()} == {k: v.tolist() for k, v in alone.levels.items()}
    ids = [int(i) for i in frame["sk_id_curr"].iloc[[2, 321]]]
    _same_as_alone(model, features, ids, _explain_all(service, model, ids))
    if not preload:
        features.close()


def _book_built(model, features, gen, directory, caplog=None):
    """The book of ``model`` and ``gen`` once its background pass is over (None when it failed), warnings captured."""
    books = ScoreBooks(directory, features)
    with caplog.at_level("WARNING", logger="api") if caplog is not None else contextlib.nullcontext():
        books.get(model, gen)
        books.wait(120)
    return books, books.ready(model, gen)


def test_the_bulk_scores_do_not_wait_for_rows_another_worker_writes(setup, tmp_path):
    """Another worker holding the rows file's lock is writing it: the book's pass neither waits nor writes it, and its
    probabilities are the model's."""
    import fcntl
    import os

    from api.explanation_rows import rows_paths

    model, features, _ = setup
    gen = features.current()
    (tmp_path / "books").mkdir(mode=0o700)
    matrix, _ = rows_paths(tmp_path / "books", gen.identity, model.version)
    lock = os.open(f"{matrix}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        _, book = _book_built(model, features, gen, tmp_path / "books")
    finally:
        os.close(lock)
    assert book is not None and not matrix.exists()
    np.testing.assert_array_equal(book.probabilities, model.predict_proba(gen.frame))


def test_a_failed_rows_write_beside_the_bulk_scores_leaves_the_book_whole(setup, caplog, tmp_path, monkeypatch):
    """A full disk while the rows file is written beside the book: the book is still written and right, no partial
    rows file is left, and the explanation service then encodes its rows itself."""
    import errno

    import api.score_book
    from api.explanation_rows import RowsWriter

    monkeypatch.setattr(api.score_book, "BOOK_CHUNK", 1000)
    model, features, _ = setup
    gen = features.current()
    original = RowsWriter.add
    writes = []

    def full(self, block):
        writes.append(len(block))
        if len(writes) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        original(self, block)

    monkeypatch.setattr(RowsWriter, "add", full)
    books, book = _book_built(model, features, gen, tmp_path / "books", caplog)
    assert book is not None and len(writes) == 2
    np.testing.assert_array_equal(book.probabilities, model.predict_proba(gen.frame))
    assert "explanation rows not written beside the bulk scores" in caplog.text and "No space left" in caplog.text
    left = sorted(p.name.split("-")[0] + p.suffix for p in (tmp_path / "books").iterdir())
    assert left == ["book.arrow", "book.lock", "rows.lock"]  # no partial rows file, no temporary
    monkeypatch.setattr(RowsWriter, "add", original)
    service = ExplanationService(features, books)
    service.encoded(model, gen)
    service.wait_encoded(120)
    encoded = service.encoded(model, gen)
    assert isinstance(encoded.values, RowFile)
    alone = model.encode_rows(gen.frame)
    assert np.array_equal(encoded.values[np.arange(len(gen.frame))], alone.values, equal_nan=True)


def test_a_rows_file_that_cannot_be_created_beside_the_bulk_scores_leaves_the_book_whole(setup, caplog, tmp_path,
                                                                                          monkeypatch):
    """The rows file's temporary cannot even be created (a full disk): the book's pass goes on without it."""
    import errno

    from api.explanation_rows import RowsWriter

    model, features, _ = setup
    gen = features.current()

    def full(self, *args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(RowsWriter, "__init__", full)
    books, book = _book_built(model, features, gen, tmp_path / "books", caplog)
    assert book is not None and not books.failed(model, gen)
    np.testing.assert_array_equal(book.probabilities, model.predict_proba(gen.frame))
    assert "explanation rows not written beside the bulk scores" in caplog.text
