"""A dbt-duckdb plugin that holds dbt's first connection until the raw tables are validated and loaded.

``python -m warehouse.build`` starts ``dbt build`` *while* it validates and loads HC_RAW_DIR, so dbt's start-up
(imports, parsing, compiling the hooks: single-threaded Python) runs beside DuckDB's CSV load instead of after it.
dbt opens the warehouse (and attaches the raw file) only when this plugin lets it: when the build creates
``<gate>.ready``. ``<gate>.failed`` (the raw data did not pass) or the loss of the parent process stops dbt.

The profile passes ``gate`` (HC_RAW_GATE, a path relative to dbt's working folder so that the rendered profile,
and thus dbt's partial parsing, is the same for every build); empty (plain ``dbt build``): the plugin does nothing.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

POLL_SECONDS = 0.05


class RawGateClosed(RuntimeError):
    """The build gave up before the raw tables were ready (invalid raw data, or the build stopped)."""


def ready_file(gate: Path) -> Path:
    return gate.with_name(gate.name + ".ready")


def failed_file(gate: Path) -> Path:
    return gate.with_name(gate.name + ".failed")


def wait_for_gate(gate: Path, parent: int | None = None, poll: float = POLL_SECONDS) -> None:
    """Return once ``<gate>.ready`` exists; raise ``RawGateClosed`` on ``<gate>.failed`` or when ``parent`` (the
    build process that started dbt) is gone."""
    parent = os.getppid() if parent is None else parent
    while not ready_file(gate).exists():
        if failed_file(gate).exists():
            raise RawGateClosed(f"the raw data did not pass validation ({failed_file(gate).name}); dbt stops")
        if os.getppid() != parent:
            raise RawGateClosed("the build process that started dbt is gone; dbt stops")
        time.sleep(poll)


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.gate = str(plugin_config.get("gate") or "")

    def configure_connection(self, conn: Any) -> None:  # before dbt-duckdb attaches the raw file
        if self.gate:
            wait_for_gate(Path(self.gate))
