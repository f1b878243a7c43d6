"""Cost of MLflow tracking on a training run, and of an unreachable tracking server.

    python bench/bench_tracking.py [--warehouse W] [--profile fast|full] [--families dummy,lightgbm]

The warehouse defaults to HC_WAREHOUSE (after `make demo`). Trains three times into temporary artifacts
folders: tracking off (HC_TRACKING=false), tracking into the embedded file store, and tracking towards a
dead server (MLFLOW_TRACKING_URI=http://127.0.0.1:9). Prints the wall time of each run and the seconds
spent in MLflow calls. Target: tracking adds a few seconds, a dead server adds no retries (< 10 s).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from models_ml import track  # noqa: E402
from models_ml.settings import ModelSettings  # noqa: E402
from models_ml.train import run_training  # noqa: E402


def _train(settings: ModelSettings, env: dict[str, str | None]) -> tuple[float, float]:
    saved = {k: os.environ.get(k) for k in env}
    for key, value in env.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    seconds: list[float] = []
    original_exit = track.TrainingRun.__exit__

    def spy(self: track.TrainingRun, *args: object) -> None:
        original_exit(self, *args)  # type: ignore[arg-type]
        seconds.append(self.seconds)

    track.TrainingRun.__exit__ = spy  # type: ignore[method-assign]
    try:
        t0 = time.perf_counter()
        run_training(settings)
        return time.perf_counter() - t0, seconds[0] if seconds else 0.0
    finally:
        track.TrainingRun.__exit__ = original_exit  # type: ignore[method-assign]
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--warehouse", type=Path, default=Path(os.environ.get("HC_WAREHOUSE", "data/warehouse.duckdb"))
    )
    p.add_argument("--profile", choices=["fast", "full"], default="fast")
    p.add_argument("--families", default="dummy,logistic_regression,lightgbm")
    args = p.parse_args()
    if not args.warehouse.is_file():
        print(f"no warehouse at {args.warehouse}: run `make demo` or pass --warehouse", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s %(message)s")
    import mlflow  # noqa: F401 - imported once up front so that no run pays for the import

    cases = [
        ("tracking off", {"HC_TRACKING": "false", "MLFLOW_TRACKING_URI": None}),
        ("file store $HC_ARTIFACTS/mlruns", {"HC_TRACKING": None, "MLFLOW_TRACKING_URI": None}),
        (
            "dead server http://127.0.0.1:9",
            {"HC_TRACKING": None, "MLFLOW_TRACKING_URI": "http://127.0.0.1:9"},
        ),
    ]
    print(
        f"warehouse {args.warehouse}, profile {args.profile}, families {args.families}, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(prefix="hc-bench-tracking-") as tmp:
        for i, (name, env) in enumerate(cases):
            settings = ModelSettings(
                warehouse=args.warehouse,
                artifacts=Path(tmp) / f"a{i}",
                train_profile=args.profile,
                families=args.families,
            )
            total, tracked = _train(settings, env)
            print(f"{name:34s} training {total:6.1f} s   in MLflow calls {tracked:5.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
