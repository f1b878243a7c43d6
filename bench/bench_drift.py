"""Benchmark of `python -m monitoring.drift` on a wide, large window (target: <= 60 s on 2 cores).

Builds, in a temporary folder, an artifacts tree in the documented layout: a model version whose
metadata lists N features (numeric, categorical, boolean; global importance decreasing) with a
reference sample of R rows, and a request log of C rows over 7 days (with a few shifted columns).
Then times the whole drift run (read log + reference, select columns, sample, PSI + Evidently
tests, Evidently HTML, summary, atomic write) and prints wall/CPU time, phases and peak memory.

    python bench/bench_drift.py                        # 50,000 rows x 300 features, defaults
    python bench/bench_drift.py --rows 50000 --features 300 --max-columns 60 --max-rows 20000
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

VERSION = "20250101T000000Z-bench000"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_frame(n: int, n_features: int, seed: int, shift: bool) -> tuple[pd.DataFrame, dict[str, str]]:
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {}
    kinds: dict[str, str] = {}
    n_cat, n_bool = n_features // 10, n_features // 10
    for i in range(n_features - n_cat - n_bool):
        values = rng.lognormal(0, 1, n) if i % 3 == 0 else rng.normal(0, 1, n)
        if i % 4 == 0:
            values[rng.random(n) < 0.3] = np.nan
        if shift and i in (0, 7):
            values = values * 1.5
        cols[f"num_{i:03d}"] = values
        kinds[f"num_{i:03d}"] = "numeric"
    levels = np.array([f"level_{k}" for k in range(12)], dtype=object)
    for i in range(n_cat):
        values = levels[rng.integers(0, 12, n)]
        if shift and i == 0:
            values = values.copy()
            values[rng.random(n) < 0.15] = "new_level"
        cols[f"cat_{i:03d}"] = values
        kinds[f"cat_{i:03d}"] = "categorical"
    for i in range(n_bool):
        cols[f"flag_{i:03d}"] = rng.random(n) < 0.3
        kinds[f"flag_{i:03d}"] = "boolean"
    frame = pd.DataFrame(cols)
    frame["probability"] = rng.beta(2, 18, n) * (1.2 if shift else 1.0)
    return frame, kinds


def build_artifacts(root: Path, rows: int, ref_rows: int, n_features: int) -> Path:
    artifacts = root / "artifacts"
    reference, kinds = make_frame(ref_rows, n_features, seed=1, shift=False)
    reference["target"] = (np.random.default_rng(2).random(ref_rows) < reference["probability"]).astype(int)
    folder = artifacts / "models" / VERSION
    folder.mkdir(parents=True)
    names = list(kinds)
    importance = [names[i] for i in np.random.default_rng(3).permutation(len(names))]
    shifted = ["num_000", "num_007", "cat_000"]  # among the monitored columns, so the report must name them
    importance = shifted + [f for f in importance if f not in shifted]
    metadata = {"version": VERSION, "threshold": 0.1, "features": [{"name": n, "type": kinds[n]} for n in names],
                "global_importance": [{"feature": f, "mean_abs_shap": 1.0 / (i + 1)} for i, f in enumerate(importance)]}
    (folder / "metadata.json").write_text(json.dumps(metadata))
    reference.to_parquet(folder / "reference_sample.parquet", index=False)
    (artifacts / "models" / "current").symlink_to(VERSION)

    current, _ = make_frame(rows, n_features, seed=4, shift=True)
    start = datetime(2025, 3, 3, tzinfo=UTC)
    current.insert(0, "logged_at", [start + timedelta(seconds=int(s)) for s in np.linspace(0, 7 * 86400 - 1, rows)])
    current.insert(1, "model_version", VERSION)
    current.insert(2, "endpoint", "/v1/score/batch")
    current.insert(3, "applicant_hash", [f"{i:032x}" for i in range(rows)])
    current.insert(5, "decision", np.where(current["probability"] >= 0.1, "refuse", "grant"))
    for day, part in current.groupby(current["logged_at"].map(lambda t: t.strftime("%Y-%m-%d"))):
        out = artifacts / "request_log" / f"date={day}"
        out.mkdir(parents=True)
        part.to_parquet(out / "part-0.parquet", index=False)
    return artifacts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=50_000, help="current (request log) rows")
    parser.add_argument("--reference-rows", type=int, default=50_000, help="reference sample rows")
    parser.add_argument("--features", type=int, default=300)
    parser.add_argument("--max-columns", type=int, default=60)
    parser.add_argument("--max-rows", type=int, default=20_000)
    args = parser.parse_args()

    t0 = time.perf_counter()
    import evidently.legacy.calculations.stattests  # noqa: F401  (import cost reported apart)
    from evidently import Report  # noqa: F401

    from monitoring import drift
    from monitoring.settings import MonitoringSettings

    import_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="bench-drift-") as tmp:
        t0 = time.perf_counter()
        artifacts = build_artifacts(Path(tmp), args.rows, args.reference_rows, args.features)
        build_s = time.perf_counter() - t0
        mem_before = peak_mb()
        # the synthetic names are not Kaggle application fields, so all monitored columns come from the
        # importance ranking (top_n = cap); in the project half of them are raw application columns
        settings = MonitoringSettings(artifacts=artifacts, warehouse=Path(tmp) / "none.duckdb",
                                      drift_top_n=args.max_columns, drift_max_columns=args.max_columns,
                                      drift_max_rows=args.max_rows)
        phases: dict[str, float] = {}
        originals = {name: getattr(drift, name) for name in ("analyse", "build_report", "save_report_html")}

        def timed(name):
            def wrapper(*a, **k):
                t = time.perf_counter()
                try:
                    return originals[name](*a, **k)
                finally:
                    phases[name] = phases.get(name, 0.0) + time.perf_counter() - t
            return wrapper

        for name in originals:
            setattr(drift, name, timed(name))
        cpu0, t0 = time.process_time(), time.perf_counter()
        folder = drift.run(settings, current="log", since="2025-03-03", until="2025-03-09")
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        summary = json.loads((folder / "summary.json").read_text())
        html_mb = (folder / "report.html").stat().st_size / 1e6

    print(f"drift benchmark: {args.rows:,} current rows x {args.features} features "
          f"(reference {args.reference_rows:,} rows), cap {args.max_columns} columns, sample {args.max_rows:,} rows")
    print(f"  import evidently + monitoring: {import_s:6.1f} s   (data generation: {build_s:.1f} s, not counted)")
    print(f"  drift run (wall):              {wall:6.1f} s   target <= 60 s")
    print(f"  drift run (CPU):               {cpu:6.1f} s")
    other = wall - sum(phases.values())
    print("  phases: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()) + f", read/select/write {other:.1f} s")
    print(f"  peak RSS: {peak_mb():.0f} MB (after generating the data: {mem_before:.0f} MB)")
    print(f"  report.html {html_mb:.1f} MB; {len(summary['columns'])} columns monitored, drifted: "
          f"{summary['drifted_columns']}; prediction PSI {summary['prediction_drift']['psi']:.3f}")


if __name__ == "__main__":
    main()
