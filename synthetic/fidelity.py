"""Compare a generated data set with real Home Credit rows, column by column.

``python -m synthetic.fidelity --generated data/raw [--real ../shared/data/home-credit-marginals]``

Per column: the missing-rate difference, the total variation distance between category frequencies
(text columns) or the Kolmogorov-Smirnov distance (numeric columns), and whether the column is
within tolerance (|d missing| <= 0.05 and TV <= 0.10 / KS <= 0.10, or for small samples the difference
/ distance two samples of those sizes from one population exceed by chance 1 % of the time, when that
is larger). Identifier columns are skipped.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

import duckdb
import numpy as np

from hc_contracts.raw_format import read_csv_sql
from synthetic.schema import KEY_COLUMNS, TABLES, csv_name, raw_columns

MISSING_TOL = 0.05
#: below this many non-missing values on either side a distance is noise: only the missing rate is judged
MIN_VALUES = 50
TV_TOL = 0.10
KS_TOL = 0.10
KS_C01 = 1.63  # two-sample Kolmogorov-Smirnov critical value at the 1 % level
Z_01 = 2.576  # two-sided normal critical value at the 1 % level (difference of two missing rates)
TV_DRAWS = 400  # pairs of multinomial samples behind a TV tolerance (fixed seed: deterministic)
DEFAULT_REAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "home-credit-marginals"


@dataclass
class ColumnFidelity:
    table: str
    column: str
    kind: str  # "categorical" | "numeric"
    missing_real: float
    missing_generated: float
    distance: float  # TV for categorical, KS for numeric (NaN if either side has < MIN_VALUES values)
    ok: bool
    tolerance: float = float("nan")  # of the distance (NaN when not judged)
    missing_tolerance: float = MISSING_TOL
    ok_fixed: bool | None = None  # the verdict under the fixed tolerances alone (no small-sample widening)

    @property
    def missing_delta(self) -> float:
        return self.missing_generated - self.missing_real


def ks_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Two-sample Kolmogorov-Smirnov statistic (handles ties)."""
    a, b = np.sort(a), np.sort(b)
    grid = np.union1d(a, b)
    fa = np.searchsorted(a, grid, side="right") / a.size
    fb = np.searchsorted(b, grid, side="right") / b.size
    return float(np.max(np.abs(fa - fb)))


def ks_tolerance(n: int, m: int) -> float:
    """KS_TOL, or the distance two samples of these sizes from one distribution exceed by chance 1 % of
    the time when that is larger (e.g. ~100 generated test applicants with a building measure)."""
    return max(KS_TOL, KS_C01 * float(np.sqrt((n + m) / (n * m))))


def missing_tolerance(p_real: float, p_generated: float, n_real: int, n_generated: int) -> float:
    """MISSING_TOL, or the difference between the missing rates of two samples of these sizes from one
    population exceeded by chance 1 % of the time (two-proportion test, pooled rate) when that is larger:
    e.g. ~0.09 for 244 generated test applicants against 1,500 real ones at a rate near 0.5, where the
    housing block (30 columns missing together) moves by more than 0.05 in one draw in ten."""
    n, m = int(n_real), int(n_generated)
    if n <= 0 or m <= 0:
        return MISSING_TOL
    p = (p_real * n + p_generated * m) / (n + m)
    return max(MISSING_TOL, Z_01 * float(np.sqrt(p * (1 - p) * (1 / n + 1 / m))))


def tv_tolerance(real_counts: np.ndarray, n_generated: int) -> float:
    """TV_TOL, or the total variation distance two samples (``n_generated`` values and as many as the real
    ones) drawn from the real level frequencies exceed 1 % of the time, when that is larger: a column of
    many levels among a few hundred rows (58 organisation types among 244 generated test applicants) is
    ~0.12-0.16 apart by chance. Drawn with a fixed seed, so a verdict is deterministic."""
    counts = np.asarray(real_counts, dtype=np.int64)
    m, n = int(counts.sum()), int(n_generated)
    if m <= 0 or n <= 0 or counts.size < 2:
        return TV_TOL
    p = counts / m
    rng = np.random.default_rng(0)
    a = rng.multinomial(n, p, size=TV_DRAWS) / n
    b = rng.multinomial(m, p, size=TV_DRAWS) / m
    tv = 0.5 * np.abs(a - b).sum(axis=1)
    return max(TV_TOL, float(np.quantile(tv, 0.99)))


