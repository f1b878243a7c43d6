"""How a client compares with others: all clients, similar clients, defaulters vs non-defaulters.

Built per warehouse generation. At startup the neighbour space is precomputed: a few key numeric
features (the model's most important ones present in the warehouse), standardized (median / IQR,
missing -> the median), for every applicant. A feature's distributions are computed on first use and
cached: histogram edges from all clients (1st-99th percentile range, values beyond go to the end bins),
reused for every subgroup so the bars are comparable.

Memory: ids, dataset and target are held once per index (every column comes ordered by id); a cached
feature holds only its values (float64, or int32 level codes for categorical features) and is kept in an
LRU cache bounded in bytes (`cache_bytes`, HC_API_COMPARISON_CACHE_MB): at SCALE=1 a numeric feature is
~2.8 MB, so officers comparing feature after feature no longer grow the process without bound.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from cachetools import LRUCache

from api.features import ColumnValues, FeatureStore, kind_of
from api.labels import feature_label

QUANTILES = {"p05": 0.05, "p25": 0.25, "p50": 0.5, "p75": 0.75, "p95": 0.95}
BINS = 20
TOP_LEVELS = 15
FALLBACK_KEYS = ("ext_source_2", "ext_source_3", "ext_source_1", "amt_income_total", "amt_credit",
                 "amt_annuity", "days_birth", "days_employed")

CACHE_BYTES = 256 * 1024 * 1024  # default bound of the cached features' values


@dataclass(frozen=True)
class _FeatureData:
    kind: str
    numbers: np.ndarray | None  # float values (numeric) else None
    codes: np.ndarray | None  # categorical: index into `names` per applicant, -1 when missing
    names: list[str] | None  # categorical: every level present
    levels: list[int] | None  # categorical: codes of the levels shown (most frequent first)
    edges: np.ndarray | None

    @property
    def nbytes(self) -> int:
        arrays = (self.numbers, self.codes, self.edges)
        return sum(a.nbytes for a in arrays if a is not None) + 64 * len(self.names or ()) + 256


class ComparisonIndex:
    def __init__(self, store: FeatureStore, key_features: Sequence[str], neighbours: int = 200,
                 cache_bytes: int = CACHE_BYTES) -> None:
        self.store = store
        self.generation = store.generation
        types = store.types
        self.key_features = [f for f in key_features if f in types and kind_of(types[f]) == "numeric"][:6]
        if not self.key_features:
            self.key_features = [f for f in FALLBACK_KEYS if f in types and kind_of(types[f]) == "numeric"][:6]
        self.k = neighbours
        self._features: LRUCache[str, _FeatureData] = LRUCache(maxsize=max(1, cache_bytes),
                                                                 getsizeof=lambda data: data.nbytes)
        self._lock = threading.Lock()
        self._ids: np.ndarray | None = None  # with dataset and target: held once, from the first column read
        self._dataset = np.empty(0, dtype=object)
        self._target = np.empty(0, dtype=np.float64)
        self._ids, self._space = self._neighbour_space()

    # -- neighbours --------------------------------------------------------------------------------
    def _neighbour_space(self) -> tuple[np.ndarray, np.ndarray]:
        columns = []
        ids = np.empty(0, dtype=np.int64)
        for name in self.key_features:
            col = self._aligned(self.store.column(name))
            ids = col.ids
            x = col.values.astype(np.float64, copy=False)
            med = np.nanmedian(x) if np.isfinite(x).any() else 0.0
            q75, q25 = (np.nanpercentile(x, [75, 25]) if np.isfinite(x).any() else (1.0, 0.0))
            scale = (q75 - q25) or (np.nanstd(x) if np.isfinite(x).any() else 1.0) or 1.0
            z = (x - med) / scale
            columns.append(np.where(np.isfinite(z), z, 0.0))
        if not columns:
            if "sk_id_curr" in self.store.types:
                ids = self._aligned(self.store.column("sk_id_curr")).ids
            return ids, np.zeros((len(ids), 0))
        return ids, np.column_stack(columns).astype(np.float32)

    def position(self, sk_id_curr: int) -> int | None:
        pos = int(np.searchsorted(self._ids, sk_id_curr))
        if pos < len(self._ids) and self._ids[pos] == sk_id_curr:
            return pos
        return None

    def similar(self, pos: int) -> np.ndarray:
        """Row positions of the k clients nearest to `pos` (the client excluded)."""
        n = len(self._ids)
        if n <= 1:
            return np.empty(0, dtype=np.int64)
        d = ((self._space - self._space[pos]) ** 2).sum(axis=1)
        d[pos] = np.inf
        k = min(self.k, n - 1)
        return np.argpartition(d, k - 1)[:k]

    # -- feature distributions ---------------------------------------------------------------------
    def _feature(self, name: str) -> _FeatureData:
        with self._lock:  # the LRU cache reorders on every read: not thread-safe by itself
            data = self._features.get(name)
            if data is not None:
                return data
            kind = kind_of(self.store.types[name])
            col = self._aligned(self.store.column(name))
            if kind == "numeric":
                numbers = col.values.astype(np.float64, copy=False)
                finite = numbers[np.isfinite(numbers)]
                if finite.size:
                    lo, hi = np.percentile(finite, [1, 99])
                    if hi <= lo:
                        lo, hi = float(finite.min()), float(finite.max())
                    if hi <= lo:
                        lo, hi = lo - 0.5, hi + 0.5
                    edges = np.linspace(lo, hi, BINS + 1)
                else:
                    edges = np.linspace(0.0, 1.0, BINS + 1)
                data = _FeatureData(kind, numbers, None, None, None, edges)
            else:
                labels = [_level(v) for v in col.values]
                names = sorted({v for v in labels if v is not None})
                code_of = {v: i for i, v in enumerate(names)}
                codes = np.fromiter((-1 if v is None else code_of[v] for v in labels), dtype=np.int32,
                                    count=len(labels))
                counts = np.bincount(codes[codes >= 0], minlength=len(names))
                order = np.argsort(-counts, kind="stable")  # ties: alphabetical, as before
                data = _FeatureData(kind, None, codes, names, [int(i) for i in order[:TOP_LEVELS]], None)
            with contextlib.suppress(ValueError):  # larger than the whole bound: used once, not kept
                self._features[name] = data
            return data

    def _aligned(self, col: ColumnValues) -> ColumnValues:
        """`col` on the index's applicants (its ids, dataset, target): the same table gives the same ids;
        a column read after the warehouse was swapped is matched by id (missing where unknown)."""
        if self._ids is None:  # the first column read: the index's applicants
            self._ids, self._dataset, self._target = col.ids, col.dataset, col.target
        if len(col.ids) == len(self._ids) and np.array_equal(col.ids, self._ids):
            return col
        pos = np.clip(np.searchsorted(col.ids, self._ids), 0, max(len(col.ids) - 1, 0))
        found = (col.ids[pos] == self._ids) if len(col.ids) else np.zeros(len(self._ids), dtype=bool)
        if col.values.dtype == np.float64:
            values = np.where(found, col.values[pos] if len(col.ids) else np.nan, np.nan)
        else:
            values = np.array([col.values[p] if f else None for p, f in zip(pos, found, strict=True)], dtype=object)
        return ColumnValues(self._ids, self._dataset, self._target, values)

    def _distribution(self, data: _FeatureData, mask: np.ndarray | slice) -> dict[str, Any]:
        if data.kind == "numeric":
            x = data.numbers[mask]
            finite = x[np.isfinite(x)]
            n_total = int(x.size)
            out: dict[str, Any] = {
                "n": int(finite.size),
                "missing_share": float(1 - finite.size / n_total) if n_total else 0.0,
                "mean": float(finite.mean()) if finite.size else None,
                "quantiles": {k: float(np.quantile(finite, q)) if finite.size else None for k, q in QUANTILES.items()},
            }
            clipped = np.clip(finite, data.edges[0], data.edges[-1])
            counts, _ = np.histogram(clipped, bins=data.edges)
            out["histogram"] = {"edges": [float(e) for e in data.edges], "counts": [int(c) for c in counts]}
            return out
        assert data.codes is not None and data.names is not None
        codes = data.codes[mask]
        present = codes[codes >= 0]
        n_total = int(codes.size)
        per_code = np.bincount(present, minlength=len(data.names))
        shown = data.levels or []
        counts = [int(per_code[code]) for code in shown]
        other = int(present.size - sum(counts))
        categories = [data.names[code] for code in shown] + (["(other)"] if other else [])
        counts = counts + ([other] if other else [])
        return {
            "n": int(present.size),
            "missing_share": float(1 - present.size / n_total) if n_total else 0.0,
            "mean": None,
            "quantiles": {},
            "histogram": {"categories": categories, "counts": counts},
        }

    def compare(self, sk_id_curr: int, features: Sequence[str]) -> list[dict[str, Any]] | None:
        """Comparison of `features` for the client, or None when the client is unknown."""
        pos = self.position(sk_id_curr)
        if pos is None:
            return None
        near = self.similar(pos)
        out = []
        for name in features:
            data = self._feature(name)
            is_train = self._dataset == "train"
            if data.kind == "numeric":
                value = data.numbers[pos]
            else:
                code = int(data.codes[pos])
                value = None if code < 0 else data.names[code]
            client_value = _scalar(value, data.kind)
            percentile = None
            if data.kind == "numeric" and client_value is not None:
                finite = data.numbers[np.isfinite(data.numbers)]
                percentile = float((finite < client_value).mean()) if finite.size else None
            near_targets = self._target[near]
            known = near_targets[np.isfinite(near_targets)]
            similar = self._distribution(data, near)
            similar.update(
                k=int(near.size),
                default_rate=float(known.mean()) if known.size else None,
                on_features=list(self.key_features),
            )
            out.append(
                {
                    "feature": name,
                    "label": feature_label(name),
                    "kind": data.kind,
                    "client_value": client_value,
                    "client_percentile": percentile,
                    "all": self._distribution(data, slice(None)),
                    "similar": similar,
                    "defaulters": self._distribution(data, is_train & (self._target == 1)),
                    "non_defaulters": self._distribution(data, is_train & (self._target == 0)),
                }
            )
        return out


def _level(value: Any) -> Any:
    if value is None or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    return str(value)


def _scalar(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "numeric":
        v = float(value)
        return v if np.isfinite(v) else None
    return value
