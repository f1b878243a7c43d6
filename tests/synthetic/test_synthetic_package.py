"""The generator is its own package: it reads the warehouse's raw format and the API never loads it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hc_contracts import raw_format as raw_schema
from synthetic import schema

REPO = Path(__file__).resolve().parents[2]


def test_schema_is_the_warehouse_declaration() -> None:
    assert schema.TABLES == raw_schema.TABLES
    for table in raw_schema.TABLES:
        assert schema.raw_columns()[table] == list(raw_schema.columns_of(table))


def test_api_does_not_import_the_generator() -> None:
    code = (
        "import sys, api.main\n"
        "bad = sorted(m for m in sys.modules if m == 'synthetic' or m.startswith('synthetic.'))\n"
        "print(','.join(bad))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "", f"api imports the generator: {proc.stdout.strip()}"
