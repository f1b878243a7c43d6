"""Kaggle's previous-application arithmetic (issue 17, third round): which amounts a loan has per
contract type and status, the goods price equal to the application amount, the amount and annuity
grids, annuities from a yearly rate per yield group, a card's annuity as a share of its limit.
Frequencies are compared with the real rows within a tolerance."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from synthetic.fit import yearly_rate
from synthetic.stats import annuity_at


@pytest.fixture(scope="module")
def gen_prev(synthetic_dir: Path) -> pd.DataFrame:
    return pd.read_csv(synthetic_dir / "previous_application.csv")


def _on_grid(x: pd.Series, grid_thousandths: int) -> pd.Series:
    return (np.round(x * 1000).astype("int64") % grid_thousandths) == 0


def test_amounts_sit_on_kaggles_grids(gen_prev: pd.DataFrame) -> None:
    p = gen_prev
    assert _on_grid(p.AMT_APPLICATION.dropna(), 4500).all()
    assert _on_grid(p.AMT_CREDIT.dropna(), 4500).all()
    assert _on_grid(p.AMT_ANNUITY.dropna(), 45).all()
    assert _on_grid(p.AMT_DOWN_PAYMENT.dropna(), 4500).all()
    has_goods = p.AMT_GOODS_PRICE.notna()
    assert (p.AMT_GOODS_PRICE[has_goods] == p.AMT_APPLICATION[has_goods]).all()
    assert (has_goods == (p.AMT_APPLICATION > 0)).all()


def test_revolving_loans_have_no_term_and_cancelled_loans_are_empty(
    gen_prev: pd.DataFrame, real_marginals_dir: Path
) -> None:
    real = pd.read_csv(real_marginals_dir / "previous_application.csv")
    for p in (real, gen_prev):
        rev = p[(p.NAME_CONTRACT_TYPE == "Revolving loans") & (p.NAME_CONTRACT_STATUS != "Canceled")]
        assert (rev.CNT_PAYMENT == 0).mean() > 0.95
        cash = p[(p.NAME_CONTRACT_TYPE == "Cash loans") & (p.NAME_CONTRACT_STATUS == "Approved")]
        assert (cash.CNT_PAYMENT > 0).all() and (cash.AMT_CREDIT > 0).all()
        with_term = p[p.CNT_PAYMENT > 0]
        assert (with_term.NAME_YIELD_GROUP != "XNA").mean() > 0.98
    shares = []
    for p in (real, gen_prev):
        cancelled = p[(p.NAME_CONTRACT_TYPE == "Cash loans") & (p.NAME_CONTRACT_STATUS == "Canceled")]
        shares.append(((cancelled.AMT_APPLICATION == 0) & cancelled.CNT_PAYMENT.isna()).mean())
    assert shares[0] > 0.9 and abs(shares[0] - shares[1]) < 0.06, shares


def test_annuities_follow_a_yearly_rate_per_yield_group(
    gen_prev: pd.DataFrame, real_marginals_dir: Path
) -> None:
    """The implied yearly rate's median per yield group within 0.05 of the real rows' (the old
    total-over-credit draw gave rates up to 500%)."""
    real = pd.read_csv(real_marginals_dir / "previous_application.csv")
    medians = []
    for p in (real, gen_prev):
        rate = yearly_rate(p.AMT_ANNUITY, p.AMT_CREDIT, p.CNT_PAYMENT)
        medians.append(rate.groupby(p.NAME_YIELD_GROUP).median())
    for group in ("low_action", "low_normal", "middle", "high"):
        assert abs(medians[0][group] - medians[1][group]) < 0.05, (group, medians)
    cards = gen_prev[(gen_prev.CNT_PAYMENT == 0) & (gen_prev.AMT_CREDIT > 0)]
    assert ((cards.AMT_ANNUITY / cards.AMT_CREDIT).round(4) == 0.05).mean() > 0.7


def test_yearly_rate_inverts_the_annuity() -> None:
    credit, term = np.array([100_000.0, 45_000.0]), np.array([12.0, 36.0])
    annuity = annuity_at(credit, term, np.array([0.25, 1.1]))
    # a year at 25%: (1 + r)^-12 = 1 / 1.25, so the payment is credit x r / 0.2 with r = 1.25^(1/12) - 1
    r1, r2 = 1.25 ** (1 / 12) - 1, 2.1 ** (1 / 12) - 1
    assert np.allclose(annuity, [100_000 * r1 / 0.2, 45_000 * r2 / (1 - 2.1**-3)], rtol=1e-9)
    assert np.allclose(annuity, [9_384.6, 3_217.5], rtol=1e-4)
    back = yearly_rate(pd.Series(annuity), pd.Series(credit), pd.Series(term))
    assert np.allclose(back, [0.25, 1.1], atol=1e-6)
    assert yearly_rate(pd.Series([100.0]), pd.Series([1_000.0]), pd.Series([5.0])).isna().all()
