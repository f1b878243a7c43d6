"""The drift scheduler (the image's drift-scheduler role): schedule parsing, catch-up, the run loop."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest

from monitoring import scheduler as sched
from monitoring.settings import MonitoringSettings


def test_schedule_parses_days_and_times_and_names_the_setting_on_bad_input():
    s = sched.Schedule.parse("mon 06:00")
    sunday = datetime(2026, 11, 29, 13, 0, tzinfo=UTC)
    assert s.next_after(sunday) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert s.last_at_or_before(sunday) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    monday_six = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert s.next_after(monday_six) == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # strictly after
    assert s.last_at_or_before(monday_six) == monday_six
    daily = sched.Schedule.parse(" Daily 02:30 ")
    assert str(daily) == "daily 02:30"
    assert daily.next_after(sunday) == datetime(2026, 11, 30, 2, 30, tzinfo=UTC)
    assert sched.Schedule.parse("sun 23:59").next_after(sunday) == datetime(2026, 11, 29, 23, 59, tzinfo=UTC)
    for bad in ("monday 06:00", "mon 6", "mon 06:0", "mon", "06:00 mon"):
        with pytest.raises(ValueError, match="HC_DRIFT_SCHEDULE: expected '<day> HH:MM'"):
            sched.Schedule.parse(bad)
    with pytest.raises(ValueError, match="hour must be 0-23"):
        sched.Schedule.parse("mon 24:00")


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_scheduler_makes_up_a_missed_run_then_runs_at_each_scheduled_moment(tmp_path):
    settings = MonitoringSettings(artifacts=tmp_path / "artifacts", warehouse=tmp_path / "w.duckdb")
    clock = FakeClock(datetime(2026, 11, 29, 13, 0, tzinfo=UTC))  # a Sunday, no report yet
    runs: list[datetime] = []
    codes = iter([0, 3, 0])

    def run() -> int:
        runs.append(clock.now)
        return next(codes)

    s = sched.Scheduler(
        settings, sched.Schedule.parse("mon 06:00"), run=run, clock=clock, heartbeat_seconds=3600
    )
    beats = []

    # the waits advance the fake clock instead of sleeping (one heartbeat at most); stop after the third run
    def wait(timeout: float) -> bool:
        assert 0 < timeout <= 3600
        clock.now += timedelta(seconds=timeout)
        beats.append(clock.now)
        return len(runs) >= 3

    s.stop_event.wait = wait  # type: ignore[method-assign]
    assert s.due_at_start()
    s.serve()
    assert runs[0] == datetime(2026, 11, 29, 13, 0, tzinfo=UTC)  # made up at start
    assert runs[1:] == [datetime(2026, 11, 30, 6, 0, tzinfo=UTC), datetime(2026, 12, 7, 6, 0, tzinfo=UTC)]
    assert len(beats) == 17 + 7 * 24 + 1  # hourly heartbeats until each run, then the stop
    state = json.loads((settings.reports_dir / "scheduler.json").read_text())
    assert state["schedule"] == "mon 06:00"
    assert state["last_exit"] == 0 and state["last_outcome"] == "report written"
    assert state["next_run"] == "2026-12-14T06:00:00+00:00"
    assert datetime.fromisoformat(state["heartbeat"]) == datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # last write
    # a scheduler restarted after that run does not run again before the next Monday
    again = sched.Scheduler(settings, sched.Schedule.parse("mon 06:00"), run=run, clock=clock)
    assert not again.due_at_start()


def test_a_recent_report_is_not_redone_at_start_and_a_stop_ends_the_wait(tmp_path):
    settings = MonitoringSettings(artifacts=tmp_path / "artifacts", warehouse=tmp_path / "w.duckdb")
    latest = settings.reports_dir / "latest"
    latest.mkdir(parents=True)
    (latest / "summary.json").write_text("{}")  # written now: after last Monday 06:00
    calls = []
    s = sched.Scheduler(settings, sched.Schedule.parse("mon 06:00"), run=lambda: calls.append(1) or 0)
    assert not s.due_at_start()
    thread = threading.Thread(target=s.serve)
    thread.start()
    s.stop_event.set()
    thread.join(timeout=10)
    assert not thread.is_alive() and calls == []


def test_once_runs_the_real_drift_command_and_records_its_exit(tmp_path, monkeypatch, repo_root):
    monkeypatch.chdir(repo_root)
    monkeypatch.setenv("HC_ARTIFACTS", str(tmp_path / "artifacts"))  # no model promoted: bad input, exit 2
    monkeypatch.setenv("HC_WAREHOUSE", str(tmp_path / "absent.duckdb"))
    assert sched.main(["--once"]) == 2
    state = json.loads((tmp_path / "artifacts" / "reports" / "drift" / "scheduler.json").read_text())
    assert state["last_exit"] == 2 and state["last_outcome"] == "bad input (nothing written)"
    assert not (tmp_path / "artifacts" / "reports" / "drift" / "latest").exists()
    assert sched.main(["--schedule", "someday 06:00", "--once"]) == 2
