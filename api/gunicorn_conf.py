"""gunicorn configuration of the production API: `gunicorn -c python:api.gunicorn_conf api.main:app`.

What `make serve-prod` and the image's `api` role run (through deploy/entrypoint.sh). Settings come from
`ApiSettings` (HC_API_HOST, HC_API_PORT, HC_API_WORKERS, HC_API_GRACEFUL_SECONDS, HC_API_WORKER_TIMEOUT).

- Workers are `uvicorn_worker.UvicornWorker` processes, each with its own model store, warehouse
  connection and request log (each polls `models/current` and the warehouse file as a single process does).
- No `preload_app`: the app would be built in the master and forked, and DuckDB connections and the
  background threads (model reload, request-log flusher, score book) do not survive a fork. What is worth
  sharing (the bulk score book) is shared through memory-mapped files instead (api/book_file.py).
- SIGTERM to the master: workers stop accepting, finish in-flight requests (up to
  HC_API_GRACEFUL_SECONDS), run the app's shutdown (the request log is flushed), then exit.
- Prometheus multi-process mode: a private 0700 directory for the workers' metric files is created here
  before any worker starts (unless PROMETHEUS_MULTIPROC_DIR is set, then its stale files are removed);
  a dead worker is marked with `mark_process_dead`; the directory is removed on exit when created here.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from api.logs import logging_config
from api.settings import ApiSettings

# prometheus_client reads this when first imported: set it here, before anything imports the library
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_CREATED_ENV = "HC_PROMETHEUS_DIR_CREATED"  # marks a directory made here (removed at exit)


def available_cpus() -> int:
    """CPUs this process may use: the affinity mask, capped by a cgroup v2 CPU quota (containers)."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        count = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        if quota != "max":
            count = min(count, max(1, math.ceil(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return max(1, count)


def metrics_dir() -> str:
    """The Prometheus multi-process directory, private to this server and empty."""
    existing = os.environ.get(MULTIPROC_ENV)
    if existing:
        path = Path(existing)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        if os.environ.get(_CREATED_ENV) != existing:  # an operator's directory: clear the last run's files
            for stale in path.glob("*.db"):
                stale.unlink()
        return existing
    created = tempfile.mkdtemp(prefix="hc-metrics-")  # mode 0700
    os.environ[MULTIPROC_ENV] = created
    os.environ[_CREATED_ENV] = created
    return created


def _settings_or_exit() -> ApiSettings:
    """The settings, or a one-line error naming each bad HC_* variable (the master exits, nothing starts)."""
    from pydantic import ValidationError

    try:
        return ApiSettings()
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            name = f"HC_{'_'.join(map(str, e['loc'])).upper()}"
            shown = (
                "" if any(w in name for w in ("KEY", "SALT")) else f"={e.get('input')!r}"
            )  # never a secret
            problems.append(f"{name}{shown}: {e['msg']}")
        problems = "; ".join(problems)
        raise SystemExit(f"invalid API settings: {problems}") from None


_settings = _settings_or_exit()
_metrics_dir = metrics_dir()  # before any worker imports prometheus_client

bind = [f"{_settings.api_host}:{_settings.api_port}"]
workers = _settings.api_workers or available_cpus()
worker_class = "uvicorn_worker.UvicornWorker"
graceful_timeout = _settings.api_graceful_seconds
timeout = _settings.api_worker_timeout
keepalive = 5
preload_app = False
accesslog = None  # the app writes one JSON line per request (logger api.access)
logconfig_dict = logging_config()
control_socket_disable = True  # one server per container; tests and benches run several side by side
proc_name = "hc-api"
# worker heartbeats on a RAM-backed folder when there is one (a disk-backed /tmp can stall them)
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


def when_ready(server: Any) -> None:
    server.log.info(
        "serving on %s with %d %s workers (metrics in %s)",
        ", ".join(bind),
        workers,
        worker_class,
        _metrics_dir,
    )


def child_exit(server: Any, worker: Any) -> None:
    from api.metrics import mark_dead

    mark_dead(worker.pid)


def on_exit(server: Any) -> None:
    if os.environ.get(_CREATED_ENV) == _metrics_dir:
        shutil.rmtree(_metrics_dir, ignore_errors=True)
