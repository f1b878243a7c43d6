-- engineered features of the application itself, one row per applicant (formulas in the YAML docs)

{%- set documents = range(2, 22) -%}
{%- set contacts = ['flag_mobil', 'flag_emp_phone', 'flag_work_phone', 'flag_cont_mobile', 'flag_phone', 'flag_email'] -%}
{%- set region_flags = ['reg_region_not_live_region', 'reg_region_not_work_region', 'live_region_not_work_region',
                        'reg_city_not_live_city', 'reg_city_not_work_city', 'live_city_not_work_city'] -%}
{%- set bureau_requests = ['hour', 'day', 'week', 'mon', 'qrt', 'year'] -%}
{%- set building_avg = ['apartments', 'basementarea', 'years_beginexpluatation', 'years_build', 'commonarea',
                        'elevators', 'entrances', 'floorsmax', 'floorsmin', 'landarea', 'livingapartments',
                        'livingarea', 'nonlivingapartments', 'nonlivingarea'] %}

with

applications as (

    select * from {{ ref('int_applications') }}

),

ext_sources as (

    select
        sk_id_curr,
        (case when ext_source_1 is null then 0 else 1 end
            + case when ext_source_2 is null then 0 else 1 end
            + case when ext_source_3 is null then 0 else 1 end) as ext_source_n,
        coalesce(ext_source_1, 0) + coalesce(ext_source_2, 0) + coalesce(ext_source_3, 0) as ext_source_total
    from applications

),

features as (

    select
        applications.sk_id_curr,

        ---------- amounts and ratios
        {{ safe_divide('applications.amt_credit', 'applications.amt_income_total') }} as credit_income_ratio,
        {{ safe_divide('applications.amt_annuity', 'applications.amt_income_total') }} as annuity_income_ratio,
        {{ safe_divide('applications.amt_credit', 'applications.amt_annuity') }} as credit_annuity_ratio,
        {{ safe_divide('applications.amt_annuity', 'applications.amt_credit') }} as annuity_credit_ratio,
        {{ safe_divide('applications.amt_credit', 'applications.amt_goods_price') }} as credit_goods_ratio,
        applications.amt_credit - applications.amt_goods_price as credit_goods_diff,
        {{ safe_divide('applications.amt_income_total', 'applications.cnt_fam_members') }} as income_per_family_member,
        {{ safe_divide('applications.amt_income_total', '1 + applications.cnt_children') }} as income_per_child_plus_one,
        {{ safe_divide('applications.amt_annuity', 'applications.cnt_fam_members') }} as annuity_per_family_member,
        {{ safe_divide('applications.amt_income_total - applications.amt_annuity', 'applications.cnt_fam_members') }}
            as disposable_income_per_family_member,
        {{ safe_divide('applications.cnt_children', 'applications.cnt_fam_members') }} as children_ratio,

        ---------- time
        cast(applications.days_birth as {{ type_double() }}) / -365.25 as age_years,
        cast(applications.days_employed as {{ type_double() }}) / -365.25 as employed_years,
        {{ safe_divide('applications.days_employed', 'applications.days_birth') }} as employed_age_ratio,
        {{ safe_divide('applications.days_registration', 'applications.days_birth') }} as registration_age_ratio,
        {{ safe_divide('applications.days_id_publish', 'applications.days_birth') }} as id_publish_age_ratio,
        {{ safe_divide('applications.days_last_phone_change', 'applications.days_birth') }} as phone_change_age_ratio,
        {{ safe_divide('applications.days_last_phone_change', 'applications.days_employed') }} as phone_change_employed_ratio,
        {{ safe_divide('applications.own_car_age', 'cast(applications.days_birth as ' ~ type_double() ~ ') / -365.25') }} as car_age_ratio,
        {{ safe_divide('applications.own_car_age', 'cast(applications.days_employed as ' ~ type_double() ~ ') / -365.25') }} as car_employed_ratio,
        cast(applications.days_birth as {{ type_double() }}) / -365.25
            + {{ safe_divide('applications.amt_credit', 'applications.amt_annuity') }} / 12 as age_at_credit_end_years,

        ---------- external scores
        {{ safe_divide('ext_sources.ext_source_total', 'ext_sources.ext_source_n') }} as ext_source_mean,
        case when ext_sources.ext_source_n > 0
            then least(coalesce(applications.ext_source_1, 1), coalesce(applications.ext_source_2, 1),
                       coalesce(applications.ext_source_3, 1)) end as ext_source_min,
        case when ext_sources.ext_source_n > 0
            then greatest(coalesce(applications.ext_source_1, 0), coalesce(applications.ext_source_2, 0),
                          coalesce(applications.ext_source_3, 0)) end as ext_source_max,
        case when ext_sources.ext_source_n > 0 then sqrt(
            ({% for i in [1, 2, 3] %}case when applications.ext_source_{{ i }} is null then 0
                else (applications.ext_source_{{ i }} - ext_sources.ext_source_total / ext_sources.ext_source_n)
                   * (applications.ext_source_{{ i }} - ext_sources.ext_source_total / ext_sources.ext_source_n) end
             {{ '+' if not loop.last }} {% endfor %}) / ext_sources.ext_source_n) end as ext_source_std,
        applications.ext_source_1 * applications.ext_source_2 * applications.ext_source_3 as ext_source_product,
        (2 * applications.ext_source_1 + applications.ext_source_2 + 3 * applications.ext_source_3) / 6
            as ext_source_weighted,
        3 - ext_sources.ext_source_n as ext_source_missing_count,
        {{ safe_divide('applications.amt_credit', 'applications.amt_annuity') }}
            * {{ safe_divide('ext_sources.ext_source_total', 'ext_sources.ext_source_n') }} as credit_term_x_ext_source_mean,

        ---------- counts of documents and flags
        ({% for i in documents %}coalesce(cast(applications.flag_document_{{ i }} as integer), 0){{ ' + ' if not loop.last }}{% endfor %})
            as document_count,
        ({% for c in contacts %}coalesce(cast(applications.{{ c }} as integer), 0){{ ' + ' if not loop.last }}{% endfor %})
            as contact_flag_count,
        ({% for c in region_flags %}coalesce(cast(applications.{{ c }} as integer), 0){{ ' + ' if not loop.last }}{% endfor %})
            as region_mismatch_count,
        ({% for c in building_avg %}case when applications.{{ c }}_avg is null then 1 else 0 end{{ ' + ' if not loop.last }}{% endfor %})
            as building_info_missing_count,
        case when {% for p in bureau_requests %}applications.amt_req_credit_bureau_{{ p }} is null{{ ' and ' if not loop.last }}{% endfor %}
            then null else
            ({% for p in bureau_requests %}coalesce(applications.amt_req_credit_bureau_{{ p }}, 0){{ ' + ' if not loop.last }}{% endfor %})
            end as amt_req_credit_bureau_total,
        applications.region_rating_client_w_city - applications.region_rating_client as region_rating_city_diff,
        {{ safe_divide('applications.def_30_cnt_social_circle', 'applications.obs_30_cnt_social_circle') }}
            as social_circle_def_30_rate,
        {{ safe_divide('applications.def_60_cnt_social_circle', 'applications.obs_60_cnt_social_circle') }}
            as social_circle_def_60_rate

    from applications
    inner join ext_sources
        on applications.sk_id_curr = ext_sources.sk_id_curr

)

select * from features
