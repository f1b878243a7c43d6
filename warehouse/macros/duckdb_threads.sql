{# `set threads = n` on DuckDB (a setting of the whole database instance), nothing on other adapters.
   `python -m warehouse.build` runs each query of dbt's DuckDB on one thread (HC_DUCKDB_THREADS=1: several nodes
   run at once beside the CSV load); once the last raw table is loaded (macro open_raw_table) and for the last model,
   which nothing runs beside, HC_DUCKDB_LAST_THREADS. #}
{% macro set_duckdb_threads(variable) -%}
    {%- if target.type == 'duckdb' -%}
        set threads = {{ env_var(variable, env_var('HC_DUCKDB_THREADS', '2')) | int }}
    {%- endif -%}
{%- endmacro %}
