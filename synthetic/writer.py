"""Atomic, refusing-to-clobber output of a generated data set.

Everything is written into a staging folder inside the destination, then renamed into place in one
quick step at the end. The marker ``.hc-synthetic`` identifies folders this generator owns; a folder
holding Kaggle CSVs without it (e.g. a real download) is never written to.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from synthetic.frame import INTEGRAL_KEY
from synthetic.schema import GROUND_TRUTH_FILE, MARKER_FILE, TABLES, csv_name

STAGING_PREFIX = ".hc-synthetic-staging-"


class OutputError(Exception):
    """The destination folder cannot be used (not ours, not writable, not a folder)."""


def check_destination(out_dir: Path) -> None:
    """Raise OutputError unless ``out_dir`` can receive a generated data set."""
    if out_dir.exists() and not out_dir.is_dir():
        raise OutputError(f"--out {out_dir}: exists and is not a folder")
    if out_dir.is_dir():
        present = [csv_name(t) for t in TABLES if (out_dir / csv_name(t)).exists()]
        if present and not (out_dir / MARKER_FILE).exists():
            raise OutputError(
                f"--out {out_dir}: holds {', '.join(present)} but no {MARKER_FILE} marker, so this data was "
                "not written by the generator (e.g. a real Kaggle download). Refusing to overwrite it: "
                "choose another folder (--out / HC_RAW_DIR) or move those files away."
            )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".hc-write-test-"):
            pass
    except OSError as exc:
        raise OutputError(f"--out {out_dir}: cannot write there ({exc.strerror or exc})") from exc


class PartWriter:
    """Formats Arrow tables into headerless CSV part files with DuckDB, in one background thread
    (outside the GIL, so it overlaps the generation of the next chunk; one thread keeps the order).
    Each generating process has its own; the DuckDB connection opens at the first write."""

    def __init__(self, threads: int = 2) -> None:
        self.threads = threads
        self._con: duckdb.DuckDBPyConnection | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hc-synthetic-writer")
        self._pending: list[Future[None]] = []
        #: CPU seconds of the writer thread per kind of part (the part file's name before its suffix)
        self.cpu: dict[str, float] = {}

    def write(self, table: pa.Table, part: Path) -> None:
        """Write ``table`` into the new file ``part``, asynchronously."""
        still = []
        for f in self._pending:
            if f.done():
                f.result()  # re-raise a writer error early
            else:
                still.append(f)
        self._pending = still
        if len(self._pending) >= 8:  # bound the memory held by queued chunks
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._copy, table, part))

    def _connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = duckdb.connect()
            self._con.execute(f"SET threads = {int(self.threads)}")
            self._con.execute("SET preserve_insertion_order = true")
            self._con.execute("SET enable_progress_bar = false")
        return self._con

    def _copy(self, table: pa.Table, part: Path) -> None:
        start = time.thread_time()
        try:
            self._format(table, part)
        finally:
            kind = part.name.split(".")[0]
            self.cpu[kind] = self.cpu.get(kind, 0.0) + time.thread_time() - start

    def _format(self, table: pa.Table, part: Path) -> None:
        con = self._connection()
        view = f"chunk_{abs(hash(part.name))}"
        meta = table.schema.metadata or {}
        integral = set(meta.get(INTEGRAL_KEY.encode(), b"").decode().split(",")) - {""}
        select = ", ".join(
            f'CAST("{c}" AS BIGINT)::VARCHAR || \'.0\' AS "{c}"' if c in integral else f'"{c}"'
            for c in table.column_names
        )
        con.register(view, table)
        try:
            con.execute(
                f"COPY (SELECT {select} FROM {view}) TO '{part.as_posix()}' (FORMAT csv, HEADER false, NULL '')"
            )
        finally:
            con.unregister(view)

    def flush(self) -> None:
        """Wait for every queued table (re-raising a writer error)."""
        for f in self._pending:
            f.result()
        self._pending = []

    def close(self, cancel: bool = False) -> None:
        try:
            if cancel:
                self._pool.shutdown(wait=True, cancel_futures=True)
            else:
                self.flush()
                self._pool.shutdown()
        finally:
            if self._con is not None:
                self._con.close()
                self._con = None


class DatasetWriter:
    """Streams table chunks to CSV part files in a staging folder; ``commit`` swaps them into place."""

    def __init__(self, out_dir: Path, threads: int = 2) -> None:
        self.out_dir = out_dir
        check_destination(out_dir)
        for stale in out_dir.glob(f"{STAGING_PREFIX}*"):
            shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted run of ours
        self.staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=out_dir))
        self._parts: dict[str, list[Path]] = {}
        self._headers: dict[str, str] = {}
        self.threads = threads
        self._writer = PartWriter(threads)
        self.cpu = self._writer.cpu
        self._assembled: dict[str, Future[Path]] = {}
        self._assembler: ThreadPoolExecutor | None = None

    def write_chunk(self, name: str, table: pa.Table) -> None:
        """Append rows to the file ``name`` (e.g. ``bureau.csv``), asynchronously."""
        self.declare(name, table.column_names)
        parts = self._parts[name]
        if not table.num_rows:
            return
        part = self.staging / f"{name}.part{len(parts):05d}"
        parts.append(part)
        self._writer.write(table, part)

    def add_part(self, name: str, part: Path) -> None:
        """Append a part file written by another process (headerless CSV in the staging folder)."""
        self._parts[name].append(part)

    def flush(self) -> None:
        """Wait for every queued chunk (re-raising a writer error)."""
        self._writer.flush()

    def declare(self, name: str, columns: list[str]) -> None:
        """Make sure ``name`` is written (header only) even if it never gets a row."""
        self._headers.setdefault(name, ",".join(_quote_header(c) for c in columns) + "\n")
        self._parts.setdefault(name, [])

    def _assemble(self, name: str) -> Path:
        final = self.staging / name
        with final.open("wb") as out:
            out.write(self._headers[name].encode())
            out.flush()
            for part in self._parts[name]:
                with part.open("rb") as src:
                    _copy_file(src.fileno(), out.fileno(), part.stat().st_size)
                part.unlink()
        return final

    def assemble_early(self, names: list[str]) -> None:
        """Start joining the parts of files that are complete (no more chunks will come) in a
        background thread (a kernel copy), while other files are still being written."""
        if self._assembler is None:
            self._assembler = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hc-synthetic-assemble")
        for name in names:
            self._assembled[name] = self._assembler.submit(self._assemble, name)

    def _stop_assembler(self) -> None:
        if self._assembler is not None:
            self._assembler.shutdown(wait=True, cancel_futures=True)

    def commit(self, marker: dict[str, Any]) -> None:
        """Assemble every file, then move them into the destination (marker first, completed last)."""
        self._writer.close()
        files = {
            name: self._assembled[name].result() if name in self._assembled else self._assemble(name)
            for name in self._parts
        }
        self._stop_assembler()
        marker_path = self.out_dir / MARKER_FILE
        _write_json_atomic(marker_path, {**marker, "complete": False})
        for name, path in files.items():
            os.replace(path, self.out_dir / name)
        _write_json_atomic(marker_path, {**marker, "complete": True})
        shutil.rmtree(self.staging, ignore_errors=True)

    def abort(self) -> None:
        try:
            self._stop_assembler()
            self._writer.close(cancel=True)
        finally:
            shutil.rmtree(self.staging, ignore_errors=True)


def _copy_file(src: int, dst: int, size: int) -> None:
    """Append ``size`` bytes of ``src`` to ``dst`` (in the kernel where possible)."""
    done = 0
    while done < size:
        try:
            n = os.copy_file_range(src, dst, size - done)
        except OSError:
            n = os.sendfile(dst, src, None, size - done)
        if n == 0:
            break
        done += n
    if done != size:
        raise OSError(f"short copy: {done} of {size} bytes")


def _quote_header(name: str) -> str:
    return f'"{name}"' if any(ch in name for ch in ',"\n') else name


def _write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


__all__ = ["GROUND_TRUTH_FILE", "DatasetWriter", "OutputError", "PartWriter", "check_destination"]
