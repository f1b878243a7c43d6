"""Micro-batching of new applications (api/new_applications.py): requests waiting while a build runs are
computed by one build, each gets exactly its own rows, same-id requests are never mixed and one bad
request does not fail the others."""

from __future__ import annotations

import threading
import time

import pandas as pd
import pytest

from api.new_applications import OnlineFeatures
from api.schemas.requests import NewApplication


@pytest.fixture(scope="module")
def applications(raw_data) -> list[NewApplication]:
    return [NewApplication.model_validate(raw_data.payload(i)) for i in raw_data.rich_ids(4)]


def _concurrently(online: OnlineFeatures, requests: list, build=None) -> list[object]:
    """Queue every request while the build lock is held, then let them run: they all wait together.
    ``build(request)`` runs one request (default: `online.build(request, 0)`)."""
    results: list[object] = [None] * len(requests)
    build = build or (lambda request: online.build(request, 0))

    def call(k: int) -> None:
        try:
            results[k] = build(requests[k])
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            results[k] = exc

    threads = [threading.Thread(target=call, args=(k,)) for k in range(len(requests))]
    with online._build_lock:
        for t in threads:
            t.start()
        deadline = time.monotonic() + 30
        while len(online._queue) < len(requests) and time.monotonic() < deadline:
            time.sleep(0.005)
    for t in threads:
        t.join(60)
    return results


def test_waiting_requests_share_one_build_and_get_their_own_rows(api_env, applications):
    online = OnlineFeatures(api_env.warehouse)
    alone = [online.build([app], 0) for app in applications]
    builds = online.builds
    batched = _concurrently(online, [[app] for app in applications])
    assert online.builds == builds + 1
    for got, expected, app in zip(batched, alone, applications, strict=True):
        assert isinstance(got, pd.DataFrame) and got["sk_id_curr"].tolist() == [app.SK_ID_CURR]
        pd.testing.assert_frame_equal(got, expected)


def test_same_id_requests_are_built_apart(api_env, applications):
    """Two requests posting the same SK_ID_CURR with different data: never in one build (histories mixed)."""
    online = OnlineFeatures(api_env.warehouse)
    app = applications[0]
    bigger = app.model_copy(update={"AMT_CREDIT": (app.AMT_CREDIT or 0) * 2 + 1000})
    first, second = (online.build([a], 0) for a in (app, bigger))
    builds = online.builds
    got = _concurrently(online, [[app], [bigger]])
    assert online.builds == builds + 2
    pd.testing.assert_frame_equal(got[0], first)
    pd.testing.assert_frame_equal(got[1], second)
    assert got[0]["amt_credit"].iloc[0] != got[1]["amt_credit"].iloc[0]


def test_a_failing_request_does_not_fail_the_batch(api_env, applications, monkeypatch):
    online = OnlineFeatures(api_env.warehouse)
    bad = applications[1].SK_ID_CURR
    real = online._build_now

    def build_now(apps, generation):
        if any(bad == a.SK_ID_CURR for a in apps):
            raise ValueError(f"application {bad}: a value does not fit")
        return real(apps, generation)

    monkeypatch.setattr(online, "_build_now", build_now)
    got = _concurrently(online, [[a] for a in applications])
    for result, app in zip(got, applications, strict=True):
        if bad == app.SK_ID_CURR:
            assert isinstance(result, ValueError) and str(bad) in str(result)
        else:
            assert isinstance(result, pd.DataFrame) and result["sk_id_curr"].tolist() == [app.SK_ID_CURR]


# -- batched scoring: the leader scores the batch, one model call per distinct model -------------------
class _Counting:
    """A real model whose calls are counted (rows per call); `fail` makes every call raise."""

    def __init__(self, model, fail: bool = False) -> None:
        self.model, self.fail, self.calls = model, fail, []

    def predict_proba(self, frame: pd.DataFrame):
        self.calls.append(frame["sk_id_curr"].tolist())
        if self.fail:
            raise RuntimeError("the model cannot score these rows")
        return self.model.predict_proba(frame)


@pytest.fixture(scope="module")
def served_model(api_env):
    from models_ml.registry import load_version

    return load_version((api_env.artifacts / "models" / "current").resolve())


def _scored_concurrently(online: OnlineFeatures, requests: list[tuple[list[NewApplication], object]]) -> list:
    return _concurrently(online, requests, lambda request: online.build_rows(request[0], 0, scorer=request[1]))


