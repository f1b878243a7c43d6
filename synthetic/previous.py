"""Home Credit's own history: ``previous_application`` and, for approved loans, the monthly
``POS_CASH_balance`` (cash and consumer loans), ``credit_card_balance`` (revolving loans) and the
``installments_payments`` of both. Every monthly record shares its loan's SK_ID_PREV and SK_ID_CURR,
lies before the application (MONTHS_BALANCE <= -1) and follows the loan's schedule.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import ndtri

from synthetic.frame import Frame, cat, is_level
from synthetic.gibbs import sweep
from synthetic.seq import expand, group_count, group_max, group_mean, group_sum, negbin_counts
from synthetic.stats import NumericMarginal, Stats, annuity_at, phi

T = "previous_application"
SENTINEL = 365243.0
DPM = 30.4375
#: Kaggle's schedule: instalment k is due DAYS_FIRST_DUE + 30 (k - 1) days, the last one on
#: DAYS_LAST_DUE_1ST_VERSION (= DAYS_FIRST_DUE + 30 (CNT_PAYMENT - 1) in 99.9 % of the real rows).
DAYS_PER_INSTALMENT = 30.0
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


def _all(f: Frame) -> np.ndarray:
    return np.ones(f["NAME_CONTRACT_STATUS"][0].size, dtype=bool)


#: Columns drawn again from a tree conditional given all the others (synthetic.gibbs): those no
#: structural rule of the loan (amounts, term, schedule, status) depends on; True: missing values too.
REDRAWN: list[tuple] = [
    *((c, _all, None, True) for c in ("NAME_TYPE_SUITE",)),
    *((c, _all) for c in (
        "NAME_CASH_LOAN_PURPOSE", "NAME_PAYMENT_TYPE", "NAME_CLIENT_TYPE", "NAME_GOODS_CATEGORY",
        "CHANNEL_TYPE", "NAME_SELLER_INDUSTRY", "SELLERPLACE_AREA", "HOUR_APPR_PROCESS_START",
        "WEEKDAY_APPR_PROCESS_START", "NFLAG_LAST_APPL_IN_DAY", "FLAG_LAST_APPL_PER_CONTRACT",
        "NFLAG_INSURED_ON_APPROVAL",
    )),
]  # fmt: skip
SWEEPS = 2


def _num(f: Frame, c: str) -> np.ndarray:
    return np.asarray(f[c], dtype=float)


def _applied(f: Frame) -> np.ndarray:
    return _num(f, "AMT_APPLICATION") > 0


def _with_term(f: Frame) -> np.ndarray:
    return (np.nan_to_num(_num(f, "CNT_PAYMENT")) > 0) & (_num(f, "AMT_CREDIT") > 0)


def _not_card(f: Frame) -> np.ndarray:
    """The decision date of an approved revolving loan is tied to its card's first month."""
    return ~(
        is_level(f["NAME_CONTRACT_STATUS"], "Approved") & is_level(f["NAME_CONTRACT_TYPE"], "Revolving loans")
    )


#: The loan itself, redrawn before the schedule is built (the schedule, POS and instalment records follow
#: the new term and amounts): application amount, credit and goods price as ratios to it, term, down
#: payment rate, decision date. The annuity follows (the loan's yearly rate, drawn per yield group).
REDRAWN_LOAN: list[tuple] = [
    ("AMT_APPLICATION", _applied),
    ("AMT_CREDIT", _applied, "CREDIT_OVER_APPLICATION"),
    ("AMT_GOODS_PRICE", _applied, "GOODS_OVER_APPLICATION"),
    ("CNT_PAYMENT", _with_term),
    ("RATE_DOWN_PAYMENT", _all),
    ("DAYS_DECISION", _not_card),
]
#: A derived column drawn instead of its column -> (the column, the column it is a ratio to).
RATIO_OF = {
    "CREDIT_OVER_APPLICATION": ("AMT_CREDIT", "AMT_APPLICATION"),
    "GOODS_OVER_APPLICATION": ("AMT_GOODS_PRICE", "AMT_APPLICATION"),
}


