"""The Home Credit warehouse: dbt + DuckDB feature store, its validated build and online feature builder."""
