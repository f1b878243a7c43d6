"""Identical stratified folds for every candidate, and out-of-fold predictions."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from models_ml.families import Candidate, FitContext, fit_candidate


def make_folds(y: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold id (0..n_folds-1) of every row; stratified on the target, shuffled with ``seed``."""
    folds = np.empty(len(y), dtype=int)
    skf = StratifiedKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    for k, (_, test) in enumerate(skf.split(np.zeros(len(y)), y)):
        folds[test] = k
    return folds


def stratified_subsample(y: np.ndarray, max_rows: int, seed: int) -> np.ndarray:
    """Sorted row indices of a class-stratified subsample of at most ``max_rows`` rows (all rows if fewer)."""
    n = len(y)
    if n <= max_rows:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    keep = []
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        k = max(1, int(round(max_rows * len(idx) / n)))
        keep.append(rng.choice(idx, size=min(k, len(idx)), replace=False))
    return np.sort(np.concatenate(keep))


@dataclass
class CVResult:
    candidate: Candidate
    oof: np.ndarray                  # uncalibrated out-of-fold probability of default
    n_rounds: list[int | None]       # boosting rounds kept by early stopping, per fold
    seconds: float

    @property
    def mean_rounds(self) -> int | None:
        rounds = [r for r in self.n_rounds if r is not None]
        return int(round(float(np.mean(rounds)))) if rounds else None


def cross_validate(c: Candidate, X: pd.DataFrame, y: np.ndarray, folds: np.ndarray, ctx: FitContext) -> CVResult:
    start = time.perf_counter()
    oof = np.full(len(y), np.nan)
    rounds: list[int | None] = []
    for k in np.unique(folds):
        test = folds == k
        model = fit_candidate(c, X.loc[~test], y[~test], ctx)
        oof[test] = model.predict_raw(X.loc[test])
        rounds.append(model.n_rounds)
    return CVResult(c, oof, rounds, time.perf_counter() - start)
