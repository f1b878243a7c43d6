"""The training rows of the Spark warehouse as a Spark DataFrame: checks, feature schema, native encoding.

The feature schema and the encoding are those of the single-machine path (``models_ml.data.FeatureSchema``,
``models_ml.preprocessing.NativeEncoder``): categorical levels sorted by name, coded 0..k-1, missing or
unseen levels and non-finite numbers missing (NaN). Only small things reach the driver: the column types,
the class counts and the categorical levels.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from models_ml.data import (
    ID_COLUMN,
    NON_FEATURES,
    TARGET_COLUMN,
    FeatureSchema,
    FeatureSpec,
    FeatureType,
    check_class_counts,
)
from models_ml.errors import TrainingDataError, WarehouseError
from models_ml.preprocessing import NativeEncoder

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

FEATURES_COL = "features"
FOLD_COL = "fold"
TABLE = "applicant_features"
_NUMERIC_SPARK = ("byte", "short", "int", "bigint", "long", "float", "double", "decimal")


def spark_feature_type(simple_type: str) -> FeatureType | None:
    """Feature kind of a Spark column type (``DataType.simpleString()``), as ``_duckdb_feature_type`` does."""
    t = simple_type.lower()
    if t == "boolean":
        return "boolean"
    if t in ("string",) or t.startswith(("varchar", "char")):
        return "categorical"
    if t.startswith(_NUMERIC_SPARK):
        return "numeric"
    return None


@dataclass(frozen=True)
class SparkTrainingData:
    rows: DataFrame  # sk_id_curr, target (int), every feature column as stored
    schema: FeatureSchema
    excluded_columns: list[str]
    counts: dict[int, int]  # class -> rows

    @property
    def n_rows(self) -> int:
        return sum(self.counts.values())


def training_rows(features: DataFrame, where: str, min_per_class: int = 2,
                  protected: dict[str, str] | None = None) -> SparkTrainingData:
    """The labelled rows (``dataset = 'train'``) of ``applicant_features``, checked as ``load_training_set`` does.

    ``protected`` (feature -> protected attribute it encodes) is left out of the schema, as on one machine.
    """
    from pyspark.sql import functions as F

    present = {f.name: f.dataType.simpleString() for f in features.schema.fields}
    for needed in (ID_COLUMN, TARGET_COLUMN, "dataset"):
        if needed not in present:
            raise WarehouseError(f"table {TABLE!r} in {where} has no column {needed!r}")
    specs, excluded = [], []
    for name, dtype in present.items():
        if name in NON_FEATURES or name in (protected or {}):
            continue
        kind = spark_feature_type(dtype)
        if kind is None:
            excluded.append(f"{name} ({dtype})")
        else:
            specs.append(FeatureSpec(name, kind))
    if not specs:
        raise TrainingDataError(f"table {TABLE!r} in {where} has no feature column besides id and target")
    rows = features.where(F.col("dataset") == "train").drop("dataset")
    stats = rows.groupBy(F.col(TARGET_COLUMN)).count().collect()
    counts_raw = {r[TARGET_COLUMN]: int(r["count"]) for r in stats}
    if not counts_raw:
        raise TrainingDataError(f"table {TABLE!r} in {where} has no training row (dataset = 'train'): nothing to train on")
    if None in counts_raw:
        raise TrainingDataError(f"column {TARGET_COLUMN!r} of {TABLE!r} has {counts_raw[None]} missing values; "
                                "expected 0 or 1 on every training row")
    bad = sorted(k for k in counts_raw if k not in (0, 1))[:5]
    if bad:
        raise TrainingDataError(f"column {TARGET_COLUMN!r} of {TABLE!r} must be 0 or 1; found {bad}")
    counts = {int(k): v for k, v in counts_raw.items()}
    check_class_counts(counts, TABLE, where, min_per_class)
    rows = rows.withColumn(TARGET_COLUMN, F.col(TARGET_COLUMN).cast("int"))
    return SparkTrainingData(rows, FeatureSchema(tuple(specs)), excluded, counts)


def fit_encoder(rows: DataFrame, schema: FeatureSchema) -> NativeEncoder:
    """``NativeEncoder`` with the categorical levels of ``rows`` (one aggregation for every column)."""
    from pyspark.sql import functions as F

    encoder = NativeEncoder(schema)
    names = schema.of_type("categorical")
    levels: dict[str, list[str]] = {}
    if names:
        row = rows.agg(*[F.collect_set(F.col(n).cast("string")).alias(n) for n in names]).collect()[0]
        levels = {n: sorted(str(v) for v in (row[n] or [])) for n in names}
    encoder.levels_ = levels
    return encoder


def encoded(rows: DataFrame, encoder: NativeEncoder, keep: list[str]) -> DataFrame:
    """``keep`` columns plus ``features``: array<double> in schema order, exactly ``NativeEncoder.transform``
    (NaN = missing, categorical codes 0..k-1)."""
    from pyspark.sql import functions as F

    assert encoder.schema is not None
    nan = F.lit(float("nan"))
    items = []
    for spec in encoder.schema.features:
        col = F.col(spec.name)
        if spec.type == "categorical":
            levels = encoder.levels_[spec.name]
            if levels:
                pos = F.array_position(F.array(*[F.lit(v) for v in levels]), col.cast("string"))
                value = F.when(pos > 0, (pos - 1).cast("double"))
            else:
                value = F.lit(None).cast("double")
        else:
            value = col.cast("double")
            value = F.when(~F.isnan(value) & (F.abs(value) != F.lit(float("inf"))), value)
        items.append(F.coalesce(value, nan))
    return rows.select(*[F.col(k) for k in keep], F.array(*items).alias(FEATURES_COL))
