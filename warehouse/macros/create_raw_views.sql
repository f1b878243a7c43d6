{#
    on-run-start hook: expose the eight Kaggle CSVs of HC_RAW_DIR as views in the attached in-memory
    catalog `raw`, reading every column with the explicit type declared in the sources YAML (generated
    from hc_contracts/raw_columns.json and checked against it by tests/warehouse/test_codegen.py).
    An empty (header-only) file thus loads with the right types instead of DuckDB's VARCHAR guess.

    `python -m warehouse.build` validates and loads the CSVs itself into a temporary DuckDB file that the
    profile attaches as `raw` (HC_RAW_DB set): the hook then does nothing.
    The catalog `raw` never persists in the warehouse file, so the file stays self-contained.

    On Spark (`spark__create_raw_views`) the same eight CSVs become external CSV tables of the database
    `hc_raw` (the sources' schema on Spark), declared with the same explicit types; see below.
#}
{% macro create_raw_views() %}
    {{ return(adapter.dispatch('create_raw_views')()) }}
{% endmacro %}

{% macro default__create_raw_views() %}
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

{#
    Spark: one external CSV table per Kaggle file of HC_RAW_DIR (a local folder, or an object-store URL such
    as s3a://bucket/raw on a cluster), in the database named by the sources' schema, typed from the sources
    YAML (DuckDB type names mapped by `spark_raw_type`). `python -m warehouse.spark_build` validates the files
    with the DuckDB checks first; FAILFAST stops the build on any value that still does not parse (never a
    silent NULL). Dropping such a table never deletes the CSV (external table).
#}
{% macro spark__create_raw_views() %}
    {%- if execute -%}
        {%- set raw_dir = env_var('HC_RAW_DIR', 'data/raw') | replace("\\", "\\\\") | replace("'", "\\'") -%}
        {%- set nodes = graph.sources.values() | selectattr('source_name', 'equalto', 'home_credit') | list -%}
        {%- for schema in nodes | map(attribute='schema') | unique %}
            {%- do run_query('create database if not exists ' ~ schema) -%}
        {%- endfor %}
        {%- for node in nodes %}
            {%- set columns = [] -%}
            {%- for col in node.columns.values() -%}
                {%- do columns.append('`' ~ col.name ~ '` ' ~ spark_raw_type(col.data_type)) -%}
            {%- endfor -%}
            {%- do run_query('drop table if exists ' ~ node.schema ~ '.' ~ node.identifier) -%}
            {%- do run_query(
                'create table ' ~ node.schema ~ '.' ~ node.identifier ~ ' (' ~ columns | join(', ') ~ ') using csv '
                ~ "options (path '" ~ raw_dir ~ "/" ~ node.identifier ~ ".csv', header 'true', mode 'FAILFAST', "
                ~ "escape '\"', multiLine 'false', encoding 'UTF-8')") -%}
        {%- endfor %}
    {%- endif -%}
    select 1 as raw_tables_declared
{% endmacro %}

{% macro spark_raw_type(duckdb_type) -%}
    {%- set types = {'BIGINT': 'bigint', 'DOUBLE': 'double', 'VARCHAR': 'string', 'INTEGER': 'int', 'BOOLEAN': 'boolean'} -%}
    {%- if duckdb_type | upper not in types -%}
        {{ exceptions.raise_compiler_error("raw column type '" ~ duckdb_type ~ "' has no Spark mapping in spark_raw_type") }}
    {%- endif -%}
    {{ return(types[duckdb_type | upper]) }}
{%- endmacro %}

{#
    Pre-hook of every staging model. Under `python -m warehouse.build` (HC_RAW_GATE set) the raw tables are loaded
    one DuckDB file per table while dbt already runs: wait until the model's raw table is validated and loaded
    (`hc_raw_gate`, registered by warehouse/dbt_raw_gate.py), then attach its file read-only and expose it as the
    source relation `raw.main.<table>`. Otherwise (plain `dbt build`, Spark) nothing.
    Once the last table the build loads (HC_RAW_LAST_TABLE) is there, the CSV load is over and its core is free:
    from then on dbt's DuckDB runs each query on HC_DUCKDB_LAST_THREADS (the models and tests of that table, which the
    mart waits for, and whatever else is still running), instead of one thread per query beside the load.
#}
{% macro open_raw_table() %}
    {%- set gate = env_var('HC_RAW_GATE', '') -%}
    {%- if not execute or gate == '' or target.type != 'duckdb' -%}{{ return('') }}{%- endif -%}
    {%- set statements = [] -%}
    {%- for node_id in model.depends_on.nodes if node_id.startswith('source.') -%}
        {%- set source_node = graph.sources[node_id] -%}
        {%- set table = source_node.identifier -%}
        {%- set alias = 'raw_' ~ table | lower -%}
        {%- do statements.append("select " ~ "hc_raw_gate('" ~ table ~ "')") -%}
        {%- do statements.append("attach if not exists '" ~ gate ~ "/" ~ table ~ ".duckdb' as " ~ alias ~ " (read_only)") -%}
        {%- do statements.append('create or replace view ' ~ source_node.database ~ '.' ~ source_node.schema ~ '."'
                                 ~ table ~ '" as select * from ' ~ alias ~ '.main."' ~ table ~ '"') -%}
        {%- if table == env_var('HC_RAW_LAST_TABLE', '') -%}
            {%- do statements.append(set_duckdb_threads('HC_DUCKDB_LAST_THREADS')) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements | join(';\n')) }}
{% endmacro %}
