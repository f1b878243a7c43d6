"""Every page against the real API: the values shown are the API's values, formatted for people."""

from __future__ import annotations

import pytest
from dashboard_testing import page_text

from dashboard import whatif
from dashboard.compare import feature_view, sentences
from dashboard.formatting import format_value, in_words, number, pct
from dashboard.schemas import Applicant, FeatureComparison


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _no_failure(at) -> None:
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


@pytest.mark.parametrize("kind", ["grant", "refuse"])
def test_client_page_shows_the_api_decision(open_dashboard, dashboard_env, known_applicants, kind):
    if kind not in known_applicants:
        pytest.skip(f"no applicant the model would {kind} among the first train ids")
    applicant_id = known_applicants[kind]
    score = dashboard_env.get(f"/v1/applicants/{applicant_id}/score")
    model = dashboard_env.get("/v1/model")
    at = open_dashboard("client", applicant_id=applicant_id)
    _no_failure(at)
    text = page_text(at)
    assert f"Applicant {applicant_id}" in text
    headline = "Decision: GRANT" if kind == "grant" else "Decision: REFUSE"
    assert score["decision"] == kind
    assert headline in text
    assert ("✔ " + headline if kind == "grant" else "✖ " + headline) in text  # an icon, not only a colour
    metrics = _metrics(at)
    assert metrics["Probability of default"] == pct(score["probability"])
    assert metrics["Decision threshold"] == pct(model["threshold"]) == pct(score["threshold"])
    assert score["risk_band"] in metrics["Risk band"]
    # the gauge carries a text alternative naming the same figures and every band
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    assert f"drawn as a white arc from 0, is {pct(score['probability'])}" in text
    for band in model["risk_bands"]:
        assert band["name"] in text
    assert score["model_version"] in text


def test_why_page_shows_the_explanation(open_dashboard, dashboard_env, known_applicants):
    applicant_id = known_applicants.get("refuse", known_applicants["grant"])
    expl = dashboard_env.get(f"/v1/applicants/{applicant_id}/explanation")
    score = dashboard_env.get(f"/v1/applicants/{applicant_id}/score")
    at = open_dashboard("why", applicant_id=applicant_id)
    _no_failure(at)
    text = page_text(at)
    assert len(at.get("plotly_chart")) == 1  # the waterfall
    for reason in expl["reasons"]:
        mark = "▲" if reason["direction"] == "increases_risk" else "▼"
        assert f"{mark} {reason['sentence']}" in text
    assert "What the score is, and what it is not" in text
    assert f"{in_words(score['probability'])} would be expected to default" in text
    # the chart's words name the biggest factor
    top = max(expl["contributions"], key=lambda c: abs(c["shap"]))
    assert top["label"] in text


def test_client_data_page_groups_with_labels_and_units(open_dashboard, dashboard_env, known_applicants):
    applicant_id = known_applicants["grant"]
    profile = dashboard_env.get(f"/v1/applicants/{applicant_id}")
    at = open_dashboard("client_data", applicant_id=applicant_id)
    _no_failure(at)
    groups = {g["name"]: g for g in profile["groups"]}
    assert sorted(s.value for s in at.subheader) == sorted(groups)
    assert len(at.table) == len(groups)
    # two columns of groups: each subheader is followed by its table, in the page's own order
    for heading, table in zip(at.subheader, at.table, strict=True):
        group = groups[heading.value]
        shown = dict(zip(table.value.index, table.value["Value"], strict=True))
        assert list(shown) == [f["label"] for f in group["fields"]]
        for field in group["fields"]:
            assert shown[field["label"]] == format_value(field["value"], field["unit"])
    ages = [f for g in profile["groups"] for f in g["fields"] if f["name"] == "days_birth"]
    if ages and ages[0]["value"] is not None:
        assert f"{number(ages[0]['value'], 1)} years" in page_text(at)  # years, not negative days
    assert "past client" in page_text(at) or "new application" in page_text(at)