def _redraw_loan(rng: np.random.Generator, stats: Stats, f: Frame, m: int, birth: np.ndarray) -> bool:
    """Gibbs sweeps over :data:`REDRAWN_LOAN`; the dependent columns (down payment) follow. False when
    the fitted file has no tree for the loan (then nothing changed)."""
    fitted = stats.gibbs.get(T)
    if not fitted or "CNT_PAYMENT" not in fitted["trees"]:
        return False

    def back(target: str, v: np.ndarray, rows: np.ndarray) -> np.ndarray:
        col, base = RATIO_OF[target]
        return stats.num(T, col).round(_num(f, base)[rows] * v)

    def bound(child: str, v: np.ndarray, rows: np.ndarray) -> np.ndarray:
        if child == "CNT_PAYMENT":
            return np.maximum(v, 1.0)
        if child == "AMT_APPLICATION":
            return on_grid(v, AMOUNT_GRID, 1)
        if child == "DAYS_DECISION":  # within the applicant's adult life, before the application
            return np.clip(v, birth[f["_owner"][rows]] + 18 * 365, -1.0)
        return v

    sweep(rng, fitted, f, m, REDRAWN_LOAN * SWEEPS, lambda c: stats.m(T, c), back, bound)
    credit, term = _num(f, "AMT_CREDIT"), _num(f, "CNT_PAYMENT")
    annuity = _num(f, "AMT_ANNUITY").copy()
    if "_yearly" in f:  # the annuity of the redrawn credit and term at the loan's rate
        paid = (term > 0) & (credit > 0)
        annuity[paid] = _annuity(credit[paid], term[paid], f["_yearly"][paid])
    if "_card_share" in f:  # a card's annuity follows its redrawn limit
        card = (term == 0) & (credit > 0)
        annuity[card] = on_grid(credit[card] * f["_card_share"][card], ANNUITY_GRID, 3)
    f["AMT_ANNUITY"] = annuity
    _down_payment(rng, stats, f)
    return True


def _redraw(rng: np.random.Generator, stats: Stats, f: Frame, m: int) -> None:
    fitted = stats.gibbs.get(T)
    if fitted:
        sweep(rng, fitted, f, m, REDRAWN * SWEEPS, lambda c: stats.m(T, c), None, lambda c, v, rows: v)


def _cond_cat(stats: Stats, rng: np.random.Generator, name: str, parents: dict, u=None):
    levels = stats.cat(T, stats.cond(T, name).child).levels
    return cat(stats.cond(T, name).sample_codes(rng, parents, levels, u), levels)


def product_family(combination: str) -> str:
    """A product combination's family: ``POS`` for every point-of-sale loan, else the name before the
    colon (``Cash Street: low`` -> ``Cash Street``)."""
    return "POS" if combination.startswith("POS") else combination.split(":")[0].strip()


