"""The long-lived objects of one API process, created by `create_app` and closed at shutdown."""

from __future__ import annotations

import logging
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from fastapi.exceptions import RequestValidationError
from pydantic_core import PydanticCustomError

from api import metrics
from api.book_file import shared_book
from api.comparison import ComparisonIndex
from api.convert import scalar
from api.features import FeatureStore, Generation, WarehouseUnavailable
from api.model_store import ModelStore, ModelUnavailable
from api.new_applications import OnlineFeatures
from api.request_log import RequestLog, feature_table
from api.schemas.requests import check_family_rules
from api.security import KeyStore
from api.settings import DEV_LOG_SALT, ApiSettings, InsecureConfiguration

log = logging.getLogger("api")

BOOK_CHUNK = 20_000
EXPLANATION_CACHE = 1024


class UnknownApplicants(LookupError):
    """Some requested applicants are not in the warehouse."""

    def __init__(self, ids: list[int]) -> None:
        self.ids = ids
        shown = ", ".join(map(str, ids[:10])) + (" ..." if len(ids) > 10 else "")
        if len(ids) == 1:
            super().__init__(f"applicant {ids[0]} not found in the warehouse")
        else:
            super().__init__(f"{len(ids)} applicants not found in the warehouse: {shown}")


def _log_salt(settings: ApiSettings) -> str:
    """The request log's salt, or "" when it is missing: `Services.start` then refuses to start."""
    try:
        return settings.log_salt()
    except InsecureConfiguration:
        return ""


def _check_changed_family(official: pd.DataFrame, changes: dict[str, Any]) -> None:
    """The warehouse's cross-column rules hold for the changed application (changed values, else stored)."""
    merged = {}
    for name in ("CNT_FAM_MEMBERS", "CNT_CHILDREN"):
        stored = official[name.lower()].iloc[0] if name.lower() in official.columns else None
        merged[name] = changes.get(name, None if stored is None or pd.isna(stored) else float(stored))
    try:
        check_family_rules(merged)
    except PydanticCustomError as exc:
        at = (exc.context or {}).get("at") or []
        raise RequestValidationError([{"loc": ("body", *at), "msg": exc.message(), "type": "value_error"}]) from None


@dataclass(frozen=True)
class ScoreBook:
    """Probabilities of every row of one warehouse generation under one model object."""

    generation: Generation
    model: Any
    probabilities: np.ndarray
    features: pa.Table  # the model's features of every row, converted once for the request log


