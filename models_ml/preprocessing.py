"""Preprocessing: a native encoder for boosted trees and scikit-learn pipelines for linear / forest models.

Both take frames in the canonical form of ``FeatureSchema.prepare``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from models_ml.data import SMALL_BATCH, FeatureSchema

MISSING_LEVEL = "__missing__"


class NativeEncoder(TransformerMixin, BaseEstimator):
    """Float matrix for LightGBM / XGBoost: numeric and boolean as is (NaN = missing), categorical levels
    as integer codes 0..k-1 (levels seen in training sorted by name; missing or unseen -> NaN, which both
    libraries treat as missing). Serialises to JSON."""

    def __init__(self, schema: FeatureSchema | None = None) -> None:
        self.schema = schema

    def fit(self, X: pd.DataFrame, y: Any = None) -> NativeEncoder:
        assert self.schema is not None
        self.levels_: dict[str, list[str]] = {}
        for name in self.schema.of_type("categorical"):
            values = X[name].dropna().astype(str)
            self.levels_[name] = sorted(values.unique().tolist())
        return self

    def transform(self, X: pd.DataFrame, dtype: type = np.float64) -> np.ndarray:
        """The matrix of ``X`` (float64 for prediction; training passes float32 to halve the memory)."""
        assert self.schema is not None
        out = np.empty((len(X), len(self.schema.features)), dtype=dtype)
        num_idx = [j for j, f in enumerate(self.schema.features) if f.type != "categorical"]
        if len(X) <= SMALL_BATCH:  # online scoring: one block conversion beats a call per column
            out[:, num_idx] = X[[self.schema.features[j].name for j in num_idx]].to_numpy(dtype=dtype,
                                                                                        na_value=np.nan)
        else:  # column by column: no transient copy of the frame's numeric block (~0.4 GiB per fold at full size)
            for j in num_idx:
                out[:, j] = X[self.schema.features[j].name].to_numpy(dtype=dtype, na_value=np.nan)
        for j in self.categorical_indices:
            name = self.schema.features[j].name
            if len(X) <= SMALL_BATCH:  # online scoring: a dictionary lookup beats building a Categorical
                index = self.level_index(name)
                out[:, j] = [index.get(v, np.nan) for v in X[name].tolist()]
                continue
            codes = pd.Categorical(X[name], categories=self.levels_[name]).codes.astype(np.float64)
            codes[codes < 0] = np.nan
            out[:, j] = codes
        return out

    def transform_values(self, vals: np.ndarray) -> np.ndarray:
        """`transform` of `FeatureSchema.small_values` output (an object matrix in schema order): the
        same matrix, without a DataFrame in between (online scoring of one applicant)."""
        assert self.schema is not None
        num_pos, cat_pos, _ = self.schema.positions
        out = np.empty(vals.shape, dtype=np.float64)
        out[:, num_pos] = vals[:, num_pos].astype(np.float64)
        for j in cat_pos:
            index = self.level_index(self.schema.features[j].name)
            out[:, j] = [index.get(v, np.nan) for v in vals[:, j].tolist()]
        return out

    def level_index(self, name: str) -> dict[str, float]:
        """The code of each level of categorical feature ``name`` (levels not seen in training have none)."""
        cache = self.__dict__.setdefault("_level_cache", {})
        if name not in cache:
            cache[name] = {lvl: float(i) for i, lvl in enumerate(self.levels_[name])}
        return cache[name]

    @property
    def feature_names(self) -> list[str]:
        assert self.schema is not None
        return self.schema.names

    @property
    def categorical_indices(self) -> list[int]:
        assert self.schema is not None
        return [j for j, f in enumerate(self.schema.features) if f.type == "categorical"]

    def to_dict(self) -> dict[str, Any]:
        assert self.schema is not None
        return {"kind": "native", "features": self.schema.to_list(), "levels": self.levels_}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> NativeEncoder:
        enc = cls(FeatureSchema.from_list(d["features"]))
        enc.levels_ = {k: list(v) for k, v in d["levels"].items()}
        return enc


def make_sklearn_preprocessor(schema: FeatureSchema, scale: bool = True) -> ColumnTransformer:
    """Median imputation + missing indicators + standardisation for numeric/boolean columns; constant
    imputation + one-hot encoding (unseen levels ignored) for categorical columns."""
    numeric = schema.of_type("numeric") + schema.of_type("boolean")
    categorical = schema.of_type("categorical")
    num_steps: list[tuple[str, Any]] = [
        ("impute", SimpleImputer(strategy="median", add_indicator=True, keep_empty_features=True))]
    if scale:
        num_steps.append(("scale", StandardScaler()))
    transformers: list[tuple[str, Any, list[str]]] = []
    if numeric:
        transformers.append(("num", Pipeline(num_steps), numeric))
    if categorical:
        transformers.append(("cat", Pipeline([
            ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_LEVEL, keep_empty_features=True)),
            ("onehot", OneHotEncoder(handle_unknown="ignore", sparse_output=False, dtype=np.float64)),
        ]), categorical))
    return ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)


def output_feature_map(pre: ColumnTransformer) -> list[str]:
    """For each output column of a fitted ``make_sklearn_preprocessor``, the input feature it comes from."""
    mapping: list[str] = []
    for name, trans, cols in pre.transformers_:
        if name == "num":
            imputer: SimpleImputer = trans.named_steps["impute"]
            mapping.extend(cols)
            if imputer.indicator_ is not None:
                mapping.extend(cols[i] for i in imputer.indicator_.features_)
        elif name == "cat":
            onehot: OneHotEncoder = trans.named_steps["onehot"]
            for col, cats in zip(cols, onehot.categories_, strict=True):
                mapping.extend([col] * len(cats))
    return mapping
