-- the training rows of applicant_features (labelled applicants of application_train), for modeling

with

features as (

    select * from {{ ref('applicant_features') }}

)

select
    features.sk_id_curr,
    features.target,
    {{ columns_of(ref('applicant_features'), 'features', except=['sk_id_curr', 'dataset', 'target']) }}
from features
where features.dataset = 'train'
