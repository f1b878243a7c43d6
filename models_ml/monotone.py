"""``HC_MONOTONE=auto``: monotone constraints for LightGBM / XGBoost from the trends found on the training rows.

For each numeric (and boolean) feature the default rate is computed on decile bins of the training rows
(fewer on small data; missing values left aside); a feature has a *clear trend* when the rank correlation between the bin order
and the default rate is at least ``min_rho`` in absolute value and its information value at least
``min_iv``. Such a feature is constrained to that direction (+1: the predicted risk can only rise with the
value, -1: only fall); every other feature (and every categorical one) is left free (0). Computed inside each
training fold, so the test fold never shapes the constraints.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import spearmanr

MIN_RHO = 0.9
MIN_IV = 0.02


def trend_direction(v: np.ndarray, y: np.ndarray, n_bins: int | None = None, min_rho: float = MIN_RHO,
                    min_iv: float = MIN_IV) -> int:
    """+1 / -1 for a clear rising / falling default rate across the value's quantile bins, 0 otherwise.
    Bins: deciles, fewer on small data (about 25 defaulters per bin at least, 3 bins at least)."""
    if n_bins is None:
        n_bins = int(np.clip(np.nansum(y) // 25, 3, 10))
    ok = ~np.isnan(v)
    if ok.sum() < 2 * n_bins or np.nanmin(v) == np.nanmax(v):
        return 0
    x, t = v[ok], y[ok]
    edges = np.unique(np.quantile(x, np.linspace(0, 1, n_bins + 1))[1:-1])
    codes = np.searchsorted(edges, x, side="right")
    counts = np.bincount(codes, minlength=len(edges) + 1)
    events = np.bincount(codes, weights=t, minlength=len(edges) + 1)
    keep = counts > 0
    if keep.sum() < 2:
        return 0
    rate = events[keep] / counts[keep]
    pos, neg = events[keep] + 0.5, counts[keep] - events[keep] + 0.5
    pb, pg = pos / pos.sum(), neg / neg.sum()
    if float(np.sum((pg - pb) * np.log(pg / pb))) < min_iv:
        return 0
    if len(rate) == 2:  # a flag: the direction of its one step
        rho = float(np.sign(rate[1] - rate[0]))
    else:
        rho = float(np.nan_to_num(spearmanr(np.arange(len(rate)), rate).statistic))
    return int(np.sign(rho)) if abs(rho) >= min_rho else 0


def monotone_directions(M: np.ndarray, y: np.ndarray, categorical: Sequence[int]) -> list[int]:
    """One constraint per column of the booster matrix ``M`` (0 for categorical columns)."""
    y = np.asarray(y, dtype=float)
    cats = set(categorical)
    return [0 if j in cats else trend_direction(M[:, j], y) for j in range(M.shape[1])]
