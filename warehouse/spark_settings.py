"""Configuration of the Spark engine (HC_ENGINE=spark), read from HC_* environment variables (docs/interfaces.md)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
from pathlib import Path

from pydantic import Field

from hc_contracts.settings import PlatformSettings

INSTALL_HINT = "install the Spark extra with `make setup-spark` (pyspark, dbt-spark[session])"
JAVA_HINT = "Spark needs Java 17 or newer: install it (Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"


class SparkUnavailableError(RuntimeError):
    """pyspark / dbt-spark are not installed or no Java 17 runtime is found (one line: what to install)."""


class SparkSettings(PlatformSettings):
    """The resources of the local Spark session; where the Spark build writes its Parquet tables is the
    platform base's ``spark_warehouse`` (``HC_SPARK_WAREHOUSE``)."""

    spark_master: str = Field(default="local[*]", description="HC_SPARK_MASTER: local[*], spark://..., yarn, ...")
    # 2g ran out of memory at Kaggle size (SCALE=1) in the uniqueness test over bureau_balance's 27M rows
    spark_driver_memory: str = Field(default="4g", description="HC_SPARK_DRIVER_MEMORY: JVM heap of the driver")
    spark_shuffle_partitions: int = Field(default=8, ge=1,
                                          description="HC_SPARK_SHUFFLE_PARTITIONS: partitions after a shuffle")
    spark_workers: int = Field(default=2, ge=1,
                               description="HC_SPARK_WORKERS: XGBoost workers (Spark tasks) of the distributed fit")

    def table_path(self, table: str) -> Path:
        return self.spark_table_path(table)

    def session_conf(self) -> dict[str, str]:
        """The Spark configuration shared by the dbt profile (target spark) and the training / scoring jobs."""
        return {
            "spark.master": self.spark_master,
            "spark.driver.memory": self.spark_driver_memory,
            "spark.sql.shuffle.partitions": str(self.spark_shuffle_partitions),
            "spark.sql.session.timeZone": "UTC",
            "spark.sql.ansi.enabled": "false",  # what dbt-spark forces too: one SQL semantics for both
            "spark.ui.enabled": "false",
            "spark.sql.catalogImplementation": "in-memory",
        }


def check_spark_available() -> None:
    """Raise ``SparkUnavailableError`` with one line naming what is missing (package or Java)."""
    missing = [name for name, module in (("pyspark", "pyspark"), ("dbt-spark", "dbt.adapters.spark"))
               if _find_spec(module) is None]
    if missing:
        raise SparkUnavailableError(f"{' and '.join(missing)} not installed: {INSTALL_HINT}")
    java = _java_binary()
    if java is None:
        raise SparkUnavailableError(f"no Java runtime found: {JAVA_HINT}")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SparkUnavailableError(f"cannot run {java} -version ({exc}): {JAVA_HINT}") from exc
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    major = int(match.group(1)) if match else 0
    if major == 1 and match and match.group(2):  # "1.8.0" = Java 8
        major = int(match.group(2))
    if major < 17:
        raise SparkUnavailableError(f"{java} is Java {major or 'of unknown version'}: {JAVA_HINT}")


def _find_spec(module: str) -> object | None:
    try:
        return importlib.util.find_spec(module)
    except ModuleNotFoundError:
        return None


def _java_binary() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")
