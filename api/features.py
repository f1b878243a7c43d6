"""Read access to the warehouse's `applicant_features` (read-only DuckDB).

The file is opened read-only, with a DuckDB memory limit (`memory_limit`, HC_API_DUCKDB_MEMORY: without
one DuckDB may take 80 % of the machine's memory for its buffers). When the table has at most
`preload_rows` rows it is read into memory once (one columnar scan, ordered by id) and rows are served
from there; larger tables are queried per id with an LRU cache of rows. Their ids and row positions are
still held, in the table's own scan order (no sort of a full-volume table: sorting 356k rows x 486
columns cost ~1.5 GB and a third of the read time), so that the bulk scores, computed from `chunks` in
the same order, cover them too. Frames have the row-independent dtypes of `warehouse.online.fetch_frame`, exactly like
the features computed online. Every `reload_seconds` the file identity (inode, mtime) is checked: after
the warehouse was rebuilt and swapped in, a new generation (connection, table, caches) replaces the old.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from api import heap
from warehouse.online import arrow_to_frame, fetch_frame

log = logging.getLogger("api.features")

TABLE = "applicant_features"
KEY = "sk_id_curr"


NUMERIC_TYPES = ("DOUBLE", "FLOAT", "REAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT", "DECIMAL",
                 "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT", "UHUGEINT")


def kind_of(duckdb_type: str) -> str:
    """numeric | boolean | categorical, from a DuckDB column type."""
    t = duckdb_type.upper()
    if t == "BOOLEAN":
        return "boolean"
    if t.startswith(NUMERIC_TYPES):
        return "numeric"
    return "categorical"


class WarehouseUnavailable(RuntimeError):
    """The warehouse file is missing, locked or lacks `applicant_features`."""


class ServiceStopping(RuntimeError):
    """A background pass over the rows was stopped because the service is stopping (`FeatureStore.stop_background`)."""


def fetch(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A DuckDB result with the dtypes the online feature builder gives (see warehouse.online)."""
    return fetch_frame(relation)


@dataclass
class Generation:
    """One opened warehouse file: its connection, schema and (when small enough) its rows in memory."""

    number: int
    identity: tuple[int, int]
    connection: duckdb.DuckDBPyConnection
    columns: tuple[str, ...]
    types: dict[str, str]
    frame: pd.DataFrame | None = None  # the whole table, ordered by id, when preloaded
    positions: dict[int, int] = field(default_factory=dict)  # id -> row position (every row; see `chunks`)
    ids: np.ndarray | None = None  # the ids in row-position order, when not preloaded (checks `chunks`)
    cache: OrderedDict[int, pd.DataFrame] = field(default_factory=OrderedDict)


@dataclass(frozen=True)
class ColumnValues:
    """One column for every applicant, ordered by id (the comparison statistics work on these)."""

    ids: np.ndarray
    dataset: np.ndarray
    target: np.ndarray  # float: 0/1 for train rows, NaN for test rows
    values: np.ndarray  # float64 for numeric columns, objects (None when missing) otherwise


