-- previous Home Credit applications aggregated to one row per applicant (sk_id_curr)

{%- set all_specs = [
    ['amt_annuity', ['min', 'max', 'mean']],
    ['amt_application', ['min', 'max', 'mean']],
    ['amt_credit', ['min', 'max', 'mean', 'sum']],
    ['application_credit_ratio', ['min', 'max', 'mean', 'var']],
    ['amt_down_payment', ['min', 'max', 'mean']],
    ['amt_goods_price', ['min', 'max', 'mean']],
    ['rate_down_payment', ['min', 'max', 'mean']],
    ['days_decision', ['min', 'max', 'mean']],
    ['cnt_payment', ['mean', 'sum']],
    ['payments_credit_ratio', ['max', 'mean']],
    ['interest_rate_proxy', ['min', 'max', 'mean']],
    ['days_first_due', ['mean']],
    ['days_last_due_1st_version', ['max', 'mean']],
    ['days_termination', ['max', 'mean']],
    ['early_repayment_days', ['mean', 'max']],
    ['sellerplace_area', ['mean']],
] -%}
{%- set approved_specs = [
    ['amt_annuity', ['min', 'max', 'mean']],
    ['amt_application', ['mean']],
    ['amt_credit', ['min', 'max', 'mean', 'sum']],
    ['application_credit_ratio', ['min', 'max', 'mean', 'var']],
    ['amt_down_payment', ['mean']],
    ['amt_goods_price', ['mean']],
    ['days_decision', ['min', 'max', 'mean']],
    ['cnt_payment', ['mean', 'sum']],
    ['interest_rate_proxy', ['min', 'max', 'mean']],
    ['days_last_due_1st_version', ['max']],
] -%}
{%- set refused_specs = [
    ['amt_annuity', ['mean']],
    ['amt_application', ['mean']],
    ['amt_credit', ['mean']],
    ['application_credit_ratio', ['min', 'mean']],
    ['days_decision', ['max', 'mean']],
    ['cnt_payment', ['mean']],
] -%}
{%- set contract_types = ['Cash loans', 'Consumer loans', 'Revolving loans'] -%}
{%- set yield_groups = ['high', 'middle', 'low_normal', 'low_action'] -%}
{%- set last_n = [1, 3, 5] -%}
{#- DuckDB: the last 5 applications of each applicant taken by one `max_by(..., 5)` in the aggregation (newest first:
    decided before undecided, then days_decision, then sk_id_prev, both descending, like the window's row_number) and
    averaged with list_avg: no window, which sorts every column of the 1.6M rows (3.8 -> 3.4 CPU s at SCALE=1). Other
    engines (Spark) rank the rows with the window. -#}
{%- set by_max_by = target.type == 'duckdb' %}

with

previous_applications as (

    select * from {{ ref('stg_previous_application') }}

),

enriched as (

    select
        sk_id_curr,
        sk_id_prev,
        name_contract_status,
        name_contract_type,
        name_client_type,
        name_yield_group,
        code_reject_reason,
        nflag_insured_on_approval,
        days_last_due_1st_version_anomaly,
        days_termination_anomaly,
        amt_annuity,
        amt_application,
        amt_credit,
        amt_down_payment,
        amt_goods_price,
        hour_appr_process_start,
        rate_down_payment,
        days_decision,
        cnt_payment,
        days_first_due,
        days_last_due_1st_version,
        days_termination,
        sellerplace_area,
        {{ safe_divide('amt_application', 'amt_credit') }} as application_credit_ratio,
        -- total repaid over the credit, and a simple yearly interest-rate proxy from it
        {{ safe_divide('amt_annuity * cnt_payment', 'amt_credit') }} as payments_credit_ratio,
        {{ safe_divide(safe_divide('amt_annuity * cnt_payment', 'amt_credit') ~ ' - 1', 'cnt_payment / 12.0') }}
            as interest_rate_proxy,
        days_last_due_1st_version - days_last_due as early_repayment_days{{ ',' if not by_max_by }}
        {%- if not by_max_by %}
        row_number() over (partition by sk_id_curr order by days_decision desc, sk_id_prev desc) as recency_rank
        {%- endif %}
    from previous_applications

),

per_applicant as (

    select
        sk_id_curr,

        ---------- counts and shares
        count(*) as prev_application_count,
        {{ count_where("name_contract_status = 'Approved'") }} as prev_approved_count,
        {{ count_where("name_contract_status = 'Refused'") }} as prev_refused_count,
        {{ count_where("name_contract_status = 'Canceled'") }} as prev_canceled_count,
        {{ share_where("name_contract_status = 'Approved'") }} as prev_approved_share,
        {{ share_where("name_contract_status = 'Refused'") }} as prev_refused_share,
        {{ level_shares('prev', 'name_contract_type', contract_types) }},
        {{ level_shares('prev', 'name_yield_group', yield_groups) }},
        {{ share_where("name_client_type = 'New'") }} as prev_new_client_share,
        {{ share_where("code_reject_reason = 'SCOFR'") }} as prev_reject_scofr_share,
        {{ share_where("nflag_insured_on_approval") }} as prev_insured_share,
        {{ count_where("days_last_due_1st_version_anomaly or days_last_due_1st_version > 0") }} as prev_ongoing_count,
        {{ share_where("days_termination_anomaly") }} as prev_days_termination_anomaly_share,

        ---------- all previous applications
        {{ agg_columns('prev', all_specs) }},

        ---------- approved ones
        {{ agg_columns('prev_approved', approved_specs, where="name_contract_status = 'Approved'") }},

        ---------- refused ones
        {{ agg_columns('prev_refused', refused_specs, where="name_contract_status = 'Refused'") }},

        ---------- the last 1 / 3 / 5 applications
        {%- if by_max_by %}
        {%- set one, zero = double_literal('1.0'), double_literal('0.0') %}
        max_by(
            {
                'refused': case when name_contract_status = 'Refused' then {{ one }} else {{ zero }} end,
                'amt_credit': amt_credit,
                'interest_rate_proxy': interest_rate_proxy,
                'days_decision': days_decision
            },
            {
                'decided': days_decision is not null, 'days_decision': coalesce(days_decision, 0),
                'has_id': sk_id_prev is not null, 'sk_id_prev': coalesce(sk_id_prev, 0)
            },
            {{ last_n | max }}
        ) as last_applications
        {%- else %}
        {%- for n in last_n %}
        {{ share_where("name_contract_status = 'Refused'", within="recency_rank <= " ~ n) }} as prev_last{{ n }}_refused_share,
        avg(case when recency_rank <= {{ n }} then amt_credit end) as prev_last{{ n }}_amt_credit_mean,
        avg(case when recency_rank <= {{ n }} then interest_rate_proxy end) as prev_last{{ n }}_interest_rate_proxy_mean,
        avg(case when recency_rank <= {{ n }} then days_decision end) as prev_last{{ n }}_days_decision_mean{{ ',' if not loop.last }}
        {%- endfor %}
        {%- endif %}

    from enriched
    group by sk_id_curr

)

{% if by_max_by -%}
{%- set last_columns = [] -%}
{%- for n in last_n -%}
    {%- for name, field in [('refused_share', 'refused'), ('amt_credit_mean', 'amt_credit'),
                            ('interest_rate_proxy_mean', 'interest_rate_proxy'),
                            ('days_decision_mean', 'days_decision')] -%}
        {%- do last_columns.append((n, name, field)) -%}
    {%- endfor -%}
{%- endfor -%}
select
    * exclude (last_applications),
    {%- for n, name, field in last_columns %}
    list_avg(list_transform(last_applications[1:{{ n }}], lambda a: a.{{ field }})) as prev_last{{ n }}_{{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
from per_applicant
{%- else -%}
select * from per_applicant
{%- endif %}
