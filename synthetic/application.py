"""Applicants: the 121 application columns, drawn from the fitted marginals with the key dependencies.

Three latent factors per applicant tie columns together through a Gaussian copula (each column keeps
its fitted marginal): ``risk`` (external scores, behaviour in the history tables), ``wealth`` (income,
goods price, car, education) and ``age``. Structural columns are derived: credit from goods price,
annuity from credit, employment length within working age, family size from children and status.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.frame import Frame, cat
from synthetic.stats import CategoricalMarginal, NumericMarginal, Stats, phi

SENTINEL = 365243.0
BUILDING_BASES = (
    "APARTMENTS", "BASEMENTAREA", "YEARS_BEGINEXPLUATATION", "YEARS_BUILD", "COMMONAREA", "ELEVATORS",
    "ENTRANCES", "FLOORSMAX", "FLOORSMIN", "LANDAREA", "LIVINGAPARTMENTS", "LIVINGAREA",
    "NONLIVINGAPARTMENTS", "NONLIVINGAREA",
)  # fmt: skip
BUILDING_OTHER = (
    "FONDKAPREMONT_MODE",
    "HOUSETYPE_MODE",
    "TOTALAREA_MODE",
    "WALLSMATERIAL_MODE",
    "EMERGENCYSTATE_MODE",
)


@dataclass
class Latents:
    risk: np.ndarray  # standard normal, higher = riskier
    wealth: np.ndarray
    age: np.ndarray


def _copula(rng: np.random.Generator, factor: np.ndarray, rho: float) -> np.ndarray:
    """Uniforms whose normal scores correlate ``rho`` with ``factor``."""
    return phi(rho * factor + np.sqrt(1.0 - rho * rho) * rng.standard_normal(factor.size))


def _mix(rng: np.random.Generator, *loadings: tuple[np.ndarray, float]) -> np.ndarray:
    """Uniforms whose normal scores load on several independent standard-normal factors."""
    z = sum(w * f for f, w in loadings)
    rest = 1.0 - sum(w * w for _, w in loadings)
    assert rest > 0, "loadings too large"
    return phi(z + np.sqrt(rest) * rng.standard_normal(loadings[0][0].size))


def _cat_col(stats: Stats, T: str, rng: np.random.Generator, col: str, n: int, u: np.ndarray | None = None):
    m = stats.cat(T, col)
    return cat(m.sample_codes(rng, n, u), m.levels)


def _cond_cat(stats: Stats, T: str, rng, name: str, parents: dict, u: np.ndarray | None = None):
    levels = stats.cat(T, stats.cond(T, name).child).levels
    return cat(stats.cond(T, name).sample_codes(rng, parents, levels, u), levels)


def generate_applicants(
    rng: np.random.Generator, n: int, stats: Stats, table: str = "application_train"
) -> tuple[Frame, Latents]:
    """Application columns (without SK_ID_CURR / TARGET) for ``n`` applicants, from the statistics of
    ``table`` (the test applicants have their own marginals, as in Kaggle)."""
    T = table
    lat = Latents(rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n))
    f: Frame = {}
    f["NAME_CONTRACT_TYPE"] = _cat_col(stats, T, rng, "NAME_CONTRACT_TYPE", n)
    f["CODE_GENDER"] = _cat_col(stats, T, rng, "CODE_GENDER", n, _copula(rng, lat.risk, 0.15))
    f["FLAG_OWN_CAR"] = _cat_col(stats, T, rng, "FLAG_OWN_CAR", n, _copula(rng, lat.wealth, 0.4))
    f["FLAG_OWN_REALTY"] = _cat_col(stats, T, rng, "FLAG_OWN_REALTY", n)

    # age first: income type, family, housing and several dates depend on it
    birth = stats.num(T, "DAYS_BIRTH").ppf(phi(-lat.age))  # days are negative: older = more negative
    f["DAYS_BIRTH"] = birth
    f["NAME_INCOME_TYPE"] = _cond_cat(stats, T, rng, "NAME_INCOME_TYPE", {"DAYS_BIRTH": birth})
    inc_type = f["NAME_INCOME_TYPE"]
    parents_it = {"NAME_INCOME_TYPE": inc_type}
    share = stats.cond(T, "EMPLOYED_SHARE").sample(rng, {"DAYS_BIRTH": birth}, _copula(rng, lat.age, 0.1))
    share = np.where(np.isnan(share), stats.num(T, "EMPLOYED_SHARE").ppf(rng.random(n)), share)
    employed = np.minimum(np.rint(share * (birth + 18 * 365)), -1.0)
    pension_spike = stats.cond(T, "DAYS_EMPLOYED").sample(rng, parents_it)
    f["DAYS_EMPLOYED"] = np.where(pension_spike == SENTINEL, SENTINEL, employed)
    f["ORGANIZATION_TYPE"] = _cond_cat(stats, T, rng, "ORGANIZATION_TYPE", parents_it)
    f["OCCUPATION_TYPE"] = _cond_cat(stats, T, rng, "OCCUPATION_TYPE", parents_it)
    f["NAME_EDUCATION_TYPE"] = _cond_cat(
        stats, T, rng, "NAME_EDUCATION_TYPE", parents_it, _copula(rng, lat.wealth, 0.3)
    )
    f["AMT_INCOME_TOTAL"] = stats.cond(T, "AMT_INCOME_TOTAL").sample(
        rng, {"NAME_EDUCATION_TYPE": f["NAME_EDUCATION_TYPE"]}, _copula(rng, lat.wealth, 0.75)
    )

    # loan: goods price -> credit -> annuity
    ct = {"NAME_CONTRACT_TYPE": f["NAME_CONTRACT_TYPE"]}
    goods = stats.cond(T, "AMT_GOODS_PRICE").sample(rng, ct, _copula(rng, lat.wealth, 0.65))
    goods_filled = np.where(np.isnan(goods), stats.num(T, "AMT_GOODS_PRICE").ppf(rng.random(n)), goods)
    ratio = stats.cond(T, "CREDIT_OVER_GOODS").sample(rng, {**ct, "AMT_GOODS_PRICE": goods_filled})
    ratio = np.where(np.isnan(ratio), 1.0, ratio)
    credit = np.round(goods_filled * ratio * 2) / 2  # Kaggle credits are multiples of 0.5
    f["AMT_CREDIT"] = np.maximum(credit, 45000.0)
    f["AMT_GOODS_PRICE"] = goods
    a_ratio = stats.cond(T, "ANNUITY_OVER_CREDIT").sample(rng, {**ct, "AMT_CREDIT": f["AMT_CREDIT"]})
    a_ratio = np.where(np.isnan(a_ratio), stats.num(T, "ANNUITY_OVER_CREDIT").ppf(rng.random(n)), a_ratio)
    annuity = np.round(f["AMT_CREDIT"] * a_ratio * 2) / 2
    annuity[rng.random(n) < stats.num(T, "AMT_ANNUITY").missing] = np.nan
    f["AMT_ANNUITY"] = annuity

    f["NAME_TYPE_SUITE"] = _cat_col(stats, T, rng, "NAME_TYPE_SUITE", n)
    f["NAME_FAMILY_STATUS"] = _cond_cat(stats, T, rng, "NAME_FAMILY_STATUS", {"DAYS_BIRTH": birth})
    fam = {"NAME_FAMILY_STATUS": f["NAME_FAMILY_STATUS"]}
    f["CNT_CHILDREN"] = stats.cond(T, "CNT_CHILDREN").sample(rng, {**fam, "DAYS_BIRTH": birth})
    adults = stats.cond(T, "ADULTS").sample(rng, fam)
    adults = np.where(np.isnan(adults), 1.0, np.clip(adults, 1.0, 2.0))
    fm = f["CNT_CHILDREN"] + adults
    fm[rng.random(n) < stats.num(T, "CNT_FAM_MEMBERS").missing] = np.nan
    f["CNT_FAM_MEMBERS"] = fm
    f["NAME_HOUSING_TYPE"] = _cond_cat(stats, T, rng, "NAME_HOUSING_TYPE", {"DAYS_BIRTH": birth})

    f["REGION_RATING_CLIENT"] = stats.num(T, "REGION_RATING_CLIENT").sample(
        rng, n, _mix(rng, (lat.risk, 0.3), (lat.wealth, -0.35))
    )
    rr = {"REGION_RATING_CLIENT": f["REGION_RATING_CLIENT"]}
    f["REGION_RATING_CLIENT_W_CITY"] = stats.cond(T, "REGION_RATING_CLIENT_W_CITY").sample(rng, rr)
    f["REGION_POPULATION_RELATIVE"] = stats.cond(T, "REGION_POPULATION_RELATIVE").sample(rng, rr)
    by_age = {"DAYS_BIRTH": birth}
    f["DAYS_REGISTRATION"] = np.maximum(
        stats.cond(T, "DAYS_REGISTRATION").sample(rng, by_age), birth + 14 * 365
    )
    f["DAYS_ID_PUBLISH"] = np.maximum(stats.cond(T, "DAYS_ID_PUBLISH").sample(rng, by_age), birth + 14 * 365)
    f["OWN_CAR_AGE"] = stats.cond(T, "OWN_CAR_AGE").sample(
        rng, {"FLAG_OWN_CAR": f["FLAG_OWN_CAR"]}, _mix(rng, (lat.wealth, -0.35), (lat.risk, 0.2))
    )

    for c in ("FLAG_MOBIL", "FLAG_WORK_PHONE", "FLAG_CONT_MOBILE", "FLAG_PHONE", "FLAG_EMAIL"):
        f[c] = stats.num(T, c).sample(rng, n)
    f["FLAG_EMP_PHONE"] = stats.cond(T, "FLAG_EMP_PHONE").sample(rng, parents_it)
    f["WEEKDAY_APPR_PROCESS_START"] = _cat_col(stats, T, rng, "WEEKDAY_APPR_PROCESS_START", n)
    f["HOUR_APPR_PROCESS_START"] = stats.num(T, "HOUR_APPR_PROCESS_START").sample(rng, n)
    f["REG_REGION_NOT_LIVE_REGION"] = stats.num(T, "REG_REGION_NOT_LIVE_REGION").sample(rng, n)
    f["REG_CITY_NOT_LIVE_CITY"] = stats.cond(T, "REG_CITY_NOT_LIVE_CITY").sample(
        rng, {"REG_REGION_NOT_LIVE_REGION": f["REG_REGION_NOT_LIVE_REGION"]}
    )
    f["REG_CITY_NOT_WORK_CITY"] = stats.cond(T, "REG_CITY_NOT_WORK_CITY").sample(rng, parents_it)
    f["LIVE_CITY_NOT_WORK_CITY"] = stats.cond(T, "LIVE_CITY_NOT_WORK_CITY").sample(
        rng, {"REG_CITY_NOT_WORK_CITY": f["REG_CITY_NOT_WORK_CITY"]}
    )
    f["REG_REGION_NOT_WORK_REGION"] = stats.cond(T, "REG_REGION_NOT_WORK_REGION").sample(
        rng, {"REG_CITY_NOT_WORK_CITY": f["REG_CITY_NOT_WORK_CITY"]}
    )
    f["LIVE_REGION_NOT_WORK_REGION"] = stats.cond(T, "LIVE_REGION_NOT_WORK_REGION").sample(
        rng, {"REG_REGION_NOT_WORK_REGION": f["REG_REGION_NOT_WORK_REGION"]}
    )

    # external scores: the strongest application signal, tied to the risk factor (and age for #1)
    ext1_u = _mix(rng, (lat.risk, -0.45), (lat.wealth, 0.2))
    f["EXT_SOURCE_1"] = stats.cond(T, "EXT_SOURCE_1").sample(rng, by_age, ext1_u)
    ext2_u = _mix(rng, (lat.risk, -0.45), (lat.wealth, 0.25))
    f["EXT_SOURCE_2"] = stats.num(T, "EXT_SOURCE_2").sample(rng, n, ext2_u)
    ext3_u = _mix(rng, (lat.risk, -0.4), (lat.age, 0.3))
    f["EXT_SOURCE_3"] = stats.num(T, "EXT_SOURCE_3").sample(rng, n, ext3_u)

    _building(f, T, rng, n, stats, lat)
    _social_circle(f, T, rng, n, stats, lat)
    f["DAYS_LAST_PHONE_CHANGE"] = stats.num(T, "DAYS_LAST_PHONE_CHANGE").sample(rng, n)
    for k in range(2, 22):
        c = f"FLAG_DOCUMENT_{k}"
        f[c] = stats.num(T, c).sample(rng, n)
    req_missing = rng.random(n) < stats.num(T, "AMT_REQ_CREDIT_BUREAU_YEAR").missing
    for c in ("HOUR", "DAY", "WEEK", "MON", "QRT", "YEAR"):
        col = f"AMT_REQ_CREDIT_BUREAU_{c}"
        v = stats.num(T, col).ppf(rng.random(n))
        v[req_missing] = np.nan
        f[col] = v
    return f, lat


def _building(f: Frame, T: str, rng: np.random.Generator, n: int, stats: Stats, lat: Latents) -> None:
    """The building block: present or absent as a whole, then nested per-column missingness."""
    miss = {b: stats.num(T, f"{b}_AVG").missing for b in BUILDING_BASES}
    other_miss = {c: stats.m(T, c).missing for c in BUILDING_OTHER}
    p_absent = min([*miss.values(), *other_miss.values()])
    absent = rng.random(n) < p_absent
    completeness = rng.random(n)  # low completeness -> more columns missing (nested pattern)
    size = rng.standard_normal(n) + 0.3 * lat.wealth
    for b in BUILDING_BASES:
        cond_miss = (miss[b] - p_absent) / (1.0 - p_absent)
        missing = absent | (completeness < cond_miss)
        u = phi(0.6 * size + 0.8 * rng.standard_normal(n))
        for suffix in ("AVG", "MODE", "MEDI"):
            m = stats.num(T, f"{b}_{suffix}")
            jitter = 0.0 if suffix == "AVG" else 0.02 * rng.standard_normal(n)
            v = m.ppf(np.clip(u + jitter, 1e-9, 1 - 1e-9))
            v[missing] = np.nan
            f[f"{b}_{suffix}"] = v
    for c in BUILDING_OTHER:
        m = stats.m(T, c)
        cond_miss = (other_miss[c] - p_absent) / (1.0 - p_absent)
        missing = absent | (completeness < cond_miss)
        if isinstance(m, CategoricalMarginal):
            codes = m.codes(rng.random(n))
            codes[missing] = -1
            f[c] = cat(codes, m.levels)
        else:
            assert isinstance(m, NumericMarginal)
            v = m.ppf(phi(0.6 * size + 0.8 * rng.standard_normal(n)))
            v[missing] = np.nan
            f[c] = v


def _social_circle(f: Frame, T: str, rng: np.random.Generator, n: int, stats: Stats, lat: Latents) -> None:
    missing = rng.random(n) < stats.num(T, "OBS_30_CNT_SOCIAL_CIRCLE").missing
    u = rng.random(n)
    obs30 = stats.num(T, "OBS_30_CNT_SOCIAL_CIRCLE").ppf(u)
    obs60 = stats.num(T, "OBS_60_CNT_SOCIAL_CIRCLE").ppf(np.clip(u + 0.01 * rng.standard_normal(n), 0, 1))
    def30 = stats.cond(T, "DEF_30_CNT_SOCIAL_CIRCLE").sample(
        rng, {"OBS_30_CNT_SOCIAL_CIRCLE": obs30}, _copula(rng, lat.risk, 0.3)
    )
    def30 = np.minimum(np.nan_to_num(def30), obs30)
    def60 = stats.cond(T, "DEF_60_CNT_SOCIAL_CIRCLE").sample(rng, {"DEF_30_CNT_SOCIAL_CIRCLE": def30})
    def60 = np.minimum(np.nan_to_num(def60), obs60)
    for c, v in (("OBS_30", obs30), ("DEF_30", def30), ("OBS_60", obs60), ("DEF_60", def60)):
        v = v.astype(float)
        v[missing] = np.nan
        f[f"{c}_CNT_SOCIAL_CIRCLE"] = v
