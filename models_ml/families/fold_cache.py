"""Binned boosting data per training fold, built once and reused.

Every candidate of a boosted family, every tuning trial and the monotone check fit on the same training folds;
what only depends on the fold -- the fitted native encoder, the inner early-stopping split and the library's
binned data (a constructed LightGBM ``Dataset``, an XGBoost ``DMatrix`` with its histogram index) -- is built on the first fit
and looked up afterwards. Entries are keyed by the fold's rows (a fingerprint of the frame and target), the
seed, whether an inner split is held out, and the binning parameters; a byte-bounded LRU (cachetools) drops
the oldest. A fit with the cache gives exactly the model a fit without it gives (tested).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import cachetools
import numpy as np
import pandas as pd

from models_ml.preprocessing import NativeEncoder

# fold data kept at most (estimated per family: LightGBM ~1.5 bytes per training value for its bins, validation
# split and undersampled subset; XGBoost ~6, its DMatrix keeps the float32 values): the five folds of the
# comparison subsample (48,000 x 483: ~35 MB each for LightGBM, ~140 MB for XGBoost) stay while the candidates and
# trials reuse them; the larger folds of the final cross-validation, which one candidate uses, cannot pile up
MAX_BYTES = 1024**3
SAMPLE_ROWS = 64         # rows whose values enter the fingerprint (with the whole index and target)


@dataclass
class FoldData:
    """One training fold of a boosted family, ready to train on."""

    encoder: NativeEncoder
    idx_tr: np.ndarray          # positions (in the fold's frame) of the rows trained on
    idx_va: np.ndarray | None   # positions of the inner early-stopping split (None: no split)
    train: Any                  # the library's binned training data of idx_tr
    valid: Any                  # the binned inner validation data (binned like ``train``), or None
    nbytes: int
    derived: dict[Hashable, Any] = field(default_factory=dict)  # e.g. the undersampled training data
    lock: threading.Lock = field(default_factory=threading.Lock)

    def derive(self, key: Hashable, build: Callable[[], Any]) -> Any:
        with self.lock:
            if key not in self.derived:
                self.derived[key] = build()
            return self.derived[key]


def fingerprint(X: pd.DataFrame, y: np.ndarray) -> str:
    """Identity of a training fold: shape, columns, row index, target and the values of a few spread rows."""
    h = hashlib.blake2b(digest_size=16)
    h.update(repr((X.shape, tuple(X.columns))).encode())
    h.update(np.ascontiguousarray(X.index.to_numpy(dtype=np.int64, na_value=-1)).tobytes()
             if pd.api.types.is_integer_dtype(X.index) else pd.util.hash_pandas_object(X.index).to_numpy().tobytes())
    h.update(np.ascontiguousarray(np.asarray(y, dtype=np.int64)).tobytes())
    if len(X):
        rows = X.iloc[np.unique(np.linspace(0, len(X) - 1, min(len(X), SAMPLE_ROWS)).astype(int))]
        h.update(pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes())
    return h.hexdigest()


class FoldDataCache:
    """Byte-bounded LRU of ``FoldData``; ``hits`` / ``misses`` count lookups (for tests and benchmarks)."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self._entries: cachetools.LRUCache[Hashable, FoldData] = cachetools.LRUCache(
            maxsize=max_bytes, getsizeof=lambda e: max(1, e.nbytes))
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_build(self, key: Hashable, build: Callable[[], FoldData]) -> FoldData:
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self.hits += 1
                return found
            self.misses += 1
        data = build()
        with self._lock:
            if data.nbytes <= self._entries.maxsize:
                self._entries[key] = data
        return data

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
