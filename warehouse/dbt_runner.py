"""Run ``dbt`` in a subprocess and turn its results into a clear error when a model or test fails."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


class DbtBuildError(RuntimeError):
    """``dbt build`` failed: ``failures`` names each failing model / test with dbt's message."""

    def __init__(self, command: str, failures: list[str], output_tail: str,
                 failed_results: list[dict] | None = None) -> None:
        self.command = command
        self.failures = failures
        self.output_tail = output_tail
        self.failed_results = failed_results or []
        if failures:
            body = "\n".join(f"  - {f}" for f in failures)
        else:
            body = f"  (no per-node results; last dbt output below)\n{output_tail}"
        super().__init__(f"dbt {command} failed ({len(failures)} failing node(s)):\n{body}")


@dataclass(frozen=True)
class DbtResult:
    target_path: Path
    results: list[dict]

    @property
    def manifest(self) -> dict:
        return json.loads((self.target_path / "manifest.json").read_text(encoding="utf-8"))

    def warnings(self) -> list[str]:
        return [describe(r) for r in self.results if r.get("status") == "warn"]

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.get("status") == status)


def describe(result: Mapping) -> str:
    uid = result.get("unique_id", "?")
    kind, _, rest = uid.partition(".")
    name = rest.split(".", 1)[-1]
    message = " ".join(str(result.get("message") or "").split())
    if len(message) > 600:
        message = message[:600] + " ..."
    failures = result.get("failures")
    rows = f" ({failures} offending rows)" if kind == "test" and failures else ""
    return f"{kind} {name}: {result.get('status')}{rows}: {message}"


class DbtRun:
    """A ``dbt`` subprocess started by :func:`start_dbt`; its output is read (and echoed) by a thread, so the caller
    can work meanwhile. :meth:`wait` returns its :class:`DbtResult` or raises ``DbtBuildError``."""

    def __init__(self, command: str, args: list[str], env: Mapping[str, str], cwd: Path, target_path: Path,
                 echo: bool) -> None:
        self.command = command
        self.target_path = target_path
        self._tail: deque[str] = deque(maxlen=40)
        self._echo = echo
        self._proc = subprocess.Popen(args, cwd=cwd, env=dict(env), stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True, bufsize=1)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            self._tail.append(line.rstrip("\n"))
            if self._echo:
                print(line, end="", flush=True)

    def terminate(self) -> None:
        """Stop dbt (if still running) and reap it."""
        if self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._reader.join(timeout=5)

    def wait(self) -> DbtResult:
        code = self._proc.wait()
        self._reader.join()
        results_file = self.target_path / "run_results.json"
        results = json.loads(results_file.read_text(encoding="utf-8"))["results"] if results_file.exists() else []
        failed = [r for r in results if r.get("status") in ("error", "fail", "runtime error")]
        if code != 0 or failed:
            raise DbtBuildError(self.command, [describe(r) for r in failed], "\n".join(self._tail), failed)
        return DbtResult(target_path=self.target_path, results=results)


def start_dbt(
    command: str,
    *,
    project_dir: Path,
    target_path: Path,
    env: Mapping[str, str],
    extra_args: Sequence[str] = (),
    echo: bool = True,
    cwd: Path | None = None,
    module: str = "dbt.cli.main",
) -> DbtRun:
    """Start ``dbt <command>`` in a subprocess; ``.wait()`` on the result. ``module``: the command line run with
    ``python -m`` (``warehouse.dbt_main`` for the DuckDB build: dbt without its full manifest.json and teardown)."""
    args = [
        sys.executable, "-m", module, *command.split(),
        "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
        "--target-path", str(target_path), "--log-path", str(target_path / "logs"),
        # no debug log file: it goes with the temporary target folder, and writing every event costs CPU per node
        "--log-level-file", "none",
        *extra_args,
    ]
    full_env = {**os.environ, **env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", "DBT_USE_COLORS": "false"}
    return DbtRun(command, args, full_env, cwd or project_dir, target_path, echo)


def run_dbt(
    command: str,
    *,
    project_dir: Path,
    target_path: Path,
    env: Mapping[str, str],
    extra_args: Sequence[str] = (),
    echo: bool = True,
    cwd: Path | None = None,
) -> DbtResult:
    """Run ``dbt <command>``; raise ``DbtBuildError`` naming the failing nodes on failure."""
    return start_dbt(command, project_dir=project_dir, target_path=target_path, env=env, extra_args=extra_args,
                     echo=echo, cwd=cwd).wait()
