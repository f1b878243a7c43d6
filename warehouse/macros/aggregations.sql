{#
    Macros that generate the many per-applicant aggregations of the intermediate models.
    Names follow one convention, which docs/warehouse.md and the column docs spell out:
        <prefix>_<column>_<agg>     agg in min | max | mean | sum | var | std
        <prefix>_<what>_count       number of rows matching
        <prefix>_<what>_share       share (0..1) of rows matching
    A `where` condition restricts the aggregate to a subset (e.g. active credits) in the same scan:
    agg(case when <where> then <column> end). Only portable SQL aggregates are used.
#}

{% macro agg_function(agg) -%}
    {%- set fns = {'min': 'min', 'max': 'max', 'mean': 'avg', 'sum': 'sum', 'var': 'var_samp', 'std': 'stddev_samp'} -%}
    {%- if agg not in fns -%}
        {{ exceptions.raise_compiler_error("unknown aggregation '" ~ agg ~ "', expected one of " ~ fns.keys() | list) }}
    {%- endif -%}
    {{ return(fns[agg]) }}
{%- endmacro %}

{# specs: list of [column, [aggs]] pairs (a list keeps the column order stable) #}
{% macro agg_columns(prefix, specs, where=none) -%}
    {%- set items = [] -%}
    {%- for column, aggs in specs -%}
        {%- set value = column if where is none else 'case when ' ~ where ~ ' then ' ~ column ~ ' end' -%}
        {%- for agg in aggs -%}
            {%- set expression = agg_function(agg) ~ '(' ~ value ~ ')' -%}
            {%- if agg == 'sum' -%}{# sums of integer columns would be HUGEINT: keep every sum a double #}
                {%- set expression = 'cast(' ~ expression ~ ' as ' ~ type_double() ~ ')' -%}
            {%- endif -%}
            {%- do items.append(expression ~ ' as ' ~ prefix ~ '_' ~ column ~ '_' ~ agg) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(items | join(',\n        ')) }}
{%- endmacro %}

{# count(...) rather than sum(case ... 1 else 0): a BIGINT everywhere (a sum of integers is HUGEINT on DuckDB) #}
{% macro count_where(condition) -%}
    count(case when {{ condition }} then 1 end)
{%- endmacro %}

{% macro share_where(condition, within=none) -%}
    {%- set one, zero = double_literal('1.0'), double_literal('0.0') -%}
    {%- if within is none -%}
    avg(case when {{ condition }} then {{ one }} else {{ zero }} end)
    {%- else -%}
    avg(case when {{ within }} then (case when {{ condition }} then {{ one }} else {{ zero }} end) end)
    {%- endif -%}
{%- endmacro %}

{# share of rows per level of a categorical column: <prefix>_<column>_<level slug>_share #}
{% macro level_shares(prefix, column, levels) -%}
    {%- set items = [] -%}
    {%- for level in levels -%}
        {%- set slug = modules.re.sub('[^a-z0-9]+', '_', level | lower) | trim('_') -%}
        {%- do items.append(share_where(column ~ " = '" ~ level ~ "'") ~ ' as ' ~ prefix ~ '_' ~ column ~ '_' ~ slug ~ '_share') -%}
    {%- endfor -%}
    {{ return(items | join(',\n        ')) }}
{%- endmacro %}
