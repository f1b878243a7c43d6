"""Evaluation metrics: discrimination, calibration, decisions at a threshold, per-fold spread, fairness."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, brier_score_loss, log_loss, roc_auc_score, roc_curve

from models_ml.cost import RowCosts, best_trivial, cost_at_threshold, decisions, trivial_costs

EPS = 1e-12


def ks_statistic(y: np.ndarray, p: np.ndarray) -> float:
    """Kolmogorov-Smirnov separation: max over thresholds of TPR - FPR."""
    fpr, tpr, _ = roc_curve(y, p)
    return float(np.max(tpr - fpr))


def expected_calibration_error(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> float:
    """ECE with equal-frequency bins: sum_b (n_b / n) * |mean(p_b) - mean(y_b)|.

    Equal-frequency bins suit a rare event (most probabilities are small); ties stay in one bin.
    """
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    if len(p) == 0:
        return float("nan")
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    total = 0.0
    for b in np.unique(bins):
        m = bins == b
        total += m.sum() / len(p) * abs(p[m].mean() - y[m].mean())
    return float(total)


def reliability_table(y: np.ndarray, p: np.ndarray, n_bins: int = 10) -> pd.DataFrame:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    edges = np.unique(np.quantile(p, np.linspace(0, 1, n_bins + 1)))
    bins = np.clip(np.searchsorted(edges, p, side="right") - 1, 0, max(len(edges) - 2, 0))
    rows = [{"bin": int(b), "n": int((bins == b).sum()), "mean_predicted": float(p[bins == b].mean()),
             "observed_rate": float(y[bins == b].mean())} for b in np.unique(bins)]
    return pd.DataFrame(rows)


def probability_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """Threshold-free metrics."""
    pc = np.clip(p, EPS, 1 - EPS)
    return {
        "roc_auc": float(roc_auc_score(y, p)),
        "pr_auc": float(average_precision_score(y, p)),
        "brier": float(brier_score_loss(y, p)),
        "log_loss": float(log_loss(y, pc, labels=[0, 1])),
        "ks": ks_statistic(y, p),
        "ece": expected_calibration_error(y, p),
    }


def decision_metrics(y: np.ndarray, p: np.ndarray, threshold: float, costs: RowCosts) -> dict[str, float]:
    """Confusion-based metrics and business cost at ``threshold`` (refuse when p >= threshold)."""
    y = np.asarray(y).astype(bool)
    refuse = decisions(p, threshold)
    tp = int((y & refuse).sum())
    fn = int((y & ~refuse).sum())
    fp = int((~y & refuse).sum())
    tn = int((~y & ~refuse).sum())
    n = len(y)
    total = cost_at_threshold(y, p, threshold, costs)
    trivial = trivial_costs(y, costs)
    best_name, best_cost = best_trivial(y, costs)
    return {
        "threshold": float(threshold),
        "tp": tp, "fn": fn, "fp": fp, "tn": tn,
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "approval_rate": (fn + tn) / n if n else float("nan"),
        "false_negative_rate": fn / (tp + fn) if tp + fn else float("nan"),
        "false_positive_rate": fp / (fp + tn) if fp + tn else float("nan"),
        "business_cost": total / n if n else float("nan"),
        "business_cost_total": total,
        "cost_grant_all": trivial["grant_all"] / n if n else float("nan"),
        "cost_refuse_all": trivial["refuse_all"] / n if n else float("nan"),
        "best_trivial_policy": best_name,
        "cost_vs_best_trivial": total / best_cost if best_cost > 0 else float("nan"),
    }


def fold_spread(y: np.ndarray, p: np.ndarray, folds: np.ndarray, threshold: float,
                costs: RowCosts) -> dict[str, object]:
    """Per-fold ROC AUC and business cost at the global threshold, with mean and standard deviation."""
    aucs, cost = [], []
    for k in np.unique(folds):
        m = folds == k
        aucs.append(float(roc_auc_score(y[m], p[m])) if len(np.unique(y[m])) == 2 else float("nan"))
        cost.append(cost_at_threshold(y[m], p[m], threshold, costs.subset(m)) / m.sum())
    return {
        "roc_auc_folds": aucs, "roc_auc_mean": float(np.nanmean(aucs)), "roc_auc_std": float(np.nanstd(aucs)),
        "business_cost_folds": cost, "business_cost_mean": float(np.mean(cost)),
        "business_cost_std": float(np.std(cost)),
    }


AGE_BANDS: tuple[tuple[str, float, float], ...] = (
    ("under 30", 0, 30), ("30-39", 30, 40), ("40-49", 40, 50), ("50-59", 50, 60), ("60 and over", 60, 200))


def age_in_years(frame: pd.DataFrame) -> pd.Series | None:
    """Age from an ``age*`` column in years, or from ``days_birth`` (negative days before application)."""
    for name in ("age_years", "age"):
        if name in frame.columns:
            return pd.to_numeric(frame[name], errors="coerce")
    if "days_birth" in frame.columns:
        return -pd.to_numeric(frame["days_birth"], errors="coerce") / 365.25
    return None


def age_band(age: pd.Series) -> pd.Series:
    out = pd.Series(np.nan, index=age.index, dtype=object)
    for name, lo, hi in AGE_BANDS:
        out[(age >= lo) & (age < hi)] = name
    return out


FAIRNESS_ATTRIBUTES = ("code_gender", "age_band", "name_family_status")


def fairness_slices(frame: pd.DataFrame, y: np.ndarray, p: np.ndarray, threshold: float,
                    min_group: int = 1) -> list[dict[str, object]]:
    """Approval rate, default rate, false negative and false positive rates per group of each attribute."""
    attrs: dict[str, pd.Series] = {}
    if "code_gender" in frame.columns:
        attrs["code_gender"] = frame["code_gender"]
    age = age_in_years(frame)
    if age is not None:
        attrs["age_band"] = age_band(age)
    if "name_family_status" in frame.columns:
        attrs["name_family_status"] = frame["name_family_status"]
    y = np.asarray(y).astype(bool)
    refuse = decisions(p, threshold)
    rows: list[dict[str, object]] = []
    for attr, values in attrs.items():
        groups = values.astype(object).where(values.notna(), "(missing)").astype(str).to_numpy()
        for g in sorted(set(groups)):
            m = groups == g
            n = int(m.sum())
            if n < min_group:
                continue
            pos, neg = y[m], ~y[m]
            rows.append({
                "attribute": attr, "group": g, "n": n,
                "default_rate": float(pos.mean()),
                "mean_probability": float(np.mean(p[m])),
                "approval_rate": float((~refuse[m]).mean()),
                "false_negative_rate": float((~refuse[m] & pos).sum() / pos.sum()) if pos.sum() else None,
                "false_positive_rate": float((refuse[m] & neg).sum() / neg.sum()) if neg.sum() else None,
            })
    return rows
