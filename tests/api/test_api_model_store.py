"""Hot reload: the `current` link is followed, a new version swaps in, a broken one is skipped."""

import os
import threading
from pathlib import Path

import pytest

from api.model_store import ModelStore, ModelUnavailable


class Version:
    """What the loader returns here: the version directory's name and content."""

    def __init__(self, path: Path) -> None:
        self.version = path.name
        self.text = (path / "model.txt").read_text()


def _version(models: Path, name: str, text: str = "ok") -> Path:
    path = models / name
    path.mkdir(parents=True)
    (path / "model.txt").write_text(text)
    return path


def _promote(models: Path, name: str) -> None:
    tmp = models / ".current.tmp"
    tmp.symlink_to(name)
    os.replace(tmp, models / "current")


def test_no_model_is_a_clear_error(tmp_path: Path):
    store = ModelStore(tmp_path / "models" / "current", reload_seconds=0, loader=Version)
    with pytest.raises(ModelUnavailable, match="no model promoted yet"):
        store.get()


def test_new_version_is_picked_up_without_restart(tmp_path: Path):
    models = tmp_path / "models"
    _version(models, "v1")
    _promote(models, "v1")
    store = ModelStore(models / "current", reload_seconds=0, loader=Version)
    first = store.get()
    assert first.version == "v1"
    _version(models, "v2")
    _promote(models, "v2")
    store.get()  # notices the change and loads in the background, serving v1 meanwhile
    store.wait_idle()
    assert store.get().version == "v2"
    assert first.version == "v1"  # a request holding the old object is unaffected


def test_a_version_that_fails_to_load_is_skipped(tmp_path: Path):
    models = tmp_path / "models"
    _version(models, "v1")
    _promote(models, "v1")
    store = ModelStore(models / "current", reload_seconds=0, loader=Version)
    assert store.get().version == "v1"
    (models / "broken").mkdir()  # no model.txt: the loader raises
    _promote(models, "broken")
    assert store.refresh() is False
    assert store.get().version == "v1"
    _version(models, "v3")
    _promote(models, "v3")
    assert store.refresh() is True
    assert store.get().version == "v3"


def test_reload_is_checked_only_every_interval(tmp_path: Path):
    models = tmp_path / "models"
    _version(models, "v1")
    _promote(models, "v1")
    store = ModelStore(models / "current", reload_seconds=3600, loader=Version)
    assert store.get().version == "v1"
    _version(models, "v2")
    _promote(models, "v2")
    assert store.get().version == "v1"  # not checked again yet
    assert store.refresh() is True and store.get().version == "v2"


def test_requests_never_fail_while_versions_change(tmp_path: Path):
    models = tmp_path / "models"
    _version(models, "v0")
    _promote(models, "v0")
    store = ModelStore(models / "current", reload_seconds=0, loader=Version)
    errors: list[Exception] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            try:
                assert store.get().text == "ok"
            except Exception as exc:  # pragma: no cover - the assertion below reports it
                errors.append(exc)

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for i in range(1, 20):
            _version(models, f"v{i}")
            _promote(models, f"v{i}")
            store.get()
            store.wait_idle()
    finally:
        stop.set()
        for t in threads:
            t.join()
    store.refresh()
    assert errors == []
    assert store.get().version == "v19"
