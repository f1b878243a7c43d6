{#
    One row per combination of the given columns (a composite primary key). Failing rows: each repeated
    combination with its number of rows (n_rows); NULLs count as equal values, as in a GROUP BY.
    DuckDB: the rows sorted within each value of the leading columns, a combination repeated when the next row
    carries the same last column (a sort costs less than half a hash aggregation of 27M distinct monthly keys
    at full Kaggle size, and holds less memory); with ``last_column_range`` [low, high] (the last column an integer
    mostly within 128 values, e.g. a month), one hash aggregation over the leading columns counting the distinct last
    values as bits, and the exact GROUP BY only where counts differ or outside the range (macros/generic_tests.sql).
    Spark: the plain GROUP BY, which it distributes well (the range is not used).
#}
{% test unique_combination_of_columns(model, combination_of_columns, last_column_range=none) %}
    {{ adapter.dispatch('test_unique_combination_of_columns')(model, combination_of_columns, last_column_range) }}
{% endtest %}
