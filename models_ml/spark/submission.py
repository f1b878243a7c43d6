"""``python -m models_ml.spark.submission`` (``make submission ENGINE=spark``): score ``application_test`` of
the Spark warehouse with the promoted model inside Spark and write the same ``$HC_ARTIFACTS/submission.csv``
as ``models_ml.submission`` (``SK_ID_CURR,TARGET``, ordered by id, 6 decimals), atomically."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import pandas as pd

from models_ml.data import ID_COLUMN
from models_ml.errors import ModelingError, WarehouseError
from models_ml.registry import load_current
from models_ml.settings import ModelSettings
from models_ml.spark.scoring import score_frame
from models_ml.spark.session import read_table, spark_session, table_folder
from warehouse.feature_sql import FEATURE_MART
from warehouse.spark_settings import SparkSettings, SparkUnavailableError

CHUNK_ROWS = 200_000  # rows per CSV write while streaming the scored rows to the driver


def write_spark_submission(settings: ModelSettings, spark_settings: SparkSettings | None = None,
                           out: Path | None = None) -> tuple[Path, int]:
    spark_settings = spark_settings or SparkSettings()
    model = load_current(settings.artifacts)
    out = Path(out) if out is not None else settings.layout.submission
    table_folder(spark_settings, FEATURE_MART)  # a clear error before starting Spark
    spark = spark_session(spark_settings, "homecredit-submission")
    features = read_table(spark, spark_settings, FEATURE_MART)
    if "dataset" not in features.columns:
        raise WarehouseError(f"table {FEATURE_MART!r} in {spark_settings.spark_warehouse} has no column 'dataset'")
    test = features.where(features["dataset"] == "test")
    scored = score_frame(spark, model, test).orderBy(ID_COLUMN)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".submission-", suffix=".csv", dir=out.parent)
    os.close(fd)
    n = 0
    try:
        with open(tmp, "w", newline="") as fh:
            pd.DataFrame({"SK_ID_CURR": pd.Series(dtype="int64"),
                          "TARGET": pd.Series(dtype="float64")}).to_csv(fh, index=False)
            rows: list[tuple[int, float]] = []
            for row in scored.toLocalIterator():  # streamed partition by partition, in id order
                rows.append((row[0], row[1]))
                if len(rows) >= CHUNK_ROWS:
                    n += _write_rows(fh, rows)
            n += _write_rows(fh, rows)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out, n


def _write_rows(fh, rows: list[tuple[int, float]]) -> int:
    if not rows:
        return 0
    chunk = pd.DataFrame(rows, columns=["SK_ID_CURR", "TARGET"]).astype({"SK_ID_CURR": "int64"})
    chunk.to_csv(fh, index=False, header=False, float_format="%.6f")
    n = len(rows)
    rows.clear()
    return n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models_ml.spark.submission", description=__doc__)
    parser.add_argument("--artifacts", type=Path, help="artifacts folder holding models/current (HC_ARTIFACTS)")
    parser.add_argument("--out", type=Path, help="output CSV (default $HC_ARTIFACTS/submission.csv)")
    args = parser.parse_args(argv)
    overrides = {k: v for k, v in vars(args).items() if v is not None and k != "out"}
    try:
        path, n = write_spark_submission(ModelSettings(**overrides), out=args.out)
    except SparkUnavailableError as exc:
        print(f"error: cannot run Spark: {exc}", file=sys.stderr)
        return 2
    except ModelingError as exc:
        print(f"error: {exc}")
        return 2
    if n == 0:
        print(f"no test applicants in the Spark warehouse's {FEATURE_MART}: wrote a header-only {path}")
    else:
        print(f"scored {n:,} test applicants on Spark -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
