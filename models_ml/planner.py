"""The time budget of a training run: successive halving over the compared candidates and a tuning budget.

Every candidate is first cross-validated on a small stratified subsample (the first *rung*). Its measured
time is its cost estimate: cost grows with the rows (linearly is what the fits here show: the final
cross-validation on 307,511 rows takes 5.1x the 60,000-row comparison of the same candidate). After each
rung only the best ``1/eta`` of the candidates (and any other within one standard error of the best
business cost: not clearly dominated), as many as the remaining budget affords, go on to the next rung
with ``eta`` times the rows; the last rung is the whole comparison sample. The time of the selected model's
final cross-validation and fit on every row is reserved first. Pure functions of measured figures: the
planner's choices are tested on synthetic timings (tests/models_ml/test_models_planner.py).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

BASELINE_FAMILIES = ("dummy",)  # never selected: compared once, on the first rung, as the baseline
TAIL_SHARE = 0.08  # share of the budget kept for explanations, figures, model card and verification


@dataclass(frozen=True)
class Trial:
    """What one rung measured for one candidate."""

    key: str
    family: str
    cost: float          # out-of-fold business cost per applicant (lower is better)
    cost_se: float       # its standard error over folds
    auc: float
    seconds: float       # wall time of the candidate's k-fold cross-validation
    rows: int


@dataclass
class Budget:
    """A soft wall-clock budget (seconds) for the whole run, started when the run starts."""

    total_s: float
    started: float = field(default_factory=time.perf_counter)

    def elapsed(self) -> float:
        return time.perf_counter() - self.started

    def left(self) -> float:
        return self.total_s - self.elapsed()


def rung_sizes(n_rows: int, min_rows: int, eta: int) -> list[int]:
    """Rows of each rung, smallest first, ending with ``n_rows``: ``n_rows / eta**k`` while at least ``min_rows``.

    >>> rung_sizes(60000, 15000, 3)
    [20000, 60000]
    >>> rung_sizes(9000, 15000, 3)
    [9000]
    """
    if eta < 2:
        return [n_rows]
    sizes = [n_rows]
    while round(sizes[0] / eta) >= min_rows:
        sizes.insert(0, round(sizes[0] / eta))
    return sizes


def scaled_seconds(seconds: float, rows_from: int, rows_to: int) -> float:
    """Estimated time at ``rows_to`` rows of a fit that took ``seconds`` at ``rows_from`` rows (linear)."""
    return seconds * rows_to / max(rows_from, 1)


def ranked(trials: list[Trial]) -> list[Trial]:
    """Best first under the business cost (ties: higher AUC); the baseline families left out."""
    pool = [t for t in trials if t.family not in BASELINE_FAMILIES] or list(trials)
    return sorted(pool, key=lambda t: (t.cost, -t.auc, t.key))


def final_reserve(selected_seconds: float, compare_rows: int, n_rows: int, n_folds: int, total_s: float,
                  challenger: tuple[float, int] | None = None) -> float:
    """Seconds to keep for the selected model on every row: its k-fold cross-validation (scaled from the
    comparison), the final fit (one fold's worth of rows more than a fold fit) and the tail (explanations,
    figures, model card); with ``challenger`` (the k-fold seconds and rows of a candidate the model card fits
    once more on every row, the scorecard when it is compared but not selected), that fit too."""
    cv = scaled_seconds(selected_seconds, compare_rows, n_rows) if compare_rows < n_rows else 0.0
    fit = scaled_seconds(selected_seconds, compare_rows, n_rows) / max(n_folds - 1, 1)
    extra = scaled_seconds(challenger[0], challenger[1], n_rows) / max(n_folds - 1, 1) if challenger else 0.0
    return cv + fit + extra + TAIL_SHARE * total_s


def promote(trials: list[Trial], next_rows: int, seconds_left: float, eta: int) -> tuple[list[str], list[str]]:
    """Which candidates of a rung go on to ``next_rows`` rows, and why the others stop.

    Kept: the best ``ceil(n / eta)`` under the business cost, plus any other whose cost is within one
    standard error of the best (not dominated), at most twice that many; then, worst first, those whose
    estimated time at ``next_rows`` does not fit ``seconds_left`` are dropped. The best always goes on.
    Returns (keys kept, best first; notes on the dropped ones)."""
    order = ranked(trials)
    if not order:
        return [], []
    best = order[0]
    quota = max(1, math.ceil(len(order) / eta))
    keep = [t for i, t in enumerate(order) if i < quota or t.cost <= best.cost + best.cost_se][: 2 * quota]
    notes = [f"{t.key}: dominated at {t.rows:,} rows (cost {t.cost:.4f} vs best {best.cost:.4f} "
             f"+ 1 SE {best.cost_se:.4f})" for t in order if t not in keep]
    estimates = {t.key: scaled_seconds(t.seconds, t.rows, next_rows) for t in keep}
    while len(keep) > 1 and sum(estimates[t.key] for t in keep) > seconds_left:
        gone = keep.pop()
        notes.append(f"{gone.key}: stopped at {gone.rows:,} rows, its ~{estimates[gone.key]:.0f} s at "
                     f"{next_rows:,} rows do not fit the time budget")
    return [t.key for t in keep], notes


def tuning_trials(max_trials: int, trial_seconds: float, seconds_left: float) -> int:
    """How many tuning trials (each about ``trial_seconds``) fit in ``seconds_left``, at most ``max_trials``."""
    if max_trials <= 0 or seconds_left <= 0:
        return 0
    if trial_seconds <= 0:
        return max_trials
    return max(0, min(max_trials, int(seconds_left // trial_seconds)))
