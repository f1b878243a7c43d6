{# rows where the column is outside [min_value, max_value] (NULLs pass; either bound optional) #}
{% test value_between(model, column_name, min_value=none, max_value=none) %}
select {{ column_name }} as offending_value
from {{ model }}
where
    {%- if min_value is not none %} {{ column_name }} < {{ min_value }}{% endif %}
    {%- if min_value is not none and max_value is not none %} or{% endif %}
    {%- if max_value is not none %} {{ column_name }} > {{ max_value }}{% endif %}
{% endtest %}
