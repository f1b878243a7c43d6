"""The build's step figures (wall, CPU, peak RSS) that `--timings` and bench/bench_warehouse.py print."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading

import pytest

from warehouse.build import PartialParseCache
from warehouse.build_timings import StepFigures, StepMeter
from warehouse.raw_gate import RawGateClosed, failed_file, ready_file, wait_for_table

_SCRIPT = textwrap.dedent("""
    import json, subprocess, sys, time
    from warehouse.build_timings import StepMeter
    meter = StepMeter()
    with meter.step("own work"):
        started = time.process_time()
        while time.process_time() - started < 0.3:
            pass
    with meter.step("a child"):  # like dbt: a process holding ~300 MiB and burning 0.3 s of CPU
        subprocess.run([sys.executable, "-c", "import time; x = bytearray(300 * 2**20); t = time.process_time()\\n"
                        "while time.process_time() - t < 0.3: x[0] = 1"], check=True)
    with meter.step("sleeping"):
        time.sleep(0.3)
    print(json.dumps({name: [f.wall, f.cpu, f.peak_rss] for name, f in meter.steps.items()}))
""")


def test_step_meter_counts_own_and_child_cpu_and_the_largest_process():
    # a fresh process, as the benchmark runs the build: its children's peak is then the step's
    out = subprocess.run([sys.executable, "-c", _SCRIPT], check=True, capture_output=True, text=True).stdout
    steps = json.loads(out)
    assert list(steps) == ["own work", "a child", "sleeping"]
    own, child, sleeping = steps.values()
    assert own[1] >= 0.3 and own[2] < 300 * 2**20
    assert child[1] >= 0.3 and child[2] >= 300 * 2**20  # the child's CPU and memory, not the parent's
    assert sleeping[0] >= 0.3 and sleeping[1] < 0.2 and sleeping[2] < 300 * 2**20


def test_step_table_has_a_total_line():
    lines = StepMeter.format({"load": StepFigures(2.0, 3.5, 2**30), "dbt build": StepFigures(4.0, 6.0, 2**31)})
    assert lines[0].split() == ["step", "wall", "s", "CPU", "s", "peak", "GiB"]
    assert lines[1].split() == ["load", "2.0", "3.5", "1.00"]
    assert lines[-1].split() == ["total", "6.0", "9.5", "2.00"]


def test_partial_parse_cache_is_kept_per_rendered_profile(tmp_path):
    env = {"HC_WAREHOUSE": "warehouse.duckdb", "HC_RAW_DB": "raw.duckdb", "HC_DUCKDB_THREADS": "2",
           "HC_DUCKDB_MEMORY_LIMIT": "3GB", "HC_DBT_THREADS": "2", "HC_RAW_DIR": "/data/a"}
    first, other_name = tmp_path / "first", tmp_path / "other"
    for target, text in ((first, "parsed for warehouse.duckdb"), (other_name, "parsed for sample.duckdb")):
        target.mkdir()
        (target / PartialParseCache.FILE).write_text(text)
    PartialParseCache(tmp_path / "cache", env).save_from(first)
    PartialParseCache(tmp_path / "cache", {**env, "HC_WAREHOUSE": "sample.duckdb"}).save_from(other_name)
    restored = tmp_path / "next"
    # the raw folder is not part of the profile: another HC_RAW_DIR reuses the same parse
    PartialParseCache(tmp_path / "cache", {**env, "HC_RAW_DIR": "/data/b"}).restore_into(restored)
    assert (restored / PartialParseCache.FILE).read_text() == "parsed for warehouse.duckdb"


def test_raw_gate_lets_dbt_use_each_raw_table_once_it_is_loaded(tmp_path):
    gate = tmp_path / "raw"
    gate.mkdir()
    opened: list[str] = []
    waiter = threading.Thread(target=lambda: (wait_for_table(gate, "bureau", poll=0.01), opened.append("bureau")))
    waiter.start()
    ready_file(gate, "application_train").touch()  # another table is ready: the bureau's models still wait
    waiter.join(0.1)
    assert opened == []
    ready_file(gate, "bureau").touch()
    waiter.join(5)
    assert opened == ["bureau"]
    wait_for_table(gate, "application_train", poll=0.01)  # ready: returns at once
    failed_file(gate).touch()
    with pytest.raises(RawGateClosed, match="did not pass validation"):
        wait_for_table(gate, "bureau_balance", poll=0.01)
    failed_file(gate).unlink()
    with pytest.raises(RawGateClosed, match="is gone"):  # the build that started dbt died: never wait forever
        wait_for_table(gate, "bureau_balance", parent=-1, poll=0.01)


def test_the_build_process_does_not_load_dbt() -> None:
    """dbt runs in its own process: the build's process only needs the gate's file names. Importing dbt's adapter
    there (for the plugin class beside them) cost ~1.2 CPU s per build on this machine."""
    code = ("import sys, warehouse.build\n"
            "print(','.join(sorted({m.split('.')[0] for m in sys.modules if m == 'dbt' or m.startswith('dbt.')})))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip() == "", f"python -m warehouse.build imports {proc.stdout.strip()}"
