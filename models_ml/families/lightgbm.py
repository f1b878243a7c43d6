"""The ``lightgbm`` family: LightGBM with native categorical and missing-value handling; text model file."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any, ClassVar

import lightgbm as lgb
import numpy as np

from models_ml.early_stopping import LightGBMCallback, SmoothedStopper
from models_ml.families.base import Candidate, FitContext
from models_ml.families.boosted import BoostedFamily, scale_pos_weight
from models_ml.families.fold_cache import FoldData
from models_ml.preprocessing import NativeEncoder
from models_ml.treeshap import ShapTable, from_lightgbm_dump


class LightGBMFamily(BoostedFamily):
    name = "lightgbm"
    model_file = "model.txt"
    rate_param = "learning_rate"
    size_param = "num_leaves"
    size_by_rows = (4, 15)
    default_params: ClassVar[dict[str, Any]] = {"num_leaves": 31, "min_child_samples": 100,
                                                "feature_fraction": 0.3, "lambda_l2": 10.0, "learning_rate": 0.05}
    search_space: ClassVar[dict[str, list[Any]]] = {"num_leaves": [4, 7, 15, 31, 63],
                                                    "min_child_samples": [50, 100, 200],
                                                    "feature_fraction": [0.1, 0.2, 0.3, 0.5],
                                                    "lambda_l2": [1.0, 10.0, 30.0]}
    summary = "gradient-boosted trees (LightGBM), native categories and missing values, early stopping"

    def binning_params(self, c: Candidate, ctx: FitContext) -> dict[str, Any]:
        # LightGBM drops, when binning, the features no split of min_child_samples rows can use (feature_pre_filter,
        # a large saving on wide data): the binned data depends on it, so it is part of the cache key
        return {"max_bin": 255, "min_child_samples": {**self.default_params, **c.params}["min_child_samples"],
                "seed": ctx.seed, "num_threads": ctx.n_jobs, "verbosity": -1}

    def train_params(self, c: Candidate, ctx: FitContext, y: np.ndarray) -> dict[str, Any]:
        p = {**self.default_params, **c.params}
        return {
            **self.binning_params(c, ctx),
            "objective": "binary", "metric": "auc", "learning_rate": p["learning_rate"],
            "num_leaves": p["num_leaves"],
            "feature_fraction": p["feature_fraction"], "lambda_l2": p["lambda_l2"],
            "bagging_fraction": 0.8, "bagging_freq": 1, "cat_smooth": 10.0, "cat_l2": 10.0,
            "min_data_per_group": 50, "max_cat_to_onehot": 4, "deterministic": True, "force_col_wise": True,
            **scale_pos_weight(c, y),
        }

    def bin_train(self, c: Candidate, M: np.ndarray, y: np.ndarray, encoder: NativeEncoder, ctx: FitContext) -> Any:
        return lgb.Dataset(M, label=y, feature_name=encoder.feature_names,
                           categorical_feature=encoder.categorical_indices, params=self.binning_params(c, ctx),
                           free_raw_data=True).construct()

    def bin_valid(self, c: Candidate, M: np.ndarray, y: np.ndarray, train: Any, encoder: NativeEncoder,
                  ctx: FitContext) -> Any:
        return lgb.Dataset(M, label=y, reference=train, feature_name=encoder.feature_names,
                           categorical_feature=encoder.categorical_indices, params=self.binning_params(c, ctx)).construct()

    def bin_subset(self, c: Candidate, data: FoldData, positions: np.ndarray, M: np.ndarray, y: np.ndarray,
                   valid: Any, ctx: FitContext) -> tuple[Any, Any]:
        # a subset shares the parent's bins (and its validation set, binned with them): no raw values needed
        return data.train.subset(positions.tolist(), params=self.binning_params(c, ctx)).construct(), data.valid

    def train(self, c: Candidate, ctx: FitContext, train: Any, valid: Any, y_train: np.ndarray, monotone: list[int],
              max_rounds: int, stopper: SmoothedStopper) -> tuple[Any, int]:
        params = self.train_params(c, ctx, y_train)
        if any(monotone):
            params["monotone_constraints"] = monotone
        valid_sets = [valid] if valid is not None else []
        callbacks = [LightGBMCallback(stopper)] if valid is not None else []
        booster = lgb.train(params, train, num_boost_round=max_rounds, valid_sets=valid_sets, callbacks=callbacks)
        return booster, booster.current_iteration()

    def predict(self, booster: Any, encoder: NativeEncoder, M: np.ndarray, n_rounds: int | None, nthread: int,
                contributions: bool) -> np.ndarray:
        return booster.predict(M, num_iteration=n_rounds, pred_contrib=contributions, num_threads=nthread)

    def tree_tables(self, booster: Any, n_rounds: int | None) -> Callable[[int, float], ShapTable | None]:
        return partial(from_lightgbm_dump, booster.dump_model(num_iteration=n_rounds), n_rounds)

    def save_booster(self, booster: Any, n_rounds: int | None, path: Path) -> None:
        booster.save_model(str(path), num_iteration=n_rounds)

    def load_booster(self, path: Path) -> Any:
        return lgb.Booster(model_file=str(path))
