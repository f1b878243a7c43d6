-- the training rows of applicant_features (labelled applicants of application_train), for modeling.
-- A view (no second copy of the wide table) naming its table without the catalog, so it keeps working
-- whatever name the file is opened or attached under.

{{ config(materialized='view') }}

with

features as (

    select * from {{ ref('applicant_features').include(database=false) }}

)

select
    features.sk_id_curr,
    features.target,
    {{ columns_of(ref('applicant_features'), 'features', except=['sk_id_curr', 'dataset', 'target']) }}
from features
where features.dataset = 'train'
