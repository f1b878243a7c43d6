"""Put reference and current frames in one comparable form, and sample large ones (seeded)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from monitoring.columns import Kind

_TRUE = {"true", "1", "1.0", "y", "yes", "t"}
_FALSE = {"false", "0", "0.0", "n", "no", "f"}


def _numeric(values: pd.Series) -> pd.Series:
    if pd.api.types.is_bool_dtype(values.dtype):
        values = values.astype("float64")
    out = pd.to_numeric(values, errors="coerce").astype("float64")
    return out.where(np.isfinite(out))


def _categorical(values: pd.Series) -> pd.Series:
    missing = values.isna().to_numpy()
    out = values.astype(object).to_numpy().copy()
    out[~missing] = [str(v) for v in out[~missing]]
    out[missing] = np.nan
    return pd.Series(out, index=values.index, dtype=object)


def _boolean(values: pd.Series) -> pd.Series:
    """Booleans as the levels "True"/"False" (missing NaN), whatever their storage (bool, 0/1, text)."""
    out = []
    for v in values.astype(object):
        if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)):
            out.append(np.nan)
            continue
        key = str(v).strip().lower()
        if isinstance(v, (bool, np.bool_)):
            out.append(str(bool(v)))
        elif key in _TRUE:
            out.append("True")
        elif key in _FALSE:
            out.append("False")
        else:
            out.append(str(v))  # unexpected level: kept visible, PSI puts it in "other"
    return pd.Series(out, index=values.index, dtype=object)


def prepare(df: pd.DataFrame, kinds: dict[str, Kind], columns: list[str]) -> pd.DataFrame:
    """``columns`` of ``df`` as float64 (numeric, +-inf -> NaN) or object strings (categorical, boolean)."""
    df = df.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    for name in columns:
        kind = kinds[name]
        if kind == "numeric":
            out[name] = _numeric(df[name])
        elif kind == "boolean":
            out[name] = _boolean(df[name])
        else:
            out[name] = _categorical(df[name])
    return pd.DataFrame(out, index=pd.RangeIndex(len(df)))


def sample_rows(df: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """At most ``max_rows`` rows, drawn uniformly without replacement with ``seed`` (order kept)."""
    if len(df) <= max_rows:
        return df.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    idx = np.sort(rng.choice(len(df), size=max_rows, replace=False))
    return df.iloc[idx].reset_index(drop=True)
