"""Load test of the scoring API: a real uvicorn on loopback, a real HTTP/1.1 client, keep-alive connections.

    python bench/bench_api.py [--workers 1] [--requests 10000] [--warehouse W --artifacts A --raw-dir R]

Paths default to HC_WAREHOUSE / HC_ARTIFACTS / HC_RAW_DIR (the defaults of docs/interfaces.md after `make demo`).
Prints the start-up time (process start -> `/ready` answers 200: model, warehouse and bulk scores
ready) and the server's resident memory, then requests per second and p50 / p95 / p99 latency for:
score by id and explanation (concurrency 1 and 16), new-application scoring with a typical credit
history posted as raw Kaggle rows (concurrency 1 and 8). The model version is copied to a temporary
artifacts folder (the request log goes there), the server runs with the access log off. Targets
(issue 16, one process on 2 cores): start-up <= 60 s and RSS <= 4 GB at SCALE=1; score by id p99 <= 20 ms
at 16; explanation p99 <= 50 ms at 16; new application p50 <= 100 ms alone, >= 25 req/s with
p99 <= 500 ms at 8; zero errors.

From the server's `/metrics` it also prints the start-up steps (model, warehouse, comparison index, bulk
scores: read, predict, log features, write), the server's resident memory when ready and at its peak, and
for each scenario how well concurrent requests were batched (applications per online feature build, rows
per explanation call). Figures under load: compare `cpu ms`, and state the load average printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
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


def wait_fully_ready(server: Server, started: float, timeout: float = 600) -> float:
    """Seconds from the process start until `/ready` answers 200 (model, warehouse and bulk scores)."""
    while time.monotonic() - started < timeout:
        _, latencies, errors = asyncio.run(_load(server.port, [get("/ready")], 1))
        if not errors:
            return time.monotonic() - started
        time.sleep(0.2)
    return float("nan")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of the server process and its children so far: the figure that stays
    meaningful when other jobs share the cores (latencies then stretch with the machine's load)."""
    total = 0.0
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            continue
    return total


_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)$")


def scrape(server: Server) -> dict[str, float]:
    """The server's Prometheus samples, `name{labels}` -> value (empty when /metrics cannot be read)."""
    samples: dict[str, float] = {}

    async def fetch() -> bytes:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        try:
            writer.write(get("/metrics"))
            return (await _read_response(reader))[1]
        finally:
            writer.close()

    try:
        body = asyncio.run(fetch())
    except (OSError, ConnectionError, asyncio.IncompleteReadError):
        return samples
    for line in body.decode().splitlines():
        match = _SAMPLE.match(line)
        if match and not line.startswith("#"):
            samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return samples


def startup_steps(samples: dict[str, float]) -> str:
    steps = {k.split('step="', 1)[1].rstrip('"}'): v for k, v in samples.items()
             if k.startswith("hc_startup_step_seconds{")}
    return ", ".join(f"{name} {value:.1f} s" for name, value in steps.items()) or "not reported"


def batching(before: dict[str, float], after: dict[str, float], name: str) -> str:
    """Batches and mean batch size of the histogram `name` between two scrapes."""
    count = after.get(f"{name}_count", 0.0) - before.get(f"{name}_count", 0.0)
    total = after.get(f"{name}_sum", 0.0) - before.get(f"{name}_sum", 0.0)
    return f"{count:.0f} batches, mean {total / count:.1f}" if count else "no batch"


