"""Read the warehouse's feature tables and put feature frames into one canonical, typed form."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from models_ml.errors import FeatureMismatchError, FeatureTypeError, TrainingDataError, WarehouseError
from models_ml.protected import feature_sql, protected_features

FeatureType = Literal["numeric", "categorical", "boolean"]
ID_COLUMN = "sk_id_curr"
TARGET_COLUMN = "target"
NON_FEATURES = frozenset({ID_COLUMN, TARGET_COLUMN, "dataset"})
# read beside the features (whether or not they are features) only to measure fairness
FAIRNESS_COLUMNS = ("code_gender", "name_family_status", "age_years", "days_birth")
_NUMERIC_PREFIXES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                     "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL")


@dataclass(frozen=True)
class FeatureSpec:
    name: str
    type: FeatureType


@dataclass(frozen=True)
class FeatureSchema:
    """Ordered feature columns with their types; converts any input frame to the canonical form.

    Canonical form: numeric and boolean features are float64 (booleans 1.0/0.0, missing NaN,
    infinities NaN), categorical features are object columns of ``str`` with NaN for missing.
    """

    features: tuple[FeatureSpec, ...]

    @cached_property
    def names(self) -> list[str]:
        """The feature names in order (one list per schema, shared by its callers: do not modify it)."""
        return [f.name for f in self.features]

    @cached_property
    def columns(self) -> pd.Index:
        """`names` as a pandas Index, for frames built often: a frame of ~480 columns from the list of names
        costs ~85 us, from this Index ~20 us."""
        return pd.Index(self.names)

    @cached_property
    def positions(self) -> tuple[list[int], list[int], list[int]]:
        """Schema positions of the (numeric and boolean) features, of the categorical ones, and, among
        the first list, the indices of the booleans."""
        num = [j for j, f in enumerate(self.features) if f.type != "categorical"]
        cat = [j for j, f in enumerate(self.features) if f.type == "categorical"]
        flags = [i for i, j in enumerate(num) if self.features[j].type == "boolean"]
        return num, cat, flags

    def of_type(self, kind: FeatureType) -> list[str]:
        return [f.name for f in self.features if f.type == kind]

    def to_list(self) -> list[dict[str, str]]:
        return [{"name": f.name, "type": f.type} for f in self.features]

    @classmethod
    def from_list(cls, items: list[dict[str, str]]) -> FeatureSchema:
        return cls(tuple(FeatureSpec(i["name"], i["type"]) for i in items))  # type: ignore[arg-type]

    def check_columns(self, df: pd.DataFrame, model_version: str | None = None) -> None:
        missing = [n for n in self.names if n not in df.columns]
        if missing:
            raise FeatureMismatchError(missing, model_version)

    def prepare(self, df: pd.DataFrame, model_version: str | None = None) -> pd.DataFrame:
        """Return the feature columns of ``df`` in schema order and canonical dtypes (extra columns dropped)."""
        self.check_columns(df, model_version)
        if len(df) <= SMALL_BATCH:
            small = self._prepare_small(df)
            if small is not None:
                return small
        names = self.names
        is_num: dict[object, bool] = {}
        dtypes = {c: is_num.setdefault(t, pd.api.types.is_numeric_dtype(t))
                  for c, t in zip(df.columns, df.dtypes, strict=True)}
        fast = [f.name for f in self.features if f.type != "categorical" and dtypes[f.name]]
        if fast:  # one conversion for every column that already holds numbers (the common case)
            block = np.array(df[fast].to_numpy(dtype="float64", na_value=np.nan), dtype="float64", ndmin=2)
            block[~np.isfinite(block)] = np.nan
            kinds = {f.name: f.type for f in self.features}
            flags = [j for j, n in enumerate(fast) if kinds[n] == "boolean"]
            if flags:
                sub = block[:, flags]
                bad = ~np.isnan(sub) & (sub != 0.0) & (sub != 1.0)
                if bad.any():
                    name = fast[flags[int(np.argwhere(bad)[0][1])]]
                    raise FeatureTypeError(f"feature {name!r} must be boolean (true/false or 1/0); "
                                           f"got {sub[bad][0]!r}")
            frame = pd.DataFrame(block, columns=fast, index=df.index)
        else:
            frame = pd.DataFrame(index=df.index)
        rest = {}
        fast_set = set(fast)
        for spec in self.features:
            if spec.name in fast_set:
                continue
            col = df[spec.name]
            if spec.type == "categorical":
                rest[spec.name] = _as_categorical(col)
            elif spec.type == "boolean":
                rest[spec.name] = _as_boolean(col, spec.name)
            else:
                rest[spec.name] = _as_numeric(col, spec.name)
        if rest:
            frame = pd.concat([frame, pd.DataFrame(rest, index=df.index)], axis=1)
        return frame[names]


    def _prepare_small(self, df: pd.DataFrame) -> pd.DataFrame | None:
        """Fast path for a few rows (online scoring): one object matrix instead of per-column pandas work.
        Returns None when a value needs the careful per-column path (which raises the precise error)."""
        vals = self.small_values(df)
        if vals is None:
            return None
        num_pos, cat_pos, _ = self.positions
        names = self.names
        frame = pd.DataFrame(vals[:, num_pos].astype("float64"), columns=[names[j] for j in num_pos], index=df.index)
        if cat_pos:
            cats = {names[j]: vals[:, j] for j in cat_pos}
            frame = pd.concat([frame, pd.DataFrame(cats, index=df.index)], axis=1)
        return frame[names]

    def small_values(self, df: pd.DataFrame) -> np.ndarray | None:
        """The canonical values of a few rows as one object matrix in schema order: numeric and boolean
        features as finite floats or NaN, categorical ones as str or NaN -- exactly what `prepare` gives,
        without building a typed frame. ``df`` holds every feature (`check_columns`). None when a value
        needs the careful per-column path."""
        num_pos, cat_pos, flags = self.positions
        vals = df.to_numpy(dtype=object, na_value=np.nan)[:, df.columns.get_indexer(self.names)]
        try:
            block = vals[:, num_pos].astype("float64")
        except (TypeError, ValueError):
            return None
        block[~np.isfinite(block)] = np.nan
        if flags:
            sub = block[:, flags]
            if (~np.isnan(sub) & (sub != 0.0) & (sub != 1.0)).any():
                return None
        vals[:, num_pos] = block
        for j in cat_pos:
            vals[:, j] = [v if isinstance(v, float) and np.isnan(v) else str(v) for v in vals[:, j]]
        return vals


SMALL_BATCH = 256  # rows: below, FeatureSchema.prepare converts through one object matrix


def _as_numeric(col: pd.Series, name: str) -> np.ndarray:
    if col.dtype == object or pd.api.types.is_string_dtype(col.dtype):
        converted = pd.to_numeric(col, errors="coerce")
        bad = converted.isna() & col.notna()
        if bad.any():
            example = col[bad].iloc[0]
            raise FeatureTypeError(f"feature {name!r} must be numeric; got {example!r}")
        col = converted
    if pd.api.types.is_bool_dtype(col.dtype):
        col = col.astype("float64")
    values = np.array(col.to_numpy(dtype="float64", na_value=np.nan), dtype="float64", copy=True)
    values[~np.isfinite(values)] = np.nan
    return values


def _as_boolean(col: pd.Series, name: str) -> np.ndarray:
    if pd.api.types.is_bool_dtype(col.dtype) or pd.api.types.is_numeric_dtype(col.dtype):
        values = col.to_numpy(dtype="float64", na_value=np.nan)
        bad = ~np.isin(values, [0.0, 1.0]) & ~np.isnan(values)
        if bad.any():
            raise FeatureTypeError(f"feature {name!r} must be boolean (true/false); got {values[bad][0]!r}")
        return values
    mapping = {"true": 1.0, "false": 0.0, "1": 1.0, "0": 0.0, "y": 1.0, "n": 0.0, "yes": 1.0, "no": 0.0}
    out = np.full(len(col), np.nan)
    for i, v in enumerate(col.astype(object).tolist()):
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            continue
        key = str(v).strip().lower() if not isinstance(v, (bool, np.bool_)) else str(bool(v)).lower()
        if key not in mapping:
            raise FeatureTypeError(f"feature {name!r} must be boolean (true/false); got {v!r}")
        out[i] = mapping[key]
    return out


def _as_categorical(col: pd.Series) -> np.ndarray:
    missing = col.isna().to_numpy()
    out = col.astype(object).to_numpy().copy()
    present = ~missing
    out[present] = [str(v) for v in out[present]]
    out[missing] = np.nan
    return out


def _duckdb_feature_type(duckdb_type: str) -> FeatureType | None:
    t = duckdb_type.upper()
    if t == "BOOLEAN":
        return "boolean"
    if t.startswith("VARCHAR") or t in {"TEXT", "STRING"} or t.startswith("ENUM"):
        return "categorical"
    if t.startswith(_NUMERIC_PREFIXES):
        return "numeric"
    return None  # dates, lists, structs: not model features


@dataclass
class TrainingData:
    frame: pd.DataFrame  # canonical features, index aligned with ids / target
    ids: np.ndarray
    target: np.ndarray
    schema: FeatureSchema
    excluded_columns: list[str]
    source: Path
    # fairness attributes of the same rows (never model inputs when protected); not written to artifacts
    sensitive: pd.DataFrame = field(default_factory=pd.DataFrame)
    protected: dict[str, str] = field(default_factory=dict)  # feature left out -> protected attribute

    @property
    def n_rows(self) -> int:
        return len(self.target)


def connect_warehouse(path: Path) -> duckdb.DuckDBPyConnection:
    path = Path(path)
    if not path.is_file():
        raise WarehouseError(
            f"warehouse file not found: {path} (set HC_WAREHOUSE or build it with `make warehouse`)")
    try:
        return duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise WarehouseError(f"cannot open the warehouse {path} as a DuckDB file: {exc}") from exc


def _table_columns(con: duckdb.DuckDBPyConnection, table: str, path: Path) -> list[tuple[str, str]]:
    names = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = current_schema()").fetchall()}
    if table not in names:
        shown = ", ".join(sorted(names)) or "no tables"
        raise WarehouseError(
            f"the warehouse {path} has no table {table!r} (found: {shown}); run `make warehouse` first")
    return [(r[0], r[1]) for r in con.execute(f'describe "{table}"').fetchall()]


def _schema_from_columns(columns: list[tuple[str, str]],
                         protected: dict[str, str] | None = None) -> tuple[FeatureSchema, list[str]]:
    specs, excluded = [], []
    for name, dtype in columns:
        if name in NON_FEATURES or name in (protected or {}):
            continue
        kind = _duckdb_feature_type(dtype)
        if kind is None:
            excluded.append(f"{name} ({dtype})")
        else:
            specs.append(FeatureSpec(name, kind))
    return FeatureSchema(tuple(specs)), excluded


READ_BATCH_ROWS = 65_536  # rows per Arrow record batch when a feature table is read


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def read_feature_frame(con: duckdb.DuckDBPyConnection, table: str, schema: FeatureSchema,
                       extras: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(canonical feature frame, the ``extras`` columns as stored) of every row of ``table``, ordered by
    ``sk_id_curr`` (the first extra), both with a RangeIndex -- what ``schema.prepare`` of ``select *`` gives.

    The numeric and boolean features go, one Arrow record batch at a time, straight into one float64 block
    that becomes the frame without a copy; only the categorical and extra columns are gathered as Arrow
    arrays. Peak memory is about the frame itself: ``.df()`` followed by ``prepare`` held four to five
    copies of it (6 GB at Kaggle's 307,511 x 482)."""
    num_pos, cat_pos, _ = schema.positions
    names = schema.names
    numeric = [names[j] for j in num_pos]
    categorical = [names[j] for j in cat_pos]
    select = ", ".join([*(_quoted(c) for c in extras), *(f"cast({_quoted(c)} as double)" for c in numeric),
                        *(_quoted(c) for c in categorical)])
    n = int(con.execute(f"select count(*) from {_quoted(table)}").fetchall()[0][0])
    block = np.empty((n, len(numeric)), dtype="float64", order="F")  # column-major: the frame's own layout
    gathered: list[list[pa.Array]] = [[] for _ in range(len(extras) + len(categorical))]
    start = 0
    reader = con.sql(f"select {select} from {_quoted(table)}").to_arrow_reader(READ_BATCH_ROWS)
    for batch in reader:
        stop = start + batch.num_rows
        if stop > n:
            raise WarehouseError(f"table {table!r} changed while it was read ({stop} rows, counted {n})")
        for j in range(len(numeric)):
            block[start:stop, j] = batch.column(len(extras) + j).to_numpy(zero_copy_only=False)
        for i, target in enumerate(gathered):
            k = i if i < len(extras) else len(numeric) + i
            target.append(batch.column(k))
        start = stop
    if start != n:
        raise WarehouseError(f"table {table!r} changed while it was read ({start} rows, counted {n})")
    columns = [pa.chunked_array(chunks, type=chunks[0].type) if chunks else pa.chunked_array([], pa.null())
               for chunks in gathered]
    ids = columns[0].to_numpy() if n else np.array([], dtype=np.int64)
    order = None if n < 2 or bool(np.all(ids[1:] > ids[:-1])) else np.argsort(ids, kind="stable")
    for j in range(len(numeric)):
        col = block[:, j]
        if order is not None:
            col[:] = col[order]
        col[~np.isfinite(col)] = np.nan
    frame = pd.DataFrame(block, columns=numeric, copy=False)
    for name, pos, values in zip(categorical, cat_pos, columns[len(extras):], strict=True):
        cats = values.to_numpy(zero_copy_only=False).astype(object)
        cats = cats if order is None else cats[order]
        frame.insert(pos, name, _as_categorical(pd.Series(cats, dtype=object)))
    raw = pd.DataFrame({name: values.to_pandas() for name, values in zip(extras, columns, strict=False)})
    if order is not None:
        raw = raw.iloc[order].reset_index(drop=True)
    return frame, raw


