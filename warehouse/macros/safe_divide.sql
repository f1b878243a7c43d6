{# the 8-byte floating type (dbt.type_float() maps to a 4-byte FLOAT on DuckDB) #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double{%- endmacro %}

{# a / b as a double, NULL when b is 0 or NULL (portable: no adapter-specific division semantics) #}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif(cast({{ denominator }} as {{ type_double() }}), 0))
{%- endmacro %}
