-- applicant_features has exactly one row per applicant of application_train and application_test
-- (no applicant lost, none duplicated, none invented)

with

expected as (

    select sk_id_curr from {{ ref('stg_application_train') }}
    union all
    select sk_id_curr from {{ ref('stg_application_test') }}

),

actual as (

    select sk_id_curr, count(*) as n_rows
    from {{ ref('applicant_features') }}
    group by sk_id_curr

)

select
    coalesce(expected.sk_id_curr, actual.sk_id_curr) as sk_id_curr,
    actual.n_rows
from expected
full outer join actual
    on expected.sk_id_curr = actual.sk_id_curr
where actual.n_rows is null or actual.n_rows <> 1 or expected.sk_id_curr is null