def tv_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Total variation distance between the level frequencies of two samples."""
    la, ca = np.unique(a, return_counts=True)
    lb, cb = np.unique(b, return_counts=True)
    pa = dict(zip(la.tolist(), (ca / ca.sum()).tolist(), strict=True))
    pb = dict(zip(lb.tolist(), (cb / cb.sum()).tolist(), strict=True))
    return 0.5 * sum(abs(pa.get(k, 0.0) - pb.get(k, 0.0)) for k in set(pa) | set(pb))


def _read(con: duckdb.DuckDBPyConnection, path: Path, table: str, sample_rows: int) -> dict[str, np.ndarray]:
    sample = f" USING SAMPLE reservoir({int(sample_rows)} ROWS) REPEATABLE (7)" if sample_rows else ""
    source = "'" + path.as_posix().replace("'", "''") + "'"
    rel = con.execute(f"SELECT * FROM {read_csv_sql(table, source, 'nullstr = ' + repr(''))}{sample}")
    names = [d[0] for d in rel.description]
    data = rel.fetchnumpy()
    return {n: data[n] for n in names}


def _values(col: np.ndarray, categorical: bool) -> tuple[np.ndarray, float]:
    if hasattr(col, "mask"):  # masked arrays from fetchnumpy
        mask = np.ma.getmaskarray(col)
        vals = np.asarray(col.data)[~mask]
    elif categorical:
        mask = np.asarray([v is None for v in col], dtype=bool)
        vals = col[~mask]
    else:
        f = col.astype(float)
        mask = np.isnan(f)
        vals = f[~mask]
    miss = float(mask.mean()) if mask.size else 0.0
    return (vals.astype(str) if categorical else vals.astype(float)), miss


def compare_table(
    table: str, generated: dict[str, np.ndarray], real: dict[str, np.ndarray]
) -> list[ColumnFidelity]:
    out = []
    for name, typ in raw_columns()[table]:
        if name in KEY_COLUMNS:
            continue
        categorical = typ == "VARCHAR"
        g, gm = _values(generated[name], categorical)
        r, rm = _values(real[name], categorical)
        mtol = missing_tolerance(rm, gm, len(real[name]), len(generated[name]))
        if min(g.size, r.size) >= MIN_VALUES:
            dist = tv_distance(g, r) if categorical else ks_distance(g, r)
            if categorical:
                tol = tv_tolerance(np.unique(r, return_counts=True)[1], g.size)
            else:
                tol = ks_tolerance(g.size, r.size)
            ok = abs(gm - rm) <= mtol and dist <= tol
            fixed = abs(gm - rm) <= MISSING_TOL and dist <= (TV_TOL if categorical else KS_TOL)
        else:
            dist = tol = float("nan")
            ok = abs(gm - rm) <= mtol
            fixed = abs(gm - rm) <= MISSING_TOL
        kind = "categorical" if categorical else "numeric"
        out.append(ColumnFidelity(table, name, kind, rm, gm, dist, ok, tol, mtol, fixed))
    return out


def compare(generated_dir: Path, real_dir: Path, sample_rows: int = 200_000) -> list[ColumnFidelity]:
    """Fidelity of every non-key column of every table present (with rows) in both folders."""
    con = duckdb.connect()
    results: list[ColumnFidelity] = []
    for table in TABLES:
        gp, rp = generated_dir / csv_name(table), real_dir / csv_name(table)
        if not gp.exists():
            raise FileNotFoundError(f"{gp}: missing (expected the eight Kaggle CSVs in --generated)")
        if not rp.exists():
            continue
        real = _read(con, rp, table, 0)
        if not real or next(iter(real.values())).size == 0:
            continue  # a header-only real table says nothing about distributions
        results += compare_table(table, _read(con, gp, table, sample_rows), real)
    con.close()
    return results


def share_ok(results: list[ColumnFidelity]) -> float:
    return sum(r.ok for r in results) / len(results) if results else 0.0


def render(results: list[ColumnFidelity], only_failing: bool = False) -> str:
    lines = [
        f"{'table':22s} {'column':30s} {'kind':4s} {'miss_real':>9s} {'d_miss':>7s} {'tol':>5s} {'dist':>6s} "
        f"{'tol':>5s}  ok"
    ]
    for r in results:
        if only_failing and r.ok:
            continue
        kind = "TV" if r.kind == "categorical" else "KS"
        lines.append(
            f"{r.table:22s} {r.column:30s} {kind:4s} {r.missing_real:9.3f} {r.missing_delta:+7.3f} "
            f"{r.missing_tolerance:5.3f} {r.distance:6.3f} {r.tolerance:5.3f}  {'yes' if r.ok else 'NO'}"
        )
    by_table: dict[str, list[ColumnFidelity]] = {}
    for r in results:
        by_table.setdefault(r.table, []).append(r)
    lines.append("")
    for t, rs in by_table.items():
        lines.append(f"{t:22s} {sum(r.ok for r in rs):3d}/{len(rs):3d} columns within tolerance")
    lines.append(
        f"TOTAL: {sum(r.ok for r in results)}/{len(results)} columns within tolerance ({share_ok(results):.1%}); "
        f"tolerances |d missing| <= {MISSING_TOL}, TV <= {TV_TOL}, KS <= {KS_TOL}, widened for small samples "
        f"to what two samples of one population exceed 1 % of the time "
        f"(distance not judged with < {MIN_VALUES} values on a side); "
        f"{sum(bool(r.ok_fixed) for r in results)}/{len(results)} within the fixed tolerances alone"
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m synthetic.fidelity", description=__doc__.split("\n\n")[0])
    ap.add_argument("--generated", type=Path, required=True, help="folder with the generated CSVs")
    ap.add_argument(
        "--real", type=Path, default=DEFAULT_REAL, help=f"folder with real CSVs (default {DEFAULT_REAL})"
    )
    ap.add_argument(
        "--sample-rows", type=int, default=200_000, help="rows sampled per generated table (0 = all)"
    )
    ap.add_argument("--failing", action="store_true", help="list only the columns out of tolerance")
    ap.add_argument("--json", type=Path, help="also write the per-column results as JSON here")
    ap.add_argument(
        "--min-share", type=float, default=None, help="exit 1 if the share within tolerance is lower"
    )
    args = ap.parse_args(argv)
    for flag, path in (("--generated", args.generated), ("--real", args.real)):
        if not (path / "application_train.csv").exists():
            ap.error(f"{flag} {path}: no application_train.csv there")
    try:
        results = compare(args.generated, args.real, args.sample_rows)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render(results, only_failing=args.failing))
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=1), encoding="utf-8")
    if args.min_share is not None and share_ok(results) < args.min_share:
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
