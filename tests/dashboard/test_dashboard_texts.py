"""Chart texts, comparison sentences and the model page's words, from hand-made API answers."""

from __future__ import annotations

import pytest

from dashboard import charts, modelcard
from dashboard.compare import feature_view, quantile_rows, sentences
from dashboard.schemas import DriftSummary, Explanation, FeatureComparison, ModelInfo, RiskBand

BANDS = [RiskBand(name="low", lower=0.0, upper=0.1), RiskBand(name="high", lower=0.1, upper=1.0)]


def _explanation(base: float, shaps: list[float], probability: float) -> Explanation:
    return Explanation.model_validate(
        {
            "sk_id_curr": 1,
            "model_version": "v",
            "base_value": base,
            "probability": probability,
            "contributions": [
                {"feature": f"f{i}", "label": f"Factor {i}", "value": i, "shap": s}
                for i, s in enumerate(shaps)
            ],
            "reasons": [],
        }
    )


def test_gauge_alt_names_probability_band_and_threshold():
    chart = charts.risk_gauge(0.23, 0.1, BANDS, "high")
    assert "is 23.0 % in risk band 'high' (2 of 2, 1 = lowest risk)" in chart.alt
    assert "threshold, drawn as a thick black line, is 10.0 %" in chart.alt
    assert "low from 0 % to 10 %, high from 10 % to 100 %" in chart.alt


def test_waterfall_on_the_probability_scale_adds_up():
    expl = _explanation(0.10, [0.05, -0.02, 0.01] + [0.001] * 12, probability=0.152)
    scale = charts.waterfall_scale(expl)
    assert scale.probability_like and scale.matches_probability
    chart = charts.waterfall(expl, top_k=3)
    wf = chart.figure.data[0]
    assert list(wf.measure) == ["absolute", "relative", "relative", "relative", "relative", "total"]
    assert wf.y[-2] == "12 other factors together"
    assert "Factor 0 = 0 (+5.0 pts)" in chart.alt and "Factor 1 = 1 (-2.0 pts)" in chart.alt
    assert "This client's score: 15.2 %." in chart.alt


def test_waterfall_says_when_the_bars_are_before_calibration_or_log_odds():
    assert charts.waterfall_scale(_explanation(0.08, [-0.07], probability=0.005)).name == (
        "model's score before calibration"
    )
    log_odds = charts.waterfall_scale(_explanation(-2.4, [0.5, 0.3], probability=0.17))
    assert not log_odds.probability_like and log_odds.name == "model's internal score (log-odds)"


def test_day_counts_are_compared_in_years():
    fc = FeatureComparison.model_validate(
        {
            "feature": "days_birth",
            "label": "Age",
            "kind": "numeric",
            "client_value": -14_610.0,
            "client_percentile": 0.25,
            "all": {
                "quantiles": {"p05": -25_000.0, "p50": -15_000.0, "p95": -8_000.0},
                "histogram": {"edges": [-29_220.0, -14_610.0, -7_305.0], "counts": [30, 10]},
            },
            "similar": {
                "quantiles": {},
                "histogram": {"edges": [-29_220.0, -14_610.0, -7_305.0], "counts": [1, 3]},
                "k": 4,
                "default_rate": 0.25,
            },
        }
    )
    view = feature_view(fc, unit_hint="years", label_hint="Age")
    assert view.unit == "years" and view.client_value == pytest.approx(40.0)
    assert view.percentile == pytest.approx(0.75)  # 25 % had a lower day count = 75 % are younger
    hist = view.groups["all"].histogram
    assert hist.edges == pytest.approx((20.0, 40.0, 80.0)) and hist.counts == (10, 30)
    lines = sentences(view)
    assert lines[0] == "This client: **40 years**."
    assert "Among all clients, 75 % have a lower value than this client; the median is 41.1 years." in lines
    assert "Of the 4 clients most similar to this one (with a known outcome), 25.0 % defaulted." in lines
    assert [r["Quantile"] for r in quantile_rows(view)] == ["5 %", "50 %", "95 %"]


