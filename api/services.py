"""The long-lived objects of one API process, created by `create_app` and closed at shutdown: stores
(keys, model, warehouse features, online features, request log) and the services built on them
(scoring, explanations, what-if, comparison)."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field

from api import heap, metrics
from api.comparison import ComparisonIndex
from api.errors import unprocessable
from api.explanations import ExplanationService
from api.features import FeatureStore, WarehouseUnavailable, kind_of
from api.model_store import ModelStore, ModelUnavailable
from api.new_applications import OnlineFeatures
from api.request_log import RequestLog
from api.schemas.requests import BatchRequest
from api.schemas.responses import BatchItem, BatchScores, BatchStatus, Comparison
from api.score_book import ScoreBooks
from api.scoring import ScoringService, UnknownApplicants
from api.scoring_model import ScoringModel
from api.security import KeyStore
from api.settings import DEV_LOG_SALT, ApiSettings, InsecureConfiguration
from api.what_if import WhatIfService

__all__ = ["Services", "UnknownApplicants"]

log = logging.getLogger("api")

EXPLANATION_CACHE = 1024
MAX_COMPARED = 20
DEFAULT_COMPARED = 5


def _log_salt(settings: ApiSettings) -> str:
    """The request log's salt, or "" when it is missing: `Services.start` then refuses to start."""
    try:
        return settings.log_salt()
    except InsecureConfiguration:
        return ""


@dataclass
class Services:
    settings: ApiSettings
    keys: KeyStore
    models: ModelStore
    features: FeatureStore
    online: OnlineFeatures
    request_log: RequestLog
    books: ScoreBooks
    scoring: ScoringService = field(init=False)
    explanations: ExplanationService = field(init=False)
    what_if: WhatIfService = field(init=False)
    # set by `/ready` the first time this worker is ready: after that, recomputing the bulk scores or the explanation
    # rows (a model or warehouse swap) no longer makes it unready (api/readiness.py)
    was_ready: bool = field(default=False, init=False)
    _comparison: ComparisonIndex | None = field(default=None, init=False)
    _comparison_key: tuple[int, str | None] | None = field(default=None, init=False)
    _comparison_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self) -> None:
        self.scoring = ScoringService(self.features, self.books, self.request_log)
        self.explanations = ExplanationService(self.features, self.books, EXPLANATION_CACHE)
        self.what_if = WhatIfService(self.features, self.online)

    @classmethod
    def from_settings(cls, settings: ApiSettings) -> Services:
        features = FeatureStore(settings.warehouse, settings.api_feature_cache, settings.api_reload_seconds,
                                settings.api_preload_rows, settings.api_duckdb_memory)
        return cls(
            settings=settings,
            keys=KeyStore.from_config(settings.api_keys, settings.api_keys_file),
            models=ModelStore(settings.current_model_link, settings.api_reload_seconds),
            features=features,
            online=OnlineFeatures(settings.warehouse, settings.api_batch_window_ms / 1000),
            request_log=RequestLog(
                settings.request_log_dir,
                _log_salt(settings),
                settings.api_log_flush_seconds,
                settings.api_log_flush_rows,
            ),
            books=ScoreBooks(settings.score_book_dir, features),
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
        started = time.perf_counter()
        try:
            model = self.models.get()
            log.info("model %s ready", model.version)
        except ModelUnavailable as exc:
            log.warning("starting without a model: %s", exc)
        metrics.observe_startup("model", time.perf_counter() - started)
        try:
            started = time.perf_counter()
            gen = self.features.current()
            metrics.observe_startup("warehouse", time.perf_counter() - started)
            if self.models.loaded is not None:
                self.books.get(self.models.loaded, gen)  # bulk scores, in the background
                self.explanations.encoded(self.models.loaded, gen)  # the rows explanations take, likewise
            started = time.perf_counter()
            self.comparison()
            metrics.observe_startup("comparison_index", time.perf_counter() - started)
        except WarehouseUnavailable as exc:
            log.warning("starting without the warehouse: %s", exc)
        except Exception as exc:  # comparison precomputation is best-effort at startup
            log.warning("comparison index not precomputed (%s: %s)", type(exc).__name__, exc)
        self.request_log.start()
        heap.settle()  # what start-up imported and built (api/heap.py)

    def close(self) -> None:
        # the background passes over the rows (bulk scores, explanation rows) stop at their next chunk and are
        # waited for: a daemon thread left inside DuckDB or the model can abort the process at exit
        self.features.stop_background()
        self.books.wait(timeout=30)
        self.explanations.wait_encoded(timeout=30)
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
            index = ComparisonIndex(self.features, keys, self.settings.api_neighbours,
                                    self.settings.api_comparison_cache_mb * 1024 * 1024)
            self._comparison, self._comparison_key = index, key
            return index

    def compare(self, sk_id: int, names: list[str] | None) -> Comparison | None:
        """The applicant against the other clients on `names` (default: the model's most important
        features); None when the applicant is unknown, 422 for unknown or too many features."""
        types = self.features.types
        if names is None:
            model = self.models.loaded
            ranked = model.metadata.importance_order if model else []
            names = [n for n in ranked if n in types][:DEFAULT_COMPARED]
        unknown = [n for n in names if n not in types or n in ("sk_id_curr", "dataset", "target")]
        if unknown:
            raise unprocessable(("query", "features"), f"unknown feature(s): {', '.join(unknown[:10])}; "
                                "use column names of applicant_features (see GET /v1/model)")
        if not names or len(names) > MAX_COMPARED:
            raise unprocessable(("query", "features"), f"give between 1 and {MAX_COMPARED} feature names")
        result = self.comparison().compare(sk_id, names)
        if result is None:
            return None
        for item in result:
            item["kind"] = item.get("kind") or kind_of(types[item["feature"]])
        return Comparison.model_validate({"sk_id_curr": sk_id, "features": result})

    def batch(self, model: ScoringModel, batch: BatchRequest) -> BatchScores:
        """One item per id, then per application, in the order sent (see the route's description)."""
        items: list[BatchItem] = []
        if batch.sk_id_curr:
            scored = {s.sk_id_curr: s for s in self.scoring.known(model, batch.sk_id_curr, "batch", skip_unknown=True)}
            for sk_id in batch.sk_id_curr:
                found = scored.get(sk_id)
                items.append(BatchItem(**found.model_dump(), status="found") if found is not None else
                             BatchItem(sk_id_curr=sk_id, status="not_found",
                                       error=f"applicant {sk_id} not found in the warehouse"))
        asked = set(batch.sk_id_curr)
        valid = [a for a in batch.applications if a.SK_ID_CURR not in asked]
        new = {}
        if valid:
            built = self.online.build_rows(valid, self.features.generation, scorer=model)
            new = {s.sk_id_curr: s for s in self.scoring.online(model, built, "batch")}
        for application in batch.applications:
            sk_id = application.SK_ID_CURR
            if sk_id in asked:
                items.append(BatchItem(sk_id_curr=sk_id, status="invalid",
                                       error=f"sk_id_curr {sk_id} is also asked by id in this batch: post the "
                                       "application under a new id, or ask the known applicant by id only"))
            else:
                items.append(BatchItem(**new[sk_id].model_dump(), status="new"))
        counts: dict[BatchStatus, int] = {"found": 0, "new": 0, "not_found": 0, "invalid": 0}
        for item in items:
            counts[item.status] += 1
        return BatchScores(results=items, model_version=model.version, counts=counts)
