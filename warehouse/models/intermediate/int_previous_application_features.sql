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
{%- set last_n = [1, 3, 5] %}

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
        days_last_due_1st_version - days_last_due as early_repayment_days,
        row_number() over (partition by sk_id_curr order by days_decision desc, sk_id_prev desc) as recency_rank
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
        {%- for n in last_n %}
        {{ share_where("name_contract_status = 'Refused'", within="recency_rank <= " ~ n) }} as prev_last{{ n }}_refused_share,
        avg(case when recency_rank <= {{ n }} then amt_credit end) as prev_last{{ n }}_amt_credit_mean,
        avg(case when recency_rank <= {{ n }} then interest_rate_proxy end) as prev_last{{ n }}_interest_rate_proxy_mean,
        avg(case when recency_rank <= {{ n }} then days_decision end) as prev_last{{ n }}_days_decision_mean{{ ',' if not loop.last }}
        {%- endfor %}

    from enriched
    group by sk_id_curr

)

select * from per_applicant
