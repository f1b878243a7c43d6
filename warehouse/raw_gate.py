"""The gate between ``python -m warehouse.build`` and the dbt it starts beside its load: one file per raw table
(``<gate>/<table>.ready``) once the table is loaded, ``<gate>/failed`` when the raw data did not pass. The build
creates them; dbt's plugin (``warehouse/dbt_raw_gate.py``) waits on them. Kept apart from the plugin so that the
build's process does not import dbt (its adapter modules cost ~1.2 CPU s per build)."""

from __future__ import annotations

import os
import time
from pathlib import Path

POLL_SECONDS = 0.05


class RawGateClosed(RuntimeError):
    """The build gave up before the raw tables were ready (invalid raw data, or the build stopped)."""


def ready_file(gate: Path, table: str) -> Path:
    """Created by the build once ``<gate>/<table>.duckdb`` (``raw_validation.table_file``) is loaded, checked and
    closed."""
    return gate / f"{table}.ready"


def failed_file(gate: Path) -> Path:
    return gate / "failed"


def wait_for_table(gate: Path, table: str, parent: int | None = None, poll: float = POLL_SECONDS) -> None:
    """Return once ``table`` is loaded; raise ``RawGateClosed`` on ``<gate>/failed`` or when ``parent`` (the build
    process that started dbt) is gone."""
    parent = os.getppid() if parent is None else parent
    while not ready_file(gate, table).exists():
        if failed_file(gate).exists():
            raise RawGateClosed(f"the raw data did not pass validation ({failed_file(gate)}); dbt stops")
        if os.getppid() != parent:
            raise RawGateClosed("the build process that started dbt is gone; dbt stops")
        time.sleep(poll)