def _by_product(stats: Stats, rng: np.random.Generator, name: str, pc: dict):
    """``name`` given the product combination; combinations seen too rarely for their own group take
    their family's (``PRODUCT_FAMILY``) instead of the whole column's frequencies."""
    drawn = _cond_cat(stats, rng, name, pc)
    family = stats.conditionals[T].get(f"{name}_BY_FAMILY")
    if family is None:
        return drawn
    rare = ~stats.cond(T, name).known(pc)
    if not rare.any():
        return drawn
    codes, levels = pc["PRODUCT_COMBINATION"]
    fam_levels = stats.cat(T, "PRODUCT_FAMILY").levels
    index = {lv: i for i, lv in enumerate(fam_levels)}
    to_family = np.asarray([index.get(product_family(lv), -1) for lv in levels] + [-1], dtype=np.int64)
    fam = {"PRODUCT_FAMILY": (to_family[np.where(codes < 0, len(levels), codes)], fam_levels)}
    rare &= family.known(fam)
    out = drawn[0].copy()
    out[rare] = family.sample_codes(rng, fam, drawn[1])[rare]
    return (out, drawn[1])


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
    f["NAME_PRODUCT_TYPE"] = _by_product(stats, rng, "NAME_PRODUCT_TYPE", pc)
    f["CHANNEL_TYPE"] = _by_product(stats, rng, "CHANNEL_TYPE", pc)
    f["NAME_GOODS_CATEGORY"] = _by_product(stats, rng, "NAME_GOODS_CATEGORY", pc)
    f["NAME_SELLER_INDUSTRY"] = _cond_cat(
        stats, rng, "NAME_SELLER_INDUSTRY", {"NAME_GOODS_CATEGORY": f["NAME_GOODS_CATEGORY"]}
    )
    f["NAME_YIELD_GROUP"] = _by_product(stats, rng, "NAME_YIELD_GROUP", pc)
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
    credit = np.where((application == 0) & approved & revolving, _positive_credit(rng, stats, cs), credit)
    f["AMT_CREDIT"] = credit
    g_ratio = stats.cond(T, "GOODS_OVER_APPLICATION").sample(rng, cs)
    f["AMT_GOODS_PRICE"] = np.where(
        np.isnan(g_ratio) | (application <= 0), np.nan, np.round(application * g_ratio, 3)
    )
    term = stats.cond(T, "CNT_PAYMENT").sample(rng, {**pc, "NAME_CONTRACT_STATUS": f["NAME_CONTRACT_STATUS"]})
    f["CNT_PAYMENT"] = term
    yearly = stats.cond(T, "YEARLY_RATE").sample(rng, {"NAME_YIELD_GROUP": f["NAME_YIELD_GROUP"]})
    annuity = _annuity(credit, term, yearly)
    no_term = (term == 0) | (credit == 0)
    annuity = np.where(no_term, stats.cond(T, "ANNUITY_NO_TERM").sample(rng, ct), annuity)
    annuity[np.isnan(term)] = np.nan
    f["AMT_ANNUITY"] = annuity
    _shape_loans(rng, stats, f, cs)
    application, term = _num(f, "AMT_APPLICATION"), _num(f, "CNT_PAYMENT")
    rate = stats.cond(T, "RATE_DOWN_PAYMENT").sample(rng, cs)
    f["RATE_DOWN_PAYMENT"] = rate
    _down_payment(rng, stats, f)

    # dates: decision within the applicant's adult life and within the 8-year window
    decision = stats.cond(T, "DAYS_DECISION").sample(rng, {"NAME_CONTRACT_STATUS": f["NAME_CONTRACT_STATUS"]})
    decision = np.maximum(np.nan_to_num(decision, nan=-300.0), birth[owner] + 18 * 365)
    f["DAYS_DECISION"] = np.minimum(decision, -1.0)
    card_loans = np.flatnonzero(approved & revolving)
    card_first, card_len = _card_months(rng, stats, f, card_loans, birth[owner[card_loans]])
    _schedule(rng, stats, f, cs, approved)
    f["NFLAG_INSURED_ON_APPROVAL"] = stats.cond(T, "NFLAG_INSURED_ON_APPROVAL").sample(rng, cs)

    if _redraw_loan(rng, stats, f, m, birth):
        _schedule(rng, stats, f, cs, approved)  # the schedule of the redrawn term and decision date
    _redraw(rng, stats, f, m)

    # loans that ran: monthly records and instalments
    runs = (
        approved & ~revolving & (np.nan_to_num(f["DAYS_FIRST_DUE"], nan=0.0) < 0) & (np.nan_to_num(term) > 0)
    )
    late_propensity = _copula(rng, beh, 0.75)  # per loan
    pos, inst_pos = _pos_and_instalments(rng, stats, f, runs, late_propensity)
    cards, inst_cards, util = _cards(rng, stats, f, card_loans, card_first, card_len, late_propensity)
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


#: Kaggle's amounts are multiples of 4.5 (application amount, credit, goods price), its annuities of 0.045
AMOUNT_GRID = 4.5
ANNUITY_GRID = 0.045
#: down payments near a multiple of 5% of the price are that multiple (as in the real rows)
ROUND_SHARE = 0.05
ROUND_SHARE_SNAP = 0.01


def on_grid(x: np.ndarray, grid: float, decimals: int) -> np.ndarray:
    return np.round(np.rint(np.asarray(x, dtype=float) / grid) * grid, decimals)


