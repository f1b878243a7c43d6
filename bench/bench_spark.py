"""Benchmark of the Spark engine against DuckDB. Prints figures, asserts nothing.

    .venv/bin/python bench/bench_spark.py [--scales 0.1,0.3] [--data-root /tmp/h14] [--sample] [--train]
                                          [--master local[*]]

1. For each synthetic scale (generated with ``python -m synthetic --scale X --seed 0`` into
   ``<data-root>/sX`` when absent): ``python -m warehouse.build`` (DuckDB) and ``python -m warehouse.spark_build``
   (dbt-spark on a local Spark), wall time and peak memory (RSS summed over the process tree, JVM included,
   sampled every 100 ms from /proc), then ``applicant_features`` of both compared column by column.
2. ``--sample``: the same on the real sample (../shared/data/home-credit-sample), the real-data parity check.
3. ``--train``: on the first scale, the Spark trainer (``models_ml.spark.train``) vs the single-machine trainer
   restricted to xgboost (``models_ml.train --families xgboost``), both ``--profile fast --folds 5``: wall time
   and peak memory. The single-machine run also compares 3 imbalance strategies and tunes; the Spark run fits
   one candidate (docs/scale-out.md), so the figures bound the cost of a distributed fit, they do not rank them.
The machine's load average is printed with every figure: the machine is shared.
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

SAMPLE = (REPO / ".." / "shared" / "data" / "home-credit-sample").resolve()
PAGE = os.sysconf("SC_PAGE_SIZE")


def _tree_rss(root: int) -> int:
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="utf-8") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def run(cmd: list[str], env_extra: dict[str, str]) -> tuple[float, int, int, str]:
    """(seconds, peak RSS bytes of the process tree, exit code, output)."""
    env = {**os.environ, **env_extra}
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(proc.pid))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    output, _ = proc.communicate()
    done.set()
    sampler.join()
    return time.perf_counter() - started, peak, proc.returncode, output


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def synthetic(root: Path, scale: str) -> Path:
    out = root / f"s{scale}"
    if not (out / "application_train.csv").exists():
        print(f"generating scale {scale} into {out}", flush=True)
        subprocess.run([sys.executable, "-m", "synthetic", "--scale", scale, "--seed", "0",
                        "--out", str(out), "-q"], cwd=REPO, check=True)
    return out


def bench_build(label: str, raw_dir: Path, scratch: Path, master: str) -> tuple[Path, Path] | None:
    from warehouse.engine_parity import compare_tables, read_duckdb_table, read_parquet_table

    duck = scratch / f"{label}.duckdb"
    spark = scratch / f"{label}-spark"
    s, peak, code, out = run([sys.executable, "-m", "warehouse.build", "--quiet"],
                             {"HC_RAW_DIR": str(raw_dir), "HC_WAREHOUSE": str(duck)})
    print(f"{label}: DuckDB build {s:.1f} s, peak RSS {peak / 2**30:.2f} GiB (load {load()})"
          + ("" if code == 0 else f" FAILED\n{out[-2000:]}"), flush=True)
    if code:
        return None
    s, peak, code, out = run([sys.executable, "-m", "warehouse.spark_build", "--quiet"],
                             {"HC_RAW_DIR": str(raw_dir), "HC_SPARK_WAREHOUSE": str(spark), "HC_SPARK_MASTER": master,
                              "HC_WAREHOUSE": str(scratch / f"serving_{label.split()[-1].replace('.', '_')}.duckdb")})
    steps = next((line for line in out.splitlines() if "steps:" in line), "")
    print(f"{label}: Spark build ({master}) {s:.1f} s, peak RSS {peak / 2**30:.2f} GiB (load {load()}) {steps.strip()}"
          + ("" if code == 0 else f" FAILED\n{out[-3000:]}"), flush=True)
    if code:
        return None
    t0 = time.perf_counter()
    parity = compare_tables(read_duckdb_table(duck), read_parquet_table(spark / "applicant_features"),
                            rtol=1e-9, atol=1e-9)
    verdict = "identical within 1e-9" if parity.equal else f"{len(parity.differences)} column(s) differ"
    print(f"{label}: applicant_features parity: {parity.rows} rows x {parity.columns} columns {verdict} "
          f"({time.perf_counter() - t0:.1f} s)", flush=True)
    for line in parity.differences[:20]:
        print(f"    {line}")
    return duck, spark


def bench_train(duck: Path, spark: Path, scratch: Path, master: str) -> None:
    common = ["--profile", "fast", "--folds", "5", "--no-promote"]
    s, peak, code, out = run([sys.executable, "-m", "models_ml.train", "--families", "xgboost",
                              "--warehouse", str(duck), "--artifacts", str(scratch / "art-single"), *common], {})
    print(f"train single-machine (xgboost, 3 imbalance strategies + tuning): {s:.1f} s, peak RSS "
          f"{peak / 2**30:.2f} GiB (load {load()})" + ("" if code == 0 else f" FAILED\n{out[-2000:]}"), flush=True)
    s, peak, code, out = run([sys.executable, "-m", "models_ml.spark.train", "--artifacts", str(scratch / "art-spark"),
                              *common], {"HC_SPARK_WAREHOUSE": str(spark), "HC_SPARK_MASTER": master})
    print(f"train Spark (SparkXGBClassifier, 5 CV fits + final fit, {master}): {s:.1f} s, peak RSS "
          f"{peak / 2**30:.2f} GiB (load {load()})" + ("" if code == 0 else f" FAILED\n{out[-3000:]}"), flush=True)
    last = [line for line in out.splitlines() if line.startswith("model version")]
    if last:
        print(f"    {last[-1]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", default="0.1,0.3", help="comma-separated synthetic scales (1 = Kaggle size)")
    parser.add_argument("--data-root", type=Path, default=Path(tempfile.gettempdir()) / "h14")
    parser.add_argument("--sample", action="store_true", help="also build and compare the real sample")
    parser.add_argument("--train", action="store_true", help="trainer timings on the first scale")
    parser.add_argument("--master", default="local[*]", help="HC_SPARK_MASTER of the Spark runs")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch folder (warehouses, artifacts) to inspect or reuse, e.g. after a failed step")
    args = parser.parse_args()
    try:
        from warehouse.spark_settings import SparkUnavailableError, check_spark_available

        check_spark_available()
    except SparkUnavailableError as exc:
        print(f"bench_spark: skipped, Spark cannot run here: {exc}")
        return 0
    print(f"nproc {os.cpu_count()}, load average {load()}")
    scratch = Path(tempfile.mkdtemp(prefix="bench_spark-"))
    try:
        first = None
        if args.sample:
            if (SAMPLE / "application_train.csv").exists():
                bench_build("sample", SAMPLE, scratch, args.master)
            else:
                print(f"real sample not found at {SAMPLE} (skipped)")
        for scale in [s.strip() for s in args.scales.split(",") if s.strip()]:
            built = bench_build(f"scale {scale}", synthetic(args.data_root, scale), scratch, args.master)
            first = first or built
        if args.train and first is not None:
            bench_train(first[0], first[1], scratch, args.master)
    finally:
        if args.keep:
            print(f"scratch kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
