"""The Spark engine of the modeling layer (HC_ENGINE=spark): distributed training and batch scoring on the
Parquet tables of ``python -m warehouse.spark_build``, writing and reading the same model versions as the
single-machine path (docs/scale-out.md). Needs the spark extra (``make setup-spark``)."""
