"""Every error in the documented JSON shape (issue 10, finding 5): 413 with or without Content-Length, bodies
that are not parseable JSON, 503 without server paths, unhandled errors answered once and not re-raised,
and one rule for whitespace around the API key (stripped)."""

from __future__ import annotations

import logging
import re

import pytest
from api_helpers import API_KEY, api_settings
from fastapi.testclient import TestClient

from api.main import create_app

H = {"X-API-Key": API_KEY, "Content-Type": "application/json"}
ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:[\w.-]+/)+[\w.-]*")


@pytest.fixture(scope="module")
def client(api_env):
    with TestClient(create_app(api_settings(api_env)), raise_server_exceptions=False) as c:
        yield c


def _is_documented_422(r) -> None:
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert body["detail"][0]["field"].startswith("body") and body["message"]


def test_413_is_json_with_and_without_content_length(client, api_env):
    limit = api_settings(api_env).api_max_body_bytes
    r = client.post("/v1/score", headers=H, content=b'{"pad": "' + b"x" * limit + b'"}')
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/json")
    assert "bytes" in r.json()["detail"]

    def chunks():
        yield b'{"pad": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    r = client.post("/v1/score", headers=H, content=chunks())
    assert r.status_code == 413 and r.headers["content-type"].startswith("application/json")
    assert "bytes" in r.json()["detail"]


@pytest.mark.parametrize("body", [
    b'{"SK_ID_CURR": 1, "NAME_CONTRACT_TYPE": "\xff\xfe"}',  # invalid UTF-8
    b"[" * 100_000 + b"]" * 100_000,  # nesting deeper than the parser allows
    b'{"SK_ID_CURR": ' + b"9" * 5000 + b"}",  # an integer beyond Python's digit limit
    b"{not json",
])
def test_unparseable_bodies_are_documented_422(client, body):
    _is_documented_422(client.post("/v1/score", headers=H, content=body))


def test_503_names_no_server_path(tmp_path):
    settings = api_settings(type("E", (), {"warehouse": tmp_path / "wh" / "none.duckdb",
                                           "artifacts": tmp_path / "artifacts"})())
    with TestClient(create_app(settings), raise_server_exceptions=False) as c:
        for path in ("/v1/model", "/v1/applicants/100002/score", "/v1/applicants/100002"):
            r = c.get(path, headers=H)
            assert r.status_code == 503, r.text
            assert str(tmp_path) not in r.text and not ABSOLUTE_PATH.search(r.json()["detail"]), r.text
            assert r.json()["detail"]


def test_unhandled_error_answered_once_logged_without_message(api_env, caplog):
    app = create_app(api_settings(api_env))

    def boom() -> None:
        raise RuntimeError("applicant 100002 earns 123456")

    app.add_api_route("/boom", boom)
    caplog.set_level(logging.INFO)
    # raise_server_exceptions=True: an error re-raised after the answer (which makes uvicorn log its message
    # and drop the keep-alive connection) would surface here
    with TestClient(app) as c:
        r = c.get("/boom")
        assert c.get("/health").status_code == 200  # the same client (connection) goes on
    assert r.status_code == 500 and set(r.json()) == {"detail", "error_id"}
    assert "123456" not in caplog.text and "RuntimeError" in caplog.text and r.json()["error_id"] in caplog.text


@pytest.mark.parametrize("key", [f" {API_KEY}", f"{API_KEY} ", f"\t{API_KEY}  "])
def test_whitespace_around_the_api_key_is_ignored(client, key):
    assert client.get("/v1/model", headers={"X-API-Key": key}).status_code == 200


def test_a_blank_api_key_is_a_missing_one(client):
    assert client.get("/v1/model", headers={"X-API-Key": "   "}).status_code == 401
