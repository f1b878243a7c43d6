-- every applicant of application_train and application_test, one row each, with the raw (staged) columns

with

train as (

    select
        stg_application_train.sk_id_curr,
        cast('train' as {{ dbt.type_string() }}) as dataset,
        stg_application_train.target,
        {{ columns_of(ref('stg_application_train'), 'stg_application_train', except=['sk_id_curr', 'target']) }}
    from {{ ref('stg_application_train') }} as stg_application_train

),

test as (

    select
        stg_application_test.sk_id_curr,
        cast('test' as {{ dbt.type_string() }}) as dataset,
        cast(null as integer) as target,
        {{ columns_of(ref('stg_application_train'), 'stg_application_test', except=['sk_id_curr', 'target']) }}
    from {{ ref('stg_application_test') }} as stg_application_test

),

unioned as (

    select * from train
    union all
    select * from test

)

select * from unioned
