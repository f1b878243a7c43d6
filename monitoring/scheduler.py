"""The drift scheduler: a long-running process that runs the drift report on a weekly schedule.

    python -m monitoring.scheduler                   # HC_DRIFT_SCHEDULE, default "mon 06:00" (UTC)
    python -m monitoring.scheduler --schedule "daily 02:30"
    python -m monitoring.scheduler --once            # run one report now and exit (with its exit code)

The image's `drift-scheduler` role (compose starts it beside the API) runs this: no cron daemon in the
container. The schedule has the days of `monitoring.schedule` (sun..sat, or `daily`) and a UTC time.
Each run is ``python -m monitoring.drift`` in a child process (same settings; its memory is returned
after every run and a crash cannot take the scheduler down); the report, ``latest`` and ``index.html``
are updated by it atomically. A run missed while the stack was down is made up at start: when the last
scheduled moment passed without a report since, the report runs at once.

State: ``<HC_ARTIFACTS>/reports/drift/scheduler.json`` (``schedule``, ``next_run``, ``last_run``,
``last_exit``, ``heartbeat``), rewritten atomically at every change and every minute while waiting
(the container HEALTHCHECK reads the heartbeat). SIGTERM stops the wait at once, or after a running report.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pydantic import ValidationError

from monitoring.schedule import DAYS
from monitoring.settings import MonitoringSettings

log = logging.getLogger("monitoring.scheduler")

STATE = "scheduler.json"
HEARTBEAT_SECONDS = 60.0
# Python's weekday(): Monday is 0; DAYS (cron) has Sunday as 0
_PY_WEEKDAY = {name: (cron - 1) % 7 for name, cron in DAYS.items()}


@dataclass(frozen=True)
class Schedule:
    """A weekly (or daily) moment in UTC: `mon 06:00`, `daily 02:30`."""

    day: str  # one of DAYS, or "daily"
    hour: int
    minute: int

    @classmethod
    def parse(cls, text: str) -> Schedule:
        parts = text.strip().lower().split()
        expected = (
            f"expected '<day> HH:MM' with day one of {', '.join(DAYS)} or 'daily' and a UTC time, "
            f"e.g. 'mon 06:00'; got {text!r}"
        )
        if len(parts) != 2 or (parts[0] not in DAYS and parts[0] != "daily"):
            raise ValueError(f"HC_DRIFT_SCHEDULE: {expected}")
        hour_text, _, minute_text = parts[1].partition(":")
        if not (hour_text.isdigit() and minute_text.isdigit() and len(minute_text) == 2):
            raise ValueError(f"HC_DRIFT_SCHEDULE: {expected}")
        hour, minute = int(hour_text), int(minute_text)
        if not (0 <= hour <= 23 and 0 <= minute <= 59):
            raise ValueError(f"HC_DRIFT_SCHEDULE: hour must be 0-23 and minute 0-59; got {text!r}")
        return cls(parts[0], hour, minute)

    def __str__(self) -> str:
        return f"{self.day} {self.hour:02d}:{self.minute:02d}"

    def _matches(self, moment: datetime) -> bool:
        return self.day == "daily" or moment.weekday() == _PY_WEEKDAY[self.day]

    def next_after(self, now: datetime) -> datetime:
        """The first scheduled moment strictly after `now` (UTC)."""
        candidate = now.astimezone(UTC).replace(hour=self.hour, minute=self.minute, second=0, microsecond=0)
        for _ in range(8):
            if candidate > now and self._matches(candidate):
                return candidate
            candidate = (candidate + timedelta(days=1)).replace(hour=self.hour, minute=self.minute)
        raise AssertionError("unreachable: a weekly schedule repeats within 8 days")

    def last_at_or_before(self, now: datetime) -> datetime:
        """The latest scheduled moment not after `now`."""
        period = timedelta(days=1 if self.day == "daily" else 7)
        return self.next_after(now - period)


def run_drift_report() -> int:
    """One drift report, in a child process with this process's environment; its exit code."""
    return subprocess.run([sys.executable, "-m", "monitoring.drift"], check=False).returncode


