-- Credit Bureau credits (with their monthly balances) aggregated to one row per applicant (sk_id_curr)

{%- set all_specs = [
    ['days_credit', ['min', 'max', 'mean', 'var']],
    ['days_credit_enddate', ['min', 'max', 'mean']],
    ['days_enddate_fact', ['max', 'mean']],
    ['days_credit_update', ['max', 'mean']],
    ['credit_day_overdue', ['max', 'mean']],
    ['amt_credit_max_overdue', ['max', 'mean']],
    ['cnt_credit_prolong', ['sum']],
    ['amt_credit_sum', ['max', 'mean', 'sum']],
    ['amt_credit_sum_debt', ['max', 'mean', 'sum']],
    ['amt_credit_sum_overdue', ['max', 'mean', 'sum']],
    ['amt_credit_sum_limit', ['mean', 'sum']],
    ['amt_annuity', ['max', 'mean']],
    ['debt_credit_ratio', ['max', 'mean']],
    ['credit_duration_days', ['mean']],
    ['bb_months_count', ['mean']],
    ['bb_months_min', ['min']],
    ['bb_dpd_share', ['max', 'mean']],
    ['bb_dpd_60_share', ['mean']],
    ['bb_status_0_share', ['mean']],
    ['bb_status_c_share', ['mean']],
    ['bb_status_x_share', ['mean']],
    ['bb_worst_status', ['max']],
    ['bb_last12m_dpd_share', ['max', 'mean']],
    ['bb_last12m_worst_status', ['max']],
] -%}
{%- set active_specs = [
    ['days_credit', ['min', 'max', 'mean']],
    ['days_credit_enddate', ['min', 'max', 'mean']],
    ['credit_day_overdue', ['max', 'mean']],
    ['amt_credit_sum', ['max', 'mean', 'sum']],
    ['amt_credit_sum_debt', ['max', 'mean', 'sum']],
    ['amt_credit_sum_overdue', ['mean', 'sum']],
    ['amt_credit_sum_limit', ['mean', 'sum']],
    ['amt_annuity', ['mean', 'sum']],
    ['debt_credit_ratio', ['mean']],
    ['bb_months_count', ['mean']],
    ['bb_dpd_share', ['mean']],
] -%}
{%- set closed_specs = [
    ['days_credit', ['min', 'max', 'mean']],
    ['days_enddate_fact', ['max', 'mean']],
    ['amt_credit_sum', ['max', 'mean', 'sum']],
    ['amt_credit_sum_debt', ['max', 'sum']],
    ['amt_credit_max_overdue', ['max']],
    ['bb_dpd_share', ['mean']],
] -%}
{%- set credit_types = ['Consumer credit', 'Credit card', 'Car loan', 'Mortgage', 'Microloan'] -%}
{%- set windows = [['last6m', -183], ['last12m', -365], ['last24m', -730]] %}

with

bureau as (

    select * from {{ ref('stg_bureau') }}

),

balance_by_loan as (

    select * from {{ ref('int_bureau_balance_by_loan') }}

),

credits as (

    select
        bureau.sk_id_curr,
        bureau.sk_id_bureau,
        bureau.credit_active,
        bureau.credit_currency,
        bureau.credit_type,
        bureau.days_credit,
        bureau.days_credit_enddate,
        bureau.days_enddate_fact,
        bureau.days_credit_update,
        bureau.credit_day_overdue,
        bureau.amt_credit_max_overdue,
        bureau.cnt_credit_prolong,
        bureau.amt_credit_sum,
        bureau.amt_credit_sum_debt,
        bureau.amt_credit_sum_overdue,
        bureau.amt_credit_sum_limit,
        bureau.amt_annuity,
        {{ safe_divide('bureau.amt_credit_sum_debt', 'bureau.amt_credit_sum') }} as debt_credit_ratio,
        bureau.days_credit_enddate - bureau.days_credit as credit_duration_days,
        balance_by_loan.bb_months_count,
        balance_by_loan.bb_months_min,
        balance_by_loan.bb_dpd_share,
        balance_by_loan.bb_dpd_60_share,
        balance_by_loan.bb_status_0_share,
        balance_by_loan.bb_status_c_share,
        balance_by_loan.bb_status_x_share,
        balance_by_loan.bb_worst_status,
        balance_by_loan.bb_last12m_dpd_share,
        balance_by_loan.bb_last12m_worst_status
    from bureau
    left join balance_by_loan
        on bureau.sk_id_bureau = balance_by_loan.sk_id_bureau

),

per_applicant as (

    select
        sk_id_curr,

        ---------- counts and shares
        count(*) as bureau_credit_count,
        {{ count_where("credit_active = 'Active'") }} as bureau_active_count,
        {{ count_where("credit_active = 'Closed'") }} as bureau_closed_count,
        {{ count_where("credit_active in ('Sold', 'Bad debt')") }} as bureau_sold_or_bad_debt_count,
        {{ share_where("credit_active = 'Active'") }} as bureau_active_share,
        {{ count_where("credit_currency <> 'currency 1'") }} as bureau_foreign_currency_count,
        {{ count_where("credit_day_overdue > 0") }} as bureau_overdue_count,
        {{ count_where("bb_months_count is not null") }} as bureau_with_balance_count,
        {{ level_shares('bureau', 'credit_type', credit_types) }},

        ---------- all credits
        {{ agg_columns('bureau', all_specs) }},

        ---------- active credits
        {{ agg_columns('bureau_active', active_specs, where="credit_active = 'Active'") }},
        {{ safe_divide("sum(case when credit_active = 'Active' then amt_credit_sum_debt end)",
                       "sum(case when credit_active = 'Active' then amt_credit_sum end)") }} as bureau_active_total_debt_credit_ratio,

        ---------- closed credits
        {{ agg_columns('bureau_closed', closed_specs, where="credit_active = 'Closed'") }},

        ---------- recency windows (credits opened in the last 6 / 12 / 24 months)
        {%- for name, days in windows %}
        {{ count_where("days_credit >= " ~ days) }} as bureau_{{ name }}_count,
        sum(case when days_credit >= {{ days }} then amt_credit_sum end) as bureau_{{ name }}_amt_credit_sum_sum,
        sum(case when days_credit >= {{ days }} then amt_credit_sum_debt end) as bureau_{{ name }}_amt_credit_sum_debt_sum,
        max(case when days_credit >= {{ days }} then credit_day_overdue end) as bureau_{{ name }}_credit_day_overdue_max{{ ',' if not loop.last }}
        {%- endfor %}

    from credits
    group by sk_id_curr

)

select * from per_applicant
