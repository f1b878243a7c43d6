"""The ``xgboost`` family: XGBoost (histogram trees) with native categorical and missing-value handling; JSON
model file. The training ``DMatrix`` of a fold (and the histogram index XGBoost builds in it) is shared by the
candidates."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import xgboost as xgb

from models_ml.early_stopping import SmoothedStopper, XGBoostCallback
from models_ml.errors import ArtifactError
from models_ml.families.base import Candidate, FitContext
from models_ml.families.boosted import THREAD_SETTINGS, BoostedFamily, scale_pos_weight
from models_ml.families.fold_cache import FoldData
from models_ml.preprocessing import NativeEncoder
from models_ml.treeshap import ShapTable, from_xgboost_json

MAX_BIN = 256


def feature_types(encoder: NativeEncoder, n_columns: int) -> list[str]:
    cats = set(encoder.categorical_indices)
    return ["c" if j in cats else "q" for j in range(n_columns)]


def xgb_dmatrix(M: np.ndarray, encoder: NativeEncoder, label: np.ndarray | None = None,
                weight: np.ndarray | None = None) -> xgb.DMatrix:
    """The prediction matrix: float64 values with their columns' types, one thread to build (a single applicant
    is the common case). No feature names: setting ~480 names on every matrix and checking them against the
    booster's at every prediction took more than half of a small batch's prediction (1.3 -> 0.5 ms for 8 rows,
    contributions 1.5 -> 0.8 ms). The columns are the encoder's by construction, and a loaded booster's names
    are checked against the encoder's once (`XGBoostFamily.check_booster`)."""
    return xgb.DMatrix(M, label=label, weight=weight, feature_types=feature_types(encoder, M.shape[1]),
                       enable_categorical=True, missing=np.nan, nthread=1)


