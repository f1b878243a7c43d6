"""Applicants: the 121 application columns, drawn from the fitted statistics with their joint structure.

One draw of the fitted Gaussian copula per applicant gives each column its uniform (value rank and
presence), so columns keep their marginals and move together as in the real rows. Blocks follow the
real patterns (housing columns present or missing together, document flags per contract type); the
categorical hierarchy follows fitted conditionals (employment -> income type -> organisation ->
occupation -> education and income). Structural columns are derived: credit from goods price (or a
standard pair), annuity from credit, employment length within working life, family size from children
and status. The history tables read three factors off the same draw: risk, wealth and age.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from synthetic.frame import Frame, cat
from synthetic.gibbs import sweep
from synthetic.joint import OTHER
from synthetic.stats import CategoricalMarginal, NumericMarginal, Stats

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


DOCUMENT_FLAGS = [f"FLAG_DOCUMENT_{k}" for k in range(2, 22)]
SOCIAL_CIRCLE = ("OBS_30", "DEF_30", "OBS_60", "DEF_60")
REQUESTS = ("HOUR", "DAY", "WEEK", "MON", "QRT", "YEAR")
#: The copula (fitted on the train applicants) serves train and test applicants alike.
COPULA_TABLE = "application_train"
MISSING = ":missing"


def _all(f: Frame) -> np.ndarray:
    return np.ones(_length(f["DAYS_BIRTH"]), dtype=bool)


def _employed(f: Frame) -> np.ndarray:
    return np.asarray(f["DAYS_EMPLOYED"], dtype=float) < SENTINEL


def _entrances_floors(f: Frame) -> np.ndarray:
    """Rows whose building has entrances and floors (> 0): its apartments are drawn per entrance and floor."""
    return (np.nan_to_num(np.asarray(f["ENTRANCES_AVG"], dtype=float)) > 0) & (
        np.nan_to_num(np.asarray(f["FLOORSMAX_AVG"], dtype=float)) > 0
    )


def _length(col) -> int:
    return int(col[0].size) if isinstance(col, tuple) else int(np.asarray(col).size)


SWEEPS = 2
#: Columns drawn again from a tree conditional given all the others (train applicants), in this order,
#: each on the rows where it is present (and the rows of the given function): block missingness and
#: the structural rules (employment, loan amounts, family size, documents) stay as first drawn.
REDRAWN: list[tuple] = [
    ("DAYS_BIRTH", _all),
    ("AMT_ANNUITY", _all, "ANNUITY_OVER_CREDIT"),
    # missing values redrawn too (their presence depends on the others, not on a block)
    *((c, _all, None, True) for c in ("OCCUPATION_TYPE", "EXT_SOURCE_1", "EXT_SOURCE_3", "NAME_TYPE_SUITE")),
    *((c, _all) for c in (
        "NAME_EDUCATION_TYPE", "AMT_INCOME_TOTAL", "CODE_GENDER",
        "FLAG_OWN_REALTY", "NAME_TYPE_SUITE", "NAME_HOUSING_TYPE", "REGION_POPULATION_RELATIVE",
        "DAYS_REGISTRATION", "DAYS_LAST_PHONE_CHANGE", "OWN_CAR_AGE",
        "EXT_SOURCE_2", "FLAG_WORK_PHONE", "FLAG_PHONE", "FLAG_EMAIL",
        "HOUR_APPR_PROCESS_START", "WEEKDAY_APPR_PROCESS_START",
        "REG_REGION_NOT_LIVE_REGION", "REG_REGION_NOT_WORK_REGION", "LIVE_REGION_NOT_WORK_REGION",
        "REG_CITY_NOT_LIVE_CITY", "REG_CITY_NOT_WORK_CITY", "LIVE_CITY_NOT_WORK_CITY",
        *(f"{b}_AVG" for b in BUILDING_BASES), "TOTALAREA_MODE", "FONDKAPREMONT_MODE", "HOUSETYPE_MODE",
        "WALLSMATERIAL_MODE", "EMERGENCYSTATE_MODE",
        *(f"AMT_REQ_CREDIT_BUREAU_{r}" for r in REQUESTS),
    )),
    ("ORGANIZATION_TYPE", _employed),  # XNA <=> not employed stays
    ("DAYS_EMPLOYED", _employed),
]  # fmt: skip
# a building's apartments per entrance and floor, given its entrances and floors: right after their trees, so the
# living apartments and areas below are drawn given the new apartments (drawn after them, they broke the living
# apartments' tie to the apartments: +0.15 for the pair)
REDRAWN.insert(REDRAWN.index(("FLOORSMAX_AVG", _all)) + 1,
               ("APARTMENTS_AVG", _entrances_floors, "APARTMENTS_PER_ENTRANCE_FLOOR"))


@dataclass
class Latents:
    risk: np.ndarray  # standard normal, higher = riskier
    wealth: np.ndarray
    age: np.ndarray


class _Draw:
    """Column samplers of one table fed by one draw of the fitted Gaussian copula: a column's value rank
    comes from its copula variable, its missingness from ``COLUMN:missing`` (independent uniforms for
    columns outside the copula)."""

    def __init__(self, rng: np.random.Generator, n: int, stats: Stats, table: str) -> None:
        self.rng, self.n, self.stats, self.T = rng, n, stats, table
        self.C = COPULA_TABLE  # conditionals and patterns: fitted on the (many more) train applicants
        copula = stats.copulas[COPULA_TABLE]
        self.orders = copula.orders
        self.U = copula.sample(rng, n)

    def u(self, name: str) -> np.ndarray:
        return self.U[name] if name in self.U else self.rng.random(self.n)

    def miss(self, col: str) -> np.ndarray | None:
        return self.U.get(col + MISSING)

    def z(self, name: str) -> np.ndarray:
        return ndtri(self.u(name))

    def num(self, col: str) -> np.ndarray:
        return self.stats.num(self.T, col).sample(self.rng, self.n, self.u(col), self.miss(col))

    def cat(self, col: str):
        m = self.stats.cat(self.T, col)
        return cat(
            m.sample_codes(self.rng, self.n, self.u(col), self.miss(col), self.orders.get(col)), m.levels
        )

    def cond_num(self, name: str, parents: dict, col: str | None = None, own: bool = False) -> np.ndarray:
        """``own``: the table's own conditional (e.g. the test applicants' goods prices), not the train's."""
        table = self.T if own else self.C
        col = col or self.stats.cond(table, name).child
        return self.stats.cond(table, name).sample(
            self.rng, parents, self.u(col), self.miss(col), within_group=True
        )

    def cond_codes(self, name: str, parents: dict, own: bool = False) -> np.ndarray:
        table = self.T if own else self.C
        c = self.stats.cond(table, name)
        levels = self.stats.cat(table, c.child).levels
        return c.sample_codes(
            self.rng,
            parents,
            levels,
            self.u(c.child),
            self.miss(c.child),
            self.orders.get(c.child),
            within_group=True,
        )

    def own_cat(self, name: str, parents: dict):
        """A categorical child from the table's own conditional."""
        c = self.stats.cond(self.T, name)
        return cat(self.cond_codes(name, parents, own=True), self.stats.cat(self.T, c.child).levels)

    def cond_cat(self, name: str, parents: dict, fallback: tuple[str, dict] | None = None):
        """A categorical child of ``parents``; rows whose parent group was too rare in the fit use the
        ``fallback`` conditional (name, parents) instead of the overall marginal."""
        c = self.stats.cond(self.C, name)
        codes = self.cond_codes(name, parents)
        if fallback is not None:
            known = c.known(parents)
            if not known.all():
                codes = np.where(known, codes, self.cond_codes(*fallback))
        return cat(codes, self.stats.cat(self.C, c.child).levels)


