"""Figures of the model card (PNG, matplotlib's non-interactive backend)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from models_ml.cost import RowCosts, cost_at_threshold  # noqa: E402
from models_ml.explain import Explanation  # noqa: E402
from models_ml.metrics import reliability_table  # noqa: E402


def _save(fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def cost_vs_threshold(y: np.ndarray, p: np.ndarray, costs: RowCosts, threshold: float, trivial: dict[str, float],
                      bayes: float | None, path: Path) -> Path:
    grid = np.unique(np.concatenate([np.linspace(0, 1, 201), np.quantile(p, np.linspace(0, 1, 101)), [threshold]]))
    n = len(y)
    cost = np.array([cost_at_threshold(y, p, t, costs) / n for t in grid])
    fig, ax = plt.subplots(figsize=(7, 4))
    ax.plot(grid, cost, label="model (out-of-fold, calibrated)")
    ax.axhline(trivial["grant_all"] / n, color="tab:red", ls="--", label="grant everyone")
    ax.axhline(trivial["refuse_all"] / n, color="tab:gray", ls="--", label="refuse everyone")
    ax.axvline(threshold, color="tab:green", label=f"chosen threshold {threshold:.3f}")
    if bayes is not None:
        ax.axvline(bayes, color="tab:olive", ls=":", label=f"c_FP/(c_FP+c_FN) = {bayes:.3f}")
    ax.set_xlim(0, min(1.0, max(0.5, threshold * 4)))
    ax.set_xlabel("threshold on the probability of default (refuse when p >= threshold)")
    ax.set_ylabel("business cost per applicant")
    ax.set_title("Business cost vs decision threshold")
    ax.legend(fontsize=8)
    return _save(fig, path)


def reliability(y: np.ndarray, curves: dict[str, np.ndarray], path: Path, n_bins: int = 10) -> Path:
    fig, ax = plt.subplots(figsize=(5.5, 5))
    top = 0.0
    for name, p in curves.items():
        tab = reliability_table(y, p, n_bins)
        ax.plot(tab["mean_predicted"], tab["observed_rate"], marker="o", label=name)
        top = max(top, tab["mean_predicted"].max(), tab["observed_rate"].max())
    top = min(1.0, top * 1.1 + 0.01)
    ax.plot([0, top], [0, top], color="black", lw=0.8, ls=":", label="perfect calibration")
    ax.set_xlim(0, top)
    ax.set_ylim(0, top)
    ax.set_xlabel("mean predicted probability (equal-frequency bins)")
    ax.set_ylabel("observed default rate")
    ax.set_title("Reliability diagram (out-of-fold)")
    ax.legend(fontsize=8)
    return _save(fig, path)


def comparison(rows: list[dict[str, Any]], path: Path) -> Path:
    df = pd.DataFrame(rows)
    df["label"] = df["model_family"] + " / " + df["imbalance"]
    df = df.sort_values("business_cost", ascending=False)
    fig, axes = plt.subplots(1, 2, figsize=(10, 0.35 * len(df) + 1.5), sharey=True)
    axes[0].barh(df["label"], df["business_cost"], color="tab:blue")
    axes[0].set_xlabel("business cost per applicant (lower is better)")
    axes[1].barh(df["label"], df["roc_auc"], color="tab:orange")
    axes[1].set_xlabel("ROC AUC (out-of-fold)")
    axes[1].set_xlim(max(0.0, df["roc_auc"].min() - 0.05), 1.0)
    fig.suptitle("Model families x imbalance strategies (identical folds)")
    return _save(fig, path)


def shap_beeswarm(expl: Explanation, path: Path, labels: dict[str, str], max_display: int = 20) -> Path:
    import shap  # heavy import only for the figure

    numeric = np.column_stack([
        pd.Categorical(c).codes.astype(float) if c.dtype == object else pd.to_numeric(c, errors="coerce")
        for _, c in expl.data.items()]) if len(expl.data.columns) else np.zeros((len(expl), 0))
    names = [labels.get(f, f) for f in expl.feature_names]
    e = shap.Explanation(values=expl.values, base_values=np.full(len(expl), expl.base_value), data=numeric,
                         feature_names=names)
    shap.plots.beeswarm(e, max_display=max_display, show=False)
    fig = plt.gcf()
    fig.set_size_inches(9, 0.4 * max_display + 1.5)
    return _save(fig, path)


def importance_bar(importance: list[dict[str, Any]], labels: dict[str, str], path: Path, top: int = 20) -> Path:
    items = importance[:top][::-1]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(items) + 1.2))
    ax.barh([labels.get(i["feature"], i["feature"]) for i in items], [i["mean_abs_shap"] for i in items])
    ax.set_xlabel("mean |SHAP value|")
    ax.set_title("Global feature importance")
    return _save(fig, path)


def local_waterfall(reasons: list[dict[str, Any]], title: str, path: Path) -> Path:
    items = reasons[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(items) + 1.2))
    colors = ["tab:red" if r["shap"] > 0 else "tab:green" for r in items]
    ax.barh([r["label"][:60] for r in items], [r["shap"] for r in items], color=colors)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("SHAP contribution (red raises the risk, green lowers it)")
    ax.set_title(title)
    return _save(fig, path)