class FeatureStore:
    def __init__(self, path: Path, cache_size: int = 20_000, reload_seconds: float = 2.0,
                 preload_rows: int = 100_000, memory_limit: str = "1GB") -> None:
        self.path = path
        self._memory_limit = memory_limit
        self._cache_size = cache_size
        self._reload_seconds = reload_seconds
        self._preload_rows = preload_rows
        self._gen: Generation | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._stopping = threading.Event()  # set when the service stops: background passes end
        self._local = threading.local()
        self._cache_lock = threading.Lock()

    # -- generations -------------------------------------------------------------------------------
    def _identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def current(self) -> Generation:
        """The generation to use now (opens or re-opens the file when needed)."""
        now = time.monotonic()
        gen = self._gen
        if gen is not None and now - self._checked_at < self._reload_seconds:
            return gen
        self._checked_at = now
        if gen is not None and self._identity() == gen.identity:
            return gen
        with self._lock:
            gen = self._gen
            identity = self._identity()
            if gen is not None and identity == gen.identity:
                return gen
            if identity is None:
                if gen is not None:  # the file is being swapped: keep serving what is open
                    return gen
                raise WarehouseUnavailable(f"the warehouse {self.path} does not exist: build it with `make warehouse`")
            self._gen = self._open(identity, 0 if gen is None else gen.number + 1)
            if gen is not None:  # a swapped file; the first open is settled with the rest of start-up
                heap.settle()
            return self._gen

    def current_if_open(self) -> Generation | None:
        """The current generation when no (re)opening is needed (a cheap `stat` at most); None otherwise.
        For callers on the event loop, which must not read a whole table."""
        gen = self._gen
        if gen is None:
            return None
        now = time.monotonic()
        if now - self._checked_at < self._reload_seconds:
            return gen
        if self._identity() != gen.identity:
            return None
        self._checked_at = now
        return gen

    def _open(self, identity: tuple[int, int], number: int) -> Generation:
        started = time.perf_counter()
        try:
            con = duckdb.connect(str(self.path), read_only=True)
            # a SET, not a connect() config: other connections of this process to the same file (the online
            # feature builder, tests) share DuckDB's instance and must open it with the same configuration
            con.execute(f"set memory_limit = '{self._memory_limit}'")
            rows = con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where table_name = ? and schema_name = 'main' order by column_index",
                [TABLE],
            ).fetchall()
            if not rows:
                con.close()
                raise WarehouseUnavailable(f"the warehouse {self.path} has no table {TABLE}")
            gen = Generation(number, identity, con, tuple(r[0] for r in rows), {r[0]: r[1] for r in rows})
            n = int(con.execute(f"select count(*) from {TABLE}").fetchall()[0][0])
            if n <= self._preload_rows:
                frame = fetch(con.sql(f"select * from {TABLE} order by {KEY}"))
                gen.frame = frame
                gen.positions = {int(k): i for i, k in enumerate(frame[KEY].to_numpy())}
            else:  # scan order, the order `chunks` streams the rows in
                ids = np.asarray(con.execute(f"select {KEY} from {TABLE}").fetchnumpy()[KEY], dtype=np.int64)
                gen.ids = ids
                gen.positions = dict(zip(ids.tolist(), range(len(ids)), strict=True))
        except duckdb.Error as exc:
            raise WarehouseUnavailable(f"the warehouse {self.path} cannot be read: {exc}") from exc
        log.info("opened warehouse %s: %d applicants, %d columns%s (%.1fs)", self.path, n, len(rows),
                 ", in memory" if gen.frame is not None else "", time.perf_counter() - started)
        return gen

    def _cursor(self, gen: Generation) -> duckdb.DuckDBPyConnection:
        local = self._local
        if getattr(local, "gen", None) is not gen:
            local.cursor = gen.connection.cursor()
            local.gen = gen
        return local.cursor

    def cursor(self) -> tuple[Generation, duckdb.DuckDBPyConnection]:
        """The current generation and this thread's cursor on its (read-only) connection."""
        gen = self.current()
        return gen, self._cursor(gen)

    # -- metadata ----------------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self.current().number

    @property
    def columns(self) -> tuple[str, ...]:
        return self.current().columns

    @property
    def types(self) -> dict[str, str]:
        return self.current().types

    def status(self) -> str:
        try:
            self.current()
        except WarehouseUnavailable:
            return "unavailable"
        return "ok"

    # -- rows --------------------------------------------------------------------------------------
    def position(self, sk_id_curr: int, gen: Generation | None = None) -> int | None:
        """Row position of a known applicant in the in-memory table (None if unknown or not preloaded)."""
        gen = gen or self.current()
        return gen.positions.get(sk_id_curr)

    def get(self, sk_id_curr: int, gen: Generation | None = None) -> pd.DataFrame | None:
        """The applicant's `applicant_features` row as a one-row frame, or None when unknown; from
        ``gen`` when given (a generation taken earlier by `cursor()`), else from the current one."""
        gen = gen or self.current()
        if gen.frame is not None:
            pos = gen.positions.get(sk_id_curr)
            return None if pos is None else gen.frame.iloc[pos : pos + 1]
        with self._cache_lock:
            row = gen.cache.get(sk_id_curr)
            if row is not None:
                gen.cache.move_to_end(sk_id_curr)
                return row
        row = fetch(self._cursor(gen).sql(f"select * from {TABLE} where {KEY} = $id", params={"id": sk_id_curr}))
        if row.empty:
            return None
        if self._cache_size:
            with self._cache_lock:
                gen.cache[sk_id_curr] = row
                while len(gen.cache) > self._cache_size:
                    gen.cache.popitem(last=False)
        return row

    def get_many(self, ids: Sequence[int]) -> pd.DataFrame:
        """Rows of the known ids among `ids`, in the order given (unknown ids are left out)."""
        gen = self.current()
        if gen.frame is not None:
            positions = [p for p in (gen.positions.get(i) for i in ids) if p is not None]
            return gen.frame.iloc[positions].reset_index(drop=True)
        cur = self._cursor(gen)
        wanted = pd.DataFrame({KEY: np.asarray(list(ids), dtype=np.int64), "_pos": np.arange(len(ids))})
        cur.register("_wanted", wanted)
        try:
            frame = fetch(cur.sql(f"select f.* from _wanted w join {TABLE} f on f.{KEY} = w.{KEY} order by w._pos"))
        finally:
            cur.unregister("_wanted")
        return frame.reset_index(drop=True)

    def chunks(self, gen: Generation, size: int) -> Iterator[pd.DataFrame]:
        """Every row of `gen` in the order of `positions`, about `size` rows at a time: from memory when
        preloaded, else streamed from the file in its scan order (one chunk in memory at a time; a scan
        whose ids do not come in the order read at opening raises `WarehouseUnavailable`)."""
        if gen.frame is not None:
            for start in range(0, len(gen.frame), size):
                self._check_stopping()
                yield gen.frame.iloc[start : start + size]
            return
        assert gen.ids is not None
        reader = gen.connection.cursor().sql(f"select * from {TABLE}").to_arrow_reader(size)
        start = 0
        for batch in reader:
            self._check_stopping()
            ids = batch.column(KEY).to_numpy(zero_copy_only=False)
            if not np.array_equal(ids, gen.ids[start : start + len(ids)]):
                raise WarehouseUnavailable(f"the rows of {TABLE} in {self.path} did not come in the order read "
                                           "at opening: the bulk scores cannot be matched to the applicants")
            start += len(ids)
            yield arrow_to_frame(pa.Table.from_batches([batch]))
        if start != len(gen.ids):
            raise WarehouseUnavailable(f"{TABLE} in {self.path} gave {start} rows, {len(gen.ids)} expected")

    def column(self, name: str) -> ColumnValues:
        """`name` for every applicant, ordered by id."""
        gen = self.current()
        if name not in gen.types:
            raise KeyError(name)
        if gen.frame is not None:
            frame = gen.frame[[KEY, "dataset", "target", name]].rename(columns={name: "v"})
        else:
            frame = fetch(self._cursor(gen).sql(
                f'select {KEY}, dataset, target, "{name}" as v from {TABLE} order by {KEY}'))
        v = frame["v"]
        values = (
            pd.to_numeric(v, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            if kind_of(gen.types[name]) == "numeric"
            else np.array([None if pd.isna(x) else x for x in v], dtype=object)
        )
        return ColumnValues(
            ids=frame[KEY].to_numpy(dtype=np.int64),
            dataset=frame["dataset"].astype(str).to_numpy(dtype=object),
            target=frame["target"].to_numpy(dtype=np.float64, na_value=np.nan),
            values=values,
        )

    @property
    def stopping(self) -> bool:
        """True once `stop_background` was called (the service is stopping)."""
        return self._stopping.is_set()

    def stop_background(self) -> None:
        """Make every pass over the rows (`chunks`: the bulk scores, the explanation rows) stop at its next chunk,
        with `ServiceStopping`: a stopping worker must not leave a thread inside DuckDB or the model at exit."""
        self._stopping.set()

    def _check_stopping(self) -> None:
        if self._stopping.is_set():
            raise ServiceStopping("the service is stopping: the pass over the warehouse's rows ends here")

    def close(self) -> None:
        with self._lock:
            if self._gen is not None:
                self._gen.connection.close()
                self._gen = None