@dataclass
class Services:
    settings: ApiSettings
    keys: KeyStore
    models: ModelStore
    features: FeatureStore
    online: OnlineFeatures
    request_log: RequestLog
    _comparison: ComparisonIndex | None = field(default=None, init=False)
    _comparison_key: tuple[int, str | None] | None = field(default=None, init=False)
    _comparison_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _book: ScoreBook | None = field(default=None, init=False)
    _book_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _book_thread: threading.Thread | None = field(default=None, init=False)
    # (model, warehouse generation) whose bulk scoring failed: not retried on every request / probe
    book_failed: tuple[int, int] | None = field(default=None, init=False)
    # key (id(model), generation, id) -> (weak reference to the model, probability, explanation): the id
    # of a model swapped out and collected may be reused by the next one, the reference tells them apart
    _explanations: OrderedDict[tuple[int, int, int], tuple[Any, float, Any]] = field(
        default_factory=OrderedDict, init=False)
    _explanations_lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    # One explanation computed at a time per process: the work is short and mostly holds the GIL
    # (pandas + the booster), so threads running it together only contend (measured: 8 threads take
    # 18 ms per explanation, one at a time 10 ms); the other workers' processes use the other cores.
    _explain_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> Services:
        return cls(
            settings=settings,
            keys=KeyStore.from_config(settings.api_keys, settings.api_keys_file),
            models=ModelStore(settings.current_model_link, settings.api_reload_seconds),
            features=FeatureStore(settings.warehouse, settings.api_feature_cache, settings.api_reload_seconds),
            online=OnlineFeatures(settings.warehouse),
            request_log=RequestLog(
                settings.request_log_dir,
                _log_salt(settings),
                settings.api_log_flush_seconds,
                settings.api_log_flush_rows,
            ),
        )

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Load what can be loaded now (the service still starts, degraded, when parts are missing);
        refuses to start (InsecureConfiguration) without a request-log salt outside development mode."""
        self.settings.log_salt()
        if self.settings.api_env == "dev" and self.settings.api_log_salt.strip() in ("", DEV_LOG_SALT):
            log.warning("development mode: the request log uses the development salt (HC_API_LOG_SALT unset); "
                        "never run like this with real applicants")
        if not len(self.keys):
            log.warning("no API keys configured (HC_API_KEYS / HC_API_KEYS_FILE): every /v1 call will be refused")
        try:
            model = self.models.get()
            log.info("model %s ready", model.version)
        except ModelUnavailable as exc:
            log.warning("starting without a model: %s", exc)
        try:
            gen = self.features.current()
            if self.models.loaded is not None:
                self.score_book(self.models.loaded, gen)
            self.comparison()
        except WarehouseUnavailable as exc:
            log.warning("starting without the warehouse: %s", exc)
        except Exception as exc:  # comparison precomputation is best-effort at startup
            log.warning("comparison index not precomputed (%s: %s)", type(exc).__name__, exc)
        self.request_log.start()

    def close(self) -> None:
        self.request_log.close()
        self.models.wait_idle(timeout=10)
        self.features.close()

    # -- comparison --------------------------------------------------------------------------------
    def comparison(self) -> ComparisonIndex:
        """The comparison index of the current warehouse (built once per warehouse file and model)."""
        generation = self.features.generation
        model = self.models.loaded
        version = getattr(model, "version", None)
        key = (generation, version)
        if self._comparison is not None and self._comparison_key == key:
            return self._comparison
        with self._comparison_lock:
            if self._comparison is not None and self._comparison_key == key:
                return self._comparison
            keys = model.metadata.importance_order if model else []
            index = ComparisonIndex(self.features, keys, self.settings.api_neighbours)
            self._comparison, self._comparison_key = index, key
            return index

    # -- scoring ---------------------------------------------------------------------------------
    def score_book(self, model: Any, gen: Generation) -> ScoreBook | None:
        """Probabilities of every known applicant under `model`, or None while they are computed.

        Known applicants' features are fixed for a warehouse file, so they are scored in bulk (in the
        background) once per model version and warehouse file; until then requests score their row.
        """
        book = self._book
        if book is not None and book.model is model and book.generation is gen:
            return book
        if gen.frame is None:
            return None
        if self.book_failed == (id(model), gen.number):
            return None
        with self._book_lock:
            if self._book_thread is None or not self._book_thread.is_alive():
                thread = threading.Thread(target=self._build_book, args=(model, gen), name="score-book",
                                          daemon=True)
                thread.start()
                self._book_thread = thread
        return None

    def _build_book(self, model: Any, gen: Generation) -> None:
        frame = gen.frame
        names = list(model.feature_types)

        def compute() -> tuple[np.ndarray, pa.Table]:
            chunks = [model.predict_proba(frame.iloc[i : i + BOOK_CHUNK]) for i in range(0, len(frame), BOOK_CHUNK)]
            probabilities = np.concatenate(chunks) if chunks else np.empty(0)
            return probabilities, feature_table(frame.reindex(columns=names), model.feature_types)

        try:  # one book per warehouse file and model, shared by the workers (api/book_file.py)
            (probabilities, features), shared = shared_book(
                self.settings.score_book_dir, gen.identity, model.version, len(frame), names, compute)
        except Exception as exc:  # scoring per request still works
            log.error("bulk scoring of known applicants failed (%s: %s)", type(exc).__name__, exc)
            self.book_failed = (id(model), gen.number)
            return
        self._book = ScoreBook(gen, model, probabilities, features)
        log.info("scored %d known applicants with model %s (%s)", len(probabilities), model.version,
                 "shared memory-mapped book" if shared else "private copy")

    def explanation(self, model: Any, sk_id: int) -> tuple[float, Any]:
        """(probability, SHAP explanation) of a known applicant; the latest ones are kept (LRU), since a
        client's explanation is typically asked for several times while an officer talks to them."""
        gen = self.features.current()
        key = (id(model), gen.number, sk_id)
        with self._explanations_lock:
            hit = self._explanations.get(key)
            if hit is not None and hit[0]() is model:
                self._explanations.move_to_end(key)
                return hit[1], hit[2]
        row = self.features.get(sk_id, gen)
        if row is None:
            raise UnknownApplicants([sk_id])
        book = self._book
        pos = gen.positions.get(sk_id)
        with self._explain_lock:
            if book is not None and book.model is model and book.generation is gen and pos is not None:
                probability = float(book.probabilities[pos])  # spares a second pass through the model
            else:
                probability = float(model.predict_proba(row)[0])
            value = (probability, model.explain(row))
        with self._explanations_lock:
            self._explanations[key] = (weakref.ref(model), *value)
            while len(self._explanations) > EXPLANATION_CACHE:
                self._explanations.popitem(last=False)
        return value

    def _result(self, model: Any, sk_id: int, p: float) -> dict[str, Any]:
        return {
            "sk_id_curr": int(sk_id),
            "probability": p,
            "decision": model.decide(p),
            "threshold": float(model.threshold),
            "risk_band": str(model.risk_band(p)),
            "model_version": model.version,
        }

    def score_known_from_book(self, model: Any, sk_id: int, endpoint: str) -> dict[str, Any] | None:
        """The score of one known applicant when the bulk scores are ready (no blocking work: safe on
        the event loop); None when the caller must use `score_known`."""
        gen = self.features.current_if_open()
        book = self._book
        if gen is None or book is None or book.model is not model or book.generation is not gen:
            return None
        pos = gen.positions.get(sk_id)
        if pos is None:
            raise UnknownApplicants([sk_id])
        result = self._result(model, sk_id, float(book.probabilities[pos]))
        self._log(model, endpoint, result, source=(book.features, pos))
        return result

    def score_known(self, model: Any, ids: list[int], endpoint: str,
                    skip_unknown: bool = False) -> list[dict[str, Any]]:
        """Scores of applicants in the warehouse: UnknownApplicants when some are not there, or, with
        `skip_unknown`, the scores of those that are (in the order given)."""
        gen = self.features.current()
        results = []
        if gen.frame is not None:
            positions = [gen.positions.get(i) for i in ids]
            missing = [i for i, p in zip(ids, positions, strict=True) if p is None]
            if missing and skip_unknown:
                ids = [i for i, p in zip(ids, positions, strict=True) if p is not None]
                positions = [p for p in positions if p is not None]
                if not ids:
                    return []
            elif missing:
                raise UnknownApplicants(missing)
            book = self.score_book(model, gen)
            if book is not None:
                probabilities, source = book.probabilities[positions], book.features
            else:
                probabilities, source = model.predict_proba(gen.frame.iloc[positions]), gen.frame
            for sk_id, pos, p in zip(ids, positions, probabilities, strict=True):
                result = self._result(model, sk_id, float(p))
                results.append(result)
                self._log(model, endpoint, result, source=(source, pos))
            return results
        rows = self.features.get_many(ids)
        missing = sorted(set(ids) - set(rows["sk_id_curr"].tolist()))
        if missing and not skip_unknown:
            raise UnknownApplicants(missing)
        return self.score_rows(model, rows, endpoint) if len(rows) else []

    def score_rows(self, model: Any, rows: pd.DataFrame, endpoint: str) -> list[dict[str, Any]]:
        """Score `applicant_features`-shaped rows (e.g. computed online), log each score."""
        probabilities = model.predict_proba(rows)
        ids = rows["sk_id_curr"].to_numpy()
        features = rows[list(model.feature_types)].to_dict(orient="records")
        results = []
        for sk_id, p, feats in zip(ids, probabilities, features, strict=True):
            result = self._result(model, sk_id, float(p))
            results.append(result)
            self._log(model, endpoint, result, features=feats)
        return results

    def what_if(self, model: Any, sk_id: int, changes: dict[str, Any]) -> dict[str, Any]:
        """A known applicant scored as it stands and with some application values changed (its own
        history kept). Hypothetical scores are not written to the request log (monitoring reads it as
        the population actually scored)."""
        gen, cursor = self.features.cursor()  # one warehouse file for the stored row and the recomputation
        official = self.features.get(sk_id, gen)
        if official is None:
            raise UnknownApplicants([sk_id])
        _check_changed_family(official, changes)
        scenario = self.online.what_if(gen, cursor, sk_id, {k.lower(): v for k, v in changes.items()})
        if scenario.empty:  # the warehouse was swapped in between and no longer holds the applicant
            raise UnknownApplicants([sk_id])
        p_official, p_scenario = (float(model.predict_proba(r)[0]) for r in (official, scenario))
        moved = []
        for name in model.feature_types:
            before, after = official[name].iloc[0], scenario[name].iloc[0]
            if pd.isna(before) and pd.isna(after):
                continue
            if pd.isna(before) or pd.isna(after) or before != after:
                moved.append({"feature": name, "label": model.label(name), "before": scalar(before),
                              "after": scalar(after)})
        return {
            "sk_id_curr": int(sk_id),
            "model_version": model.version,
            "changes": dict(changes),
            "official": self._result(model, sk_id, p_official),
            "scenario": self._result(model, sk_id, p_scenario),
            "feature_changes": moved,
        }

    def _log(self, model: Any, endpoint: str, result: dict[str, Any], **features: Any) -> None:
        metrics.observe_score(endpoint, result["probability"], result["decision"], result["risk_band"])
        self.request_log.append(
            endpoint=endpoint,
            model_version=model.version,
            feature_types=model.feature_types,
            sk_id_curr=result["sk_id_curr"],
            probability=result["probability"],
            decision=result["decision"],
            **features,
        )
