{#
    Engine-specific bodies of the generic tests columns_between / columns_not_null / unique_combination_of_columns
    (warehouse/tests/generic):
    DuckDB: a union of one query per column. Spark: one scan of the table (a union of 50 filters is 50 Spark
    jobs), each row unpacked into one (column, value) pair per column with `inline`.
#}
{% macro columns_between_condition(column, min_value, max_value) -%}
    {%- if min_value is not none %} {{ column }} < {{ min_value }}{% endif %}
    {%- if min_value is not none and max_value is not none %} or{% endif %}
    {%- if max_value is not none %} {{ column }} > {{ max_value }}{% endif %}
{%- endmacro %}

{% macro default__test_columns_between(model, columns, min_value, max_value) %}
{%- for column in columns %}
select '{{ column }}' as column_name, cast({{ column }} as {{ type_double() }}) as offending_value
from {{ model }}
where
    {{- columns_between_condition(column, min_value, max_value) }}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% endmacro %}

{% macro spark__test_columns_between(model, columns, min_value, max_value) %}
select column_name, offending_value
from (
    select inline(array(
        {%- for column in columns %}
        named_struct('column_name', '{{ column }}', 'offending_value', cast({{ column }} as {{ type_double() }}),
                     'out_of_range', {{ columns_between_condition(column, min_value, max_value) }}){{ ',' if not loop.last }}
        {%- endfor %}
    ))
    from {{ model }}
) as checked
where out_of_range
{% endmacro %}

{% macro default__test_columns_not_null(model, columns) %}
{%- for column in columns %}
select '{{ column }}' as column_name, count(*) as null_rows
from {{ model }}
where {{ column }} is null
having count(*) > 0
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% endmacro %}

{% macro spark__test_columns_not_null(model, columns) %}
select column_name, null_rows
from (
    select inline(array(
        {%- for column in columns %}
        named_struct('column_name', '{{ column }}', 'null_rows', null_rows_{{ loop.index }}){{ ',' if not loop.last }}
        {%- endfor %}
    ))
    from (
        select
            {%- for column in columns %}
            count(case when {{ column }} is null then 1 end) as null_rows_{{ loop.index }}{{ ',' if not loop.last }}
            {%- endfor %}
        from {{ model }}
    ) as counts
) as per_column
where null_rows > 0
{% endmacro %}

{% macro default__test_unique_combination_of_columns(model, combination_of_columns, last_column_range=none) %}
{%- set leading, last = combination_of_columns[:-1], combination_of_columns[-1] %}
with

ordered as (

    select
        {{ combination_of_columns | join(', ') }},
        lead({{ last }}) over next_row as next_value,
        lead(1) over next_row as has_next
    from {{ model }}
    window next_row as ({% if leading %}partition by {{ leading | join(', ') }} {% endif %}order by {{ last }})

)

select {{ combination_of_columns | join(', ') }}, count(*) + 1 as n_rows
from ordered
where has_next = 1 and next_value is not distinct from {{ last }}
group by {{ combination_of_columns | join(', ') }}
{% endmacro %}

{% macro duckdb__test_unique_combination_of_columns(model, combination_of_columns, last_column_range=none) %}
{%- if last_column_range is none or combination_of_columns | length < 2 %}
{{ default__test_unique_combination_of_columns(model, combination_of_columns) }}
{%- else %}
{#- The rows whose last column is an integer in [low, low + 127] (e.g. a month of a monthly history): per value of
    the leading columns, count(*) against the number of distinct values, counted as the bits set in two 64-bit masks
    (one pass of a hash aggregation over the leading columns only: ~4x less CPU than sorting 27M rows). Only the
    groups whose counts differ, and the rows outside the range (NULL included), go through the exact GROUP BY that
    names each repeated combination. -#}
{%- set leading, last = combination_of_columns[:-1], combination_of_columns[-1] %}
{%- set low, high = last_column_range[0] | int, last_column_range[1] | int %}
{%- if high < low or high - low > 127 %}
    {{ exceptions.raise_compiler_error("unique_combination_of_columns on " ~ model ~ ": last_column_range must be [low, high] with 0 <= high - low <= 127, got " ~ last_column_range) }}
{%- endif %}
{%- set offset = "(" ~ last ~ " - (" ~ low ~ "))" %}
with

in_range as (

    select
        {{ leading | join(', ') }},
        count(*) as n_rows,
        coalesce(bit_count(bit_or(case when {{ offset }} < 64 then 1::ubigint << cast({{ offset }} as ubigint) end)), 0)
        + coalesce(bit_count(bit_or(case when {{ offset }} >= 64 then 1::ubigint << cast({{ offset }} - 64 as ubigint) end)), 0)
            as n_values
    from {{ model }}
    where {{ last }} between {{ low }} and {{ high }}
    group by {{ leading | join(', ') }}

),

repeated as (

    select {{ leading | join(', ') }} from in_range where n_rows <> n_values

),

suspect as (

    select {{ combination_of_columns | join(', ') }}
    from {{ model }}
    where {{ last }} is null or {{ last }} not between {{ low }} and {{ high }}

    union all

    select {% for column in combination_of_columns %}checked.{{ column }}{{ ', ' if not loop.last }}{% endfor %}
    from {{ model }} as checked
    semi join repeated on {% for column in leading %}checked.{{ column }} is not distinct from repeated.{{ column }}{{ ' and ' if not loop.last }}{% endfor %}
    where checked.{{ last }} between {{ low }} and {{ high }}

)

select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
from suspect
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{%- endif %}
{% endmacro %}

{% macro spark__test_unique_combination_of_columns(model, combination_of_columns, last_column_range=none) %}
select {{ combination_of_columns | join(', ') }}, count(*) as n_rows
from {{ model }}
group by {{ combination_of_columns | join(', ') }}
having count(*) > 1
{% endmacro %}