def _shape_loans(rng: np.random.Generator, stats: Stats, f: Frame, cs: dict) -> None:
    """Which amounts exist, as in the real applications of the same contract type and status (the
    fitted ``LOAN_SHAPE``: application amount and credit zero or not, term missing, zero or positive;
    e.g. every revolving loan has term 0 unless cancelled, a cancelled cash loan is empty). Amounts a
    shape adds are drawn from their marginals, those it removes are cleared, the annuity follows the
    new term. The goods price equals the application amount where there is one; amounts sit on
    Kaggle's grids."""
    app, credit = _num(f, "AMT_APPLICATION").copy(), _num(f, "AMT_CREDIT").copy()
    term, annuity = _num(f, "CNT_PAYMENT").copy(), _num(f, "AMT_ANNUITY").copy()
    shapes = stats.conditionals[T].get("LOAN_SHAPE")
    if shapes is not None:
        m = app.size
        levels = stats.cat(T, "LOAN_SHAPE").levels
        codes = np.full(m, -1, dtype=np.int64)
        for cond in (stats.conditionals[T]["LOAN_SHAPE_BY_STATUS"], shapes):  # finer groups win
            known = cond.known(cs)
            codes[known] = cond.sample_codes(rng, cs, levels)[known]
        idx = np.where(codes >= 0, codes, len(levels))
        shaped = codes >= 0

        def has(test: Callable[[str], bool]) -> np.ndarray:  # per level, then per row
            return shaped & np.asarray([test(s) for s in levels] + [False])[idx]

        app0 = has(lambda s: s.startswith("A0"))
        credit0 = has(lambda s: "-C0-" in s)
        na = has(lambda s: s.endswith("-NNA"))
        zero = has(lambda s: s.endswith("-N0"))
        pos = has(lambda s: s.endswith("-N"))

        def positive(name: str, k: int) -> np.ndarray:
            return _above_zero(stats.num(T, name), rng.random(k))

        before = (app.copy(), credit.copy(), term.copy())
        add = shaped & ~app0 & ~(app > 0)
        app[add] = positive("AMT_APPLICATION", int(add.sum()))
        app[app0] = 0.0
        ratio = np.nan_to_num(stats.cond(T, "CREDIT_OVER_APPLICATION").sample(rng, cs), nan=1.0)
        add = shaped & ~credit0 & ~(credit > 0)
        credit[add] = np.where(app[add] > 0, app[add] * ratio[add], _positive_credit(rng, stats, cs)[add])
        credit[credit0] = 0.0
        term[na] = np.nan
        term[zero] = 0.0
        add = pos & ~(term > 0)
        term[add] = np.maximum(positive("CNT_PAYMENT", int(add.sum())), 1.0)
        _yield_group(rng, stats, f, term)
        changed = shaped & (
            (before[1] != credit) | ~np.isclose(np.nan_to_num(before[2], nan=-1), np.nan_to_num(term, nan=-1))
        )
        yearly = stats.cond(T, "YEARLY_RATE").sample(rng, {"NAME_YIELD_GROUP": f["NAME_YIELD_GROUP"]})
        f["_yearly"] = yearly  # the loan's rate: its annuity follows a redrawn credit or term
        no_term = stats.cond(T, "ANNUITY_NO_TERM").sample(rng, {"NAME_CONTRACT_TYPE": f["NAME_CONTRACT_TYPE"]})
        by_term = _annuity(credit, term, yearly)
        annuity = np.where(changed & (term > 0) & (credit > 0), by_term, annuity)
        annuity = np.where(changed & ((term == 0) | (credit == 0)), no_term, annuity)
    share = stats.marginals[T].get("NO_TERM_ANNUITY_SHARE")
    if isinstance(share, NumericMarginal):  # a card's annuity: mostly 5% of its limit
        f["_card_share"] = share.ppf(rng.random(app.size))
        card = (term == 0) & (credit > 0)
        annuity[card] = credit[card] * f["_card_share"][card]
    annuity[np.isnan(term)] = np.nan
    app = np.where(app > 0, on_grid(app, AMOUNT_GRID, 1), app)
    credit = np.where(credit > 0, on_grid(credit, AMOUNT_GRID, 1), credit)
    f["AMT_APPLICATION"], f["AMT_CREDIT"], f["CNT_PAYMENT"] = app, credit, term
    f["AMT_ANNUITY"] = np.where(np.isnan(annuity), np.nan, on_grid(annuity, ANNUITY_GRID, 3))
    f["AMT_GOODS_PRICE"] = np.where(app > 0, app, np.nan)


