"""The Spark session of the training and scoring jobs, and the warehouse tables it reads."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from models_ml.errors import WarehouseError
from warehouse.spark_settings import SparkSettings, check_spark_available

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def spark_session(settings: SparkSettings, app_name: str) -> SparkSession:
    """A session on HC_SPARK_MASTER (``local[*]`` by default); ``SparkUnavailableError`` when Spark cannot run.

    On a cluster, run the same module with spark-submit (or point HC_SPARK_MASTER at the cluster): the session
    configured there wins, ``getOrCreate`` only adds what is not set."""
    check_spark_available()
    import os

    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)  # workers run this virtualenv's Python
    builder = SparkSession.builder.appName(app_name)
    for key, value in settings.session_conf().items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def table_folder(settings: SparkSettings, table: str) -> Path:
    folder = settings.table_path(table)
    if not folder.is_dir() or not any(folder.glob("*.parquet")):
        raise WarehouseError(
            f"no Parquet table {table!r} at {folder} (set HC_SPARK_WAREHOUSE or build it with "
            "`make warehouse ENGINE=spark`)")
    return folder


def read_table(spark: SparkSession, settings: SparkSettings, table: str) -> DataFrame:
    return spark.read.parquet(str(table_folder(settings, table)))
