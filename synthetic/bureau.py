"""Credit-bureau history: ``bureau`` (one row per credit) and ``bureau_balance`` (one row per month).

Dates are days (months) relative to the application, so every record lies at or before day 0.
Closed credits have an actual end date; active ones do not. Overdue amounts and late monthly
statuses depend on the applicant's payment behaviour factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synthetic.frame import Frame, cat, is_level
from synthetic.gibbs import sweep
from synthetic.seq import expand, group_count, group_max, group_sum
from synthetic.stats import Stats, phi

T = "bureau"
DAYS_PER_MONTH = 30.4375
#: Share of bureau credits with monthly bureau_balance records (Kaggle: 817,395 of 1,716,428 credits,
#: 27.3M rows; ours run to month 0, so a slightly lower share gives Kaggle's row count).
BB_COVERAGE = 0.41
STATUS_LEVELS = ["0", "1", "2", "3", "4", "5", "C", "X"]


def _all(f: Frame) -> np.ndarray:
    return np.ones(np.asarray(f["DAYS_CREDIT"]).size, dtype=bool)


def _closed(f: Frame) -> np.ndarray:
    return ~is_level(f["CREDIT_ACTIVE"], "Active")


def _closed_with_end(f: Frame) -> np.ndarray:
    return ~np.isnan(np.asarray(f["DAYS_ENDDATE_FACT"], dtype=float))


def _without_end(f: Frame) -> np.ndarray:
    return np.isnan(np.asarray(f["DAYS_ENDDATE_FACT"], dtype=float))


#: Columns drawn again from a tree conditional given all the others (synthetic.gibbs), on the rows where
#: they are present (or on all rows, their missing values redrawn too: True): durations as days after
#: the opening.
REDRAWN: list[tuple] = [
    ("CREDIT_TYPE", _all),
    ("DAYS_CREDIT", _all),
    ("DAYS_CREDIT_ENDDATE", _all, "DURATION", True),
    ("DAYS_ENDDATE_FACT", _closed, "FACT_DURATION"),
    # the last update: after the actual end (often on the day) for closed credits
    ("DAYS_CREDIT_UPDATE", _without_end),
    ("DAYS_CREDIT_UPDATE", _closed_with_end, "UPDATE_AFTER_FACT"),
    ("AMT_CREDIT_SUM", _all),
    ("AMT_CREDIT_SUM_DEBT", _all, None, True),
    ("AMT_CREDIT_SUM_LIMIT", _all, None, True),
    ("AMT_ANNUITY", _all, None, True),
    ("AMT_CREDIT_MAX_OVERDUE", _all, None, True),
    ("CNT_CREDIT_PROLONG", _all),
    ("CREDIT_CURRENCY", _all),
]
SWEEPS = 2


def _redraw(rng: np.random.Generator, stats: Stats, f: Frame, m: int) -> None:
    fitted = stats.gibbs.get(T)
    if not fitted:
        return

    def back(target: str, v: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if target == "UPDATE_AFTER_FACT":
            return np.asarray(f["DAYS_ENDDATE_FACT"], dtype=float)[rows] + v
        return np.asarray(f["DAYS_CREDIT"], dtype=float)[rows] + v  # DURATION, FACT_DURATION

    def bound(child: str, v: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """A redrawn date outside its limits keeps its previous value (no pile-up on the limit)."""
        old = np.asarray(f[child], dtype=float)[rows]
        opened = np.asarray(f["DAYS_CREDIT"], dtype=float)[rows]
        if child in ("DAYS_ENDDATE_FACT", "DAYS_CREDIT_UPDATE"):
            return np.where((v >= opened) & (v <= 0.0), v, old)
        if child == "DAYS_CREDIT":  # opened before the update and the actual end
            first = np.fmin(
                np.asarray(f["DAYS_CREDIT_UPDATE"], dtype=float),
                np.asarray(f["DAYS_ENDDATE_FACT"], dtype=float),
            )[rows]
            return np.where((v <= 0.0) & ~(v > first), v, old)
        return v

    sweep(rng, fitted, f, m, REDRAWN * SWEEPS, lambda c: stats.m(T, c), back, bound)
    # an earlier opening keeps the end dates after it
    opened = np.asarray(f["DAYS_CREDIT"], dtype=float)
    f["DAYS_ENDDATE_FACT"] = np.where(np.isnan(f["DAYS_ENDDATE_FACT"]), np.nan,
                                      np.clip(f["DAYS_ENDDATE_FACT"], opened, 0.0))  # fmt: skip
    f["DAYS_CREDIT_UPDATE"] = np.clip(f["DAYS_CREDIT_UPDATE"], opened, 0.0)


@dataclass
class BureauResult:
    bureau: Frame
    balance: Frame
    features: dict[str, np.ndarray]  # per applicant, for the ground truth
    n_ids: int


def _copula(rng: np.random.Generator, factor: np.ndarray, rho: float) -> np.ndarray:
    return phi(rho * factor + np.sqrt(1.0 - rho * rho) * rng.standard_normal(factor.size))


def generate_bureau(
    rng: np.random.Generator,
    stats: Stats,
    behaviour: np.ndarray,
    wealth: np.ndarray,
    count_scale: float,
    first_id: int,
) -> BureauResult:
    n = behaviour.size
    dist = stats.extra["bureau_per_applicant"]
    values, probs = np.asarray(dist["values"]), np.asarray(dist["probs"], dtype=float)
    counts = values[
        np.minimum(np.searchsorted(np.cumsum(probs) / probs.sum(), rng.random(n)), values.size - 1)
    ]
    counts = rng.binomial(counts, min(1.0, count_scale)) if count_scale < 1 else counts
    owner, _ = expand(counts)
    m = owner.size
    beh = behaviour[owner]
    f: Frame = {}
    f["SK_ID_BUREAU"] = first_id + np.arange(m, dtype=np.int64)
    days_credit = stats.num(T, "DAYS_CREDIT").ppf(rng.random(m))
    f["DAYS_CREDIT"] = days_credit
    active = stats.cond(T, "CREDIT_ACTIVE")
    lv_active = stats.cat(T, "CREDIT_ACTIVE").levels
    f["CREDIT_ACTIVE"] = cat(active.sample_codes(rng, {"DAYS_CREDIT": days_credit}, lv_active), lv_active)
    lv_type = stats.cat(T, "CREDIT_TYPE").levels
    f["CREDIT_TYPE"] = cat(
        stats.cond(T, "CREDIT_TYPE").sample_codes(rng, {"CREDIT_ACTIVE": f["CREDIT_ACTIVE"]}, lv_type),
        lv_type,
    )
    f["CREDIT_CURRENCY"] = cat(
        stats.cat(T, "CREDIT_CURRENCY").codes(rng.random(m)), stats.cat(T, "CREDIT_CURRENCY").levels
    )
    pa = {"CREDIT_ACTIVE": f["CREDIT_ACTIVE"], "CREDIT_TYPE": f["CREDIT_TYPE"]}
    closed = is_level(f["CREDIT_ACTIVE"], "Closed")
    is_active = is_level(f["CREDIT_ACTIVE"], "Active")

    duration = stats.cond(T, "DURATION").sample(rng, pa)
    f["DAYS_CREDIT_ENDDATE"] = days_credit + duration
    fact = stats.cond(T, "DAYS_ENDDATE_FACT").sample(
        rng, {"CREDIT_ACTIVE": f["CREDIT_ACTIVE"], "DAYS_CREDIT": days_credit}
    )
    fact_end = np.clip(fact, days_credit, 0.0)
    fact_end[is_active] = np.nan
    f["DAYS_ENDDATE_FACT"] = fact_end

    u_over = _copula(rng, beh, 0.6)
    f["CREDIT_DAY_OVERDUE"] = np.where(
        is_active, stats.cond(T, "CREDIT_DAY_OVERDUE").sample(rng, pa, u_over), 0.0
    )
    f["CREDIT_DAY_OVERDUE"] = np.nan_to_num(f["CREDIT_DAY_OVERDUE"])
    amt_sum = stats.cond(T, "AMT_CREDIT_SUM").sample(rng, pa, _copula(rng, wealth[owner], 0.3))
    f["AMT_CREDIT_SUM"] = amt_sum
    share = stats.cond(T, "DEBT_SHARE").sample(rng, pa, _copula(rng, beh, 0.3))
    debt = np.round(np.nan_to_num(amt_sum) * share, 3)
    f["AMT_CREDIT_SUM_DEBT"] = np.where(np.isnan(share), np.nan, debt)
    f["AMT_CREDIT_SUM_LIMIT"] = stats.cond(T, "AMT_CREDIT_SUM_LIMIT").sample(rng, pa)
    overdue = stats.cond(T, "AMT_CREDIT_SUM_OVERDUE").sample(rng, pa, u_over)
    f["AMT_CREDIT_SUM_OVERDUE"] = np.where(f["CREDIT_DAY_OVERDUE"] > 0, np.nan_to_num(overdue), 0.0)
    f["AMT_CREDIT_MAX_OVERDUE"] = stats.cond(T, "AMT_CREDIT_MAX_OVERDUE").sample(
        rng, pa, _copula(rng, beh, 0.5)
    )
    f["CNT_CREDIT_PROLONG"] = stats.num(T, "CNT_CREDIT_PROLONG").ppf(rng.random(m))
    upd = stats.cond(T, "DAYS_CREDIT_UPDATE_BY_AGE").sample(
        rng, {"CREDIT_ACTIVE": f["CREDIT_ACTIVE"], "DAYS_CREDIT": days_credit}
    )
    upd = np.where(np.isnan(fact_end), upd, np.maximum(upd, fact_end))
    f["DAYS_CREDIT_UPDATE"] = np.clip(np.nan_to_num(upd, nan=-30.0), days_credit, 0.0)
    f["AMT_ANNUITY"] = stats.cond(T, "AMT_ANNUITY").sample(rng, pa)
    _redraw(rng, stats, f, m)
    f["_owner"] = owner

    closed = is_level(f["CREDIT_ACTIVE"], "Closed")
    balance, worst_status = _balance(rng, stats, f, beh, closed)
    feats = {
        "bureau_count": group_count(owner, n),
        "bureau_active": group_sum(owner, is_active.astype(float), n),
        "bureau_overdue": group_max(owner, (f["AMT_CREDIT_SUM_OVERDUE"] > 0).astype(float), n),
        "bureau_debt": group_sum(owner, np.nan_to_num(f["AMT_CREDIT_SUM_DEBT"]) * is_active, n),
        "bureau_credit": group_sum(owner, np.nan_to_num(amt_sum) * is_active, n),
        "bureau_max_overdue": group_max(owner, np.nan_to_num(f["AMT_CREDIT_MAX_OVERDUE"]), n),
        "bb_worst_status": group_max(owner, worst_status, n),
    }
    return BureauResult(f, balance, feats, m)


def _balance(
    rng: np.random.Generator, stats: Stats, f: Frame, beh: np.ndarray, closed: np.ndarray
) -> tuple[Frame, np.ndarray]:
    """Monthly statuses from the credit's opening month up to month 0, for a share of credits."""
    m = beh.size
    has_bb = rng.random(m) < BB_COVERAGE
    start = np.floor(np.asarray(f["DAYS_CREDIT"]) / DAYS_PER_MONTH).astype(np.int64)
    start = np.maximum(start, -96)
    lengths = np.where(has_bb, -start + 1, 0)
    credit, pos = expand(lengths)
    month = start[credit] + pos
    fact = np.asarray(f["DAYS_ENDDATE_FACT"])
    end_month = np.where(np.isnan(fact), 1, np.floor(np.nan_to_num(fact) / DAYS_PER_MONTH)).astype(np.int64)
    after_close = closed[credit] & (month > end_month[credit])
    # unknown status ("X"): a share of credits entirely, others for their oldest months
    all_x = rng.random(m) < 0.14
    x_before = start + rng.geometric(0.12, m) - 1
    x_rows = all_x[credit] | ((month < x_before[credit]) & (rng.random(m) < 0.55)[credit])
    # late months: probability rises with the behaviour factor
    p_late = 0.012 * np.exp(1.1 * beh)
    late = np.flatnonzero(rng.random(month.size) < p_late[credit])
    status = np.zeros(month.size, dtype=np.int8)
    status[late] = np.minimum(rng.geometric(0.75, late.size), 5)
    now = np.flatnonzero(month == 0)
    overdue_days = np.asarray(f["CREDIT_DAY_OVERDUE"])[credit[now]]
    now_late = now[overdue_days > 0]
    status[now_late] = np.minimum(np.ceil(overdue_days[overdue_days > 0] / 30.0), 5)
    status[after_close] = 6  # C
    x_rows[now_late] = False
    status[x_rows & ~after_close] = 7  # X
    recent_late = np.flatnonzero((status >= 1) & (status <= 5) & (month >= -12))
    worst = np.zeros(m)
    np.maximum.at(worst, credit[recent_late], status[recent_late].astype(float))
    bb: Frame = {
        "SK_ID_BUREAU": np.asarray(f["SK_ID_BUREAU"])[credit],
        "MONTHS_BALANCE": month,
        "STATUS": cat(status, STATUS_LEVELS),
    }
    return bb, worst
