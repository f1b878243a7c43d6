"""The Evidently report: data drift per monitored column, prediction drift, target/performance drift.

Evidently 0.7 API: ``Report([...]).run(current_data=..., reference_data=...)`` returns a snapshot with
``save_html``/``dict()``. Column types are declared (never guessed) through a ``DataDefinition``; the
drift methods and thresholds are the ones of ``MonitoringSettings`` so that the HTML and the
summary's verdicts (``monitoring.detect``) come from the same tests.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from monitoring.columns import Kind
from monitoring.settings import MonitoringSettings

PREDICTION = "probability"
TARGET = "target"


def build_report(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    kinds: dict[str, Kind],
    columns: list[str],
    settings: MonitoringSettings,
    prediction: bool,
    labels: bool,
) -> Any:
    """Run the drift report (data drift per column, prediction and target drift); return its snapshot.

    ``reference``/``current`` hold the prepared ``columns`` (see ``monitoring.frames``), plus
    ``probability`` when ``prediction`` and ``target`` when ``labels`` (missing labels are skipped).
    Every column must have some non-missing value on both sides (Evidently refuses empty columns).
    """
    from evidently import DataDefinition, Dataset, Report
    from evidently.metrics import ValueDrift
    from evidently.presets import DataDriftPreset

    numeric = [c for c in columns if kinds[c] == "numeric"]
    categorical = [c for c in columns if kinds[c] != "numeric"]
    metrics: list[Any] = [
        DataDriftPreset(
            columns=columns,
            num_method=settings.drift_num_method,
            cat_method=settings.drift_cat_method,
            num_threshold=settings.drift_num_threshold,
            cat_threshold=settings.drift_cat_threshold,
            drift_share=settings.drift_share,
        )
    ]
    if prediction:
        numeric = [*numeric, PREDICTION]
        metrics.append(ValueDrift(column=PREDICTION, method=settings.drift_num_method,
                                  threshold=settings.drift_num_threshold))
    if labels:
        categorical = [*categorical, TARGET]
        metrics.append(ValueDrift(column=TARGET, method=settings.drift_cat_method,
                                  threshold=settings.drift_cat_threshold))

    def dataset(frame: pd.DataFrame) -> Any:
        definition = DataDefinition(numerical_columns=numeric, categorical_columns=categorical)
        return Dataset.from_pandas(frame[[*numeric, *categorical]], data_definition=definition)

    return Report(metrics, include_tests=True).run(current_data=dataset(current), reference_data=dataset(reference))


def build_performance_report(reference: pd.DataFrame, current: pd.DataFrame, threshold: float | None) -> Any:
    """Classification quality of the score (reference: out-of-fold) vs the labelled current rows."""
    from evidently import BinaryClassification, DataDefinition, Dataset, Report
    from evidently.presets import ClassificationPreset

    def dataset(frame: pd.DataFrame) -> Any:
        frame = frame.loc[frame[TARGET].notna(), [TARGET, PREDICTION]].copy()
        frame[TARGET] = frame[TARGET].astype(float).astype(int)
        definition = DataDefinition(
            numerical_columns=[PREDICTION], categorical_columns=[TARGET],
            classification=[BinaryClassification(target=TARGET, prediction_probas=PREDICTION, pos_label=1)])
        return Dataset.from_pandas(frame, data_definition=definition)

    report = Report([ClassificationPreset(probas_threshold=threshold)], include_tests=True)
    return report.run(current_data=dataset(current), reference_data=dataset(reference))


def evidently_verdicts(snapshot: Any) -> dict[str, bool]:
    """``{column: drift detected}`` as the report's own per-column drift tests state it."""
    verdicts: dict[str, bool] = {}
    for test in snapshot.dict().get("tests", []):
        params = (test.get("metric_config") or {}).get("params") or {}
        if params.get("type", "").endswith("ValueDrift") and "column" in params:
            verdicts[params["column"]] = str(test.get("status")).upper().endswith("FAIL")
    return verdicts


def save_report_html(snapshot: Any, path: Path, banner_html: str) -> None:
    """Write Evidently's HTML with our summary banner inserted at the top of the body."""
    snapshot.save_html(str(path))
    html = path.read_text(encoding="utf-8")
    at = html.find("<body>")
    cut = at + len("<body>") if at >= 0 else 0
    html = html[:cut] + banner_html + html[cut:]
    path.write_text(html, encoding="utf-8")
