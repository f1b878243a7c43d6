"""Explanations of known applicants: computed in batches, kept in an LRU cache, shaped for the response.

Concurrent requests are micro-batched on the event loop: the first request starts a computation in the
thread pool, those arriving meanwhile wait and are explained together by the next one (SHAP of 16 rows
costs about twice one row: the cost is mostly per call, not per row). One computation runs at a time per
process: the work mostly holds the GIL, so parallel threads would only contend; other workers use the
other cores. (Two at once were tried at stop 29, with SHAP from `models_ml.treeshap`, which runs without the
GIL: the same throughput and a worse tail at 16 concurrent -- p99 27.5-37.5 ms against 23-33 ms over nine
alternating runs at full volume -- as a free computation takes every waiting ask and batches grow uneven.)
The latest explanations are cached (a client's explanation is typically asked for several times while an officer talks to them), keyed by the model's folder and version and the warehouse file's
identity: values that identify what was explained, unlike `id()` of objects that may be collected and
their ids reused.

For a boosted model the known applicants' rows are encoded once per model and warehouse file, in the
background (by the score book's pass when it runs, else here), into a file every worker reads
(`api.explanation_rows`): a batch then takes its rows of the
booster's matrix by position instead of converting them from the warehouse (a point query of ~480
columns costs ~35 ms of CPU at full volume; a take of the in-memory table ~5 ms for 8 rows). Until it is
ready, and for other families, a batch converts its own rows.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from cachetools import LRUCache
from starlette.concurrency import run_in_threadpool

from api import metrics
from api.convert import scalar
from api.explanation_rows import RowEncoder, RowsKey, rows_key, shared_rows
from api.features import FeatureStore, Generation, ServiceStopping
from api.schemas.responses import Contribution, ExplanationOut, Reason
from api.score_book import ScoreBooks
from api.scoring import UnknownApplicants
from api.scoring_model import Explanation, ScoringModel

log = logging.getLogger("api")

MAX_BATCH = 64
ROWS_CHUNK = 20_000  # rows encoded at a time (the typed frame of one chunk is the transient memory)
CacheKey = tuple[str, str, tuple[int, int], int]
Explained = tuple[float, Explanation]  # (probability, SHAP explanation of one row)


@dataclass(frozen=True)
class EncodedTable:
    """The encoded rows of one warehouse generation under one model (`api.explanation_rows`)."""

    key: RowsKey
    rows: Any


@dataclass(eq=False)
class _Ask:
    model: ScoringModel
    gen: Generation
    sk_id: int
    future: asyncio.Future[Explained]


def cache_key(model: ScoringModel, gen: Generation, sk_id: int) -> CacheKey:
    return (str(model.path), model.version, gen.identity, int(sk_id))


class ExplanationService:
    def __init__(self, features: FeatureStore, books: ScoreBooks, cache_size: int = 1024) -> None:
        self.features = features
        self.books = books
        self._cache: LRUCache[CacheKey, Explained] = LRUCache(maxsize=max(1, cache_size))
        self._cache_lock = threading.Lock()
        self._pending: list[_Ask] = []
        self._drainer: asyncio.Task[None] | None = None
        self.computations = 0  # batches computed (tests and the bench read it)
        self._encoded: EncodedTable | None = None
        self._encoding: threading.Thread | None = None
        self._encode_lock = threading.Lock()
        self._encode_failed: RowsKey | None = None

    # -- the encoded table -------------------------------------------------------------------------
    def encoded(self, model: ScoringModel, gen: Generation) -> Any:
        """The encoded rows of `gen` under `model` when ready; otherwise None, and their encoding is started
        in the background (once per model and warehouse file: a failure is logged and not retried)."""
        key = rows_key(model, gen)
        if key is None:
            return None
        table = self._encoded
        if table is not None and table.key == key:
            return table.rows
        with self._encode_lock:
            if self._encode_failed != key and (self._encoding is None or not self._encoding.is_alive()):
                self._encoding = threading.Thread(target=self._encode, args=(model, gen, key),
                                                  name="explanation-rows", daemon=True)
                self._encoding.start()
        return None

    def rows_status(self, model: ScoringModel, gen: Generation) -> str:
        """ready, computing (started here when needed), failed (not retried until the model or warehouse
        changes) or not_used (not a boosted model, or no known applicant) -- for `/ready`."""
        key = rows_key(model, gen)
        if key is None:
            return "not_used"
        if self.encoded(model, gen) is not None:
            return "ready"
        return "failed" if self._encode_failed == key else "computing"

    def wait_encoded(self, timeout: float | None = None) -> None:
        """Wait for the background encoding (start-up, benches and tests that want it ready)."""
        thread = self._encoding
        if thread is not None:
            thread.join(timeout)

    def _encode(self, model: ScoringModel, gen: Generation, key: RowsKey) -> None:
        assert isinstance(model, RowEncoder)
        # after the bulk scores when they are being computed: both read every row of the warehouse, and at full
        # volume their transient memory together took the start-up's peak from ~2.0 to ~3.1 GB (the GIL lets
        # them gain little from running together)
        self.books.wait()
        started = time.perf_counter()
        self._encoded = None  # the previous generation's rows are released before the new ones are built
        names = list(model.feature_types)

        def build(levels: dict[str, list[str]]) -> Iterator[np.ndarray]:
            return model.encode_chunks(self.features.chunks(gen, ROWS_CHUNK), levels)

        try:
            values, levels, shared = shared_rows(self.books.directory, gen.identity, model.version,
                                                 len(gen.positions), names, build)
            rows = model.encoded_rows(values, levels)
        except ServiceStopping:
            log.info("explanation rows not encoded: the service is stopping")
            return
        except Exception as exc:  # noqa: BLE001 - explanations still work, converting rows per batch
            log.warning("explanations convert rows per request: encoding the warehouse's rows for model %s "
                        "failed (%s: %s)", model.version, type(exc).__name__, exc)
            self._encode_failed = key
            return
        self._encoded = EncodedTable(key, rows)
        metrics.observe_startup("explanation_rows", time.perf_counter() - started)
        log.info("explanation rows of %d known applicants for model %s ready in %.1f s (%s)", len(gen.positions),
                 model.version, time.perf_counter() - started,
                 "shared file" if shared else "private copy")

    # -- the response ------------------------------------------------------------------------------
    async def explain(self, model: ScoringModel, sk_id: int, top: int = 20, reasons: int = 5) -> ExplanationOut:
        probability, expl = await self.explained(model, sk_id)
        return explanation_out(model, sk_id, probability, expl, top, reasons)

    async def explained(self, model: ScoringModel, sk_id: int) -> Explained:
        """(probability, explanation) of a known applicant; UnknownApplicants when the warehouse lacks it."""
        gen = self.features.current_if_open() or await run_in_threadpool(self.features.current)
        key = cache_key(model, gen, sk_id)
        with self._cache_lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        future: asyncio.Future[Explained] = asyncio.get_running_loop().create_future()
        self._pending.append(_Ask(model, gen, sk_id, future))
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._pending:
            asks, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            try:
                results = await run_in_threadpool(self.compute, asks)
            except Exception as exc:  # noqa: BLE001 - every waiting request gets the error
                results = [exc] * len(asks)
            for ask, result in zip(asks, results, strict=True):
                if ask.future.done():  # the request was cancelled (client gone)
                    continue
                if isinstance(result, BaseException):
                    ask.future.set_exception(result)
                else:
                    ask.future.set_result(result)

    # -- the computation (thread pool) -------------------------------------------------------------
    def compute(self, asks: list[_Ask]) -> list[Explained | BaseException]:
        """Explain the asked applicants, one model call per (model, warehouse generation) group."""
        results: list[Explained | BaseException] = [UnknownApplicants([a.sk_id]) for a in asks]
        groups: dict[tuple[int, int], list[int]] = {}
        for k, ask in enumerate(asks):
            groups.setdefault((id(ask.model), id(ask.gen)), []).append(k)  # objects alive in `asks`
        for members in groups.values():
            model, gen = asks[members[0]].model, asks[members[0]].gen
            encoded = self.encoded(model, gen)
            rows: pd.DataFrame | None = None
            if encoded is not None or gen.frame is not None:  # every known id has a position
                found = [k for k in members if asks[k].sk_id in gen.positions]
                if encoded is None:  # one take of the in-memory table (a concat of rows costs ~2 ms each)
                    rows = gen.frame.iloc[[gen.positions[asks[k].sk_id] for k in found]]
            else:
                frames = {k: self.features.get(asks[k].sk_id, gen) for k in members}
                found = [k for k in members if frames[k] is not None]
                rows = _concat([frames[k] for k in found]) if found else None
            if not found or (rows is None and encoded is None):
                continue
            try:
                positions = [gen.positions.get(asks[k].sk_id) for k in found]
                if encoded is not None:
                    assert isinstance(model, RowEncoder)
                    expl = model.explain_rows(encoded, positions)
                else:
                    expl = model.explain(rows)
                book = self.books.ready(model, gen)
                if book is not None and all(p is not None for p in positions):
                    probabilities = book.probabilities[positions]  # spares a second pass through the model
                elif rows is None:  # encoded rows, no book yet
                    assert isinstance(model, RowEncoder)
                    probabilities = model.predict_rows(encoded, positions)
                else:
                    probabilities = np.asarray(model.predict_proba(rows))
            except Exception as exc:  # noqa: BLE001 - reported to each request of the group
                for k in found:
                    results[k] = exc
                continue
            self.computations += 1
            metrics.observe_explanation_batch(len(found))
            for i, k in enumerate(found):
                value = (float(probabilities[i]), _row(expl, i))
                results[k] = value
                with self._cache_lock:
                    self._cache[cache_key(model, gen, asks[k].sk_id)] = value
        return results


def _concat(frames: list[Any]) -> pd.DataFrame:
    return frames[0] if len(frames) == 1 else pd.concat(frames, ignore_index=True)


def _row(expl: Explanation, i: int) -> Explanation:
    """Row `i` of a many-row explanation, as a one-row explanation."""
    if len(expl.values) == 1:
        return expl
    return dataclasses.replace(expl, values=expl.values[i : i + 1],  # type: ignore[type-var]
                               data=expl.data.iloc[i : i + 1].reset_index(drop=True))


# -- shaping -----------------------------------------------------------------------------------------
def explanation_out(model: ScoringModel, sk_id: int, probability: float, expl: Explanation, top: int,
                    reasons: int) -> ExplanationOut:
    """The response: the `top` contributions by decreasing |shap| and the plain-language reasons."""
    if expl.output_scale == "points":
        return _points_explanation(model, sk_id, probability, expl, top, reasons)
    values = np.asarray(expl.values[0], dtype=float)
    data = expl.data.iloc[0].tolist()
    names = list(expl.feature_names)
    order = np.argsort(-np.abs(values), kind="stable")[:top]
    contributions = [Contribution(feature=names[j], label=model.label(names[j]), value=scalar(data[j]),
                                  shap=float(values[j])) for j in order]
    reason_list = [Reason(**{**r, "value": scalar(r.get("value")), "shap": float(r["shap"])})
                   for r in model.reasons(expl, row=0, top_k=reasons, values=data)]
    return ExplanationOut(sk_id_curr=sk_id, model_version=model.version, base_value=float(expl.base_value),
                          output_scale=str(expl.output_scale or "log_odds"), probability=probability,
                          contributions=contributions, reasons=reason_list)


def _points_explanation(model: ScoringModel, sk_id: int, probability: float, expl: Explanation, top: int,
                        reasons: int) -> ExplanationOut:
    """A scorecard's explanation: the points each characteristic earned, exactly additive to the score."""
    earned, best = expl.values[0], expl.best_points
    assert best is not None
    data = expl.data.iloc[0].tolist()
    names = list(expl.feature_names)
    chars = [j for j in range(len(names)) if best[j] == best[j]]  # NaN: not a characteristic
    order = sorted(chars, key=lambda j: (float(earned[j] - best[j]), names[j]))[:top]
    contributions = [
        Contribution(feature=names[j], label=model.label(names[j]), value=scalar(data[j]),
                     shap=float(earned[j] - best[j]), points=float(earned[j]), best_points=float(best[j]))
        for j in order
    ]
    reason_list = [Reason(**{**r, "value": scalar(r.get("value"))})
                   for r in model.reasons(expl, row=0, top_k=reasons, values=data)]
    return ExplanationOut(
        sk_id_curr=sk_id, model_version=model.version,
        base_value=float(expl.base_value + sum(float(best[j]) for j in chars)), output_scale="points",
        score_points=float(expl.base_value + sum(float(earned[j]) for j in chars)),
        probability=probability, contributions=contributions, reasons=reason_list,
    )
