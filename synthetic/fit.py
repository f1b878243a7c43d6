"""Fit the generator's summary statistics from real Home Credit rows.

``python -m synthetic.fit --marginals ../shared/data/home-credit-marginals --out marginals.json``

Only summary statistics are written: category levels and frequencies, missing rates, quantiles of the
continuous part of each numeric column, frequent values ("atoms", e.g. the ``365243`` sentinel) with
their shares, and the same per group of a few parent columns (conditionals). Never rows.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from synthetic.application import BUILDING_BASES, BUILDING_OTHER, DOCUMENT_FLAGS, REDRAWN, id_renewal_delay
from synthetic.bureau import REDRAWN as BUREAU_REDRAWN
from synthetic.gibbs import LEAF_RULES, fit_gibbs, leaf_sizes
from synthetic.joint import (
    PRIVACY_MIN,
    band,
    fit_copula,
    frequent_combinations,
    grid_units,
    pattern_codes,
    rare_pools,
    share_on_grid,
)
from synthetic.previous import REDRAWN as PREVIOUS_REDRAWN
from synthetic.previous import REDRAWN_LOAN as PREVIOUS_REDRAWN_LOAN
from synthetic.previous import product_family
from synthetic.schema import KEY_COLUMNS, TABLES, column_types, csv_name
from synthetic.stats import STATS_PATH, monthly_annuity

#: The leaf rule of the committed file (`synthetic.gibbs.fit_tree`): "grown" since stop 27 -- trees grown
#: under the privacy rule (no leaf share stands for fewer than PRIVACY_MIN rows), the level of a categorical
#: child from a level model. Its scale-0.005 fidelity failure of stop 26 was the measure's (the exact file
#: failed it on other seeds; docs/synthetic.md "Fidelity", stop 27). "exact" fits the file before stop 27.
DEFAULT_LEAF_RULE = "grown"

N_QUANTILES = 201
MIN_GROUP = 150  # rows needed for a conditional group of its own (else the fallback marginal)
assert MIN_GROUP >= PRIVACY_MIN
LEAF_MIN = 50  # rows in every leaf of a tree conditional
assert LEAF_MIN >= PRIVACY_MIN
ATOM_SHARE = 0.002
ATOM_MIN_COUNT = 8  # a value inside the 50 most extreme rows at either end is an atom from this many rows
MAX_ALL_ATOMS = 120  # at most this many distinct values: a discrete column (rare values are no atoms either)
GROUP_KEPT = 0.7  # a group's frequent levels holding this share: its rare cells are dropped, not spread
MERGE_SHARE = 0.05  # a discrete column's rare values (no lattice) up to this share merge into the nearest atom
SENTINEL = 365243.0
RARE_VALUES = ("atoms", "bins", "all-bins", "pooled")  # --rare-values
GROUP_MISSING = ("exact", "pooled")  # --group-missing
ATOM_RULES = ("loose", "strict", "groups")  # --atom-rule
POOL_ORDER = "rarest"  # --rare-values pooled: pools of the rarest values first, or of neighbours ("value")
MISSING_OFF = 0.05  # a group's rare missing (present) cell of at most this share with no pool to join: written off


@dataclass(frozen=True)
class PrivacyRules:
    """How the fit treats the cells a fitted file could store for fewer than PRIVACY_MIN rows (the committed
    file: `COMMITTED_RULES`; the defaults here are the loose rules of the file before stop 28).

    ``rare_values``: ``"atoms"`` (the committed file) a discrete column's (or group's: at most
    MAX_ALL_ATOMS distinct values) value seen on fewer than PRIVACY_MIN rows between its extremes is an
    atom with its own share; ``"bins"`` such a column's atoms need PRIVACY_MIN rows, the rare values are
    pooled in value order into bins of at least PRIVACY_MIN rows (`_rare_bins`), a column's drawn uniformly
    on its steps, a conditional group's in proportion to its column's marginal (``bins_from``);
    ``"all-bins"`` in addition a many-valued column's atoms need PRIVACY_MIN rows (not ATOM_MIN_COUNT
    inside its extremes); ``"pooled"`` a discrete column's rare values stay atoms sharing the shares of
    pools of at least PRIVACY_MIN rows evenly (`_pooled_atoms`, the rule of a categorical column's rare
    levels).
    ``group_missing``: ``"pooled"`` (the committed file) a group whose missing or present cell has 1 to
    PRIVACY_MIN - 1 rows takes the share of a pool of groups with at least PRIVACY_MIN missing and present
    rows (`pool_group_missing`); ``"exact"`` (before) every conditional group stores its own missing share.
    ``atom_rule``: ``"loose"`` (the file before stop 28) the rules above; ``"strict"`` (stop 27c, the committed
    file since stop 28) every numeric
    atom share stands for PRIVACY_MIN rows, its own or a pool's, in marginals, fallbacks and groups alike
    (overrides ``rare_values``): a column with a continuous part keeps atoms of PRIVACY_MIN rows only (not
    ATOM_MIN_COUNT; the rest goes to its trimmed quantiles), a discrete column's (group's) rare values are
    pooled like ``"pooled"`` with the pools written (``pools``) and its rare extremes' rows counted in the
    nearest kept value or pool (`_strict_atoms`) -- but a conditional group of a column with a continuous
    part is fitted like its column when its rare values make 2 x PRIVACY_MIN rows (``continuous`` of
    `fit_numeric`, stop 28); ``"groups"`` the strict rule in conditional groups and
    fallbacks only, the tables' marginals as ``"loose"``."""

    rare_values: str = "atoms"
    group_missing: str = "pooled"
    atom_rule: str = "loose"

    def __post_init__(self) -> None:
        if self.rare_values not in RARE_VALUES:
            raise ValueError(f"rare_values: {self.rare_values!r}, expected one of {RARE_VALUES}")
        if self.group_missing not in GROUP_MISSING:
            raise ValueError(f"group_missing: {self.group_missing!r}, expected one of {GROUP_MISSING}")
        if self.atom_rule not in ATOM_RULES:
            raise ValueError(f"atom_rule: {self.atom_rule!r}, expected one of {ATOM_RULES}")


#: The rules of the committed file: since stop 28 every numeric atom share stands for PRIVACY_MIN rows
#: (``atom_rule="strict"``).
COMMITTED_RULES = PrivacyRules(atom_rule="strict")

# Derived columns computed on the real rows before fitting (name -> function of the frame).
DERIVED: dict[str, dict[str, Any]] = {
    "application_train": {
        "CREDIT_OVER_GOODS": lambda d: d.AMT_CREDIT / d.AMT_GOODS_PRICE,
        "ANNUITY_OVER_CREDIT": lambda d: d.AMT_ANNUITY / d.AMT_CREDIT,
        # apartments per entrance and floor (in the columns' scales): a building's apartments are about its
        # entrances times its floors times 3-6 (4.5, 3.75 and 5 the most frequent), which trees on the three
        # columns' bins smeared (stop 32: apartments x entrances told real from synthetic at +0.08 over either)
        "APARTMENTS_PER_ENTRANCE_FLOOR": lambda d: d.APARTMENTS_AVG / (d.ENTRANCES_AVG * d.FLOORSMAX_AVG),
        "ADULTS": lambda d: d.CNT_FAM_MEMBERS - d.CNT_CHILDREN,
        "NOT_EMPLOYED": lambda d: (d.DAYS_EMPLOYED == SENTINEL).astype(float),
        # the acquaintances observed over 60 days less those over 30: 0 on 98 % of the real rows, else one fewer
        "OBS_60_LESS_30": lambda d: d.OBS_60_CNT_SOCIAL_CIRCLE - d.OBS_30_CNT_SOCIAL_CIRCLE,
        "AGE_FINE": lambda d: d.DAYS_BIRTH,  # the birth date cut in 20 bins
        "ID_PUBLISH_AGE": lambda d: d.DAYS_ID_PUBLISH - d.DAYS_BIRTH,
        # a copula variable only (the identity document date is drawn by its renewal ages): dropping it
        # from the calibrated correlation matrix measured +0.004 detection AUC on two seeds
        "ID_PUBLISH_SHARE": lambda d: (d.DAYS_ID_PUBLISH - d.DAYS_BIRTH) / -d.DAYS_BIRTH,
        "ID_RENEWAL_DELAY": lambda d: id_renewal_delay(d.DAYS_ID_PUBLISH, d.DAYS_BIRTH),
        "REGISTRATION_SHARE": lambda d: (d.DAYS_REGISTRATION - d.DAYS_BIRTH) / -d.DAYS_BIRTH,
        "EMPLOYED_SHARE": lambda d: (
            (d.DAYS_EMPLOYED.where(d.DAYS_EMPLOYED < SENTINEL)) / (d.DAYS_BIRTH + 18 * 365)
        ),
        # the building block's median and mode as a ratio to its average (nearly fixed per measure)
        **{
            f"{b}_{s}_RATIO": (lambda d, b=b, s=s: (d[f"{b}_{s}"] / d[f"{b}_AVG"]).where(d[f"{b}_AVG"] > 0))
            for b in BUILDING_BASES
            for s in ("MEDI", "MODE")
        },
    },
    "previous_application": {
        "CREDIT_OVER_APPLICATION": lambda d: (d.AMT_CREDIT / d.AMT_APPLICATION).where(d.AMT_APPLICATION > 0),
        "GOODS_OVER_APPLICATION": lambda d: (d.AMT_GOODS_PRICE / d.AMT_APPLICATION).where(
            d.AMT_APPLICATION > 0
        ),
        # rounded: products share a handful of rates (frequent values of the marginal)
        "YEARLY_RATE": lambda d: yearly_rate(d.AMT_ANNUITY, d.AMT_CREDIT, d.CNT_PAYMENT).round(3),
        "NO_TERM_ANNUITY_SHARE": lambda d: (d.AMT_ANNUITY / d.AMT_CREDIT).where(
            (d.CNT_PAYMENT == 0) & (d.AMT_CREDIT > 0)
        ),
        "DOWN_OVER_RATE": lambda d: (d.AMT_DOWN_PAYMENT / d.AMT_GOODS_PRICE / d.RATE_DOWN_PAYMENT).where(
            (d.AMT_DOWN_PAYMENT > 0) & (d.AMT_GOODS_PRICE > 0) & (d.RATE_DOWN_PAYMENT > 0)
        ),
        "TOTAL_OVER_CREDIT": lambda d: (d.AMT_ANNUITY * d.CNT_PAYMENT / d.AMT_CREDIT).where(
            (d.CNT_PAYMENT > 0) & (d.AMT_CREDIT > 0)
        ),
        "ANNUITY_NO_TERM": lambda d: d.AMT_ANNUITY.where((d.CNT_PAYMENT == 0) | (d.AMT_CREDIT == 0)),
        "SENTINEL_PATTERN": lambda d: _sentinel_pattern(d),
        "LOAN_SHAPE": lambda d: _loan_shape(d),
        "PRODUCT_FAMILY": lambda d: d.PRODUCT_COMBINATION.map(product_family, na_action="ignore"),
        "DRAWING_OFFSET": lambda d: _offset(d.DAYS_FIRST_DRAWING, d.DAYS_DECISION),
        "FIRST_DUE_OFFSET": lambda d: _offset(d.DAYS_FIRST_DUE, d.DAYS_DECISION),
        "LAST_DUE_OFFSET": lambda d: _offset(d.DAYS_LAST_DUE, d.DAYS_LAST_DUE_1ST_VERSION),
        "TERMINATION_OFFSET": lambda d: _offset(d.DAYS_TERMINATION, d.DAYS_LAST_DUE),
        "LAST_DUE_1ST_OFFSET": lambda d: _offset(d.DAYS_LAST_DUE_1ST_VERSION, d.DAYS_FIRST_DUE),
    },
    "bureau": {
        "DURATION": lambda d: d.DAYS_CREDIT_ENDDATE - d.DAYS_CREDIT,
        "FACT_DURATION": lambda d: d.DAYS_ENDDATE_FACT - d.DAYS_CREDIT,
        "DEBT_SHARE": lambda d: (d.AMT_CREDIT_SUM_DEBT / d.AMT_CREDIT_SUM).where(d.AMT_CREDIT_SUM > 0),
        "UPDATE_AFTER_FACT": lambda d: d.DAYS_CREDIT_UPDATE - d.DAYS_ENDDATE_FACT,
    },
    "installments_payments": {
        "PAYMENT_DELAY": lambda d: d.DAYS_ENTRY_PAYMENT - d.DAYS_INSTALMENT,
        "PAYMENT_SHARE": lambda d: (d.AMT_PAYMENT / d.AMT_INSTALMENT).where(d.AMT_INSTALMENT > 0),
    },
    "credit_card_balance": {
        "UTILISATION": lambda d: (d.AMT_BALANCE / d.AMT_CREDIT_LIMIT_ACTUAL).where(
            d.AMT_CREDIT_LIMIT_ACTUAL > 0
        ),
    },
}

