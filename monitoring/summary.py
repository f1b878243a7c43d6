"""The JSON summary of a drift run (keys fixed by docs/interfaces.md, plus details for reviewers)."""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from monitoring.analysis import Analysis
from monitoring.columns import ColumnSelection
from monitoring.psi import PsiBand
from monitoring.settings import MonitoringSettings

RULES = {
    "psi_and_evidently": "a column drifted when its PSI is >= 0.25, or >= 0.10 and Evidently's test "
                         "detects drift too.",
    "psi": "a column drifted when its PSI is >= 0.25.",
    "evidently": "a column drifted when Evidently's test detects drift (PSI >= 0.25 when Evidently "
                 "cannot test it).",
}
PSI_BANDS = {
    PsiBand.STABLE: ("<0.10", None, 0.10),
    PsiBand.MODERATE: ("0.10-0.25", 0.10, 0.25),
    PsiBand.SIGNIFICANT: (">=0.25", 0.25, None),
}


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python, recursively."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def build_summary(
    analysis: Analysis,
    settings: MonitoringSettings,
    *,
    created_at: datetime,
    model_version: str | None,
    current_source: str,
    current_description: str,
    since: datetime | None,
    until: datetime | None,
    selection: ColumnSelection,
    reference_source: str = "",
    reference_prediction_source: str = "",
    evidently_drifted: list[str] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    psi = {c.column: c.psi.value for c in analysis.columns}
    bands = {
        str(band): {"range": rng, "min": lo, "max": hi,
                    "columns": [c.column for c in analysis.columns if c.psi.band == band]}
        for band, (rng, lo, hi) in PSI_BANDS.items()
    }
    drifted = analysis.drifted_columns
    prediction = None
    if analysis.prediction is not None:
        p = analysis.prediction
        ref, cur = analysis.reference["probability"], analysis.current["probability"]
        prediction = {
            "column": "probability", "psi": p.psi.value, "psi_band": str(p.psi.band),
            "evidently": p.evidently.to_dict() if p.evidently else None, "drift_detected": p.drifted,
            "reference_mean": float(ref.mean()), "current_mean": float(cur.mean()),
            "reference_quantiles": {q: float(ref.quantile(q / 100)) for q in (10, 50, 90)},
            "current_quantiles": {q: float(cur.quantile(q / 100)) for q in (10, 50, 90)},
            "reference_source": reference_prediction_source,
        }
    target = None
    if analysis.target is not None:
        t = analysis.target
        ref_t = analysis.reference["target"].dropna().astype(int)
        cur_t = analysis.current["target"].dropna().astype(int)
        target = {
            "n_labelled": analysis.n_labelled, "reference_rate": float(ref_t.mean()),
            "current_rate": float(cur_t.mean()), "psi": t.psi.value, "psi_band": str(t.psi.band),
            "evidently": t.evidently.to_dict() if t.evidently else None, "drift_detected": t.drifted,
        }
    summary = {
        "created_at": iso(created_at),
        "model_version": model_version,
        "current_source": current_source,
        "current_description": current_description,
        "window": {"since": iso(since), "until": iso(until)},
        "n_reference": analysis.n_reference,
        "n_current": analysis.n_current,
        "n_reference_compared": len(analysis.reference),
        "n_current_compared": len(analysis.current),
        "columns": [c.column for c in analysis.columns],
        "drifted_columns": drifted,
        "share_drifted": analysis.share_drifted,
        "dataset_drift": bool(analysis.columns) and analysis.share_drifted >= settings.drift_share,
        "drift_share_threshold": settings.drift_share,
        "psi": psi,
        "psi_bands": bands,
        "prediction_drift": prediction,
        "target_drift": target,
        "performance": analysis.performance,
        "rule": RULES[settings.drift_rule],
        "methods": {
            "numeric": {"evidently": settings.drift_num_method, "threshold": settings.drift_num_threshold},
            "categorical": {"evidently": settings.drift_cat_method, "threshold": settings.drift_cat_threshold},
            "psi": {"numeric_bins": settings.drift_psi_bins, "min_level_share": settings.drift_psi_min_level_share,
                    "missing_bin": True},
        },
        "column_selection": selection.to_dict(settings.drift_top_n, settings.drift_max_columns),
        "column_details": {c.column: c.to_dict() for c in analysis.columns},
        "evidently_drifted_columns": evidently_drifted,
        "reference_source": reference_source,
        "sampling": {"max_rows": settings.drift_max_rows, "seed": settings.drift_seed},
        "warnings": analysis.warnings,
        **(extra or {}),
    }
    return _clean(summary)