def _positive_credit(rng: np.random.Generator, stats: Stats, cs: dict) -> np.ndarray:
    """A credit above 0 for every row, from the credits of its contract type and status (card limits
    are round amounts: 45,000, 135,000, ...)."""
    cond = stats.conditionals[T].get("CREDIT_BY_TYPE")
    m = _length_of(cs)
    u = rng.random(m)
    if cond is None:
        return _above_zero(stats.num(T, "AMT_CREDIT"), u)
    out = np.empty(m)
    for mg, idx in cond._groups_of(cs):
        assert isinstance(mg, NumericMarginal)
        out[idx] = _above_zero(mg, u[idx])
    return out


def _above_zero(mg: NumericMarginal, u: np.ndarray) -> np.ndarray:
    """Values of ``mg`` above its zero atom for the uniforms ``u``."""
    lo = float(mg.atom_probs[mg.atoms <= 0].sum()) + 1e-9
    return mg.ppf(lo + (1.0 - lo) * u)


def _length_of(parents: dict) -> int:
    v = next(iter(parents.values()))
    return int(v[0].size) if isinstance(v, tuple) else int(np.asarray(v).size)


def _down_payment(rng: np.random.Generator, stats: Stats, f: Frame) -> None:
    """AMT_DOWN_PAYMENT from the rate: goods price x rate x a fitted factor (Kaggle's rate is not the
    plain share of the price: the factor is 0.918 for a quarter of the real rows, 0.92-1.2 otherwise),
    on the 4.5 grid like the other amounts."""
    rate = _num(f, "RATE_DOWN_PAYMENT")
    goods = _num(f, "AMT_GOODS_PRICE")
    base = np.nan_to_num(np.where(np.isnan(goods), _num(f, "AMT_APPLICATION"), goods))
    factor = stats.marginals[T].get("DOWN_OVER_RATE")
    k = factor.ppf(rng.random(rate.size)) if isinstance(factor, NumericMarginal) else np.ones(rate.size)
    share = np.nan_to_num(rate) * k
    # most real down payments are a round share of the price (10%, 20%, ...; 61% of the real rows)
    nearest = np.round(share / ROUND_SHARE) * ROUND_SHARE
    share = np.where((np.abs(share - nearest) < ROUND_SHARE_SNAP) & (nearest > 0), nearest, share)
    down = on_grid(base * share, AMOUNT_GRID, 1)
    f["AMT_DOWN_PAYMENT"] = np.where(np.isnan(rate), np.nan, np.where(rate > 0, down, 0.0))


def _annuity(credit: np.ndarray, term: np.ndarray, yearly_rate: np.ndarray) -> np.ndarray:
    """Kaggle's annuity: the monthly payment of ``credit`` over ``term`` months at a yearly rate
    (a missing rate: 20%), on the 0.045 grid."""
    rate = np.where(np.isnan(yearly_rate), 0.2, yearly_rate)
    return on_grid(annuity_at(credit, term, rate), ANNUITY_GRID, 3)


def _yield_group(rng: np.random.Generator, stats: Stats, f: Frame, term: np.ndarray) -> None:
    """``NAME_YIELD_GROUP`` is ``XNA`` exactly for loans without a term and for revolving loans (as in
    every real row): others get a level from the column's marginal without ``XNA``."""
    codes, levels = f["NAME_YIELD_GROUP"]
    if "XNA" not in levels:
        return
    xna = levels.index("XNA")
    want = np.isnan(term) | is_level(f["NAME_CONTRACT_TYPE"], "Revolving loans")
    codes = codes.copy()
    codes[want] = xna
    fix = np.flatnonzero(~want & (codes == xna))
    mg = stats.cat(T, "NAME_YIELD_GROUP")
    probs = np.asarray([p if lv != "XNA" else 0.0 for lv, p in zip(mg.levels, mg.probs, strict=True)])
    if fix.size and probs.sum() > 0:
        drawn = np.minimum(np.searchsorted(np.cumsum(probs) / probs.sum(), rng.random(fix.size), side="right"),
                           probs.size - 1)  # fmt: skip
        codes[fix] = np.asarray([levels.index(lv) for lv in mg.levels])[drawn]
    f["NAME_YIELD_GROUP"] = (codes, levels)


