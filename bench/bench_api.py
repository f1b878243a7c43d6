"""Load test of the scoring API: a real uvicorn on loopback, a real HTTP/1.1 client, keep-alive connections.

    python bench/bench_api.py [--workers 2] [--requests 10000] [--warehouse W --artifacts A --raw-dir R]

Paths default to HC_WAREHOUSE / HC_ARTIFACTS / HC_RAW_DIR (the defaults of docs/interfaces.md after `make demo`).
Prints requests per second and p50 / p95 / p99 latency at concurrency 1 and 16 for: score by id,
explanation, and new-application scoring with a typical credit history (posted as raw Kaggle rows).
The model version is copied to a temporary artifacts folder (the request log goes there), the server
runs with the access log off. Targets (2 cores): score-by-id >= 500 req/s with p99 <= 20 ms; new
application p99 <= 50 ms; explanation p99 <= 50 ms; zero errors.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"
HISTORY = ("bureau", "bureau_balance", "previous_application", "POS_CASH_balance", "installments_payments",
           "credit_card_balance")


# -- a minimal HTTP/1.1 keep-alive client (cheap enough not to starve the server of CPU) -------------
async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed by the server")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _connection(port: int, requests: list[bytes], latencies: list[float], errors: list[str]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for request in requests:
            started = time.perf_counter()
            writer.write(request)
            try:
                status, body = await _read_response(reader)
            except (ConnectionError, asyncio.IncompleteReadError) as exc:
                errors.append(f"{type(exc).__name__}")
                writer.close()
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                continue
            latencies.append(time.perf_counter() - started)
            if status != 200:
                errors.append(f"{status}: {body[:200]!r}")
    finally:
        writer.close()


async def _load(port: int, requests: list[bytes], concurrency: int) -> tuple[float, list[float], list[str]]:
    shares = [requests[i::concurrency] for i in range(concurrency)]
    latencies: list[float] = []
    errors: list[str] = []
    started = time.perf_counter()
    await asyncio.gather(*(_connection(port, share, latencies, errors) for share in shares))
    return time.perf_counter() - started, latencies, errors


def get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {KEY}\r\n\r\n".encode()


def post(path: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-API-Key: {KEY}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


# -- data ------------------------------------------------------------------------------------------
def known_ids(warehouse: Path) -> list[int]:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as con:
        return [r[0] for r in con.execute("select sk_id_curr from applicant_features").fetchall()]


def _records(frame: pd.DataFrame) -> list[dict]:
    return [{k: (None if v != v else (v.item() if hasattr(v, "item") else v)) for k, v in r.items()}
            for r in frame.to_dict(orient="records")]


def typical_applications(raw_dir: Path, n: int = 50, seed: int = 0) -> tuple[list[bytes], dict[str, float]]:
    """Raw rows of applicants whose history size is near the median of those with a history."""
    tables = {name: pd.read_csv(raw_dir / f"{name}.csv") for name in ("application_train", *HISTORY)}
    app = tables["application_train"]
    sizes = pd.Series(0, index=app["SK_ID_CURR"])
    for name in HISTORY:
        if name != "bureau_balance":
            sizes = sizes.add(tables[name].groupby("SK_ID_CURR").size(), fill_value=0)
    sizes = sizes[sizes.index.isin(app["SK_ID_CURR"])]
    with_history = sizes[sizes > 0]
    median = with_history.median()
    ranked = (with_history - median).abs().sort_values(kind="stable")
    chosen = [int(i) for i in ranked.index[: n * 3]]
    random.Random(seed).shuffle(chosen)
    bodies, rows = [], []
    for sk_id in chosen[:n]:
        body = _records(app[app["SK_ID_CURR"] == sk_id].drop(columns=["TARGET"]))[0]
        bureau_ids = tables["bureau"].loc[tables["bureau"]["SK_ID_CURR"] == sk_id, "SK_ID_BUREAU"]
        total = 0
        for name in HISTORY:
            frame = tables[name]
            part = frame[frame["SK_ID_BUREAU"].isin(bureau_ids)] if name == "bureau_balance" else \
                frame[frame["SK_ID_CURR"] == sk_id]
            body[name] = _records(part)
            total += len(part)
        rows.append(total)
        bodies.append(json.dumps(body).encode())
    sizes_kb = [len(b) / 1024 for b in bodies]
    return bodies, {"records_median": float(np.median(rows)), "body_kb_median": float(np.median(sizes_kb))}


# -- server ----------------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    proc: subprocess.Popen
    port: int
    log: Path


def start_server(warehouse: Path, artifacts: Path, workers: int, workdir: Path) -> Server:
    own = workdir / "artifacts"
    current = (artifacts / "models" / "current").resolve()
    shutil.copytree(current, own / "models" / current.name)
    (own / "models" / "current").symlink_to(current.name)
    port = _free_port()
    env = dict(os.environ, HC_WAREHOUSE=str(warehouse), HC_ARTIFACTS=str(own), HC_API_KEYS=KEY, HC_API_ENV="dev")
    log = workdir / "uvicorn.log"
    cmd = [sys.executable, "-m", "uvicorn", "api.main:app", "--host", "127.0.0.1", "--port", str(port),
           "--workers", str(workers), "--no-access-log", "--log-level", "warning"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    return Server(proc, port, log)


def wait_ready(server: Server, warm: list[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            sys.exit(f"uvicorn exited:\n{server.log.read_text()[-3000:]}")
        try:
            _, _, errors = asyncio.run(_load(server.port, warm, 4))
            if not errors:
                return
        except OSError:
            pass
        time.sleep(1)
    sys.exit(f"the API did not answer in {timeout:.0f} s:\n{server.log.read_text()[-3000:]}")


def stop_server(server: Server) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


# -- main ------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warehouse", type=Path, default=Path(os.environ.get("HC_WAREHOUSE", "data/warehouse.duckdb")))
    parser.add_argument("--artifacts", type=Path, default=Path(os.environ.get("HC_ARTIFACTS", "artifacts")))
    parser.add_argument("--raw-dir", type=Path, default=Path(os.environ.get("HC_RAW_DIR", "data/raw")))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=10_000, help="score-by-id requests per concurrency level")
    parser.add_argument("--heavy-requests", type=int, default=2_000,
                        help="explanation and new-application requests per concurrency level")
    parser.add_argument("--only", choices=["score", "explanation", "new"], action="append",
                        help="run only these scenarios (repeatable); default: all")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    missing = [str(p) for p in (args.warehouse, args.artifacts / "models" / "current", args.raw_dir) if not p.exists()]
    if missing:
        print(f"bench_api: skipped, missing {', '.join(missing)} (run `make demo` first, or pass "
              "--warehouse/--artifacts/--raw-dir)")
        return

    def _terminate(signum, frame):  # a `timeout` or Ctrl-C still stops the server (finally below)
        raise SystemExit(f"bench_api: stopped by signal {signum}")

    signal.signal(signal.SIGTERM, _terminate)
    rng = random.Random(args.seed)
    ids = known_ids(args.warehouse)
    applications, shape = typical_applications(args.raw_dir, seed=args.seed)
    print(f"warehouse {args.warehouse}: {len(ids)} applicants; new applications: median "
          f"{shape['records_median']:.0f} history records, {shape['body_kb_median']:.1f} KB per body")
    print(f"server: uvicorn --workers {args.workers}, access log off; client: asyncio HTTP/1.1 keep-alive, "
          f"{os.cpu_count()} cores shared by client and server")

    scenarios = {
        "score by id": lambda n: [get(f"/v1/applicants/{rng.choice(ids)}/score") for _ in range(n)],
        "explanation": lambda n: [get(f"/v1/applicants/{rng.choice(ids)}/explanation") for _ in range(n)],
        "new application": lambda n: [post("/v1/score", rng.choice(applications)) for _ in range(n)],
    }
    targets = {"score by id": (500, 20), "explanation": (None, 50), "new application": (None, 50)}
    if args.only:
        keep = {"score": "score by id", "explanation": "explanation", "new": "new application"}
        scenarios = {keep[o]: scenarios[keep[o]] for o in args.only}

    with tempfile.TemporaryDirectory(prefix="bench_api_") as tmp:
        server = start_server(args.warehouse, args.artifacts, args.workers, Path(tmp))
        try:
            wait_ready(server, [get(f"/v1/applicants/{ids[0]}/score")] * 8)
            # warm every worker: bulk scores, explainer, the online feature builder
            for make in scenarios.values():
                asyncio.run(_load(server.port, make(300), 8))
            time.sleep(2)
            print(f"\n{'endpoint':<16} {'conc':>4} {'requests':>8} {'errors':>6} {'req/s':>8} "
                  f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}  target")
            total_errors = 0
            for name, make in scenarios.items():
                n = args.requests if name == "score by id" else args.heavy_requests
                for concurrency in (1, 16):
                    elapsed, latencies, errors = asyncio.run(_load(server.port, make(n), concurrency))
                    total_errors += len(errors)
                    ms = np.array(latencies) * 1000
                    p50, p95, p99 = np.percentile(ms, [50, 95, 99]) if ms.size else (np.nan,) * 3
                    rate = len(latencies) / elapsed
                    min_rate, max_p99 = targets[name]
                    verdict = ""
                    if concurrency == 16:
                        ok = p99 <= max_p99 and (min_rate is None or rate >= min_rate) and not errors
                        rule = f"p99<={max_p99}" + (f", >={min_rate}/s" if min_rate else "")
                        verdict = f"{'met' if ok else 'MISSED'} ({rule})"
                    print(f"{name:<16} {concurrency:>4} {n:>8} {len(errors):>6} {rate:>8.0f} "
                          f"{p50:>7.1f} {p95:>7.1f} {p99:>7.1f}  {verdict}", flush=True)
                    if errors:
                        print(f"    first errors: {errors[:3]}")
            print(f"\ntotal errors: {total_errors}")
        finally:
            stop_server(server)
        logged = list((Path(tmp) / "artifacts" / "request_log").glob("date=*/*.parquet"))
        print(f"request log: {len(logged)} Parquet file(s) written")


if __name__ == "__main__":
    main()
