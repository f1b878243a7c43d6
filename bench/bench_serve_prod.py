"""The production server (`make serve-prod`: deploy/entrypoint.sh api, gunicorn + uvicorn workers) under load:
1 vs 2 workers, score by id and explanation at concurrency 16, plus the memory of each worker.

    python bench/bench_serve_prod.py [--workers 1 2] [--requests 4000] [--heavy-requests 800]
                                     [--warehouse W --artifacts A]

Paths default to HC_WAREHOUSE / HC_ARTIFACTS (the defaults of docs/interfaces.md after `make demo`). The server runs
exactly as in production (JSON access log on, metrics on); the client is bench_api.py's asyncio HTTP/1.1
keep-alive client on the same machine (it takes CPU from the server: state the load with the figures).
Memory per worker: RSS, PSS (shared pages split between the processes that map them) and USS (private
pages) from /proc/<pid>/smaps_rollup, after the load, plus the size of the shared score book file.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_api import KEY, _free_port, _load, get, known_ids  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]


def smaps(pid: int) -> dict[str, int]:
    """kB figures of /proc/<pid>/smaps_rollup (Rss, Pss, Private_Clean, Private_Dirty, ...)."""
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, _, rest = line.partition(":")
        out[name.strip()] = int(rest.split()[0])
    return out


def worker_pids(master: int) -> list[int]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return sorted(int(c) for c in children)


def start(
    warehouse: Path, artifacts: Path, workers: int, workdir: Path
) -> tuple[subprocess.Popen, int, Path]:
    own = workdir / "artifacts"
    current = (artifacts / "models" / "current").resolve()
    shutil.copytree(current, own / "models" / current.name)
    (own / "models" / "current").symlink_to(current.name)
    port = _free_port()
    env = dict(
        os.environ,
        HC_WAREHOUSE=str(warehouse),
        HC_ARTIFACTS=str(own),
        HC_API_KEYS=KEY,
        HC_API_LOG_SALT=secrets.token_hex(32),  # production mode: a secret salt, as in the image
        HC_API_PORT=str(port),
        HC_API_WORKERS=str(workers),
        TMPDIR=str(workdir),
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = workdir / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(REPO_ROOT / "deploy" / "entrypoint.sh"), "api"],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    return proc, port, log


def wait_ready(proc: subprocess.Popen, port: int, log: Path, workers: int, timeout: float = 600) -> None:
    """Every worker has answered /ready with 200 (new connections land on the workers at random)."""
    import httpx

    deadline = time.monotonic() + timeout
    ready: set[int] = set()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"server exited:\n{log.read_text()[-3000:]}")
        try:
            r = httpx.get(f"http://127.0.0.1:{port}/metrics", headers={"X-API-Key": KEY}, timeout=10)
            if httpx.get(f"http://127.0.0.1:{port}/ready", timeout=10).status_code == 200:
                ready = {
                    line.split('pid="')[1].split('"')[0]
                    for line in r.text.splitlines()
                    if line.startswith("hc_model_info{") and line.endswith(" 1.0")
                }
                if len(ready) >= workers:
                    return
        except (httpx.HTTPError, IndexError):
            pass
        time.sleep(1)
    sys.exit(f"not ready in {timeout:.0f} s:\n{log.read_text()[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--warehouse", type=Path, default=Path(os.environ.get("HC_WAREHOUSE", "data/warehouse.duckdb"))
    )
    parser.add_argument("--artifacts", type=Path, default=Path(os.environ.get("HC_ARTIFACTS", "artifacts")))
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--requests", type=int, default=4000, help="score-by-id requests per run")
    parser.add_argument("--heavy-requests", type=int, default=800, help="explanation requests per run")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    missing = [str(p) for p in (args.warehouse, args.artifacts / "models" / "current") if not p.exists()]
    if missing:
        print(f"bench_serve_prod: skipped, missing {', '.join(missing)} (run `make demo` first)")
        return
    signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(SystemExit(f"stopped by signal {s}")))
    ids = known_ids(args.warehouse)
    print(
        f"warehouse {args.warehouse}: {len(ids)} applicants; {os.cpu_count()} cores shared by client and "
        f"server; load average before: {os.getloadavg()[0]:.1f}"
    )
    print(
        f"\n{'workers':>7} {'endpoint':<12} {'conc':>4} {'requests':>8} {'errors':>6} {'req/s':>7} "
        f"{'p50 ms':>7} {'p99 ms':>7}"
    )
    memory_rows = []
    for workers in args.workers:
        rng = random.Random(args.seed)
        scenarios = {
            "score by id": ([get(f"/v1/applicants/{rng.choice(ids)}/score") for _ in range(args.requests)]),
            "explanation": (
                [get(f"/v1/applicants/{rng.choice(ids)}/explanation") for _ in range(args.heavy_requests)]
            ),
        }
        with tempfile.TemporaryDirectory(prefix="bench_serve_prod_") as tmp:
            proc, port, log = start(args.warehouse, args.artifacts, workers, Path(tmp))
            try:
                wait_ready(proc, port, log, workers)
                for requests in scenarios.values():  # warm every worker
                    asyncio.run(_load(port, requests[:200], 8))
                for name, requests in scenarios.items():
                    elapsed, latencies, errors = asyncio.run(_load(port, requests, args.concurrency))
                    ms = np.array(latencies) * 1000
                    p50, p99 = np.percentile(ms, [50, 99]) if ms.size else (np.nan, np.nan)
                    print(
                        f"{workers:>7} {name:<12} {args.concurrency:>4} {len(requests):>8} {len(errors):>6} "
                        f"{len(latencies) / elapsed:>7.0f} {p50:>7.1f} {p99:>7.1f}",
                        flush=True,
                    )
                for pid in worker_pids(proc.pid):
                    m = smaps(pid)
                    memory_rows.append(
                        (workers, pid, m["Rss"], m["Pss"], m["Private_Clean"] + m["Private_Dirty"])
                    )
                books = list((Path(tmp) / "artifacts" / "cache" / "score_books").glob("book-*.arrow"))
                book_mb = sum(b.stat().st_size for b in books) / 1e6
            finally:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
        memory_rows.append((workers, "book", book_mb * 1000, None, None))
    print(f"\nmemory after the load (MB)\n{'workers':>7} {'worker':>8} {'RSS':>7} {'PSS':>7} {'USS':>7}")
    for workers, pid, rss, pss, uss in memory_rows:
        if pid == "book":
            print(
                f"{workers:>7} {'book':>8} {rss / 1000:>7.1f}  (shared score book file, mapped by every worker)"
            )
        else:
            print(f"{workers:>7} {pid:>8} {rss / 1024:>7.0f} {pss / 1024:>7.0f} {uss / 1024:>7.0f}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
