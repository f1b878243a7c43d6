"""Weekly scheduling of the drift report: print (default), install or remove a cron line.

    python -m monitoring.schedule                  # print the line (Monday 06:00 UTC by default)
    python -m monitoring.schedule --install        # add it to the user's crontab (idempotent)
    python -m monitoring.schedule --remove         # take it out again

The line runs ``python -m monitoring.drift`` from the repository with absolute HC_ARTIFACTS and
HC_WAREHOUSE, on the request log of the past 7 days (falling back to the test set when the log is
empty), and appends its output to ``<HC_ARTIFACTS>/reports/drift/cron.log``.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from hc_contracts.layout import ArtifactLayout
from monitoring.settings import MonitoringSettings

MARKER = "# homecredit-scoring weekly drift report"
REPO_ROOT = Path(__file__).resolve().parents[1]
DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


def cron_line(settings: MonitoringSettings, day: str = "mon", hour: int = 6, minute: int = 0,
              python: str | None = None, repo: Path = REPO_ROOT) -> str:
    """The crontab line (cron runs it with a bare environment, so every path is absolute)."""
    if day not in DAYS:
        raise ValueError(f"day must be one of {', '.join(DAYS)}; got {day!r}")
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"hour must be 0-23 and minute 0-59; got {hour}:{minute}")
    artifacts = (repo / settings.artifacts).resolve() if not settings.artifacts.is_absolute() else settings.artifacts
    warehouse = (repo / settings.warehouse).resolve() if not settings.warehouse.is_absolute() else settings.warehouse
    log = ArtifactLayout(artifacts).drift_cron_log
    python = python or sys.executable
    command = (f"cd {shlex.quote(str(repo))} && mkdir -p {shlex.quote(str(log.parent))} && "
               f"HC_ARTIFACTS={shlex.quote(str(artifacts))} HC_WAREHOUSE={shlex.quote(str(warehouse))} "
               f"{shlex.quote(python)} -m monitoring.drift >> {shlex.quote(str(log))} 2>&1")
    return f"{minute} {hour} * * {DAYS[day]} {command} {MARKER}"


def _crontab() -> str:
    exe = shutil.which("crontab")
    if exe is None:
        raise RuntimeError("the crontab command is not available on this machine; add the printed line to "
                           "your scheduler (cron, systemd timer, CI schedule) by hand")
    return exe


def _read_crontab(exe: str) -> list[str]:
    result = subprocess.run([exe, "-l"], capture_output=True, text=True, check=False)
    if result.returncode != 0:  # "no crontab for user"
        return []
    return result.stdout.splitlines()


def _write_crontab(exe: str, lines: list[str]) -> None:
    subprocess.run([exe, "-"], input="\n".join(lines) + "\n", text=True, check=True)


def install(line: str) -> bool:
    """Add ``line`` (replacing an older drift line); returns False if it was already there."""
    exe = _crontab()
    lines = _read_crontab(exe)
    if line in lines:
        return False
    _write_crontab(exe, [entry for entry in lines if MARKER not in entry] + [line])
    return True


def remove() -> bool:
    exe = _crontab()
    lines = _read_crontab(exe)
    kept = [entry for entry in lines if MARKER not in entry]
    if len(kept) == len(lines):
        return False
    _write_crontab(exe, kept)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m monitoring.schedule", description=__doc__.split("\n\n")[0])
    parser.add_argument("--day", default="mon", choices=list(DAYS), help="day of the week (default mon)")
    parser.add_argument("--hour", type=int, default=6, help="hour, 0-23, machine time (default 6)")
    parser.add_argument("--minute", type=int, default=0, help="minute, 0-59 (default 0)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--install", action="store_true", help="add the line to the user's crontab")
    action.add_argument("--remove", action="store_true", help="remove the drift line from the crontab")
    args = parser.parse_args(argv)
    try:
        line = cron_line(MonitoringSettings(), args.day, args.hour, args.minute)
        if args.remove:
            print("removed" if remove() else "no drift line in the crontab")
        elif args.install:
            print(("installed: " if install(line) else "already installed: ") + line)
        else:
            print(line)
    except (RuntimeError, ValueError, subprocess.CalledProcessError) as exc:
        print(f"schedule: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
