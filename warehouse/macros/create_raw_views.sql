{#
    on-run-start hook: expose the eight Kaggle CSVs of HC_RAW_DIR as views in the attached in-memory
    catalog `raw`, reading every column with the explicit type declared in the sources YAML (generated
    from warehouse/raw_columns.json and checked against it by tests/warehouse/test_codegen.py).
    An empty (header-only) file thus loads with the right types instead of DuckDB's VARCHAR guess.

    `python -m warehouse.build` validates and loads the CSVs itself into a temporary DuckDB file that the
    profile attaches as `raw` (HC_RAW_DB set): the hook then does nothing.
    The catalog `raw` never persists in the warehouse file, so the file stays self-contained.
#}
{% macro create_raw_views() %}
    {%- if not execute or env_var('HC_RAW_DB', '') != '' -%}
        select 1 as raw_tables_preloaded_by_warehouse_build
    {%- else -%}
        {%- set raw_dir = env_var('HC_RAW_DIR', 'data/raw') | replace("'", "''") -%}
        {%- for node in graph.sources.values() if node.source_name == 'home_credit' %}
        create or replace view {{ node.database }}.{{ node.schema }}."{{ node.identifier }}" as
        select * from read_csv(
            '{{ raw_dir }}/{{ node.identifier }}.csv',
            header = true, auto_detect = false,
            columns = { {%- for col in node.columns.values() %}'{{ col.name }}': '{{ col.data_type }}'{{ ", " if not loop.last }}{% endfor -%} }
        );
        {%- endfor %}
    {%- endif -%}
{% endmacro %}
