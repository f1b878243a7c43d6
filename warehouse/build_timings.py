"""Where a warehouse build spends its time: dbt start-up, each model, the data tests per layer.

Read from dbt's ``run_results.json`` (each node's execution time and start) and ``manifest.json`` (which model a
data test checks); printed by ``python -m warehouse.build --timings`` and ``bench/bench_warehouse.py``.
Node times overlap when dbt runs several nodes at once (HC_DBT_THREADS), so they do not add up to the wall time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

LAYERS = (("stg_", "staging"), ("int_", "intermediate"))  # any other model: marts


@dataclass(frozen=True)
class DbtTimings:
    startup: float  # dbt start-up: imports, parsing, connection, the on-run-start hook (until the first node)
    models: list[tuple[str, float]] = field(default_factory=list)  # (model, seconds) in run order
    tests: dict[str, tuple[int, float]] = field(default_factory=dict)  # layer -> (number of tests, seconds)

    def lines(self) -> list[str]:
        models = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.models)
        tests = ", ".join(f"{layer} {n} tests {seconds:.1f} s" for layer, (n, seconds) in self.tests.items())
        return [f"dbt start-up {self.startup:.1f} s", f"models: {models}", f"data tests: {tests}"]


def layer_of(model: str) -> str:
    return next((layer for prefix, layer in LAYERS if model.startswith(prefix)), "marts")


def _started(result: dict) -> dt.datetime | None:
    for step in result.get("timing") or []:
        if step.get("started_at"):
            return dt.datetime.fromisoformat(step["started_at"].replace("Z", "+00:00"))
    return None


def dbt_timings(results: list[dict], manifest: dict, dbt_started: dt.datetime) -> DbtTimings:
    """Per-model and per-layer test times of one dbt run started at ``dbt_started`` (UTC)."""
    nodes = manifest.get("nodes", {})
    starts = [s for s in (_started(r) for r in results) if s is not None]
    startup = (min(starts) - dbt_started).total_seconds() if starts else 0.0
    models: list[tuple[str, float]] = []
    tests: dict[str, tuple[int, float]] = {}
    for result in sorted(results, key=lambda r: _started(r) or dbt_started):
        uid = str(result.get("unique_id", ""))
        seconds = float(result.get("execution_time") or 0.0)
        node = nodes.get(uid, {})
        if uid.startswith("model."):
            models.append((node.get("name", uid.rsplit(".", 1)[-1]), seconds))
        elif uid.startswith("test."):
            parents = [p.rsplit(".", 1)[-1] for p in node.get("depends_on", {}).get("nodes", []) if p.startswith("model.")]
            layer = layer_of(parents[0]) if parents else "marts"
            n, total = tests.get(layer, (0, 0.0))
            tests[layer] = (n + 1, total + seconds)
    order = ["staging", "intermediate", "marts"]
    return DbtTimings(max(startup, 0.0), models, {k: tests[k] for k in order if k in tests})
