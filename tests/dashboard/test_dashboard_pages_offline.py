"""Every page says clearly when the API is down, slow or the input is wrong: never a traceback."""

from __future__ import annotations

import time

import pytest
from dashboard_testing import PAGES, page_text

SCORE = {
    "sk_id_curr": 5,
    "probability": 0.2,
    "decision": "refuse",
    "threshold": 0.1,
    "risk_band": "high",
    "model_version": "v1",
}


@pytest.mark.parametrize("page", sorted(PAGES))
def test_api_down_is_a_message_on_every_page(open_dashboard, monkeypatch, closed_port_url, page):
    monkeypatch.setenv("HC_API_URL", closed_port_url)
    monkeypatch.setenv("HC_API_RETRIES", "0")
    at = open_dashboard(page, applicant_id=100002)
    assert not at.exception
    assert len(at.error) == 1
    text = at.error[0].value
    assert "The scoring service is not available" in text
    assert closed_port_url in text and "cannot be reached" in text and "make api" in text


def test_slow_api_is_a_message(open_dashboard, monkeypatch, odd_server):
    odd_server.routes["/health"] = lambda h: h.send_json(200, {"status": "ok", "model_version": "slow-v1"})

    def slow(h):
        time.sleep(1.5)
        h.send_json(200, SCORE)

    odd_server.routes["/v1/applicants/5/score"] = slow
    monkeypatch.setenv("HC_API_URL", odd_server.url)
    monkeypatch.setenv("HC_API_TIMEOUT", "0.3")
    monkeypatch.setenv("HC_API_RETRIES", "0")
    at = open_dashboard("client", applicant_id=5)
    assert not at.exception
    assert [e.value for e in at.error] == [
        f"**The scoring service is not available.** The scoring service at {odd_server.url} did not answer "
        "within 0.3 s while loading the score of applicant 5. It may be busy: try again in a moment."
    ]


def test_invalid_id_is_explained_in_the_sidebar(open_dashboard, monkeypatch, closed_port_url):
    monkeypatch.setenv("HC_API_URL", closed_port_url)
    at = open_dashboard("client")
    at.sidebar.text_input(key="applicant_id").input("12ab").run()
    assert not at.exception
    assert [e.value for e in at.sidebar.error] == [
        "An applicant id is a whole number of up to 12 digits, such as 100002 (you typed '12ab')."
    ]


def test_no_id_asks_for_one(open_dashboard, odd_server, monkeypatch):
    odd_server.routes["/health"] = lambda h: h.send_json(200, {"status": "ok", "model_version": "v1"})
    monkeypatch.setenv("HC_API_URL", odd_server.url)
    at = open_dashboard("why")
    assert not at.exception
    assert "Enter an applicant id in the sidebar" in page_text(at)
    assert odd_server.hits == {"/health": 1}  # nothing else is asked without an id


def test_bad_configuration_is_named(open_dashboard, monkeypatch):
    monkeypatch.setenv("HC_API_URL", "localhost:8000")
    at = open_dashboard("model")
    assert not at.exception
    assert "configuration is invalid" in at.error[0].value
    assert "HC_API_URL" in at.error[0].value
