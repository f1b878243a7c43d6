-- monthly Credit Bureau balances aggregated to one row per bureau credit (sk_id_bureau)

{%- set dpd_statuses = "('1', '2', '3', '4', '5')" %}

with

bureau_balance as (

    select * from {{ ref('stg_bureau_balance') }}

),

by_loan as (

    select
        sk_id_bureau,
        count(*) as bb_months_count,
        min(months_balance) as bb_months_min,
        max(months_balance) as bb_months_max,
        {{ share_where("status = '0'") }} as bb_status_0_share,
        {{ share_where("status in " ~ dpd_statuses) }} as bb_dpd_share,
        {{ share_where("status in ('3', '4', '5')") }} as bb_dpd_60_share,
        {{ share_where("status = 'C'") }} as bb_status_c_share,
        {{ share_where("status = 'X'") }} as bb_status_x_share,
        max(case when status in {{ dpd_statuses }} then cast(status as integer) else 0 end) as bb_worst_status,
        {{ share_where("status in " ~ dpd_statuses, within="months_balance >= -12") }} as bb_last12m_dpd_share,
        max(case when months_balance >= -12 and status in {{ dpd_statuses }} then cast(status as integer)
                 when months_balance >= -12 then 0 end) as bb_last12m_worst_status
    from bureau_balance
    group by sk_id_bureau

)

select * from by_loan
