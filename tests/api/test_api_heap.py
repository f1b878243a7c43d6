"""The collector's pauses in a serving process (issue 16 goal 3): what is loaded (libraries, model, warehouse) is
put out of the cyclic collector's reach once loaded, so a full collection under traffic scans only what requests
create; what a swap releases is still collected."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from api import heap
from api.features import FeatureStore
from api.model_store import ModelStore


class _Node:
    def __init__(self) -> None:
        self.other: _Node | None = None


def _cycle() -> tuple[_Node, weakref.ref]:
    a, b = _Node(), _Node()
    a.other, b.other = b, a
    return a, weakref.ref(b)


@pytest.fixture(autouse=True)
def _unfrozen():
    gc.unfreeze()
    yield
    gc.unfreeze()  # other tests run with the collector as usual


def test_settle_freezes_what_is_alive_and_a_later_settle_still_collects_what_was_released():
    kept, alive = _cycle()
    heap.settle()
    assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() >= len(gc.get_referrers(kept))  # the cycle is among the frozen objects
    del kept
    gc.collect()
    assert alive() is not None  # frozen: a full collection under traffic does not scan it (nor free it)
    heap.settle()  # the next load (a model or warehouse swap) unfreezes first
    assert alive() is None


def test_a_model_load_settles_the_heap(tmp_path: Path):
    version = tmp_path / "models" / "v1"
    version.mkdir(parents=True)
    (tmp_path / "models" / "current").symlink_to("v1")
    store = ModelStore(tmp_path / "models" / "current", reload_seconds=0, loader=lambda path: path.name)
    assert gc.get_freeze_count() == 0
    assert store.get() == "v1"
    assert gc.get_freeze_count() > 0


def test_opening_a_warehouse_settles_the_heap(api_env):
    store = FeatureStore(api_env.warehouse)
    assert gc.get_freeze_count() == 0
    store.current()
    assert gc.get_freeze_count() > 0
    store.close()
