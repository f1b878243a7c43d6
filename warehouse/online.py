"""Online features: the warehouse's own compiled SQL, replayed on an in-memory DuckDB per request.

``OnlineFeatureBuilder.from_warehouse(path)`` reads ``meta_feature_sql`` (the compiled SQL of every
model from the staging layer up to ``applicant_features``, in run order) once, and prepares a long-lived
in-memory DuckDB holding the raw tables, typed like ``hc_contracts/raw_columns.json`` under the catalog the
dbt sources name, and one empty table per feature model under the warehouse's catalog name, so the
compiled SQL resolves unchanged. ``build(tables)`` then inserts the posted rows, runs each model's
compiled SQL as ``insert into <model> <compiled sql>`` in run order, runs the compiled SQL of
``applicant_features`` itself as the result query and clears every table, under a lock (thread-safe:
one request at a time on the shared connection).

Why tables and not a chain of views: DuckDB binds and plans a query over views again on every
execution (prepared statements included), and the inlined chain of ~500 columns costs ~10x more to
plan than the models one by one over tables. A model whose inputs are all empty is skipped: its
result is empty by construction (checked once, at preparation, by running the chain on empty tables).
The planner's optimizer is off on this connection: it costs more than it saves on a few rows. Planning
(~30 us per column per statement) dominates: a request costs roughly 100-200 ms of CPU on this shared
2-core machine, about half of it in the 480-column mart statement (see bench/bench_warehouse.py).

There is no second implementation of any feature: the parity test checks that the rows returned
equal the warehouse's ``applicant_features`` rows for the same applicants.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Self

import duckdb
import pandas as pd
import pyarrow as pa

from hc_contracts.raw_format import TABLES, columns_of
from warehouse.feature_sql import (
    FEATURE_MART,
    META_BUILD_INFO,
    META_FEATURE_DEPENDENCIES,
    META_FEATURE_SQL,
    CompiledModel,
)

# dtypes of the returned frame: nullable integers and booleans, float64 with NaN, str with NaN -- what
# DuckDB's .df() gives for columns holding NULLs, made independent of the rows at hand
_ARROW_TO_PANDAS = {
    pa.int64(): pd.Int64Dtype(), pa.int32(): pd.Int32Dtype(), pa.int16(): pd.Int16Dtype(),
    pa.int8(): pd.Int8Dtype(), pa.bool_(): pd.BooleanDtype(),
}
_IGNORED_COLUMNS = {"application_test": {"TARGET"}}  # a labelled row posted as a new application
# the Arrow type of each declared raw type: an Arrow table typed like this is inserted without casts
_ARROW_RAW_TYPES = {"BIGINT": pa.int64(), "DOUBLE": pa.float64(), "VARCHAR": pa.string()}
RawRows = pd.DataFrame | pa.Table  # the rows of one raw table, with Kaggle column names


_PREPARED = "hc_online_"  # names of the prepared statements of the feature models
APPLICATIONS_MODEL = "int_applications"  # the staged application of every applicant (train and test)


class OnlineInputError(ValueError):
    """The posted tables do not match the raw format (unknown table or column, unparsable value)."""


def fetch_frame(relation: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """A DuckDB result as a DataFrame with row-independent dtypes (see ``_ARROW_TO_PANDAS``).

    Use it to read ``applicant_features`` from the warehouse so offline and online frames match:
    ``fetch_frame(con.sql("select * from applicant_features"))``.
    """
    return arrow_to_frame(relation.to_arrow_table())


def arrow_to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow result of DuckDB as ``fetch_frame`` gives it (e.g. one batch of a streamed read)."""
    return table.to_pandas(types_mapper=_ARROW_TO_PANDAS.get)


