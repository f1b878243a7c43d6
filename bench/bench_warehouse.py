"""Benchmark of the warehouse build and of online feature computation. Prints figures, asserts nothing.

    .venv/bin/python bench/bench_warehouse.py [--raw-dir DIR] [--online 200] [--no-reference]

1. ``python -m warehouse.build --timings`` over ``--raw-dir`` (default: HC_RAW_DIR if it holds the CSVs, else
   the real sample in ../shared/data) into a scratch file: wall time, CPU time (user + sys of the build and
   its children: the figure that depends least on a shared machine's load), peak memory (RSS summed over the
   build process and all its children, sampled every 50 ms from /proc), then the build's own table of its steps
   (validation, load, dbt build, finalize: wall, CPU and peak RSS of each) and inside dbt its start-up, each
   model and the data tests per layer.
2. The notebook-style pandas reference (``bench/pandas_reference.py``: what a Kaggle notebook computes on the
   same files) measured the same way, side by side.
3. ``OnlineFeatureBuilder``: preparation time, then per-applicant latency (p50 / p95 / p99) of
   ``build()`` for applicants of the warehouse posted with their raw rows as new applications.
Targets: full Kaggle size (SCALE=1) <= 35 s and <= 3 GB on 2 cores (issue #16); online p99 <= 50 ms.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from hc_contracts.raw_format import TABLES, read_csv_sql  # noqa: E402

SAMPLE = (REPO / ".." / "shared" / "data" / "home-credit-sample").resolve()
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int) -> int:
    """RSS (bytes) of ``root`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            ppid, pages = int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = pages * PAGE
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run_measured(cmd: list[str], env_extra: dict[str, str]) -> tuple[float, float, int, int, str]:
    """Run ``cmd``: (wall seconds, CPU seconds user+sys of the process and its children, peak RSS bytes of the
    process tree, exit code, output). CPU seconds barely depend on the machine's load; wall time does."""
    env = {**os.environ, **env_extra}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()
    chunks: list[str] = []

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.05)

    def read() -> None:
        assert proc.stdout is not None
        chunks.extend(proc.stdout)

    threads = [threading.Thread(target=sample, daemon=True), threading.Thread(target=read, daemon=True)]
    for thread in threads:
        thread.start()
    _, status, usage = os.wait4(proc.pid, 0)  # the rusage of the build and every process it waited for
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    for thread in threads:
        thread.join()
    return (time.perf_counter() - started, usage.ru_utime + usage.ru_stime, peak, proc.returncode,
            "".join(chunks))


def run_build(raw_dir: Path, warehouse: Path, env_extra: dict[str, str]) -> tuple[float, float, int, int, str]:
    return run_measured([sys.executable, "-m", "warehouse.build", "--quiet", "--timings"],
                        {"HC_RAW_DIR": str(raw_dir), "HC_WAREHOUSE": str(warehouse), **env_extra})


def run_reference(raw_dir: Path) -> tuple[float, float, int, int, str]:
    return run_measured([sys.executable, str(REPO / "bench" / "pandas_reference.py"), "--raw-dir", str(raw_dir)], {})


def bench_online(warehouse: Path, raw_dir: Path, n: int) -> None:
    import duckdb
    import numpy as np

    from warehouse.online import OnlineFeatureBuilder

    started = time.perf_counter()
    builder = OnlineFeatureBuilder.from_warehouse(warehouse)
    print(f"online: prepared in {time.perf_counter() - started:.2f} s ({len(builder.models)} models)")
    con = duckdb.connect()
    for table in TABLES:
        path = str(raw_dir / f"{table}.csv").replace("'", "''")
        source = f"'{path}'"
        con.execute(f'create view "{table}" as select * from {read_csv_sql(table, source)}')
    ids = [r[0] for r in con.execute(
        "select SK_ID_CURR from application_train order by hash(SK_ID_CURR) limit ?", [n]).fetchall()]
    con.execute("create temp table chosen as select unnest(?::bigint[]) as id", [ids])
    frames = {t: con.sql(f'select * from "{t}" where SK_ID_CURR in (select id from chosen)').df()
              for t in TABLES if t not in ("bureau_balance", "application_test")}
    frames["bureau_balance"] = con.sql(
        "select * from bureau_balance where SK_ID_BUREAU in (select SK_ID_BUREAU from bureau "
        "where SK_ID_CURR in (select id from chosen))").df()
    frames["bureau_sk"] = frames["bureau"][["SK_ID_CURR", "SK_ID_BUREAU"]]
    latencies, rows = [], []
    for sk in ids:
        posted = {t: f[f.SK_ID_CURR.eq(sk)] for t, f in frames.items() if t not in ("bureau_balance", "bureau_sk")}
        posted["application_test"] = posted.pop("application_train").drop(columns="TARGET")
        bureau_ids = frames["bureau_sk"].SK_ID_BUREAU[frames["bureau_sk"].SK_ID_CURR.eq(sk)]
        posted["bureau_balance"] = frames["bureau_balance"][frames["bureau_balance"].SK_ID_BUREAU.isin(bureau_ids)]
        rows.append(sum(len(f) for f in posted.values()))
        t0 = time.perf_counter()
        builder.build(posted)
        latencies.append((time.perf_counter() - t0) * 1000)
    lat = np.array(latencies[1:] or latencies)  # the first call warms caches
    print(f"online: {len(ids)} applicants, {np.mean(rows):.0f} raw rows each on average; build() latency "
          f"p50 {np.percentile(lat, 50):.1f} ms, p95 {np.percentile(lat, 95):.1f} ms, "
          f"p99 {np.percentile(lat, 99):.1f} ms, max {lat.max():.1f} ms")
    builder.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    env_raw = Path(os.environ.get("HC_RAW_DIR", "data/raw"))
    default_raw = env_raw if (env_raw / "application_train.csv").exists() else SAMPLE
    parser.add_argument("--raw-dir", type=Path, default=default_raw)
    parser.add_argument("--online", type=int, default=100, help="applicants for the online benchmark (0: skip)")
    parser.add_argument("--keep", action="store_true", help="keep the built file (printed)")
    parser.add_argument("--no-reference", dest="reference", action="store_false",
                        help="skip the notebook-style pandas reference (bench/pandas_reference.py)")
    args = parser.parse_args()
    raw_dir = args.raw_dir.resolve()
    if not (raw_dir / "application_train.csv").exists():
        print(f"bench_warehouse: no Kaggle CSVs in {raw_dir}; pass --raw-dir (skipped)")
        return 0
    scratch = Path(tempfile.mkdtemp(prefix="bench_warehouse-"))
    try:
        warehouse = scratch / "warehouse.duckdb"
        print(f"build: HC_RAW_DIR={raw_dir} (nproc {os.cpu_count()}, HC_DUCKDB_THREADS="
              f"{os.environ.get('HC_DUCKDB_THREADS', '2')}, HC_DUCKDB_MEMORY_LIMIT="
              f"{os.environ.get('HC_DUCKDB_MEMORY_LIMIT', '2GB')})")
        seconds, cpu, peak, code, output = run_build(raw_dir, warehouse, {})
        if code != 0:
            print(output)
            print(f"build FAILED after {seconds:.1f} s")
            return 1
        print("\n".join(line for line in output.strip().splitlines() if "warning:" not in line))
        size = warehouse.stat().st_size
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        figures = [("warehouse (make warehouse)", seconds, cpu, peak)]
        print(f"build: wall {seconds:.1f} s, CPU {cpu:.1f} s, peak RSS (process tree) {peak / 2**30:.2f} GiB, "
              f"file {size / 2**20:.0f} MiB (load average {load})", flush=True)
        if args.reference:
            r_seconds, r_cpu, r_peak, r_code, r_output = run_reference(raw_dir)
            print("\n".join(line for line in r_output.strip().splitlines() if line.startswith("[pandas]")))
            if r_code:
                print(f"pandas reference FAILED\n{r_output[-2000:]}")
            else:
                figures.append(("notebook-style pandas", r_seconds, r_cpu, r_peak))
            print(f"\n{'':28s} {'wall s':>8s} {'CPU s':>8s} {'peak GiB':>9s}")
            for label, wall, used, rss in figures:
                print(f"{label:28s} {wall:8.1f} {used:8.1f} {rss / 2**30:9.2f}")
            print(f"(load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; the warehouse also validates "
                  "every value, runs every data test and writes a documented, typed file)", flush=True)
        if args.online:
            bench_online(warehouse, raw_dir, args.online)
        if args.keep:
            kept = REPO / "bench" / "out" / "warehouse.duckdb"
            kept.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(warehouse, kept)
            print(f"kept {kept}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