def generate_applicants(
    rng: np.random.Generator, n: int, stats: Stats, table: str = "application_train"
) -> tuple[Frame, Latents]:
    """Application columns (without SK_ID_CURR / TARGET) for ``n`` applicants, from the statistics of
    ``table`` (the test applicants have their own marginals, as in Kaggle)."""
    T = table
    d = _Draw(rng, n, stats, T)
    f: Frame = {}
    for c in ("NAME_CONTRACT_TYPE", "CODE_GENDER", "FLAG_OWN_CAR", "FLAG_OWN_REALTY"):
        f[c] = d.cat(c)
    birth = d.num("DAYS_BIRTH")
    f["DAYS_BIRTH"] = birth

    # employment: the 365243 sentinel (pensioners, unemployed) <=> organisation XNA <=> no work phone
    fine_age = {"AGE_FINE": birth}
    sentinel = d.cond_num("NOT_EMPLOYED", fine_age, "DAYS_EMPLOYED") == 1.0
    share = d.cond_num("EMPLOYED_SHARE", fine_age)
    share = np.where(np.isnan(share), stats.num(T, "EMPLOYED_SHARE").ppf(rng.random(n)), share)
    # a share of the working life, at most all of it: the share's fitted tail runs past 1 (its uniform tail of the
    # mean of the 50 largest; a group's up to 1.08), which put a few applicants' employment before their 18th
    # birthday (1-3 per 9,000 at scale 0.03), kept by the sweeps' bound (a redraw that breaks it keeps the old value)
    employed = np.minimum(np.rint(np.clip(share, 0.0, 1.0) * (birth + 18 * 365)), -1.0)
    f["DAYS_EMPLOYED"] = np.where(sentinel, SENTINEL, employed)
    inc_type = d.cond_cat("NAME_INCOME_TYPE", {"DAYS_EMPLOYED": f["DAYS_EMPLOYED"], "DAYS_BIRTH": birth})
    # age groups too rare in the fit draw from the overall marginal: keep the not-employed consistent
    not_working = [i for i, lv in enumerate(inc_type[1]) if lv in ("Pensioner", "Unemployed")]
    if not_working:
        fix = sentinel & ~np.isin(inc_type[0], not_working)
        inc_type = (np.where(fix, inc_type[1].index("Pensioner"), inc_type[0]), inc_type[1])
    f["NAME_INCOME_TYPE"] = inc_type
    parents_it = {"NAME_INCOME_TYPE": inc_type}
    org_codes, org_levels = d.cond_cat("ORGANIZATION_TYPE", parents_it)
    if "XNA" in org_levels:
        xna = org_levels.index("XNA")
        stray = ~sentinel & (org_codes == xna)  # e.g. the rare employed pensioner: an employer as a worker
        if stray.any() and "Working" in inc_type[1]:
            working = cat(np.full(n, inc_type[1].index("Working")), inc_type[1])
            org_codes = np.where(
                stray, d.cond_codes("ORGANIZATION_TYPE", {"NAME_INCOME_TYPE": working}), org_codes
            )
        org_codes = np.where(sentinel, xna, org_codes)
    f["ORGANIZATION_TYPE"] = cat(org_codes, org_levels)
    gender = {"CODE_GENDER": f["CODE_GENDER"]}
    f["OCCUPATION_TYPE"] = d.cond_cat(
        "OCCUPATION_BY_ORG",
        {"ORGANIZATION_TYPE": f["ORGANIZATION_TYPE"], **gender},
        ("OCCUPATION_TYPE", {**parents_it, **gender}),
    )
    occ = {"OCCUPATION_TYPE": f["OCCUPATION_TYPE"]}
    f["NAME_EDUCATION_TYPE"] = d.cond_cat("EDUCATION_BY_OCC", occ, ("NAME_EDUCATION_TYPE", parents_it))
    f["AMT_INCOME_TOTAL"] = d.cond_num("INCOME_BY_OCC", occ)
    f["FLAG_EMP_PHONE"] = np.where(sentinel, 0.0, 1.0)

    # loan: goods price -> credit -> annuity
    ct = {"NAME_CONTRACT_TYPE": f["NAME_CONTRACT_TYPE"]}
    goods = d.cond_num("AMT_GOODS_PRICE", ct, own=True)
    goods_filled = np.where(np.isnan(goods), stats.num(T, "AMT_GOODS_PRICE").ppf(rng.random(n)), goods)
    ratio = stats.cond(T, "CREDIT_OVER_GOODS").sample(
        rng, {**ct, "AMT_GOODS_PRICE": goods_filled}, d.u("CREDIT_OVER_GOODS"), within_group=True
    )
    ratio = np.where(np.isnan(ratio), 1.0, ratio)
    credit = stats.num(T, "AMT_CREDIT").round(goods_filled * ratio)  # Kaggle amounts: multiples of 4.5
    credit = np.maximum(credit, 45000.0)
    # the standard (goods price, credit) pairs keep their real shares
    pair_codes, pair_levels = d.own_cat("LOAN_PAIR", ct)
    pairs = np.asarray(
        [[float(x) for x in lv.split("|")] if lv != OTHER else [np.nan, np.nan] for lv in pair_levels]
        + [[np.nan, np.nan]]
    )[np.where(pair_codes < 0, len(pair_levels), pair_codes)]
    standard = ~np.isnan(pairs[:, 0])
    f["AMT_GOODS_PRICE"] = np.where(standard, pairs[:, 0], goods)
    f["AMT_CREDIT"] = np.where(standard, pairs[:, 1], credit)
    a_ratio = stats.cond(T, "ANNUITY_OVER_CREDIT").sample(
        rng, {**ct, "AMT_CREDIT": f["AMT_CREDIT"]}, d.u("ANNUITY_OVER_CREDIT"), within_group=True
    )
    a_ratio = np.where(np.isnan(a_ratio), stats.num(T, "ANNUITY_OVER_CREDIT").ppf(rng.random(n)), a_ratio)
    annuity = stats.num(T, "AMT_ANNUITY").round(f["AMT_CREDIT"] * a_ratio)
    annuity[rng.random(n) < stats.num(T, "AMT_ANNUITY").missing] = np.nan
    f["AMT_ANNUITY"] = annuity

    f["NAME_TYPE_SUITE"] = d.cat("NAME_TYPE_SUITE")
    by_age = {"DAYS_BIRTH": birth}
    f["NAME_FAMILY_STATUS"] = d.cond_cat("NAME_FAMILY_STATUS", by_age)
    fam = {"NAME_FAMILY_STATUS": f["NAME_FAMILY_STATUS"]}
    f["CNT_CHILDREN"] = d.cond_num("CNT_CHILDREN", {**fam, **by_age})
    adults = stats.cond(d.C, "ADULTS").sample(rng, fam, d.u("ADULTS"), within_group=True)
    adults = np.where(np.isnan(adults), 1.0, np.clip(adults, 1.0, 2.0))
    fm = f["CNT_CHILDREN"] + adults
    fm[rng.random(n) < stats.num(T, "CNT_FAM_MEMBERS").missing] = np.nan
    f["CNT_FAM_MEMBERS"] = fm
    f["NAME_HOUSING_TYPE"] = d.cond_cat("NAME_HOUSING_TYPE", by_age)

    f["REGION_RATING_CLIENT"] = d.num("REGION_RATING_CLIENT")
    rr = {"REGION_RATING_CLIENT": f["REGION_RATING_CLIENT"]}
    f["REGION_RATING_CLIENT_W_CITY"] = d.cond_num("REGION_RATING_CLIENT_W_CITY", rr)
    f["REGION_POPULATION_RELATIVE"] = d.cond_num("REGION_POPULATION_RELATIVE", rr)
    # registration and identity document dates as a share of the applicant's life (narrow age groups
    # keep the renewals at fixed ages and the dates of the big re-issue waves)
    f["DAYS_REGISTRATION"] = _life_date(d, "DAYS_REGISTRATION", "REGISTRATION_SHARE", birth)
    f["DAYS_ID_PUBLISH"] = _id_date(d, birth)
    f["OWN_CAR_AGE"] = d.cond_num("OWN_CAR_AGE", {"FLAG_OWN_CAR": f["FLAG_OWN_CAR"]})

    for c in ("FLAG_MOBIL", "FLAG_WORK_PHONE", "FLAG_CONT_MOBILE", "FLAG_PHONE", "FLAG_EMAIL"):
        f[c] = d.num(c)
    f["WEEKDAY_APPR_PROCESS_START"] = d.cat("WEEKDAY_APPR_PROCESS_START")
    f["HOUR_APPR_PROCESS_START"] = d.num("HOUR_APPR_PROCESS_START")
    for c in (
        "REG_REGION_NOT_LIVE_REGION", "REG_REGION_NOT_WORK_REGION", "LIVE_REGION_NOT_WORK_REGION",
        "REG_CITY_NOT_LIVE_CITY", "REG_CITY_NOT_WORK_CITY", "LIVE_CITY_NOT_WORK_CITY",
    ):  # fmt: skip
        f[c] = d.num(c)
    for c in ("EXT_SOURCE_1", "EXT_SOURCE_2", "EXT_SOURCE_3"):
        f[c] = d.num(c)

    _building(f, d)
    _social_circle(f, d)
    f["DAYS_LAST_PHONE_CHANGE"] = d.num("DAYS_LAST_PHONE_CHANGE")
    doc_codes, doc_levels = d.cond_cat("DOC_PATTERN", {**ct, "DAYS_EMPLOYED": f["DAYS_EMPLOYED"]})
    docs = stats.patterns[d.C]["DOC_PATTERN"].bits(rng, doc_codes, doc_levels)
    for j, c in enumerate(DOCUMENT_FLAGS):
        f[c] = docs[:, j].astype(float)
    req_missing = d.miss("AMT_REQ_CREDIT_BUREAU_YEAR")
    req_missing = rng.random(n) if req_missing is None else req_missing
    req_missing = req_missing < stats.num(T, "AMT_REQ_CREDIT_BUREAU_YEAR").missing
    for c in REQUESTS:
        col = f"AMT_REQ_CREDIT_BUREAU_{c}"
        v = stats.num(T, col).ppf(d.u(col))
        v[req_missing] = np.nan
        f[col] = v
    _redraw(f, d)
    if d.T == d.C:  # the birth dates were redrawn: the identity document follows the new age
        f["DAYS_ID_PUBLISH"] = _id_date(d, f["DAYS_BIRTH"])
        # income: the redrawn ranks, each occupation's fitted income distribution
        income = np.asarray(f["AMT_INCOME_TOTAL"], dtype=float)
        u = (np.argsort(np.argsort(income, kind="stable"), kind="stable") + 0.5) / d.n
        f["AMT_INCOME_TOTAL"] = stats.cond(d.C, "INCOME_BY_OCC").sample(
            rng, {"OCCUPATION_TYPE": f["OCCUPATION_TYPE"]}, u, np.ones(d.n), within_group=True
        )
    _medi_mode(f, d)
    return f, _latents(d)


