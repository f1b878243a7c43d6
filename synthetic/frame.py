"""A generated table chunk: column name -> numeric array (NaN = missing) or categorical (codes, levels)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from synthetic.stats import Cat

Column = np.ndarray | Cat
Frame = dict[str, Column]


def cat(codes: np.ndarray, levels: list[str]) -> Cat:
    codes = np.asarray(codes)
    return (codes if codes.dtype.kind == "i" else codes.astype(np.int64), list(levels))


def cat_const(n: int, level: str) -> Cat:
    return (np.zeros(n, dtype=np.int64), [level])


def cat_values(c: Cat) -> np.ndarray:
    """Object array of level names (None for missing) -- for small computations and tests only."""
    codes, levels = c
    arr = np.asarray([*levels, None], dtype=object)
    return arr[np.where(codes < 0, len(levels), codes)]


def is_level(c: Cat, *names: str) -> np.ndarray:
    codes, levels = c
    wanted = [i for i, lv in enumerate(levels) if lv in names]
    return np.isin(codes, wanted)


def to_arrow(frame: Frame, columns: list[tuple[str, str]]) -> pa.Table:
    """Arrow table in the raw column order with the raw types (BIGINT -> int64, DOUBLE -> float64,
    VARCHAR -> dictionary-encoded strings); NaN / code -1 become nulls."""
    arrays = []
    integral: list[str] = []
    for name, typ in columns:
        col = frame[name]
        if typ == "VARCHAR":
            assert isinstance(col, tuple), f"{name} must be categorical"
            codes, levels = col
            mask = codes < 0
            idx = pa.array(codes.astype(np.int32), mask=mask if mask.any() else None)
            arrays.append(pa.DictionaryArray.from_arrays(idx, pa.array(levels, pa.string())))
        elif typ == "BIGINT":
            v = np.asarray(col)
            if v.dtype.kind == "f":
                mask = np.isnan(v)
                if mask.any():
                    arrays.append(pa.array(np.where(mask, 0, v).astype(np.int64), mask=mask))
                    continue
                v = v.astype(np.int64)
            arrays.append(pa.array(v.astype(np.int64, copy=False)))
        else:
            v = np.add(np.asarray(col, dtype=float), 0.0)  # a copy without "-0.0"
            nan = np.isnan(v)
            whole = np.rint(v)
            if np.array_equal(whole, v, equal_nan=True) and not nan.all() and np.nanmax(np.abs(v)) < 1e15:
                integral.append(name)
            arrays.append(pa.array(v, mask=nan if nan.any() else None))
    table = pa.Table.from_arrays(arrays, names=[n for n, _ in columns])
    return table.replace_schema_metadata({INTEGRAL_KEY: ",".join(integral)})


#: schema metadata naming the DOUBLE columns whose values are all whole numbers: the writer formats
#: them as integers followed by ".0", which is what pandas writes and much faster than float formatting
INTEGRAL_KEY = "hc_integral_doubles"
