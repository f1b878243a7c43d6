"""The Why page of a scorecard: the points each characteristic earned, adding up to the score."""

from __future__ import annotations

from dashboard_testing import page_text

SCORE = {"sk_id_curr": 5, "probability": 0.2, "decision": "refuse", "threshold": 0.1, "risk_band": "high",
         "model_version": "v1"}
CONTRIBUTIONS = [
    {"feature": "ext_source_2", "label": "External credit score 2", "value": 0.12, "shap": -40.0, "points": 35.0,
     "best_points": 75.0},
    {"feature": "days_employed", "label": "Days employed", "value": -400.0, "shap": -10.0, "points": 50.0,
     "best_points": 60.0},
    {"feature": "name_education_type", "label": "Education level", "value": "Higher education", "shap": 0.0,
     "points": 70.0, "best_points": 70.0},
]
EXPLANATION = {
    "sk_id_curr": 5, "model_version": "v1", "output_scale": "points", "base_value": 205.0, "score_points": 155.0,
    "probability": 0.2, "contributions": CONTRIBUTIONS,
    "reasons": [{"feature": "ext_source_2", "label": "External credit score 2", "value": 0.12, "shap": -40.0,
                 "direction": "increases_risk", "shortfall": 40.0, "points": 35.0, "best_points": 75.0,
                 "sentence": "External credit score 2: 0.12. This earned 35 points, 40 fewer than the best band "
                             "(75), which raises the estimated risk of default."}],
}
MODEL = {"version": "v1", "model_family": "scorecard", "threshold": 0.1, "cost_fn": 10, "cost_fp": 1}


def test_why_page_shows_the_points_of_a_scorecard(open_dashboard, odd_server, monkeypatch) -> None:
    odd_server.routes["/health"] = lambda h: h.send_json(200, {"status": "ok", "model_version": "v1"})
    odd_server.routes["/v1/applicants/5/score"] = lambda h: h.send_json(200, SCORE)
    odd_server.routes["/v1/applicants/5/explanation"] = lambda h: h.send_json(200, EXPLANATION)
    odd_server.routes["/v1/model"] = lambda h: h.send_json(200, MODEL)
    monkeypatch.setenv("HC_API_URL", odd_server.url)
    at = open_dashboard("why", applicant_id=5)
    assert not at.exception
    text = page_text(at)
    assert "The scorecard: 155 points" in text and "best possible score is 205 points" in text
    assert "This earned 35 points, 40 fewer than the best band" in text
    table = at.dataframe[0].value
    assert list(table["Points"]) == [35.0, 50.0, 70.0] and list(table["Short of the best"]) == [40.0, 10.0, 0.0]
    assert sum(table["Points"]) == 155.0
