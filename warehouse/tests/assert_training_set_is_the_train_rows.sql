-- training_set holds exactly the labelled (dataset = 'train') applicants of applicant_features

with

train as (

    select sk_id_curr, target from {{ ref('applicant_features') }} where dataset = 'train'

),

training_set as (

    select sk_id_curr, target from {{ ref('training_set') }}

)

select coalesce(train.sk_id_curr, training_set.sk_id_curr) as sk_id_curr
from train
full outer join training_set
    on train.sk_id_curr = training_set.sk_id_curr
where train.sk_id_curr is null or training_set.sk_id_curr is null or train.target <> training_set.target
