"""Cached access to the API for the pages.

Answers are cached with ``st.cache_data`` (shared by the sessions of one dashboard process) and keyed
by the API's identity (URL + a hash of the key), the applicant id and the model version, so a newly
promoted model or another API never serves stale answers. Errors are never cached: an unknown id or
an API that is down is asked again on the next run.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import streamlit as st

from dashboard.client import ApiClient
from dashboard.schemas import (
    Applicant,
    Comparison,
    DriftSummary,
    Explanation,
    Health,
    ModelInfo,
    Score,
    WhatIf,
)
from dashboard.settings import DashboardSettings

# Status and version are re-checked often so that a promoted model is picked up quickly.
HEALTH_TTL_S = 15
# The model description only changes with the version, which is part of its key.
MODEL_TTL_S = 3600
DRIFT_TTL_S = 300
# Contributions asked for with each explanation (the API caps the `top` query parameter at 1000).
EXPLANATION_TOP = 1000


def _health(_client: ApiClient, identity: str) -> Health:
    return _client.health()


def _model(_client: ApiClient, identity: str, version: str) -> ModelInfo:
    return _client.model()


def _score(_client: ApiClient, identity: str, applicant_id: int, version: str) -> Score:
    return _client.score(applicant_id)


def _explanation(_client: ApiClient, identity: str, applicant_id: int, version: str) -> Explanation:
    # Every contribution (up to the API's bound), so that the waterfall's "other factors" bar is exact.
    return _client.explanation(applicant_id, top=EXPLANATION_TOP)


def _applicant(_client: ApiClient, identity: str, applicant_id: int, version: str) -> Applicant:
    return _client.applicant(applicant_id)


def _comparison(
    _client: ApiClient, identity: str, applicant_id: int, features: tuple[str, ...], version: str
) -> Comparison:
    return _client.comparison(applicant_id, features)


def _what_if(
    _client: ApiClient, identity: str, applicant_id: int, changes_key: str, version: str, _changes: Any
) -> WhatIf:
    return _client.what_if(applicant_id, _changes)


def _drift(_client: ApiClient, identity: str, version: str) -> DriftSummary | None:
    return _client.drift_latest()


class DashboardApi:
    """What the pages call: the API client behind caches keyed by identity, id and model version."""

    def __init__(self, client: ApiClient, cache_ttl: int = 300) -> None:
        self.client = client
        self.identity = client.identity

        def cached(func, ttl):  # type: ignore[no-untyped-def]
            # The wrapper is rebuilt each run; st.cache_data keys its store on the function's
            # module, name and source, so the cached answers survive from run to run.
            return st.cache_data(ttl=ttl, show_spinner=False, max_entries=512)(func)

        self._health = cached(_health, HEALTH_TTL_S)
        self._model = cached(_model, MODEL_TTL_S)
        self._score = cached(_score, cache_ttl)
        self._explanation = cached(_explanation, cache_ttl)
        self._applicant = cached(_applicant, cache_ttl)
        self._comparison = cached(_comparison, cache_ttl)
        self._what_if = cached(_what_if, cache_ttl)
        self._drift = cached(_drift, DRIFT_TTL_S)

    @classmethod
    def from_settings(cls, settings: DashboardSettings | None = None) -> DashboardApi:
        settings = settings or DashboardSettings()
        return cls(ApiClient.from_settings(settings), cache_ttl=settings.dashboard_cache_ttl)

    # The model version keys every other answer; it comes from /health.
    def health(self) -> Health:
        return self._health(self.client, self.identity)

    def model_version(self) -> str:
        return self.health().model_version or "unknown"

    def model(self) -> ModelInfo:
        return self._model(self.client, self.identity, self.model_version())

    def score(self, applicant_id: int) -> Score:
        return self._score(self.client, self.identity, applicant_id, self.model_version())

    def explanation(self, applicant_id: int) -> Explanation:
        return self._explanation(self.client, self.identity, applicant_id, self.model_version())

    def applicant(self, applicant_id: int) -> Applicant:
        return self._applicant(self.client, self.identity, applicant_id, self.model_version())

    def comparison(self, applicant_id: int, features: tuple[str, ...]) -> Comparison:
        return self._comparison(
            self.client, self.identity, applicant_id, tuple(features), self.model_version()
        )

    def what_if(self, applicant_id: int, changes: Mapping[str, float]) -> WhatIf:
        key = json.dumps(dict(changes), sort_keys=True)
        return self._what_if(self.client, self.identity, applicant_id, key, self.model_version(), dict(changes))

    def drift_latest(self) -> DriftSummary | None:
        return self._drift(self.client, self.identity, self.model_version())