def load_training_set(path: Path, table: str = "training_set", min_per_class: int = 2,
                      protected: Sequence[str] = ()) -> TrainingData:
    """Read ``training_set`` ordered by ``sk_id_curr``; raise a clear error when it cannot be trained on.

    ``protected`` columns (warehouse names) and every feature the warehouse computes from them are left out
    of the features; the fairness attributes are returned apart in ``sensitive``."""
    path = Path(path)
    con = connect_warehouse(path)
    try:
        columns = _table_columns(con, table, path)
        present = {c for c, _ in columns}
        for needed in (ID_COLUMN, TARGET_COLUMN):
            if needed not in present:
                raise WarehouseError(f"table {table!r} in {path} has no column {needed!r}")
        left_out = protected_features([c for c, _ in columns if c not in NON_FEATURES], protected,
                                      feature_sql(con)) if protected else {}
        schema, excluded = _schema_from_columns(columns, left_out)
        if not schema.features:
            raise TrainingDataError(f"table {table!r} in {path} has no feature column besides id and target")
        extras = [ID_COLUMN, TARGET_COLUMN, *[c for c in FAIRNESS_COLUMNS if c in present]]
        frame, raw = read_feature_frame(con, table, schema, extras)
    finally:
        con.close()
    if raw.empty:
        raise TrainingDataError(f"table {table!r} in {path} is empty: nothing to train on")
    target_raw = raw[TARGET_COLUMN]
    if target_raw.isna().any():
        raise TrainingDataError(f"column {TARGET_COLUMN!r} of {table!r} has {int(target_raw.isna().sum())} "
                                "missing values; expected 0 or 1 on every training row")
    target = target_raw.to_numpy(dtype="float64")
    if not np.isin(target, [0.0, 1.0]).all():
        bad = sorted(set(np.unique(target)) - {0.0, 1.0})[:5]
        raise TrainingDataError(f"column {TARGET_COLUMN!r} of {table!r} must be 0 or 1; found {bad}")
    counts = {int(k): int(v) for k, v in zip(*np.unique(target, return_counts=True), strict=True)}
    check_class_counts(counts, table, path, min_per_class)
    sensitive = raw[[c for c in FAIRNESS_COLUMNS if c in raw.columns]].reset_index(drop=True)
    return TrainingData(frame=frame, ids=raw[ID_COLUMN].to_numpy(), target=target.astype(int),
                        schema=schema, excluded_columns=excluded, source=path, sensitive=sensitive,
                        protected=left_out)


