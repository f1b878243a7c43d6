{#
    Cross-column plausibility: `column` >= `other` + `plus` on every row where both are known (e.g. the
    family size counts the applicant and the children). Rules live in warehouse/plausibility.json, shared
    with the API. Failing rows name the column and the value.
#}
{% test columns_at_least_column(model, column, other, plus=0) %}
select '{{ column }}' as column_name, cast({{ column }} as {{ type_double() }}) as offending_value,
       cast({{ other }} as {{ type_double() }}) as other_value
from {{ model }}
where {{ column }} < {{ other }} + {{ plus }}
{% endtest %}
