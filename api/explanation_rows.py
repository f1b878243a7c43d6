"""The encoded rows explanations take, shared by every worker: one file per warehouse file and model.

A boosted model explains a known applicant from its row of the booster's matrix (`ScoringModel.encode_chunks`).
Converting that row from the warehouse costs more than the explanation itself: a point query of ~480 columns
on a table too large to hold in memory takes ~35 ms of CPU (SCALE=1), a take of the in-memory table ~5 ms for a
batch of 8. So the rows are encoded once per warehouse file and model, chunk by chunk, into a float64 .npy file
(row-major: one applicant is one contiguous ~4 KB read). Like the score book (`api.book_file`), the first worker
that needs it builds it under a file lock (temporary name, then an atomic rename) and the others use the same
file; usually the score book's pass writes it beside the book (`rows_beside`: the warehouse is then read once for
both) and the explanation service only opens it. Rows are read with `os.pread` (`RowFile`), not through a memory
map: the file's pages sit once in the page cache, shared by the workers, and count in no worker's resident memory
(a map of it grew each worker's RSS by ~1.3 GB over 8,000 random rows at SCALE=1: the kernel maps a file's cached
pages around each one touched).

Files: ``<dir>/rows-<digest>.npy`` and ``rows-<digest>.json`` (the categorical levels, rows and feature names;
written last, so a present .json means a complete .npy), with the digest of the warehouse file identity and the
model version. In the book folder (0700), files 0600: they hold applicants' features. A new pair removes the
older ones. When the folder cannot be written the rows are kept in this worker's memory.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

log = logging.getLogger("api.book")

if TYPE_CHECKING:
    from api.features import Generation
    from api.scoring_model import Explanation, ScoringModel

Levels = dict[str, list[str]]
Build = Callable[[Levels], Iterator[np.ndarray]]  # the rows' blocks in order; fills the levels as it goes


@runtime_checkable
class RowEncoder(Protocol):
    """A model that can encode a table's rows once and explain them by position (`models_ml.registry.ScoringModel`:
    boosted families, `encodes_rows`)."""

    encodes_rows: bool

    def encode_chunks(self, frames: Iterable[pd.DataFrame], levels: dict[str, list[str]]) -> Iterator[np.ndarray]: ...

    def encoded_rows(self, values: np.ndarray, levels: dict[str, list[str]]) -> Any: ...

    def explain_rows(self, encoded: Any, positions: Sequence[int]) -> Explanation: ...

    def predict_rows(self, encoded: Any, positions: Sequence[int]) -> np.ndarray: ...


RowsKey = tuple[str, str, tuple[int, int]]


def rows_key(model: ScoringModel, gen: Generation) -> RowsKey | None:
    """What the encoded rows of ``gen`` under ``model`` are keyed by; None when there are none to encode (not a
    boosted model, or no known applicant)."""
    if not isinstance(model, RowEncoder) or not model.encodes_rows or not gen.positions:
        return None
    return (str(model.path), model.version, gen.identity)


def rows_paths(directory: Path, identity: tuple[int, int], version: str) -> tuple[Path, Path]:
    digest = hashlib.sha256(f"rows:{identity[0]}:{identity[1]}:{version}".encode()).hexdigest()[:24]
    return directory / f"rows-{digest}.npy", directory / f"rows-{digest}.json"


class RowFile:
    """The rows of a .npy matrix read on demand: ``rows[positions]`` is those rows as an array (one `pread` per
    row; nothing mapped)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd = os.open(path, os.O_RDONLY)
        try:
            with os.fdopen(os.dup(self._fd), "rb") as handle:
                version = np.lib.format.read_magic(handle)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, fortran, dtype = read_header(handle)
                self._offset = handle.tell()
        except BaseException:
            self.close()
            raise
        if fortran or dtype != np.float64 or len(shape) != 2:
            self.close()
            raise ValueError(f"{path}: expected a C-order float64 matrix, got {dtype} {shape} (fortran={fortran})")
        self.shape: tuple[int, int] = (int(shape[0]), int(shape[1]))
        self._row_bytes = self.shape[1] * 8

    def __getitem__(self, positions: np.ndarray) -> np.ndarray:
        positions = np.atleast_1d(np.asarray(positions, dtype=np.intp))
        out = np.empty((len(positions), self.shape[1]), dtype=np.float64)
        view = memoryview(out).cast("B")
        size = self._row_bytes
        for k, position in enumerate(positions.tolist()):
            if not 0 <= position < self.shape[0]:
                raise IndexError(f"row {position} of {self.shape[0]}")
            if os.preadv(self._fd, [view[k * size : (k + 1) * size]], self._offset + position * size) != size:
                raise OSError(f"{self.path}: short read at row {position}")
        return out

    def close(self) -> None:
        fd, self._fd = self._fd, -1
        if fd >= 0:
            os.close(fd)

    def __del__(self) -> None:
        if getattr(self, "_fd", -1) >= 0:
            self.close()


def _open(matrix: Path, meta: Path, n_rows: int, names: list[str]) -> tuple[RowFile, Levels] | None:
    """The rows and their levels, or None when absent or not the expected shape (then rebuilt)."""
    try:
        info = json.loads(meta.read_text(encoding="utf-8"))
        values = RowFile(matrix)
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or info.get("rows") != n_rows or info.get("features") != names \
            or values.shape != (n_rows, len(names)):
        values.close()
        return None
    return values, {str(k): [str(v) for v in lv] for k, lv in info.get("levels", {}).items()}


