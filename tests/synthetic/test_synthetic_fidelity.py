"""The fidelity measures, and the generated marginals against the real ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthetic import fidelity
from synthetic.fidelity import compare, ks_distance, ks_tolerance, share_ok, tv_distance


def test_ks_distance_known_values() -> None:
    assert ks_distance(np.array([1.0, 2, 3]), np.array([1.0, 2, 3])) == 0.0
    assert ks_distance(np.array([0.0, 0, 0]), np.array([1.0, 1])) == 1.0
    # ties: half the mass at 0 vs a quarter
    assert ks_distance(np.array([0.0, 0, 1, 1]), np.array([0.0, 1, 1, 1])) == pytest.approx(0.25)


def test_ks_tolerance_widens_only_for_small_samples() -> None:
    assert ks_tolerance(5000, 5000) == 0.10  # large samples: the fixed tolerance
    assert ks_tolerance(100, 6000) == pytest.approx(1.63 * np.sqrt(6100 / 600000))  # ~0.164
    assert ks_tolerance(100, 6000) < 0.17


def test_tv_distance_known_values() -> None:
    assert tv_distance(np.array(["a", "b"]), np.array(["b", "a"])) == 0.0
    assert tv_distance(np.array(["a", "a"]), np.array(["b", "b"])) == 1.0
    assert tv_distance(np.array(["a", "a", "b", "b"]), np.array(["a", "a", "a", "b"])) == pytest.approx(0.25)


def test_fidelity_detects_a_broken_column(tmp_path: Path, synthetic_dir: Path) -> None:
    """Comparing the generated set with itself passes; shifting one column fails that column only."""
    import shutil

    import pandas as pd

    same = compare(synthetic_dir, synthetic_dir)
    assert share_ok(same) == 1.0
    broken = tmp_path / "broken"
    shutil.copytree(synthetic_dir, broken)
    app = pd.read_csv(broken / "application_train.csv")
    app["AMT_INCOME_TOTAL"] = app["AMT_INCOME_TOTAL"] * 3
    app.loc[app.index[: len(app) // 5], "EXT_SOURCE_2"] = np.nan
    app.to_csv(broken / "application_train.csv", index=False)
    res = {(r.table, r.column): r for r in compare(broken, synthetic_dir)}
    assert not res[("application_train", "AMT_INCOME_TOTAL")].ok
    assert res[("application_train", "AMT_INCOME_TOTAL")].distance > 0.5
    assert not res[("application_train", "EXT_SOURCE_2")].ok
    assert res[("application_train", "EXT_SOURCE_2")].missing_delta > 0.15
    assert res[("application_train", "AMT_CREDIT")].ok


@pytest.mark.real_data
def test_generated_marginals_match_the_real_ones(synthetic_dir: Path, real_marginals_dir: Path) -> None:
    results = compare(synthetic_dir, real_marginals_dir)
    assert len(results) > 300  # every non-key column of the eight tables
    failing = [f"{r.table}.{r.column}" for r in results if not r.ok]
    assert share_ok(results) >= 0.95, f"out of tolerance: {failing}"
    text = fidelity.render(results)
    assert "TOTAL:" in text
