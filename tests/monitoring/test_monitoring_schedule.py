"""The weekly schedule: the cron line, and idempotent install/remove through the `crontab` command."""

from __future__ import annotations

import os
import shlex
import stat
import sys
from pathlib import Path

import pytest

from monitoring import schedule
from monitoring.settings import MonitoringSettings


def test_cron_line_runs_the_drift_report_weekly_with_absolute_paths(tmp_path):
    settings = MonitoringSettings(artifacts=Path("artifacts"), warehouse=Path("data/warehouse.duckdb"))
    line = schedule.cron_line(settings, day="mon", hour=6, minute=30, python="/venv/bin/python", repo=tmp_path)
    fields = line.split(" ", 5)
    assert fields[:5] == ["30", "6", "*", "*", "1"]
    command = fields[5]
    assert f"cd {tmp_path} &&" in command
    assert f"HC_ARTIFACTS={tmp_path / 'artifacts'}" in command
    assert f"HC_WAREHOUSE={tmp_path / 'data' / 'warehouse.duckdb'}" in command
    assert "/venv/bin/python -m monitoring.drift >> " + str(tmp_path / "artifacts/reports/drift/cron.log") in command
    assert line.endswith(schedule.MARKER)
    shlex.split(command.removesuffix(schedule.MARKER))  # valid shell quoting
    with pytest.raises(ValueError, match="day must be one of"):
        schedule.cron_line(settings, day="monday")
    with pytest.raises(ValueError, match="hour must be 0-23"):
        schedule.cron_line(settings, hour=24)


@pytest.fixture
def crontab(tmp_path, monkeypatch):
    """A `crontab` command on PATH that keeps the table in a file (never the machine's real crontab)."""
    table = tmp_path / "table"
    exe = tmp_path / "bin" / "crontab"
    exe.parent.mkdir()
    exe.write_text(f"""#!{sys.executable}
import sys, pathlib
table = pathlib.Path({str(table)!r})
if sys.argv[1:] == ["-l"]:
    if not table.exists():
        sys.stderr.write("no crontab for user\\n"); sys.exit(1)
    sys.stdout.write(table.read_text())
elif sys.argv[1:] == ["-"]:
    table.write_text(sys.stdin.read())
else:
    sys.exit(2)
""")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{exe.parent}{os.pathsep}{os.environ['PATH']}")
    return table


def test_install_is_idempotent_keeps_other_lines_and_remove_undoes_it(crontab, capsys):
    crontab.write_text("15 2 * * * /usr/bin/backup\n")
    assert schedule.main(["--install", "--day", "sun", "--hour", "5"]) == 0
    assert "installed: 0 5 * * 0 " in capsys.readouterr().out
    assert schedule.main(["--install", "--day", "sun", "--hour", "5"]) == 0
    assert "already installed" in capsys.readouterr().out
    assert schedule.main(["--install", "--day", "mon", "--hour", "6"]) == 0  # replaces, never duplicates
    lines = crontab.read_text().splitlines()
    assert lines[0] == "15 2 * * * /usr/bin/backup"
    assert len(lines) == 2 and lines[1].startswith("0 6 * * 1 ")
    assert schedule.main(["--remove"]) == 0
    assert crontab.read_text().splitlines() == ["15 2 * * * /usr/bin/backup"]
    assert schedule.main(["--remove"]) == 0
    assert "no drift line" in capsys.readouterr().out


def test_without_crontab_the_error_says_what_to_do(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert schedule.main(["--install"]) == 2
    assert "crontab command is not available" in capsys.readouterr().err
    assert schedule.main([]) == 0  # printing needs no crontab
    assert "-m monitoring.drift" in capsys.readouterr().out
