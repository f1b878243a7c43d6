"""What the packages of the platform share, and nothing else: the contracts between them.

- :mod:`hc_contracts.layout` -- where files live under ``HC_ARTIFACTS`` (models, cache, request log, reports).
- :mod:`hc_contracts.settings` -- the one pydantic-settings base (``HC_*`` variables) every package's
  settings class derives from: raw dir, warehouse, artifacts, Spark warehouse, and the layout above.
- :mod:`hc_contracts.metadata` -- the typed ``metadata.json`` of a model version (written by training,
  read by the registry, the API, monitoring and the dashboard's model page).
- :mod:`hc_contracts.raw_format` -- the raw Kaggle format (``raw_columns.json``) and its one CSV reader.
- :mod:`hc_contracts.request_log` -- the request-log schema, its Parquet writer/reader and the salted
  applicant hash (written by the API, read by monitoring).

Only light dependencies (pydantic, pydantic-settings, pyarrow, duckdb): importing it never pulls in a
model library, the API or the generator. See docs/architecture.md.
"""
