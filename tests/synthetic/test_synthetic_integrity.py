"""Linked ids, dates before the application, consistent amounts, and the ground truth's default rate."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from synthetic.generator import KAGGLE_TEST, KAGGLE_TRAIN, Summary
from synthetic.schema import GROUND_TRUTH_FILE
from synthetic.target import DEFAULT_RATE


@pytest.fixture(scope="module")
def t(synthetic_dir: Path) -> dict[str, pd.DataFrame]:
    names = [
        "application_train", "application_test", "bureau", "bureau_balance", "previous_application",
        "POS_CASH_balance", "installments_payments", "credit_card_balance",
    ]  # fmt: skip
    out = {n: pd.read_csv(synthetic_dir / f"{n}.csv", dtype={"STATUS": str}) for n in names}
    out["ground_truth"] = pd.read_csv(synthetic_dir / GROUND_TRUTH_FILE)
    return out


def test_sizes_scale_with_kaggle(t: dict[str, pd.DataFrame], synthetic_scale: float) -> None:
    assert len(t["application_train"]) == round(KAGGLE_TRAIN * synthetic_scale)
    assert len(t["application_test"]) == round(KAGGLE_TEST * synthetic_scale)
    n = len(t["application_train"]) + len(t["application_test"])
    # Kaggle history rows per applicant (1,716,428 bureau ... 3,840,312 card rows for 356,255 applicants)
    for table, per_applicant in (("bureau", 4.82), ("previous_application", 4.69), ("bureau_balance", 76.6)):
        assert 0.6 * per_applicant < len(t[table]) / n < 1.5 * per_applicant, table


def test_applicant_ids_unique_across_train_and_test(t: dict[str, pd.DataFrame]) -> None:
    ids = pd.concat([t["application_train"].SK_ID_CURR, t["application_test"].SK_ID_CURR])
    assert ids.is_unique
    assert t["application_train"].SK_ID_CURR.is_monotonic_increasing


def test_referential_integrity(t: dict[str, pd.DataFrame]) -> None:
    applicants = set(t["application_train"].SK_ID_CURR) | set(t["application_test"].SK_ID_CURR)
    assert set(t["bureau"].SK_ID_CURR) <= applicants
    assert t["bureau"].SK_ID_BUREAU.is_unique
    assert set(t["bureau_balance"].SK_ID_BUREAU) <= set(t["bureau"].SK_ID_BUREAU)
    prev = t["previous_application"]
    assert prev.SK_ID_PREV.is_unique
    assert set(prev.SK_ID_CURR) <= applicants
    pairs = set(zip(prev.SK_ID_PREV, prev.SK_ID_CURR, strict=True))
    approved = set(prev.loc[prev.NAME_CONTRACT_STATUS == "Approved", "SK_ID_PREV"])
    for table in ("POS_CASH_balance", "installments_payments", "credit_card_balance"):
        df = t[table]
        assert len(df) > 0, table
        assert set(zip(df.SK_ID_PREV, df.SK_ID_CURR, strict=True)) <= pairs, table
        assert set(df.SK_ID_PREV) <= approved, table
    cards = set(prev.loc[prev.NAME_CONTRACT_TYPE == "Revolving loans", "SK_ID_PREV"])
    assert set(t["credit_card_balance"].SK_ID_PREV) <= cards
    assert not set(t["POS_CASH_balance"].SK_ID_PREV) & cards


def test_many_applicants_have_no_history(t: dict[str, pd.DataFrame]) -> None:
    applicants = pd.concat([t["application_train"].SK_ID_CURR, t["application_test"].SK_ID_CURR])
    no_bureau = ~applicants.isin(t["bureau"].SK_ID_CURR)
    no_prev = ~applicants.isin(t["previous_application"].SK_ID_CURR)
    no_card = ~applicants.isin(t["credit_card_balance"].SK_ID_CURR)
    assert 0.08 < no_bureau.mean() < 0.25  # Kaggle: 14%
    assert 0.02 < no_prev.mean() < 0.10  # Kaggle: 4.9%
    assert 0.55 < no_card.mean() < 0.85  # Kaggle: 71%


def test_history_is_dated_before_the_application(t: dict[str, pd.DataFrame]) -> None:
    assert (t["bureau"].DAYS_CREDIT <= 0).all()
    assert (t["bureau"].DAYS_ENDDATE_FACT.dropna() <= 0).all()
    assert (t["bureau"].DAYS_CREDIT_UPDATE <= 0).all()
    assert (t["bureau_balance"].MONTHS_BALANCE <= 0).all()
    assert (t["previous_application"].DAYS_DECISION <= -1).all()
    for table in ("POS_CASH_balance", "credit_card_balance"):
        assert (t[table].MONTHS_BALANCE <= -1).all(), table
        assert (t[table].MONTHS_BALANCE >= -96).all(), table
    inst = t["installments_payments"]
    assert (inst.DAYS_INSTALMENT <= -1).all() and (inst.DAYS_ENTRY_PAYMENT <= -1).all()
    prev = t["previous_application"]
    for c in ("DAYS_FIRST_DRAWING", "DAYS_FIRST_DUE", "DAYS_LAST_DUE", "DAYS_TERMINATION"):
        v = prev[c].dropna()
        assert ((v <= -1) | (v == 365243)).all(), c
    # only approved applications have a schedule
    assert prev.loc[prev.NAME_CONTRACT_STATUS != "Approved", "DAYS_FIRST_DUE"].isna().all()


def test_bureau_end_dates_only_for_closed_credits(t: dict[str, pd.DataFrame]) -> None:
    b = t["bureau"]
    assert b.loc[b.CREDIT_ACTIVE == "Active", "DAYS_ENDDATE_FACT"].isna().all()
    closed = b[b.CREDIT_ACTIVE == "Closed"]
    assert closed.DAYS_ENDDATE_FACT.notna().mean() > 0.9
    assert (
        closed.DAYS_ENDDATE_FACT.dropna() >= closed.loc[closed.DAYS_ENDDATE_FACT.notna(), "DAYS_CREDIT"]
    ).all()
    # a closed credit's monthly status after its end is C
    bb = t["bureau_balance"].merge(closed[["SK_ID_BUREAU", "DAYS_ENDDATE_FACT"]], on="SK_ID_BUREAU")
    after = bb[np.floor(bb.DAYS_ENDDATE_FACT / 30.4375) < bb.MONTHS_BALANCE]
    assert len(after) > 0 and (after.STATUS == "C").all()


def test_monthly_sequences_are_contiguous(t: dict[str, pd.DataFrame]) -> None:
    for table, key in (
        ("bureau_balance", "SK_ID_BUREAU"),
        ("POS_CASH_balance", "SK_ID_PREV"),
        ("credit_card_balance", "SK_ID_PREV"),
    ):
        g = t[table].groupby(key).MONTHS_BALANCE
        span = g.max() - g.min() + 1
        assert (span == g.size()).all(), table
        assert (g.nunique() == g.size()).all(), table
    pos = t["POS_CASH_balance"].sort_values(["SK_ID_PREV", "MONTHS_BALANCE"])
    diffs = pos.groupby("SK_ID_PREV").CNT_INSTALMENT_FUTURE.diff().dropna()
    assert (diffs <= 0).all()  # instalments left only go down


def test_instalments_follow_the_loan(t: dict[str, pd.DataFrame]) -> None:
    inst = t["installments_payments"]
    prev = t["previous_application"].set_index("SK_ID_PREV")
    loans = inst[inst.NUM_INSTALMENT_VERSION > 0]
    first = loans.sort_values("NUM_INSTALMENT_NUMBER").groupby("SK_ID_PREV").first()
    assert (first.NUM_INSTALMENT_NUMBER == 1).all()
    due = prev.loc[first.index, "DAYS_FIRST_DUE"]
    assert np.allclose(first.DAYS_INSTALMENT, due)
    counts = loans.groupby("SK_ID_PREV").size()
    assert (counts <= prev.loc[counts.index, "CNT_PAYMENT"]).all()
    # payment dates around the due dates
    delay = inst.DAYS_ENTRY_PAYMENT - inst.DAYS_INSTALMENT
    assert delay.median() < 0 and (delay.abs() <= 60).mean() > 0.9  # Kaggle: ~94%


def test_application_dependencies(t: dict[str, pd.DataFrame]) -> None:
    app = t["application_train"]
    ok = app.AMT_GOODS_PRICE.notna()
    assert np.corrcoef(app.AMT_GOODS_PRICE[ok], app.AMT_CREDIT[ok])[0, 1] > 0.95
    ratio = app.AMT_ANNUITY / app.AMT_CREDIT
    assert ratio.between(0.01, 0.2).mean() > 0.98
    assert (app.CNT_FAM_MEMBERS.dropna() >= app.loc[app.CNT_FAM_MEMBERS.notna(), "CNT_CHILDREN"] + 1).all()
    working = app.DAYS_EMPLOYED != 365243
    assert (app.loc[working, "DAYS_EMPLOYED"] > app.loc[working, "DAYS_BIRTH"] + 14 * 365).all()
    assert (app.DAYS_EMPLOYED[working] < 0).all()
    assert np.corrcoef(app.REGION_RATING_CLIENT, app.REGION_RATING_CLIENT_W_CITY)[0, 1] > 0.7
    assert app.loc[app.FLAG_OWN_CAR == "N", "OWN_CAR_AGE"].isna().all()
    rho = app[["AMT_INCOME_TOTAL", "AMT_CREDIT", "DAYS_BIRTH", "EXT_SOURCE_1"]].corr("spearman")
    assert rho.loc["AMT_INCOME_TOTAL", "AMT_CREDIT"] > 0.15  # Kaggle: +0.42
    assert rho.loc["DAYS_BIRTH", "EXT_SOURCE_1"] < -0.3  # older applicants score higher (Kaggle: -0.6)
    building = [c for c in app.columns if c.endswith(("_AVG", "_MODE", "_MEDI"))]
    all_missing = app[building].isna().all(axis=1).mean()
    assert 0.35 < all_missing < 0.6  # the building block is missing as a whole for about half


def test_card_balances_within_limits(t: dict[str, pd.DataFrame]) -> None:
    cc = t["credit_card_balance"]
    with_limit = cc[cc.AMT_CREDIT_LIMIT_ACTUAL > 0]
    assert (with_limit.AMT_BALANCE <= 1.2 * with_limit.AMT_CREDIT_LIMIT_ACTUAL).all()
    assert (cc.AMT_TOTAL_RECEIVABLE == cc.AMT_RECIVABLE).all()


def test_default_rate_and_ground_truth(
    t: dict[str, pd.DataFrame], synthetic_run: tuple[Path, Summary]
) -> None:
    app = t["application_train"]
    gt = t["ground_truth"].set_index("SK_ID_CURR").DEFAULT_PROBABILITY
    p = gt.loc[app.SK_ID_CURR].to_numpy()
    assert abs(p.mean() - DEFAULT_RATE) < 0.002  # the intercept is calibrated on the train applicants
    assert abs(app.TARGET.mean() - DEFAULT_RATE) < 0.025  # Bernoulli noise on ~1,500 applicants
    assert set(app.TARGET.unique()) == {0, 1}
    assert synthetic_run[1].default_rate == pytest.approx(app.TARGET.mean())
    # the ground truth ranks defaulters first, far from perfectly
    assert 0.72 < roc_auc_score(app.TARGET, p) < 0.95


def test_history_drives_the_ground_truth(t: dict[str, pd.DataFrame]) -> None:
    """Applicants with late instalments or refused applications have a higher true probability."""
    gt = t["ground_truth"].set_index("SK_ID_CURR").DEFAULT_PROBABILITY
    inst = t["installments_payments"]
    late = (inst.DAYS_ENTRY_PAYMENT > inst.DAYS_INSTALMENT).groupby(inst.SK_ID_CURR).mean()
    top = late[late > late.quantile(0.9)].index
    rest = late[late <= late.quantile(0.5)].index
    assert gt.loc[top].mean() > 1.5 * gt.loc[rest].mean()
    prev = t["previous_application"]
    refused = (prev.NAME_CONTRACT_STATUS == "Refused").groupby(prev.SK_ID_CURR).mean()
    assert gt.loc[refused[refused >= 0.5].index].mean() > gt.loc[refused[refused == 0].index].mean()
