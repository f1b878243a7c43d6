"""The current model, swapped without restart when a new version is promoted.

`ModelStore.get()` is called by every request: every `reload_seconds` it resolves the `current` symlink
(one `readlink`, cheap); when the target changed it loads the new version in a background thread and
then swaps one reference. A request holds the model object it started with until it finishes, so no
request in flight fails; a version that fails to load is logged and skipped until the link changes.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from api import heap
from models_ml.registry import load_version

log = logging.getLogger("api.model")

Loader = Callable[[Path], Any]


class ModelUnavailable(RuntimeError):
    """No model version can be served (none promoted yet, or it cannot be loaded)."""


def _registry_loader(path: Path) -> Any:
    model = load_version(path)
    model.warm()  # before it is served: no request waits for its SHAP table
    return model


class ModelStore:
    def __init__(self, current_link: Path, reload_seconds: float = 2.0, loader: Loader | None = None) -> None:
        self._link = current_link
        self._reload_seconds = reload_seconds
        self._loader = loader or _registry_loader
        self._model: Any = None
        self._target: Path | None = None
        self._failed_target: Path | None = None
        self._last_error: str | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()  # one load at a time
        self._spawn_lock = threading.Lock()  # one background loader at a time, never held while loading
        self._loading: threading.Thread | None = None

    # -- reading -----------------------------------------------------------------------------------
    def get(self) -> Any:
        """The model to use for this request (never blocks on a reload once a model is loaded)."""
        now = time.monotonic()
        if now - self._checked_at >= self._reload_seconds:
            self._checked_at = now
            target = self._resolve()
            if target is not None and target != self._target and target != self._failed_target:
                if self._model is None:
                    self._load(target)  # nothing to serve meanwhile: load now
                else:
                    self._load_in_background(target)
        model = self._model
        if model is None:
            raise ModelUnavailable(self._last_error or f"no model promoted yet: {self._link} does not exist")
        return model

    @property
    def loaded(self) -> Any:
        """The loaded model or None, without checking for a new version."""
        return self._model

    @property
    def refused(self) -> str | None:
        """Why the newest promoted version is not served (it failed to load), or None."""
        return self._last_error if self._failed_target is not None else None

    # -- loading -----------------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Check the link now and load a new target synchronously; True when the model changed."""
        self._checked_at = time.monotonic()
        target = self._resolve()
        if target is None or target == self._target:
            return False
        return self._load(target)

    def wait_idle(self, timeout: float = 60.0) -> None:
        thread = self._loading
        if thread is not None:
            thread.join(timeout)

    def _resolve(self) -> Path | None:
        try:
            return Path(os.path.realpath(self._link, strict=True))
        except OSError:
            return None

    def _load_in_background(self, target: Path) -> None:
        with self._spawn_lock:
            if self._loading is not None and self._loading.is_alive():
                return
            thread = threading.Thread(target=self._load, args=(target,), name="model-reload", daemon=True)
            thread.start()
            self._loading = thread

    def _load(self, target: Path) -> bool:
        with self._lock:
            if target == self._target:
                return False
            started = time.perf_counter()
            try:
                model = self._loader(target)
            except Exception as exc:  # a broken version must not take the service down
                self._failed_target = target
                self._last_error = f"model version at {target.name} could not be loaded ({type(exc).__name__})"
                log.error("%s: %s", self._last_error, exc)
                return False
            swapped = self._model is not None
            self._model, self._target, self._failed_target, self._last_error = model, target, None, None
            log.info("serving model %s (loaded in %.2fs)", getattr(model, "version", target.name),
                     time.perf_counter() - started)
            if swapped:  # the first load is settled with the rest of start-up (Services.start)
                heap.settle()
            return True
