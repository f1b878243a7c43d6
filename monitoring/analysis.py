"""Compare a current batch with the reference: per-column drift, prediction drift, target/performance.

Pure computation on frames (no file is read or written here), so tests drive it with frames they build.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from monitoring.columns import Kind
from monitoring.detect import ColumnDrift, DriftDetector
from monitoring.errors import EmptyBatchError, InputDataError, MissingColumnsError
from monitoring.frames import prepare, sample_rows
from monitoring.settings import MonitoringSettings

PREDICTION = "probability"
TARGET = "target"


@dataclass
class Analysis:
    columns: list[ColumnDrift]
    prediction: ColumnDrift | None
    target: ColumnDrift | None
    performance: dict[str, Any] | None
    reference: pd.DataFrame  # prepared, sampled: what was compared (and goes to Evidently)
    current: pd.DataFrame
    n_reference: int
    n_current: int
    n_labelled: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def drifted_columns(self) -> list[str]:
        return [c.column for c in self.columns if c.drifted]

    @property
    def share_drifted(self) -> float:
        return len(self.drifted_columns) / len(self.columns) if self.columns else 0.0

    @property
    def evidently_columns(self) -> list[str]:
        """Monitored columns Evidently can test (some non-missing value on both sides)."""
        return [c.column for c in self.columns if c.evidently is not None]


def _performance(target: pd.Series, probability: pd.Series, threshold: float | None) -> dict[str, Any]:
    from sklearn.metrics import brier_score_loss, roc_auc_score

    mask = target.notna() & probability.notna()
    y, p = target[mask].astype(int).to_numpy(), probability[mask].astype(float).to_numpy()
    out: dict[str, Any] = {"n": int(mask.sum()), "default_rate": float(y.mean()) if len(y) else None,
                           "mean_probability": float(p.mean()) if len(p) else None}
    out["roc_auc"] = float(roc_auc_score(y, p)) if len(np.unique(y)) == 2 else None
    out["brier"] = float(brier_score_loss(y, p, labels=[0, 1])) if len(y) else None
    if threshold is not None and len(y):
        refused = p >= threshold
        out["refusal_rate"] = float(refused.mean())
        out["missed_defaulters"] = int(((~refused) & (y == 1)).sum())
        out["refused_good_clients"] = int((refused & (y == 0)).sum())
    return out


def analyse(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: dict[str, Kind],
    columns: list[str],
    settings: MonitoringSettings,
    threshold: float | None = None,
) -> Analysis:
    """Sample, prepare and compare ``columns``; prediction drift when both frames have ``probability``;
    target and performance drift when both have ``target`` (current rows without a label are ignored there).
    """
    if current.empty:
        raise EmptyBatchError("the current batch has no rows: nothing to compare")
    if reference.empty:
        raise InputDataError("the reference has no rows: nothing to compare with")
    missing = [c for c in columns if c not in current.columns]
    if missing:
        raise MissingColumnsError(missing, "the current batch")
    missing_ref = [c for c in columns if c not in reference.columns]
    if missing_ref:
        raise MissingColumnsError(missing_ref, "the reference")

    with_prediction = PREDICTION in reference.columns and PREDICTION in current.columns \
        and current[PREDICTION].notna().any()
    with_target = TARGET in reference.columns and TARGET in current.columns and current[TARGET].notna().any()
    extra = ([PREDICTION] if with_prediction else []) + ([TARGET] if with_target else [])
    all_kinds: dict[str, Kind] = {**kinds, PREDICTION: "numeric", TARGET: "categorical"}

    ref = sample_rows(reference, settings.drift_max_rows, settings.drift_seed)
    cur = sample_rows(current, settings.drift_max_rows, settings.drift_seed + 1)
    ref_p = prepare(ref, all_kinds, [*columns, *extra])
    cur_p = prepare(cur, all_kinds, [*columns, *extra])
    if with_target:  # target values as "0"/"1" whatever their storage
        for frame in (ref_p, cur_p):
            frame[TARGET] = frame[TARGET].map(lambda v: v if pd.isna(v) else str(int(float(v))))

    detector = DriftDetector(settings)
    results = detector.compare(ref_p, cur_p, all_kinds, columns)
    prediction = None
    if with_prediction:  # rows without a probability (another model version's requests) are left out
        prediction = detector.column(ref_p[PREDICTION].dropna(), cur_p[PREDICTION].dropna(), PREDICTION, "numeric")

    target = performance = None
    n_labelled = 0
    warnings: list[str] = []
    if with_target:
        labelled = cur_p[TARGET].notna()
        n_labelled = int(labelled.sum())
        target = detector.column(ref_p[TARGET].dropna(), cur_p.loc[labelled, TARGET], TARGET, "categorical")
        if with_prediction:
            performance = {
                "reference": _performance(ref_p[TARGET].astype(float), ref_p[PREDICTION], threshold),
                "current": _performance(cur_p.loc[labelled, TARGET].astype(float),
                                        cur_p.loc[labelled, PREDICTION], threshold),
            }
    if len(current) < settings.drift_min_rows:
        warnings.append(
            f"small current batch ({len(current)} rows < {settings.drift_min_rows}): verdicts are noisy, "
            "read the PSI values rather than the flags")
    if len(reference) < settings.drift_min_rows:
        warnings.append(
            f"small reference ({len(reference)} rows < {settings.drift_min_rows}): its own sampling noise "
            "inflates PSI and Evidently scores (train with the full profile for a 5,000-row reference sample)")
    if len(current) > len(cur):
        warnings.append(f"current batch sampled: {len(cur)} of {len(current)} rows (seed {settings.drift_seed + 1})")
    if len(reference) > len(ref):
        warnings.append(f"reference sampled: {len(ref)} of {len(reference)} rows (seed {settings.drift_seed})")
    for c in results:
        if c.note:
            warnings.append(f"{c.column}: {c.note}")
    return Analysis(columns=results, prediction=prediction, target=target, performance=performance,
                    reference=ref_p, current=cur_p, n_reference=len(reference), n_current=len(current),
                    n_labelled=n_labelled, warnings=warnings)
