"""Fit the joint structure of a table from real rows, as summary statistics only.

- **Pattern blocks**: columns that are on/off together (the housing block present or missing, the
  document flags) become one categorical column of bit strings. Only patterns seen in at least
  :data:`PRIVACY_MIN` rows are kept; the rest is pooled as ``other``, drawn column by column from the
  pooled rates (stored only when the pool itself has 2 x :data:`PRIVACY_MIN` rows; a column's rare set or
  unset rows share the rate of a pool of such columns: `pooled_rates`).
- **Gaussian copula**: every variable (a column's value, its presence, a categorical column with its
  levels ranked) is turned into normal scores (average ranks -> inverse normal CDF); the stored
  statistic is their correlation matrix, each entry computed on the rows where both variables are
  present and set to 0 when fewer than :data:`PRIVACY_MIN` rows support it.

Nothing computed on fewer than :data:`PRIVACY_MIN` rows is ever stored.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.special import ndtri
from scipy.stats import rankdata

from synthetic.stats import nearest_correlation, phi

#: The fewest real rows behind any stored group statistic (pattern, conditional group, correlation).
PRIVACY_MIN = 50
OTHER = "other"
MISSING_SUFFIX = ":missing"
CORR_DECIMALS = 4


def rare_pools(rare: list[tuple[int, Any]]) -> tuple[list[list[tuple[int, Any]]], list[tuple[int, Any]]]:
    """``rare`` ((rows, key) of the cells under PRIVACY_MIN rows, rarest first) cut into pools of at least
    PRIVACY_MIN rows, a short last pool joining the one before; returns the pools and the cells left in no pool
    (all of them when they make fewer than PRIVACY_MIN rows in all, else none)."""
    pools: list[list[tuple[int, Any]]] = []
    current: list[tuple[int, Any]] = []
    for item in rare:
        current.append(item)
        if sum(c for c, _ in current) >= PRIVACY_MIN:
            pools.append(current)
            current = []
    if current and pools:
        pools[-1] += current
        current = []
    return pools, current


def grid_units(mass: np.ndarray, rows: int) -> np.ndarray:
    """Cell shares ``mass`` (summing to 1) as whole steps of 1 / ``rows`` by largest remainders (ties: the first
    cell), so the steps still sum to ``rows``: the rounding of `on_grid` and of a fitted group's `grid_shares`."""
    quota = np.asarray(mass, dtype=float) * rows
    units = np.floor(quota + 1e-9)
    left = int(rows - units.sum())
    if left > 0:
        units[np.argsort(-(quota - units), kind="stable")[:left]] += 1
    return units


