{#
    The column list of an upstream relation, introspected when the model is compiled (the upstream is
    built by then), so compiled SQL names every column explicitly: portable (no `select * exclude`)
    and exactly what online scoring replays from `meta_feature_sql`.
    `coalesce_zero_suffixes`: columns whose name ends so (counts) get `coalesce(x, 0)`, for left joins
    where "no history row" means a count of 0.
#}
{% macro columns_of(relation, alias, except=[], coalesce_zero_suffixes=[]) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set cols = adapter.get_columns_in_relation(relation) -%}
    {%- set ns = namespace(items=[]) -%}
    {%- for col in cols if col.name | lower not in except -%}
        {%- set name = col.name | lower -%}
        {%- set ns.zero = false -%}
        {%- for suffix in coalesce_zero_suffixes if name.endswith(suffix) -%}{%- set ns.zero = true -%}{%- endfor -%}
        {%- if ns.zero -%}
            {%- do ns.items.append('coalesce(' ~ alias ~ '.' ~ name ~ ', 0) as ' ~ name) -%}
        {%- else -%}
            {%- do ns.items.append(alias ~ '.' ~ name) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(ns.items | join(',\n        ')) }}
{%- endmacro %}
