"""Read access to the warehouse's `applicant_features` (read-only DuckDB), cached by applicant id.

The file is opened read-only. Every `reload_seconds` its identity (inode, mtime) is checked; after the
warehouse was rebuilt and swapped in, a new connection is opened and the caches are dropped.
Each thread queries through its own cursor (DuckDB connections are not shared across threads).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

log = logging.getLogger("api.features")

TABLE = "applicant_features"
KEY = "sk_id_curr"


class WarehouseUnavailable(RuntimeError):
    """The warehouse file is missing, locked or lacks `applicant_features`."""


@dataclass(frozen=True)
class _Generation:
    number: int
    identity: tuple[int, int]
    connection: duckdb.DuckDBPyConnection
    columns: tuple[str, ...]
    types: dict[str, str]


@dataclass(frozen=True)
class ColumnValues:
    """One column for every applicant, ordered by id (the comparison statistics work on these)."""

    ids: np.ndarray
    dataset: np.ndarray
    target: np.ndarray  # float: 0/1 for train rows, NaN for test rows
    values: np.ndarray


class FeatureStore:
    def __init__(self, path: Path, cache_size: int = 20_000, reload_seconds: float = 2.0) -> None:
        self.path = path
        self._cache_size = cache_size
        self._reload_seconds = reload_seconds
        self._gen: _Generation | None = None
        self._checked_at = float("-inf")
        self._lock = threading.Lock()
        self._local = threading.local()
        self._cache: OrderedDict[int, pd.DataFrame] = OrderedDict()
        self._cache_lock = threading.Lock()

    # -- connection --------------------------------------------------------------------------------
    def _identity(self) -> tuple[int, int] | None:
        try:
            st = os.stat(self.path)
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def _generation(self) -> _Generation:
        now = time.monotonic()
        gen = self._gen
        if gen is not None and now - self._checked_at < self._reload_seconds:
            return gen
        self._checked_at = now
        identity = self._identity()
        if gen is not None and identity == gen.identity:
            return gen
        with self._lock:
            gen = self._gen
            identity = self._identity()
            if gen is not None and identity == gen.identity:
                return gen
            if identity is None:
                if gen is not None:  # keep serving what is open rather than failing
                    return gen
                raise WarehouseUnavailable(f"the warehouse {self.path} does not exist: build it with `make warehouse`")
            self._gen = self._open(identity, 0 if gen is None else gen.number + 1)
            with self._cache_lock:
                self._cache.clear()
            return self._gen

    def _open(self, identity: tuple[int, int], number: int) -> _Generation:
        try:
            con = duckdb.connect(str(self.path), read_only=True)
            rows = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_name = ? order by ordinal_position",
                [TABLE],
            ).fetchall()
        except duckdb.Error as exc:
            raise WarehouseUnavailable(f"the warehouse {self.path} cannot be opened read-only: {exc}") from exc
        if not rows:
            con.close()
            raise WarehouseUnavailable(f"the warehouse {self.path} has no table {TABLE}")
        log.info("opened warehouse %s (%d feature columns)", self.path, len(rows))
        return _Generation(number, identity, con, tuple(r[0] for r in rows), {r[0]: r[1] for r in rows})

    def _cursor(self) -> tuple[_Generation, duckdb.DuckDBPyConnection]:
        gen = self._generation()
        local = self._local
        if getattr(local, "number", None) != gen.number or getattr(local, "gen", None) is not gen:
            local.cursor = gen.connection.cursor()
            local.number, local.gen = gen.number, gen
        return gen, local.cursor

    # -- metadata ----------------------------------------------------------------------------------
    @property
    def generation(self) -> int:
        return self._generation().number

    @property
    def columns(self) -> tuple[str, ...]:
        return self._generation().columns

    @property
    def types(self) -> dict[str, str]:
        return self._generation().types

    def status(self) -> str:
        try:
            self._generation()
        except WarehouseUnavailable:
            return "unavailable"
        return "ok"

    def count(self) -> int:
        _, cur = self._cursor()
        return int(cur.execute(f"select count(*) from {TABLE}").fetchone()[0])

    # -- rows --------------------------------------------------------------------------------------
    def get(self, sk_id_curr: int) -> pd.DataFrame | None:
        """The applicant's `applicant_features` row as a one-row frame, or None when unknown."""
        gen, cur = self._cursor()
        with self._cache_lock:
            row = self._cache.get(sk_id_curr)
            if row is not None:
                self._cache.move_to_end(sk_id_curr)
                return row
        frame = cur.execute(f"select * from {TABLE} where {KEY} = ?", [sk_id_curr]).df()
        if frame.empty:
            return None
        if self._cache_size and self._gen is gen:
            with self._cache_lock:
                self._cache[sk_id_curr] = frame
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return frame

    def get_many(self, ids: Sequence[int]) -> pd.DataFrame:
        """Rows of the known ids among `ids`, in the order given (unknown ids are left out)."""
        if not ids:
            return pd.DataFrame(columns=list(self.columns))
        _, cur = self._cursor()
        wanted = pd.DataFrame({KEY: pd.array(list(ids), dtype="int64"), "_pos": np.arange(len(ids))})
        cur.register("_wanted", wanted)
        try:
            frame = cur.execute(
                f"select f.* from _wanted w join {TABLE} f on f.{KEY} = w.{KEY} order by w._pos"
            ).df()
        finally:
            cur.unregister("_wanted")
        return frame.reset_index(drop=True)

    def column(self, name: str) -> ColumnValues:
        """`name` for every applicant, ordered by id."""
        if name not in self.columns:
            raise KeyError(name)
        _, cur = self._cursor()
        frame = cur.execute(
            f'select {KEY}, dataset, cast(target as double) as target, "{name}" as v from {TABLE} order by {KEY}'
        ).df()
        v = frame["v"]
        numeric = pd.api.types.is_numeric_dtype(v) and not pd.api.types.is_bool_dtype(v)
        values = (
            v.to_numpy(dtype=np.float64, na_value=np.nan)
            if numeric
            else np.array([None if pd.isna(x) else x for x in v], dtype=object)
        )
        return ColumnValues(
            ids=frame[KEY].to_numpy(dtype=np.int64),
            dataset=frame["dataset"].astype(str).to_numpy(dtype=object),
            target=frame["target"].to_numpy(dtype=np.float64, na_value=np.nan),
            values=values,
        )

    def close(self) -> None:
        with self._lock:
            if self._gen is not None:
                self._gen.connection.close()
                self._gen = None
