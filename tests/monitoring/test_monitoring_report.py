"""The Evidently report agrees with the summary's per-column tests, and the HTML carries the verdict."""

import json
from datetime import UTC, datetime

import numpy as np
import pytest

from monitoring.analysis import analyse
from monitoring.columns import ColumnSelection
from monitoring.pages import banner
from monitoring.report import build_performance_report, build_report, evidently_verdicts, save_report_html
from monitoring.settings import MonitoringSettings
from monitoring.summary import build_summary


@pytest.fixture(scope="module")
def shifted(population, kinds):
    ref = population.iloc[:3000].reset_index(drop=True)
    cur = population.iloc[3000:4500].reset_index(drop=True).copy()
    cur["amt_income_total"] *= 1.5
    cur["ext_source_2"] += 0.1
    cur.loc[:400, "amt_annuity"] = np.nan
    cur["probability"] = cur["probability"] * 1.3  # the score moves with the population
    cur.loc[cur.index[::2], "target"] = np.nan  # labels known for half of the window
    return ref, cur


def test_report_verdicts_match_the_detector_and_html_names_the_drift(shifted, kinds, tmp_path):
    ref, cur = shifted
    settings = MonitoringSettings()
    analysis = analyse(ref, cur, kinds, list(kinds), settings, threshold=0.12)
    assert analysis.prediction is not None and analysis.target is not None
    assert analysis.n_labelled == 750
    snapshot = build_report(analysis.reference, analysis.current, kinds, analysis.evidently_columns, settings,
                            prediction=True, labels=True)
    report = evidently_verdicts(snapshot)
    mine = {c.column: c.evidently.drift_detected for c in analysis.columns}
    mine["probability"] = analysis.prediction.evidently.drift_detected
    mine["target"] = analysis.target.evidently.drift_detected
    assert report == mine
    assert report["amt_income_total"] and report["ext_source_2"] and report["probability"]

    summary = build_summary(analysis, settings, created_at=datetime(2025, 3, 10, tzinfo=UTC), model_version="v1",
                            current_source="log", current_description="test frames", since=None, until=None,
                            selection=ColumnSelection(list(kinds), [], []))
    assert sorted(summary["drifted_columns"]) == ["amt_annuity", "amt_income_total", "ext_source_2"]
    assert summary["prediction_drift"]["drift_detected"] is True
    assert summary["prediction_drift"]["current_mean"] > summary["prediction_drift"]["reference_mean"]
    assert summary["performance"]["current"]["n"] == 750
    assert 0.5 < summary["performance"]["reference"]["roc_auc"] <= 1.0
    json.dumps(summary, allow_nan=False)  # strict JSON

    path = tmp_path / "report.html"
    save_report_html(snapshot, path, banner(summary))
    html = path.read_text()
    assert html.index("hc-drift") < html.index("</body>")
    assert "3 drifted column(s)" in html and "amt_annuity" in html
    assert path.stat().st_size > 100_000  # Evidently's page with its plots follows

    perf = build_performance_report(analysis.reference, analysis.current, threshold=0.12)
    names = [m["metric_name"] for m in perf.dict()["metrics"]]
    assert any(n.startswith("RocAuc") for n in names)