def _schedule(rng: np.random.Generator, stats: Stats, f: Frame, cs: dict, approved: np.ndarray) -> None:
    """DAYS_FIRST_DRAWING ... DAYS_TERMINATION of approved loans, 365243 where the event has not
    happened (yet); a loan marked as finished finished before the application."""
    m = approved.size
    pat_levels = stats.cat(T, "SENTINEL_PATTERN").levels
    codes = stats.cond(T, "SENTINEL_PATTERN").sample_codes(rng, cs, pat_levels)
    by_decision = stats.conditionals[T].get("SENTINEL_BY_DECISION")
    if by_decision is not None:  # recent loans are more often not started or still running
        parents = {"NAME_CONTRACT_TYPE": f["NAME_CONTRACT_TYPE"], "DAYS_DECISION": f["DAYS_DECISION"]}
        known = by_decision.known(parents)
        codes = np.where(known, by_decision.sample_codes(rng, parents, pat_levels), codes)
    codes[~approved] = -1
    table = np.asarray([[lv[i] == "S" for i in range(5)] for lv in pat_levels] + [[False] * 5], dtype=bool)
    sentinel = table[np.where(codes < 0, len(pat_levels), codes)]
    missing = codes < 0
    ct = {"NAME_CONTRACT_TYPE": f["NAME_CONTRACT_TYPE"]}
    dec = f["DAYS_DECISION"]
    term = np.nan_to_num(f["CNT_PAYMENT"])

    def off(name: str) -> np.ndarray:
        v = stats.cond(T, name).sample(rng, ct)
        return np.where(np.isnan(v), stats.num(T, name).ppf(rng.random(m)), v)

    drawing = dec + np.abs(off("DRAWING_OFFSET"))
    first_due = dec + np.abs(off("FIRST_DUE_OFFSET"))
    last1 = first_due + np.where(
        term > 0, DAYS_PER_INSTALMENT * (term - 1), np.abs(off("LAST_DUE_1ST_OFFSET"))
    )
    last = last1 + np.minimum(off("LAST_DUE_OFFSET"), 0)
    # finished loans ended before the application: those planned to end later were repaid early
    early = last > -2
    last = np.where(early, np.round(first_due + rng.random(m) * np.maximum(-2 - first_due, 0)), last)
    last = np.minimum(last, -2)
    term_day = last + np.abs(off("TERMINATION_OFFSET"))
    term_day = np.where(term_day > -2, np.round(last + rng.random(m) * (-2 - last)), term_day)
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
        v = np.where(sentinel[:, i] | future, SENTINEL, v)
        v[missing] = np.nan
        f[name] = v


