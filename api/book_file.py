"""The bulk score book shared by every worker: one memory-mapped Arrow file per warehouse file and model.

The book is the probability of every known applicant plus the model's features of every row as Arrow
columns (the request log takes rows from it). Under gunicorn each worker would otherwise compute and
hold its own copy; instead the first worker that needs a book computes it (the others wait on a file
lock), writes it as an uncompressed Arrow IPC file (temporary name, then an atomic rename) and every
worker maps that file read-only: the pages sit once in the page cache and are shared by all workers.

Files: ``<dir>/book-<digest>.arrow``, the digest of the warehouse file identity (inode, mtime) and the
model version. The folder is created 0700 and the files 0600 (they hold applicants' features). A new
book removes the older ones: a worker still serving an old one keeps its mapping (unlinking a mapped
file is safe on POSIX). When the folder cannot be written the caller keeps the book in its own memory.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa

log = logging.getLogger("api.book")

PROBABILITY = "__probability"

Built = tuple[np.ndarray, pa.Table]  # probabilities and the features of the same rows


def book_path(directory: Path, identity: tuple[int, int], version: str) -> Path:
    digest = hashlib.sha256(f"{identity[0]}:{identity[1]}:{version}".encode()).hexdigest()[:24]
    return directory / f"book-{digest}.arrow"


def _open(path: Path, n_rows: int, names: list[str]) -> pa.Table | None:
    """The mapped book, or None when absent or not the expected shape (then it is rebuilt)."""
    try:
        table = pa.ipc.open_file(pa.memory_map(str(path), "r")).read_all()
    except (OSError, pa.ArrowInvalid):
        return None
    if table.num_rows != n_rows or table.column_names != [*names, PROBABILITY]:
        return None
    return table


def _with_probability(probabilities: np.ndarray, features: pa.Table) -> pa.Table:
    return features.append_column(PROBABILITY, pa.chunked_array([np.asarray(probabilities, dtype=np.float64)],
                                                                type=pa.float64()))


def _write(path: Path, chunks: Iterable[Built]) -> None:
    """Write the chunks as they come (one chunk in memory at a time, never the whole book)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            writer = None
            try:
                for probabilities, features in chunks:
                    table = _with_probability(probabilities, features)
                    if writer is None:
                        writer = pa.ipc.new_file(handle, table.schema)
                    writer.write_table(table)
            finally:
                if writer is not None:
                    writer.close()
            if writer is None:
                raise ValueError("the score book has no chunk (not even an empty one)")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _collect(chunks: Iterable[Built]) -> Built:
    """The whole book in this process's memory (the fallback when no file can be written)."""
    parts = list(chunks)
    if not parts:
        raise ValueError("the score book has no chunk (not even an empty one)")
    return np.concatenate([p for p, _ in parts]), pa.concat_tables([f for _, f in parts])


def _prune(directory: Path, keep: Path) -> None:
    for old in directory.glob("book-*.arrow"):
        if old != keep:
            old.unlink(missing_ok=True)
            Path(f"{old}.lock").unlink(missing_ok=True)


def _split(table: pa.Table) -> Built:
    column = table.column(PROBABILITY)
    chunk = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
    probabilities = chunk.to_numpy(zero_copy_only=False)
    return probabilities, table.drop_columns([PROBABILITY])


def shared_book(
    directory: Path,
    identity: tuple[int, int],
    version: str,
    n_rows: int,
    names: list[str],
    build: Callable[[], Iterable[Built]],
) -> tuple[Built, bool]:
    """(probabilities, features) and whether they are shared (mapped from the file) or private.

    ``build()`` gives the book chunk by chunk (each chunk's probabilities and features, rows in order, at
    least one chunk, possibly empty): the chunks are written to the file as they come."""
    path = book_path(directory, identity, version)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = os.open(f"{path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        log.warning(
            "score book not shared: %s is not writable (%s); this worker keeps its own copy",
            directory,
            exc.strerror,
        )
        return _collect(build()), False
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker builds, the others wait and map its file
        table = _open(path, n_rows, names)
        if table is None:
            try:
                _write(path, build())
            except OSError as exc:  # e.g. a full disk: computed again, kept in this worker's memory
                log.warning("score book not shared: cannot write %s (%s)", path, exc.strerror)
                return _collect(build()), False
            table = _open(path, n_rows, names)
            if table is None:  # pragma: no cover - just written
                return _collect(build()), False
            _prune(directory, keep=path)
            log.info("score book written to %s (%.1f MB)", path, path.stat().st_size / 1e6)
        return _split(table), True
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)