# Rows on which a derived column is defined: its marginal (and missing rate) is fitted on them only.
SUBSETS: dict[str, dict[str, Any]] = {
    "application_train": {
        # goods price and credit outside the standard pairs (LOAN_PAIR): no double counting of the pairs
        "CREDIT_OVER_GOODS": lambda d: (d.AMT_GOODS_PRICE > 0) & (d.LOAN_PAIR == "other"),
        "AMT_GOODS_PRICE": lambda d: d.LOAN_PAIR == "other",
        "ANNUITY_OVER_CREDIT": lambda d: d.AMT_ANNUITY.notna(),
        "APARTMENTS_PER_ENTRANCE_FLOOR": lambda d: (
            d.APARTMENTS_AVG.notna() & (d.ENTRANCES_AVG > 0) & (d.FLOORSMAX_AVG > 0)
        ),
        "EMPLOYED_SHARE": lambda d: d.DAYS_EMPLOYED < SENTINEL,
        **{
            f"{b}_{s}_RATIO": (lambda d, b=b: d[f"{b}_AVG"] > 0)
            for b in BUILDING_BASES
            for s in ("MEDI", "MODE")
        },
    },
    "previous_application": {
        "CREDIT_OVER_APPLICATION": lambda d: d.AMT_APPLICATION > 0,
        "GOODS_OVER_APPLICATION": lambda d: d.AMT_APPLICATION > 0,
        "TOTAL_OVER_CREDIT": lambda d: (d.CNT_PAYMENT > 0) & (d.AMT_CREDIT > 0),
        "YEARLY_RATE": lambda d: (d.CNT_PAYMENT > 0) & (d.AMT_CREDIT > 0),
        "NO_TERM_ANNUITY_SHARE": lambda d: (d.CNT_PAYMENT == 0) & (d.AMT_CREDIT > 0),
        "DOWN_OVER_RATE": lambda d: (d.AMT_DOWN_PAYMENT > 0) & (d.AMT_GOODS_PRICE > 0) & (d.RATE_DOWN_PAYMENT > 0),
        "ANNUITY_NO_TERM": lambda d: d.CNT_PAYMENT.notna() & ((d.CNT_PAYMENT == 0) | (d.AMT_CREDIT == 0)),
        "SENTINEL_PATTERN": lambda d: d.NAME_CONTRACT_STATUS == "Approved",
        "DRAWING_OFFSET": lambda d: d.DAYS_FIRST_DRAWING.notna() & (d.DAYS_FIRST_DRAWING < SENTINEL),
        "FIRST_DUE_OFFSET": lambda d: d.DAYS_FIRST_DUE.notna() & (d.DAYS_FIRST_DUE < SENTINEL),
        "LAST_DUE_OFFSET": lambda d: (d.DAYS_LAST_DUE < SENTINEL) & (d.DAYS_LAST_DUE_1ST_VERSION < SENTINEL),
        "TERMINATION_OFFSET": lambda d: (d.DAYS_TERMINATION < SENTINEL) & (d.DAYS_LAST_DUE < SENTINEL),
        "LAST_DUE_1ST_OFFSET": lambda d: (
            (d.DAYS_LAST_DUE_1ST_VERSION < SENTINEL) & (d.DAYS_FIRST_DUE < SENTINEL)
        ),
    },
    "bureau": {
        "DEBT_SHARE": lambda d: d.AMT_CREDIT_SUM > 0,
        "FACT_DURATION": lambda d: d.CREDIT_ACTIVE != "Active",
        "UPDATE_AFTER_FACT": lambda d: d.DAYS_ENDDATE_FACT.notna(),
    },
    "installments_payments": {
        "PAYMENT_SHARE": lambda d: d.AMT_INSTALMENT > 0,
    },
    "credit_card_balance": {
        "UTILISATION": lambda d: d.AMT_CREDIT_LIMIT_ACTUAL > 0,
    },
}

# Conditionals: name -> (child, [parents]); numeric parents are cut at their deciles (or given bins).
CONDITIONALS: dict[str, dict[str, tuple[str, list[str]]]] = {
    "application_train": {
        "NAME_INCOME_TYPE": ("NAME_INCOME_TYPE", ["DAYS_EMPLOYED", "DAYS_BIRTH"]),
        "EMPLOYED_SHARE": ("EMPLOYED_SHARE", ["AGE_FINE"]),
        "NOT_EMPLOYED": ("NOT_EMPLOYED", ["AGE_FINE"]),
        "ID_RENEWAL_DELAY": ("ID_RENEWAL_DELAY", ["AGE_FINE"]),
        "REGISTRATION_SHARE": ("REGISTRATION_SHARE", ["AGE_FINE"]),
        "ORGANIZATION_TYPE": ("ORGANIZATION_TYPE", ["NAME_INCOME_TYPE"]),
        "OCCUPATION_BY_ORG": ("OCCUPATION_TYPE", ["ORGANIZATION_TYPE", "CODE_GENDER"]),
        "OCCUPATION_TYPE": ("OCCUPATION_TYPE", ["NAME_INCOME_TYPE", "CODE_GENDER"]),
        "EDUCATION_BY_OCC": ("NAME_EDUCATION_TYPE", ["OCCUPATION_TYPE"]),
        "NAME_EDUCATION_TYPE": ("NAME_EDUCATION_TYPE", ["NAME_INCOME_TYPE"]),
        "INCOME_BY_OCC": ("AMT_INCOME_TOTAL", ["OCCUPATION_TYPE"]),
        # (employed or not: 45 % of the real applicants without a job -- pensioners -- hand in document 6, 1 % of the
        # employed ones; document 3: 46 % and 77 %. By the contract type alone: 21 % / 6 % and 68 % / 72 % drawn)
        "DOC_PATTERN": ("DOC_PATTERN", ["NAME_CONTRACT_TYPE", "DAYS_EMPLOYED"]),
        "LOAN_PAIR": ("LOAN_PAIR", ["NAME_CONTRACT_TYPE"]),
        "AMT_GOODS_PRICE": ("AMT_GOODS_PRICE", ["NAME_CONTRACT_TYPE"]),
        "CREDIT_OVER_GOODS": ("CREDIT_OVER_GOODS", ["NAME_CONTRACT_TYPE", "AMT_GOODS_PRICE"]),
        "ANNUITY_OVER_CREDIT": ("ANNUITY_OVER_CREDIT", ["NAME_CONTRACT_TYPE", "AMT_CREDIT"]),
        "NAME_FAMILY_STATUS": ("NAME_FAMILY_STATUS", ["DAYS_BIRTH"]),
        "CNT_CHILDREN": ("CNT_CHILDREN", ["NAME_FAMILY_STATUS", "DAYS_BIRTH"]),
        "ADULTS": ("ADULTS", ["NAME_FAMILY_STATUS"]),
        "REGION_RATING_CLIENT_W_CITY": ("REGION_RATING_CLIENT_W_CITY", ["REGION_RATING_CLIENT"]),
        "REGION_POPULATION_RELATIVE": ("REGION_POPULATION_RELATIVE", ["REGION_RATING_CLIENT"]),
        "OWN_CAR_AGE": ("OWN_CAR_AGE", ["FLAG_OWN_CAR"]),
        "NAME_HOUSING_TYPE": ("NAME_HOUSING_TYPE", ["DAYS_BIRTH"]),
        "EXT_SOURCE_1": ("EXT_SOURCE_1", ["DAYS_BIRTH"]),
        "DEF_30_CNT_SOCIAL_CIRCLE": ("DEF_30_CNT_SOCIAL_CIRCLE", ["OBS_30_CNT_SOCIAL_CIRCLE"]),
        "DEF_60_CNT_SOCIAL_CIRCLE": ("DEF_60_CNT_SOCIAL_CIRCLE", ["DEF_30_CNT_SOCIAL_CIRCLE"]),
        "OBS_60_LESS_30": ("OBS_60_LESS_30", ["OBS_30_CNT_SOCIAL_CIRCLE"]),
        "REG_CITY_NOT_WORK_CITY": ("REG_CITY_NOT_WORK_CITY", ["NAME_INCOME_TYPE"]),
        "LIVE_CITY_NOT_WORK_CITY": ("LIVE_CITY_NOT_WORK_CITY", ["REG_CITY_NOT_WORK_CITY"]),
        "REG_REGION_NOT_WORK_REGION": ("REG_REGION_NOT_WORK_REGION", ["REG_CITY_NOT_WORK_CITY"]),
        "LIVE_REGION_NOT_WORK_REGION": ("LIVE_REGION_NOT_WORK_REGION", ["REG_REGION_NOT_WORK_REGION"]),
        "REG_CITY_NOT_LIVE_CITY": ("REG_CITY_NOT_LIVE_CITY", ["REG_REGION_NOT_LIVE_REGION"]),
        **{
            f"{b}_{s}_RATIO": (f"{b}_{s}_RATIO", [f"{b}_AVG"])
            for b in BUILDING_BASES
            for s in ("MEDI", "MODE")
        },
    },
    "previous_application": {
        "NAME_CONTRACT_STATUS": ("NAME_CONTRACT_STATUS", ["NAME_CONTRACT_TYPE"]),
        "CODE_REJECT_REASON": ("CODE_REJECT_REASON", ["NAME_CONTRACT_STATUS"]),
        "NAME_PORTFOLIO": ("NAME_PORTFOLIO", ["NAME_CONTRACT_TYPE", "NAME_CONTRACT_STATUS"]),
        "PRODUCT_COMBINATION": ("PRODUCT_COMBINATION", ["NAME_CONTRACT_TYPE", "NAME_PORTFOLIO"]),
        "NAME_PRODUCT_TYPE": ("NAME_PRODUCT_TYPE", ["PRODUCT_COMBINATION"]),
        "CHANNEL_TYPE": ("CHANNEL_TYPE", ["PRODUCT_COMBINATION"]),
        "NAME_GOODS_CATEGORY": ("NAME_GOODS_CATEGORY", ["PRODUCT_COMBINATION"]),
        "NAME_SELLER_INDUSTRY": ("NAME_SELLER_INDUSTRY", ["NAME_GOODS_CATEGORY"]),
        "NAME_YIELD_GROUP": ("NAME_YIELD_GROUP", ["PRODUCT_COMBINATION"]),
        # coarser groups for combinations seen too rarely (e.g. "Cash Street: low" -> "Cash Street")
        **{
            f"{c}_BY_FAMILY": (c, ["PRODUCT_FAMILY"])
            for c in ("NAME_PRODUCT_TYPE", "CHANNEL_TYPE", "NAME_GOODS_CATEGORY", "NAME_YIELD_GROUP")
        },
        "NAME_CASH_LOAN_PURPOSE": ("NAME_CASH_LOAN_PURPOSE", ["NAME_CONTRACT_TYPE"]),
        "NAME_PAYMENT_TYPE": ("NAME_PAYMENT_TYPE", ["NAME_CONTRACT_TYPE", "NAME_CONTRACT_STATUS"]),
        "NAME_TYPE_SUITE": ("NAME_TYPE_SUITE", ["NAME_CONTRACT_TYPE", "NAME_CONTRACT_STATUS"]),
        "NAME_CLIENT_TYPE": ("NAME_CLIENT_TYPE", ["NAME_CONTRACT_TYPE"]),
        "SELLERPLACE_AREA": ("SELLERPLACE_AREA", ["NAME_CONTRACT_TYPE"]),
        "AMT_APPLICATION": ("AMT_APPLICATION", ["PRODUCT_COMBINATION"]),
        "CREDIT_OVER_APPLICATION": (
            "CREDIT_OVER_APPLICATION",
            ["NAME_CONTRACT_TYPE", "NAME_CONTRACT_STATUS"],
        ),
        "GOODS_OVER_APPLICATION": ("GOODS_OVER_APPLICATION", ["NAME_CONTRACT_TYPE", "NAME_CONTRACT_STATUS"]),
        "CNT_PAYMENT": ("CNT_PAYMENT", ["PRODUCT_COMBINATION", "NAME_CONTRACT_STATUS"]),
        "TOTAL_OVER_CREDIT": ("TOTAL_OVER_CREDIT", ["NAME_YIELD_GROUP"]),
        "YEARLY_RATE": ("YEARLY_RATE", ["NAME_YIELD_GROUP"]),
        "CREDIT_BY_TYPE": ("AMT_CREDIT", ["NAME_CONTRACT_TYPE", "NAME_CONTRACT_STATUS"]),
        "ANNUITY_NO_TERM": ("ANNUITY_NO_TERM", ["NAME_CONTRACT_TYPE"]),
        "RATE_DOWN_PAYMENT": ("RATE_DOWN_PAYMENT", ["NAME_CONTRACT_TYPE", "NAME_CONTRACT_STATUS"]),
        "DAYS_DECISION": ("DAYS_DECISION", ["NAME_CONTRACT_STATUS"]),
        "SENTINEL_PATTERN": ("SENTINEL_PATTERN", ["NAME_CONTRACT_TYPE", "NAME_CONTRACT_STATUS"]),
        "LOAN_SHAPE": ("LOAN_SHAPE", ["NAME_CONTRACT_TYPE", "NAME_CONTRACT_STATUS"]),
        "LOAN_SHAPE_BY_STATUS": ("LOAN_SHAPE", ["NAME_CONTRACT_STATUS"]),
        "SENTINEL_BY_DECISION": ("SENTINEL_PATTERN", ["NAME_CONTRACT_TYPE", "DAYS_DECISION"]),
        "DRAWING_OFFSET": ("DRAWING_OFFSET", ["NAME_CONTRACT_TYPE"]),
        "FIRST_DUE_OFFSET": ("FIRST_DUE_OFFSET", ["NAME_CONTRACT_TYPE"]),
        "LAST_DUE_OFFSET": ("LAST_DUE_OFFSET", ["NAME_CONTRACT_TYPE"]),
        "TERMINATION_OFFSET": ("TERMINATION_OFFSET", ["NAME_CONTRACT_TYPE"]),
        "LAST_DUE_1ST_OFFSET": ("LAST_DUE_1ST_OFFSET", ["NAME_CONTRACT_TYPE"]),
        "NFLAG_INSURED_ON_APPROVAL": (
            "NFLAG_INSURED_ON_APPROVAL",
            ["NAME_CONTRACT_TYPE", "NAME_CONTRACT_STATUS"],
        ),
    },
    "bureau": {
        "CREDIT_ACTIVE": ("CREDIT_ACTIVE", ["DAYS_CREDIT"]),
        "DAYS_ENDDATE_FACT": ("DAYS_ENDDATE_FACT", ["CREDIT_ACTIVE", "DAYS_CREDIT"]),
        "DAYS_CREDIT_UPDATE_BY_AGE": ("DAYS_CREDIT_UPDATE", ["CREDIT_ACTIVE", "DAYS_CREDIT"]),
        "CREDIT_TYPE": ("CREDIT_TYPE", ["CREDIT_ACTIVE"]),
        "DURATION": ("DURATION", ["CREDIT_TYPE", "CREDIT_ACTIVE"]),
        "FACT_DURATION": ("FACT_DURATION", ["CREDIT_ACTIVE", "CREDIT_TYPE"]),
        "AMT_CREDIT_SUM": ("AMT_CREDIT_SUM", ["CREDIT_TYPE"]),
        "DEBT_SHARE": ("DEBT_SHARE", ["CREDIT_ACTIVE", "CREDIT_TYPE"]),
        "AMT_CREDIT_SUM_LIMIT": ("AMT_CREDIT_SUM_LIMIT", ["CREDIT_ACTIVE", "CREDIT_TYPE"]),
        "CREDIT_DAY_OVERDUE": ("CREDIT_DAY_OVERDUE", ["CREDIT_ACTIVE"]),
        "AMT_CREDIT_SUM_OVERDUE": ("AMT_CREDIT_SUM_OVERDUE", ["CREDIT_ACTIVE"]),
        "AMT_CREDIT_MAX_OVERDUE": ("AMT_CREDIT_MAX_OVERDUE", ["CREDIT_ACTIVE"]),
        "DAYS_CREDIT_UPDATE": ("DAYS_CREDIT_UPDATE", ["CREDIT_ACTIVE"]),
        "UPDATE_AFTER_FACT": ("UPDATE_AFTER_FACT", ["CREDIT_TYPE"]),
        "AMT_ANNUITY": ("AMT_ANNUITY", ["CREDIT_ACTIVE", "CREDIT_TYPE"]),
    },
    "installments_payments": {
        "PAYMENT_DELAY": ("PAYMENT_DELAY", ["NUM_INSTALMENT_VERSION"]),
    },
}