def _life_date(d: _Draw, col: str, name: str, birth: np.ndarray) -> np.ndarray:
    """A date as a share of the applicant's life, the share drawn per narrow age band."""
    share = d.cond_num(name, {"AGE_FINE": birth})
    share = np.where(np.isnan(share), d.stats.num(d.T, name).ppf(d.rng.random(d.n)), share)
    return d.stats.num(d.T, col).round(np.minimum(birth * (1.0 - np.clip(share, 0.0, 1.0)), 0.0))


#: Identity documents are renewed at these ages (years): 14, 20 and 45.
RENEWAL_AGES = (14.0, 20.0, 45.0)
YEAR = 365.25


def renewal_age_days(birth: np.ndarray) -> np.ndarray:
    """Days from birth to the last renewal age the applicant has reached."""
    age = -np.asarray(birth, dtype=float) / YEAR
    years = np.select([age >= a for a in reversed(RENEWAL_AGES)], list(reversed(RENEWAL_AGES)), 0.0)
    return years * YEAR


def id_renewal_delay(id_publish, birth):
    """Days from the last renewal age reached to the identity document's date (0: renewed on the day)."""
    return (id_publish - birth) - renewal_age_days(birth)


def _id_date(d: _Draw, birth: np.ndarray) -> np.ndarray:
    """The identity document: issued the fitted delay after the last renewal age (per narrow age band:
    most are renewed within weeks of the 20th or 45th birthday), never after the application."""
    birth = np.asarray(birth, dtype=float)
    delay = d.cond_num("ID_RENEWAL_DELAY", {"AGE_FINE": birth})
    delay = np.where(np.isnan(delay), d.stats.num(d.C, "ID_RENEWAL_DELAY").ppf(d.rng.random(d.n)), delay)
    renewed = birth + renewal_age_days(birth)
    delay = np.maximum(delay, 0.0)
    # a delay beyond today (the band's older members had longer): a day between renewal and today
    late = renewed + delay > -1.0
    delay = np.where(late, d.rng.random(d.n) * np.maximum(-1.0 - renewed, 0.0), delay)
    return d.stats.num(d.T, "DAYS_ID_PUBLISH").round(np.clip(renewed + delay, birth, 0.0))


