"""The reason codes' ordering (the largest |SHAP| first, ties by feature name) taken without a full Python sort."""

import numpy as np
import pytest

from models_ml.reasons import _largest


@pytest.mark.parametrize("seed", range(20))
def test_the_largest_are_the_first_of_the_full_sort(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 600))
    # few distinct magnitudes (many ties, across signs) and many zeros
    values = rng.choice([-0.5, -0.1, 0.0, 0.1, 0.3, 0.5], size=n) * rng.choice([1.0, 1.0, 1.0, 0.3], size=n)
    values[rng.random(n) < 0.5] = 0.0
    names = [f"f{int(i):03d}" for i in rng.permutation(n)]
    for k in (0, 1, 5, 20, n, n + 3):
        expected = sorted(range(n), key=lambda j: (-abs(values[j]), names[j]))[:k]
        assert _largest(values, names, k) == expected