def band(rows: int) -> int:
    """``rows`` rounded down to a multiple of PRIVACY_MIN (at least PRIVACY_MIN): the grid a conditional group's
    or a tree leaf's shares sit on (stop 31: `synthetic.fit.banded_group`, `synthetic.gibbs.fit_tree`), whose
    rows are not written, so every count from there to PRIVACY_MIN - 1 more fits them alike."""
    return max(PRIVACY_MIN, PRIVACY_MIN * (int(rows) // PRIVACY_MIN))


def share_on_grid(share: float, rows: int) -> float:
    """One share (a missing share) as a whole multiple of 1 / `band` (``rows``), written with 6 decimals: the rounding
    of `grid_units` of the share and its complement (stop 31)."""
    grid = band(rows)
    return round(float(grid_units(np.asarray([share, 1.0 - share]), grid)[0]) / grid, 6)


def on_grid(shares: np.ndarray, rows: int, pools: list[list[int]] | tuple = ()) -> np.ndarray:
    """``shares`` (summing to 1) as whole multiples of 1 / ``rows`` by largest remainders (ties: the first
    cell), so they still sum to 1: each cell alone, a pool's cells together (its total on the grid, split in
    the cells' proportions). Exact shares of D rows tell D to a search for their common denominator; on a grid
    of 1 / ``rows`` every count from ``rows`` up fits them (each within a step of a whole count)."""
    shares = np.asarray(shares, dtype=float)
    pooled = {j for pool in pools for j in pool}
    cells = [[j] for j in np.flatnonzero(shares > 0) if j not in pooled] + [list(p) for p in pools]
    units = grid_units(np.asarray([shares[c].sum() for c in cells]), rows)
    out = np.zeros_like(shares)
    for cell, u in zip(cells, units, strict=True):
        out[cell] = shares[cell] / shares[cell].sum() * u / rows
    return out


def common_denominators(shares: list[float], n: int, grid: int | None = None, decimals: int = 8) -> list[int]:
    """The search `on_grid` defends against (used by the privacy tests on the fitted file): the row counts D from
    PRIVACY_MIN to ``n`` of which every share can be a count, ``round(share * D)`` rows within the rounding of
    shares written with ``decimals`` decimals, or within one step of a ``grid`` of 1 / grid (a ``share_grid``:
    shares rounded to multiples of 1 / grid by largest remainders, where every D from the grid up fits)."""
    d = np.arange(PRIVACY_MIN, n + 1, dtype=float)
    ok = np.ones(d.size, dtype=bool)
    exact = 0.5 * 10.0**-decimals * d + 1e-9
    for p in shares:
        tol = exact if grid is None else np.maximum(d / grid, exact)
        ok &= np.abs(p * d - np.round(p * d)) <= tol
    return [int(v) for v in d[ok]]


def pattern_codes(df: pd.DataFrame, columns: list[str], on: str) -> tuple[pd.Series, dict[str, Any]]:
    """Bit strings over ``columns`` (``on``: ``"present"`` = not missing, ``"one"`` = value 1), rare
    patterns (fewer than PRIVACY_MIN rows) replaced by ``other``; and the pooled per-column rates of
    the ``other`` rows (`pooled_rates`; zeros when they are fewer than 2 x PRIVACY_MIN)."""
    bits = df[columns].notna() if on == "present" else (df[columns] == 1)
    codes = bits.astype(int).astype(str).agg("".join, axis=1)
    counts = codes.value_counts()
    rare = codes.map(counts) < PRIVACY_MIN
    codes = codes.where(~rare, OTHER)
    n_other = int(rare.sum())
    kept = {str(p): int(c) for p, c in counts.items() if c >= PRIVACY_MIN}
    other: dict[str, Any] = {"rates": [0.0] * len(columns)}
    if n_other >= 2 * PRIVACY_MIN:  # (so no column is rare on both sides)
        other["rates"], pools = pooled_rates(bits[rare].sum().to_numpy(dtype=np.int64), n_other)
        other["n"] = n_other
        if pools:
            other["pools"] = pools
    return codes, {"columns": columns, "on": on, "counts": kept, "other": other}


def pooled_rates(ones: np.ndarray, n: int) -> tuple[list[float], list[list[int]]]:
    """Per-column rates of ``ones`` (rows with the column's bit set, of ``n``) that tell no cell of 1 to
    PRIVACY_MIN - 1 rows (stop 30; the file of stop 29 told 28, e.g. the 2 rare document patterns with
    `FLAG_DOCUMENT_4`): the columns whose set (unset) rows are that rare share the rate of a pool of such columns
    with PRIVACY_MIN set (unset) rows in all (`rare_pools`, rarest first, the pool's rows split evenly); when
    they make fewer in all their rate is written off (0 / 1). Returns the rates (6 decimals) and the pools
    (column indices)."""
    rates = np.asarray(ones, dtype=float) / n
    pools: list[list[int]] = []
    for side in (1, 0):
        cells = ones if side else n - np.asarray(ones)
        rare = sorted((int(c), j) for j, c in enumerate(cells) if 0 < c < PRIVACY_MIN)
        side_pools, left = rare_pools(rare)
        for pool in side_pools:
            share = sum(c for c, _ in pool) / len(pool) / n
            rates[[j for _, j in pool]] = share if side else 1.0 - share
            pools.append(sorted(j for _, j in pool))
        rates[[j for _, j in left]] = 0.0 if side else 1.0
    return [round(float(r), 6) for r in rates], sorted(pools)


def frequent_combinations(df: pd.DataFrame, columns: list[str]) -> tuple[pd.Series, dict[str, int]]:
    """``"a|b"`` value combinations of ``columns`` seen on at least PRIVACY_MIN rows (the rest ``other``,
    missing values never combined) and their counts."""
    parts = [df[c].astype(object).map(lambda v: repr(float(v)) if pd.notna(v) else None) for c in columns]
    codes = parts[0]
    for p in parts[1:]:
        codes = codes + "|" + p
    codes = codes.where(df[columns].notna().all(axis=1))
    counts = codes.value_counts()
    kept = counts[counts >= PRIVACY_MIN]
    return codes.where(codes.isin(kept.index), OTHER), {str(k): int(v) for k, v in kept.items()}


def normal_scores(x: np.ndarray) -> np.ndarray:
    """Inverse-normal of average ranks over the non-missing values (NaN stays NaN)."""
    out = np.full(x.shape, np.nan)
    ok = ~np.isnan(x)
    k = int(ok.sum())
    if k:
        out[ok] = ndtri((rankdata(x[ok], method="average") - 0.5) / k)
    return out


def level_order(levels: pd.Series, key: pd.Series) -> list[str]:
    """Levels sorted by the mean of ``key`` (a normal score) over their rows; levels seen in fewer than
    PRIVACY_MIN rows (or with no key) go last, alphabetically."""
    frame = pd.DataFrame({"lv": levels.astype(object), "key": key})
    frame = frame[frame.lv.notna()]
    grp = frame.groupby("lv").key.agg(["mean", "count"])
    ok = grp[(grp["count"] >= PRIVACY_MIN) & grp["mean"].notna()].sort_values("mean")
    rest = sorted(str(v) for v in grp.index if v not in ok.index)
    return [str(v) for v in ok.index] + rest


def fit_copula(
    df: pd.DataFrame,
    values: list[str],
    categoricals: list[str],
    missing: list[str],
    order_key: str,
    order_keys: dict[str, pd.Series] | None = None,
) -> dict[str, Any]:
    """Correlation of normal scores of ``values`` (numeric columns), ``categoricals`` (levels ranked by
    the mean normal score of ``order_key``, or of ``order_keys[column]``) and the presence of the
    ``missing`` columns."""
    key = pd.Series(normal_scores(pd.to_numeric(df[order_key], errors="coerce").to_numpy(float)), df.index)
    order_keys = order_keys or {}
    names: list[str] = []
    cols: list[np.ndarray] = []
    orders: dict[str, list[str]] = {}
    for c in values:
        names.append(c)
        cols.append(normal_scores(pd.to_numeric(df[c], errors="coerce").to_numpy(float)))
    for c in categoricals:
        order = level_order(df[c], order_keys.get(c, key))
        orders[c] = order
        pos = df[c].astype(object).map({lv: i for i, lv in enumerate(order)})
        names.append(c)
        cols.append(normal_scores(pd.to_numeric(pos, errors="coerce").to_numpy(float)))
    for c in missing:
        names.append(c + MISSING_SUFFIX)
        cols.append(normal_scores(df[c].notna().to_numpy(float)))
    z = np.column_stack(cols)
    corr, support = pairwise_corr(z)
    corr[support < PRIVACY_MIN] = 0.0
    np.fill_diagonal(corr, 1.0)
    corr = calibrate(corr, z)
    used = support[np.abs(corr) > 0]
    return {
        "variables": names,
        "orders": orders,
        "corr": np.round(corr, CORR_DECIMALS).tolist(),
        "n": int(used.min()) if used.size else int(len(df)),
    }


def calibrate(
    target: np.ndarray, z: np.ndarray, rounds: int = 4, n: int = 20_000, seed: int = 0
) -> np.ndarray:
    """The latent correlation whose draws, once cut into each variable's discrete levels (ties,
    atoms, presence flags), show the ``target`` correlation of normal scores: cutting weakens
    correlations (two 0/1 flags that always agree have a score correlation well below their latent
    one), so the latent matrix is raised until the simulated scores match. Only aggregate quantities
    enter (each variable's sorted score values are used in memory, never stored)."""
    levels = [np.sort(col[~np.isnan(col)]) for col in z.T]
    rng = np.random.default_rng(seed)
    latent = target.copy()
    active = target != 0
    for _ in range(rounds):
        chol = np.linalg.cholesky(nearest_correlation(latent))
        u = phi(rng.standard_normal((n, target.shape[0])) @ chol.T)
        sim = np.column_stack(
            [lv[np.minimum((u[:, i] * lv.size).astype(np.int64), lv.size - 1)] if lv.size else u[:, i]
             for i, lv in enumerate(levels)]
        )  # fmt: skip
        got = np.nan_to_num(np.corrcoef(sim, rowvar=False))
        latent = np.where(active, np.clip(latent + (target - got), -0.995, 0.995), 0.0)
        np.fill_diagonal(latent, 1.0)
    return nearest_correlation(latent)


def pairwise_corr(z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pearson correlations over pairwise-complete rows (matrix form) and the number of rows behind each;
    a variable constant on the shared rows gets 0."""
    m = (~np.isnan(z)).astype(float)
    z0 = np.nan_to_num(z)
    n = m.T @ m
    sx = z0.T @ m  # sum of x over rows where y is present
    sxx = (z0 * z0).T @ m
    sxy = z0.T @ z0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = n * sxy - sx * sx.T
        var = (n * sxx - sx * sx) * (n * sxx.T - sx.T * sx.T)
        corr = np.where(var > 0, cov / np.sqrt(np.where(var > 0, var, 1.0)), 0.0)
    return np.clip(corr, -1.0, 1.0), n.astype(np.int64)
