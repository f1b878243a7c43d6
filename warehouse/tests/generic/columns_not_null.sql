{#
    Model-level not_null over many columns in one query; failing rows name the column.
    DuckDB: a union of one count per column. Spark: every count in one scan, then one row per column.
#}
{% test columns_not_null(model, columns) %}
    {{ adapter.dispatch('test_columns_not_null')(model, columns) }}
{% endtest %}