BATCH_METRIC = {"explanation": ("hc_explanation_batch_rows", "rows per explanation call"),
                "new application": ("hc_online_build_applications", "applications per online build")}


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of the server process and its children (uvicorn workers), in MB."""
    total = 0.0
    pids = [pid]
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    total += int(line.split()[1]) / 1024
        except OSError:
            continue
    return total


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
    parser.add_argument("--workers", type=int, default=1)
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
    applications: list[bytes] = []
    if not args.only or "new" in args.only:  # reading the raw history tables takes minutes at SCALE=1
        applications, shape = typical_applications(args.raw_dir, seed=args.seed)
        print(f"new applications: median {shape['records_median']:.0f} history records, "
              f"{shape['body_kb_median']:.1f} KB per body")
    print(f"warehouse {args.warehouse}: {len(ids)} applicants")
    print(f"server: uvicorn --workers {args.workers}, access log off; client: asyncio HTTP/1.1 keep-alive, "
          f"{os.cpu_count()} cores shared by client and server; load average at start "
          f"{os.getloadavg()[0]:.1f}; cpu ms = server CPU time per request (stable under load)")

    scenarios = {
        "score by id": lambda n: [get(f"/v1/applicants/{rng.choice(ids)}/score") for _ in range(n)],
        "explanation": lambda n: [get(f"/v1/applicants/{rng.choice(ids)}/explanation") for _ in range(n)],
        "new application": lambda n: [post("/v1/score", rng.choice(applications)) for _ in range(n)],
    }
    # scenario -> {concurrency: (min req/s, max p50 ms, max p99 ms)}
    targets = {"score by id": {1: (None, None, None), 16: (None, None, 20)},
               "explanation": {1: (None, None, None), 16: (None, None, 50)},
               "new application": {1: (None, 100, None), 8: (25, None, 500)}}
    if args.only:
        keep = {"score": "score by id", "explanation": "explanation", "new": "new application"}
        scenarios = {keep[o]: scenarios[keep[o]] for o in args.only}

    with tempfile.TemporaryDirectory(prefix="bench_api_") as tmp:
        started = time.monotonic()
        server = start_server(args.warehouse, args.artifacts, args.workers, Path(tmp))
        try:
            wait_ready(server, [get(f"/v1/applicants/{ids[0]}/score")] * 8)
            ready_s = wait_fully_ready(server, started)
            print(f"start-up: /ready 200 after {ready_s:.1f} s, server CPU {cpu_seconds(server.proc.pid):.1f} s; "
                  f"server RSS {rss_mb(server.proc.pid):.0f} MB, peak {rss_mb(server.proc.pid, 'VmHWM'):.0f} MB "
                  f"(targets at SCALE=1: <= 60 s, <= 4096 MB); load average {os.getloadavg()[0]:.1f}")
            print(f"start-up steps (wall, in the server): {startup_steps(scrape(server))}")
            # warm every worker: explainer, the online feature builder
            for make in scenarios.values():
                asyncio.run(_load(server.port, make(100), 8))
            time.sleep(2)
            print(f"\n{'endpoint':<16} {'conc':>4} {'requests':>8} {'errors':>6} {'req/s':>8} "
                  f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'cpu ms':>7}  target")
            total_errors = 0
            for name, make in scenarios.items():
                n = args.requests if name == "score by id" else args.heavy_requests
                for concurrency, (min_rate, max_p50, max_p99) in targets[name].items():
                    before = scrape(server)
                    cpu_before = cpu_seconds(server.proc.pid)
                    elapsed, latencies, errors = asyncio.run(_load(server.port, make(n), concurrency))
                    cpu_ms = (cpu_seconds(server.proc.pid) - cpu_before) * 1000 / max(1, len(latencies))
                    after = scrape(server)
                    total_errors += len(errors)
                    ms = np.array(latencies) * 1000
                    p50, p95, p99 = np.percentile(ms, [50, 95, 99]) if ms.size else (np.nan,) * 3
                    rate = len(latencies) / elapsed
                    rules = [(f">={min_rate}/s", min_rate is None or rate >= min_rate),
                             (f"p50<={max_p50}", max_p50 is None or p50 <= max_p50),
                             (f"p99<={max_p99}", max_p99 is None or p99 <= max_p99)]
                    shown = [rule for rule, limit in zip(rules, (min_rate, max_p50, max_p99), strict=True)
                             if limit is not None]
                    verdict = ""
                    if shown:
                        ok = all(passed for _, passed in shown) and not errors
                        verdict = f"{'met' if ok else 'MISSED'} ({', '.join(r for r, _ in shown)})"
                    print(f"{name:<16} {concurrency:>4} {n:>8} {len(errors):>6} {rate:>8.0f} "
                          f"{p50:>7.1f} {p95:>7.1f} {p99:>7.1f} {cpu_ms:>7.2f}  {verdict}", flush=True)
                    if name in BATCH_METRIC:
                        metric, what = BATCH_METRIC[name]
                        print(f"    {what}: {batching(before, after, metric)}; load average {os.getloadavg()[0]:.1f}")
                    if errors:
                        print(f"    first errors: {errors[:3]}")
            print(f"\ntotal errors: {total_errors}; server RSS after the load {rss_mb(server.proc.pid):.0f} MB, "
                  f"peak {rss_mb(server.proc.pid, 'VmHWM'):.0f} MB")
        finally:
            stop_server(server)
        logged = list((Path(tmp) / "artifacts" / "request_log").glob("date=*/*.parquet"))
        print(f"request log: {len(logged)} Parquet file(s) written")


if __name__ == "__main__":
    main()
