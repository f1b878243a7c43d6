{#
    Model-level range test over many columns in one query (one test instead of one per column, which
    keeps `dbt build` fast on wide feature tables). Failing rows name the column and the value.
#}
{% test columns_between(model, columns, min_value=none, max_value=none) %}
{%- for column in columns %}
select '{{ column }}' as column_name, cast({{ column }} as {{ type_double() }}) as offending_value
from {{ model }}
where
    {%- if min_value is not none %} {{ column }} < {{ min_value }}{% endif %}
    {%- if min_value is not none and max_value is not none %} or{% endif %}
    {%- if max_value is not none %} {{ column }} > {{ max_value }}{% endif %}
{% if not loop.last %}union all{% endif %}
{%- endfor %}
{% endtest %}
