"""The long-lived objects of one API process, created by `create_app` and closed at shutdown."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from api.comparison import ComparisonIndex
from api.features import FeatureStore, WarehouseUnavailable
from api.model_store import ModelStore, ModelUnavailable
from api.new_applications import OnlineFeatures
from api.request_log import RequestLog
from api.security import KeyStore
from api.settings import ApiSettings

log = logging.getLogger("api")


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
                settings.api_log_salt,
                settings.api_log_flush_seconds,
                settings.api_log_flush_rows,
            ),
        )

    # -- lifecycle ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Load what can be loaded now (the service still starts, degraded, when parts are missing)."""
        if not len(self.keys):
            log.warning("no API keys configured (HC_API_KEYS / HC_API_KEYS_FILE): every /v1 call will be refused")
        try:
            model = self.models.get()
            log.info("model %s ready", model.version)
        except ModelUnavailable as exc:
            log.warning("starting without a model: %s", exc)
        try:
            self.features.generation  # noqa: B018 - opens the warehouse
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
            keys = [g["feature"] for g in (model.metadata.get("global_importance", []) if model else [])]
            index = ComparisonIndex(self.features, keys, self.settings.api_neighbours)
            self._comparison, self._comparison_key = index, key
            return index

    # -- scoring -----------------------------------------------------------------------------------
    def score_rows(self, model: Any, rows: pd.DataFrame, endpoint: str) -> list[dict[str, Any]]:
        """Score `applicant_features`-shaped rows, log each score, return the score bodies."""
        probabilities = model.predict_proba(rows)
        ids = rows["sk_id_curr"].to_numpy()
        feature_types = model.feature_types
        features = rows[list(feature_types)].to_dict(orient="records")
        results = []
        for sk_id, p, feats in zip(ids, probabilities, features, strict=True):
            p = float(p)
            decision = model.decide(p)
            results.append(
                {
                    "sk_id_curr": int(sk_id),
                    "probability": p,
                    "decision": decision,
                    "threshold": float(model.threshold),
                    "risk_band": str(model.risk_band(p)),
                    "model_version": model.version,
                }
            )
            self.request_log.append(
                endpoint=endpoint,
                model_version=model.version,
                feature_types=feature_types,
                sk_id_curr=int(sk_id),
                probability=p,
                decision=decision,
                features=feats,
            )
        return results
