"""Concurrent mixed traffic while the model and the warehouse are swapped under a real uvicorn process.

Regression test of issue 10, finding 1: after `models/current` was re-pointed under load, requests got 500
(`XGBoostError ... need_configuration_`), connections were dropped and once the process died (segfault).
Here 12 client threads score by id, explain, post new applications and batches, while a swapper re-points
`models/current` between versions of two families (LightGBM and XGBoost) and swaps in copies of the
warehouse file; every answer must be a 2xx and the server must still be alive at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from api_helpers import HISTORY, RawData

KEY = "stress-key"
REPO_ROOT = Path(__file__).resolve().parents[2]
DURATION_S = float(os.environ.get("HC_STRESS_SECONDS", "20"))
MAX_DURATION_S = 6 * DURATION_S
MIN_REQUESTS = 100
CLIENTS = 12
# mostly cheap requests (more of them race with the background bulk scoring), some costly ones
MIX = ("score", "explanation", "score", "batch", "explanation", "score", "new")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _train_version(env: dict[str, str], family: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "models_ml.train"], cwd=REPO_ROOT, capture_output=True, text=True,
                          env=dict(env, HC_FAMILIES=family, HC_PROMOTE="false", HC_TRAIN_PROFILE="fast", HC_N_FOLDS="2"),
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


@pytest.fixture(scope="module")
def swap_env(built_env, tmp_path_factory):
    """A private warehouse copy and artifacts holding versions of LightGBM and XGBoost models (each
    version also copied under a second name, so every swap loads a fresh object)."""
    root = tmp_path_factory.mktemp("stress")
    warehouse = root / "warehouse.duckdb"
    shutil.copy2(built_env.warehouse, warehouse)
    artifacts = root / "artifacts"
    models = artifacts / "models"
    models.mkdir(parents=True)
    current = (built_env.artifacts / "models" / "current").resolve()
    shutil.copytree(current, models / current.name)
    os.symlink(current.name, models / "current")
    import json

    families = {json.loads((models / current.name / "metadata.json").read_text())["model_family"]}
    env = dict(os.environ, HC_RAW_DIR=str(built_env.raw_dir), HC_WAREHOUSE=str(warehouse),
               HC_ARTIFACTS=str(artifacts))
    for family in ("xgboost", "lightgbm"):
        if family in families:
            continue
        existing = [p for p in sorted((built_env.artifacts / "models").iterdir())  # a developer's prebuilt env
                    if not p.is_symlink() and (p / "metadata.json").is_file()
                    and json.loads((p / "metadata.json").read_text())["model_family"] == family]
        if existing:
            shutil.copytree(existing[-1], models / existing[-1].name)
        else:
            _train_version(env, family)
        families.add(family)
    versions = [p.name for p in models.iterdir() if p.is_dir() and not p.is_symlink()]
    for name in list(versions):
        shutil.copytree(models / name, models / f"{name}-copy")
        versions.append(f"{name}-copy")
    return warehouse, artifacts, sorted(versions)


def _promote(models: Path, version: str) -> None:
    tmp = models / f".current-{os.getpid()}"
    os.symlink(version, tmp)
    os.replace(tmp, models / "current")


def _swap_warehouse(warehouse: Path, master: Path) -> None:
    tmp = warehouse.with_name(".warehouse-swap.duckdb")
    shutil.copy2(master, tmp)
    os.replace(tmp, warehouse)


def test_no_error_under_concurrent_traffic_across_model_and_warehouse_swaps(swap_env, raw_data: RawData,
                                                                             tmp_path):
    warehouse, artifacts, versions = swap_env
    master = tmp_path / "master.duckdb"
    shutil.copy2(warehouse, master)
    port = _free_port()
    env = dict(os.environ, HC_WAREHOUSE=str(warehouse), HC_ARTIFACTS=str(artifacts), HC_API_KEYS=KEY,
               HC_API_LOG_SALT="stress-test-salt", HC_API_RELOAD_SECONDS="0.2", HC_API_LOG_FLUSH_SECONDS="1",
               HC_API_ENV="dev")
    log_path = tmp_path / "uvicorn.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1",
                                 "--port", str(port), "--log-level", "warning"], cwd=REPO_ROOT, env=env,
                                stdout=log_file, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=2).json().get("model_version"):
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, log_path.read_text()[-3000:]
            time.sleep(0.3)

        ids = raw_data.rich_ids(6)
        payloads = []
        for n, sk_id in enumerate(ids[:3]):
            body = raw_data.payload(sk_id)
            body["SK_ID_CURR"] = 990_000 + n  # a new applicant: not in the warehouse
            for name in HISTORY:
                for record in body[name]:
                    if "SK_ID_CURR" in record:
                        record["SK_ID_CURR"] = body["SK_ID_CURR"]
            payloads.append(body)
        statuses: Counter[str] = Counter()
        failures: list[str] = []
        lock = threading.Lock()
        stop = threading.Event()

        def client(worker: int) -> None:
            headers = {"X-API-Key": KEY}
            with httpx.Client(base_url=base, headers=headers, timeout=60) as http:
                i = worker
                while not stop.is_set():
                    sk_id = ids[i % len(ids)]
                    kind = MIX[i % len(MIX)]
                    i += 1
                    try:
                        if kind == "score":
                            r = http.get(f"/v1/applicants/{sk_id}/score")
                        elif kind == "explanation":
                            r = http.get(f"/v1/applicants/{sk_id}/explanation")
                        elif kind == "new":
                            r = http.post("/v1/score", json=payloads[i % len(payloads)])
                        else:
                            r = http.post("/v1/score/batch", json={"sk_id_curr": ids[:4]})
                        outcome = f"{kind} {r.status_code}"
                        if not 200 <= r.status_code < 300:
                            with lock:
                                failures.append(f"{outcome}: {r.text[:200]}")
                    except httpx.HTTPError as exc:
                        outcome = f"{kind} {type(exc).__name__}"
                        with lock:
                            failures.append(outcome)
                    with lock:
                        statuses[outcome] += 1

        def swapper() -> None:
            n = 0
            while not stop.wait(0.4):
                _promote(artifacts / "models", versions[n % len(versions)])
                if n % 3 == 0:
                    _swap_warehouse(warehouse, master)
                n += 1

        threads = [threading.Thread(target=client, args=(w,)) for w in range(CLIENTS)]
        threads.append(threading.Thread(target=swapper))
        for t in threads:
            t.start()
        # Run for DURATION_S, and on a slow (loaded) machine longer, until enough traffic has crossed the
        # swaps to mean something; capped so a hung server still ends the test.
        started = time.monotonic()
        while time.monotonic() - started < MAX_DURATION_S:
            with lock:
                done = sum(statuses.values())
            if time.monotonic() - started >= DURATION_S and done >= MIN_REQUESTS:
                break
            time.sleep(0.5)
        elapsed = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join(120)
        alive = proc.poll() is None
        health = httpx.get(f"{base}/health", timeout=10).json() if alive else {}
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    server_log = log_path.read_text()
    print(f"stress: {sum(statuses.values())} requests in {elapsed:.0f} s with {len(versions)} versions swapped: {dict(statuses)}")
    assert alive, f"the server died under load:\n{server_log[-3000:]}"
    assert not failures, f"{len(failures)} failed requests of {sum(statuses.values())}: {failures[:10]}\n" \
                         f"{dict(statuses)}\n{server_log[-3000:]}"
    assert sum(statuses.values()) >= MIN_REQUESTS, dict(statuses)  # enough traffic happened to mean something
    assert {k.split()[0] for k in statuses} == {"score", "explanation", "new", "batch"}
    assert health["status"] == "ok"
