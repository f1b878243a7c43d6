"""How fast does a client page of the dashboard render? (target: <= 2 s)

Measures, against a running scoring API:
  1. the Streamlit script run of each page under AppTest (server-side render time), with a cold cache
     (st.cache_data cleared: every API call is made) and a warm cache (answers cached);
  2. in headless Chromium (if installed): time from opening the client page's URL to the decision text
     being shown, for a fresh browser session (cold dashboard cache) and a reload (warm).

The API is the one at --api-url (with --api-key), or one started here on a free loopback port over
HC_WAREHOUSE / HC_ARTIFACTS. Usage:
  .venv/bin/python bench/bench_dashboard.py [--api-url URL --api-key KEY] [--id SK_ID_CURR] [--repeats 5]
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
APP = ROOT / "dashboard" / "app.py"
PAGES = {
    "client": "views/client.py",
    "why": "views/why.py",
    "client_data": "views/client_data.py",
    "comparison": "views/comparison.py",
    "what_if": "views/what_if.py",
    "model": "views/model.py",
}
TARGET_S = 2.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen | None, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise SystemExit(f"{what} exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{what} did not answer at {url} within {timeout:.0f} s")


@contextmanager
def started(cmd: list[str], env: dict[str, str], health: str, what: str) -> Iterator[None]:
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_http(health, proc, what)
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@contextmanager
def api(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    if args.api_url:
        yield args.api_url.rstrip("/"), args.api_key or ""
        return
    warehouse = Path(os.environ.get("HC_WAREHOUSE", "data/warehouse.duckdb"))
    artifacts = Path(os.environ.get("HC_ARTIFACTS", "artifacts"))
    if not warehouse.exists() or not (artifacts / "models" / "current").exists():
        print(
            f"SKIPPED: no warehouse at {warehouse} or no promoted model under {artifacts}: run `make demo` "
            "first, or pass --api-url/--api-key of a running API"
        )
        raise SystemExit(0)
    port, key = free_port(), secrets.token_hex(8)
    env = {**os.environ, "HC_API_KEYS": key, "HC_WAREHOUSE": str(warehouse), "HC_ARTIFACTS": str(artifacts),
           "HC_API_ENV": os.environ.get("HC_API_ENV", "dev")}
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.main:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
    ]
    url = f"http://127.0.0.1:{port}"
    with started(cmd, env, f"{url}/health", "the API"):
        yield url, key


def pick_ids(given: int | None, n: int) -> list[int]:
    """The applicant to bench, then other applicants (for switching clients in an open page)."""
    ids = [given] if given is not None else []
    warehouse = Path(os.environ.get("HC_WAREHOUSE", "data/warehouse.duckdb"))
    if warehouse.exists():
        import duckdb

        con = duckdb.connect(str(warehouse), read_only=True)
        try:
            rows = con.execute(
                "select sk_id_curr from applicant_features where dataset = 'train' order by sk_id_curr limit ?",
                [n + 1],
            ).fetchall()
        finally:
            con.close()
        ids += [int(r[0]) for r in rows if int(r[0]) not in ids]
    if not ids:
        raise SystemExit("give --id (no warehouse to pick applicants from: set HC_WAREHOUSE)")
    return ids[: n + 1]


def summary(times: list[float]) -> str:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"median {statistics.median(times):.3f} s  p95 {p95:.3f} s  max {max(times):.3f} s  (n={len(times)})"
    )


def bench_apptest(
    url: str, key: str, applicant_id: int, repeats: int
) -> dict[str, tuple[list[float], list[float]]]:
    os.environ.update(HC_API_URL=url, HC_API_KEY=key)
    import logging

    import streamlit as st

    logging.getLogger("streamlit").setLevel(logging.ERROR)  # "no runtime" notes of AppTest
    from streamlit.testing.v1 import AppTest

    results: dict[str, tuple[list[float], list[float]]] = {}
    for name, path in PAGES.items():
        at = AppTest.from_file(str(APP), default_timeout=120)
        at.query_params["applicant_id"] = str(applicant_id)
        at.switch_page(path)
        at.run()  # warm-up: imports and AppTest's one-off component scan, not part of a page render
        if at.exception or at.error:
            raise SystemExit(f"page {name} failed: {[e.value for e in at.error] or at.exception}")
        cold, warm = [], []
        for _ in range(repeats):
            st.cache_data.clear()
            t = time.perf_counter()
            at.run()
            cold.append(time.perf_counter() - t)
            t = time.perf_counter()
            at.run()
            warm.append(time.perf_counter() - t)
        results[name] = (cold, warm)
    return results


def decision_text(url: str, key: str, applicant_id: int) -> str:
    r = requests.get(f"{url}/v1/applicants/{applicant_id}/score", headers={"X-API-Key": key}, timeout=30)
    r.raise_for_status()
    return "Decision: GRANT" if r.json()["decision"] == "grant" else "Decision: REFUSE"


def bench_browser(
    url: str, key: str, applicant_id: int, others: list[int], repeats: int
) -> tuple[list[float], list[float], list[float], list[float]] | None:
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver_path):
        print("browser: SKIPPED (install Debian's chromium and chromium-driver)")
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    text = decision_text(url, key, applicant_id)
    port = free_port()
    env = {**os.environ, "HC_API_URL": url, "HC_API_KEY": key}
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
    dash = f"http://127.0.0.1:{port}"
    fresh, reload, switch, shell = [], [], [], []
    with started(cmd, env, f"{dash}/_stcore/health", "the dashboard"):
        for i in range(repeats):
            options = webdriver.ChromeOptions()
            options.binary_location = chromium
            for flag in [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={tempfile.mkdtemp(prefix='bench-chromium-')}",
                "--window-size=1400,1000",
            ]:
                options.add_argument(flag)
            driver = webdriver.Chrome(service=Service(driver_path), options=options)
            try:
                page = f"{dash}/?applicant_id={applicant_id}"
                for bucket in (fresh, reload):
                    t = time.perf_counter()
                    driver.get(page)
                    # the app shell: Streamlit's frontend loaded and the sidebar drawn
                    WebDriverWait(driver, 60).until(
                        lambda d: d.find_elements(
                            By.CSS_SELECTOR, 'input[aria-label="Applicant id (SK_ID_CURR)"]'
                        )
                    )
                    to_shell = time.perf_counter() - t
                    WebDriverWait(driver, 60).until(
                        lambda d: text in d.find_element(By.TAG_NAME, "body").text
                    )
                    elapsed = time.perf_counter() - t
                    if i > 0 or bucket is reload:  # the very first load also warms the server's imports
                        bucket.append(elapsed)
                        if bucket is fresh:
                            shell.append(to_shell)
                    else:
                        print(f"browser: first load after server start {elapsed:.3f} s (not counted)")
                if i == 0:
                    # An officer with the dashboard open types the next client's id: time to the decision.
                    from selenium.webdriver.common.keys import Keys

                    for other in others:
                        expected = decision_text(url, key, other)
                        box = driver.find_element(
                            By.CSS_SELECTOR, 'input[aria-label="Applicant id (SK_ID_CURR)"]'
                        )
                        box.send_keys(Keys.CONTROL, "a")
                        box.send_keys(str(other))
                        t = time.perf_counter()
                        box.send_keys(Keys.ENTER)
                        WebDriverWait(driver, 60).until(
                            lambda d, o=other, e=expected: (
                                f"Applicant {o}" in (b := d.find_element(By.TAG_NAME, "body").text) and e in b
                            )
                        )
                        switch.append(time.perf_counter() - t)
            finally:
                driver.quit()
    return fresh, reload, switch, shell


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--api-url")
    parser.add_argument("--api-key")
    parser.add_argument(
        "--id", type=int, help="SK_ID_CURR of a known applicant (default: the first train id)"
    )
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    with api(args) as (url, key):
        ids = pick_ids(args.id, args.repeats)
        applicant_id, others = ids[0], ids[1:]
        print(
            f"dashboard bench: API {url}, applicant {applicant_id}, {args.repeats} repeats, target <= {TARGET_S} s"
        )
        results = bench_apptest(url, key, applicant_id, args.repeats)
        print("AppTest script run per page (server-side render, API calls included when cold):")
        for name, (cold, warm) in results.items():
            print(f"  {name:<12} cold cache: {summary(cold)}")
            print(f"  {'':<12} warm cache: {summary(warm)}")
        cold, warm = results["client"]
        print(
            f"client page: cold median {statistics.median(cold):.3f} s, warm median {statistics.median(warm):.3f} s "
            f"-> {'OK' if max(cold) <= TARGET_S else 'OVER'} the {TARGET_S} s target (worst cold run)"
        )
        if not args.no_browser:
            browser = bench_browser(url, key, applicant_id, others, args.repeats)
            if browser:
                fresh, reload, switch, shell = browser
                print(f"browser, open URL -> app shell (sidebar), new session:  {summary(shell)}")
                print(f"browser, open URL -> decision text, new browser session: {summary(fresh)}")
                print(f"browser, open URL -> decision text, reload:              {summary(reload)}")
                if switch:
                    print(f"browser, open page, type a new id -> its decision:      {summary(switch)}")


if __name__ == "__main__":
    main()