# Pattern blocks: name -> (columns, "present" | "one"); a derived categorical column of bit strings.
PATTERNS: dict[str, dict[str, tuple[list[str], str]]] = {
    "application_train": {
        "HOUSING_PATTERN": ([f"{b}_AVG" for b in BUILDING_BASES] + list(BUILDING_OTHER), "present"),
        "DOC_PATTERN": (DOCUMENT_FLAGS, "one"),
    },
}

# Gaussian copulas: the columns whose joint dependence is fitted (values, ranked categoricals, presence).
_APP_NOT_IN_COPULA = {
    "TARGET", "AMT_CREDIT", "AMT_ANNUITY", "CNT_FAM_MEMBERS", *DOCUMENT_FLAGS,
    *(f"{b}_{s}" for b in BUILDING_BASES for s in ("MEDI", "MODE")),  # ratios to the average
}  # fmt: skip
_APP_CATEGORICALS = [
    "NAME_CONTRACT_TYPE", "CODE_GENDER", "FLAG_OWN_CAR", "FLAG_OWN_REALTY", "NAME_TYPE_SUITE",
    "NAME_INCOME_TYPE", "NAME_EDUCATION_TYPE", "NAME_FAMILY_STATUS", "NAME_HOUSING_TYPE",
    "OCCUPATION_TYPE", "WEEKDAY_APPR_PROCESS_START", "ORGANIZATION_TYPE", "FONDKAPREMONT_MODE",
    "HOUSETYPE_MODE", "WALLSMATERIAL_MODE", "EMERGENCYSTATE_MODE", "HOUSING_PATTERN", "DOC_PATTERN",
    "LOAN_PAIR",
]  # fmt: skip
# Frequent value combinations: name -> columns (goods price and credit come in a few standard pairs).
COMBINATIONS: dict[str, dict[str, list[str]]] = {
    "application_train": {"LOAN_PAIR": ["AMT_GOODS_PRICE", "AMT_CREDIT"]},
}
MISSING_RANGE = (0.005, 0.995)  # presence is a copula variable for columns missing this often


def _copula_spec(df: pd.DataFrame, table: str) -> dict[str, Any] | None:
    if table != "application_train":
        return None
    types = column_types(table)
    housing = {f"{b}_{s}" for b in BUILDING_BASES for s in ("AVG", "MODE", "MEDI")} | set(BUILDING_OTHER)
    values = [
        c for c, t in types.items() if t != "VARCHAR" and c not in KEY_COLUMNS and c not in _APP_NOT_IN_COPULA
    ] + ["CREDIT_OVER_GOODS", "ANNUITY_OVER_CREDIT", "ADULTS", "EMPLOYED_SHARE", "ID_PUBLISH_SHARE",
         "REGISTRATION_SHARE"]  # fmt: skip
    missing = [
        c
        for c in types
        if c not in KEY_COLUMNS
        and c not in housing
        and c not in _APP_NOT_IN_COPULA
        and MISSING_RANGE[0] <= df[c].isna().mean() <= MISSING_RANGE[1]
    ]
    present_bits = df["HOUSING_PATTERN"].map(lambda p: p.count("1") if p != "other" else np.nan)
    return {
        "values": values,
        "categoricals": _APP_CATEGORICALS,
        "missing": missing,
        "order_key": "AMT_INCOME_TOTAL",
        "order_keys": {"HOUSING_PATTERN": present_bits.astype(float)},
    }


#: Tables with tree conditionals (synthetic.gibbs): the redrawn columns.
REDRAWN_BY_TABLE: dict[str, list[tuple]] = {
    "application_train": REDRAWN,
    "bureau": BUREAU_REDRAWN,
    "previous_application": [*PREVIOUS_REDRAWN_LOAN, *PREVIOUS_REDRAWN],
}

# Numeric parents cut at fixed bins instead of deciles.
FIXED_BINS: dict[str, list[float]] = {
    "OBS_30_CNT_SOCIAL_CIRCLE": [0.5, 1.5, 2.5, 4.5, 8.5],
    "DEF_30_CNT_SOCIAL_CIRCLE": [0.5, 1.5, 2.5],
    "NUM_INSTALMENT_VERSION": [0.5, 1.5],
    "REGION_RATING_CLIENT": [1.5, 2.5],
    "DAYS_EMPLOYED": [365000.0],
    "REG_CITY_NOT_WORK_CITY": [0.5],
    "REG_REGION_NOT_WORK_REGION": [0.5],
    "REG_REGION_NOT_LIVE_REGION": [0.5],
}
N_BINS: dict[str, int] = {"AMT_GOODS_PRICE": 10, "AMT_CREDIT": 10, "AGE_FINE": 20, "DAYS_DECISION": 4}


def _offset(a: pd.Series, b: pd.Series) -> pd.Series:
    return (a - b).where((a < SENTINEL) & (b < SENTINEL))


def yearly_rate(annuity: pd.Series, credit: pd.Series, term: pd.Series) -> pd.Series:
    """The yearly interest rate of an annuity loan (monthly compounding) that repays ``credit`` in
    ``term`` monthly ``annuity`` payments: Kaggle's annuities follow it closely per yield group.
    Missing where there is no such rate (no term, no credit, payments not above the credit)."""
    a, c, n = (pd.to_numeric(x, errors="coerce").to_numpy(float) for x in (annuity, credit, term))
    ok = (a > 0) & (c > 0) & (n > 0) & (a * n > c * 1.000001)
    a, c, n = np.where(ok, a, 2.0), np.where(ok, c, 1.0), np.where(ok, n, 1.0)
    lo, hi = np.full(a.size, 1e-9), np.full(a.size, 1.0)  # monthly rate
    for _ in range(60):
        mid = 0.5 * (lo + hi)
        low = monthly_annuity(c, n, mid) < a
        lo, hi = np.where(low, mid, lo), np.where(low, hi, mid)
    return pd.Series(np.where(ok, (1 + 0.5 * (lo + hi)) ** 12 - 1, np.nan), index=annuity.index)


def _loan_shape(d: pd.DataFrame) -> pd.Series:
    """Which amounts a previous application has: application amount (A) and credit (C) zero or not,
    term (N) missing, zero or positive -- e.g. ``A0-C0-NNA`` for an empty (cancelled) application."""
    app = np.where(d.AMT_APPLICATION == 0, "A0", "A")
    credit = np.where(d.AMT_CREDIT == 0, "C0", "C")
    term = np.where(d.CNT_PAYMENT.isna(), "NNA", np.where(d.CNT_PAYMENT == 0, "N0", "N"))
    shape = pd.Series(app, index=d.index, dtype=object) + "-" + credit + "-" + term
    return shape.where(d.AMT_APPLICATION.notna() & d.AMT_CREDIT.notna())


def _sentinel_pattern(d: pd.DataFrame) -> pd.Series:
    cols = [
        "DAYS_FIRST_DRAWING",
        "DAYS_FIRST_DUE",
        "DAYS_LAST_DUE_1ST_VERSION",
        "DAYS_LAST_DUE",
        "DAYS_TERMINATION",
    ]
    bits = pd.Series("", index=d.index, dtype=object)
    for c in cols:
        bits = bits + np.where(d[c] >= SENTINEL, "S", "d")
    return bits.where(d[cols[0]].notna())


#: Kaggle's amounts are multiples of 4.5 (a currency conversion): candidate grids, finest first.
GRIDS = (4.5, 9.0, 45.0, 90.0, 225.0, 450.0, 900.0, 2250.0, 4500.0)
GRID_SHARE = 0.99