def test_the_batch_is_scored_by_one_model_call(api_env, applications, served_model):
    """Four requests in one build: one `predict_proba` call over their four rows, and each request gets
    the probability the model gives its row alone."""
    online = OnlineFeatures(api_env.warehouse)
    alone = [float(served_model.predict_proba(online.build([a], 0))[0]) for a in applications]
    model = _Counting(served_model)
    got = _scored_concurrently(online, [([a], model) for a in applications])
    assert len(model.calls) == 1 and sorted(model.calls[0]) == sorted(a.SK_ID_CURR for a in applications)
    for rows, app, expected in zip(got, applications, alone, strict=True):
        assert rows.ids == [app.SK_ID_CURR] and rows.frame["sk_id_curr"].tolist() == [app.SK_ID_CURR]
        assert rows.probabilities.tolist() == pytest.approx([expected], abs=1e-12)


def test_requests_of_two_models_are_scored_each_by_its_own(api_env, applications, served_model):
    """A model swap between requests: one batch, one call per model, each request scored by its model;
    a model that fails fails only its own requests."""
    online = OnlineFeatures(api_env.warehouse)
    first, broken = _Counting(served_model), _Counting(served_model, fail=True)
    got = _scored_concurrently(online, [([a], first if k % 2 == 0 else broken)
                                        for k, a in enumerate(applications)])
    assert online.builds == 1 and len(first.calls) == 1 and len(broken.calls) == 1
    assert sorted(first.calls[0]) == sorted(a.SK_ID_CURR for a in applications[0::2])
    for k, (result, app) in enumerate(zip(got, applications, strict=True)):
        if k % 2:
            assert isinstance(result, RuntimeError) and "cannot score" in str(result)
        else:
            assert result.ids == [app.SK_ID_CURR] and 0.0 <= result.probabilities[0] <= 1.0
    rows = online.build_rows([applications[0]], 0)  # no model handed: rows only
    assert rows.probabilities is None and rows.ids == [applications[0].SK_ID_CURR]


# -- the gather window (HC_API_BATCH_WINDOW_MS) ---------------------------------------------------------
def _in_thread(online: OnlineFeatures, apps: list[NewApplication], arrival=None) -> tuple[threading.Thread, list]:
    out: list[object] = []

    def call() -> None:
        try:
            out.append(online.build(apps, 0) if arrival is None else online.build_rows(apps, 0, arrival).frame)
        except Exception as exc:  # noqa: BLE001 - the test inspects it
            out.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    return thread, out


def _wait_queued(online: OnlineFeatures, n: int) -> None:
    deadline = time.monotonic() + 30
    while len(online._queue) < n and time.monotonic() < deadline:
        time.sleep(0.002)


def test_a_lone_request_is_built_without_waiting(api_env, applications, monkeypatch):
    online = OnlineFeatures(api_env.warehouse, window_seconds=60)
    waits: list[float | None] = []
    monkeypatch.setattr(online._changed, "wait", lambda timeout=None: waits.append(timeout))
    got = online.build([applications[0]], 0)
    assert got["sk_id_curr"].tolist() == [applications[0].SK_ID_CURR]
    assert waits == [] and online.builds == 1


def test_the_leader_waits_for_an_announced_request(api_env, applications):
    """A request announced (body still being read) joins the build of a leader that arrived before it."""
    online = OnlineFeatures(api_env.warehouse, window_seconds=60)
    alone = [OnlineFeatures(api_env.warehouse).build([a], 0) for a in applications[:2]]
    coming = online.announce()
    leader, first = _in_thread(online, [applications[0]])
    _wait_queued(online, 1)
    assert online.builds == 0  # the leader waits for the announced request
    follower, second = _in_thread(online, [applications[1]], coming)
    leader.join(30)
    follower.join(30)
    assert online.builds == 1
    pd.testing.assert_frame_equal(first[0], alone[0])
    pd.testing.assert_frame_equal(second[0], alone[1])
    online.answered(coming)
    assert not online._outside


def test_an_announced_request_that_fails_releases_the_leader(api_env, applications):
    """An announced request answered without being queued (e.g. 422) ends the wait: the leader builds alone
    long before the window (60 s) ends."""
    online = OnlineFeatures(api_env.warehouse, window_seconds=60)
    coming = online.announce()
    leader, got = _in_thread(online, [applications[0]])
    _wait_queued(online, 1)
    online.answered(coming)
    leader.join(30)
    assert not leader.is_alive() and online.builds == 1
    assert got[0]["sk_id_curr"].tolist() == [applications[0].SK_ID_CURR]
