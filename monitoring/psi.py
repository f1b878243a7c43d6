"""Population Stability Index (PSI), the credit-scoring measure of distribution shift.

PSI = sum over bins of (cur% - ref%) * ln(cur% / ref%).

Bins are fixed on the *reference* sample (the training population), as in credit scoring:
- numeric columns: reference quantile bins (deciles by default; edges are reference values
  (inverted CDF) and duplicates are dropped, so a column with few distinct values gets one bin per
  value), the outer bins open to -inf/+inf so out-of-range current values are counted, not dropped;
- categorical and boolean columns: one bin per reference level holding at least `min_level_share`
  of the reference rows, rarer levels and levels never seen in the reference share one "other" bin
  (a new category in the current batch therefore lands there and moves the index);
- missing values always get their own bin, so a block of missing values is a shift like any other.

Empty bins are floored at `epsilon` before the logarithm. Bands: < 0.10 stable, 0.10-0.25 moderate,
>= 0.25 significant.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

STABLE_BELOW = 0.10
SIGNIFICANT_FROM = 0.25
OTHER_LEVEL = "(other)"
MISSING_LEVEL = "(missing)"


class PsiBand(StrEnum):
    STABLE = "stable"
    MODERATE = "moderate"
    SIGNIFICANT = "significant"


def psi_band(value: float) -> PsiBand:
    """The credit-scoring band of a PSI value: <0.10 stable, 0.10-0.25 moderate, >=0.25 significant."""
    if value >= SIGNIFICANT_FROM:
        return PsiBand.SIGNIFICANT
    if value >= STABLE_BELOW:
        return PsiBand.MODERATE
    return PsiBand.STABLE


@dataclass(frozen=True)
class PsiResult:
    """PSI of one column with the bin shares it was computed from (for display and debugging)."""

    value: float
    bins: list[str]
    reference_share: list[float]
    current_share: list[float]

    @property
    def band(self) -> PsiBand:
        return psi_band(self.value)

    def top_bin(self) -> str:
        """The bin contributing most to the index."""
        ref, cur = np.asarray(self.reference_share), np.asarray(self.current_share)
        return self.bins[int(np.argmax(np.abs(cur - ref)))]


def psi_from_shares(reference_share: np.ndarray, current_share: np.ndarray, epsilon: float = 1e-4) -> float:
    """PSI of two share vectors over the same bins (each summing to 1); zeros floored at epsilon."""
    ref = np.maximum(np.asarray(reference_share, dtype=float), epsilon)
    cur = np.maximum(np.asarray(current_share, dtype=float), epsilon)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def _shares(codes: np.ndarray, n_bins: int) -> np.ndarray:
    if codes.size == 0:
        raise ValueError("cannot compute PSI on an empty sample")
    return np.bincount(codes, minlength=n_bins) / codes.size


def _as_float(values: pd.Series) -> np.ndarray:
    array = np.array(pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, na_value=np.nan))
    array[np.isinf(array)] = np.nan
    return array


def numeric_psi(
    reference: pd.Series, current: pd.Series, n_bins: int = 10, epsilon: float = 1e-4
) -> PsiResult:
    """PSI of a numeric column with reference quantile bins plus a missing-value bin."""
    ref, cur = _as_float(reference), _as_float(current)
    ref_present = ref[~np.isnan(ref)]
    if ref_present.size:
        quantiles = np.quantile(ref_present, np.linspace(0.0, 1.0, n_bins + 1)[1:-1], method="inverted_cdf")
        edges = np.unique(quantiles)
    else:
        edges = np.empty(0)
    n_value_bins = edges.size + 1
    missing_code = n_value_bins

    def encode(values: np.ndarray) -> np.ndarray:
        codes = np.searchsorted(edges, values, side="left")  # bin i holds (edges[i-1], edges[i]]
        codes[np.isnan(values)] = missing_code
        return codes

    ref_share = _shares(encode(ref), n_value_bins + 1)
    cur_share = _shares(encode(cur), n_value_bins + 1)
    labels = _interval_labels(edges) + [MISSING_LEVEL]
    return PsiResult(
        value=psi_from_shares(ref_share, cur_share, epsilon),
        bins=labels,
        reference_share=ref_share.tolist(),
        current_share=cur_share.tolist(),
    )


def _interval_labels(edges: np.ndarray) -> list[str]:
    if edges.size == 0:
        return ["(all values)"]
    bounds = ["-inf", *(f"{e:.6g}" for e in edges), "+inf"]
    return [f"({lo}, {hi}]" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]


def _as_levels(values: pd.Series) -> pd.Series:
    """Categorical/boolean values as strings, missing as a dedicated level."""
    missing = values.isna()
    as_text = values.astype(object).where(~missing, MISSING_LEVEL).map(str)
    return as_text


def categorical_psi(
    reference: pd.Series,
    current: pd.Series,
    min_level_share: float = 0.01,
    epsilon: float = 1e-4,
) -> PsiResult:
    """PSI of a categorical (or boolean) column: frequent reference levels, an "other" bin, missing."""
    ref, cur = _as_levels(reference), _as_levels(current)
    if ref.empty or cur.empty:
        raise ValueError("cannot compute PSI on an empty sample")
    ref_freq = ref.value_counts(normalize=True)
    kept = sorted(level for level, share in ref_freq.items() if share >= min_level_share or level == MISSING_LEVEL)
    if MISSING_LEVEL not in kept:
        kept.append(MISSING_LEVEL)
    bins = [*kept, OTHER_LEVEL]
    index = {level: i for i, level in enumerate(bins)}
    other = index[OTHER_LEVEL]

    def encode(levels: pd.Series) -> np.ndarray:
        return levels.map(index).fillna(other).to_numpy(dtype=np.int64)

    ref_share = _shares(encode(ref), len(bins))
    cur_share = _shares(encode(cur), len(bins))
    return PsiResult(
        value=psi_from_shares(ref_share, cur_share, epsilon),
        bins=bins,
        reference_share=ref_share.tolist(),
        current_share=cur_share.tolist(),
    )


def column_psi(
    reference: pd.Series,
    current: pd.Series,
    kind: str,
    n_bins: int = 10,
    min_level_share: float = 0.01,
    epsilon: float = 1e-4,
) -> PsiResult:
    """PSI of one column; `kind` is "numeric", "categorical" or "boolean" (as in metadata.json)."""
    if kind == "numeric":
        return numeric_psi(reference, current, n_bins=n_bins, epsilon=epsilon)
    if kind in ("categorical", "boolean"):
        return categorical_psi(reference, current, min_level_share=min_level_share, epsilon=epsilon)
    raise ValueError(f"unknown column kind {kind!r}: expected 'numeric', 'categorical' or 'boolean'")
