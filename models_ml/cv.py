"""Identical stratified folds for every candidate, and out-of-fold predictions."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.model_selection import StratifiedKFold

from models_ml import memory
from models_ml.families import INNER_VALIDATION, Candidate, FitContext, FittedModel, fit_candidate, get_family

REFIT_BELOW_ROWS = 30_000  # boosted models are refit on whole training folds below this many rows


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


def pooled_rounds(curves: list[list[float]], window: int, min_rounds: int) -> int | None:
    """One number of boosting rounds for every fold: the argmax of the fold-averaged, smoothed
    inner-validation AUC curve (over the rounds every fold reached). Pooling the folds' inner validation
    splits removes most of the noise of one small split, and never looks at the outer test folds."""
    if not curves or any(len(c) == 0 for c in curves):
        return None
    length = min(len(c) for c in curves)
    mean = np.mean([np.asarray(c[:length], dtype=float) for c in curves], axis=0)
    kernel = np.ones(min(window, length))
    smoothed = np.convolve(mean, kernel, mode="full")[:length] / np.minimum(np.arange(1, length + 1), len(kernel))
    start = min(max(min_rounds, 1), length) - 1
    return int(start + np.argmax(smoothed[start:]) + 1)


def cross_validate(c: Candidate, X: pd.DataFrame, y: np.ndarray, folds: np.ndarray, ctx: FitContext,
                   on_fold: Callable[[int], None] | None = None) -> CVResult:
    """Out-of-fold predictions of ``c`` on ``folds``; ``on_fold(1)`` after each fold's fit (progress)."""
    start = time.perf_counter()
    oof = np.full(len(y), np.nan)
    models: list[FittedModel] = []
    for k in np.unique(folds):
        test = folds == k
        models.append(fit_candidate(c, X.loc[~test], y[~test], ctx))
        memory.release()  # the fold's frame and matrices are freed: do not let them add to the next fold's
        if on_fold is not None:
            on_fold(1)
    if get_family(c.family).pooled_early_stopping:
        common = pooled_rounds([m.validation_curve for m in models],  # type: ignore[attr-defined]
                               ctx.profile.smoothing_window, ctx.profile.min_boost_rounds)
        if common is not None:
            for m in models:
                m.n_rounds = common
            if len(y) < REFIT_BELOW_ROWS:
                # small data: the 15 % early-stopping split is too precious to leave out; refit every fold on
                # all its training rows with proportionally more rounds
                rounds = max(1, int(round(common / (1 - INNER_VALIDATION))))
                models = [fit_candidate(c, X.loc[folds != k], y[folds != k], ctx, n_rounds=rounds)
                          for k in np.unique(folds)]
    for k, model in zip(np.unique(folds), models, strict=True):
        test = folds == k
        oof[test] = model.predict_raw(X.loc[test])
    return CVResult(c, oof, [m.n_rounds for m in models], time.perf_counter() - start)
