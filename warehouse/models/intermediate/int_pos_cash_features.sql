-- monthly POS / cash loan balances aggregated to one row per applicant (sk_id_curr)

{%- set all_specs = [
    ['months_balance', ['min', 'max', 'mean']],
    ['cnt_instalment', ['max', 'mean']],
    ['cnt_instalment_future', ['min', 'mean']],
    ['sk_dpd', ['max', 'mean']],
    ['sk_dpd_def', ['max', 'mean']],
    ['remaining_ratio', ['mean']],
] -%}
{%- set statuses = ['Active', 'Completed', 'Signed', 'Returned to the store'] %}

with

pos_cash as (

    select
        sk_id_curr,
        sk_id_prev,
        months_balance,
        cnt_instalment,
        cnt_instalment_future,
        name_contract_status,
        sk_dpd,
        sk_dpd_def,
        {{ safe_divide('cnt_instalment_future', 'cnt_instalment') }} as remaining_ratio
    from {{ ref('stg_pos_cash_balance') }}

),

per_applicant as (

    select
        sk_id_curr,
        count(*) as pos_month_count,
        count(distinct sk_id_prev) as pos_loan_count,
        {{ level_shares('pos', 'name_contract_status', statuses) }},
        {{ share_where('sk_dpd > 0') }} as pos_dpd_share,
        {{ share_where('sk_dpd_def > 0') }} as pos_dpd_def_share,
        {{ agg_columns('pos', all_specs) }},

        ---------- the last 12 months
        {{ share_where('sk_dpd > 0', within='months_balance >= -12') }} as pos_last12m_dpd_share,
        max(case when months_balance >= -12 then sk_dpd end) as pos_last12m_sk_dpd_max,
        avg(case when months_balance >= -12 then remaining_ratio end) as pos_last12m_remaining_ratio_mean
    from pos_cash
    group by sk_id_curr

)

select * from per_applicant