def _latents(d: _Draw) -> Latents:
    """The factors the history tables and the ground truth use, read off the copula draw: risk from
    the external scores' normal scores, wealth from the income's, age from the birth date's."""
    ext = [f"EXT_SOURCE_{k}" for k in (1, 2, 3)]
    copula = d.stats.copulas[COPULA_TABLE]
    idx = [copula.variables.index(c) for c in ext]
    block = copula.corr[np.ix_(idx, idx)]
    risk = -sum(d.z(c) for c in ext) / np.sqrt(max(float(block.sum()), 1e-9))
    return Latents(risk=risk, wealth=d.z("AMT_INCOME_TOTAL"), age=-d.z("DAYS_BIRTH"))


def _building(f: Frame, d: _Draw) -> None:
    """The building block: which columns are present follows the fitted patterns (AVG, MODE and MEDI of
    a measure always together), the values their copula variables."""
    codes, levels = d.cat("HOUSING_PATTERN")
    present = d.stats.patterns[d.C]["HOUSING_PATTERN"].bits(d.rng, codes, levels)
    for j, b in enumerate(BUILDING_BASES):
        avg = d.stats.num(d.T, f"{b}_AVG").ppf(d.u(f"{b}_AVG"))
        avg[~present[:, j]] = np.nan
        f[f"{b}_AVG"] = avg
    for j, c in enumerate(BUILDING_OTHER, start=len(BUILDING_BASES)):
        m = d.stats.m(d.T, c)
        absent = ~present[:, j]
        if isinstance(m, CategoricalMarginal):
            col_codes = m.codes(d.u(c), d.orders.get(c))
            col_codes[absent] = -1
            f[c] = cat(col_codes, m.levels)
        else:
            assert isinstance(m, NumericMarginal)
            v = m.ppf(d.u(c))
            v[absent] = np.nan
            f[c] = v


