-- the feature store: one row per applicant of application_train and application_test
-- (ids, dataset, target, the application's columns, engineered application features, then the
-- per-applicant aggregates of every history table; an applicant without history gets NULL aggregates
-- and 0 counts)

-- the last model, joined while nothing else runs: on DuckDB every thread of the build (HC_DUCKDB_LAST_THREADS),
-- then back to the thread count of the other nodes
{{ config(pre_hook="{{ set_duckdb_threads('HC_DUCKDB_LAST_THREADS') }}",
          post_hook="{{ set_duckdb_threads('HC_DUCKDB_THREADS') }}") }}

{%- set history = [
    ['bureau', 'int_bureau_features'],
    ['previous', 'int_previous_application_features'],
    ['pos_cash', 'int_pos_cash_features'],
    ['installments', 'int_installments_features'],
    ['credit_card', 'int_credit_card_features'],
] %}

with

applications as (

    select * from {{ ref('int_applications') }}

),

application_features as (

    select * from {{ ref('int_application_features') }}

),

{% for alias, model in history -%}
{{ alias }} as (

    select * from {{ ref(model) }}

),

{% endfor -%}

joined as (

    select
        ---------- ids
        applications.sk_id_curr,
        applications.dataset,
        applications.target,

        ---------- application (raw)
        {{ columns_of(ref('int_applications'), 'applications', except=['sk_id_curr', 'dataset', 'target']) }},

        ---------- application (engineered)
        {{ columns_of(ref('int_application_features'), 'application_features', except=['sk_id_curr']) }},
        {%- for alias, model in history %}

        ---------- {{ alias }}
        {{ columns_of(ref(model), alias, except=['sk_id_curr'], coalesce_zero_suffixes=['_count']) }}
        {{- ',' if not loop.last }}
        {%- endfor %}

    from applications
    left join application_features
        on applications.sk_id_curr = application_features.sk_id_curr
    {%- for alias, model in history %}
    left join {{ alias }}
        on applications.sk_id_curr = {{ alias }}.sk_id_curr
    {%- endfor %}

)

select * from joined