class XGBoostFamily(BoostedFamily):
    name = "xgboost"
    model_file = "model.json"
    rate_param = "eta"
    size_param = "max_depth"
    size_by_rows = (2, 4)
    default_params: ClassVar[dict[str, Any]] = {"max_depth": 5, "min_child_weight": 10, "colsample_bytree": 0.3,
                                                "reg_lambda": 10.0, "eta": 0.05}
    search_space: ClassVar[dict[str, list[Any]]] = {"max_depth": [2, 3, 4, 6], "min_child_weight": [1, 10, 30],
                                                    "colsample_bytree": [0.1, 0.2, 0.3, 0.5],
                                                    "reg_lambda": [1.0, 10.0, 30.0]}
    summary = "gradient-boosted trees (XGBoost, histogram), native categories and missing values, early stopping"

    bytes_per_value = 6.0  # the float32 values stay in the DMatrix, besides its histogram index

    def binning_params(self, c: Candidate, ctx: FitContext) -> dict[str, Any]:
        return {"max_bin": MAX_BIN}

    def train_params(self, c: Candidate, ctx: FitContext, y: np.ndarray) -> dict[str, Any]:
        p = {**self.default_params, **c.params}
        return {
            "objective": "binary:logistic", "eval_metric": "auc", "eta": p["eta"],
            "max_depth": p["max_depth"], "min_child_weight": p["min_child_weight"],
            "colsample_bytree": p["colsample_bytree"], "reg_lambda": p["reg_lambda"], "subsample": 0.8,
            "tree_method": "hist", "max_bin": MAX_BIN, "max_cat_to_onehot": 4, "nthread": ctx.n_jobs,
            "seed": ctx.seed, **scale_pos_weight(c, y),
        }

    def _matrix(self, M: np.ndarray, y: np.ndarray, encoder: NativeEncoder, ctx: FitContext) -> xgb.DMatrix:
        # a DMatrix (not a QuantileDMatrix, whose sketch costs twice as much): XGBoost builds its histogram index on
        # the first training round and keeps it in the DMatrix, so the candidates sharing the fold reuse it
        return xgb.DMatrix(M, label=y, feature_names=encoder.feature_names,
                           feature_types=feature_types(encoder, M.shape[1]), enable_categorical=True,
                           missing=np.nan, nthread=ctx.n_jobs)

    def bin_train(self, c: Candidate, M: np.ndarray, y: np.ndarray, encoder: NativeEncoder, ctx: FitContext) -> Any:
        return self._matrix(M, y, encoder, ctx)

    def bin_valid(self, c: Candidate, M: np.ndarray, y: np.ndarray, train: Any, encoder: NativeEncoder,
                  ctx: FitContext) -> Any:
        return self._matrix(M, y, encoder, ctx)

    def bin_subset(self, c: Candidate, data: FoldData, positions: np.ndarray, M: np.ndarray, y: np.ndarray,
                   valid: Any, ctx: FitContext) -> tuple[Any, Any]:
        # the undersampled rows get their own histogram cuts, as when they were fitted alone
        return self._matrix(M, y, data.encoder, ctx), data.valid

    def train(self, c: Candidate, ctx: FitContext, train: Any, valid: Any, y_train: np.ndarray, monotone: list[int],
              max_rounds: int, stopper: SmoothedStopper) -> tuple[Any, int]:
        params = self.train_params(c, ctx, y_train)
        if any(monotone):
            params["monotone_constraints"] = "(" + ",".join(str(v) for v in monotone) + ")"
        kwargs: dict[str, Any] = {}
        if valid is not None:
            kwargs = {"evals": [(valid, "valid")], "callbacks": [XGBoostCallback(stopper)]}
        booster = xgb.train(params, train, num_boost_round=max_rounds, verbose_eval=False, **kwargs)
        return booster, booster.num_boosted_rounds()

    def thread_boosters(self, booster: Any) -> dict[int, Any]:
        # XGBoost's thread count is a booster parameter: one configured copy per setting, never changed later
        copies = {}
        for nthread in THREAD_SETTINGS:
            copy = booster.copy()
            copy.set_param({"nthread": nthread})
            copies[nthread] = copy
        return copies

    def predict(self, booster: Any, encoder: NativeEncoder, M: np.ndarray, n_rounds: int | None, nthread: int,
                contributions: bool) -> np.ndarray:
        return booster.predict(xgb_dmatrix(M, encoder), pred_contribs=contributions,
                               iteration_range=(0, n_rounds or 0), validate_features=False)

    def tree_tables(self, booster: Any, n_rounds: int | None) -> Callable[[int, float], ShapTable | None]:
        return partial(from_xgboost_json, json.loads(booster.save_raw("json")), n_rounds)

    def check_booster(self, booster: Any, encoder: NativeEncoder, path: Path) -> None:
        names, types = booster.feature_names, booster.feature_types
        expected = encoder.feature_names
        if names is None or types is None:
            raise ArtifactError(f"{path}: the XGBoost model has no feature names or types (expected the "
                                f"{len(expected)} columns of preprocessing.json's encoder, in its order)")
        if list(names) != list(expected):
            where = next((j for j, (a, b) in enumerate(zip(names, expected, strict=False)) if a != b),
                         min(len(names), len(expected)))
            found = names[where] if where < len(names) else "(none)"
            wanted = expected[where] if where < len(expected) else "(none)"
            raise ArtifactError(f"{path}: the XGBoost model's features do not match preprocessing.json's encoder "
                                f"({len(names)} against {len(expected)} columns; column {where} is {found!r}, "
                                f"expected {wanted!r})")
        if list(types) != feature_types(encoder, len(expected)):
            raise ArtifactError(f"{path}: the XGBoost model's feature types do not match preprocessing.json's "
                                "encoder (categorical columns must be type 'c', the others 'q')")

    def save_booster(self, booster: Any, n_rounds: int | None, path: Path) -> None:
        booster.save_model(str(path))

    def load_booster(self, path: Path) -> Any:
        booster = xgb.Booster()
        booster.load_model(str(path))
        return booster
