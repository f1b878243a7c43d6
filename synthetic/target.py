"""The ground truth: each applicant's probability of default, from application fields and from
behaviour that a warehouse can compute out of the history tables (shares of late instalments,
overdue bureau debt, refused applications, card utilisation, ...), with non-linear effects and
interactions. ``TARGET`` is a Bernoulli draw from it, the intercept set so that the train default
rate is 8.07%.
"""

from __future__ import annotations

import numpy as np

from synthetic.frame import Frame, is_level

DEFAULT_RATE = 0.0807
SENTINEL = 365243.0
#: Weights of the two parts of the logit, tuned so that the ground truth's AUC is ~0.84 and ranking by
#: the application part alone reaches ~0.75 (bench/bench_synthetic_signal.py measures both).
APPLICATION_WEIGHT = 1.4
HISTORY_WEIGHT = 0.45


def _safe_div(a: np.ndarray, b: np.ndarray, fill: float = 0.0) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        out = np.asarray(a, dtype=float) / np.asarray(b, dtype=float)
    return np.where(np.isfinite(out), out, fill)


def application_logit(app: Frame) -> np.ndarray:
    """Risk from the application row alone (before the intercept)."""
    ext = np.vstack([app["EXT_SOURCE_1"], app["EXT_SOURCE_2"], app["EXT_SOURCE_3"]])
    n_ext = np.sum(~np.isnan(ext), axis=0)
    ext_mean = np.where(n_ext > 0, np.nansum(ext, axis=0) / np.maximum(n_ext, 1), 0.45)
    age = -np.asarray(app["DAYS_BIRTH"]) / 365.25
    employed = np.asarray(app["DAYS_EMPLOYED"])
    years_employed = np.where(employed == SENTINEL, np.nan, -employed / 365.25)
    credit = np.asarray(app["AMT_CREDIT"])
    term = _safe_div(credit, app["AMT_ANNUITY"], 20.0)
    credit_goods = _safe_div(credit, app["AMT_GOODS_PRICE"], 1.1)
    annuity_income = _safe_div(app["AMT_ANNUITY"], app["AMT_INCOME_TOTAL"], 0.15)
    z = -3.2 * (ext_mean - 0.5) - 1.4 * np.maximum(0.35 - ext_mean, 0) * 3
    z += 0.45 * (n_ext == 0)
    z += 0.025 * np.maximum(40 - age, 0) - 0.01 * np.maximum(age - 55, 0)
    z += np.where(np.isnan(years_employed), -0.1, 0.35 * np.exp(-np.nan_to_num(years_employed) / 2.0))
    z += 0.6 * np.exp(-((term - 20) ** 2) / 20.0) - 0.25 * (term > 30)  # mid-length terms are riskier
    z += 1.4 * np.clip(credit_goods - 1.0, 0, 0.4)
    z += 1.2 * np.clip(annuity_income - 0.2, 0, 0.4)
    z += 0.25 * is_level(app["CODE_GENDER"], "M")
    z -= 0.3 * is_level(app["NAME_EDUCATION_TYPE"], "Higher education", "Academic degree")
    z += 0.2 * (np.asarray(app["REGION_RATING_CLIENT_W_CITY"]) - 2)
    z += 0.25 * (np.nan_to_num(app["DEF_30_CNT_SOCIAL_CIRCLE"]) > 0)
    z -= 0.15 * is_level(app["FLAG_OWN_CAR"], "Y")
    z -= 0.3 * is_level(app["NAME_CONTRACT_TYPE"], "Revolving loans")
    return z


def history_logit(app: Frame, bureau: dict[str, np.ndarray], prev: dict[str, np.ndarray]) -> np.ndarray:
    """Risk from aggregates of the history tables (before the intercept)."""
    ext2 = np.nan_to_num(np.asarray(app["EXT_SOURCE_2"]), nan=0.5)
    late_share = _safe_div(prev["inst_late"], prev["inst_count"])
    short_share = _safe_div(prev["inst_short"], prev["inst_count"])
    refused_share = _safe_div(prev["prev_refused"], prev["prev_count"])
    debt_ratio = _safe_div(bureau["bureau_debt"], bureau["bureau_credit"])
    util = np.nan_to_num(prev["card_util"], nan=-1.0)
    z = 2.6 * np.sqrt(late_share) * (1.0 + 1.5 * (ext2 < 0.4))  # interaction with a weak external score
    z += 1.5 * short_share
    z += 0.9 * (prev["inst_max_delay"] > 30)
    z += 1.2 * refused_share + 0.35 * (prev["prev_refused"] >= 3)
    z += 0.9 * bureau["bureau_overdue"]
    z += 0.35 * np.minimum(bureau["bb_worst_status"], 3)
    z += 0.7 * np.clip(debt_ratio - 0.5, 0, 1.0)
    z += 0.12 * np.minimum(bureau["bureau_active"], 8) - 0.15 * (bureau["bureau_count"] == 0)
    z += np.where(util >= 0, 1.3 * np.clip(util - 0.6, 0, 0.7) ** 1.0 + 0.3 * (util > 0.95), 0.0)
    z += 0.6 * (np.maximum(prev["pos_max_dpd"], prev["card_max_dpd"]) > 0)
    return z


def ground_truth_logit(app: Frame, bureau: dict[str, np.ndarray], prev: dict[str, np.ndarray]) -> np.ndarray:
    """The full logit (before the intercept fixed by :func:`calibrate_intercept`)."""
    return APPLICATION_WEIGHT * application_logit(app) + HISTORY_WEIGHT * history_logit(app, bureau, prev)


def calibrate_intercept(logits: np.ndarray, rate: float = DEFAULT_RATE) -> float:
    """The intercept ``c`` with ``mean(sigmoid(logits + c)) == rate`` (bisection)."""
    lo, hi = -20.0, 20.0
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        if np.mean(sigmoid(logits + mid)) > rate:
            hi = mid
        else:
            lo = mid
    return 0.5 * (lo + hi)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))
