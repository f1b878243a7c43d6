"""``python -m models_ml.feature_report`` (``make feature-report``): a screening report of every feature.

Per feature of ``training_set``: information value (optbinning optimal binning under a monotonic trend,
categories grouped by event rate, adjacent bins merged unless their default rates differ significantly), missing share, the trend of the default rate across the bins, population
stability (PSI) between the training and the test applicants of ``applicant_features``, and a verdict:

==============  ==================================================================================
useless         IV < 0.02
weak            0.02 <= IV < 0.1
medium          0.1 <= IV < 0.3
strong          0.3 <= IV < 0.5
suspicious      IV >= 0.5: too good to be true for application data -- check for target leakage
==============  ==================================================================================

(the usual credit-scoring bands, Siddiqi 2006). Protected attributes are reported but marked as not used.
Written to ``$HC_ARTIFACTS/reports/features/`` as ``features.csv`` and ``index.html`` (built in a temporary
folder and swapped in). Only per-feature aggregates are written: no applicant id, no row.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
import os
import shutil
import uuid
import warnings
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hc_contracts.layout import ArtifactLayout
from models_ml.data import FeatureSchema, connect_warehouse, load_applicants, load_training_set
from models_ml.errors import ModelingError
from models_ml.protected import feature_sql, protected_features
from models_ml.settings import ModelSettings

log = logging.getLogger("models_ml.feature_report")
VERDICTS = ((0.02, "useless"), (0.1, "weak"), (0.3, "medium"), (0.5, "strong"), (float("inf"), "suspicious"))
LEAK_IV = 0.5  # decile IV above which a feature is suspicious even when optimal binning finds no split


def verdict(iv: float) -> str:
    for limit, name in VERDICTS:
        if iv < limit:
            return name
    return "suspicious"


def psi(expected: pd.Series, actual: pd.Series, categorical: bool, n_bins: int = 10) -> float:
    """Population stability index of ``actual`` against ``expected`` (decile bins of ``expected`` or the
    categories; missing values in a bin of their own; 0.5 added to empty cells)."""
    if len(actual) == 0 or len(expected) == 0:
        return float("nan")
    if categorical:
        e = expected.astype(object).where(expected.notna(), "(missing)").astype(str)
        a = actual.astype(object).where(actual.notna(), "(missing)").astype(str)
        cats = sorted(set(e) | set(a))
        ce = e.value_counts().reindex(cats, fill_value=0).to_numpy(float)
        ca = a.value_counts().reindex(cats, fill_value=0).to_numpy(float)
    else:
        ev, av = expected.to_numpy(float), actual.to_numpy(float)
        ok = ~np.isnan(ev)
        edges = np.unique(np.quantile(ev[ok], np.linspace(0, 1, n_bins + 1))[1:-1]) if ok.any() else np.array([])

        def counts(v: np.ndarray) -> np.ndarray:
            idx = np.where(np.isnan(v), len(edges) + 1, np.searchsorted(edges, np.nan_to_num(v), side="right"))
            return np.bincount(idx, minlength=len(edges) + 2).astype(float)

        ce, ca = counts(ev), counts(av)
    pe, pa = (ce + 0.5) / (ce + 0.5).sum(), (ca + 0.5) / (ca + 0.5).sum()
    return float(np.sum((pa - pe) * np.log(pa / pe)))


def _iv(events: np.ndarray, nonevents: np.ndarray) -> float:
    """Information value of binned counts, half a count added to every cell: a bin with no defaulters (a
    leak separates the classes) counts with a large finite WoE -- optbinning would give it a WoE of 0."""
    keep = (events + nonevents) > 0
    pb = (events[keep] + 0.5) / (events[keep] + 0.5).sum()
    pg = (nonevents[keep] + 0.5) / (nonevents[keep] + 0.5).sum()
    return float(np.sum((pg - pb) * np.log(pg / pb)))


def _trend(event_rates: list[float]) -> str:
    if len(event_rates) < 2:
        return "flat"
    d = np.diff(event_rates)
    if np.all(d >= 0):
        return "ascending"
    if np.all(d <= 0):
        return "descending"
    return "not monotone"


def feature_stats(train: pd.DataFrame, y: np.ndarray, test: pd.DataFrame | None, schema: FeatureSchema,
                  protected: set[str] | None = None, min_bin_share: float = 0.05) -> pd.DataFrame:
    """One row per feature: iv, iv_deciles, verdict, missing_share, trend, bins, psi_train_test, used."""
    from optbinning import OptimalBinning

    from models_ml.scorecard import quick_iv

    y = np.asarray(y).astype(int)
    deciles = quick_iv(train, y, schema)
    rows: list[dict[str, Any]] = []
    for spec in schema.features:
        name, cat = spec.name, spec.type == "categorical"
        col = train[name]
        missing = float(col.isna().mean())
        iv, n_bins, rates = 0.0, 0, []
        if col.notna().sum() > 0 and col.nunique(dropna=True) > 1:
            x = col.astype(object).to_numpy() if cat else col.to_numpy(float)
            # adjacent bins whose default rates do not differ significantly (p > 1 %) are merged: a pure-noise
            # feature ends in one bin (IV 0) instead of earning IV from sampling noise
            ob = OptimalBinning(name=name, dtype="categorical" if cat else "numerical", min_bin_size=min_bin_share,
                                monotonic_trend=None if cat else "auto_asc_desc", max_pvalue=0.01)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ob.fit(x, y)
                table = ob.binning_table.build(add_totals=False)
            iv = _iv(table["Event"].to_numpy(float), table["Non-event"].to_numpy(float))
            regular = table.iloc[:-2]
            n_bins = int(len(regular))
            rates = [float(r) for r in regular["Event rate"]]
        if deciles[name] >= LEAK_IV and deciles[name] > iv:
            # optbinning never cuts a bin free of defaulters or of non-defaulters, so a feature that separates
            # the classes perfectly (a leak) ends in one bin with IV 0: the decile IV flags it instead
            iv = deciles[name]
        rows.append({
            "feature": name, "type": spec.type, "iv": iv, "iv_deciles": deciles[name], "verdict": verdict(iv), "missing_share": missing,
            "trend": "by category" if cat and n_bins > 1 else _trend(rates), "bins": n_bins,
            "psi_train_test": psi(col, test[name], cat) if test is not None and name in test.columns else float("nan"),
            "used": name not in (protected or set()),
        })
    out = pd.DataFrame(rows)
    return out.sort_values(["iv", "feature"], ascending=[False, True], kind="stable").reset_index(drop=True)


def _html(stats: pd.DataFrame, meta: dict[str, Any]) -> str:
    counts = stats["verdict"].value_counts()
    head = ", ".join(f"{v}: {int(counts.get(v, 0))}" for _, v in VERDICTS)
    cells = []
    for r in stats.itertuples(index=False):
        flag = ' style="background:#fde2e2"' if r.verdict == "suspicious" else ""
        cells.append(f"<tr{flag}><td>{html.escape(r.feature)}</td><td>{r.type}</td><td>{r.iv:.4f}</td>"
                     f"<td>{r.verdict}</td><td>{100 * r.missing_share:.1f} %</td><td>{r.trend}</td><td>{r.bins}</td>"
                     f"<td>{'' if np.isnan(r.psi_train_test) else f'{r.psi_train_test:.4f}'}</td>"
                     f"<td>{'yes' if r.used else 'no (protected)'}</td></tr>")
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Feature screening</title><style>"
            "body{font-family:sans-serif;max-width:70em;margin:2em auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}</style></head><body>"
            f"<h1>Feature screening</h1><p>{html.escape(meta['source'])}: {meta['train_rows']:,} training and "
            f"{meta['test_rows']:,} test applicants, {len(stats)} features, created {meta['created_at']}.</p>"
            f"<p>Verdicts (information value): {head}. IV &lt; 0.02 useless, &lt; 0.1 weak, &lt; 0.3 medium, "
            "&lt; 0.5 strong, above: suspicious (check for target leakage). PSI train vs test: &lt; 0.1 stable, "
            "0.1-0.25 moderate shift, &gt; 0.25 large shift.</p><table><tr><th>feature</th><th>type</th>"
            "<th>IV</th><th>verdict</th><th>missing</th><th>trend of the default rate</th><th>bins</th>"
            "<th>PSI train/test</th><th>used by models</th></tr>" + "".join(cells) + "</table></body></html>\n")


def write_report(stats: pd.DataFrame, meta: dict[str, Any], artifacts: Path) -> Path:
    """Write ``features.csv``, ``index.html`` and ``summary.json`` into a temporary folder, then swap it in."""
    final = ArtifactLayout(Path(artifacts)).feature_report_dir
    parent = final.parent
    parent.mkdir(parents=True, exist_ok=True)
    tmp = parent / f".tmp-features-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        stats.to_csv(tmp / "features.csv", index=False, float_format="%.6g")
        (tmp / "index.html").write_text(_html(stats, meta), encoding="utf-8")
        (tmp / "summary.json").write_text(json.dumps({**meta, "verdicts": stats["verdict"].value_counts().to_dict(),
                                                      "strongest": stats.head(15)["feature"].tolist()}, indent=1))
        old = None
        if final.exists():
            old = parent / f".old-features-{uuid.uuid4().hex[:8]}"
            os.rename(final, old)
        os.rename(tmp, final)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def run(settings: ModelSettings) -> Path:
    data = load_training_set(settings.warehouse, min_per_class=1)  # every feature, protected ones included
    con = connect_warehouse(settings.warehouse)
    try:
        protected = set(protected_features(data.schema.names, settings.protected_columns, feature_sql(con)))
    finally:
        con.close()
    test = load_applicants(settings.warehouse, dataset="test")
    test_frame = data.schema.prepare(test) if len(test) else None
    stats = feature_stats(data.frame, data.target, test_frame, data.schema, protected, settings.scorecard_min_bin_share)
    meta = {"source": str(settings.warehouse), "train_rows": int(data.n_rows), "test_rows": int(len(test)),
            "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")}
    return write_report(stats, meta, settings.artifacts)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m models_ml.feature_report", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--warehouse", type=Path, help="DuckDB warehouse file (HC_WAREHOUSE)")
    p.add_argument("--artifacts", type=Path, help="artifacts folder (HC_ARTIFACTS)")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S")
    try:
        settings = ModelSettings(**{k: v for k, v in vars(args).items() if v is not None})
        path = run(settings)
    except ModelingError as exc:
        print(f"error: {exc}")
        return 2
    stats = pd.read_csv(path / "features.csv")
    print(f"feature report: {path / 'index.html'} ({len(stats)} features; "
          + ", ".join(f"{v} {int((stats['verdict'] == v).sum())}" for _, v in VERDICTS) + ")")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