def test_client_data_of_a_new_application(open_dashboard, dashboard_env, known_applicants):
    if "test" not in known_applicants:
        pytest.skip("no test-set applicant in the warehouse")
    at = open_dashboard("client_data", applicant_id=known_applicants["test"])
    _no_failure(at)
    assert "new application" in page_text(at)


def test_comparison_page_places_the_client(open_dashboard, dashboard_env, known_applicants):
    applicant_id = known_applicants["grant"]
    model = dashboard_env.get("/v1/model")
    at = open_dashboard("comparison", applicant_id=applicant_id)
    _no_failure(at)
    features = [f["name"] for f in model["features"]]
    default = [i["feature"] for i in model["global_importance"] if i["feature"] in features][:3]
    assert at.multiselect(key="compare_features").value == default
    # the officer picks income and a categorical feature
    picked = [n for n in ("amt_income_total", "name_income_type") if n in features]
    at.multiselect(key="compare_features").set_value(picked).run()
    _no_failure(at)
    body = dashboard_env.get(f"/v1/applicants/{applicant_id}/comparison", features=",".join(picked))
    profile = Applicant.model_validate(dashboard_env.get(f"/v1/applicants/{applicant_id}"))
    units = {f.name: f.unit for g in profile.groups for f in g.fields}
    labels = {f.name: f.label for g in profile.groups for f in g.fields}
    text = page_text(at)
    assert len(at.get("plotly_chart")) == len(picked)
    for item in body["features"]:
        view = feature_view(
            FeatureComparison.model_validate(item), units.get(item["feature"]), labels.get(item["feature"])
        )
        assert view.label in [s.value for s in at.subheader]
        assert "  \n".join(sentences(view)) in text
    income = next((i for i in body["features"] if i["feature"] == "amt_income_total"), None)
    if income is not None and income["client_percentile"] is not None:
        assert f"{pct(income['client_percentile'], 0)} have a lower value than this client" in text
        assert (
            f"This client: **{format_value(income['client_value'], units.get('amt_income_total'))}**" in text
        )


@pytest.mark.parametrize("kind", ["grant", "refuse"])
def test_what_if_rescores_through_the_api(open_dashboard, dashboard_env, known_applicants, kind):
    if kind not in known_applicants:
        pytest.skip(f"no applicant the model would {kind} among the first train ids")
    applicant_id = known_applicants[kind]
    at = open_dashboard("what_if", applicant_id=applicant_id)
    _no_failure(at)
    profile = Applicant.model_validate(dashboard_env.get(f"/v1/applicants/{applicant_id}"))
    current = whatif.current_values(profile)
    assert at.number_input(key="whatif-AMT_INCOME_TOTAL").value == current["AMT_INCOME_TOTAL"]
    new_income, new_credit = 25_000.0, (current["AMT_CREDIT"] or 100_000.0) * 3
    at.number_input(key="whatif-AMT_INCOME_TOTAL").set_value(new_income)
    at.number_input(key="whatif-AMT_CREDIT").set_value(new_credit)
    at.button[0].click().run()
    _no_failure(at)
    values = {**current, "AMT_INCOME_TOTAL": new_income, "AMT_CREDIT": new_credit}
    body = whatif.changes(values, current)
    assert set(body) == {"AMT_INCOME_TOTAL", "AMT_CREDIT"}  # only what the officer changed
    result = dashboard_env.post(f"/v1/applicants/{applicant_id}/what-if", body)
    official = dashboard_env.get(f"/v1/applicants/{applicant_id}/score")
    changed = result["scenario"]
    assert result["official"]["probability"] == pytest.approx(official["probability"], abs=1e-12)
    metrics = _metrics(at)
    assert metrics["Official score"] == pct(official["probability"])
    assert metrics["With the changes"] == pct(changed["probability"])

    def words(decision: str) -> str:
        return "✔ GRANT" if decision == "grant" else "✖ REFUSE"

    text = page_text(at)
    assert (
        f"now {words(official['decision'])} ({pct(official['probability'])}) → with the changes "
        f"{words(changed['decision'])} ({pct(changed['probability'])})"
    ) in text
    stays = changed["decision"] == official["decision"]
    assert ("the decision would stay the same" if stays else "the decision would change") in text
    # the features the changes moved are listed with their labels (income feeds several ratios)
    moved = {c["label"] for c in result["feature_changes"]}
    assert len(moved) >= 2 and all(label in text for label in moved)
    assert len(at.get("plotly_chart")) == 1