class Scheduler:
    def __init__(
        self,
        settings: MonitoringSettings,
        schedule: Schedule,
        run: Callable[[], int] = run_drift_report,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
    ) -> None:
        self.settings = settings
        self.schedule = schedule
        self._run = run
        self._clock = clock
        self._heartbeat = heartbeat_seconds
        self.stop_event = threading.Event()
        self.state_path = settings.layout.drift_scheduler_state
        self.state: dict[str, object] = self._read_state()
        self.state["schedule"] = str(schedule)

    # -- state -------------------------------------------------------------------------------------
    def _read_state(self) -> dict[str, object]:
        try:
            state = json.loads(self.state_path.read_text(encoding="utf-8"))
            return state if isinstance(state, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write_state(self, **changes: object) -> None:
        self.state.update(changes, heartbeat=self._clock().isoformat())
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_path.with_name(f".{STATE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.state, indent=2), encoding="utf-8")
        os.replace(tmp, self.state_path)

    def last_report_time(self) -> datetime | None:
        """When the last report was made: this scheduler's record, else the `latest` report's summary."""
        recorded = self.state.get("last_run")
        if isinstance(recorded, str):
            try:
                return datetime.fromisoformat(recorded)
            except ValueError:
                pass
        summary = self.settings.drift_summary
        try:
            return datetime.fromtimestamp(summary.stat().st_mtime, UTC)
        except OSError:
            return None

    def due_at_start(self) -> bool:
        """A scheduled moment passed without a report since (the stack was down, or never ran one)."""
        last = self.last_report_time()
        return last is None or last < self.schedule.last_at_or_before(self._clock())

    # -- running -----------------------------------------------------------------------------------
    def run_once(self) -> int:
        started = self._clock()
        self._write_state(running_since=started.isoformat())
        log.info("drift report started")
        try:
            code = self._run()
        except Exception as exc:  # keep scheduling: the next week may work
            log.error("drift report could not run (%s: %s)", type(exc).__name__, exc)
            code = -1
        outcome = {
            0: "report written",
            2: "bad input (nothing written)",
            3: "no current batch (nothing written)",
        }.get(code, "failed")
        log.info("drift report finished: exit %s, %s", code, outcome)
        self.state.pop("running_since", None)
        self._write_state(last_run=started.isoformat(), last_exit=code, last_outcome=outcome)
        return code

    def wait_until(self, moment: datetime) -> bool:
        """Sleep until `moment`, writing the heartbeat; False when asked to stop meanwhile."""
        while True:
            left = (moment - self._clock()).total_seconds()
            if left <= 0:
                return True
            if self.stop_event.wait(min(left, self._heartbeat)):
                return False
            self._write_state()

    def serve(self) -> None:
        """Run until stopped: make up a missed run, then one run per scheduled moment."""
        if self.due_at_start():
            log.info(
                "the last scheduled drift report (%s) is missing: running it now",
                self.schedule.last_at_or_before(self._clock()).isoformat(),
            )
            self.run_once()
        while not self.stop_event.is_set():
            moment = self.schedule.next_after(self._clock())
            self._write_state(next_run=moment.isoformat())
            log.info("next drift report at %s (schedule %s)", moment.isoformat(), self.schedule)
            if not self.wait_until(moment):
                break
            self.run_once()
        log.info("drift scheduler stopped")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m monitoring.scheduler", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--schedule", help="'<day> HH:MM' in UTC, day sun..sat or daily (default HC_DRIFT_SCHEDULE)"
    )
    parser.add_argument("--once", action="store_true", help="run one report now and exit with its exit code")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = MonitoringSettings()
        schedule = Schedule.parse(args.schedule or settings.drift_schedule)
    except (ValueError, ValidationError) as exc:
        print(f"scheduler: error: {exc}", file=sys.stderr)
        return 2
    scheduler = Scheduler(settings, schedule)
    if args.once:
        return scheduler.run_once()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: scheduler.stop_event.set())
    scheduler.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