def load_applicants(path: Path, dataset: str | None = "test", table: str = "applicant_features") -> pd.DataFrame:
    """Rows of ``applicant_features`` (all columns, original dtypes), optionally one ``dataset`` only."""
    path = Path(path)
    con = connect_warehouse(path)
    try:
        columns = {c for c, _ in _table_columns(con, table, path)}
        if dataset is not None:
            if "dataset" not in columns:
                raise WarehouseError(f"table {table!r} in {path} has no column 'dataset'")
            return con.execute(f'select * from "{table}" where dataset = ? order by "{ID_COLUMN}"',
                               [dataset]).df()
        return con.execute(f'select * from "{table}" order by "{ID_COLUMN}"').df()
    finally:
        con.close()


def data_fingerprint(data: TrainingData) -> str:
    """SHA-256 over ids, target, feature names/types and values: same data => same fingerprint."""
    h = hashlib.sha256()
    h.update(repr(data.schema.to_list()).encode())
    h.update(np.ascontiguousarray(data.ids).astype("int64").tobytes())
    h.update(np.ascontiguousarray(data.target).astype("int8").tobytes())
    h.update(pd.util.hash_pandas_object(data.frame, index=False).to_numpy().tobytes())
    return "sha256:" + h.hexdigest()


def check_class_counts(counts: dict[int, int], table: str, where: object, min_per_class: int) -> None:
    """Both classes present, each with enough rows for the folds (shared by the DuckDB and Spark loaders)."""
    if len(counts) < 2:
        only = next(iter(counts))
        raise TrainingDataError(
            f"column {TARGET_COLUMN!r} of {table!r} in {where} has a single class ({only} on all "
            f"{counts[only]} rows); training needs both defaulters (1) and non-defaulters (0)")
    if min(counts.values()) < min_per_class:
        raise TrainingDataError(
            f"{table!r} in {where} has too few rows of one class ({counts}); cross-validation with "
            f"{min_per_class} folds needs at least {min_per_class} of each")