def _pos_and_instalments(
    rng: np.random.Generator, stats: Stats, f: Frame, runs: np.ndarray, late_u: np.ndarray
) -> tuple[Frame, Frame]:
    """Monthly POS records and instalments of cash / consumer loans, up to the application or the
    loan's (possibly early) end; an early-repaid loan's last instalment settles the remainder."""
    IP = "installments_payments"
    loans = np.flatnonzero(runs)
    first_due = f["DAYS_FIRST_DUE"][loans]
    term = f["CNT_PAYMENT"][loans].astype(np.int64)
    annuity = np.nan_to_num(f["AMT_ANNUITY"][loans])
    last_due = f["DAYS_LAST_DUE"][loans]
    ended = ~np.isnan(last_due) & (last_due < SENTINEL)
    horizon = np.where(ended, np.minimum(last_due, -1), -1)
    n_due = np.clip(np.floor((horizon - first_due) / DAYS_PER_INSTALMENT).astype(np.int64) + 1, 0, term)
    n_due = np.where(ended & (n_due == 0), 1, n_due)
    prepaid = ended & (n_due < term)
    li, k = expand(n_due)
    loan = loans[li]
    days_inst = first_due[li] + DAYS_PER_INSTALMENT * k
    # versions: 1 for the original schedule, sometimes a later version after a change
    vm = stats.num(IP, "NUM_INSTALMENT_VERSION")
    keep = vm.atoms >= 1
    probs = vm.atom_probs[keep] / vm.atom_probs[keep].sum()
    version = vm.atoms[keep][
        np.minimum(np.searchsorted(np.cumsum(probs), rng.random(li.size)), keep.sum() - 1)
    ]
    version = np.where(k == 0, 1.0, version)
    u = np.clip(late_u[loan] + 0.25 * (rng.random(li.size) - 0.5), 1e-6, 1 - 1e-6)
    delay = stats.cond(IP, "PAYMENT_DELAY").sample(rng, {"NUM_INSTALMENT_VERSION": version}, u)
    entry = np.minimum(days_inst + np.nan_to_num(delay), -1.0)
    share = stats.num(IP, "PAYMENT_SHARE").ppf(
        np.clip(1 - late_u[loan] + 0.3 * (rng.random(li.size) - 0.5), 1e-6, 1 - 1e-6)
    )
    inst_amt = annuity[li].copy()
    is_last = k == n_due[li] - 1
    settle = prepaid[li] & is_last
    inst_amt[settle] = np.round(annuity[li][settle] * (term[li][settle] - k[settle]), 3)
    pay = np.round(inst_amt * np.minimum(share, 1.5), 3)
    inst: Frame = {
        "_loan": loan,
        "NUM_INSTALMENT_VERSION": version,
        "NUM_INSTALMENT_NUMBER": (k + 1).astype(float),
        "DAYS_INSTALMENT": days_inst,
        "DAYS_ENTRY_PAYMENT": entry,
        "AMT_INSTALMENT": inst_amt,
        "AMT_PAYMENT": pay,
    }
    # POS: one row per month from the loan's first month to its end or the month before the application
    first_m = np.floor(f["DAYS_DECISION"][loans] / DPM).astype(np.int64) + 1
    start_m = np.maximum(first_m, -96)
    end_loan = np.where(prepaid, np.floor(horizon / DPM).astype(np.int64) + 1, first_m + term)
    end_m = np.minimum(end_loan, -1)
    lengths = np.maximum(end_m - start_m + 1, 0)
    pi, pk = expand(lengths)
    months = start_m[pi] + pk
    future = np.maximum(term[pi] - (months - first_m[pi]), 0)
    done = months >= end_loan[pi]
    future = np.where(done, 0, future)
    status = np.where(done | (future == 0), 1, 0)  # Active, Completed
    late_loan = late_u[loans[pi]]
    dpd = np.where(
        rng.random(pi.size) < 1.25 * np.maximum(late_loan - 0.8, 0), rng.geometric(0.08, pi.size), 0
    )
    dpd = np.where(status == 1, 0, dpd)
    pos: Frame = {
        "_loan": loans[pi],
        "MONTHS_BALANCE": months.astype(float),
        "CNT_INSTALMENT": term[pi].astype(float),
        "CNT_INSTALMENT_FUTURE": future.astype(float),
        "NAME_CONTRACT_STATUS": cat(status, ["Active", "Completed"]),
        "SK_DPD": dpd.astype(float),
        "SK_DPD_DEF": np.where(dpd > 30, dpd, 0).astype(float),
    }
    return pos, inst


