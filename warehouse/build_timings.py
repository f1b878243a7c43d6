"""Where a warehouse build spends its time and memory: each step (wall, CPU, peak RSS), then inside dbt its
start-up, each model and the data tests per layer.

:class:`StepMeter` measures the build's steps: wall seconds, CPU seconds (user + system of the build process and of
the processes it waited for, e.g. dbt: the figure a loaded machine changes least) and the peak resident memory of
the largest process during the step (the build process's own peak is reset at each step where Linux allows it).

Read from dbt's ``run_results.json`` (each node's execution time and start) and ``manifest.json`` (which model a
data test checks); printed by ``python -m warehouse.build --timings`` and ``bench/bench_warehouse.py``.
Node times overlap when dbt runs several nodes at once (HC_DBT_THREADS), so they do not add up to the wall time.
"""

from __future__ import annotations

import datetime as dt
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class StepFigures:
    wall: float  # seconds
    cpu: float  # user + system seconds of the build process and its finished children
    peak_rss: int  # bytes: the largest process of the step (build process or a child such as dbt)


def _cpu() -> tuple[float, float, int]:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime, children.ru_maxrss * 1024


def _reset_own_peak() -> bool:
    try:  # "5" resets the peak RSS (VmHWM) of this process (Linux >= 4.0)
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def _own_peak() -> int:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class StepMeter:
    """``with meter.step("load"): ...`` records the step's :class:`StepFigures` in ``meter.steps`` (in order)."""

    def __init__(self) -> None:
        self.steps: dict[str, StepFigures] = {}

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        _reset_own_peak()
        own0, children0, child_peak0 = _cpu()
        started = time.perf_counter()
        try:
            yield
        finally:
            own1, children1, child_peak1 = _cpu()
            child_peak = child_peak1 if child_peak1 > child_peak0 else 0  # a child of this step set a new peak
            self.steps[name] = StepFigures(time.perf_counter() - started, (own1 - own0) + (children1 - children0),
                                           max(_own_peak(), child_peak))

    @property
    def walls(self) -> dict[str, float]:
        return {name: figures.wall for name, figures in self.steps.items()}

    @staticmethod
    def format(steps: dict[str, StepFigures]) -> list[str]:
        """A table: one line per step, then the total (the peak is the largest of the steps')."""
        if not steps:
            return []
        total = StepFigures(sum(f.wall for f in steps.values()), sum(f.cpu for f in steps.values()),
                            max(f.peak_rss for f in steps.values()))
        rows = [f"{'step':24s} {'wall s':>7s} {'CPU s':>7s} {'peak GiB':>9s}"]
        rows += [f"{name:24s} {f.wall:7.1f} {f.cpu:7.1f} {f.peak_rss / 2**30:9.2f}"
                 for name, f in [*steps.items(), ("total", total)]]
        return rows


LAYERS = (("stg_", "staging"), ("int_", "intermediate"))  # any other model: marts


@dataclass(frozen=True)
class DbtTimings:
    startup: float  # from dbt_started (the build: when dbt was launched, beside the load) until the first node
    models: list[tuple[str, float]] = field(default_factory=list)  # (model, seconds) in run order
    tests: dict[str, tuple[int, float]] = field(default_factory=dict)  # layer -> (number of tests, seconds)

    def lines(self) -> list[str]:
        models = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in self.models)
        tests = ", ".join(f"{layer} {n} tests {seconds:.1f} s" for layer, (n, seconds) in self.tests.items())
        return [f"dbt start-up (beside the CSV load) {self.startup:.1f} s",
                f"models (a staging model's time includes the wait for its raw table): {models}",
                f"data tests: {tests}"]


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
