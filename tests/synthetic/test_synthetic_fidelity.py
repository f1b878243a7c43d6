"""The fidelity measures, and the generated marginals against the real ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from synthetic import fidelity
from synthetic.fidelity import (
    compare,
    ks_distance,
    ks_tolerance,
    missing_tolerance,
    share_ok,
    tv_distance,
    tv_tolerance,
)


def test_ks_distance_known_values() -> None:
    assert ks_distance(np.array([1.0, 2, 3]), np.array([1.0, 2, 3])) == 0.0
    assert ks_distance(np.array([0.0, 0, 0]), np.array([1.0, 1])) == 1.0
    # ties: half the mass at 0 vs a quarter
    assert ks_distance(np.array([0.0, 0, 1, 1]), np.array([0.0, 1, 1, 1])) == pytest.approx(0.25)


def test_ks_tolerance_widens_only_for_small_samples() -> None:
    assert ks_tolerance(5000, 5000) == 0.10  # large samples: the fixed tolerance
    assert ks_tolerance(100, 6000) == pytest.approx(1.63 * np.sqrt(6100 / 600000))  # ~0.164
    assert ks_tolerance(100, 6000) < 0.17


def test_missing_tolerance_widens_only_for_small_samples() -> None:
    """The missing rate of ~244 generated test applicants moves by more than 0.05 by chance (a binomial
    draw: sd 0.034 at a rate of 0.5): the tolerance is the two-proportion difference exceeded by chance
    1 % of the time when that is larger, as the KS tolerance is."""
    assert missing_tolerance(0.5, 0.5, 13_000, 9_000) == 0.05  # large samples: the fixed tolerance
    assert missing_tolerance(0.0, 0.0, 1_500, 244) == 0.05  # no spread when nothing is missing
    p = (0.57 * 1_500 + 0.63 * 244) / 1_744
    assert missing_tolerance(0.57, 0.63, 1_500, 244) == pytest.approx(2.576 * np.sqrt(p * (1 - p) * (1 / 1_500 + 1 / 244)))
    assert 0.08 < missing_tolerance(0.57, 0.63, 1_500, 244) < 0.095
    # it is a 1 % level: two samples of one population pass about 99 % of the time
    rng = np.random.default_rng(5)
    a, b = rng.binomial(1_500, 0.55, 4_000) / 1_500, rng.binomial(244, 0.55, 4_000) / 244
    out = [abs(x - y) > missing_tolerance(x, y, 1_500, 244) for x, y in zip(a, b, strict=True)]
    assert 0.002 < np.mean(out) < 0.025
    assert np.mean(np.abs(a - b) > 0.05) > 0.08  # the fixed 0.05 fails one draw in ten


def test_tv_tolerance_widens_only_for_small_samples() -> None:
    """Many levels and a few hundred rows: two samples of one distribution differ by TV > 0.10 by chance
    (e.g. 58 organisation types among 244 generated test applicants); the tolerance is the TV such samples
    exceed 1 % of the time (drawn from the real frequencies, a fixed seed: deterministic)."""
    levels = np.arange(58)
    real_counts = np.maximum(1, (600 * np.exp(-levels / 8))).astype(int)  # a long tail, ~5,000 rows
    assert tv_tolerance(real_counts, 9_000) == 0.10  # large samples: the fixed tolerance
    assert tv_tolerance(np.array([700, 800]), 244) == 0.10  # two levels: a TV is a missing-rate difference
    wide = tv_tolerance(real_counts, 244)
    assert wide > 0.10 and wide == tv_tolerance(real_counts, 244)
    rng = np.random.default_rng(9)
    p = real_counts / real_counts.sum()
    a = rng.multinomial(244, p, 2_000) / 244
    b = rng.multinomial(int(real_counts.sum()), p, 2_000) / real_counts.sum()
    tv = 0.5 * np.abs(a - b).sum(axis=1)
    assert np.mean(tv > wide) < 0.03 and np.mean(tv > 0.10) > 0.2


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


def test_test_applicants_keep_their_own_shares() -> None:
    """The test applicants' statistics are fitted on their own rows (since stop 32; pooled with the train rows at
    stop 30, the train rows' at stop 31): Kaggle's test applicants miss `EXT_SOURCE_1` on 43 % of the rows, the
    train ones on 57 %, and borrow less (the train rows' loans took the generated test credit out of the fidelity
    tolerance, KS 0.110 at stop 31)."""
    import json

    import pandas as pd

    from synthetic.stats import STATS_PATH

    real = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "home-credit-marginals"
    if not (real / "application_test.csv").exists():
        pytest.skip("real marginal rows not present")
    test = pd.read_csv(real / "application_test.csv", usecols=["EXT_SOURCE_1", "AMT_CREDIT"])
    train = pd.read_csv(real / "application_train.csv", usecols=["EXT_SOURCE_1", "AMT_CREDIT"])
    fitted = json.loads(STATS_PATH.read_text(encoding="utf-8"))["marginals"]
    assert fitted["application_test"]["EXT_SOURCE_1"]["missing"] == pytest.approx(test.EXT_SOURCE_1.isna().mean(), abs=1e-6)
    assert fitted["application_train"]["EXT_SOURCE_1"]["missing"] == pytest.approx(train.EXT_SOURCE_1.isna().mean(), abs=1e-6)
    medians = {t: np.median(fitted[t]["AMT_CREDIT"]["quantiles"]) for t in ("application_train", "application_test")}
    assert medians["application_test"] < 0.95 * medians["application_train"]
    assert abs(medians["application_test"] / test.AMT_CREDIT.median() - 1) < 0.05