def _card_months(
    rng: np.random.Generator, stats: Stats, f: Frame, cards: np.ndarray, birth: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """First month and number of monthly records of each card; moves the card's decision date to
    just before its first month."""
    nc = cards.size
    first_m = np.clip(_extra_num(stats, "card_first_month", rng, nc, -30.0), -96, -1).astype(np.int64)
    decision = first_m * DPM - rng.integers(1, 30, nc)
    decision = np.minimum(np.maximum(decision, birth + 18 * 365), -1.0)
    f["DAYS_DECISION"][cards] = np.round(decision)
    first_m = np.floor(f["DAYS_DECISION"][cards] / DPM).astype(np.int64) + 1
    first_m = np.minimum(np.maximum(first_m, -96), -1)
    last_m = np.clip(_extra_num(stats, "card_last_month", rng, nc, -1.0), first_m, -1).astype(np.int64)
    length = last_m - first_m + 1
    return first_m, length


def _extra_num(stats: Stats, name: str, rng: np.random.Generator, n: int, default: float) -> np.ndarray:
    spec = stats.extra.get(name)
    if spec is None:
        return np.full(n, default)
    from synthetic.stats import NumericMarginal

    return NumericMarginal.from_json(spec).ppf(rng.random(n))


def _cards(
    rng: np.random.Generator,
    stats: Stats,
    f: Frame,
    loans: np.ndarray,
    first_m: np.ndarray,
    length: np.ndarray,
    late_u: np.ndarray,
) -> tuple[Frame, Frame, np.ndarray]:
    """Monthly card records (balances within the limit, drawings, payments) and card instalments."""
    C = "credit_card_balance"
    ci, ck = expand(length)
    r = ci.size
    loan = loans[ci]
    months = first_m[ci] + ck
    limit_card = stats.num(C, "AMT_CREDIT_LIMIT_ACTUAL").ppf(rng.random(loans.size))
    limit = np.round(limit_card[ci])
    # utilisation: per-card level driven by payment behaviour, monthly noise, many idle months
    card_z = 0.8 * ndtri(late_u[loans])  # z has unit variance, so phi(z) is uniform
    z = card_z[ci] + 0.6 * rng.standard_normal(r)
    util = stats.num(C, "UTILISATION").ppf(phi(z))
    util = np.where(limit > 0, np.clip(util, -0.3, 1.2), 0.0)
    balance = np.round(limit * util, 3)
    balance = np.where(limit > 0, balance, np.round(stats.num(C, "AMT_BALANCE").ppf(phi(z)), 3))
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
    min_reg = marg("AMT_INST_MIN_REGULARITY", phi(z + 0.15 * rng.standard_normal(r)))
    pay_u = phi(0.5 * z + 0.85 * rng.standard_normal(r))
    pay_cur = marg("AMT_PAYMENT_CURRENT", pay_u)
    pay_cur[rng.random(r) < stats.num(C, "AMT_PAYMENT_CURRENT").missing] = np.nan
    pay_tot = marg("AMT_PAYMENT_TOTAL_CURRENT", pay_u)
    # matured instalments grow with the card's age: quantile-matched to the card's month number
    ages = np.sort(ck)
    mature = marg("CNT_INSTALMENT_MATURE_CUM", (np.searchsorted(ages, ck, side="right") - 0.5) / max(r, 1))
    reg_missing = rng.random(r) < stats.num(C, "AMT_INST_MIN_REGULARITY").missing
    min_reg[reg_missing] = np.nan
    mature[reg_missing] = np.nan
    late_card = late_u[loan]
    dpd = np.where(rng.random(r) < 1.3 * np.maximum(late_card - 0.85, 0), rng.geometric(0.05, r), 0)
    closed = (first_m + length - 1 < -2)[ci] & (ck == length[ci] - 1)
    lv = ["Active", "Completed"]
    status = np.where(closed, 1, 0)
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
        "NAME_CONTRACT_STATUS": cat(status, lv),
        "SK_DPD": dpd.astype(float),
        "SK_DPD_DEF": np.where(dpd > 30, np.minimum(dpd, 30), 0).astype(float),
    }
    # card instalments (version 0): the payments of each month with activity (sometimes two)
    active = (balance > 0) | (np.nan_to_num(pay_tot) > 0) | (np.nan_to_num(min_reg) > 0)
    reps = np.where(active, 1 + (rng.random(r) < 0.7), rng.random(r) < 0.45).astype(np.int64)
    row, second = expand(reps)
    card_of_row = ci[row]
    number = np.arange(row.size) - np.searchsorted(card_of_row, card_of_row) + 1
    due = np.round(months[row] * DPM + 10) + 15 * second
    late_i = late_card[row]
    delay = np.where(
        rng.random(row.size) < 1.5 * np.maximum(late_i - 0.8, 0),
        rng.integers(1, 60, row.size),
        -rng.integers(0, 25, row.size),
    )
    paid = np.where(np.nan_to_num(pay_tot[row]) > 0, pay_tot[row], np.nan_to_num(min_reg[row]))
    paid = np.where(reps[row] == 2, paid / 2, paid)
    amount = np.where(np.nan_to_num(min_reg[row]) > 0, min_reg[row], paid)
    inst: Frame = {
        "_loan": loan[row],
        "NUM_INSTALMENT_VERSION": np.zeros(row.size),
        "NUM_INSTALMENT_NUMBER": number.astype(float),
        "DAYS_INSTALMENT": due,
        "DAYS_ENTRY_PAYMENT": np.minimum(due + delay, -1.0),
        "AMT_INSTALMENT": np.round(amount, 3),
        "AMT_PAYMENT": np.round(paid, 3),
    }
    return card, inst, util
