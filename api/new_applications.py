"""Features of posted applications, computed by the warehouse's own compiled SQL (`warehouse.online`).

The posted records become Kaggle-named Arrow tables with the declared raw types (so that an empty table or
an all-missing column still has the right type, and DuckDB takes them without any conversion), and
`OnlineFeatureBuilder.build_arrow` runs the warehouse's feature SQL on them. There is no second
implementation of any feature here. The result stays Arrow for the request log (`OnlineRows.log_rows`)
and becomes one DataFrame for the model.

Concurrent requests are micro-batched: the builder runs one build at a time, and the requests that
arrive while it runs are computed together by the next build (one DuckDB execution costs about the
same for one application as for sixteen: the cost is per statement and column, not per row). A batch
never holds two applications with the same SK_ID_CURR (their histories would mix); when a batch fails on
bad input, its requests are built again one by one, so that each gets its own error.

Batched scoring: a request may hand its model (`scorer`, anything with `predict_proba`); the leader then
scores the whole batch with one model call per distinct model after the build (one call for eight rows
costs about what one call for one row costs: the per-call pandas and column checks dominate), and each
request gets its probabilities with its rows. A failing model call fails only the requests of that model.

Gather window (`window_seconds`, HC_API_BATCH_WINDOW_MS; 0 = off): before building, the leader waits
a few ms for the requests it knows are coming. `api.arrivals.OnlineArrivals` announces every
`POST /v1/score` from the moment its headers arrive (its body is still being read and validated) until
it is answered; the leader waits while some announced request is neither queued nor answered yet, or
fewer requests are queued than the previous round held (built by the previous build or left queued
then: clients of a busy service come back), and at most the window. A request alone (nothing else
announced, previous round of one) is built at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel

from api import metrics
from api.schemas.raw_format import APPLICATION, HISTORY_TABLES, RAW_COLUMNS
from warehouse.online import OnlineFeatureBuilder, OnlineInputError, arrow_to_frame

_ARROW_TYPES = {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "VARCHAR": pa.string()}


class OnlineFeaturesUnavailable(RuntimeError):
    """The warehouse (its compiled feature SQL) is not available for online scoring."""


def _table(table: str, records: Sequence[Any], sk_id_curr: Sequence[int] | None = None) -> pa.Table:
    arrays = []
    for column, duckdb_type in RAW_COLUMNS[table]:
        if column == "SK_ID_CURR" and sk_id_curr is not None:
            values: list[Any] = list(sk_id_curr)
        else:
            values = [getattr(r, column) for r in records]
        try:
            arrays.append(pa.array(values, type=_ARROW_TYPES[duckdb_type]))
        except (pa.ArrowInvalid, pa.ArrowTypeError, OverflowError) as exc:  # the schema's bounds prevent it
            raise OnlineInputError(f"{table}.{column}: a value is not a {duckdb_type} ({exc})") from exc
    return pa.Table.from_arrays(arrays, names=[c for c, _ in RAW_COLUMNS[table]])


def to_raw_tables(applications: Sequence[BaseModel]) -> dict[str, pa.Table]:
    """Kaggle-named raw tables (Arrow, typed like hc_contracts/raw_columns.json) holding the posted
    applications and their histories."""
    tables = {APPLICATION: _table(APPLICATION, applications)}
    for table in HISTORY_TABLES:
        records, owners = [], []
        for app in applications:
            for record in getattr(app, table) or []:
                records.append(record)
                owners.append(app.SK_ID_CURR)
        has_owner = any(c == "SK_ID_CURR" for c, _ in RAW_COLUMNS[table])
        tables[table] = _table(table, records, owners if has_owner else None)
    return tables


MAX_BATCH = 64  # applications computed by one build


def _rows_of(frame: pd.DataFrame, positions: list[int]) -> pd.DataFrame:
    """The rows of ``frame`` at ``positions`` (``frame`` itself when they are all its rows, in order)."""
    if positions == list(range(len(frame))):
        return frame
    return frame.iloc[positions].reset_index(drop=True)


@dataclass(frozen=True)
class OnlineRows:
    """The `applicant_features` rows of some applications (in their order): `frame` for the model, and
    `log_rows` = (the build's Arrow table, row positions) for the request log, converted only when written.
    `probabilities`: the model's, one per row, when the request handed its model to the build (`scorer`).
    The rows are taken from the build's frame (`batch_frame`, `positions`) only when `frame` is read."""

    batch_frame: pd.DataFrame
    table: pa.Table
    positions: list[int]
    probabilities: np.ndarray | None = None

    @cached_property
    def frame(self) -> pd.DataFrame:
        return _rows_of(self.batch_frame, self.positions)

    @property
    def ids(self) -> list[int]:
        column = self.table.column("sk_id_curr")
        return [column[p].as_py() for p in self.positions]

    def log_rows(self) -> list[tuple[pa.Table, int]]:
        return [(self.table, p) for p in self.positions]


class Arrival:
    """One announced `POST /v1/score` request, from its arrival until its answer (see `OnlineArrivals`)."""

    __slots__ = ()


@dataclass(eq=False)
class _Pending:
    """The applications of one request waiting for a build, then its rows or its error."""

    applications: Sequence[BaseModel]
    generation: int
    scorer: Any = None  # the request's model (`predict_proba`), scored with the batch; None: rows only
    ids: frozenset[int] = field(init=False)
    done: bool = False
    positions: list[int] = field(default_factory=list)  # its rows in the build's result
    probabilities: np.ndarray | None = None
    rows: OnlineRows | None = None
    error: BaseException | None = None

    def __post_init__(self) -> None:
        self.ids = frozenset(app.SK_ID_CURR for app in self.applications)


class OnlineFeatures:
    """`warehouse.online.OnlineFeatureBuilder` for the current warehouse file, rebuilt when it changes."""

    def __init__(self, warehouse: Path, window_seconds: float = 0.0) -> None:
        self._warehouse = warehouse
        self.window_seconds = max(0.0, window_seconds)
        self._builder: Any = None
        self._generation: int | None = None
        self._lock = threading.Lock()  # guards the builder's replacement; the builder is thread-safe
        self._queue: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._changed = threading.Condition(self._queue_lock)  # a request queued or answered
        self._outside: set[Arrival] = set()  # announced requests not queued now (arriving, or being answered)
        self._last_batch = 1  # requests of the previous round: built by the previous build, or left queued
        self._build_lock = threading.Lock()  # one build at a time: its leader builds for every queued request
        self.builds = 0  # builds run (a batch counts once): the tests and the bench read it

    # -- announced requests (the gather window's knowledge of what is coming) ---------------------------
    def announce(self) -> Arrival:
        """A new-application request has arrived (its body not read yet): a leader may wait for it."""
        arrival = Arrival()
        with self._queue_lock:
            self._outside.add(arrival)
        return arrival

    def answered(self, arrival: Arrival) -> None:
        """The announced request has been answered (or failed before it was queued)."""
        with self._changed:
            self._outside.discard(arrival)
            self._changed.notify_all()

    def _gather(self) -> None:
        """The leader's wait (under the build lock) for the requests it knows are coming; see the module
        docstring. Returns at once when the window is off or nothing else is expected."""
        if self.window_seconds <= 0:
            return
        deadline = time.monotonic() + self.window_seconds
        with self._changed:
            while (self._outside or len(self._queue) < self._last_batch) and \
                    sum(len(item.applications) for item in self._queue) < MAX_BATCH:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._changed.wait(remaining)

    def _get_builder(self, generation: int) -> Any:
        if self._builder is None or self._generation != generation:
            try:
                self._builder = OnlineFeatureBuilder.from_warehouse(self._warehouse)
            except Exception as exc:
                raise OnlineFeaturesUnavailable(
                    f"the feature SQL of the warehouse {self._warehouse} cannot be loaded ({type(exc).__name__}: {exc})"
                ) from exc
            self._generation = generation
        return self._builder

    def build(self, applications: Sequence[BaseModel], generation: int) -> pd.DataFrame:
        """One `applicant_features`-shaped row per application, in the order given (computed together
        with the applications of concurrent requests, see the module docstring)."""
        return self.build_rows(applications, generation).frame

    def build_rows(self, applications: Sequence[BaseModel], generation: int,
                   arrival: Arrival | None = None, scorer: Any = None) -> OnlineRows:
        """`build`, with the rows as the request log takes them (`OnlineRows`). ``arrival``: the request's
        announcement (`announce`), when it was announced. ``scorer``: the model (`predict_proba`) to score
        the rows with, together with the batch's other rows of the same model (`OnlineRows.probabilities`)."""
        pending = _Pending(applications, generation, scorer)
        with self._changed:
            self._queue.append(pending)
            if arrival is not None:
                self._outside.discard(arrival)
            self._changed.notify_all()
        try:
            while not pending.done:
                with self._build_lock:
                    if pending.done:  # a previous leader built it
                        break
                    self._gather()
                    batch = self._take()
                    with self._queue_lock:  # the requests of this round: built now, or queued for the next
                        self._last_batch = min(len(batch) + len(self._queue), MAX_BATCH)
                    self._run(batch)
        finally:
            if arrival is not None:  # being answered until `answered`: a leader may wait for its next request
                with self._queue_lock:
                    self._outside.add(arrival)
        if pending.error is not None:
            raise pending.error
        assert pending.rows is not None
        return pending.rows

    def _take(self) -> list[_Pending]:
        """The oldest waiting requests that can share a build: same warehouse generation, no SK_ID_CURR
        twice, at most MAX_BATCH applications (the oldest request is always taken)."""
        with self._queue_lock:
            batch: list[_Pending] = []
            ids: set[int] = set()
            size = 0
            for item in self._queue:
                if batch and (item.generation != batch[0].generation or ids & item.ids
                              or size + len(item.applications) > MAX_BATCH):
                    continue
                batch.append(item)
                ids |= item.ids
                size += len(item.applications)
            self._queue = [item for item in self._queue if item not in batch]
        return batch

    def _run(self, batch: list[_Pending]) -> None:
        applications = [app for item in batch for app in item.applications]
        try:
            built = self._build_now(applications, batch[0].generation)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].error, batch[0].done = exc, True
                return
            for item in batch:  # each request gets its own result or error
                self._run([item])
            return
        table, frame = built
        position = {sk_id: i for i, sk_id in enumerate(frame["sk_id_curr"].tolist())}
        for item in batch:
            item.positions = [position[app.SK_ID_CURR] for app in item.applications]
        self._score(batch, frame)
        for item in batch:
            if item.error is None:
                item.rows = OnlineRows(frame, table, item.positions, item.probabilities)
            item.done = True

    @staticmethod
    def _score(batch: list[_Pending], frame: pd.DataFrame) -> None:
        """Each request that handed a model gets its `probabilities`, from one model call per distinct model
        over the rows of all its requests (or, if that call fails, the model's error)."""
        by_model: dict[int, list[_Pending]] = {}
        for item in batch:
            if item.scorer is not None:
                by_model.setdefault(id(item.scorer), []).append(item)
        for items in by_model.values():
            try:
                scored = np.asarray(items[0].scorer.predict_proba(
                    _rows_of(frame, [p for item in items for p in item.positions])), dtype=float)
            except Exception as exc:  # noqa: BLE001 - handed to each request of this model
                for item in items:
                    item.error = exc
                continue
            start = 0
            for item in items:
                item.probabilities = scored[start:start + len(item.positions)]
                start += len(item.positions)

    def _build_now(self, applications: Sequence[BaseModel], generation: int) -> tuple[pa.Table, pd.DataFrame]:
        """The batch's rows in the order of `applications`: the Arrow table DuckDB returned and its frame."""
        started = time.perf_counter()
        tables = to_raw_tables(applications)
        with self._lock:
            builder = self._get_builder(generation)
        table = builder.build_arrow(tables)  # in the order of the posted applications
        frame = arrow_to_frame(table)
        self.builds += 1
        metrics.observe_online_build(len(applications), time.perf_counter() - started)
        return table, frame

    def what_if(self, gen: Any, cursor: Any, sk_id_curr: int, changes: dict[str, Any]) -> pd.DataFrame:
        """The `applicant_features` row of a known applicant with application values changed (staged,
        snake_case names): its stored history aggregates, the warehouse's SQL for everything that
        derives from the application. ``gen``/``cursor`` come from one `FeatureStore.cursor()` call, so
        that the stored rows and the SQL belong to the same warehouse file. Empty when the applicant is
        unknown. A failure to load the stored rows into the builder is the warehouse's fault (changes
        are validated by the API schema): it raises `OnlineFeaturesUnavailable` (503), not a 422."""
        with self._lock:
            builder = self._get_builder(gen.number)
        try:
            return builder.what_if(cursor, sk_id_curr, changes)
        except (OnlineInputError, ValueError) as exc:  # ValueError: the stored feature SQL is incomplete
            raise OnlineFeaturesUnavailable(
                f"the stored rows of applicant {sk_id_curr} in {self._warehouse} do not fit the feature SQL: {exc}"
            ) from exc
