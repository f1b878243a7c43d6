"""/ready vs /health, /metrics protection, request ids and JSON log lines, the shared score book file,
the gunicorn configuration helpers (in-process; the served command is tested in tests/deploy)."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import time
import uuid

import numpy as np
import pyarrow as pa
import pytest
from api_helpers import API_KEY, api_settings, copy_version, private_artifacts, promote
from fastapi.testclient import TestClient

from api import book_file
from api.logs import JsonFormatter
from api.main import create_app
from api.observability import request_id

H = {"X-API-Key": API_KEY}


def test_ready_says_what_is_missing_and_scoring_routes_give_the_reason(api_env, tmp_path):
    empty = tmp_path / "artifacts"
    empty.mkdir()
    settings = api_settings(api_env, artifacts=empty, warehouse=tmp_path / "absent.duckdb")
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        assert c.get("/health").status_code == 200 and c.get("/health").json()["status"] == "degraded"
        ready = c.get("/ready")
        assert ready.status_code == 503
        body = ready.json()
        assert body["ready"] is False and body["model_version"] is None
        reasons = {m["component"]: m["reason"] for m in body["missing"]}
        assert set(reasons) == {"model", "warehouse"}
        assert "no model promoted yet" in reasons["model"] and "make warehouse" in reasons["warehouse"]
        score = c.get("/v1/applicants/100002/score", headers=H)
        assert score.status_code == 503 and score.json()["detail"] == reasons["model"]
        # the model appears (promoted while the worker runs): ready once its bulk scores are computed
        source = (api_env.source_artifacts / "models" / "current").resolve()
        shutil.copytree(source, empty / "models" / source.name)
        (empty / "models" / "current").symlink_to(source.name)
        body = c.get("/ready").json()
        assert [m["component"] for m in body["missing"]] == ["warehouse"] and body[
            "model_version"
        ] == source.name


def test_ready_turns_200_when_the_bulk_scores_are_computed(boosted_env):
    with TestClient(create_app(api_settings(boosted_env))) as c:
        deadline = time.monotonic() + 120
        while (r := c.get("/ready")).status_code == 503 and time.monotonic() < deadline:
            assert {m["component"] for m in r.json()["missing"]} <= {"score_book", "explanation_rows"}
            time.sleep(0.2)
        assert r.status_code == 200 and r.json()["score_book"] == "ready" and r.json()["explanation_rows"] == "ready"
    books = list((boosted_env.artifacts / "cache" / "score_books").glob("book-*.arrow"))
    assert len(books) == 1 and (books[0].stat().st_mode & 0o777) == 0o600
    rows = list((boosted_env.artifacts / "cache" / "score_books").glob("rows-*.npy"))
    assert len(rows) == 1 and (rows[0].stat().st_mode & 0o777) == 0o600


def test_a_warehouse_too_large_to_preload_still_gets_its_bulk_scores(api_env, tmp_path, monkeypatch):
    """Beyond HC_API_PRELOAD_ROWS the rows stay in the file: the bulk scores are streamed from it chunk by
    chunk (issue 16 goal 6: full Kaggle volume) and give the same answers as the in-memory warehouse."""
    import api.score_book

    with TestClient(create_app(api_settings(api_env))) as c:
        ids = [int(i) for i in c.app.state.services.features.current().frame["sk_id_curr"].iloc[[0, 1500, -1]]]
        expected = [c.get(f"/v1/applicants/{i}/score", headers=H).json() for i in ids]
    small = api_settings(api_env, api_preload_rows=0, artifacts=private_artifacts(api_env.source_artifacts, tmp_path))
    monkeypatch.setattr(api.score_book, "BOOK_CHUNK", 1000)  # several chunks
    with TestClient(create_app(small)) as c:
        deadline = time.monotonic() + 120
        while (r := c.get("/ready")).status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert r.status_code == 200 and r.json()["score_book"] == "ready"
        assert c.app.state.services.features.current().frame is None
        got = [c.get(f"/v1/applicants/{i}/score", headers=H).json() for i in ids]
        assert c.get("/v1/applicants/1/score", headers=H).status_code == 404
    assert got == expected


def test_metrics_auth_setting_and_request_ids(api_env):
    with TestClient(create_app(api_settings(api_env))) as c:
        assert c.get("/metrics").status_code == 401
        assert c.get("/metrics", headers={"X-API-Key": "nope"}).status_code == 403
        r = c.get("/metrics", headers={"Authorization": f"Bearer {API_KEY}"})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert "hc_http_requests_total" in r.text
    with TestClient(create_app(api_settings(api_env, api_metrics_auth="none"))) as c:
        assert c.get("/metrics").status_code == 200
        assert c.get("/nowhere/100002").headers["X-Request-ID"]
        assert 'route="<unmatched>"' in c.get("/metrics").text and "/nowhere" not in c.get("/metrics").text


def test_request_id_is_taken_only_when_it_looks_like_one():
    mine = str(uuid.uuid4())
    assert request_id({"headers": [(b"x-request-id", mine.encode())]}) == mine
    assert request_id({"headers": [(b"x-request-id", b"ABCDEF" * 5 + b"12")]}) == ("abcdef" * 5 + "12")
    for unsafe in (b"100002", b"applicant-100002-aaaaaaaaaaaaaaaa", b"x" * 32, b""):
        generated = request_id({"headers": [(b"x-request-id", unsafe)]})
        assert len(generated) == 32 and generated != unsafe.decode()


def test_json_formatter_keeps_fields_and_drops_exception_messages():
    record = logging.LogRecord("api.access", logging.INFO, __file__, 1, "GET %s", ("/x",), None)
    record.fields = {"request_id": "abc", "status": 200}
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "GET /x" and line["request_id"] == "abc" and line["status"] == 200
    assert line["level"] == "info" and line["pid"] == os.getpid()
    sk_id = 100000 + 2
    try:
        raise ValueError(f"income of applicant {sk_id}")  # the stack shows this line, not the value
    except ValueError:
        record = logging.LogRecord("api", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    text = JsonFormatter().format(record)
    assert json.loads(text)["exception"] == "ValueError" and "100002" not in text


def test_score_book_file_is_built_once_shared_and_rebuilt_when_stale(tmp_path):
    calls = []
    features = pa.table({"a": [1.0, 2.0, 3.0], "b": ["x", None, "z"]})

    def build():  # the book comes chunk by chunk, written as it comes
        calls.append(1)
        yield np.array([0.1, 0.2]), features.slice(0, 2)
        yield np.array([0.3]), features.slice(2)

    folder = tmp_path / "books"
    (p1, f1), shared1 = book_file.shared_book(folder, (1, 2), "v1", 3, ["a", "b"], build)
    (p2, f2), shared2 = book_file.shared_book(folder, (1, 2), "v1", 3, ["a", "b"], build)
    assert calls == [1] and shared1 and shared2
    assert p2.tolist() == [0.1, 0.2, 0.3] and f2.equals(features) and not p2.flags.writeable  # mapped
    assert (folder.stat().st_mode & 0o777) == 0o700
    # a new model version: a new file, the old one removed
    book_file.shared_book(folder, (1, 2), "v2", 3, ["a", "b"], build)
    assert calls == [1, 1] and [p.name for p in folder.glob("book-*.arrow")] == [
        book_file.book_path(folder, (1, 2), "v2").name
    ]
    # a file of the wrong shape is rebuilt
    (p3, _), _ = book_file.shared_book(
        folder, (1, 2), "v2", 3, ["a"], lambda: [(np.zeros(3), features.select(["a"]))]
    )
    assert p3.tolist() == [0, 0, 0]


def test_score_book_falls_back_to_a_private_copy_when_the_folder_is_not_writable(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    (probabilities, _), shared = book_file.shared_book(
        blocker / "books", (1, 2), "v1", 1, ["a"], lambda: [(np.array([0.5]), pa.table({"a": [1.0]}))]
    )
    assert not shared and probabilities.tolist() == [0.5]


def test_gunicorn_configuration_reads_the_settings(monkeypatch, tmp_path):
    # imported here, never at collection: the module sets PROMETHEUS_MULTIPROC_DIR for the server it configures
    import importlib

    monkeypatch.setenv("HC_API_WORKERS", "3")
    monkeypatch.setenv("HC_API_PORT", "9123")
    monkeypatch.setenv("HC_API_HOST", "0.0.0.0")
    stale = tmp_path / "metrics"
    stale.mkdir()
    (stale / "counter_1.db").write_bytes(b"old")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(stale))
    monkeypatch.delenv("HC_PROMETHEUS_DIR_CREATED", raising=False)
    try:
        conf = importlib.import_module("api.gunicorn_conf")
        conf = importlib.reload(conf)
        assert conf.workers == 3 and conf.bind == ["0.0.0.0:9123"]
        assert conf.worker_class == "uvicorn_worker.UvicornWorker" and conf.preload_app is False
        assert conf.graceful_timeout == 30 and conf.accesslog is None
        assert not list(stale.glob("*.db"))  # an operator's folder is emptied of the last run's files
        monkeypatch.delenv("HC_API_WORKERS")
        monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR")
        conf = importlib.reload(conf)
        assert conf.workers == conf.available_cpus() >= 1
        created = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        assert (os.stat(created).st_mode & 0o777) == 0o700
        conf.on_exit(None)
        assert not os.path.exists(created)
    finally:
        sys.modules.pop("api.gunicorn_conf", None)
        for name in ("PROMETHEUS_MULTIPROC_DIR", "HC_PROMETHEUS_DIR_CREATED"):
            os.environ.pop(name, None)


@pytest.mark.parametrize("module,builder,field,route", [
    ("api.score_book", "shared_book", "score_book", "score"),
    ("api.explanations", "shared_rows", "explanation_rows", "explanation"),
], ids=["bulk scores", "explanation rows"])
def test_a_failed_background_build_is_reported_not_retried_and_requests_still_answered(
        boosted_env, monkeypatch, module, builder, field, route):
    """The bulk scores and the rows encoded for explanations: a build that fails makes `/ready` 503 with the
    component and its reason, is not retried by every probe or request, and the route still answers (from the
    applicant's own row)."""
    import importlib

    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(importlib.import_module(module), builder, failing)
    with TestClient(create_app(api_settings(boosted_env))) as c:
        deadline = time.monotonic() + 60
        while (body := c.get("/ready").json())[field] in ("computing", "unknown") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert body[field] == "failed" and body["ready"] is False
        reasons = [m["reason"] for m in body["missing"] if m["component"] == field]
        assert len(reasons) == 1 and "failed" in reasons[0]
        known = int(api_env_known_id(boosted_env))
        for _ in range(3):
            assert c.get("/ready").status_code == 503
            r = c.get(f"/v1/applicants/{known}/{route}", headers=H)
            assert r.status_code == 200 and r.json()["sk_id_curr"] == known
        assert calls == [1]  # not retried by every probe and request


def test_a_ready_worker_stays_ready_while_it_recomputes_after_a_model_swap(boosted_env, monkeypatch):
    """Replicas pick up a promoted model together: if each turned unready while its bulk scores and explanation
    rows are recomputed (~25 s at full volume), an orchestrator routing by `/ready` would have no replica left.
    A worker that has been ready stays ready (the body says what is being computed) and keeps answering."""
    import api.score_book

    models = boosted_env.artifacts / "models"
    current, new = copy_version(models, "-swap")
    known = int(api_env_known_id(boosted_env))
    with TestClient(create_app(api_settings(boosted_env))) as c:
        deadline = time.monotonic() + 120
        while (r := c.get("/ready")).status_code == 503 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert r.status_code == 200
        original = api.score_book.shared_book

        def slow(*args, **kwargs):  # the new model's bulk scores take a while, as at full volume
            time.sleep(1.5)
            return original(*args, **kwargs)

        monkeypatch.setattr(api.score_book, "shared_book", slow)
        promote(models, new)
        seen = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            r = c.get("/ready")
            body = r.json()
            seen.append((r.status_code, body["model_version"], body["score_book"]))
            assert c.get(f"/v1/applicants/{known}/score", headers=H).status_code == 200
            if body["model_version"] == new.name and body["score_book"] == "ready" \
                    and body["explanation_rows"] == "ready":
                break
            time.sleep(0.05)
    promote(models, current)
    assert (new.name, "computing") in {(v, b) for _, v, b in seen}  # the swap was seen while computing
    assert {status for status, _, _ in seen} == {200}
    assert seen[-1][1:] == (new.name, "ready")


def api_env_known_id(api_env) -> int:
    import duckdb

    with duckdb.connect(str(api_env.warehouse), read_only=True) as con:
        return con.execute("select min(sk_id_curr) from applicant_features").fetchone()[0]


def test_metrics_show_start_up_steps_and_how_requests_were_batched(api_env, raw_data):
    """What the bench reads to explain latencies (issue 16): the start-up steps of the worker, the
    applications per online feature build and the rows per explanation call."""
    from api.schemas.requests import NewApplication

    def sample(text: str, name: str) -> float:
        return sum(float(line.split()[-1]) for line in text.splitlines() if line.startswith(name + " ")
                   or line.startswith(name + "{"))

    with TestClient(create_app(api_settings(api_env, api_metrics_auth="none"))) as c:
        services = c.app.state.services
        services.books.wait(120)
        before = c.get("/metrics").text
        apps = [NewApplication.model_validate(raw_data.payload(i)) for i in raw_data.rich_ids(3)]
        rows = services.online.build(apps, services.features.generation)  # one build of three applications
        assert rows["sk_id_curr"].tolist() == [a.SK_ID_CURR for a in apps]
        known = int(services.features.current().frame["sk_id_curr"].iloc[0])
        assert c.get(f"/v1/applicants/{known}/explanation", headers=H).status_code == 200
        after = c.get("/metrics").text
    steps = {line.split('"')[1] for line in after.splitlines() if line.startswith("hc_startup_step_seconds{")}
    assert {"model", "warehouse", "comparison_index", "bulk_scores", "bulk_scores_predict"} <= steps
    built = sample(after, "hc_online_build_applications_count") - sample(before, "hc_online_build_applications_count")
    posted = sample(after, "hc_online_build_applications_sum") - sample(before, "hc_online_build_applications_sum")
    assert (built, posted) == (1, 3)
    explained = sample(after, "hc_explanation_batch_rows_sum") - sample(before, "hc_explanation_batch_rows_sum")
    assert explained == 1
