"""A dbt-duckdb plugin that lets dbt use each raw table as soon as ``python -m warehouse.build`` has loaded it.

``python -m warehouse.build`` starts ``dbt build`` *while* it validates and loads HC_RAW_DIR, one DuckDB file per
Kaggle table (``<gate>/<table>.duckdb``), so dbt's start-up and the models and data tests of the tables already
loaded run beside the CSV load of the others (a DuckDB file being written cannot be read by another process, hence
one file per table). The plugin registers the SQL function ``hc_raw_gate(table)``: it returns once the build
created ``<gate>/<table>.ready`` and raises when ``<gate>/failed`` appears (the raw data did not pass validation)
or the build process is gone. The staging models' pre-hook (macro ``open_raw_table``) calls it, then attaches the
table's file and exposes it as ``raw.main.<table>``, the sources' relation.
The gate's files and the wait are in ``warehouse/raw_gate.py`` (no dbt import: the build's own process uses them).

The profile passes ``gate`` (HC_RAW_GATE, a path relative to dbt's working folder so that the rendered profile,
and thus dbt's partial parsing, is the same for every build); empty (plain ``dbt build``): the plugin does nothing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin

from warehouse.raw_gate import wait_for_table

GATE_FUNCTION = "hc_raw_gate"


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.gate = str(plugin_config.get("gate") or "")

    def configure_connection(self, conn: Any) -> None:
        if not self.gate:
            return
        gate, parent = Path(self.gate), os.getppid()

        def hc_raw_gate(table: str) -> bool:
            wait_for_table(gate, table, parent)
            return True

        conn.create_function(GATE_FUNCTION, hc_raw_gate, ["VARCHAR"], "BOOLEAN", side_effects=True)
