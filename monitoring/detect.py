"""Per-column drift verdicts: Evidently's statistical test plus the PSI, combined by a documented rule.

The Evidently test is the very one its ``ValueDrift``/``DataDriftPreset`` metrics run (same registry,
same method and threshold, same cleaning: infinities and missing values dropped), called directly so
that verdicts do not pay for Evidently's HTML rendering. The HTML report is built separately with the
same settings (``monitoring.report``), and a test checks both agree.

Rule ``psi_and_evidently`` (the default), chosen from the false-alarm measurements in
docs/monitoring.md: a column drifted when its PSI is significant (>= 0.25), or when its PSI is at least
moderate (>= 0.10) *and* Evidently's test detects drift. Evidently's distance tests alone are noisy on
small windows (many alarms on columns with mostly missing values or rare flags); PSI alone misses
nothing Evidently cannot see (missing values, new levels) since those have their own bins.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from monitoring.columns import Kind
from monitoring.psi import SIGNIFICANT_FROM, STABLE_BELOW, PsiResult, column_psi
from monitoring.settings import MonitoringSettings


@dataclass(frozen=True)
class EvidentlyTest:
    method: str
    score: float
    threshold: float
    drift_detected: bool

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "score": self.score, "threshold": self.threshold,
                "drift_detected": self.drift_detected}


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    kind: Kind
    psi: PsiResult
    evidently: EvidentlyTest | None
    drifted: bool
    missing_reference: float
    missing_current: float
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "psi": self.psi.value,
            "psi_band": str(self.psi.band),
            "psi_top_bin": self.psi.top_bin(),
            "evidently": self.evidently.to_dict() if self.evidently else None,
            "drifted": self.drifted,
            "missing_share_reference": self.missing_reference,
            "missing_share_current": self.missing_current,
            **({"note": self.note} if self.note else {}),
        }


def _column_type(kind: Kind):
    from evidently.legacy.core import ColumnType

    return ColumnType.Numerical if kind == "numeric" else ColumnType.Categorical


def _clean(values: pd.Series) -> pd.Series:
    return values.replace([-np.inf, np.inf], np.nan).dropna()


class DriftDetector:
    """Compares one reference column with one current column (both prepared by ``monitoring.frames``)."""

    def __init__(self, settings: MonitoringSettings) -> None:
        self.settings = settings

    def method_for(self, kind: Kind) -> tuple[str, float]:
        s = self.settings
        if kind == "numeric":
            return s.drift_num_method, s.drift_num_threshold
        return s.drift_cat_method, s.drift_cat_threshold

    def evidently_test(self, reference: pd.Series, current: pd.Series, kind: Kind) -> EvidentlyTest | None:
        """Evidently's per-column test; None when one side has no non-missing value left."""
        from evidently.legacy.calculations.stattests.registry import get_stattest

        ref, cur = _clean(reference), _clean(current)
        if ref.empty or cur.empty:
            return None
        method, threshold = self.method_for(kind)
        column_type = _column_type(kind)
        test = get_stattest(ref, cur, column_type, method)
        result = test(ref, cur, column_type, threshold)
        return EvidentlyTest(method=test.display_name, score=float(result.drift_score),
                             threshold=float(result.actual_threshold), drift_detected=bool(result.drifted))

    def decide(self, psi: float, evidently: EvidentlyTest | None) -> bool:
        rule = self.settings.drift_rule
        if rule == "psi" or evidently is None:
            return psi >= SIGNIFICANT_FROM
        if rule == "evidently":
            return evidently.drift_detected
        return psi >= SIGNIFICANT_FROM or (psi >= STABLE_BELOW and evidently.drift_detected)

    def column(self, reference: pd.Series, current: pd.Series, name: str, kind: Kind) -> ColumnDrift:
        s = self.settings
        psi = column_psi(reference, current, kind, n_bins=s.drift_psi_bins,
                         min_level_share=s.drift_psi_min_level_share)
        evidently = self.evidently_test(reference, current, kind)
        note = ""
        if evidently is None:
            side = "current batch" if _clean(current).empty else "reference"
            note = f"every {side} value is missing: Evidently cannot test it, the PSI decides"
        return ColumnDrift(
            column=name, kind=kind, psi=psi, evidently=evidently, drifted=self.decide(psi.value, evidently),
            missing_reference=float(reference.isna().mean()), missing_current=float(current.isna().mean()),
            note=note,
        )

    def compare(
        self, reference: pd.DataFrame, current: pd.DataFrame, kinds: dict[str, Kind], columns: list[str]
    ) -> list[ColumnDrift]:
        return [self.column(reference[c], current[c], c, kinds[c]) for c in columns]
