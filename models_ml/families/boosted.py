"""What LightGBM and XGBoost share: the native encoder, an inner stratified split for early stopping on the
smoothed validation AUC (``models_ml.early_stopping``), undersampling of the rows trained on only, optional
monotone constraints, SHAP contributions from the booster itself, a native model file + the encoder as JSON.

Training matrices are float32 (half the memory; the libraries bin them anyway); prediction matrices stay
float64, exactly as the API builds them. The binned training data of a fold is built once per fold and binning
parameters and shared by every candidate (``fold_cache``): it is binned on all the rows trained on before any
undersampling (LightGBM: the undersampled candidates train on a subset that reuses its bins).
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from imblearn.under_sampling import RandomUnderSampler
from sklearn.model_selection import train_test_split

from models_ml.data import FeatureSchema
from models_ml.early_stopping import SmoothedStopper
from models_ml.errors import ArtifactError
from models_ml.explain import Explanation
from models_ml.families.base import (
    INNER_VALIDATION,
    LARGE_DATA,
    SMALL_DATA,
    Candidate,
    FitContext,
    FittedModel,
    ModelFamily,
)
from models_ml.families.fold_cache import FoldData, fingerprint
from models_ml.preprocessing import NativeEncoder
from models_ml.settings import TrainingProfile
from models_ml.treeshap import ShapTable

THREAD_SETTINGS = (1, 2)  # threads of a prediction: small batches, large batches (BoostedModel.threads)
TRAIN_DTYPE = np.float32
_UNBUILT = object()  # BoostedModel's SHAP table before its first use
log = logging.getLogger(__name__)


class BoostedModel(FittedModel):
    """A LightGBM or XGBoost booster with its encoder, safe to share between threads.

    Nothing is changed on a booster after construction: LightGBM takes its thread count per call, and
    XGBoost (whose thread count is a booster parameter) gets one booster copy per thread setting,
    configured here once. Setting a parameter on a booster that other threads predict with races
    (`XGBoostError ... need_configuration_`, crashes), so it must never happen after this.
    """

    def __init__(self, family: str, encoder: NativeEncoder, booster: Any, n_rounds: int,
                 validation_curve: list[float] | None = None) -> None:
        from models_ml.families import get_family

        self.family = family
        self.encoder = encoder
        self.booster = booster
        self.n_rounds = n_rounds
        self.validation_curve = validation_curve or []  # inner-validation AUC after each round
        self.monotone: list[int] = []  # constraint per matrix column (HC_MONOTONE=auto), [] when off
        self._impl = get_family(family)
        assert isinstance(self._impl, BoostedFamily)
        self._per_thread = self._impl.thread_boosters(booster)
        self._shap_table: ShapTable | None | object = _UNBUILT

    def matrix(self, X: pd.DataFrame) -> np.ndarray:
        return self.encoder.transform(X)

    def threads(self, n_rows: int) -> int:
        """One thread for small batches (a single applicant scores in milliseconds), two for large ones."""
        return THREAD_SETTINGS[0] if n_rows < 2000 else THREAD_SETTINGS[1]

    def predict_raw(self, X: pd.DataFrame) -> np.ndarray:
        return self.predict_matrix(self.matrix(X))

    def predict_matrix(self, M: np.ndarray, contributions: bool = False) -> np.ndarray:
        """Raw probabilities of the float64 matrix M, or with ``contributions`` its SHAP values (rows x (columns +
        1), the last column the bias, log-odds): from the tabled TreeSHAP when the family tables this model
        (`models_ml.treeshap`: the library's values, XGBoost's up to its float32 rounding; ~4-5x faster), else
        the library's."""
        if contributions:
            table = self.shap_table()
            if table is not None:
                return table.contributions(M)
        return self.library_predict(M, contributions)

    def library_predict(self, M: np.ndarray, contributions: bool = False) -> np.ndarray:
        """`predict_matrix` by the library itself (contributions from its own TreeSHAP)."""
        nthread = self.threads(len(M))
        return self._impl.predict(self._per_thread.get(nthread, self.booster), self.encoder, M, self.n_rounds,
                                  nthread, contributions)

    def shap_table(self) -> ShapTable | None:
        """The model's TreeSHAP table, built at the first call (~1 s at full volume; two threads calling
        first may both build it, each gets an equal table); None when the family does not table it or the
        build fails (logged: the library's TreeSHAP then serves, a model is never refused for it)."""
        if self._shap_table is _UNBUILT:
            try:
                table = self._impl.shap_table(self.booster, self.encoder, self.n_rounds)
                if table is not None:  # its kernel compiled (or loaded from numba's cache) now, checked once
                    table.contributions(np.full((1, table.n_features), np.nan))
                self._shap_table = table
            except Exception as exc:  # noqa: BLE001 - an optimisation: the library's values are still right
                log.warning("SHAP table of this %s model not built (%s: %s): the library's TreeSHAP is used",
                            self.family, type(exc).__name__, exc)
                self._shap_table = None
        return self._shap_table  # type: ignore[return-value]


