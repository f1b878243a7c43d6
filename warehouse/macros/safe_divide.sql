{# the 8-byte floating type (dbt.type_float() maps to a 4-byte FLOAT on DuckDB) #}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}double{%- endmacro %}

{# a / b as a double, NULL when b is 0 or NULL (portable: no adapter-specific division semantics) #}
{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ type_double() }}) / nullif(cast({{ denominator }} as {{ type_double() }}), 0))
{%- endmacro %}

{#
    A numeric literal that must be a double. DuckDB: the literal as written (its avg of a DECIMAL is a DOUBLE).
    Spark: `1.0` is a DECIMAL(2,1) and avg() of it a DECIMAL rounded to 5 places, so it is cast to double.
#}
{% macro double_literal(value) -%}
    {{ return(adapter.dispatch('double_literal')(value)) }}
{%- endmacro %}

{% macro default__double_literal(value) -%}{{ value }}{%- endmacro %}

{% macro spark__double_literal(value) -%}cast({{ value }} as double){%- endmacro %}
