"""Compare a feature table built by two engines (DuckDB file vs Spark Parquet): names, values, NULLs.

Used by the parity test (fixture data) and by ``bench/bench_spark.py`` (the real sample, larger scales).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from warehouse.feature_sql import FEATURE_MART

KEY = "sk_id_curr"


@dataclass(frozen=True)
class ParityReport:
    rows: int
    columns: int
    differences: list[str]  # one line per differing column (name, rows, an example id / values)

    @property
    def equal(self) -> bool:
        return not self.differences


def read_duckdb_table(warehouse: Path, table: str = FEATURE_MART) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(f'select * from "{table}" order by {KEY}').df()


def read_parquet_table(folder: Path) -> pd.DataFrame:
    with duckdb.connect() as con:
        return con.execute(f"select * from read_parquet(?) order by {KEY}", [str(Path(folder) / "*.parquet")]).df()


def compare_tables(left: pd.DataFrame, right: pd.DataFrame, *, rtol: float = 1e-9, atol: float = 1e-9,
                   max_examples: int = 50) -> ParityReport:
    """Column-by-column comparison of two frames keyed by ``sk_id_curr`` (same order of names expected)."""
    diffs: list[str] = []
    if list(left.columns) != list(right.columns):
        only_l = [c for c in left.columns if c not in right.columns]
        only_r = [c for c in right.columns if c not in left.columns]
        diffs.append(f"column names differ: only left {only_l[:10]}, only right {only_r[:10]}"
                     + ("" if only_l or only_r else " (same names, different order)"))
    left = left.sort_values(KEY).reset_index(drop=True)
    right = right.sort_values(KEY).reset_index(drop=True)
    if len(left) != len(right) or not np.array_equal(left[KEY].to_numpy(), right[KEY].to_numpy()):
        diffs.append(f"rows differ: {len(left)} vs {len(right)} (or different {KEY} values)")
        return ParityReport(len(left), len(left.columns), diffs)
    ids = left[KEY].to_numpy()
    for name in [c for c in left.columns if c in right.columns]:
        a, b = left[name], right[name]
        na_a, na_b = a.isna().to_numpy(), b.isna().to_numpy()
        bad = na_a != na_b
        if pd.api.types.is_numeric_dtype(a.dtype) and pd.api.types.is_numeric_dtype(b.dtype) \
                and not pd.api.types.is_bool_dtype(a.dtype) and not pd.api.types.is_bool_dtype(b.dtype):
            both = ~na_a & ~na_b
            va = a.to_numpy(dtype="float64", na_value=np.nan)
            vb = b.to_numpy(dtype="float64", na_value=np.nan)
            close = np.isclose(va, vb, rtol=rtol, atol=atol, equal_nan=True)
            bad |= both & ~close
        else:
            both = ~na_a & ~na_b
            sa = a.astype(object).to_numpy()
            sb = b.astype(object).to_numpy()
            bad |= both & np.array([str(x) != str(y) for x, y in zip(sa, sb, strict=True)], dtype=bool)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            diffs.append(f"{name}: {int(bad.sum())} row(s) differ, e.g. {KEY}={ids[i]}: {a.iloc[i]!r} vs {b.iloc[i]!r}"
                         f" ({a.dtype} vs {b.dtype})")
            if len(diffs) >= max_examples:
                break
    return ParityReport(len(left), len(left.columns), diffs)