class BoostedFamily(ModelFamily):
    """Shared fit / explain / save / load of the gradient-boosting families; subclasses bind a library."""

    pooled_early_stopping = True
    state_keys: ClassVar[tuple[str, ...]] = ("encoder", "n_rounds")
    model_file: ClassVar[str]
    rate_param: ClassVar[str]                     # name of the learning-rate parameter
    size_param: ClassVar[str]                     # the tree-size parameter scaled with the data
    size_by_rows: ClassVar[tuple[Any, Any]]       # its value below SMALL_DATA, below LARGE_DATA rows
    bytes_per_value: ClassVar[float] = 1.5        # memory of the cached fold data per training value (estimate)

    # --- library specifics ------------------------------------------------------------------------
    @abstractmethod
    def binning_params(self, c: Candidate, ctx: FitContext) -> dict[str, Any]:
        """What the binned data depends on besides the rows (part of the cache key)."""

    @abstractmethod
    def bin_train(self, c: Candidate, M: np.ndarray, y: np.ndarray, encoder: NativeEncoder, ctx: FitContext) -> Any:
        """Binned training data of (M, y)."""

    @abstractmethod
    def bin_valid(self, c: Candidate, M: np.ndarray, y: np.ndarray, train: Any, encoder: NativeEncoder,
                  ctx: FitContext) -> Any:
        """Binned validation data of (M, y) with the bins of ``train``."""

    @abstractmethod
    def bin_subset(self, c: Candidate, data: FoldData, positions: np.ndarray, M: np.ndarray, y: np.ndarray,
                   valid: Any, ctx: FitContext) -> tuple[Any, Any]:
        """(training, validation) data of the rows ``positions`` of ``data.train`` (whose values are M, y),
        with the fold's bins; ``valid()`` gives the (matrix, target) of the inner validation rows if needed."""

    @abstractmethod
    def train(self, c: Candidate, ctx: FitContext, train: Any, valid: Any, y_train: np.ndarray, monotone: list[int],
              max_rounds: int, stopper: SmoothedStopper) -> tuple[Any, int]:
        """Boost; return (booster, rounds it has)."""

    @abstractmethod
    def predict(self, booster: Any, encoder: NativeEncoder, M: np.ndarray, n_rounds: int | None, nthread: int,
                contributions: bool) -> np.ndarray:
        """Raw probability (or SHAP contributions + bias column, log-odds) of the float64 matrix M."""

    def thread_boosters(self, booster: Any) -> dict[int, Any]:
        return {}

    def shap_table(self, booster: Any, encoder: NativeEncoder, n_rounds: int | None) -> ShapTable | None:
        """The tabled TreeSHAP of ``booster`` (`models_ml.treeshap`) from its trees (`tree_tables`), or None: the
        library's TreeSHAP is used."""
        tables = self.tree_tables(booster, n_rounds)
        if tables is None:
            return None
        n_features = len(encoder.feature_names)
        # the bias column does not depend on the row: the library's, from one row of missing values
        bias = float(self.predict(booster, encoder, np.full((1, n_features), np.nan), n_rounds, 1, True)[0, -1])
        return tables(n_features, bias)

    def tree_tables(self, booster: Any, n_rounds: int | None) -> Callable[[int, float], ShapTable | None] | None:
        """``(n_features, bias) -> table`` of the booster's first ``n_rounds`` trees (a `models_ml.treeshap`
        parser bound to its trees), or None when the family has no parser."""
        return None

    def check_booster(self, booster: Any, encoder: NativeEncoder, path: Path) -> None:
        """Raise `ArtifactError` when the loaded booster at ``path`` does not take the encoder's columns."""

    @abstractmethod
    def save_booster(self, booster: Any, n_rounds: int | None, path: Path) -> None: ...

    @abstractmethod
    def load_booster(self, path: Path) -> Any: ...

    # --- the family interface ---------------------------------------------------------------------
    def params(self, n_rows: int, profile: TrainingProfile) -> dict[str, Any]:
        p = dict(self.default_params)
        if n_rows < SMALL_DATA:
            p.update({self.size_param: self.size_by_rows[0], self.rate_param: 0.02})
        elif n_rows < LARGE_DATA:
            p.update({self.size_param: self.size_by_rows[1], self.rate_param: 0.05})
        if profile.learning_rate is not None:
            p[self.rate_param] = profile.learning_rate
        return p

    def fold_data(self, c: Candidate, X: pd.DataFrame, y: np.ndarray, ctx: FitContext, early_stopping: bool) -> FoldData:
        """Encoder, inner split and binned data of this fold: from ``ctx.data_cache`` or built (then cached)."""
        key = (self.name, fingerprint(X, y), ctx.seed, early_stopping,
               tuple((f.name, f.type) for f in ctx.schema.features), tuple(sorted(self.binning_params(c, ctx).items())))

        def build() -> FoldData:
            encoder = NativeEncoder(ctx.schema).fit(X)
            M = encoder.transform(X, dtype=TRAIN_DTYPE)
            if early_stopping:
                idx_tr, idx_va = train_test_split(np.arange(len(y)), test_size=INNER_VALIDATION, stratify=y,
                                                  random_state=ctx.seed)
                idx_tr, idx_va = np.sort(idx_tr), np.sort(idx_va)
                train = self.bin_train(c, M[idx_tr], y[idx_tr], encoder, ctx)
                valid = self.bin_valid(c, M[idx_va], y[idx_va], train, encoder, ctx)
            else:
                idx_tr, idx_va = np.arange(len(y)), None
                train, valid = self.bin_train(c, M, y, encoder, ctx), None
            return FoldData(encoder, idx_tr, idx_va, train, valid, nbytes=int(self.bytes_per_value * M.size))

        return build() if ctx.data_cache is None else ctx.data_cache.get_or_build(key, build)

    def fit(self, c: Candidate, X: pd.DataFrame, y: np.ndarray, ctx: FitContext,
            n_rounds: int | None = None) -> BoostedModel:
        """Without ``n_rounds``: early stopping (smoothed validation AUC, see ``early_stopping``) on a stratified
        15 % inner split of (X, y); with ``n_rounds``: exactly that many rounds on all of (X, y)."""
        y = np.asarray(y).astype(int)
        data = self.fold_data(c, X, y, ctx, early_stopping=n_rounds is None)
        rows, train, valid = data.idx_tr, data.train, data.valid
        if c.imbalance == "undersample":
            kept = undersampled_positions(y[data.idx_tr], ctx)
            rows = data.idx_tr[kept]

            def valid_rows() -> tuple[np.ndarray, np.ndarray]:
                assert data.idx_va is not None
                return data.encoder.transform(X.iloc[data.idx_va], dtype=TRAIN_DTYPE), y[data.idx_va]

            def subset() -> tuple[Any, Any]:
                M = data.encoder.transform(X.iloc[rows], dtype=TRAIN_DTYPE)
                return self.bin_subset(c, data, kept, M, y[rows], valid_rows, ctx)

            train, valid = data.derive(("undersample", ctx.undersample_ratio), subset)
        monotone: list[int] = []
        if ctx.monotone == "auto":  # trends of the rows this model learns from, never of a test fold
            from models_ml.monotone import monotone_directions

            monotone = monotone_directions(data.encoder.transform(X.iloc[rows]), y[rows],
                                           data.encoder.categorical_indices)
        prof = ctx.profile
        stopper = SmoothedStopper(prof.early_stopping_rounds, prof.smoothing_window, prof.min_boost_rounds)
        max_rounds = prof.max_boost_rounds if n_rounds is None else n_rounds
        booster, boosted = self.train(c, ctx, train, valid, y[rows], monotone, max_rounds, stopper)
        best = stopper.rounds_to_keep() if valid is not None else max_rounds
        fitted = BoostedModel(self.name, data.encoder, booster, int(min(best, boosted)), stopper.history)
        fitted.monotone = monotone
        return fitted

    def explain(self, model: FittedModel, X: pd.DataFrame, schema: FeatureSchema,
                extras: dict[str, Any]) -> Explanation:
        assert isinstance(model, BoostedModel)
        return self.explain_matrix(model, model.matrix(X), X.reset_index(drop=True), schema)

    def explain_matrix(self, model: BoostedModel, matrix: np.ndarray, data: pd.DataFrame,
                       schema: FeatureSchema) -> Explanation:
        contrib = np.asarray(model.predict_matrix(matrix, contributions=True), dtype=float)
        base = float(contrib[0, -1]) if len(contrib) else 0.0
        return Explanation(contrib[:, :-1], base, schema.names, data, self.output_scale)

    def save(self, model: FittedModel, directory: Path) -> tuple[list[str], dict[str, Any]]:
        assert isinstance(model, BoostedModel)
        self.save_booster(model.booster, model.n_rounds, Path(directory) / self.model_file)
        return [self.model_file], {"encoder": model.encoder.to_dict(), "n_rounds": model.n_rounds}

    def load(self, directory: Path, prep: dict[str, Any], schema: FeatureSchema) -> FittedModel:
        path = Path(directory) / self.model_file
        if not path.is_file():
            raise ArtifactError(f"model file {path} is missing")
        try:
            encoder = NativeEncoder.from_dict(prep["encoder"])
            n_rounds = int(prep["n_rounds"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ArtifactError(f"{Path(directory) / 'preprocessing.json'}: the encoder or n_rounds of the "
                                f"{self.name} model is missing or malformed ({exc})") from exc
        booster = self.load_booster(path)
        self.check_booster(booster, encoder, path)
        return BoostedModel(self.name, encoder, booster, n_rounds)


def undersampled_positions(y: np.ndarray, ctx: FitContext) -> np.ndarray:
    """Sorted positions of the rows random undersampling of the non-defaulters keeps (seeded)."""
    sampler = RandomUnderSampler(sampling_strategy=ctx.undersample_ratio, random_state=ctx.seed)
    idx_s, _ = sampler.fit_resample(np.arange(len(y)).reshape(-1, 1), y)
    return np.sort(idx_s.ravel())


def scale_pos_weight(c: Candidate, y: np.ndarray) -> dict[str, float]:
    if c.imbalance != "class_weight":
        return {}
    return {"scale_pos_weight": float(np.sum(y == 0) / max(np.sum(y == 1), 1))}