ATOM_SNAP = 0.02  # a building median / mode within this share of one of its column's frequent values takes it


def _near_atoms(x: np.ndarray, atoms: np.ndarray) -> np.ndarray:
    """``x`` with the values within ATOM_SNAP (relative) of one of ``atoms`` put on it: the real median / mode
    of a building measure on a lattice (apartments, floors) is its average's lattice point times a fixed
    ratio, which a ratio drawn from a band of ratios smears over the neighbouring values."""
    vals = np.sort(atoms[atoms > 0])
    if not vals.size:
        return x
    gap = np.diff(vals)
    room = np.minimum(np.r_[np.inf, gap], np.r_[gap, np.inf]) / 4  # a quarter of the way to a neighbour atom
    j = np.clip(np.searchsorted(vals, x), 1, max(vals.size - 1, 1))
    j = np.where(np.abs(x - vals[j - 1]) <= np.abs(vals[np.minimum(j, vals.size - 1)] - x), j - 1,
                 np.minimum(j, vals.size - 1))
    near = vals[j]
    return np.where(np.abs(x - near) <= np.minimum(ATOM_SNAP * near, room[j]), near, x)


def _medi_mode(f: Frame, d: _Draw) -> None:
    """A building measure's median and mode: its average times a fitted ratio per band of the average
    (0 stays 0, missing stays missing), put on its column's frequent value when near one (`_near_atoms`)."""
    # one uniform per building for all its medians, one for all its modes: a building whose mode is not its
    # average's lattice point times the usual ratio has that for every measure (the real "atypical" modes of
    # the apartments and the living area go together, correlation 0.9; drawn independently before)
    u = {"MEDI": d.rng.random(d.n), "MODE": d.rng.random(d.n)}
    for b in BUILDING_BASES:
        avg = np.asarray(f[f"{b}_AVG"], dtype=float)
        for suffix in ("MEDI", "MODE"):
            c = f"{b}_{suffix}"
            ratio = d.stats.cond(d.C, f"{c}_RATIO").sample(d.rng, {f"{b}_AVG": avg}, u[suffix])
            m = d.stats.num(d.T, c)
            f[c] = m.snap(_near_atoms(np.clip(avg * np.nan_to_num(ratio, nan=1.0), 0.0, 1.0), m.atoms))


