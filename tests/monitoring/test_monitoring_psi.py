import numpy as np
import pandas as pd
import pytest

from monitoring.psi import (
    MISSING_LEVEL,
    OTHER_LEVEL,
    PsiBand,
    categorical_psi,
    column_psi,
    numeric_psi,
    psi_band,
    psi_from_shares,
)


def test_bands_follow_the_credit_scoring_thresholds():
    assert psi_band(0.0) is PsiBand.STABLE
    assert psi_band(0.0999) is PsiBand.STABLE
    assert psi_band(0.10) is PsiBand.MODERATE
    assert psi_band(0.2499) is PsiBand.MODERATE
    assert psi_band(0.25) is PsiBand.SIGNIFICANT
    assert psi_band(3.0) is PsiBand.SIGNIFICANT


def test_psi_from_shares_matches_the_formula():
    ref, cur = np.array([0.5, 0.3, 0.2]), np.array([0.4, 0.3, 0.3])
    expected = (0.4 - 0.5) * np.log(0.4 / 0.5) + 0 + (0.3 - 0.2) * np.log(0.3 / 0.2)
    assert psi_from_shares(ref, cur) == pytest.approx(expected)
    assert psi_from_shares(ref, ref) == 0.0
    # an empty reference bin is floored, not divided by zero
    assert psi_from_shares(np.array([1.0, 0.0]), np.array([0.9, 0.1]), epsilon=1e-4) == pytest.approx(
        (0.9 - 1.0) * np.log(0.9) + (0.1 - 1e-4) * np.log(0.1 / 1e-4))


def test_numeric_psi_uses_reference_deciles_and_keeps_out_of_range_values():
    rng = np.random.default_rng(0)
    ref = pd.Series(rng.normal(0, 1, 20_000))
    result = numeric_psi(ref, ref.copy())
    assert result.value == pytest.approx(0.0, abs=1e-12)
    assert len(result.bins) == 11  # 10 deciles + missing
    assert result.reference_share[:10] == pytest.approx([0.1] * 10, abs=1e-3)
    # everything beyond the reference maximum lands in the last value bin, not dropped
    far = numeric_psi(ref, pd.Series(np.full(1000, 50.0)))
    assert far.current_share[9] == 1.0
    assert far.band is PsiBand.SIGNIFICANT


def test_numeric_psi_grows_with_the_shift():
    rng = np.random.default_rng(1)
    ref = pd.Series(rng.normal(0, 1, 20_000))
    values = [numeric_psi(ref, pd.Series(rng.normal(d, 1, 20_000))).value for d in (0.0, 0.2, 0.5, 1.0)]
    assert values == sorted(values)
    assert values[0] < 0.01 and 0.02 < values[1] < 0.10 and values[3] > 0.5


def test_missing_values_have_their_own_bin():
    rng = np.random.default_rng(2)
    ref = pd.Series(rng.normal(0, 1, 5000))
    cur = pd.Series(rng.normal(0, 1, 5000))
    cur.iloc[:1500] = np.nan  # missing completely at random: the observed values keep their distribution
    result = numeric_psi(ref, cur)
    assert result.bins[-1] == MISSING_LEVEL
    assert result.current_share[-1] == pytest.approx(0.3)
    assert result.top_bin() == MISSING_LEVEL
    assert result.band is PsiBand.SIGNIFICANT
    # infinities count as missing
    assert numeric_psi(pd.Series([1.0, 2.0, np.inf]), pd.Series([1.0, 2.0, 3.0])).reference_share[-1] == \
        pytest.approx(1 / 3)


def test_discrete_numeric_columns_get_one_bin_per_value():
    ref = pd.Series([0.0] * 700 + [1.0] * 200 + [2.0] * 100)
    result = numeric_psi(ref, ref)
    assert result.bins == ["(-inf, 0]", "(0, 1]", "(1, +inf]", MISSING_LEVEL]
    assert result.reference_share[:3] == pytest.approx([0.7, 0.2, 0.1])


def test_a_new_category_goes_to_the_other_bin():
    ref = pd.Series(["Working"] * 600 + ["Pensioner"] * 395 + ["Student"] * 5)
    cur = pd.Series(["Working"] * 500 + ["Pensioner"] * 300 + ["Gig economy"] * 200)
    result = categorical_psi(ref, cur, min_level_share=0.01)
    assert OTHER_LEVEL in result.bins and "Student" not in result.bins  # rare level merged into "other"
    assert result.current_share[result.bins.index(OTHER_LEVEL)] == pytest.approx(0.2)
    assert result.top_bin() == OTHER_LEVEL
    assert result.band is PsiBand.SIGNIFICANT


def test_categorical_psi_is_zero_for_the_same_distribution_and_counts_missing():
    ref = pd.Series(["a", "b", None, "a"] * 250, dtype=object)
    assert categorical_psi(ref, ref.copy()).value == pytest.approx(0.0)
    result = categorical_psi(ref, pd.Series([None] * 1000, dtype=object))
    assert result.current_share[result.bins.index(MISSING_LEVEL)] == 1.0
    assert result.band is PsiBand.SIGNIFICANT


def test_booleans_and_bad_kinds():
    ref = pd.Series([True, False] * 500)
    cur = pd.Series([True] * 900 + [False] * 100)
    assert column_psi(ref, cur, "boolean").value > 0.25
    with pytest.raises(ValueError, match="unknown column kind 'text'"):
        column_psi(ref, cur, "text")
    with pytest.raises(ValueError, match="empty sample"):
        numeric_psi(pd.Series([1.0, 2.0]), pd.Series([], dtype=float))
