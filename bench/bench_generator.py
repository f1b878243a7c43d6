"""Wall time and peak memory of the synthetic generator at a given scale.

    .venv/bin/python bench/bench_generator.py              # scale 0.2 (what `make bench` runs)
    nice -n 10 .venv/bin/python bench/bench_generator.py --scale 1   # Kaggle size (target: <= 3 min, <= 8 GB)

The generator runs as a child process (``python -m synthetic``, ``--jobs`` processes making chunks),
so the figures are the generator's own: wall time, CPU seconds (user + system, all its processes),
the largest single process's peak memory and the peak of the sum over its processes (sampled every
0.2 s), then its own per-step CPU seconds and per-phase wall times. The output goes to a temporary
folder, removed afterwards unless ``--keep`` names a folder.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


class TreeRss(threading.Thread):
    """Peak of the summed resident memory of a process and its children (Linux /proc)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        page = os.sysconf("SC_PAGE_SIZE")
        while not self.stop.wait(0.2):
            pids = [self.pid]
            try:
                kids = Path(f"/proc/{self.pid}/task/{self.pid}/children").read_text().split()
                pids += [int(k) for k in kids]
                total = sum(int(Path(f"/proc/{p}/statm").read_text().split()[1]) * page for p in pids)
            except (OSError, ValueError):
                continue
            self.peak = max(self.peak, total)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scale", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--keep", type=Path, help="write here and keep the data set")
    ap.add_argument("--jobs", type=int, default=2, help="generator processes (default 2)")
    args = ap.parse_args()
    out = args.keep or Path(tempfile.mkdtemp(prefix="hc-bench-generator-"))
    try:
        cmd = [
            sys.executable,
            "-m",
            "synthetic",
            "--scale",
            str(args.scale),
            "--seed",
            str(args.seed),
        ]
        start = time.perf_counter()
        proc = subprocess.Popen(
            [*cmd, "--out", str(out), "--jobs", str(args.jobs)],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        sampler = TreeRss(proc.pid)
        sampler.start()
        log, _ = proc.communicate()
        wall = time.perf_counter() - start
        sampler.stop.set()
        sampler.join()
        res = subprocess.CompletedProcess(proc.args, proc.returncode)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        if res.returncode != 0:
            print(f"generator failed with exit code {res.returncode}", file=sys.stderr)
            return res.returncode
        files = sorted(out.glob("*.csv"))
        rows = {f.name: sum(1 for _ in f.open("rb")) - 1 for f in files}
        size = sum(f.stat().st_size for f in files)
        total_rows = sum(rows.values())
        print(
            f"synthetic generator, scale {args.scale}, seed {args.seed}, {os.cpu_count()} CPUs, "
            f"load average {os.getloadavg()[0]:.1f}"
        )
        print(f"  wall time      {wall:8.1f} s")
        print(
            f"  CPU time       {usage.ru_utime + usage.ru_stime:8.1f} s (user {usage.ru_utime:.1f}, sys {usage.ru_stime:.1f})"
        )
        print(f"  peak memory    {usage.ru_maxrss / 1024**2:8.2f} GB (max RSS of the largest generator process)")
        print(f"  peak memory    {sampler.peak / 1e9:8.2f} GB (sum over the generator's processes, sampled)")
        print(f"  output         {size / 1e9:8.2f} GB, {total_rows:,} rows ({total_rows / wall:,.0f} rows/s)")
        for name, n in rows.items():
            print(f"    {name:28s} {n:>12,}")
        for line in log.splitlines():
            if "wall" in line or "CPU seconds" in line:
                print(f"  {line}")
    finally:
        if args.keep is None:
            shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
