"""Home Credit's own history: ``previous_application`` and, for approved loans, the monthly
``POS_CASH_balance`` (cash and consumer loans), ``credit_card_balance`` (revolving loans) and the
``installments_payments`` of both. Every monthly record shares its loan's SK_ID_PREV and SK_ID_CURR,
lies before the application (MONTHS_BALANCE <= -1) and follows the loan's schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from warehouse.synthetic.frame import Frame, cat, is_level
from warehouse.synthetic.seq import expand, group_count, group_max, group_mean, group_sum, negbin_counts
from warehouse.synthetic.stats import Stats, phi

T = "previous_application"
SENTINEL = 365243.0
DPM = 30.4375
#: Kaggle: 1,670,214 previous applications for 356,255 applicants, 338,857 of whom have any.
P_NONE = 1.0 - 338_857 / 356_255
MEAN_IF_ANY = 1_670_214 / 338_857


@dataclass
class PreviousResult:
    previous: Frame
    pos: Frame
    installments: Frame
    cards: Frame
    features: dict[str, np.ndarray]
    n_ids: int


def _copula(rng: np.random.Generator, factor: np.ndarray, rho: float) -> np.ndarray:
    return phi(rho * factor + np.sqrt(1.0 - rho * rho) * rng.standard_normal(factor.size))


def _cond_cat(stats: Stats, rng: np.random.Generator, name: str, parents: dict, u=None):
    levels = stats.cat(T, stats.cond(T, name).child).levels
    return cat(stats.cond(T, name).sample_codes(rng, parents, levels, u), levels)


def generate_previous(
    rng: np.random.Generator,
    stats: Stats,
    behaviour: np.ndarray,
    birth: np.ndarray,
    first_id: int,
) -> PreviousResult:
    n = behaviour.size
    any_prev = rng.random(n) >= P_NONE
    counts = np.where(any_prev, 1 + negbin_counts(rng, np.full(n, MEAN_IF_ANY - 1.0), 0.9), 0)
    owner, _ = expand(counts)
    m = owner.size
    beh = behaviour[owner]
    f: Frame = {}
    f["SK_ID_PREV"] = first_id + np.arange(m, dtype=np.int64)
    f["_owner"] = owner
    ctm = stats.cat(T, "NAME_CONTRACT_TYPE")
    f["NAME_CONTRACT_TYPE"] = cat(ctm.codes(rng.random(m)), ctm.levels)
    ct = {"NAME_CONTRACT_TYPE": f["NAME_CONTRACT_TYPE"]}
    # riskier applicants are refused more often (levels: Approved, Canceled, Refused, Unused offer)
    f["NAME_CONTRACT_STATUS"] = _cond_cat(stats, rng, "NAME_CONTRACT_STATUS", ct, _copula(rng, beh, 0.45))
    cs = {**ct, "NAME_CONTRACT_STATUS": f["NAME_CONTRACT_STATUS"]}
    approved = is_level(f["NAME_CONTRACT_STATUS"], "Approved")
    f["CODE_REJECT_REASON"] = _cond_cat(stats, rng, "CODE_REJECT_REASON", cs)
    f["NAME_PORTFOLIO"] = _cond_cat(stats, rng, "NAME_PORTFOLIO", cs)
    f["PRODUCT_COMBINATION"] = _cond_cat(
        stats, rng, "PRODUCT_COMBINATION", {**ct, "NAME_PORTFOLIO": f["NAME_PORTFOLIO"]}
    )
    pc = {"PRODUCT_COMBINATION": f["PRODUCT_COMBINATION"]}
    f["NAME_PRODUCT_TYPE"] = _cond_cat(stats, rng, "NAME_PRODUCT_TYPE", pc)
    f["CHANNEL_TYPE"] = _cond_cat(stats, rng, "CHANNEL_TYPE", pc)
    f["NAME_GOODS_CATEGORY"] = _cond_cat(stats, rng, "NAME_GOODS_CATEGORY", pc)
    f["NAME_SELLER_INDUSTRY"] = _cond_cat(
        stats, rng, "NAME_SELLER_INDUSTRY", {"NAME_GOODS_CATEGORY": f["NAME_GOODS_CATEGORY"]}
    )
    f["NAME_YIELD_GROUP"] = _cond_cat(stats, rng, "NAME_YIELD_GROUP", pc)
    f["NAME_CASH_LOAN_PURPOSE"] = _cond_cat(stats, rng, "NAME_CASH_LOAN_PURPOSE", ct)
    f["NAME_PAYMENT_TYPE"] = _cond_cat(stats, rng, "NAME_PAYMENT_TYPE", cs)
    f["NAME_TYPE_SUITE"] = _cond_cat(stats, rng, "NAME_TYPE_SUITE", cs)
    f["NAME_CLIENT_TYPE"] = _cond_cat(stats, rng, "NAME_CLIENT_TYPE", ct)
    f["SELLERPLACE_AREA"] = np.nan_to_num(stats.cond(T, "SELLERPLACE_AREA").sample(rng, ct), nan=-1.0)
    for c in ("WEEKDAY_APPR_PROCESS_START", "FLAG_LAST_APPL_PER_CONTRACT"):
        mm = stats.cat(T, c)
        f[c] = cat(mm.codes(rng.random(m)), mm.levels)
    for c in (
        "HOUR_APPR_PROCESS_START",
        "NFLAG_LAST_APPL_IN_DAY",
        "RATE_INTEREST_PRIMARY",
        "RATE_INTEREST_PRIVILEGED",
    ):
        f[c] = stats.num(T, c).sample(rng, m)

    # amounts: application -> credit -> goods; term -> annuity
    application = np.nan_to_num(stats.cond(T, "AMT_APPLICATION").sample(rng, pc))
    f["AMT_APPLICATION"] = application
    c_ratio = stats.cond(T, "CREDIT_OVER_APPLICATION").sample(rng, cs)
    credit = np.where(application > 0, np.round(application * np.nan_to_num(c_ratio, nan=1.0), 1), 0.0)
    revolving = is_level(f["NAME_CONTRACT_TYPE"], "Revolving loans")
    credit = np.where(
        (application == 0) & approved & revolving, stats.num(T, "AMT_CREDIT").ppf(rng.random(m)), credit
    )
    f["AMT_CREDIT"] = credit
    g_ratio = stats.cond(T, "GOODS_OVER_APPLICATION").sample(rng, cs)
    f["AMT_GOODS_PRICE"] = np.where(
        np.isnan(g_ratio) | (application <= 0), np.nan, np.round(application * g_ratio, 3)
    )
    term = stats.cond(T, "CNT_PAYMENT").sample(rng, {**pc, "NAME_CONTRACT_STATUS": f["NAME_CONTRACT_STATUS"]})
    f["CNT_PAYMENT"] = term
    total = stats.cond(T, "TOTAL_OVER_CREDIT").sample(rng, {"NAME_YIELD_GROUP": f["NAME_YIELD_GROUP"]})
    total = np.where(np.isnan(total), 1.2, np.maximum(total, 1.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        annuity = np.round(credit * total / term, 3)
    no_term = (term == 0) | (credit == 0)
    annuity = np.where(no_term, stats.cond(T, "ANNUITY_NO_TERM").sample(rng, ct), annuity)
    annuity[np.isnan(term)] = np.nan
    f["AMT_ANNUITY"] = annuity
    rate = stats.cond(T, "RATE_DOWN_PAYMENT").sample(rng, cs)
    f["RATE_DOWN_PAYMENT"] = rate
    base = np.where(np.isnan(f["AMT_GOODS_PRICE"]), application, f["AMT_GOODS_PRICE"])
    f["AMT_DOWN_PAYMENT"] = np.where(np.isnan(rate), np.nan, np.round(np.nan_to_num(base) * rate, 1))

    # dates: decision within the applicant's adult life and within the 8-year window
    decision = stats.cond(T, "DAYS_DECISION").sample(rng, {"NAME_CONTRACT_STATUS": f["NAME_CONTRACT_STATUS"]})
    decision = np.maximum(np.nan_to_num(decision, nan=-300.0), birth[owner] + 18 * 365)
    f["DAYS_DECISION"] = np.minimum(decision, -1.0)
    _schedule(rng, stats, f, cs, approved)
    f["NFLAG_INSURED_ON_APPROVAL"] = stats.cond(T, "NFLAG_INSURED_ON_APPROVAL").sample(rng, cs)

    # loans that ran: monthly records and instalments
    runs = approved & ~np.isnan(f["DAYS_FIRST_DUE"]) & (f["DAYS_FIRST_DUE"] < 0) & (
        np.nan_to_num(term) > 0
    ) | (approved & revolving & (credit > 0))
    late_propensity = _copula(rng, beh, 0.75)  # per loan
    pos, inst_pos = _pos_and_instalments(rng, stats, f, runs & ~revolving, late_propensity)
    cards, inst_cards, util = _cards(rng, stats, f, runs & revolving, late_propensity)
    installments = {k: np.concatenate([inst_pos[k], inst_cards[k]]) for k in inst_pos}

    inst_owner = owner[installments["_loan"]]
    late = (installments["DAYS_ENTRY_PAYMENT"] > installments["DAYS_INSTALMENT"]).astype(float)
    short = (installments["AMT_PAYMENT"] < 0.95 * installments["AMT_INSTALMENT"]).astype(float)
    refused = is_level(f["NAME_CONTRACT_STATUS"], "Refused").astype(float)
    card_owner = owner[cards["_loan"]]
    feats = {
        "prev_count": group_count(owner, n),
        "prev_refused": group_sum(owner, refused, n),
        "inst_count": group_count(inst_owner, n),
        "inst_late": group_sum(inst_owner, late, n),
        "inst_short": group_sum(inst_owner, short, n),
        "inst_max_delay": group_max(
            inst_owner, installments["DAYS_ENTRY_PAYMENT"] - installments["DAYS_INSTALMENT"], n
        ),
        "pos_max_dpd": group_max(owner[pos["_loan"]], pos["SK_DPD"], n),
        "card_util": group_mean(card_owner, util, n),
        "card_max_dpd": group_max(card_owner, cards["SK_DPD"], n),
    }
    return PreviousResult(f, pos, installments, cards, feats, m)


def _schedule(rng: np.random.Generator, stats: Stats, f: Frame, cs: dict, approved: np.ndarray) -> None:
    """DAYS_FIRST_DRAWING ... DAYS_TERMINATION: 365243 where the event has not happened (yet)."""
    m = approved.size
    pat_levels = stats.cat(T, "SENTINEL_PATTERN").levels
    codes = stats.cond(T, "SENTINEL_PATTERN").sample_codes(rng, cs, pat_levels)
    codes[~approved] = -1
    pat = np.asarray([*pat_levels, "NNNNN"])[np.where(codes < 0, len(pat_levels), codes)]
    bit = [np.asarray([p[i] for p in pat]) for i in range(5)] if m else [np.asarray([], dtype=str)] * 5
    missing = codes < 0
    ct = {"NAME_CONTRACT_TYPE": f["NAME_CONTRACT_TYPE"]}
    dec = f["DAYS_DECISION"]
    term = np.nan_to_num(f["CNT_PAYMENT"])

    def off(name: str) -> np.ndarray:
        v = stats.cond(T, name).sample(rng, ct)
        return np.where(np.isnan(v), stats.num(T, name).ppf(rng.random(m)), v)

    drawing = dec + np.abs(off("DRAWING_OFFSET"))
    first_due = dec + np.abs(off("FIRST_DUE_OFFSET"))
    last1 = first_due + np.where(term > 0, np.round(DPM * (term - 1)), off("LAST_DUE_1ST_OFFSET") if m else 0)
    last = last1 + np.minimum(off("LAST_DUE_OFFSET"), 0)
    term_day = last + np.abs(off("TERMINATION_OFFSET"))
    cols = {
        "DAYS_FIRST_DRAWING": drawing,
        "DAYS_FIRST_DUE": first_due,
        "DAYS_LAST_DUE_1ST_VERSION": last1,
        "DAYS_LAST_DUE": last,
        "DAYS_TERMINATION": term_day,
    }
    for i, (name, v) in enumerate(cols.items()):
        v = np.round(v)
        future = (v > -1) & (name != "DAYS_LAST_DUE_1ST_VERSION")
        v = np.where((bit[i] == "S") | future, SENTINEL, v)
        v[missing] = np.nan
        f[name] = v
    # a loan whose last due date is still to come has not terminated either
    open_loan = f["DAYS_LAST_DUE"] == SENTINEL
    f["DAYS_TERMINATION"] = np.where(open_loan, SENTINEL, f["DAYS_TERMINATION"])


def _pos_and_instalments(
    rng: np.random.Generator, stats: Stats, f: Frame, runs: np.ndarray, late_u: np.ndarray
) -> tuple[Frame, Frame]:
    loans = np.flatnonzero(runs)
    first_due = f["DAYS_FIRST_DUE"][loans]
    term = f["CNT_PAYMENT"][loans].astype(np.int64)
    annuity = np.nan_to_num(f["AMT_ANNUITY"][loans])
    # instalments due before the application
    n_due = np.clip(np.floor((-1 - first_due) / DPM).astype(np.int64) + 1, 0, term)
    li, k = expand(n_due)
    loan = loans[li]
    days_inst = first_due[li] + np.round(DPM * k)
    ver = stats.num("installments_payments", "NUM_INSTALMENT_VERSION")
    version = np.where(rng.random(li.size) < 0.08, 2.0, 1.0)
    version = np.where(k == 0, 1.0, version)
    u = np.clip(late_u[loan] + 0.25 * (rng.random(li.size) - 0.5), 1e-6, 1 - 1e-6)
    delay = stats.cond("installments_payments", "PAYMENT_DELAY").sample(
        rng, {"NUM_INSTALMENT_VERSION": version}, u
    )
    entry = np.minimum(days_inst + np.nan_to_num(delay), -1.0)
    share_m = stats.num("installments_payments", "PAYMENT_SHARE")
    share = share_m.ppf(np.clip(1 - late_u[loan] + 0.3 * (rng.random(li.size) - 0.5), 1e-6, 1 - 1e-6))
    inst_amt = annuity[li]
    pay = np.round(inst_amt * np.minimum(share, 1.5), 3)
    del ver
    inst: Frame = {
        "_loan": loan,
        "NUM_INSTALMENT_VERSION": version,
        "NUM_INSTALMENT_NUMBER": (k + 1).astype(float),
        "DAYS_INSTALMENT": days_inst,
        "DAYS_ENTRY_PAYMENT": entry,
        "AMT_INSTALMENT": inst_amt,
        "AMT_PAYMENT": pay,
    }
    # POS: one row per month from the first month to the month before the application (or completion)
    first_m = np.floor(f["DAYS_DECISION"][loans] / DPM).astype(np.int64) + 1
    start_m = np.maximum(first_m, -96)
    end_m = np.minimum(first_m + term, -1)
    lengths = np.maximum(end_m - start_m + 1, 0)
    pi, pk = expand(lengths)
    months = start_m[pi] + pk
    future = np.maximum(term[pi] - (months - first_m[pi]), 0)
    status_levels = ["Active", "Completed", "Signed"]
    status = np.where(future == 0, 1, 0)
    late_loan = late_u[loans[pi]]
    dpd = np.where(
        rng.random(pi.size) < 0.25 * np.maximum(late_loan - 0.8, 0) * 5, rng.geometric(0.08, pi.size), 0
    )
    pos: Frame = {
        "_loan": loans[pi],
        "MONTHS_BALANCE": months.astype(float),
        "CNT_INSTALMENT": term[pi].astype(float),
        "CNT_INSTALMENT_FUTURE": future.astype(float),
        "NAME_CONTRACT_STATUS": cat(status, status_levels),
        "SK_DPD": dpd.astype(float),
        "SK_DPD_DEF": np.where(dpd > 30, dpd, 0).astype(float),
    }
    return pos, inst


def _cards(
    rng: np.random.Generator, stats: Stats, f: Frame, runs: np.ndarray, late_u: np.ndarray
) -> tuple[Frame, Frame, np.ndarray]:
    C = "credit_card_balance"
    loans = np.flatnonzero(runs)
    start_m = np.maximum(np.floor(f["DAYS_DECISION"][loans] / DPM).astype(np.int64) + 1, -96)
    lengths = np.maximum(-1 - start_m + 1, 0)
    ci, ck = expand(lengths)
    r = ci.size
    loan = loans[ci]
    months = start_m[ci] + ck
    limit_card = np.asarray(f["AMT_CREDIT"])[loans]
    limit_card = np.where(
        limit_card > 0, limit_card, stats.num(C, "AMT_CREDIT_LIMIT_ACTUAL").ppf(rng.random(loans.size))
    )
    limit = np.round(limit_card[ci])
    # utilisation: per-card level driven by payment behaviour, monthly noise, many idle months
    card_z = 1.2 * (late_u[loans] - 0.5)
    z = card_z[ci] + 0.6 * rng.standard_normal(r)
    util_m = stats.num(C, "UTILISATION")
    util = util_m.ppf(phi(z))
    balance = np.round(limit * np.clip(util, -0.3, 1.3), 3)
    zu = phi(z + 0.3 * rng.standard_normal(r))
    block_missing = rng.random(r) < stats.num(C, "AMT_DRAWINGS_ATM_CURRENT").missing

    def marg(col: str, u: np.ndarray) -> np.ndarray:
        return stats.num(C, col).ppf(u)

    draw_u = phi(0.5 * z + 0.85 * rng.standard_normal(r))
    cur = marg("AMT_DRAWINGS_CURRENT", draw_u)
    atm = marg("AMT_DRAWINGS_ATM_CURRENT", draw_u)
    other = marg("AMT_DRAWINGS_OTHER_CURRENT", draw_u)
    pos_d = marg("AMT_DRAWINGS_POS_CURRENT", draw_u)
    cnt = marg("CNT_DRAWINGS_CURRENT", draw_u)
    cnt_atm = marg("CNT_DRAWINGS_ATM_CURRENT", draw_u)
    cnt_other = marg("CNT_DRAWINGS_OTHER_CURRENT", draw_u)
    cnt_pos = marg("CNT_DRAWINGS_POS_CURRENT", draw_u)
    for a in (atm, other, pos_d, cnt_atm, cnt_other, cnt_pos):
        a[block_missing] = np.nan
    min_reg = np.round(np.maximum(balance, 0) * 0.05, 3)
    pay_u = phi(0.5 * z + 0.85 * rng.standard_normal(r))
    pay_cur = marg("AMT_PAYMENT_CURRENT", pay_u)
    pay_cur[rng.random(r) < stats.num(C, "AMT_PAYMENT_CURRENT").missing] = np.nan
    pay_tot = marg("AMT_PAYMENT_TOTAL_CURRENT", pay_u)
    mature = np.minimum(ck, marg("CNT_INSTALMENT_MATURE_CUM", zu)).astype(float)
    reg_missing = rng.random(r) < stats.num(C, "AMT_INST_MIN_REGULARITY").missing
    min_reg[reg_missing] = np.nan
    mature[reg_missing] = np.nan
    late_card = late_u[loan]
    dpd = np.where(rng.random(r) < 0.2 * np.maximum(late_card - 0.85, 0) * 6.7, rng.geometric(0.05, r), 0)
    lv = stats.cat(C, "NAME_CONTRACT_STATUS")
    status = lv.codes(rng.random(r))
    card: Frame = {
        "_loan": loan,
        "MONTHS_BALANCE": months.astype(float),
        "AMT_BALANCE": balance,
        "AMT_CREDIT_LIMIT_ACTUAL": limit,
        "AMT_DRAWINGS_ATM_CURRENT": atm,
        "AMT_DRAWINGS_CURRENT": cur,
        "AMT_DRAWINGS_OTHER_CURRENT": other,
        "AMT_DRAWINGS_POS_CURRENT": pos_d,
        "AMT_INST_MIN_REGULARITY": min_reg,
        "AMT_PAYMENT_CURRENT": pay_cur,
        "AMT_PAYMENT_TOTAL_CURRENT": pay_tot,
        "AMT_RECEIVABLE_PRINCIPAL": np.round(balance * 0.96, 3),
        "AMT_RECIVABLE": balance,
        "AMT_TOTAL_RECEIVABLE": balance,
        "CNT_DRAWINGS_ATM_CURRENT": cnt_atm,
        "CNT_DRAWINGS_CURRENT": cnt,
        "CNT_DRAWINGS_OTHER_CURRENT": cnt_other,
        "CNT_DRAWINGS_POS_CURRENT": cnt_pos,
        "CNT_INSTALMENT_MATURE_CUM": mature,
        "NAME_CONTRACT_STATUS": cat(status, lv.levels),
        "SK_DPD": dpd.astype(float),
        "SK_DPD_DEF": np.where(dpd > 30, np.minimum(dpd, 30), 0).astype(float),
    }
    # card instalments: one per month with a payment
    paid = np.nan_to_num(pay_tot) > 0
    due = np.round(months[paid] * DPM + 10)
    delay = np.where(late_card[paid] > 0.9, rng.integers(0, 40, paid.sum()), -rng.integers(0, 20, paid.sum()))
    inst: Frame = {
        "_loan": loan[paid],
        "NUM_INSTALMENT_VERSION": np.zeros(paid.sum()),
        "NUM_INSTALMENT_NUMBER": (ck[paid] + 1).astype(float),
        "DAYS_INSTALMENT": due,
        "DAYS_ENTRY_PAYMENT": np.minimum(due + delay, -1.0),
        "AMT_INSTALMENT": np.round(np.maximum(min_reg[paid], 0), 3),
        "AMT_PAYMENT": pay_tot[paid],
    }
    inst["AMT_INSTALMENT"] = np.nan_to_num(inst["AMT_INSTALMENT"])
    return card, inst, np.clip(util, -0.3, 1.3)
