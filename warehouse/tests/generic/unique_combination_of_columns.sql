{#
    One row per combination of the given columns (a composite primary key). Failing rows: each repeated
    combination with its number of rows (n_rows); NULLs count as equal values, as in a GROUP BY.
    DuckDB: the rows sorted within each value of the leading columns, a combination repeated when the next row
    carries the same last column (a sort costs less than half a hash aggregation of 27M distinct monthly keys
    at full Kaggle size, and holds less memory). Spark: the plain GROUP BY, which it distributes well.
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
    {{ adapter.dispatch('test_unique_combination_of_columns')(model, combination_of_columns) }}
{% endtest %}