def test_what_if_without_change_is_the_official_score(open_dashboard, dashboard_env, known_applicants):
    applicant_id = known_applicants["grant"]
    at = open_dashboard("what_if", applicant_id=applicant_id)
    at.button[0].click().run()
    _no_failure(at)
    assert "No amount differs from the client's file" in at.info[0].value
    official = dashboard_env.get(f"/v1/applicants/{applicant_id}/score")
    metrics = _metrics(at)
    assert metrics["Official score"] == metrics["With the changes"] == pct(official["probability"])
    assert "What the model sees differently" not in page_text(at)


def test_what_if_invalid_values_are_explained(open_dashboard, dashboard_env, known_applicants):
    at = open_dashboard("what_if", applicant_id=known_applicants["grant"])
    at.number_input(key="whatif-AMT_INCOME_TOTAL").set_value(-5.0)
    credit = at.number_input(key="whatif-AMT_CREDIT").value
    at.number_input(key="whatif-AMT_ANNUITY").set_value(credit * 2)
    at.button[0].click().run()
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert "Some values cannot be scored" in message
    assert "Annual income: must be greater than 0 (you entered -5)" in message
    assert (
        f"Loan annuity ({number(credit * 2)}) cannot be larger than the credit amount ({number(credit)})"
        in message
    )
    assert not at.metric  # nothing was scored


def test_model_page_summarises_the_model(open_dashboard, dashboard_env):
    model = dashboard_env.get("/v1/model")
    at = open_dashboard("model")
    _no_failure(at)
    text = page_text(at)
    assert f"Model version **{model['version']}**" in text
    assert _metrics(at)["Decision threshold"] == pct(model["threshold"])
    assert f"cost = {number(model['cost_fn'])} × (defaulters granted) + {number(model['cost_fp'])}" in text
    metrics = at.table[0].value
    assert metrics.loc["ROC AUC", "Value"].startswith(number(model["metrics"]["roc_auc"], 4))
    assert "Limits: what to keep in mind" in text
    assert f"about {pct(1 - model['metrics']['recall'], 0)} of past defaulters" in text
    assert len(at.get("plotly_chart")) == 1  # global importance
    import requests

    drift = requests.get(
        f"{dashboard_env.url}/v1/monitoring/drift/latest",
        headers={"X-API-Key": dashboard_env.key},
        timeout=30,
    )
    if drift.status_code == 404:
        assert "No drift report has been produced yet" in text
    else:
        assert "Share of drifted columns" in text or "drift verdict" in text


@pytest.mark.parametrize("page", ["client", "why", "client_data", "comparison", "what_if"])
def test_unknown_applicant_is_a_clear_message(open_dashboard, dashboard_env, known_applicants, page):
    unknown = known_applicants["unknown"]
    at = open_dashboard(page, applicant_id=unknown)
    assert not at.exception
    assert [w.value for w in at.warning] == [
        f"**Not found.** No applicant with id {unknown} is known to the scoring service. "
        "Check the number on the application file."
    ]


@pytest.mark.parametrize(("key", "status"), [(None, 401), ("not-a-valid-key", 403)])
def test_missing_or_wrong_key_is_a_clear_message(
    open_dashboard, dashboard_env, known_applicants, monkeypatch, key, status
):
    if key is None:
        monkeypatch.delenv("HC_API_KEY")
    else:
        monkeypatch.setenv("HC_API_KEY", key)
    at = open_dashboard("client", applicant_id=known_applicants["grant"])
    assert not at.exception
    assert len(at.error) == 1
    message = at.error[0].value
    assert message.startswith("**The dashboard is not allowed to use the scoring service.**")
    assert f"HTTP {status}" in message and "HC_API_KEY" in message
    if key:
        assert key not in message
