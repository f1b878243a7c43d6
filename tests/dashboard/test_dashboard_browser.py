"""One real browser: headless Chromium opens the running dashboard against the running API."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from dashboard_testing import APP, ROOT, free_port

from dashboard.formatting import pct

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
CHROME_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1400,1100",
]


@pytest.fixture(scope="module")
def running_dashboard(live_api, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run dashboard/app.py` on a random loopback port, pointed at the live API."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip(
            "headless Chromium is not installed (Debian: apt-get install -y chromium chromium-driver); "
            "the real-browser test is skipped"
        )
    port = free_port()
    log = tmp_path_factory.mktemp("dashboard") / "streamlit.log"
    env = {
        **__import__("os").environ,
        "HC_API_URL": live_api.url,
        "HC_API_KEY": live_api.key,
        "HC_API_TIMEOUT": "30",
    }
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--server.headless",
        "true",
        "--browser.gatherUsageStats",
        "false",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if requests.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"streamlit did not start within 60 s:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


@pytest.fixture
def browser(tmp_path: Path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")  # a fresh profile
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()


def test_browser_shows_the_decision_of_a_known_applicant(
    running_dashboard, browser, live_api, known_applicants, tmp_path
):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    applicant_id = known_applicants["grant"]
    score = live_api.get(f"/v1/applicants/{applicant_id}/score")
    expected = "Decision: GRANT" if score["decision"] == "grant" else "Decision: REFUSE"

    def body() -> str:
        return browser.find_element(By.TAG_NAME, "body").text

    browser.get(f"{running_dashboard}/?applicant_id={applicant_id}")
    WebDriverWait(browser, 90).until(lambda d: expected in body() or "not available" in body())
    text = body()
    assert expected in text, text[:2000]
    assert pct(score["probability"]) in text
    assert f"Applicant {applicant_id}" in text
    assert "Traceback" not in text
    # the gauge is drawn (plotly SVG) before the screenshot is taken
    WebDriverWait(browser, 60).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, ".js-plotly-plot svg.main-svg")
    )
    time.sleep(1.0)
    # (under pytest's temporary folder, which keeps the last runs only: a mkdtemp folder was left in /tmp by every
    # run, a client page in each)
    path = tmp_path / f"client-{applicant_id}.png"
    assert browser.save_screenshot(str(path))
    assert path.stat().st_size > 10_000
    print(f"\nscreenshot of the client page: {path}")