def test_categorical_sentences_give_the_share_of_the_clients_category():
    fc = FeatureComparison.model_validate(
        {
            "feature": "name_income_type",
            "label": "Income type",
            "kind": "categorical",
            "client_value": "Pensioner",
            "all": {"histogram": {"categories": ["Working", "Pensioner"], "counts": [3, 1]}},
            "defaulters": {"histogram": {"categories": ["Working", "Pensioner"], "counts": [1, 1]}},
        }
    )
    lines = sentences(feature_view(fc))
    assert "'Pensioner' is the case for 25 % of all clients, 50 % of clients who defaulted." in lines


def test_model_words():
    model = ModelInfo.model_validate(
        {
            "version": "v1",
            "threshold": 0.12,
            "cost_fn": 10,
            "cost_fp": 1,
            "metrics": {
                "roc_auc": 0.7612,
                "roc_auc_std": 0.01,
                "recall": 0.8,
                "precision": 0.3,
                "approval_rate": 0.7,
                "roc_auc_folds": [0.7, 0.8],
            },
            "model_card_summary": "# Card\n\n## Limits and possible improvements\n- Trained on one country.\n",
        }
    )
    rule = modelcard.decision_rule(model)
    assert "refused when that probability reaches 12.0 %" in rule
    assert "cost = 10 × (defaulters granted) + 1 × (good clients refused)" in rule
    rows = {r["Metric"]: r["Value"] for r in modelcard.metric_rows(model.metrics)}
    assert rows == {
        "ROC AUC": "0.7612 (± 0.01 across folds)",
        "Defaulters refused": "80.0 %",
        "Refusals that were defaulters": "30.0 %",
        "Approval rate": "70.0 %",
    }
    limits = modelcard.limits(model)
    assert limits[0].startswith("At this threshold about 20 % of past defaulters")
    assert limits[1].startswith("About 70 % of the clients it refuses")
    assert limits[-1] == "Trained on one country."
    assert modelcard.demote_headings("# A\n## B") == "#### A\n##### B"


def test_drift_words():
    drift = DriftSummary.model_validate(
        {
            "created_at": "2026-01-01T00:00:00Z",
            "model_version": "v1",
            "window": {"since": "a", "until": "b"},
            "n_reference": 5000,
            "n_current": 50,
            "columns": ["x", "y"],
            "drifted_columns": ["x"],
            "share_drifted": 0.5,
            "dataset_drift": True,
            "psi": {"x": 0.3, "y": 0.05},
            "prediction_drift": {
                "psi": 0.12,
                "drift_detected": False,
                "reference_mean": 0.08,
                "current_mean": 0.1,
            },
        }
    )
    lines = modelcard.drift_sentences(drift)
    assert lines[0].startswith("▲ **Drift detected:**")
    assert "Caution: only 50 recent rows were compared, too few for a firm conclusion." in lines
    assert "Share of drifted columns: **50 %** of 2 columns checked." in lines
    assert (
        "Predictions: the average predicted probability of default moved from 8.0 % to 10.0 %; "
        "PSI 0.12 (▲ moderate); no drift detected."
    ) in lines
    assert modelcard.psi_rows(drift) == [
        {"Feature": "X", "PSI": "0.3", "Stability": "▲▲ significant"},
        {"Feature": "Y", "PSI": "0.05", "Stability": "● stable"},
    ]


def test_percent_units_of_the_profile_are_shares_in_the_comparison():
    fc = FeatureComparison.model_validate(
        {
            "feature": "inst_late_share",
            "kind": "numeric",
            "client_value": 0.25,
            "client_percentile": 0.9,
            "all": {"quantiles": {"p50": 0.05}, "histogram": {"edges": [0.0, 0.5, 1.0], "counts": [9, 1]}},
        }
    )
    view = feature_view(fc, unit_hint="%", label_hint="Share of instalments paid late")
    assert view.client_text == "25 %"
    assert "Among all clients, 90 % have a lower value than this client; the median is 5 %." in sentences(
        view
    )