def _grid(x: np.ndarray) -> float | None:
    """The coarsest candidate grid that (almost) every non-zero value lies on, if any."""
    nz = x[x != 0]
    if nz.size < PRIVACY_MIN:
        return None
    best = None
    for g in GRIDS:
        r = np.abs(nz / g - np.round(nz / g))
        if np.mean(r < 1e-6) >= GRID_SHARE:
            best = g
        else:
            break
    return best


def _decimals(x: np.ndarray) -> int | None:
    for d in range(0, 7):
        scaled = x * 10**d
        if np.mean(np.abs(scaled - np.round(scaled)) < 1e-6 * np.maximum(1.0, np.abs(scaled))) >= 0.99:
            return d
    return None


def _merge_rare(values: np.ndarray, counts: np.ndarray,
                keep: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Only the values in ``keep`` (default: those seen on at least PRIVACY_MIN rows) are written; the rows
    of every other value count with the nearest kept value (top/bottom coding of the extremes).
    ``values`` sorted; at least one value kept."""
    keep = counts >= PRIVACY_MIN if keep is None else keep
    kept = np.flatnonzero(keep)
    merged = counts[kept].astype(np.int64)
    for k in np.flatnonzero(~keep):
        merged[np.argmin(np.abs(values[kept] - values[k]))] += counts[k]
    return values[kept], merged


def fit_numeric(
    s: pd.Series, integer: bool, inner: tuple[float, float] | None = None, rare_values: str = "atoms",
    atom_rule: str = "loose", continuous: bool = False,
) -> dict[str, Any]:
    """Missing share, frequent values ("atoms": values seen on at least PRIVACY_MIN rows, and for a
    column of many distinct values at least ATOM_SHARE of them) and quantiles of the rest
    (`_trimmed_quantiles`: never the minimum, the maximum or another of the PRIVACY_MIN - 1 most extreme
    values), so the rare values are drawn from the continuous part (rounded like the column, or put on the
    lattice of the frequent values, `_lattice`), never stored. A rest of fewer than PRIVACY_MIN values, or
    the rare values of a column of a few irregular values (e.g. regions' populations), has no continuous
    part: their rows count with the nearest atom (inside a group of a conditional too: the group's own
    values, never another group's). A column with fewer than PRIVACY_MIN values is written as missing.
    ``rare_values="bins"`` (`PrivacyRules`): a discrete column's atoms need PRIVACY_MIN rows, its rare
    values (and a rest of fewer than 2 x PRIVACY_MIN values) are pooled into `_rare_bins`; ``"all-bins"``:
    every atom needs PRIVACY_MIN rows. ``atom_rule="strict"``: every atom share stands for PRIVACY_MIN rows,
    its own or a written pool's (`_strict_atoms`; `PrivacyRules`); ``continuous`` (a conditional group of a
    column with a continuous part, under the strict rule): a group of few distinct values is fitted as a
    continuous column (atoms of PRIVACY_MIN rows, the trimmed quantiles of the rest) when the rest has
    2 x PRIVACY_MIN values, not as pools of its rare values sharing even shares (which moved a group's median:
    the rates of a yield group, stop 28)."""
    strict = atom_rule == "strict"
    if strict:
        rare_values = "atoms"
    x = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    n = x.size
    vals = x[~np.isnan(x)]
    missing = 1.0 - vals.size / n if n else 1.0
    out: dict[str, Any] = {"kind": "num", "missing": round(missing, 6), "integer": integer}
    if vals.size < PRIVACY_MIN:  # too few values to describe without describing someone
        out.update(missing=1.0, atoms=[0.0], atom_probs=[1.0], quantiles=[], decimals=0)  # no "n": nothing described
        return out
    out["n"] = int(vals.size)
    out["decimals"] = 0 if integer else _decimals(vals)
    grid = None if integer else _grid(vals)
    if grid is not None:
        out["grid"] = grid
    uniq, counts = np.unique(vals, return_counts=True)
    lo, hi = inner if inner is not None else inner_range(s) or (np.inf, -np.inf)
    inside = (uniq >= lo) & (uniq <= hi)
    bins = rare_values in ("bins", "all-bins")
    as_column = continuous and counts[counts < PRIVACY_MIN].sum() >= 2 * PRIVACY_MIN
    if strict and uniq.size <= MAX_ALL_ATOMS and not as_column:  # a discrete column: pooled rare values
        pooled = _strict_atoms(uniq, counts, inside, vals.size)
        if pooled is not None:
            return {**out, **pooled}
    elif rare_values == "pooled" and uniq.size <= MAX_ALL_ATOMS:  # a discrete column: pooled rare values
        pooled = _pooled_atoms(uniq, counts, inside, vals.size)
        if pooled is not None:
            return {**out, **pooled}
    if bins and uniq.size <= MAX_ALL_ATOMS:  # a discrete column: frequent values and bins of rare ones
        keep = counts >= PRIVACY_MIN
        rare = np.repeat(uniq[~keep], counts[~keep])
        lattice = _lattice(uniq[keep], out["decimals"], rare) if not integer else None
        step = lattice[1] if lattice is not None else _step(out, integer)
        # (a few irregular values, e.g. regions' populations, are binned too: merged into the nearest atom,
        # their real rows would be the only ones with their values -- measured worse, docs/synthetic.md)
        binned = _rare_bins(uniq, counts, keep, inside, step)
        if binned is not None:
            if lattice is not None and "bins" in binned:
                out["lattice"] = lattice
            return {**out, **binned}
    elif uniq.size <= MAX_ALL_ATOMS and not strict:  # a discrete column: every value an atom, but no rare extreme one
        keep = (counts >= PRIVACY_MIN) | inside
        if keep.any():  # the rare extremes' rows count with the nearest kept value (top/bottom coding)
            atoms, merged = _merge_rare(uniq, counts, keep)
            out["atoms"] = [float(v) for v in atoms]
            out["atom_probs"] = [round(float(c) / vals.size, 8) for c in merged]
            out["quantiles"] = []
            return out
    loose = rare_values != "all-bins" and not strict
    keep = (counts >= PRIVACY_MIN) | (inside & (counts >= ATOM_MIN_COUNT) & loose)
    if uniq.size > MAX_ALL_ATOMS:  # a continuous column: only the values with a visible share
        keep &= counts / vals.size >= ATOM_SHARE
    rest = vals[~np.isin(vals, uniq[keep])]
    atoms, atom_probs = uniq[keep], counts[keep] / vals.size
    with_rest = rest.size >= PRIVACY_MIN or not keep.any()
    lattice = _lattice(atoms, out["decimals"], rest) if with_rest and not integer else None
    if lattice is not None:
        out["lattice"] = lattice
    elif with_rest and not integer and (logit := _logit_lattice(uniq, vals.size)) is not None:
        out["logit_lattice"] = logit
    elif (with_rest and keep.any() and uniq.size <= MAX_ALL_ATOMS and out["decimals"] != 0
          and rest.size <= MERGE_SHARE * vals.size):  # fmt: skip
        with_rest = False  # a few irregular values (e.g. regions' populations): no values between them
    if bins and with_rest and PRIVACY_MIN <= rest.size < 2 * PRIVACY_MIN:  # bins, not the rest's median
        step = lattice[1] if lattice is not None else _step(out, integer)
        binned = _rare_bins(uniq, counts, keep, inside, step)
        if binned is not None:
            return {**out, **binned}
    quantiles: list[float] = _trimmed_quantiles(rest) if with_rest else []
    if rest.size and not quantiles:  # the rest's rows count with the nearest atom
        atoms, merged = _merge_rare(uniq, counts, keep)
        atom_probs = merged / vals.size
    out["atoms"] = [float(v) for v in atoms]
    out["atom_probs"] = [round(float(p), 8) for p in atom_probs]
    out["quantiles"] = quantiles
    if quantiles:
        out["quantile_trim"] = PRIVACY_MIN
    return out


def _rare_value_pools(uniq: np.ndarray, counts: np.ndarray, inside: np.ndarray,
                      order: str) -> tuple[list, np.ndarray]:
    """The pools (`rare_pools`, of (rows, index) pairs) of a discrete column's values of fewer than PRIVACY_MIN
    rows inside its `inner_range`, pooled from the rarest up (``order="rarest"``) or in value order, and which
    values are written: those of PRIVACY_MIN rows and the pooled ones."""
    listed = counts >= PRIVACY_MIN
    rare = [(int(counts[i]), int(i)) for i in np.flatnonzero(~listed & inside)]  # in value order
    if order == "rarest":
        rare.sort(key=lambda t: (t[0], float(uniq[t[1]])))
    pools, _ = rare_pools(rare)
    for pool in pools:
        listed[[i for _, i in pool]] = True
    return pools, listed


def _pooled_atoms(uniq: np.ndarray, counts: np.ndarray, inside: np.ndarray, total: int) -> dict[str, Any] | None:
    """A discrete column's values as atoms under the rule of a categorical column's levels (`pool_levels`):
    a value seen on PRIVACY_MIN rows keeps its share; the rarer values inside the column's `inner_range`
    are pooled from the rarest up into pools of at least PRIVACY_MIN rows (`rare_pools`) whose values share
    their pool's share evenly (no share is the count of fewer than PRIVACY_MIN rows); the rows of the
    other rare values (the extremes; rare values of fewer than PRIVACY_MIN rows in all) count with the
    nearest value written (top / bottom coding). None when no value is written. (Spreading a conditional
    group's pool over its values like the column's marginal, as a categorical group's rare levels are, and
    pools of neighbouring values, ``POOL_ORDER = "value"``, measured worse: docs/synthetic.md.)"""
    pools, listed = _rare_value_pools(uniq, counts, inside, POOL_ORDER)
    if not listed.any():
        return None
    atoms, merged = _merge_rare(uniq, counts, listed)
    rows = counts[listed].astype(float)  # the values' own rows; the merged ones (extremes) added after
    extra = merged - rows
    position = {float(v): j for j, v in enumerate(atoms)}
    for pool in pools:
        members = [position[float(uniq[i])] for _, i in pool]
        rows[members] = rows[members].sum() / len(members)
    rows += extra  # top / bottom coding onto the nearest value written, not spread over its pool
    return {"atoms": [float(v) for v in atoms], "atom_probs": [round(float(c) / total, 8) for c in rows],
            "quantiles": []}


def _strict_atoms(uniq: np.ndarray, counts: np.ndarray, inside: np.ndarray, total: int) -> dict[str, Any] | None:
    """`_pooled_atoms` under ``atom_rule="strict"``: a value of PRIVACY_MIN rows keeps its share, the rarer
    values inside `inner_range` are pooled from the rarest up (`rare_pools`), each pool's values sharing its
    share evenly and the pool written (``pools``: its values and rows); the rows of the other rare values
    (the extremes; rare values of fewer than PRIVACY_MIN rows in all) count with the nearest value written,
    a pooled one's going to its whole pool, so every share stands for PRIVACY_MIN rows. None when no value
    is written."""
    pools, listed = _rare_value_pools(uniq, counts, inside, "rarest")
    pool_of = np.full(uniq.size, -1)
    for j, pool in enumerate(pools):
        pool_of[[i for _, i in pool]] = j
    if not listed.any():
        return None
    written = np.flatnonzero(listed)
    rows = counts.astype(float) * listed
    pool_rows = [float(sum(c for c, _ in pool)) for pool in pools]
    for k in np.flatnonzero(~listed):
        near = written[np.argmin(np.abs(uniq[written] - uniq[k]))]
        if pool_of[near] >= 0:
            pool_rows[pool_of[near]] += counts[k]
        else:
            rows[near] += counts[k]
    for j, pool in enumerate(pools):
        rows[[i for _, i in pool]] = pool_rows[j] / len(pool)
    out: dict[str, Any] = {"atoms": [float(v) for v in uniq[written]],
                           "atom_probs": [round(float(rows[i]) / total, 8) for i in written], "quantiles": []}
    if pools:
        out["pools"] = [{"levels": sorted(float(uniq[i]) for _, i in pool), "n": int(pool_rows[j])}
                        for j, pool in enumerate(pools)]
    return out


def _step(out: dict[str, Any], integer: bool) -> float:
    """The spacing of a column's values: 1 for integers, else its grid or its rounding unit."""
    if integer:
        return 1.0
    if out.get("grid"):
        return float(out["grid"])
    return 10.0 ** -out["decimals"] if out.get("decimals") is not None else 0.0


def _rare_bins(uniq: np.ndarray, counts: np.ndarray, keep: np.ndarray, inside: np.ndarray,
               step: float) -> dict[str, Any] | None:
    """Atoms of the ``keep`` values and ``bins`` for the others: the rare values inside the column's
    `inner_range`, in value order, are cut into pools of at least PRIVACY_MIN rows (`rare_pools`: a short
    last pool joins the one before); a bin spans from midway to the value before its first one to midway to
    the value after its last one (half a ``step`` at the ends and next to an extreme value), holds its pool's share and is drawn
    uniformly (then rounded like the column). The rows of the other rare values (the extremes; a rest of
    fewer than PRIVACY_MIN rows) count with the nearest atom or bin. None when neither exists."""
    rare = [(int(counts[i]), i) for i in np.flatnonzero(~keep & inside)]
    pools, _ = rare_pools(rare)
    shown = keep | inside  # an extreme value is no bin's bound, not even halfway
    spans: list[list[float]] = []  # [lo, hi, rows]
    for pool in pools:
        i, j = pool[0][1], pool[-1][1]
        lo = (uniq[i - 1] + uniq[i]) / 2 if i > 0 and shown[i - 1] else uniq[i] - step / 2
        hi = (uniq[j] + uniq[j + 1]) / 2 if j + 1 < uniq.size and shown[j + 1] else uniq[j] + step / 2
        spans.append([float(lo), float(hi), float(sum(c for c, _ in pool))])
    binned = {i for pool in pools for _, i in pool}
    kept = np.flatnonzero(keep)
    if not kept.size and not spans:
        return None
    rows = counts[kept].astype(float)
    for i in np.flatnonzero(~keep):
        if i in binned:
            continue
        v = uniq[i]
        d_atom = np.abs(uniq[kept] - v)
        d_bin = np.asarray([max(lo - v, v - hi, 0.0) for lo, hi, _ in spans])
        if d_bin.size and (not d_atom.size or d_bin.min() < d_atom.min()):
            spans[int(np.argmin(d_bin))][2] += counts[i]
        else:
            rows[int(np.argmin(d_atom))] += counts[i]
    total = float(counts.sum())
    out: dict[str, Any] = {
        "atoms": [float(v) for v in uniq[kept]],
        "atom_probs": [round(float(c) / total, 8) for c in rows],
        "quantiles": [],
    }
    if spans:
        out["bins"] = [[round(lo, 9), round(hi, 9), round(c / total, 8)] for lo, hi, c in spans]
    return out


LATTICE_SHARE = 0.7  # share of the rare values a lattice of the frequent ones must hold
LATTICE_MAX_N = 2000  # the finest lattice 1 / N `_rational_lattice` tries (columns of 4 decimals or more)


def _lattice(atoms: np.ndarray, decimals: int | None, rest: np.ndarray) -> list[float] | None:
    """``[start, step]`` when the frequent values lie on a lattice ``start + k * step`` coarser than the
    column's rounding (e.g. a building's age coded in steps of 0.0068) that also holds most rare values:
    the rare values drawn from the continuous part are put on it (no rare value is stored; the lattice
    comes from the frequent ones)."""
    if atoms.size < 3 or decimals is None or rest.size == 0:
        return None
    tol = 0.5 * 10.0**-decimals + 1e-9
    for div in (1, 2, 3, 4):
        h0 = float(np.diff(atoms).min()) / div
        if h0 <= 3 * tol:
            return None
        k = np.round((atoms - atoms[0]) / h0)
        (a, h), *_ = np.linalg.lstsq(np.column_stack([np.ones_like(k), k]), atoms, rcond=None)
        if np.abs(atoms - (a + k * h)).max() <= tol:
            on = np.abs(np.round(a + np.round((rest - a) / h) * h, decimals) - rest) < 1e-9
            return [float(a), float(h)] if on.mean() >= LATTICE_SHARE else _rational_lattice(atoms, decimals, rest)
    return _rational_lattice(atoms, decimals, rest)


def _rational_lattice(atoms: np.ndarray, decimals: int, rest: np.ndarray) -> list[float] | None:
    """``[0, 1 / N]`` for the smallest N up to LATTICE_MAX_N whose multiples, written with the column's decimals,
    hold every frequent value and LATTICE_SHARE of the rare ones: a measure kept as a count over a fixed total (the
    apartments' modes, multiples of 1 / 952 written with 4 decimals), whose rounding spaces the written values
    unevenly, so `_lattice`'s search for an even step misses it (stop 31: every real apartments mode is on it, half
    the generated ones were). Only N from the frequent values' spelling and the rare values' share, no value."""
    if decimals < 4:  # (a lattice of 1 / N holds N / 10 ** decimals of the values by chance: 20 % at most here)
        return None
    for n in range(2, LATTICE_MAX_N + 1):
        if np.abs(np.round(np.rint(atoms * n) / n, decimals) - atoms).max() > 1e-9:
            continue
        if (np.abs(np.round(np.rint(rest * n) / n, decimals) - rest) < 1e-9).mean() >= LATTICE_SHARE:
            return [0.0, 1.0 / n]
    return None


LOGIT_LATTICE_MIN = 200  # the fewest distinct values `_logit_lattice` looks for a lattice in
LOGIT_LATTICE_TOL = 1e-6  # how far from a lattice point (in steps) a value may be: float noise only


def _logit_lattice(uniq: np.ndarray, n: int) -> list[float] | None:
    """``[start, step]`` when every distinct value (``uniq``, sorted) of a column in (0, 1) is a logistic of a
    lattice point, ``1 / (1 + exp(-(start + k * step)))``: a score kept as a count of points and published as a
    probability (Kaggle's ``EXT_SOURCE_3``: every real value, to 1e-11 of a step of 0.0072126, i.e. 200 points to
    double the odds). The values drawn from the continuous part are put on it, as `_lattice`'s; a smooth draw
    fell between the real values, lumped at about 10 rows each in the sample (stop 32). Two figures found from
    all the values, no value. Only where the ``n`` values repeat (on average twice): ``EXT_SOURCE_1`` and
    ``EXT_SOURCE_2`` are on lattices too, of steps 1,000 times finer, which no draw would notice."""
    if uniq.size < LOGIT_LATTICE_MIN or 2 * uniq.size > n or uniq[0] <= 0.0 or uniq[-1] >= 1.0:
        return None
    z = np.log(uniq / (1.0 - uniq))
    d = np.diff(z)
    d = d[d > 1e-9]  # (a value spelled twice: float noise)
    if d.size < LOGIT_LATTICE_MIN - 1:
        return None
    k = np.rint(d / d.min())
    near = k <= 20  # the step from the small gaps (a large one's error is k times the step's)
    step = float(d[near].sum() / k[near].sum())
    r = z / step
    start = float(np.angle(np.exp(2j * np.pi * r).mean()) / (2 * np.pi))  # the lattice's offset, in steps
    if np.abs(r - start - np.rint(r - start)).max() > LOGIT_LATTICE_TOL:
        return None
    return [start * step, step]


def _trimmed_quantiles(rest: np.ndarray) -> list[float]:
    """N_QUANTILES quantiles of ``rest`` in which no stored value is one of the PRIVACY_MIN - 1 most extreme
    values at either end: the quantiles there (the minimum, the maximum, and those with fewer than
    PRIVACY_MIN values beyond them) are replaced by a uniform tail of the same mean as the PRIVACY_MIN
    most extreme values (a statistic of PRIVACY_MIN rows), ending at the PRIVACY_MIN-th value. A part of
    fewer than 2 x PRIVACY_MIN values is described by its median alone (twice: the knots need two points)."""
    k = PRIVACY_MIN
    ordered = np.sort(rest)
    m = ordered.size
    if m < 2 * k:
        median = float(np.median(ordered))
        return [median, median]
    p = np.linspace(0, 1, N_QUANTILES)
    qs = np.quantile(ordered, p)
    tail = k / m  # the share of the rows in each tail
    b_lo, b_hi = ordered[k - 1], ordered[m - k]
    a_lo = 2 * float(ordered[:k].mean()) - b_lo
    if ordered[0] >= 0:  # a non-negative column stays so (0, not its minimum, as the floor)
        a_lo = max(a_lo, 0.0)
    a_hi = 2 * float(ordered[m - k:].mean()) - b_hi
    a_lo = min(a_lo, b_lo)
    low, high = p < tail, p > 1 - tail
    qs[low] = a_lo + (b_lo - a_lo) * p[low] / tail
    qs[high] = b_hi + (a_hi - b_hi) * (p[high] - (1 - tail)) / tail
    qs = np.maximum.accumulate(qs)
    return [float(v) for v in qs]



def fit_categorical(s: pd.Series, reference: dict[str, Any] | None = None) -> dict[str, Any]:
    """Missing share, levels and their shares. A level seen on at least PRIVACY_MIN rows keeps its own
    share. The rarer levels (`pool_levels`) are pooled into ``pools`` of at least PRIVACY_MIN rows (the
    rarest together), each level sharing its pool's share evenly; when they make fewer than PRIVACY_MIN
    rows in all they get share 0 (their rows count with the kept levels). Inside a group of a conditional
    (``reference``: the column's marginal) the group's levels of PRIVACY_MIN rows are kept and the rest is
    spread by the reference (`_group_shares`; the levels given their share so listed in
    ``from_reference``)."""
    n = len(s)
    vc = s.dropna().astype(str).value_counts()
    tot = int(vc.sum())
    missing = 1.0 - tot / n if n else 1.0
    if tot < (1 if reference is not None else PRIVACY_MIN):  # nothing to describe without describing someone
        return {"kind": "cat", "missing": 1.0, "levels": [], "probs": []}
    out: dict[str, Any] = {"kind": "cat", "missing": round(missing, 6)}
    if reference is not None:
        shares = _group_shares(vc, reference)
        out["from_reference"] = sorted(lv for lv in shares if vc.get(lv, 0) < PRIVACY_MIN)
    else:
        shares, pools = pool_levels(vc)
        if pools:
            out["pools"] = pools
    levels = sorted(shares)
    return {
        **out,
        "levels": levels,
        "probs": [round(shares[lv], 8) for lv in levels],
        "n": tot,
    }


def pool_levels(vc: pd.Series) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Shares of the levels (``vc``: rows per level): a level with PRIVACY_MIN rows keeps its own; the
    rarer ones, from the rarest up, are cut into pools of at least PRIVACY_MIN rows (a short last pool
    joins the one before) whose share is split evenly over their levels; rare levels of fewer than
    PRIVACY_MIN rows in all get share 0 (still listed: the column's domain) and the kept shares are scaled
    to a total of 1."""
    kept = {str(lv): int(c) for lv, c in vc.items() if c >= PRIVACY_MIN}
    rare = sorted(((int(c), str(lv)) for lv, c in vc.items() if c < PRIVACY_MIN))
    pools, current = rare_pools(rare)
    total = sum(kept.values()) + sum(c for pool in pools for c, _ in pool)
    shares = {lv: 0.0 for _, lv in current}  # dropped: listed (the column's domain), never drawn
    shares.update({lv: c / total for lv, c in kept.items()})
    out = []
    for pool in pools:
        rows = sum(c for c, _ in pool)
        shares.update({lv: rows / len(pool) / total for _, lv in pool})
        out.append({"levels": sorted(lv for _, lv in pool), "n": rows})
    return shares, out


def _group_shares(vc: pd.Series, reference: dict[str, Any]) -> dict[str, float]:
    """A group's level shares: its levels of PRIVACY_MIN rows keep their own; the rest of the group's share
    goes, in proportion to the reference's shares, to the levels the reference expects on fewer than
    PRIVACY_MIN of the group's rows (group rows x reference share) -- whether the group has them or not,
    so nothing about its rare cells is told. A level expected on PRIVACY_MIN rows but seen on fewer gets
    nothing (no approved loan with a rejection reason). When the kept levels hold GROUP_KEPT of the group
    (or no level can take the rest) they are scaled to a total of 1 instead: a small rest spread by a
    larger group makes levels foreign to the group (refused revolving loans without a term). A group with
    no kept level takes the reference's shares."""
    tot = float(vc.sum())
    kept = {str(lv): int(c) / tot for lv, c in vc.items() if c >= PRIVACY_MIN}
    ref = {lv: float(p) for lv, p in zip(reference["levels"], reference["probs"], strict=True) if p > 0}
    if not kept:
        total = sum(ref.values()) or 1.0
        return {lv: p / total for lv, p in ref.items()}
    rest = 1.0 - sum(kept.values())
    small = {lv: p for lv, p in ref.items() if lv not in kept and tot * p < PRIVACY_MIN}
    if rest > 1 - GROUP_KEPT and small:
        total = sum(small.values())
        kept.update({lv: rest * p / total for lv, p in small.items()})
        return kept
    scale = sum(kept.values())
    return {lv: p / scale for lv, p in kept.items()}


def fit_extra_counts(counts: pd.Series) -> dict[str, Any]:
    """Distribution of a per-applicant count (e.g. bureau credits): values on fewer than PRIVACY_MIN
    applicants join the nearest value that has enough."""
    vc = counts.value_counts().sort_index()
    values, merged = _merge_rare(vc.index.to_numpy(dtype=float), vc.to_numpy())
    total = float(merged.sum())
    return {"values": [int(v) for v in values], "probs": [round(float(c) / total, 8) for c in merged],
            "counts": [int(c) for c in merged]}


def fit_column(s: pd.Series, kind: str, reference: dict[str, Any] | None = None,
               inner: tuple[float, float] | None = None, rules: PrivacyRules = COMMITTED_RULES,
               continuous: bool = False) -> dict[str, Any]:
    """A column's marginal; ``reference``: the column's marginal when ``s`` is a group of its rows (a
    categorical group's rare levels take their shares from it); ``inner``: the whole column's
    `inner_range` when ``s`` is a group of its rows."""
    if kind == "VARCHAR":
        return fit_categorical(s, reference)
    return fit_numeric(s, integer=kind == "BIGINT", inner=inner, rare_values=rules.rare_values,
                       atom_rule="loose" if rules.atom_rule == "groups" else rules.atom_rule, continuous=continuous)


def fit_marginal(s: pd.Series, kind: str, rules: PrivacyRules = COMMITTED_RULES) -> dict[str, Any]:
    """A whole column's marginal (a table's column, a derived column, a conditional's fallback): `fit_column`
    with its rare cells hidden (`hide_rare_cells`). A conditional group's are hidden by `pool_group_missing`."""
    return hide_rare_cells(fit_column(s, kind, rules=rules), s, kind)


def hide_rare_cells(m: dict[str, Any], s: pd.Series, kind: str) -> dict[str, Any]:
    """A column's marginal ``m`` (fitted on ``s``) that tells no cell of 1 to PRIVACY_MIN - 1 rows through its
    missing share, its ``n`` or the denominator of its shares (stop 30; the file of stop 29 told 27 missing cells
    and 18 categorical columns' dropped levels):

    - a missing cell of 1 to PRIVACY_MIN - 1 rows is written as PRIVACY_MIN rows (``missing`` = PRIVACY_MIN /
      rows, ``n`` = rows - PRIVACY_MIN), the way a rare level is still listed: a column of fewer than
      2 x PRIVACY_MIN rows writes it off instead (share 0, ``n`` = rows);
    - a categorical column's rare levels dropped by `pool_levels` (share 0, fewer than PRIVACY_MIN rows in all)
      stay counted in ``n``;
    - either way the shares are of another number of values than ``n``, which exact shares would tell (a search
      for their common denominator): they are put on a grid of the fewest values the file allows (`grid_shares`:
      every count from there up fits them), and a pool's rows are not written."""
    if "n" not in m:  # written as missing: nothing described
        return m
    rows = len(s)
    present = int((s.notna() if kind == "VARCHAR" else pd.to_numeric(s, errors="coerce").notna()).sum())
    missing = rows - present
    out = dict(m)
    fewest = present
    if 0 < missing < PRIVACY_MIN:
        floor = rows - PRIVACY_MIN >= PRIVACY_MIN
        out["missing"] = round(PRIVACY_MIN / rows, 6) if floor else 0.0
        out["n"] = rows - PRIVACY_MIN if floor else rows
        fewest = rows - PRIVACY_MIN
    if m["kind"] == "cat" and any(p == 0 for p in m["probs"]):
        fewest -= PRIVACY_MIN - 1
    if fewest == present:
        return m
    return grid_shares(out, max(PRIVACY_MIN, fewest))


def banded_atoms(m: dict[str, Any]) -> dict[str, Any]:
    """A numeric marginal whose values are also cells of a frequent-combination block (`COMBINATIONS`: the goods
    price and the credit of LOAN_PAIR, whose pairs store their counts): each atom's rows written rounded down to a
    multiple of PRIVACY_MIN, the rest going to its other values (stop 31). Exact, an atom's rows less the rows of
    the pairs holding that value told the rows of that value outside the standard pairs: 13 counts of 1-49 rows
    in the stop-30 file (e.g. 2 applicants with a credit of 180,000 whose goods price is not 180,000). The
    generator takes these columns' values from the pairs and the conditionals (the marginal gives the credit its
    rounding, the goods price a fallback), so the draws barely move. A pool's atoms (rare values) stay as they are:
    a value of fewer than PRIVACY_MIN rows is in no pair."""
    if m.get("kind") != "num" or "n" not in m or not m.get("atoms"):
        return m
    pooled = {v for pool in m.get("pools", []) for v in pool["levels"]}
    rows = m["n"] * np.asarray(m["atom_probs"], dtype=float)
    banded = [p if v in pooled else round(float(PRIVACY_MIN * np.floor(r / PRIVACY_MIN + 1e-4) / m["n"]), 8)
              for v, p, r in zip(m["atoms"], m["atom_probs"], rows, strict=True)]
    return {**m, "atom_probs": banded}


def inner_range(s: pd.Series) -> tuple[float, float] | None:
    """The PRIVACY_MIN-th smallest and largest value of a numeric column: a value outside them (one of the
    PRIVACY_MIN - 1 most extreme at either end) is an atom nowhere unless seen on PRIVACY_MIN rows."""
    x = np.sort(pd.to_numeric(s, errors="coerce").dropna().to_numpy(dtype=float))
    if x.size < PRIVACY_MIN:
        return None
    return float(x[PRIVACY_MIN - 1]), float(x[-PRIVACY_MIN])


def _kind_of(df: pd.DataFrame, types: dict[str, str], col: str) -> str:
    if col in types:
        return types[col]
    return "VARCHAR" if df[col].dtype == object or str(df[col].dtype).startswith("str") else "DOUBLE"


def group_keys(df: pd.DataFrame, types: dict[str, str], parents: list[str]) -> tuple[pd.Series, dict[str, list[float]]]:
    """Each row's group key of a conditional: its ``"|"``-joined parents' keys (a categorical parent's level,
    a numeric parent's bin number; ``NA`` when missing), and the bins of the numeric parents (fixed, or at
    their quantiles)."""
    bins: dict[str, list[float]] = {}
    key = pd.Series("", index=df.index, dtype=object)
    for i, p in enumerate(parents):
        pk = _kind_of(df, types, p)
        if pk == "VARCHAR":
            part = df[p].astype(object).where(df[p].notna(), "NA").astype(str)
        else:
            v = pd.to_numeric(df[p], errors="coerce").to_numpy(dtype=float)
            if p in FIXED_BINS:
                edges = np.asarray(FIXED_BINS[p])
            else:
                k = N_BINS.get(p, 10)
                edges = np.unique(np.nanquantile(v, np.linspace(0, 1, k + 1)[1:-1]))
            bins[p] = [float(e) for e in edges]
            b = np.searchsorted(edges, v, side="right").astype(str).astype(object)
            b[np.isnan(v)] = "NA"
            part = pd.Series(b, index=df.index)
        key = part if i == 0 else key + "|" + part
    return key, bins


def fitted_groups(key: pd.Series) -> dict[str, pd.Index]:
    """The rows of each group of a conditional that gets statistics of its own (``key``: `group_keys`): the groups
    of MIN_GROUP rows. The smaller groups' rows, when they make 1 to PRIVACY_MIN - 1 in all, are fitted with the
    largest group: else the column's marginal less the stored groups (counts: ``n``; values: shares x present
    values) would describe those few rows (the file of stop 29: 24 conditionals, e.g. the 3 applicants of rare
    income types, the 2 previous applications of contract type XNA)."""
    rows = {str(k): v for k, v in key.groupby(key).groups.items()}
    out = {k: v for k, v in rows.items() if len(v) >= MIN_GROUP}
    small = [v for v in rows.values() if len(v) < MIN_GROUP]
    rest = sum(len(v) for v in small)
    if out and 0 < rest < PRIVACY_MIN:
        top = max(out, key=lambda k: (len(out[k]), k))
        merged = np.concatenate([np.asarray(out[top]), *(np.asarray(v) for v in small)])
        out[top] = pd.Index(merged[np.argsort(key.index.get_indexer(merged), kind="stable")])
    return out


def fit_conditional(
    df: pd.DataFrame, types: dict[str, str], child: str, parents: list[str], levels: list[str] | None,
    rules: PrivacyRules = COMMITTED_RULES,
) -> dict[str, Any]:
    kind = _kind_of(df, types, child)
    key, bins = group_keys(df, types, parents)
    if rules.atom_rule == "groups":  # the strict rule inside the conditionals only
        rules = replace(rules, atom_rule="strict")
    fallback = fit_marginal(df[child], kind, rules)
    inner = inner_range(df[child]) if kind != "VARCHAR" else None
    # a group of a column with a continuous part: fitted like its column (`fit_numeric`)
    continuous = kind != "VARCHAR" and rules.atom_rule == "strict" and len(fallback.get("quantiles", [])) >= 2
    # a group's rare levels take their shares from the group of its last parent alone (itself fitted by
    # this rule), or from the column's marginal: the revolving loans' rest goes to revolving loans' shapes
    coarse = (fit_conditional(df, types, child, parents[-1:], levels, rules)["groups"]
              if kind == "VARCHAR" and len(parents) > 1 else {})  # fmt: skip
    groups: dict[str, Any] = {}
    cells: dict[str, tuple[int, int]] = {}  # group -> (rows, missing rows) of a group whose share is its own
    hidden: dict[str, int] = {}  # group -> its present rows behind none of its shares (`_hidden_rows`)
    for k, idx in fitted_groups(key).items():
        reference = coarse.get(k.split("|")[-1], fallback)
        g = fit_column(df.loc[idx, child], kind, reference=reference, inner=inner, rules=rules,
                       continuous=continuous)
        hidden[k] = _hidden_rows(g, df.loc[idx, child])
        missing_rows = int(df.loc[idx, child].isna().sum())
        if kind == "VARCHAR" or len(idx) - missing_rows >= PRIVACY_MIN:  # (else written as missing)
            cells[k] = (len(idx), missing_rows)
        if kind == "VARCHAR" and levels is not None:
            g = _align_levels(g, levels)
        elif kind != "VARCHAR" and (g.get("quantiles") or g.get("bins")):
            # a group's values drawn between its atoms land on the column's grid / lattice (incomes
            # in steps of 4,500), which a group's few frequent values may not show
            for field_name in ("grid", "lattice", "logit_lattice"):
                if field_name in fallback and field_name not in g:
                    g[field_name] = fallback[field_name]
        groups[k] = {**g, "n": len(idx)}
    out = {"child": child, "parents": parents, "bins": bins, "groups": groups, "fallback": fallback}
    if rules.rare_values in ("bins", "all-bins") and kind != "VARCHAR":  # a group's bins drawn like its column
        out["bins_from"] = "fallback"
    if rules.group_missing == "pooled":
        shares, pools = pool_group_missing(cells)
        for k, share in shares.items():
            groups[k]["missing"] = share
        if pools:
            out["missing_pools"] = pools
        fewest = _fewest_present(cells, shares, pools)
    else:
        fewest = {}
    fewest_shown: dict[str, int] = {}  # the fewest values a group's shares may be of, by the rule of stop 30
    for k, rows in fewest.items():  # (less the rare levels' rows the group's shares may hide)
        fewest_shown[k] = rows - (PRIVACY_MIN - 1) * (hidden[k] > 0)
    for k, rows in hidden.items():
        if k not in fewest and k in cells and rows > 0:
            present = cells[k][0] - cells[k][1]
            fewest_shown[k] = present - (PRIVACY_MIN - 1) if rows < PRIVACY_MIN else present - rows
    own_missing = {k for k in cells if k not in fewest and groups[k]["missing"] not in (0.0, 1.0)}
    for k, g in groups.items():
        groups[k] = banded_group(g, fewest_shown.get(k), cells[k][0] if k in own_missing else None)
    return out


def banded_group(g: dict[str, Any], fewest: int | None, rows: int | None) -> dict[str, Any]:
    """A conditional group as written (stop 31): no ``n``, its shares on a grid of `band` of the values they are
    of (``fewest``: the fewest the rest of the file allows, when fewer than ``n`` less the missing rows; a numeric
    group's are its present values), and an own missing share (``rows``: the group's rows, None when the share
    is a pool's, written off, or 0) on a grid of `band` of its rows. Two conditionals on the same rows whose
    parents nest (``DAYS_BIRTH`` bins alone and ``DAYS_EMPLOYED`` x ``DAYS_BIRTH``; contract type alone and
    contract type x status) would otherwise tell by the difference of their exact group sizes the rows of the
    finer one's small groups, fitted elsewhere (`fitted_groups`): the file of stop 30 did in 143 places. Known only
    to a band of PRIVACY_MIN rows, a group's size leaves every such difference uncertain by as many."""
    out = {k: v for k, v in g.items() if k != "n"}
    if g["missing"] >= 1 or "n" not in g:  # written as missing: describes nothing
        return out
    present = fewest if fewest is not None else round(g["n"] * (1 - g["missing"]))
    out = grid_shares(out, band(present))
    if rows is not None:
        out["missing"] = share_on_grid(g["missing"], rows)
    return out


def _hidden_rows(g: dict[str, Any], s: pd.Series) -> int:
    """The present rows of a categorical group (``g`` fitted on ``s``) behind none of its shares: its rare levels'
    when its kept levels hold GROUP_KEPT of it and were scaled to a total of 1 (`_group_shares`). Exact, the kept
    shares are counts of the other rows, so their common denominator tells these rows: `fit_conditional` puts a
    group of 1 to PRIVACY_MIN - 1 such rows on a grid (`grid_shares`; the file of stop 29 told 83 groups')."""
    if g["kind"] != "cat" or g["missing"] >= 1:
        return 0
    share = dict(zip(g["levels"], g["probs"], strict=True))
    if any(share.get(lv, 0) > 0 for lv in g.get("from_reference", [])):  # the rest is a share of the group
        return 0
    vc = s.dropna().astype(str).value_counts()
    return int(vc.sum()) - int(sum(int(c) for lv, c in vc.items() if share.get(str(lv), 0) > 0))


def _fewest_present(cells: dict[str, tuple[int, int]], shares: dict[str, float],
                    pools: list[dict[str, Any]]) -> dict[str, int]:
    """The fewest present rows each group whose missing share is not its own (``shares``: pooled or written off,
    `pool_group_missing`) can have by what the file tells: a pool's group n minus the pool's missing rows
    plus 1 (the pool's other groups have a missing row each at least), a group written off (share 0) n minus
    PRIVACY_MIN - 1 (its missing cell was rare); never below PRIVACY_MIN (a kept level or atom of the group
    stands for that many rows). A group written off as missing (share 1) describes nothing."""
    out: dict[str, int] = {}
    for pool in pools:
        missing = sum(cells[k][1] for k in pool["groups"])
        out.update({k: max(PRIVACY_MIN, cells[k][0] - missing + 1) for k in pool["groups"]})
    for k, share in shares.items():
        if k not in out and share < 1:
            out[k] = max(PRIVACY_MIN, cells[k][0] - PRIVACY_MIN + 1)
    return out


def grid_shares(g: dict[str, Any], rows: int) -> dict[str, Any]:
    """A group's shares as multiples of 1 / ``rows`` (stored as ``share_grid``): its own shares (counts of its
    present values, or of its kept cells' rows), each pool's total (split evenly again) and the rest (the
    levels spread from the reference, scaled together; a numeric group's continuous part) rounded to whole
    steps by largest remainders (ties: the first cell), so they still sum to 1. With exact shares (8 decimals)
    a search for their common denominator tells the group's present values, and with its ``n`` the rare missing
    cell its pooled or written-off missing share hides; on a grid of 1 / ``rows`` every count from ``rows`` up
    fits them (each share within a step of a whole count). A pool's rows are not written (over the pool's share
    they would tell the count again)."""
    num = g["kind"] == "num"
    keys, probs = (g["atoms"], g["atom_probs"]) if num else (g["levels"], g["probs"])
    share = dict(zip(keys, probs, strict=True))
    pools = [list(pool["levels"]) for pool in g.get("pools", [])]
    pooled = {v for pool in pools for v in pool}
    spread = [k for k in g.get("from_reference", []) if share.get(k, 0) > 0]
    cells = [[k] for k in keys if share[k] > 0 and k not in pooled and k not in spread] + pools
    mass = [sum(share[k] for k in cell) for cell in cells]
    rest = max(0.0, 1.0 - sum(mass))  # the spread levels' share, or a numeric group's continuous part
    units = grid_units(np.asarray([*mass, rest]), rows)
    new = dict(share)
    for cell, u in zip(cells, units[:-1], strict=True):
        new.update({k: u / rows / len(cell) for k in cell})
    spread_mass = sum(share[k] for k in spread)
    for k in spread:
        new[k] = share[k] * units[-1] / rows / spread_mass
    out = {**g, "share_grid": int(rows)}
    out["atom_probs" if num else "probs"] = [round(float(new[k]), 8) for k in keys]
    if pools:
        out["pools"] = [{k: v for k, v in pool.items() if k != "n"} for pool in g["pools"]]
    return out


def pool_group_missing(cells: dict[str, tuple[int, int]]) -> tuple[dict[str, float], list[dict[str, Any]]]:
    """Missing shares for the groups (``cells``: group -> (rows, missing rows)) whose missing or present
    cell has 1 to PRIVACY_MIN - 1 rows, each computed on at least PRIVACY_MIN missing and present rows:
    such groups, ordered by their share (rare missing cells from the lowest share up, rare present cells
    from the highest down), are cut into pools of PRIVACY_MIN rare-cell rows; every group of a pool stores
    the pool's share. A group left over (the last ones, fewer than PRIVACY_MIN rows) joins the pool nearest
    in share: one of its side, or that of a group with PRIVACY_MIN missing and present rows (which then
    stores the pool's share too); when its side has no pool, a cell of at most MISSING_OFF of its group is
    written off instead (share 0 / 1, like a rare level), as is any cell with nothing to join. Returns the
    changed shares and the pools (``{"groups": [...], "n": rows}``)."""
    share = {k: m / n for k, (n, m) in cells.items()}
    full = [k for k, (n, m) in cells.items() if m >= PRIVACY_MIN and n - m >= PRIVACY_MIN]
    pools: list[list[str]] = []
    out: dict[str, float] = {}

    def pool_share(pool: list[str]) -> float:
        return sum(cells[k][1] for k in pool) / sum(cells[k][0] for k in pool)

    for side in ("missing", "present"):
        rare = sorted(
            (k for k, (n, m) in cells.items() if 0 < (m if side == "missing" else n - m) < PRIVACY_MIN),
            key=lambda k: (share[k] if side == "missing" else -share[k], k),
        )
        side_pools: list[list[str]] = []
        current: list[str] = []
        for k in rare:
            current.append(k)
            rows = sum(cells[j][1] if side == "missing" else cells[j][0] - cells[j][1] for j in current)
            if rows >= PRIVACY_MIN:
                side_pools.append(current)
                current = []
        pools += side_pools
        for k in current:  # the short rest
            n, m = cells[k]
            if not side_pools and (m if side == "missing" else n - m) <= MISSING_OFF * n:
                out[k] = 0.0 if side == "missing" else 1.0
                continue
            candidates = [(abs(pool_share(p) - share[k]), 0, p[0], p) for p in side_pools]
            candidates += [(abs(share[f] - share[k]), 1, f, None) for f in full]
            if not candidates:
                out[k] = 0.0 if side == "missing" else 1.0
                continue
            _, _, first, pool = min(candidates, key=lambda c: c[:3])
            if pool is None:  # a full group: its pool, made once
                pool = next((p for p in pools if first in p), None)
                if pool is None:
                    pool = [first]
                    pools.append(pool)
            pool.append(k)
    records = []
    for pool in pools:  # the pool's share on a grid of `band` of its rows, which are not written (stop 31)
        out.update(dict.fromkeys(pool, share_on_grid(pool_share(pool), sum(cells[k][0] for k in pool))))
        records.append({"groups": sorted(pool)})
    return out, sorted(records, key=lambda r: r["groups"])


def _align_levels(g: dict[str, Any], levels: list[str]) -> dict[str, Any]:
    """Keep only levels known to the column's marginal (all are, by construction)."""
    keep = [(lv, p) for lv, p in zip(g["levels"], g["probs"], strict=True) if lv in levels]
    return {**g, "levels": [lv for lv, _ in keep], "probs": [p for _, p in keep]}


def prepare_table(df: pd.DataFrame, table: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The real rows with the table's derived columns, pattern blocks and frequent combinations added (the
    frame every marginal and conditional is fitted on), and the blocks' fitted patterns."""
    for name, fn in DERIVED.get(table, {}).items():
        df[name] = fn(df)
        df = df.copy()
    patterns: dict[str, Any] = {}
    for name, (cols, on) in PATTERNS.get(table, {}).items():
        df[name], patterns[name] = pattern_codes(df, cols, on)
    for name, cols in COMBINATIONS.get(table, {}).items():
        df[name], counts = frequent_combinations(df, cols)
        patterns[name] = {"columns": cols, "counts": counts, "other": {"rates": [0.0] * len(cols)}}
    return df, patterns


def _subset_rows(df: pd.DataFrame, subsets: dict[str, Any], column: str) -> pd.DataFrame:
    """The rows a column is fitted on: those its table's subset rule (`SUBSETS`) keeps, else every row."""
    return df[subsets[column](df).fillna(False).astype(bool)] if column in subsets else df


def real_tables(marginals_dir: Path) -> dict[str, pd.DataFrame]:
    """The real rows each table is fitted on, read from ``marginals_dir``: each table's own, application_test's
    too (`fit_table` fits them with application_train's derived columns and conditionals). At stop 30 they were
    pooled with the train rows, and the pooled statistics less the train ones told the test rows' counts: 1,156
    counts of 1-49 test applicants in the marginals alone (e.g. 13 with a revolving loan, 6 with an income of
    45,000); at stop 31 they were the train rows' but for the test rows' missing shares."""
    return {table: pd.read_csv(marginals_dir / csv_name(table), low_memory=False) for table in TABLES}


def group_values(sizes: dict[str, dict[str, dict[str, tuple[int, int]]]]) -> dict[str, dict[str, dict[str, int]]]:
    """The real present values behind every conditional group (``sizes``: `group_sizes`): table -> conditional ->
    group -> rows where the child is present. Never written (a group whose missing cell was pooled or written off
    stores another missing share than its own; its own would tell the rare cell): for checking a fitted file's
    shares against the real rows."""
    return {table: {name: {k: present for k, (_, present) in groups.items()} for name, groups in conds.items()}
            for table, conds in sizes.items()}


def group_sizes(marginals_dir: Path) -> dict[str, dict[str, dict[str, tuple[int, int]]]]:
    """The real (rows, present values) of every conditional group of a file fitted on ``marginals_dir``: table ->
    conditional -> group. Never written (`banded_group`, `group_values`)."""
    out: dict[str, dict[str, dict[str, tuple[int, int]]]] = {}
    for table, df in real_tables(marginals_dir).items():
        model = model_of(table)
        if not CONDITIONALS.get(model):
            continue
        with warnings.catch_warnings():  # (pandas: the derived columns inserted one by one, as the fit does)
            warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
            df, _ = prepare_table(df, model)
        types, subsets = column_types(model), SUBSETS.get(model, {})
        out[table] = {}
        for name, (child, parents) in CONDITIONALS[model].items():
            rows = _subset_rows(df, subsets, child)
            key, _ = group_keys(rows, types, parents)
            present = rows[child].notna()
            out[table][name] = {k: (len(idx), int(present.loc[idx].sum())) for k, idx in fitted_groups(key).items()}
    return out


def marginal_values(marginals_dir: Path) -> dict[str, dict[str, int]]:
    """The real number of values the shares of every marginal and conditional fallback of a file fitted on
    ``marginals_dir`` are of: table -> column (a fallback: its conditional's name) -> present rows, less a
    categorical column's rare levels dropped by `pool_levels` (share 0, their rows counted with the kept ones).
    Never written (a marginal whose missing cell or dropped levels are rare does not tell them: `hide_rare_cells`):
    for checking a fitted file's shares against the real rows."""
    out: dict[str, dict[str, int]] = {}

    def values(s: pd.Series, kind: str) -> int:
        if kind != "VARCHAR":
            return int(pd.to_numeric(s, errors="coerce").notna().sum())
        vc = s.dropna().astype(str).value_counts()
        shares, _ = pool_levels(vc)
        return int(vc.sum()) - int(sum(int(vc[lv]) for lv, p in shares.items() if p == 0))

    for table, df in real_tables(marginals_dir).items():
        model = model_of(table)
        types = column_types(table)
        with warnings.catch_warnings():  # (pandas: the derived columns inserted one by one, as the fit does)
            warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
            df, _ = prepare_table(df, model)
        subsets = SUBSETS.get(model, {})
        got = {c: values(df[c], t) for c, t in types.items() if c not in KEY_COLUMNS}
        for name in DERIVED.get(model, {}):
            got[name] = values(_subset_rows(df, subsets, name)[name], _kind_of(df, types, name))
        for name in [*PATTERNS.get(model, {}), *COMBINATIONS.get(model, {})]:
            got[name] = values(df[name], "VARCHAR")
        for name, (child, _) in CONDITIONALS.get(model, {}).items():
            got[f"{name}:fallback"] = values(_subset_rows(df, subsets, child)[child], _kind_of(df, types, child))
        out[table] = got
    return out


def model_of(table: str) -> str:
    """Whose derived columns, conditionals and pattern blocks a table's statistics use: application_test's are
    application_train's (same applicants' form, no TARGET); the copula and the trees are the train's alone."""
    return "application_train" if table == "application_test" else table


def fit_table(
    df: pd.DataFrame, table: str, leaf_rule: str = "exact", rules: PrivacyRules = COMMITTED_RULES,
) -> dict[str, Any]:
    """Marginals of every column and of the derived columns; conditionals; pattern blocks; the copula; the trees
    (application_test: on its own rows, with application_train's conditionals, no copula and no trees:
    `model_of`)."""
    types = column_types(table)
    own_model = model_of(table) == table
    table = model_of(table)
    df, patterns = prepare_table(df, table)
    subsets = SUBSETS.get(table, {})
    marg = {c: fit_marginal(df[c], t, rules) for c, t in types.items() if c not in KEY_COLUMNS}
    for name in DERIVED.get(table, {}):
        rows = _subset_rows(df, subsets, name)
        marg[name] = fit_marginal(rows[name], _kind_of(df, types, name), rules)
    for name in [*PATTERNS.get(table, {}), *COMBINATIONS.get(table, {})]:
        marg[name] = fit_marginal(df[name], "VARCHAR")
    for cols in COMBINATIONS.get(table, {}).values():
        for c in cols:
            marg[c] = banded_atoms(marg[c])
    conds = {}
    for name, (child, parents) in CONDITIONALS.get(table, {}).items():
        lv = marg[child]["levels"] if marg[child]["kind"] == "cat" else None
        rows = _subset_rows(df, subsets, child)
        conds[name] = fit_conditional(rows, types, child, parents, lv, rules)
    spec = _copula_spec(df, table) if own_model else None
    copula = fit_copula(df, **spec) if spec else None
    gibbs = _fit_gibbs(df, table, marg, leaf_rule) if own_model else None
    return {"marginals": marg, "conditionals": conds, "patterns": patterns, "copula": copula, "gibbs": gibbs}


def _fit_gibbs(
    df: pd.DataFrame, table: str, marg: dict[str, Any], leaf_rule: str = "exact"
) -> dict[str, Any] | None:
    """Tree conditionals of the redrawn application columns given all the others (synthetic.gibbs)."""
    if table not in REDRAWN_BY_TABLE:
        return None
    return fit_gibbs(df, *_gibbs_columns(table, marg), LEAF_MIN, leaf_rule)


def _gibbs_columns(table: str, marg: dict[str, Any]) -> tuple[list, list[str], dict[str, list[str]]]:
    """`fit_gibbs`'s children, numeric and categorical columns (-> the levels of their marginal in ``marg``)."""
    types = column_types(table)
    derived = {f"{b}_{s}" for b in BUILDING_BASES for s in ("MEDI", "MODE")}  # ratios to the average
    cols = [c for c in types if c not in KEY_COLUMNS and c != "TARGET" and c not in derived]
    numeric = [c for c in cols if types[c] != "VARCHAR"]
    categorical = {c: marg[c]["levels"] for c in cols if types[c] == "VARCHAR"}
    return REDRAWN_BY_TABLE[table], numeric, categorical


def gibbs_leaf_sizes(marginals_dir: Path, fitted: dict[str, Any]) -> dict[str, dict[str, list[int]]]:
    """The real rows of every tree leaf of the file ``fitted`` on ``marginals_dir``: table -> tree -> rows per leaf
    (`synthetic.gibbs.leaf_sizes`). Never written (stop 31): for checking a fitted file against the real rows."""
    out: dict[str, dict[str, list[int]]] = {}
    tables = real_tables(marginals_dir)
    for table, gibbs in fitted["gibbs"].items():
        with warnings.catch_warnings():  # (pandas: the derived columns inserted one by one, as the fit does)
            warnings.simplefilter("ignore", pd.errors.PerformanceWarning)
            df, _ = prepare_table(tables[table], table)
        out[table] = leaf_sizes(df, *_gibbs_columns(table, fitted["marginals"][table]), gibbs)
    return out


def fit_extra(sample_dir: Path | None, rules: PrivacyRules = COMMITTED_RULES) -> dict[str, Any]:
    """Per-applicant counts of history rows, from the linked sample when available."""
    extra: dict[str, Any] = {}
    if sample_dir is None or not (sample_dir / "application_train.csv").exists():
        return extra
    app = pd.read_csv(sample_dir / "application_train.csv", usecols=["SK_ID_CURR"])
    bur = pd.read_csv(sample_dir / "bureau.csv", usecols=["SK_ID_CURR", "SK_ID_BUREAU", "DAYS_CREDIT"])
    cnt = bur.groupby("SK_ID_CURR").size().reindex(app.SK_ID_CURR, fill_value=0)
    extra["bureau_per_applicant"] = fit_extra_counts(cnt)
    cc = pd.read_csv(sample_dir / "credit_card_balance.csv", usecols=["SK_ID_PREV", "MONTHS_BALANCE"])
    by_card = cc.groupby("SK_ID_PREV").MONTHS_BALANCE
    extra["card_first_month"] = fit_numeric(by_card.min(), integer=True, rare_values=rules.rare_values,
                                            atom_rule=rules.atom_rule)
    extra["card_last_month"] = fit_numeric(by_card.max(), integer=True, rare_values=rules.rare_values,
                                           atom_rule=rules.atom_rule)
    return extra


def fit_all(marginals_dir: Path, sample_dir: Path | None, leaf_rule: str = DEFAULT_LEAF_RULE,
            rules: PrivacyRules = COMMITTED_RULES) -> dict[str, Any]:
    """Every table's fitted statistics; ``leaf_rule``: see `synthetic.gibbs.fit_tree`; ``rules``:
    `PrivacyRules`."""
    out: dict[str, Any] = {
        "about": "Summary statistics of the real Home Credit tables (levels, frequencies, missing rates, "
        "quantiles, frequent values, frequent patterns of column blocks, a correlation matrix of normal "
        f"scores), each computed on at least {PRIVACY_MIN} rows: no rows. Written by `python -m synthetic.fit`.",
        "privacy_min": PRIVACY_MIN,
        "marginals": {},
        "conditionals": {},
        "patterns": {},
        "copulas": {},
    }
    # each table on its own rows: the test applicants' pooled with the train ones, less the train statistics they
    # told the test rows' counts (`real_tables`)
    for table, df in real_tables(marginals_dir).items():
        fitted = fit_table(df, table, leaf_rule, rules)
        marg, conds = fitted["marginals"], fitted["conditionals"]
        out["marginals"][table] = marg
        if conds:
            out["conditionals"][table] = conds
        if fitted["patterns"]:
            out["patterns"][table] = fitted["patterns"]
        if fitted["copula"]:
            out["copulas"][table] = fitted["copula"]
        if fitted["gibbs"]:
            out.setdefault("gibbs", {})[table] = fitted["gibbs"]
        print(
            f"fitted {table}: {len(df):,} rows, {len(marg)} columns, {len(conds)} conditionals, "
            f"{len(fitted['patterns'])} pattern blocks, copula: {bool(fitted['copula'])}",
            file=sys.stderr,
        )
    out["extra"] = fit_extra(sample_dir, rules)
    return out


def main(argv: list[str] | None = None) -> int:
    here = Path(__file__).resolve()
    shared = here.parents[2] / "shared" / "data"
    ap = argparse.ArgumentParser(prog="python -m synthetic.fit", description=__doc__.split("\n\n")[0])
    ap.add_argument("--marginals", type=Path, default=shared / "home-credit-marginals")
    ap.add_argument("--sample", type=Path, default=shared / "home-credit-sample")
    ap.add_argument("--out", type=Path, default=STATS_PATH)
    ap.add_argument(
        "--leaf-rule",
        choices=LEAF_RULES,
        default=DEFAULT_LEAF_RULE,
        help=f"tree leaves: 'grown' (default, the committed file) / 'pruned' every leaf's cell has 0 or "
        f"{PRIVACY_MIN} rows or is in its one rest pool of {PRIVACY_MIN} rows, trees grown under that rule / "
        "sklearn's trees collapsed until they follow it; 'grown' draws a categorical child's level from a "
        "level model of all the rows; 'exact' (the file before stop 27) every leaf stores its own share of "
        "every cell (level; missing), rare cells included (docs/synthetic.md)",
    )
    ap.add_argument("--pooled-leaves", action="store_const", const="grown", dest="leaf_rule",
                    help="the same as --leaf-rule grown (the default)")
    ap.add_argument("--rare-values", choices=RARE_VALUES, default=COMMITTED_RULES.rare_values,
                    help=f"'atoms' (the committed file) a discrete column's value seen on fewer than {PRIVACY_MIN} "
                    "rows between its extremes keeps its own share; 'bins' only values of "
                    f"{PRIVACY_MIN} rows are atoms, rarer ones are pooled in value order into bins of "
                    f">= {PRIVACY_MIN} rows, drawn uniformly on the column's steps (a conditional group's: "
                    "like its column's marginal inside the bin); 'all-bins' also a column of more than "
                    f"{MAX_ALL_ATOMS} values has atoms of {PRIVACY_MIN} rows only; 'pooled' a discrete column's "
                    f"rare values share the shares of pools of >= {PRIVACY_MIN} rows evenly, like a categorical "
                    "column's rare levels (docs/synthetic.md)")
    ap.add_argument("--group-missing", choices=GROUP_MISSING, default=COMMITTED_RULES.group_missing,
                    help=f"'pooled' (the committed file) a group whose missing or present cell has fewer than {PRIVACY_MIN} "
                    f"rows takes the share of a pool of groups with >= {PRIVACY_MIN} of both; 'exact' every "
                    "conditional group stores its own missing share (before; docs/synthetic.md)")
    ap.add_argument("--atom-rule", choices=ATOM_RULES, default=COMMITTED_RULES.atom_rule,
                    help=f"'loose' (the file before stop 28) the rules above; 'strict' (default, the committed file) "
                    "every numeric atom share (marginals, "
                    f"fallbacks, conditional groups) stands for >= {PRIVACY_MIN} rows, its own or a written pool's: "
                    f"a column with a continuous part keeps atoms of {PRIVACY_MIN} rows only, a discrete column's "
                    "rare values are pooled (overrides --rare-values); 'groups' the strict rule in conditional "
                    "groups and fallbacks only (docs/synthetic.md)")
    args = ap.parse_args(argv)
    if not (args.marginals / "application_train.csv").exists():
        ap.error(f"--marginals {args.marginals}: no application_train.csv there")
    stats = fit_all(args.marginals, args.sample, args.leaf_rule, PrivacyRules(args.rare_values, args.group_missing,
                                                                               args.atom_rule))
    tmp = args.out.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(stats, separators=(",", ":"), allow_nan=False), encoding="utf-8")
    tmp.replace(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
