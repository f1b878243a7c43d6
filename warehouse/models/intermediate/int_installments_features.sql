-- installment payments of previous credits aggregated to one row per applicant (sk_id_curr)

{%- set all_specs = [
    ['days_past_due', ['max', 'mean', 'sum']],
    ['days_before_due', ['max', 'mean', 'sum']],
    ['payment_ratio', ['min', 'max', 'mean', 'sum', 'var']],
    ['payment_diff', ['max', 'mean', 'sum', 'var']],
    ['amt_instalment', ['max', 'mean', 'sum']],
    ['amt_payment', ['min', 'max', 'mean', 'sum']],
    ['days_entry_payment', ['max', 'mean', 'sum']],
    ['num_instalment_number', ['max', 'mean']],
] -%}
{%- set recent_specs = [
    ['days_past_due', ['max', 'mean']],
    ['payment_ratio', ['mean']],
    ['payment_diff', ['mean', 'sum']],
    ['amt_payment', ['sum']],
] %}

with

installments as (

    select
        sk_id_curr,
        sk_id_prev,
        num_instalment_version,
        num_instalment_number,
        days_instalment,
        days_entry_payment,
        amt_instalment,
        amt_payment,
        {{ safe_divide('amt_payment', 'amt_instalment') }} as payment_ratio,
        amt_instalment - amt_payment as payment_diff,
        case when days_entry_payment is null then null
             when days_entry_payment > days_instalment then days_entry_payment - days_instalment
             else 0 end as days_past_due,
        case when days_entry_payment is null then null
             when days_entry_payment < days_instalment then days_instalment - days_entry_payment
             else 0 end as days_before_due
    from {{ ref('stg_installments_payments') }}

),

per_applicant as (

    select
        sk_id_curr,
        count(*) as inst_payment_count,
        count(distinct num_instalment_version) as inst_version_distinct_count,
        {{ count_where('days_past_due > 0') }} as inst_late_count,
        {{ share_where('days_past_due > 0') }} as inst_late_share,
        {{ share_where('days_past_due > 30') }} as inst_late_30_share,
        {{ share_where('payment_diff > 0') }} as inst_underpaid_share,
        {{ agg_columns('inst', all_specs) }},

        ---------- installments due in the last 365 days
        {{ count_where('days_instalment >= -365') }} as inst_last365d_count,
        {{ share_where('days_past_due > 0', within='days_instalment >= -365') }} as inst_last365d_late_share,
        {{ agg_columns('inst_last365d', recent_specs, where='days_instalment >= -365') }},

        ---------- trend: recent (last 365 days) minus older lateness
        avg(case when days_instalment >= -365 then days_past_due end)
            - avg(case when days_instalment < -365 then days_past_due end) as inst_days_past_due_trend
    from installments
    group by sk_id_curr

)

select * from per_applicant
