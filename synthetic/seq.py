"""Vectorised helpers for one-to-many expansions (applicant -> credits -> months)."""

from __future__ import annotations

import numpy as np


def expand(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of ``lengths`` rows: the group index of every row and its position in the group."""
    lengths = np.asarray(lengths, dtype=np.int64)
    total = int(lengths.sum())
    owner = np.repeat(np.arange(lengths.size), lengths)
    starts = np.cumsum(lengths) - lengths
    pos = np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)
    return owner, pos


def group_sum(owner: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(owner, weights=values, minlength=n)


def group_count(owner: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(owner, minlength=n).astype(float)


def group_max(owner: np.ndarray, values: np.ndarray, n: int, empty: float = 0.0) -> np.ndarray:
    out = np.full(n, -np.inf)
    np.maximum.at(out, owner, values)
    out[np.isinf(out)] = empty
    return out


def group_mean(owner: np.ndarray, values: np.ndarray, n: int, empty: float = np.nan) -> np.ndarray:
    ok = ~np.isnan(values)
    s = np.bincount(owner[ok], weights=values[ok], minlength=n)
    c = np.bincount(owner[ok], minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(c > 0, s / np.maximum(c, 1), empty)


def negbin_counts(rng: np.random.Generator, mean: np.ndarray, dispersion: float) -> np.ndarray:
    """Negative-binomial counts with the given means (variance = mean + mean^2 / dispersion)."""
    lam = rng.gamma(dispersion, np.asarray(mean, dtype=float) / dispersion)
    return rng.poisson(lam)
