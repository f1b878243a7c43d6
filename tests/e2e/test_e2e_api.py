"""End to end: synthetic data -> warehouse -> training (the `trained_env` fixture) -> the API served by a
real uvicorn process on a random loopback port, called over HTTP like any client."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pandas as pd
import pyarrow.parquet as pq
import pytest

KEY = "e2e-key"
REPO_ROOT = Path(__file__).resolve().parents[2]
HISTORY = ("bureau", "bureau_balance", "previous_application", "POS_CASH_balance", "installments_payments",
           "credit_card_balance")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if v != v else (v.item() if hasattr(v, "item") else v)) for k, v in r.items()}
            for r in frame.to_dict(orient="records")]


def _application_with_history(raw_dir: Path) -> tuple[int, dict]:
    """The raw rows of the train applicant with the most bureau and previous-application records."""
    tables = {name: pd.read_csv(raw_dir / f"{name}.csv") for name in ("application_train", *HISTORY)}
    counts = tables["bureau"].groupby("SK_ID_CURR").size().add(
        tables["previous_application"].groupby("SK_ID_CURR").size(), fill_value=0)
    app = tables["application_train"]
    counts = counts[counts.index.isin(app["SK_ID_CURR"])]
    sk_id = int(counts.sort_values(ascending=False).index[0])
    body = _records(app[app["SK_ID_CURR"] == sk_id].drop(columns=["TARGET"]))[0]
    bureau_ids = tables["bureau"].loc[tables["bureau"]["SK_ID_CURR"] == sk_id, "SK_ID_BUREAU"]
    for name in HISTORY:
        frame = tables[name]
        part = frame[frame["SK_ID_BUREAU"].isin(bureau_ids)] if name == "bureau_balance" else \
            frame[frame["SK_ID_CURR"] == sk_id]
        body[name] = _records(part)
    return sk_id, body


@pytest.fixture(scope="module")
def environment(request, tmp_path_factory):
    prebuilt = os.environ.get("HC_API_TEST_ENV")  # RAW_DIR:WAREHOUSE:ARTIFACTS, for developers
    if prebuilt:
        raw, warehouse, artifacts = (Path(p) for p in prebuilt.split(":"))
    else:
        tenv = request.getfixturevalue("trained_env")
        raw, warehouse, artifacts = tenv.raw_dir, tenv.warehouse, tenv.artifacts
    # a private artifacts folder: the server writes its request log there
    own = tmp_path_factory.mktemp("e2e_artifacts")
    current = (artifacts / "models" / "current").resolve()
    shutil.copytree(current, own / "models" / current.name)
    (own / "models" / "current").symlink_to(current.name)
    return raw, warehouse, own


@pytest.fixture(scope="module")
def server(environment, tmp_path_factory):
    raw, warehouse, artifacts = environment
    port = _free_port()
    env = dict(os.environ, HC_WAREHOUSE=str(warehouse), HC_ARTIFACTS=str(artifacts), HC_API_KEYS=KEY,
               HC_API_PORT=str(port), HC_API_LOG_SALT="e2e-salt")
    log_path = tmp_path_factory.mktemp("e2e_logs") / "uvicorn.log"
    with open(log_path, "w") as log_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO_ROOT, env=env, stdout=log_file, stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"uvicorn exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}/health", timeout=2).json().get("status") == "ok":
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the API did not become healthy in time:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"base": base, "proc": proc, "log": log_path, "raw": raw, "artifacts": artifacts}
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_api_over_real_http(server):
    base, headers = server["base"], {"X-API-Key": KEY}
    metadata = json.loads((server["artifacts"] / "models" / "current" / "metadata.json").read_text())
    with httpx.Client(base_url=base, timeout=60) as client:
        health = client.get("/health").json()
        assert health == {"status": "ok", "model_version": metadata["version"], "warehouse": "ok"}
        assert client.get("/v1/model").status_code == 401
        assert client.get("/v1/model", headers={"X-API-Key": "wrong"}).status_code == 403

        sk_id, payload = _application_with_history(server["raw"])
        known = client.get(f"/v1/applicants/{sk_id}/score", headers=headers)
        assert known.status_code == 200, known.text
        posted = client.post("/v1/score", headers=headers, json=payload)
        assert posted.status_code == 200, posted.text
        assert posted.json()["probability"] == pytest.approx(known.json()["probability"], rel=1e-9, abs=1e-12)
        assert posted.json()["decision"] == known.json()["decision"]
        assert known.json()["model_version"] == metadata["version"]

        explanation = client.get(f"/v1/applicants/{sk_id}/explanation", headers=headers).json()
        assert explanation["probability"] == pytest.approx(known.json()["probability"], abs=1e-12)
        assert explanation["reasons"] and explanation["contributions"]
        profile = client.get(f"/v1/applicants/{sk_id}", headers=headers).json()
        assert [g["name"] for g in profile["groups"]][0] == "Identity"
        comparison = client.get(f"/v1/applicants/{sk_id}/comparison", headers=headers,
                                params={"features": "amt_income_total"}).json()
        assert comparison["features"][0]["all"]["n"] > 0
        assert client.get("/v1/applicants/1/score", headers=headers).status_code == 404
        bad = client.post("/v1/score", headers=headers, json={**payload, "AMT_CREDIT": -1})
        assert bad.status_code == 422 and "AMT_CREDIT" in bad.text

    # a graceful stop flushes the request log; the server's own log holds no applicant id
    proc = server["proc"]
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) in (0, -signal.SIGTERM)  # uvicorn re-raises the signal after shutting down
    output = server["log"].read_text()
    assert "Application shutdown complete" in output
    files = list((server["artifacts"] / "request_log").glob("date=*/*.parquet"))
    logged = pd.concat(pq.read_table(f).to_pandas() for f in files)
    assert sorted(logged["endpoint"]) == ["applicant_score", "score"]
    assert (logged["model_version"] == metadata["version"]).all()
    assert "GET /v1/applicants/<id>/score" in output
    assert str(sk_id) not in output