def _redraw(f: Frame, d: _Draw) -> None:
    """Gibbs sweeps: each column of :data:`REDRAWN` drawn again from its fitted tree conditional
    given all the other columns (``synthetic.gibbs``), on its rows only (train applicants)."""
    fitted = d.stats.gibbs.get(d.C)
    if not fitted or d.T != d.C:
        return
    sweep(
        d.rng,
        fitted,
        f,
        d.n,
        REDRAWN * SWEEPS,
        lambda target: d.stats.m(d.C, target),
        lambda target, v, rows: _from_derived(target, v, f, rows, d),
        lambda child, v, rows: _bounded(child, v, f, rows),
        lambda target: (d.U.get(target), d.miss(target)),
    )


def _from_derived(target: str, v: np.ndarray, f: Frame, rows: np.ndarray, d: _Draw) -> np.ndarray:
    """A redrawn derived value back to its column's value."""
    if target == "ID_PUBLISH_AGE":  # days from birth to the identity document
        birth = np.asarray(f["DAYS_BIRTH"], dtype=float)[rows]
        return np.clip(birth + v, birth, 0.0)
    if target == "APARTMENTS_PER_ENTRANCE_FLOOR":
        entrances, floors = (np.asarray(f[c], dtype=float)[rows] for c in ("ENTRANCES_AVG", "FLOORSMAX_AVG"))
        return d.stats.num(d.T, "APARTMENTS_AVG").round(np.clip(entrances * floors * v, 0.0, 1.0))
    if target == "ANNUITY_OVER_CREDIT":
        credit = np.asarray(f["AMT_CREDIT"], dtype=float)[rows]
        return d.stats.num(d.T, "AMT_ANNUITY").round(credit * v)
    raise ValueError(f"no way back from the derived column {target}")


