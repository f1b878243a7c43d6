"""The production command line, as the image runs it: `deploy/entrypoint.sh api` (what `make serve-prod`
runs) with 2 gunicorn workers on a random loopback port, against the session's trained environment."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import pandas as pd
import pyarrow.parquet as pq
import pytest
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
KEY = "prod-test-key"
WORKERS = 2


def new_application(sk_id: int) -> dict:
    return {
        "SK_ID_CURR": sk_id,
        "NAME_CONTRACT_TYPE": "Cash loans",
        "CODE_GENDER": "F",
        "AMT_INCOME_TOTAL": 180000,
        "AMT_CREDIT": 540000,
        "AMT_ANNUITY": 27000,
        "DAYS_BIRTH": -13000,
        "DAYS_EMPLOYED": -2500,
        "EXT_SOURCE_2": 0.62,
        "bureau": [
            {
                "SK_ID_BUREAU": 7000000 + sk_id,
                "CREDIT_ACTIVE": "Closed",
                "DAYS_CREDIT": -1500,
                "AMT_CREDIT_SUM": 90000,
            }
        ],
        "bureau_balance": [{"SK_ID_BUREAU": 7000000 + sk_id, "MONTHS_BALANCE": -40, "STATUS": "C"}],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    url: str
    log: Path
    artifacts: Path
    book_dir: Path
    known_ids: list[int]

    def client(self, **kw) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers={"X-API-Key": KEY}, timeout=120, **kw)

    def log_lines(self) -> list[dict]:
        """The complete JSON lines of the server's log so far (the last line may still be being written: a line
        counts once its newline is there; every complete line must be valid JSON)."""
        lines = []
        for raw in self.log.read_text(encoding="utf-8", errors="replace").split("\n")[:-1]:
            if raw.startswith("{"):
                lines.append(json.loads(raw))
        return lines


def private_artifacts(source: Path, target: Path) -> Path:
    current = (source / "models" / "current").resolve()
    (target / "models").mkdir(parents=True)
    shutil.copytree(current, target / "models" / current.name)
    (target / "models" / "current").symlink_to(current.name)
    return target


@pytest.fixture(scope="module")
def server(trained_env, tmp_path_factory) -> Server:
    root = tmp_path_factory.mktemp("serve_prod")
    artifacts = private_artifacts(trained_env.artifacts, root / "artifacts")
    book_dir = root / "books"
    port = free_port()
    env = trained_env.env(
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        HC_ARTIFACTS=str(artifacts),
        HC_API_KEYS=KEY,
        HC_API_PORT=str(port),
        HC_API_WORKERS=str(WORKERS),
        HC_API_RELOAD_SECONDS="0.5",
        HC_API_LOG_FLUSH_SECONDS="3600",
        HC_API_LOG_SALT="prod-test-salt",
        HC_API_BOOK_DIR=str(book_dir),
        HC_API_GRACEFUL_SECONDS="30",
        TMPDIR=str(root),
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = root / "server.log"
    with duckdb.connect(str(trained_env.warehouse), read_only=True) as con:
        known = [
            int(r[0])
            for r in con.execute(
                "select sk_id_curr from applicant_features order by sk_id_curr limit 40"
            ).fetchall()
        ]
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(REPO / "deploy" / "entrypoint.sh"), "api"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    srv = Server(process, f"http://127.0.0.1:{port}", log, artifacts, book_dir, known)
    deadline = time.monotonic() + 300
    ready_pids: set[int] = set()
    try:
        while True:  # both workers ready: /metrics shows each live worker's model series
            if process.poll() is not None:
                raise RuntimeError(f"server exited ({process.returncode}):\n{log.read_text()[-4000:]}")
            try:
                if httpx.get(f"{srv.url}/ready", timeout=5).status_code == 200:
                    text = httpx.get(f"{srv.url}/metrics", headers={"X-API-Key": KEY}, timeout=5).text
                    ready_pids = {
                        int(s.labels["pid"])
                        for f in text_string_to_metric_families(text)
                        if f.name == "hc_model_info"
                        for s in f.samples
                        if s.value == 1
                    }
                    if len(ready_pids) == WORKERS:
                        break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server not ready in 300 s:\n{log.read_text()[-4000:]}")
            time.sleep(0.5)
        yield srv
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                total += sample.value
    return total


def test_ready_then_score_explain_and_post_a_new_application(server):
    with server.client() as c:
        ready = c.get("/ready").json()
        assert ready["ready"] is True and ready["score_book"] == "ready" and ready["missing"] == []
        version = ready["model_version"]
        sk_id = server.known_ids[0]
        score = c.get(f"/v1/applicants/{sk_id}/score")
        assert score.status_code == 200 and score.json()["sk_id_curr"] == sk_id
        assert score.json()["model_version"] == version and 0 <= score.json()["probability"] <= 1
        assert len(score.headers["X-Request-ID"]) == 32
        mine = str(uuid.uuid4())
        explanation = c.get(
            f"/v1/applicants/{sk_id}/explanation", params={"top": 3}, headers={"X-Request-ID": mine}
        )
        assert explanation.headers["X-Request-ID"] == mine
        body = explanation.json()
        assert len(body["contributions"]) == 3 and body["probability"] == pytest.approx(
            score.json()["probability"]
        )
        new = c.post("/v1/score", json=new_application(990001))
        assert new.status_code == 200 and new.json()["sk_id_curr"] == 990001
        batch = c.post("/v1/score/batch", json={"sk_id_curr": server.known_ids[:10]})
        assert [r["sk_id_curr"] for r in batch.json()["results"]] == server.known_ids[:10]
    # the workers share one score book file, private to the service user
    books = list(server.book_dir.glob("book-*.arrow"))
    assert len(books) == 1 and (books[0].stat().st_mode & 0o777) == 0o600
    assert (server.book_dir.stat().st_mode & 0o777) == 0o700
    shared = [line for line in server.log_lines() if "shared memory-mapped book" in line.get("message", "")]
    assert len({line["pid"] for line in shared}) == WORKERS


def test_container_healthcheck_passes_for_the_running_api_role(server):
    env = {
        "PATH": os.environ.get("PATH", ""),
        "TMPDIR": str(server.log.parent),
        "HC_API_PORT": server.url.rsplit(":", 1)[1],
    }
    assert (server.log.parent / "hc-role").read_text().strip() == "api"  # written by the entrypoint
    run = [sys.executable, str(REPO / "deploy" / "healthcheck.py")]
    assert subprocess.run(run, env=env, timeout=30).returncode == 0
    assert subprocess.run(run, env={**env, "HC_API_PORT": str(free_port())}, timeout=30).returncode == 1


def test_metrics_need_a_key_and_count_requests_scores_and_decisions_per_route_template(server):
    assert httpx.get(f"{server.url}/metrics").status_code == 401
    assert httpx.get(f"{server.url}/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
    with server.client() as c:
        before = httpx.get(f"{server.url}/metrics", headers={"Authorization": f"Bearer {KEY}"}).text
        ids = server.known_ids[10:30]
        for sk_id in ids:  # spread over both workers by the kernel
            assert c.get(f"/v1/applicants/{sk_id}/score").status_code == 200
        assert c.get("/v1/applicants/1/score").status_code == 404
        after = c.get("/metrics").text
    route = "/v1/applicants/{sk_id_curr}/score"
    moved = metric(after, "hc_http_requests_total", route=route, status="200") - metric(
        before, "hc_http_requests_total", route=route, status="200"
    )
    assert moved == len(ids)
    assert metric(after, "hc_http_requests_total", route=route, status="404") >= 1
    assert (
        metric(after, "hc_http_request_duration_seconds_count", route=route)
        - metric(before, "hc_http_request_duration_seconds_count", route=route)
    ) == len(ids) + 1
    scored = metric(after, "hc_decisions_total", endpoint="applicant_score") - metric(
        before, "hc_decisions_total", endpoint="applicant_score"
    )
    assert scored == len(ids)
    assert (
        metric(after, "hc_score_probability_count", endpoint="applicant_score")
        - metric(before, "hc_score_probability_count", endpoint="applicant_score")
    ) == len(ids)
    assert metric(after, "hc_decisions_total", decision="refuse") + metric(
        after, "hc_decisions_total", decision="grant"
    ) == metric(after, "hc_decisions_total")
    # never a raw path: no applicant id in any label
    assert all(f"/{sk_id}" not in after for sk_id in ids)
    versions = {
        s.labels["version"]
        for f in text_string_to_metric_families(after)
        if f.name == "hc_model_info"
        for s in f.samples
        if s.value == 1
    }
    assert versions == {(server.artifacts / "models" / "current").resolve().name}


def test_access_log_is_json_with_request_id_route_template_and_no_applicant_id(server):
    with server.client() as c:
        rid = uuid.uuid4().hex
        sk_id = server.known_ids[35]
        assert c.get(f"/v1/applicants/{sk_id}/comparison", headers={"X-Request-ID": rid}).status_code == 200
        assert c.get(f"/v1/applicants/{sk_id}", headers={"X-Request-ID": "100002"}).status_code == 200
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [line for line in server.log_lines() if line.get("event") == "access"]
        mine = [line for line in lines if line["request_id"] == rid]
        if mine:
            break
        time.sleep(0.2)
    assert mine and mine[0]["route"] == "/v1/applicants/{sk_id_curr}/comparison"
    assert mine[0]["method"] == "GET" and mine[0]["status"] == 200 and mine[0]["latency_ms"] > 0
    assert set(mine[0]) >= {
        "ts",
        "level",
        "request_id",
        "route",
        "method",
        "status",
        "latency_ms",
        "model_version",
    }
    text = server.log.read_text()
    assert str(sk_id) not in text and "100002" not in text  # neither the path id nor an id-like request id


def test_a_corrupt_new_model_version_is_refused_and_the_previous_keeps_serving(server):
    models = server.artifacts / "models"
    good = (models / "current").resolve()
    bad = models / "99990101T000000Z-corrupt"
    shutil.copytree(good, bad)
    (bad / "metadata.json").write_text("{ not json")
    link = models / ".current.tmp"
    link.symlink_to(bad.name)
    os.replace(link, models / "current")
    try:
        deadline = time.monotonic() + 60
        body: dict = {}
        while not body.get("refused_model") and time.monotonic() < deadline:
            time.sleep(0.6)
            body = httpx.get(f"{server.url}/ready", timeout=30).json()
        assert bad.name in body["refused_model"], body
        assert body["ready"] is True and body["model_version"] == good.name
        with server.client() as c:
            scores = [c.get(f"/v1/applicants/{server.known_ids[0]}/score") for _ in range(4)]
        assert {(s.status_code, s.json()["model_version"]) for s in scores} == {(200, good.name)}
    finally:
        link.symlink_to(good.name)
        os.replace(link, models / "current")


def served_versions(server: Server) -> dict[int, str]:
    text = httpx.get(f"{server.url}/metrics", headers={"X-API-Key": KEY}, timeout=30).text
    return {
        int(s.labels["pid"]): s.labels["version"]
        for f in text_string_to_metric_families(text)
        if f.name == "hc_model_info"
        for s in f.samples
        if s.value == 1
    }


def test_a_new_model_version_reaches_every_worker_without_restart(server):
    models = server.artifacts / "models"
    good = (models / "current").resolve()
    new = models / f"{good.name}-next"
    shutil.copytree(good, new)
    meta = json.loads((new / "metadata.json").read_text())
    meta["version"] = new.name
    (new / "metadata.json").write_text(json.dumps(meta))
    pids = set(served_versions(server))
    assert len(pids) == WORKERS
    link = models / ".current.tmp"
    link.symlink_to(new.name)
    os.replace(link, models / "current")
    try:
        deadline = time.monotonic() + 120
        statuses = set()
        while time.monotonic() < deadline:
            for _ in range(4):  # new connections: the kernel spreads them over the workers
                statuses.add(
                    httpx.get(
                        f"{server.url}/v1/applicants/{server.known_ids[0]}/score",
                        headers={"X-API-Key": KEY},
                        timeout=30,
                    ).status_code
                )
            if served_versions(server) == dict.fromkeys(pids, new.name):
                break
            time.sleep(0.5)
        assert served_versions(server) == dict.fromkeys(pids, new.name)  # same processes, new version
        assert statuses == {200}
    finally:
        link.symlink_to(good.name)
        os.replace(link, models / "current")


def test_sigterm_lets_an_in_flight_request_finish_and_flushes_the_request_log(server):
    # the request is surely in flight when the signal comes: its headers and half its body are sent
    # before, the rest after (a worker waits for the body of a request it has started)
    body = json.dumps({"applications": [new_application(990100 + i) for i in range(60)]}).encode()
    port = int(server.url.rsplit(":", 1)[1])
    head = (
        f"POST /v1/score/batch HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(head + body[: len(body) // 2])
        time.sleep(0.5)
        server.process.send_signal(signal.SIGTERM)
        time.sleep(1.0)  # shutdown under way
        sock.sendall(body[len(body) // 2 :])
        raw = b""
        while b"\r\n\r\n" not in raw:
            raw += sock.recv(65536)
        header, _, rest = raw.partition(b"\r\n\r\n")
        length = int(
            next(
                line.split(b":")[1]
                for line in header.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
        )
        while len(rest) < length:
            rest += sock.recv(65536)
    assert header.startswith(b"HTTP/1.1 200")
    results = json.loads(rest)["results"]
    assert len(results) == 60 and {r.get("status", "new") for r in results} == {"new"}
    assert server.process.wait(timeout=60) == 0
    # after the workers' shutdown the request log holds every score, readable, without ids
    files = sorted((server.artifacts / "request_log").rglob("*.parquet"))
    assert files and not list((server.artifacts / "request_log").rglob(".*.tmp"))
    table = pd.concat([pq.read_table(f).to_pandas() for f in files])
    assert (table["endpoint"] == "batch").sum() >= 60
    assert "sk_id_curr" not in table.columns and table["applicant_hash"].str.len().eq(32).all()
    messages = [line.get("message", "") for line in server.log_lines()]
    assert sum("Application shutdown complete" in m for m in messages) == WORKERS
    assert any("Shutting down: Master" in m for m in messages)