class OnlineFeatureBuilder:
    """Compute ``applicant_features`` rows for posted raw rows with the warehouse's compiled SQL."""

    def __init__(self, models: list[CompiledModel], build_info: Mapping[str, str],
                 output_schema: list[tuple[str, str]]) -> None:
        self.models = list(models)
        self.catalog = build_info["catalog"]
        self.raw_catalog = build_info.get("raw_catalog", "raw")
        self.raw_schema = build_info.get("raw_schema", "main")
        self.output_schema = list(output_schema)
        self.columns = [name for name, _ in output_schema]
        self._lock = threading.Lock()
        self._con = duckdb.connect(":memory:", config={"threads": 1})
        try:
            self._prepare()
        except Exception:
            self._con.close()
            raise

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_warehouse(cls, path: str | Path) -> Self:
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"warehouse file not found: {path} (build it with `make warehouse`)")
        with duckdb.connect(str(path), read_only=True) as con:
            # tables, or views (the serving file of a Spark build reads its Parquet tables through views)
            tables = {r[0] for r in con.execute("select table_name from duckdb_tables() union all "
                                                "select view_name from duckdb_views() where not internal").fetchall()}
            missing = {META_FEATURE_SQL, META_BUILD_INFO, FEATURE_MART} - tables
            if missing:
                raise ValueError(f"{path} lacks {sorted(missing)}: rebuild it with `python -m warehouse.build`")
            deps: dict[str, list[str]] = {}
            if META_FEATURE_DEPENDENCIES in tables:
                for model_name, parent in con.execute(
                    f"select model_name, depends_on from {META_FEATURE_DEPENDENCIES} order by all"
                ).fetchall():
                    deps.setdefault(model_name, []).append(parent)
            models = [CompiledModel(run_order, name, sql, tuple(deps.get(name, ()))) for run_order, name, sql in
                      con.execute(f"select run_order, model_name, compiled_sql from {META_FEATURE_SQL} "
                                  "order by run_order").fetchall()]
            info = dict(con.execute(f"select key, value from {META_BUILD_INFO}").fetchall())
            schema = [(r[0], r[1]) for r in con.execute(
                "select column_name, data_type from duckdb_columns() where table_name = ? "
                "and schema_name = 'main' order by column_index", [FEATURE_MART]
            ).fetchall()]
        return cls(models, info, schema)

    def _prepare(self) -> None:
        con = self._con
        default = con.execute("select current_database()").fetchall()[0][0]
        for catalog in dict.fromkeys([self.raw_catalog, self.catalog]):
            if catalog != default:
                con.execute(f"attach ':memory:' as {_q(catalog)}")
        con.execute(f"create schema if not exists {_q(self.raw_catalog)}.{_q(self.raw_schema)}")
        con.execute(f"create schema if not exists {_q(self.catalog)}.main")
        for table in TABLES:
            cols = ", ".join(f"{_q(c)} {t}" for c, t in columns_of(table))
            con.execute(f"create table {self._raw(table)} ({cols})")
        self._statements: list[tuple[str, str, frozenset[str]]] = []
        for model in self.models:
            relation = f"{_q(self.catalog)}.main.{_q(model.model_name)}"
            con.execute(f"create table {relation} as select * from (\n{model.compiled_sql}\n) as compiled limit 0")
            parents = frozenset(model.depends_on) if model.depends_on else frozenset(TABLES) | {
                m.model_name for m in self.models}
            self._statements.append((model.model_name, f"insert into {relation} {model.compiled_sql}", parents))
        con.execute("pragma disable_optimizer")  # before PREPARE: the stored plans are unoptimized
        final = self.models[-1]
        if final.model_name != FEATURE_MART:
            raise ValueError(f"the last feature model is {final.model_name}, expected {FEATURE_MART}")
        # the mart's own SQL is the result query: no insert into its table then a second wide select
        self._statements.pop()
        self._select = final.compiled_sql
        got = [d[0] for d in con.execute(f"select * from (\n{self._select}\n) as q limit 0").description]
        if got != self.columns:
            raise ValueError("the compiled feature SQL does not produce the columns of applicant_features")
        # on empty inputs every model must be empty: what lets build() skip models without input
        for name, statement, _ in self._statements:
            con.execute(statement)
            if con.execute(f"select count(*) from {_q(self.catalog)}.main.{_q(name)}").fetchall()[0][0]:
                raise ValueError(f"model {name} returns rows on empty input: online skipping would be wrong")
        # every statement prepared once: a request then only executes stored plans (binding and planning
        # the ~480-column statements was about half of a build); the tables' rows change between
        # executions, their definitions never do, so the plans stay valid
        prepared = []
        for k, (name, statement, parents) in enumerate(self._statements):
            con.execute(f"prepare {_PREPARED}{k} as {statement}")
            prepared.append((name, f"execute {_PREPARED}{k}", parents))
        self._statements = prepared
        con.execute(f"prepare {_PREPARED}mart as {self._select}")
        self._select = f"execute {_PREPARED}mart"
        # the result's Arrow schema, once: a request fetches its few rows as tuples and builds the table
        # itself (the relation API binds the statement again on every call: ~3x the cost of the execution)
        self._result_schema = con.sql(self._select).to_arrow_table().schema

    def _raw(self, table: str) -> str:
        return f"{_q(self.raw_catalog)}.{_q(self.raw_schema)}.{_q(table)}"

    def _relation(self, name: str) -> str:
        """The table holding a raw table's rows or a feature model's rows."""
        return self._raw(name) if name in TABLES else f"{_q(self.catalog)}.main.{_q(name)}"

    # ------------------------------------------------------------------ per request
    def build(self, tables: Mapping[str, RawRows],
              seeded: Mapping[str, pd.DataFrame] | None = None) -> pd.DataFrame:
        """Feature rows (columns and types of ``applicant_features``) for the posted applications.

        ``tables`` maps Kaggle table names to frames with Kaggle column names (pandas DataFrames, or Arrow
        tables: those typed exactly like ``hc_contracts/raw_columns.json`` are inserted without any
        conversion); a new application comes as ``application_test`` (no TARGET); history tables are
        optional.

        ``seeded`` maps feature models (``int_applications``, ``int_bureau_features``, ...) to rows the
        warehouse already computed with the same SQL: they are inserted as they are, by column name,
        and not recomputed; every model downstream of them is. ``what_if`` uses it.
        """
        return arrow_to_frame(self.build_arrow(tables, seeded))

    def build_arrow(self, tables: Mapping[str, RawRows],
                    seeded: Mapping[str, pd.DataFrame] | None = None) -> pa.Table:
        """`build` as the Arrow table DuckDB returns (one conversion less when the caller wants Arrow;
        `arrow_to_frame` of it is exactly `build`'s frame)."""
        unknown = sorted(set(tables) - set(TABLES))
        if unknown:
            raise OnlineInputError(f"unknown table(s) {unknown}; expected some of {list(TABLES)}")
        seeded = dict(seeded or {})
        models = {name for name, _, _ in self._statements}
        wrong = sorted(set(seeded) - models)
        if wrong:
            raise OnlineInputError(f"cannot seed {wrong}: expected feature models among {sorted(models)}")
        order = self._application_order(tables)
        if not order and APPLICATIONS_MODEL in seeded:
            order = [int(x) for x in seeded[APPLICATIONS_MODEL]["sk_id_curr"].dropna()]
        with self._lock:
            filled: set[str] = set()
            try:
                for table, frame in tables.items():
                    if frame is not None and len(frame):
                        self._insert(table, frame)
                        filled.add(table)
                for name, frame in seeded.items():
                    filled.add(name)  # before the insert: a failed insert still gets cleared
                    self._insert_model(name, frame)
                for name, statement, parents in self._statements:
                    if name not in seeded and parents & filled:
                        self._con.execute(statement)
                        filled.add(name)
                result = self._fetch_result()
            finally:  # one call for every table filled (each statement is tiny: the calls were the cost)
                if filled:
                    self._con.execute(";\n".join(f"delete from {self._relation(name)}" for name in filled))
        if order and result.num_rows > 1:
            position = {sk: i for i, sk in enumerate(order)}
            rank = [position.get(sk, len(position)) for sk in result.column("sk_id_curr").to_pylist()]
            result = result.take(pa.array(sorted(range(len(rank)), key=rank.__getitem__), type=pa.int64()))
        return result

    def _fetch_result(self) -> pa.Table:
        """The mart's rows as an Arrow table typed exactly as DuckDB's own Arrow output (`_result_schema`)."""
        rows = self._con.execute(self._select).fetchall()
        schema = self._result_schema
        columns = list(zip(*rows, strict=True)) if rows else [()] * len(schema)
        return pa.Table.from_arrays([pa.array(values, type=f.type) for values, f in zip(columns, schema, strict=True)],
                                    schema=schema)

    def seed_models(self) -> list[str]:
        """The models a what-if seeds from the warehouse: ``int_applications`` and every model feeding the
        mart that does not depend on it (the history aggregates); the rest is recomputed."""
        parents = {name: ps for name, _, ps in self._statements}
        downstream = {APPLICATIONS_MODEL}
        for name, _, ps in self._statements:  # run order: parents come first
            if ps & downstream:
                downstream.add(name)
        mart_parents = next((m.depends_on for m in self.models if m.model_name == FEATURE_MART), ())
        history = [m for m in mart_parents if m in parents and m not in downstream]
        if not history:  # else a what-if would silently drop every history aggregate
            raise ValueError(f"{META_FEATURE_SQL} records no history model feeding {FEATURE_MART} "
                             f"(dependencies: {list(mart_parents)}): rebuild the warehouse with `make warehouse`")
        return [APPLICATIONS_MODEL, *sorted(history)]

    def what_if(self, warehouse: duckdb.DuckDBPyConnection, sk_id_curr: int,
                changes: Mapping[str, object]) -> pd.DataFrame:
        """The ``applicant_features`` row of a known applicant with some application values changed.

        The applicant's stored ``int_applications`` row (staged application, snake_case names) gets
        ``changes``; the stored history aggregates are reused as they are; the application features
        and the mart are recomputed by the warehouse's own SQL. With no change the row equals the
        stored ``applicant_features`` row. ``warehouse`` is a connection to the file this builder was
        made from. Returns an empty frame when the applicant is unknown.
        """
        seeded: dict[str, pd.DataFrame] = {}
        for name in self.seed_models():
            seeded[name] = fetch_frame(warehouse.sql(f"select * from {_q(name)} where sk_id_curr = $id",
                                                     params={"id": int(sk_id_curr)}))
        application = seeded[APPLICATIONS_MODEL]
        if application.empty:
            return pd.DataFrame(columns=self.columns)
        wrong = sorted((set(changes) - set(application.columns)) | ({"sk_id_curr", "dataset", "target"} & set(changes)))
        if wrong:
            raise OnlineInputError(f"cannot change {wrong}: expected columns of "
                                   f"{APPLICATIONS_MODEL} other than sk_id_curr, dataset, target")
        application = application.copy()
        for column, value in changes.items():
            application[column] = pd.array([value], dtype=application[column].dtype)
        seeded[APPLICATIONS_MODEL] = application
        return self.build({}, seeded=seeded)

    def _insert_model(self, name: str, frame: pd.DataFrame) -> None:
        if frame is None or not len(frame):
            return
        relation = f"{_q(self.catalog)}.main.{_q(name)}"
        self._con.register("_seeded", frame)
        try:
            self._con.execute(f"insert into {relation} by name select * from _seeded")
        except duckdb.Error as exc:
            raise OnlineInputError(f"{name}: the seeded rows do not match the model's columns: {exc}") from exc
        finally:
            self._con.unregister("_seeded")

    @staticmethod
    def _application_order(tables: Mapping[str, RawRows]) -> list[int]:
        ids: list[int] = []
        for table in ("application_train", "application_test"):
            frame = tables.get(table)
            if frame is None:
                continue
            if isinstance(frame, pa.Table):
                if "SK_ID_CURR" in frame.column_names:
                    ids += [int(x) for x in frame.column("SK_ID_CURR").to_pylist() if x is not None]
            elif "SK_ID_CURR" in frame.columns:
                ids += [int(x) for x in frame["SK_ID_CURR"].dropna()]
        return ids

    def _insert(self, table: str, frame: RawRows) -> None:
        declared = dict(columns_of(table))
        ignored = _IGNORED_COLUMNS.get(table, set())
        names = frame.column_names if isinstance(frame, pa.Table) else list(frame.columns)
        unknown = [c for c in names if c not in declared and c not in ignored]
        if unknown:
            raise OnlineInputError(f"{table}: unknown column(s) {unknown} (see hc_contracts/raw_columns.json)")
        cols = [c for c in names if c in declared]
        target = f"{self._raw(table)} ({', '.join(_q(c) for c in cols)})"
        try:  # a registered Arrow table: cheaper to plan than a VALUES list of parameters, even for one row
            incoming: pa.Table | pd.DataFrame
            if isinstance(frame, pa.Table):
                incoming = frame.select(cols)
            else:
                try:
                    incoming = pa.Table.from_pandas(frame[cols], preserve_index=False)
                except (pa.ArrowException, TypeError, ValueError):
                    incoming = frame[cols]
            exact = isinstance(incoming, pa.Table) and all(
                incoming.schema.field(c).type == _ARROW_RAW_TYPES.get(declared[c]) for c in cols)
            select = "*" if exact else ", ".join(f"cast({_q(c)} as {declared[c]})" for c in cols)
            self._con.register("_incoming", incoming)
            try:
                self._con.execute(f"insert into {target} select {select} from _incoming")
            finally:
                self._con.unregister("_incoming")
        except duckdb.Error as exc:
            raise OnlineInputError(f"{table}: a value does not match the declared column types: {exc}") from exc

    def close(self) -> None:
        with self._lock:
            self._con.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _q(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
