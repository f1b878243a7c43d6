"""Which columns the drift report monitors, and of which kind each one is.

Evidently's cost grows with every column (drift test, histograms and plots per column), so the
report does not take all ~300 warehouse features. The choice, in priority order:

1. the model's ``drift_top_n`` most important features (``global_importance`` of metadata.json,
   mean |SHAP|): drift there moves scores;
2. the raw application columns (Kaggle ``application_train`` fields, e.g. ``amt_income_total``,
   ``ext_source_2``) that the model uses, most important first: they are what the client declares
   and what the business understands, and a change of form or channel shows there first;
3. capped at ``drift_max_columns``.

Columns whose reference values are all missing are dropped (no distribution to compare to).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from hc_contracts.metadata import ModelMetadata
from hc_contracts.raw_format import column_names
from monitoring.errors import InputDataError

Kind = Literal["numeric", "categorical", "boolean"]
KINDS: tuple[str, ...] = ("numeric", "categorical", "boolean")
NOT_RAW_FEATURES = frozenset({"sk_id_curr", "target"})


def kinds_from_metadata(metadata: ModelMetadata) -> dict[str, Kind]:
    """``{feature: kind}`` from metadata.json's ``features`` list of ``{name, type}`` (validated on reading)."""
    return dict(metadata.feature_kinds)


def importance_order(metadata: ModelMetadata) -> list[str]:
    """Features by decreasing mean |SHAP| (``global_importance``); empty when absent."""
    return metadata.importance_order


def infer_kinds(df: pd.DataFrame, exclude: tuple[str, ...] = ()) -> dict[str, Kind]:
    """Kinds from dtypes (bool -> boolean, numbers -> numeric, anything else -> categorical)."""
    kinds: dict[str, Kind] = {}
    for name in df.columns:
        if name in exclude:
            continue
        dtype = df[name].dtype
        if pd.api.types.is_bool_dtype(dtype):
            kinds[name] = "boolean"
        elif pd.api.types.is_numeric_dtype(dtype):
            kinds[name] = "numeric"
        else:
            kinds[name] = "categorical"
    return kinds


def raw_application_columns() -> list[str]:
    """Kaggle ``application_train`` columns in warehouse spelling (snake_case, lower case), in file order."""
    columns = [c.lower() for c in column_names("application_train")]
    return [c for c in columns if c not in NOT_RAW_FEATURES]


@dataclass(frozen=True)
class ColumnSelection:
    """The monitored columns and why each one is there."""

    columns: list[str]
    by_importance: list[str]
    raw_application: list[str]
    requested: bool = False
    dropped: dict[str, str] = field(default_factory=dict)
    truncated: int = 0

    def to_dict(self, top_n: int, max_columns: int) -> dict[str, Any]:
        rule = ("given with --columns" if self.requested else
                f"top {top_n} features by mean |SHAP|, then the raw application columns by importance, "
                f"capped at {max_columns}")
        return {"rule": rule, "top_n": top_n, "max_columns": max_columns,
                "by_importance": self.by_importance, "raw_application": self.raw_application,
                "left_out_by_cap": self.truncated, "dropped": self.dropped}


def select_columns(
    kinds: dict[str, Kind],
    importance: list[str],
    raw_columns: list[str],
    top_n: int,
    max_columns: int,
    reference: pd.DataFrame | None = None,
    requested: list[str] | None = None,
) -> ColumnSelection:
    """Pick the monitored columns among the features in ``kinds`` (see the module docstring)."""
    dropped: dict[str, str] = {}

    def usable(name: str) -> bool:
        if reference is None:
            return True
        if name not in reference.columns:
            dropped[name] = "not in the reference sample"
            return False
        if reference[name].isna().all():
            dropped[name] = "every reference value is missing"
            return False
        return True

    if requested:
        unknown = [c for c in requested if c not in kinds]
        if unknown:
            raise InputDataError(
                f"--columns names {len(unknown)} column(s) that are not features of the model: "
                f"{', '.join(unknown)}; choose among the names in metadata.json 'features'")
        chosen = [c for c in dict.fromkeys(requested) if usable(c)]
        if not chosen:
            raise InputDataError(f"none of the requested columns can be compared: {dropped}")
        return ColumnSelection(chosen, [], [], requested=True, dropped=dropped)

    rank = {name: i for i, name in enumerate(importance)}
    ordered = [c for c in importance if c in kinds]
    by_importance = [c for c in ordered[:top_n] if usable(c)]
    raw_set = set(raw_columns)
    raw = [c for c in kinds if c in raw_set and c not in by_importance]
    raw.sort(key=lambda c: (rank.get(c, len(rank)), raw_columns.index(c)))
    raw = [c for c in raw if usable(c)]
    candidates = by_importance + raw
    if not candidates:  # neither importance nor raw application columns: fall back to metadata order
        candidates = [c for c in kinds if usable(c)]
    if not candidates:
        raise InputDataError(f"no feature can be monitored: {dropped or 'the model lists no features'}")
    chosen = candidates[:max_columns]
    return ColumnSelection(
        columns=chosen,
        by_importance=[c for c in by_importance if c in chosen],
        raw_application=[c for c in raw if c in chosen],
        dropped=dropped,
        truncated=len(candidates) - len(chosen),
    )
