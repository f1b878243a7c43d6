"""The collector's pauses in a serving process (issue 16 goal 3): what start-up loaded (libraries, model, warehouse)
is put out of the cyclic collector's reach, again after each swap, so a full collection under traffic scans only what
requests create; what an earlier settle froze and was released since is still collected."""

from __future__ import annotations

import gc
import os
import shutil
import weakref
from pathlib import Path

import pytest
from api_helpers import api_settings
from fastapi.testclient import TestClient

from api import heap
from api.features import FeatureStore
from api.main import create_app
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


def _promote(models: Path, name: str) -> None:
    (models / name).mkdir(parents=True)
    tmp = models / ".current.tmp"
    tmp.symlink_to(name)
    os.replace(tmp, models / "current")


def test_a_model_swap_settles_the_heap(tmp_path: Path):
    models = tmp_path / "models"
    _promote(models, "v1")
    store = ModelStore(models / "current", reload_seconds=0, loader=lambda path: path.name)
    assert store.get() == "v1"
    assert gc.get_freeze_count() == 0  # the first load is settled with the rest of start-up
    _promote(models, "v2")
    store.get()
    store.wait_idle()
    assert store.get() == "v2"
    assert gc.get_freeze_count() > 0


def test_a_rebuilt_warehouse_file_settles_the_heap(api_env, tmp_path: Path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copy2(api_env.warehouse, path)
    store = FeatureStore(path, reload_seconds=0)
    first = store.current()
    assert gc.get_freeze_count() == 0
    tmp = tmp_path / "rebuilt.duckdb"
    shutil.copy2(api_env.warehouse, tmp)
    os.replace(tmp, path)  # what `make warehouse` does: a new file renamed into place
    assert store.current().number == first.number + 1
    assert gc.get_freeze_count() > 0
    store.close()


def test_the_service_settles_the_heap_once_started(api_env):
    with TestClient(create_app(api_settings(api_env))) as client:
        assert client.get("/health").status_code == 200
        assert gc.get_freeze_count() > 0
