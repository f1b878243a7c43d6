{#
    Model-level range test over many columns in one query (one test instead of one per column, which
    keeps `dbt build` fast on wide feature tables). Failing rows name the column and the value.
    DuckDB: a union of one filter per column (its scans share the column store). Spark: one scan of the
    table, each row unpacked into (column, value, out of range) triples, so a 50-column test is one job
    instead of 50.
#}
{% test columns_between(model, columns, min_value=none, max_value=none) %}
    {{ adapter.dispatch('test_columns_between')(model, columns, min_value, max_value) }}
{% endtest %}
