"""Prometheus metrics of the API (the maintained `prometheus_client`, never hand-written text).

Under gunicorn every worker is a process: `api.gunicorn_conf` points `PROMETHEUS_MULTIPROC_DIR` at a
private (0700) directory before any worker starts, each worker writes its samples to memory-mapped
files there, and `/metrics` (answered by whichever worker gets the scrape) merges every worker's files
with `MultiProcessCollector`; a dead worker is marked with `mark_process_dead`. Under a single process
(`make api`, tests) the default registry is used.

Labels never carry a raw path (it holds applicant ids): requests are labelled by route template,
e.g. `/v1/applicants/{sk_id_curr}/score`; unmatched paths share the label `<unmatched>`.
"""

from __future__ import annotations

import os
import threading

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client import generate_latest as _generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

# the client library's own switch (read by prometheus_client itself at import time)
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
UNMATCHED = "<unmatched>"

REQUESTS = Counter(
    "hc_http_requests", "HTTP requests answered, by route template and status", ["method", "route", "status"]
)
LATENCY = Histogram(
    "hc_http_request_duration_seconds",
    "Time to answer a request, by route template",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
ERRORS = Counter(
    "hc_http_errors",
    "Requests answered with a server error (5xx) or an unhandled exception",
    ["method", "route", "status"],
)
MODEL = Gauge(
    "hc_model_info",
    "1 for the model version a worker serves (one series per live worker)",
    ["version"],
    multiprocess_mode="liveall",
)
SCORES = Histogram(
    "hc_score_probability",
    "Probabilities of default returned (logged scores only, no what-if)",
    ["endpoint"],
    buckets=tuple(round(0.05 * i, 2) for i in range(1, 21)),
)
DECISIONS = Counter(
    "hc_decisions", "Decisions returned, by decision and risk band", ["endpoint", "decision", "risk_band"]
)

# how well concurrent work is batched: applications per online feature build, rows per explanation call
ONLINE_BATCH = Histogram(
    "hc_online_build_applications",
    "Applications computed together by one online feature build (new applications, micro-batched)",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
ONLINE_BUILD = Histogram(
    "hc_online_build_seconds",
    "Time of one online feature build (the warehouse's SQL on the posted rows), whatever its size",
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
EXPLANATION_BATCH = Histogram(
    "hc_explanation_batch_rows",
    "Applicants explained together by one model call (explanations, micro-batched)",
    buckets=(1, 2, 4, 8, 16, 32, 64),
)
STARTUP = Gauge(
    "hc_startup_step_seconds",
    "Wall seconds of each start-up step of a worker (model, warehouse, comparison index, bulk scores: read, "
    "predict, log features, write)",
    ["step"],
    multiprocess_mode="liveall",
)

_version_lock = threading.Lock()
_served_version: str | None = None


def multiprocess_dir() -> str | None:
    return os.environ.get(MULTIPROC_ENV) or None


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)
    if status >= 500:
        ERRORS.labels(method, route, str(status)).inc()


def observe_score(endpoint: str, probability: float, decision: str, risk_band: str) -> None:
    SCORES.labels(endpoint).observe(probability)
    DECISIONS.labels(endpoint, decision, risk_band).inc()


def observe_online_build(applications: int, seconds: float) -> None:
    ONLINE_BATCH.observe(applications)
    ONLINE_BUILD.observe(seconds)


def observe_explanation_batch(rows: int) -> None:
    EXPLANATION_BATCH.observe(rows)


def observe_startup(step: str, seconds: float) -> None:
    STARTUP.labels(step).set(round(seconds, 3))


def set_model_version(version: str | None) -> None:
    """Record the version this process serves (cheap when unchanged: called after every request)."""
    global _served_version
    if version == _served_version:
        return
    with _version_lock:
        if version == _served_version:
            return
        if _served_version is not None:
            MODEL.labels(_served_version).set(0)
        if version is not None:
            MODEL.labels(version).set(1)
        _served_version = version


def render() -> tuple[bytes, str]:
    """The exposition text of every worker (multi-process mode) or of this process."""
    directory = multiprocess_dir()
    if directory:
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=directory)
        return _generate_latest(registry), CONTENT_TYPE_LATEST
    return _generate_latest(REGISTRY), CONTENT_TYPE_LATEST


def mark_dead(pid: int) -> None:
    """Drop a dead worker's live gauges (called by the gunicorn master)."""
    if multiprocess_dir():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
