"""Validation of the drift verdicts: injected shifts are flagged and named; same-population splits stay quiet.

Run with ``-s`` to see the measured false-alarm rates (also quoted in docs/monitoring.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from monitoring.analysis import analyse
from monitoring.columns import raw_application_columns
from monitoring.settings import MonitoringSettings

SHIFTED = {
    "income_x1.5": "amt_income_total",
    "new_category": "name_income_type",
    "missing_block": "amt_annuity",
    "ext_source_shift": "ext_source_2",
}


def split(frame: pd.DataFrame, seed: int, n_current: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random reference/current halves of one population (current cut to ``n_current`` rows if given)."""
    perm = np.random.default_rng(seed).permutation(len(frame))
    half = len(frame) // 2
    ref = frame.iloc[perm[:half]].reset_index(drop=True)
    cur = frame.iloc[perm[half:]].reset_index(drop=True)
    if n_current is not None:
        cur = cur.iloc[:n_current]
    return ref, cur.copy()


def inject(current: pd.DataFrame, shift: str, seed: int = 0) -> pd.DataFrame:
    """A copy of ``current`` with one known shift."""
    out = current.copy()
    n = len(out)
    rng = np.random.default_rng(seed)
    if shift == "income_x1.5":
        out["amt_income_total"] = out["amt_income_total"] * 1.5
    elif shift == "new_category":  # 15% of applicants now declare a level the model never saw
        out["name_income_type"] = out["name_income_type"].astype(object)
        out.loc[rng.choice(n, size=int(0.15 * n), replace=False), "name_income_type"] = "Gig economy"
    elif shift == "missing_block":  # a block of 25% of the rows lost the field (e.g. a broken form)
        start = n // 3
        out.loc[start: start + n // 4 - 1, "amt_annuity"] = np.nan
    elif shift == "ext_source_shift":  # the external score provider recalibrated: +0.1
        out["ext_source_2"] = out["ext_source_2"] + 0.1
    else:
        raise ValueError(shift)
    return out


def verdicts(ref, cur, kinds, columns, settings=None):
    return analyse(ref, cur, kinds, columns, settings or MonitoringSettings())


# -- synthetic population --------------------------------------------------------------------------
@pytest.mark.parametrize("n_current", [800, 6000])
@pytest.mark.parametrize("shift", list(SHIFTED))
def test_each_injected_shift_is_flagged_and_named(population, kinds, shift, n_current):
    ref, cur = split(population, seed=11, n_current=n_current)
    result = verdicts(ref, inject(cur, shift), kinds, list(kinds))
    column = SHIFTED[shift]
    assert result.drifted_columns == [column], f"{shift}: flagged {result.drifted_columns}"
    detail = next(c for c in result.columns if c.column == column)
    assert detail.psi.value >= 0.25  # significant band
    # and without the shift the same split is quiet
    assert verdicts(ref, cur, kinds, list(kinds)).drifted_columns == []


def test_all_shifts_together_are_named_and_nothing_else(population, kinds):
    ref, cur = split(population, seed=3)
    for i, shift in enumerate(SHIFTED):
        cur = inject(cur, shift, seed=i)
    result = verdicts(ref, cur, kinds, list(kinds))
    assert sorted(result.drifted_columns) == sorted(SHIFTED.values())
    assert result.share_drifted == pytest.approx(4 / len(kinds))
    by_name = {c.column: c for c in result.columns}
    # what moved: the new level sits in the "other" bin, the missing block in the missing bin
    assert by_name["name_income_type"].psi.top_bin() == "(other)"
    assert by_name["amt_annuity"].psi.top_bin() == "(missing)"
    # Evidently's test drops missing values, so only the PSI sees the missing block
    assert by_name["amt_annuity"].evidently.drift_detected is False
    assert by_name["amt_income_total"].evidently.drift_detected is True
    assert by_name["ext_source_2"].evidently.drift_detected is True


def false_alarms(frame, kinds, columns, n_splits, n_current=None):
    """Share of (split, column) pairs flagged, share of splits with any flag; rule and Evidently alone."""
    flagged = evidently_flagged = reports = evidently_reports = 0
    for seed in range(n_splits):
        ref, cur = split(frame, seed=1000 + seed, n_current=n_current)
        result = verdicts(ref, cur, kinds, columns)
        n = len(result.drifted_columns)
        ev = sum(1 for c in result.columns if c.evidently is not None and c.evidently.drift_detected)
        flagged, evidently_flagged = flagged + n, evidently_flagged + ev
        reports, evidently_reports = reports + (n > 0), evidently_reports + (ev > 0)
    pairs = n_splits * len(columns)
    return flagged / pairs, reports / n_splits, evidently_flagged / pairs, evidently_reports / n_splits


@pytest.mark.parametrize("n_current", [None, 800])
def test_false_alarm_rate_over_random_splits_is_low(population, kinds, n_current):
    columns = list(kinds)
    column_rate, report_rate, ev_column, ev_report = false_alarms(population, kinds, columns, 20, n_current)
    size = n_current or len(population) // 2
    print(f"\n[synthetic, 20 splits, {size} current rows, {len(columns)} columns] false alarms: "
          f"rule {column_rate:.2%} of columns, {report_rate:.0%} of reports; "
          f"Evidently alone {ev_column:.2%} of columns, {ev_report:.0%} of reports")
    assert column_rate <= 0.01
    assert report_rate <= 0.10


# -- the real sample's application_train columns ------------------------------------------------------
@pytest.mark.real_data
def test_real_application_shifts_are_flagged_and_named(real_application):
    frame, kinds = real_application
    columns = [c for c in raw_application_columns() if c in kinds][:60]
    assert set(SHIFTED.values()) <= set(columns)
    ref, cur = split(frame, seed=5)
    for i, shift in enumerate(SHIFTED):
        result = verdicts(ref, inject(cur, shift, seed=i), kinds, columns)
        assert result.drifted_columns == [SHIFTED[shift]], f"{shift}: flagged {result.drifted_columns}"


@pytest.mark.real_data
def test_real_application_false_alarm_rate(real_application):
    frame, kinds = real_application
    columns = [c for c in raw_application_columns() if c in kinds][:60]
    column_rate, report_rate, ev_column, ev_report = false_alarms(frame, kinds, columns, 20)
    print(f"\n[real application_train, 20 splits, {len(frame) // 2} vs {len(frame) - len(frame) // 2} rows, "
          f"{len(columns)} columns] false alarms: rule {column_rate:.2%} of columns, {report_rate:.0%} of reports; "
          f"Evidently alone {ev_column:.2%} of columns, {ev_report:.0%} of reports")
    assert column_rate <= 0.01
    assert report_rate <= 0.10
