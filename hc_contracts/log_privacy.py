"""What the request log may keep of an applicant's features: the one policy read by the API (when it writes
the log) and by monitoring (which applies the same coarsening to the reference before comparing).

The log exists for drift monitoring, which compares distributions; it never needs a person's exact
values. So:

- **dropped** (`DROPPED`): attributes that describe the person rather than the loan -- gender (a protected
  attribute), family status and composition (and the features derived from it), occupation and employer,
  the exact days of birth and the age ratios from which the birth date could be recomputed;
- **banded** (`BANDS`): the age, to 5-year bands (`age_years` 37.4 -> 35);
- **rounded**: every other numeric feature to `SIGNIFICANT_DIGITS` significant digits (income 183,500 ->
  180,000; credit 1,293,502 -> 1,300,000; days employed -2,537 -> -2,500), so that no exact value of a person
  is kept and no exact value can be recomputed from a ratio and its parts;
- categorical and boolean features other than the dropped ones are kept as they are (loan type,
  education, housing, flags).

Drift on a dropped field is covered by the report on the test set (`python -m monitoring.drift --current
test`, inside the warehouse, where personal data may live); drift on banded / rounded fields is measured
on the coarsened values on both sides (the reference is coarsened the same way).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

SIGNIFICANT_DIGITS = 2

DROPPED: dict[str, str] = {
    "code_gender": "gender (protected attribute)",
    "name_family_status": "family status",
    "cnt_children": "number of children",
    "cnt_fam_members": "family size",
    "children_ratio": "derived from the family composition",
    "income_per_family_member": "derived from the family size",
    "income_per_child_plus_one": "derived from the number of children",
    "annuity_per_family_member": "derived from the family size",
    "disposable_income_per_family_member": "derived from the family size",
    "occupation_type": "occupation",
    "organization_type": "employer's organisation",
    "days_birth": "birth date (the age is kept in 5-year bands)",
    "employed_age_ratio": "recomputes the birth date with days_employed",
    "registration_age_ratio": "recomputes the birth date with days_registration",
    "id_publish_age_ratio": "recomputes the birth date with days_id_publish",
    "phone_change_age_ratio": "recomputes the birth date with days_last_phone_change",
    "age_at_credit_end_years": "recomputes the age with the credit term",
}

BANDS: dict[str, float] = {"age_years": 5.0}  # feature -> band width (values floored to a multiple)


def logged_feature_types(feature_types: Mapping[str, str]) -> dict[str, str]:
    """The model's features the request log keeps (in the model's order), with their types."""
    return {name: kind for name, kind in feature_types.items() if name not in DROPPED}


def round_significant(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> np.ndarray:
    """``values`` rounded to ``digits`` significant digits (NaN, inf and 0 unchanged).

    Idempotent: a rounded value rounds to itself (the API stores coarsened values and the request log
    coarsens them again). The step is always an exact power of ten: values are divided by 10^k (k >= 0)
    for large numbers and multiplied by 10^k for small ones, never scaled by an inexact 10^-k (which
    gave 1,000,000 a second time as 1,000,000.0000000001)."""
    x = np.asarray(values, dtype=np.float64)
    ok = np.isfinite(x) & (x != 0)
    with np.errstate(all="ignore"):  # whole-array passes (no masked copies); NaN, inf and 0 restored below
        places = (digits - 1) - np.floor(np.log10(np.abs(x)))  # decimal places kept; negative: tens, ...
        places = np.where(ok, places, 0.0).astype(np.int64)
        step = _POWERS_OF_TEN[np.minimum(np.abs(places), len(_POWERS_OF_TEN) - 1)]
        rounded = np.where(places >= 0, np.round(x * step) / step, np.round(x / step) * step)
    return np.where(ok, rounded, x)


_POWERS_OF_TEN = np.array([float(10**k) for k in range(309)])  # exact up to 1e22, correctly rounded beyond


def coarsen_column(name: str, values: np.ndarray) -> np.ndarray:
    """One numeric feature as the request log keeps it (banded or rounded)."""
    width = BANDS.get(name)
    x = np.asarray(values, dtype=np.float64)
    if width is not None:
        return np.floor(x / width) * width
    return round_significant(x)


def coarsen_frame(frame: pd.DataFrame, feature_types: Mapping[str, str]) -> pd.DataFrame:
    """``frame`` as the request log would hold it: dropped features removed, numeric features coarsened.
    Monitoring applies it to the reference so that both sides of a comparison have the same precision."""
    out = frame.drop(columns=[c for c in DROPPED if c in frame.columns])
    for name, kind in feature_types.items():
        if kind == "numeric" and name in out.columns and name not in DROPPED:
            out[name] = coarsen_column(name, pd.to_numeric(out[name], errors="coerce").to_numpy(
                dtype=np.float64, na_value=np.nan))
    return out
