"""Fixtures of the dashboard tests: the real API on a random loopback port, and the app under AppTest."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from dashboard_testing import APP, PAGES, free_port

ROOT = Path(__file__).resolve().parents[2]
# tests/ is on sys.path (pytest's rootdir conftest) and tests/dashboard would otherwise shadow the
# real `dashboard` package as a namespace package: make the repository root importable first.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

API_KEY = "dashboard-test-key"


@pytest.fixture(scope="session", autouse=True)
def _scan_components_once() -> Iterator[None]:
    """Speed only: every AppTest instance rescans the installed packages for Streamlit components
    (~1-3 s each here); the installed packages do not change during a session, so scan once."""
    from streamlit.components.v2 import manifest_scanner

    original = manifest_scanner.scan_component_manifests
    found: list = []

    def scan_once(*args: object, **kwargs: object) -> list:
        if not found:
            found.append(original(*args, **kwargs))
        return list(found[0])

    manifest_scanner.scan_component_manifests = scan_once
    yield
    manifest_scanner.scan_component_manifests = original


@pytest.fixture
def closed_port_url() -> str:
    """A loopback URL with nothing listening (the API is down)."""
    return f"http://127.0.0.1:{free_port()}"


@dataclass(frozen=True)
class LiveApi:
    url: str
    key: str
    log: Path

    def get(self, path: str, **params: object) -> dict:
        r = requests.get(f"{self.url}{path}", headers={"X-API-Key": self.key}, params=params, timeout=30)
        r.raise_for_status()
        return r.json()

    def post(self, path: str, body: object) -> dict:
        r = requests.post(f"{self.url}{path}", headers={"X-API-Key": self.key}, json=body, timeout=30)
        r.raise_for_status()
        return r.json()


def _wait_healthy(url: str, proc: subprocess.Popen, log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the API exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{url}/health", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the API did not become healthy within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@dataclass(frozen=True)
class ExistingEnv:
    warehouse: Path


@pytest.fixture(scope="session")
def api_env(request: pytest.FixtureRequest):
    """The environment behind the API: `trained_env`, or an existing warehouse named by
    HC_TEST_WAREHOUSE when HC_TEST_API_URL points the tests at an API that is already running."""
    if os.environ.get("HC_TEST_API_URL"):
        return ExistingEnv(warehouse=Path(os.environ["HC_TEST_WAREHOUSE"]))
    return request.getfixturevalue("trained_env")


@pytest.fixture(scope="session")
def live_api(api_env, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """The real scoring API (uvicorn api.main:app) on a random loopback port, over `trained_env`.

    Set HC_TEST_API_URL, HC_TEST_API_KEY and HC_TEST_WAREHOUSE to run the tests against an API that
    is already running instead (e.g. `make api` over a built warehouse).
    """
    log = tmp_path_factory.mktemp("live_api") / "uvicorn.log"
    if os.environ.get("HC_TEST_API_URL"):
        yield LiveApi(
            url=os.environ["HC_TEST_API_URL"].rstrip("/"), key=os.environ["HC_TEST_API_KEY"], log=log
        )
        return
    trained_env = api_env
    if not (ROOT / "api" / "main.py").exists():
        pytest.skip("the scoring API (api/main.py) does not exist yet")
    port = free_port()
    env = trained_env.env(HC_API_KEYS=API_KEY, HC_API_PORT=str(port), HC_API_ENV="dev")
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc, log)
        yield LiveApi(url=url, key=API_KEY, log=log)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture(scope="session")
def known_applicants(live_api: LiveApi, api_env) -> dict[str, int]:
    """Ids of applicants of the warehouse: one the model grants, one it refuses, one new (test set)."""
    import duckdb

    con = duckdb.connect(str(api_env.warehouse), read_only=True)
    try:
        train = [
            r[0]
            for r in con.execute(
                "select sk_id_curr from applicant_features where dataset = 'train' order by sk_id_curr limit 400"
            ).fetchall()
        ]
        test = con.execute(
            "select sk_id_curr from applicant_features where dataset = 'test' order by sk_id_curr limit 1"
        ).fetchall()
        top = con.execute("select max(sk_id_curr) from applicant_features").fetchone()[0]
    finally:
        con.close()
    results = live_api.post("/v1/score/batch", {"sk_id_curr": train})["results"]
    grant = next(r["sk_id_curr"] for r in results if r["decision"] == "grant")
    refuse = next((r["sk_id_curr"] for r in results if r["decision"] == "refuse"), None)
    ids = {"grant": grant, "unknown": int(top) + 1_000_000}
    if refuse is not None:
        ids["refuse"] = refuse
    if test:
        ids["test"] = test[0][0]
    return ids


@pytest.fixture
def dashboard_env(monkeypatch: pytest.MonkeyPatch, live_api: LiveApi) -> LiveApi:
    """Point the dashboard (run in-process by AppTest) at the live API."""
    monkeypatch.setenv("HC_API_URL", live_api.url)
    monkeypatch.setenv("HC_API_KEY", live_api.key)
    monkeypatch.setenv("HC_API_TIMEOUT", "30")
    return live_api


# -- a deliberately misbehaving HTTP server, for the client's error paths -------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    routes: dict[str, Callable[[http.server.BaseHTTPRequestHandler], None]] = {}

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _dispatch(self) -> None:
        path = self.path.split("?", 1)[0]
        handler = self.server.routes.get(path)  # type: ignore[attr-defined]
        if handler is None:
            self.send_json(404, {"detail": f"no route {path}"})
        else:
            handler(self)

    do_GET = _dispatch
    do_POST = _dispatch

    def send_json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@dataclass
class FakeServer:
    url: str
    routes: dict
    hits: dict


@pytest.fixture
def odd_server() -> Iterator[FakeServer]:
    """A real HTTP server whose routes a test sets (status codes, delays, malformed bodies)."""

    class QuietServer(http.server.ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that gave up (timeout test) makes the late reply fail: expected

    server = QuietServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    hits: dict = {}

    def counted(path, fn):
        def wrapper(h):
            hits[path] = hits.get(path, 0) + 1
            fn(h)

        return wrapper

    class Routes(dict):
        def __setitem__(self, key, value):
            super().__setitem__(key, counted(key, value))

    server.routes = Routes()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield FakeServer(url=f"http://127.0.0.1:{server.server_address[1]}", routes=server.routes, hits=hits)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def open_dashboard() -> Callable[..., object]:
    """Run the dashboard under AppTest: ``open_dashboard(page="why", applicant_id=100002)``."""
    from streamlit.testing.v1 import AppTest

    def _open(page: str = "client", applicant_id: int | str | None = None, timeout: float = 90):
        at = AppTest.from_file(str(APP), default_timeout=timeout)
        if applicant_id is not None:
            at.query_params["applicant_id"] = str(applicant_id)
        if page != "client":
            at.switch_page(PAGES[page])  # page paths are the file names: no first run needed
        return at.run()

    return _open
