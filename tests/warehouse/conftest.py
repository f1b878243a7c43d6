"""Fixtures of the warehouse tests: tiny fixture CSVs and warehouses built once per session."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

# tests/warehouse (no __init__.py) is put on sys.path by pytest and would shadow the package `warehouse`
# as a namespace package: the repository root must come first.
REPO_ROOT = Path(__file__).resolve().parents[2]
if sys.path[0] != str(REPO_ROOT):
    sys.path.insert(0, str(REPO_ROOT))
if "warehouse" in sys.modules and getattr(sys.modules["warehouse"], "__file__", None) is None:
    del sys.modules["warehouse"]

from wh_fixture_data import build, build_tables, write_csvs  # noqa: E402

from warehouse.build import BuildReport  # noqa: E402


@dataclass(frozen=True)
class BuiltWarehouse:
    raw_dir: Path
    path: Path
    report: BuildReport


@pytest.fixture(scope="session")
def fixture_tables():
    return build_tables(seed=0)


@pytest.fixture(scope="session")
def fixture_warehouse(tmp_path_factory, fixture_tables) -> BuiltWarehouse:
    root = tmp_path_factory.mktemp("fixture_wh")
    raw_dir = write_csvs(root / "raw", fixture_tables)
    # a dash and a space in the name: dbt attaches the file under the fixed catalog `warehouse` whatever it is called
    path = root / "home-credit warehouse.duckdb"
    return BuiltWarehouse(raw_dir, path, build(raw_dir, path))


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory, real_sample_dir) -> BuiltWarehouse:
    path = tmp_path_factory.mktemp("sample_wh") / "warehouse.duckdb"
    return BuiltWarehouse(real_sample_dir, path, build(real_sample_dir, path))
