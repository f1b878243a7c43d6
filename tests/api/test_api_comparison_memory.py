"""The comparison's per-feature cache (api/comparison.py) is bounded and shares ids / dataset / target:
an officer comparing feature after feature must not grow the process by a full copy of those per feature
(~30-40 MB each at SCALE=1)."""

from __future__ import annotations

import gc
import tracemalloc

import numpy as np
import pytest

from api.comparison import ComparisonIndex
from api.features import ColumnValues

N_ROWS = 5_000
N_FEATURES = 60


class _Store:
    """What ComparisonIndex reads from a FeatureStore: generation, types, column(name) (fresh arrays per call,
    as the real store returns them)."""

    generation = 0

    def __init__(self) -> None:
        rng = np.random.default_rng(0)
        self.ids = np.arange(100_000, 100_000 + N_ROWS, dtype=np.int64)
        self.dataset = np.where(rng.random(N_ROWS) < 0.8, "train", "test")
        self.target = np.where(self.dataset == "train", (rng.random(N_ROWS) < 0.1).astype(float), np.nan)
        self.types = {f"num_{k}": "DOUBLE" for k in range(N_FEATURES)} | {"cat_0": "VARCHAR"}
        self._values = {f"num_{k}": rng.normal(k, 1.0, N_ROWS) for k in range(N_FEATURES)}
        levels = np.array(["a", "b", "c", None], dtype=object)
        self._values["cat_0"] = levels[rng.integers(0, 4, N_ROWS)]

    def column(self, name: str) -> ColumnValues:
        return ColumnValues(self.ids.copy(), self.dataset.astype(object), self.target.copy(),
                            self._values[name].copy())


@pytest.fixture(scope="module")
def store() -> _Store:
    return _Store()


def test_compared_features_hold_bounded_memory(store):
    index = ComparisonIndex(store, ["num_0", "num_1"], neighbours=50, cache_bytes=250_000)
    client = int(store.ids[123])
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for k in range(N_FEATURES):
            index.compare(client, [f"num_{k}"])
        gc.collect()
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # unbounded, with its own ids/dataset/target per feature: ~28 MB here
    assert held < 1_000_000, f"the comparison cache holds {held / 1e6:.1f} MB after {N_FEATURES} features"


def test_an_evicted_feature_is_computed_again_with_the_same_answer(store):
    index = ComparisonIndex(store, ["num_0", "num_1"], neighbours=50, cache_bytes=100_000)  # ~2 features
    client = int(store.ids[7])
    first = index.compare(client, ["num_5", "cat_0"])
    for k in range(10, 20):
        index.compare(client, [f"num_{k}"])
    again = index.compare(client, ["num_5", "cat_0"])
    assert again == first
    num, cat = first
    x = store._values["num_5"]
    assert num["client_value"] == pytest.approx(x[7])
    assert num["all"]["mean"] == pytest.approx(x.mean())
    assert num["client_percentile"] == pytest.approx((x < x[7]).mean())
    train = store.dataset == "train"
    assert num["defaulters"]["n"] == int((train & (store.target == 1)).sum())
    labels = store._values["cat_0"]
    assert cat["client_value"] == labels[7]
    counts = dict(zip(cat["all"]["histogram"]["categories"], cat["all"]["histogram"]["counts"], strict=True))
    assert counts == {lv: int((labels == lv).sum()) for lv in ("a", "b", "c")}
    assert cat["all"]["missing_share"] == pytest.approx(np.mean([v is None for v in labels]))
