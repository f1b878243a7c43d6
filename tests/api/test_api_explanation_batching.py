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
