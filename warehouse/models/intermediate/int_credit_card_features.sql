-- monthly credit-card balances aggregated to one row per applicant (sk_id_curr)

{%- set all_specs = [
    ['months_balance', ['min', 'mean']],
    ['amt_balance', ['max', 'mean', 'sum', 'var']],
    ['amt_credit_limit_actual', ['max', 'mean']],
    ['amt_drawings_atm_current', ['mean', 'sum']],
    ['amt_drawings_current', ['max', 'mean', 'sum']],
    ['amt_drawings_pos_current', ['mean']],
    ['amt_inst_min_regularity', ['max', 'mean']],
    ['amt_payment_current', ['max', 'mean', 'sum']],
    ['amt_payment_total_current', ['mean', 'sum']],
    ['amt_receivable_principal', ['mean']],
    ['amt_total_receivable', ['mean']],
    ['cnt_drawings_atm_current', ['mean']],
    ['cnt_drawings_current', ['max', 'mean', 'sum']],
    ['cnt_drawings_pos_current', ['mean']],
    ['cnt_instalment_mature_cum', ['mean']],
    ['sk_dpd', ['max', 'mean']],
    ['sk_dpd_def', ['mean']],
    ['utilization', ['max', 'mean', 'var']],
    ['drawings_limit_ratio', ['max', 'mean']],
    ['payment_min_ratio', ['min', 'mean']],
] -%}
{%- set recent_specs = [
    ['utilization', ['max', 'mean']],
    ['amt_balance', ['mean']],
    ['amt_drawings_current', ['mean']],
    ['payment_min_ratio', ['mean']],
] %}

with

card_months as (

    select
        sk_id_curr,
        sk_id_prev,
        months_balance,
        name_contract_status,
        amt_balance,
        amt_credit_limit_actual,
        amt_drawings_atm_current,
        amt_drawings_current,
        amt_drawings_pos_current,
        amt_inst_min_regularity,
        amt_payment_current,
        amt_payment_total_current,
        amt_receivable_principal,
        amt_total_receivable,
        cnt_drawings_atm_current,
        cnt_drawings_current,
        cnt_drawings_pos_current,
        cnt_instalment_mature_cum,
        sk_dpd,
        sk_dpd_def,
        {{ safe_divide('amt_balance', 'amt_credit_limit_actual') }} as utilization,
        {{ safe_divide('amt_drawings_current', 'amt_credit_limit_actual') }} as drawings_limit_ratio,
        {{ safe_divide('amt_payment_current', 'amt_inst_min_regularity') }} as payment_min_ratio,
        max(months_balance) over (partition by sk_id_curr) as last_month
    from {{ ref('stg_credit_card_balance') }}

),

per_applicant as (

    select
        sk_id_curr,
        count(*) as cc_month_count,
        count(distinct sk_id_prev) as cc_card_count,
        {{ share_where("name_contract_status = 'Active'") }} as cc_name_contract_status_active_share,
        {{ share_where('sk_dpd > 0') }} as cc_dpd_share,
        {{ share_where('amt_payment_current < amt_inst_min_regularity') }} as cc_below_min_payment_share,
        {{ agg_columns('cc', all_specs) }},

        ---------- the last 12 months, and the most recent month
        {{ agg_columns('cc_last12m', recent_specs, where='months_balance >= -12') }},
        {{ share_where('sk_dpd > 0', within='months_balance >= -12') }} as cc_last12m_dpd_share,
        max(case when months_balance = last_month then utilization end) as cc_last_month_utilization,
        sum(case when months_balance = last_month then amt_balance end) as cc_last_month_amt_balance_sum,
        max(last_month) as cc_last_month_months_balance
    from card_months
    group by sk_id_curr

)

select * from per_applicant