def _private(n_rows: int, names: list[str], build: Build) -> tuple[np.ndarray, Levels]:
    values = np.empty((n_rows, len(names)), dtype=np.float64)
    levels: Levels = {}
    start = 0
    for block in build(levels):
        values[start : start + len(block)] = block
        start += len(block)
    _check_rows(start, n_rows)
    return values, levels


def _check_rows(got: int, expected: int) -> None:
    if got != expected:
        raise ValueError(f"the warehouse gave {got} rows to encode, {expected} expected")


class RowsWriter:
    """The rows file being written block by block (temporary names; `commit` renames them into place, `abort`
    removes them): nothing half-written is ever seen under the final names."""

    def __init__(self, matrix: Path, meta: Path, n_rows: int, names: list[str]) -> None:
        tag = uuid.uuid4().hex[:8]
        self.matrix, self.meta, self.n_rows, self.names = matrix, meta, n_rows, names
        self._tmp_matrix = matrix.with_name(f".{matrix.name}.{tag}.tmp")
        self._tmp_meta = meta.with_name(f".{meta.name}.{tag}.tmp")
        self.written = 0
        self.committed = False
        fd = os.open(self._tmp_matrix, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
        self._handle = os.fdopen(fd, "wb")
        try:
            np.lib.format.write_array_header_1_0(
                self._handle, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.float64)), "fortran_order": False,
                               "shape": (n_rows, len(names))})
        except BaseException:
            self.abort()
            raise

    def add(self, block: np.ndarray) -> None:
        self._handle.write(memoryview(np.ascontiguousarray(block, dtype=np.float64)).cast("B"))  # no copy
        self.written += len(block)

    def commit(self, levels: Levels) -> None:
        """Check the row count, write the levels, rename both files into place (the .json last: a present .json
        means a complete .npy)."""
        try:
            self._handle.close()
            _check_rows(self.written, self.n_rows)
            fd = os.open(self._tmp_meta, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump({"rows": self.n_rows, "features": self.names, "levels": levels}, handle)
            os.replace(self._tmp_matrix, self.matrix)
            os.replace(self._tmp_meta, self.meta)
            self.committed = True
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        self._handle.close()
        self._tmp_matrix.unlink(missing_ok=True)
        self._tmp_meta.unlink(missing_ok=True)


def _write(matrix: Path, meta: Path, n_rows: int, names: list[str], build: Build) -> None:
    """Write the blocks as they come (one in memory at a time), then the levels."""
    writer = RowsWriter(matrix, meta, n_rows, names)
    levels: Levels = {}
    try:
        for block in build(levels):
            writer.add(block)
    except BaseException:
        writer.abort()
        raise
    writer.commit(levels)


def _prune(directory: Path, keep: Path) -> None:
    for old in directory.glob("rows-*.npy"):
        if old != keep:
            old.with_suffix(".json").unlink(missing_ok=True)
            old.unlink(missing_ok=True)
            Path(f"{old}.lock").unlink(missing_ok=True)


def shared_rows(directory: Path, identity: tuple[int, int], version: str, n_rows: int, names: list[str],
                build: Build) -> tuple[RowFile | np.ndarray, Levels, bool]:
    """(rows, levels, shared): read from the file (built by the first caller), or in this worker's memory
    when the folder or the file cannot be written."""
    matrix, meta = rows_paths(directory, identity, version)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = os.open(f"{matrix}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    except OSError as exc:
        log.warning("explanation rows not shared: %s is not writable (%s); this worker keeps its own copy",
                    directory, exc.strerror)
        return (*_private(n_rows, names, build), False)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one worker builds, the others wait and read its file
        opened = _open(matrix, meta, n_rows, names)
        if opened is None:
            try:
                _write(matrix, meta, n_rows, names, build)
            except OSError as exc:  # e.g. a full disk: computed again, kept in this worker's memory
                log.warning("explanation rows not shared: cannot write %s (%s)", matrix, exc.strerror)
                return (*_private(n_rows, names, build), False)
            opened = _open(matrix, meta, n_rows, names)
            if opened is None:  # pragma: no cover - just written
                return (*_private(n_rows, names, build), False)
            _prune(directory, keep=matrix)
            log.info("explanation rows written to %s (%.0f MB)", matrix, matrix.stat().st_size / 1e6)
        return (*opened, True)
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)


@contextmanager
def rows_beside(directory: Path, identity: tuple[int, int], version: str, n_rows: int,
                names: list[str]) -> Iterator[RowsWriter | None]:
    """A writer for the rows file when another pass over every row (the score book's) can fill it, else None: the
    file is there already, another worker holds its lock (never waited for: that worker is writing it), or the
    folder cannot be written. The caller `add`s every block and `commit`s; leaving the block without a commit
    (an error, a generator closed early) removes what was written."""
    matrix, meta = rows_paths(directory, identity, version)
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        lock = os.open(f"{matrix}.lock", os.O_CREAT | os.O_RDWR, 0o600)
    except OSError:
        yield None
        return
    try:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield None
            return
        opened = _open(matrix, meta, n_rows, names)
        if opened is not None:
            opened[0].close()
            yield None
            return
        try:
            writer = RowsWriter(matrix, meta, n_rows, names)
        except OSError as exc:  # e.g. a full disk: the book's pass goes on without it
            log.warning("explanation rows not written beside the bulk scores: %s (%s)", matrix, exc.strerror)
            yield None
            return
        try:
            yield writer
        finally:
            if writer.committed:
                _prune(directory, keep=matrix)
                log.info("explanation rows written to %s beside the bulk scores (%.0f MB)", matrix,
                         matrix.stat().st_size / 1e6)
            else:
                writer.abort()
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)