def _bounded(child: str, v: np.ndarray, f: Frame, rows: np.ndarray) -> np.ndarray:
    """Dates stay within the applicant's life (and employment within the working life): a redrawn
    birth or employment date that breaks its bound keeps its previous value (which met it), so no
    values pile up on the bound. The identity document is drawn again after the sweeps."""
    old = np.asarray(f[child], dtype=float)[rows]
    if child == "DAYS_BIRTH":  # born before the registration and 18 years before the employment
        emp = np.asarray(f["DAYS_EMPLOYED"], dtype=float)
        bound = np.fmin(
            np.asarray(f["DAYS_REGISTRATION"], dtype=float), np.where(emp < SENTINEL, emp - 18 * 365, np.nan)
        )[rows]
        return np.where(np.isnan(bound) | (v <= bound), v, old)
    birth = np.asarray(f["DAYS_BIRTH"], dtype=float)[rows]
    if child in ("DAYS_ID_PUBLISH", "DAYS_REGISTRATION", "DAYS_LAST_PHONE_CHANGE"):
        return np.clip(v, birth, 0.0)
    if child == "DAYS_EMPLOYED":
        ok = (v >= np.minimum(birth + 18 * 365, -1.0)) & (v <= -1.0)
        return np.where(ok, v, old)
    return v


def _social_circle(f: Frame, d: _Draw) -> None:
    """Observed / defaulted acquaintances: missing together; defaults never above observations."""
    lead = "OBS_30_CNT_SOCIAL_CIRCLE"
    miss_u = d.miss(lead)
    missing = (d.rng.random(d.n) if miss_u is None else miss_u) < d.stats.num(d.T, lead).missing
    obs30 = d.stats.num(d.T, lead).ppf(d.u(lead))
    # over 60 days: as many as over 30 (98 % of the real rows) or a few fewer, never more (drawn apart: 85 % equal,
    # as many more as fewer; stop 31, the pair told real from synthetic at +0.08 over either)
    less = d.stats.cond(d.C, "OBS_60_LESS_30").sample(
        d.rng, {lead: obs30}, d.u("OBS_60_CNT_SOCIAL_CIRCLE"), within_group=True
    )
    obs60 = np.clip(obs30 + np.minimum(np.nan_to_num(less), 0.0), 0.0, None)
    def30 = d.stats.cond(d.C, "DEF_30_CNT_SOCIAL_CIRCLE").sample(
        d.rng, {"OBS_30_CNT_SOCIAL_CIRCLE": obs30}, d.u("DEF_30_CNT_SOCIAL_CIRCLE"), within_group=True
    )
    def30 = np.minimum(np.nan_to_num(def30), obs30)
    def60 = d.stats.cond(d.C, "DEF_60_CNT_SOCIAL_CIRCLE").sample(
        d.rng, {"DEF_30_CNT_SOCIAL_CIRCLE": def30}, d.u("DEF_60_CNT_SOCIAL_CIRCLE"), within_group=True
    )
    def60 = np.minimum(np.nan_to_num(def60), obs60)
    for c, v in (("OBS_30", obs30), ("DEF_30", def30), ("OBS_60", obs60), ("DEF_60", def60)):
        v = v.astype(float)
        v[missing] = np.nan
        f[f"{c}_CNT_SOCIAL_CIRCLE"] = v
