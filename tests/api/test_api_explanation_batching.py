"""Explanations computed together (api/explanations.py): concurrent requests share one model call, each
gets exactly its own row's values, an unknown id fails alone, and the cache answers repeated asks."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from api.explanations import ExplanationService
from api.features import FeatureStore
from api.score_book import ScoreBooks
from api.scoring import UnknownApplicants


@pytest.fixture(scope="module")
def setup(api_env, tmp_path_factory):
    from models_ml.registry import load_current

    features = FeatureStore(api_env.warehouse, reload_seconds=3600)
    books = ScoreBooks(tmp_path_factory.mktemp("books"), features)
    yield load_current(api_env.artifacts), features, books
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


def test_explanations_from_the_encoded_warehouse_equal_those_from_its_rows(setup, caplog):
    """Once the in-memory warehouse is encoded for the model (in the background), batches take their rows
    from it: the same explanations and probabilities, and the encoding is done once per model and file."""
    from api.explanations import RowEncoder

    model, features, books = setup
    assert isinstance(model, RowEncoder)
    service = ExplanationService(features, books)
    gen = features.current()
    ids = [int(i) for i in gen.frame["sk_id_curr"].iloc[[0, 9, 444, 1001, len(gen.frame) - 1]]]
    assert service.encoded(model, gen) is None  # started, not ready
    service.wait_encoded(120)
    encoded = service.encoded(model, gen)
    assert encoded is not None and encoded.matrix.shape == (len(gen.frame), len(model.feature_types))
    assert service.encoded(model, gen) is encoded  # kept, not rebuilt

    calls = []
    original = model.explain_rows
    try:
        model.explain_rows = lambda enc, positions: calls.append(list(positions)) or original(enc, positions)

        async def ask_all():
            return await asyncio.gather(*(service.explained(model, i) for i in [*ids, 1]), return_exceptions=True)

        got = asyncio.run(ask_all())
    finally:
        del model.explain_rows
    assert calls == [[gen.positions[i] for i in ids]]  # one batch, from the encoded rows
    assert isinstance(got[-1], UnknownApplicants)
    for sk_id, (probability, expl) in zip(ids, got[:-1], strict=True):
        row = features.get(sk_id)
        alone = model.explain(row)
        assert np.array_equal(expl.values, alone.values) and expl.base_value == alone.base_value
        assert [str(v) for v in expl.data.iloc[0]] == [str(v) for v in alone.data.iloc[0]]
        assert probability == pytest.approx(float(model.predict_proba(row)[0]), rel=1e-12)


def test_a_failed_encoding_leaves_explanations_working_and_is_not_retried(setup, caplog):
    model, features, books = setup
    service = ExplanationService(features, books)
    gen = features.current()
    attempts = []

    def broken(frame):
        attempts.append(len(frame))
        raise MemoryError("no room for the copy")

    model.encode_rows = broken
    try:
        with caplog.at_level("WARNING", logger="api"):
            assert service.encoded(model, gen) is None
            service.wait_encoded(60)
            assert service.encoded(model, gen) is None
            service.wait_encoded(60)
        sk_id = int(gen.frame["sk_id_curr"].iloc[5])
        probability, expl = asyncio.run(service.explained(model, sk_id))
    finally:
        del model.encode_rows
    assert attempts == [len(gen.frame)]  # tried once for this model and file
    assert "MemoryError: no room for the copy" in caplog.text and str(sk_id) not in caplog.text
    np.testing.assert_array_equal(expl.values, model.explain(features.get(sk_id)).values)
