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


def fairness_groups(sensitive: pd.DataFrame) -> dict[str, np.ndarray]:
    """Group label of every row for each fairness attribute present (missing values form their own group)."""
    attrs: dict[str, pd.Series] = {}
    if "code_gender" in sensitive.columns:
        attrs["code_gender"] = sensitive["code_gender"]
    age = age_in_years(sensitive)
    if age is not None:
        attrs["age_band"] = age_band(age)
    if "name_family_status" in sensitive.columns:
        attrs["name_family_status"] = sensitive["name_family_status"]
    return {a: v.astype(object).where(v.notna(), "(missing)").astype(str).to_numpy() for a, v in attrs.items()}


def _rate(num: np.ndarray, den: np.ndarray) -> float:
    return float(num.sum() / den.sum()) if den.sum() else float("nan")


def fairness_report(sensitive: pd.DataFrame, y: np.ndarray, p: np.ndarray,
                    threshold: float) -> tuple[list[dict[str, object]], dict[str, dict[str, object]]]:
    """Per group (fairlearn ``MetricFrame``): size, default rate, mean probability, approval rate, false
    negative rate (defaulters granted) and false positive rate (good clients refused); per attribute the
    demographic-parity difference (largest gap in approval rates) and the equalized-odds difference (largest
    gap in true- or false-positive rates), both from fairlearn. Refusal is the positive prediction."""
    import warnings

    from fairlearn.metrics import MetricFrame, demographic_parity_difference, equalized_odds_difference

    y = np.asarray(y).astype(int)
    refuse = decisions(p, threshold).astype(int)
    p = np.asarray(p, dtype=float)
    metrics = {
        "n": lambda t, r: len(t),
        "default_rate": lambda t, r: float(np.mean(t)),
        "approval_rate": lambda t, r: float(np.mean(r == 0)),
        "false_negative_rate": lambda t, r: _rate((t == 1) & (r == 0), t == 1),
        "false_positive_rate": lambda t, r: _rate((t == 0) & (r == 1), t == 0),
    }
    slices: list[dict[str, object]] = []
    summary: dict[str, dict[str, object]] = {}
    for attr, groups in fairness_groups(sensitive).items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            mf = MetricFrame(metrics=metrics, y_true=y, y_pred=refuse, sensitive_features=pd.Series(groups, name=attr))
            mean_p = MetricFrame(metrics={"mean_probability": lambda t, q: float(np.mean(q))}, y_true=y, y_pred=p,
                                 sensitive_features=pd.Series(groups, name=attr))
            try:
                eod: float | None = float(equalized_odds_difference(y, refuse, sensitive_features=groups))
            except (ValueError, ZeroDivisionError):
                eod = None
            dpd = float(demographic_parity_difference(y, refuse, sensitive_features=groups))
        table = mf.by_group
        for g in table.index:
            row = table.loc[g]
            slices.append({
                "attribute": attr, "group": str(g), "n": int(row["n"]), "default_rate": float(row["default_rate"]),
                "mean_probability": float(mean_p.by_group.loc[g, "mean_probability"]),
                "approval_rate": float(row["approval_rate"]),
                "false_negative_rate": None if np.isnan(row["false_negative_rate"]) else float(row["false_negative_rate"]),
                "false_positive_rate": None if np.isnan(row["false_positive_rate"]) else float(row["false_positive_rate"]),
            })
        diff = mf.difference(method="between_groups")
        summary[attr] = {
            "groups": int(len(table)),
            "demographic_parity_difference": dpd,
            "equalized_odds_difference": None if eod is None or not np.isfinite(eod) else eod,
            "approval_rate_difference": float(diff["approval_rate"]),
            "false_negative_rate_difference": None if np.isnan(diff["false_negative_rate"])
            else float(diff["false_negative_rate"]),
            "false_positive_rate_difference": None if np.isnan(diff["false_positive_rate"])
            else float(diff["false_positive_rate"]),
            "default_rate_difference": float(diff["default_rate"]),
        }
    return slices, summary


def fairness_slices(frame: pd.DataFrame, y: np.ndarray, p: np.ndarray, threshold: float) -> list[dict[str, object]]:
    """The per-group rows of ``fairness_report`` (kept for callers that want only the slices)."""
    return fairness_report(frame, y, p, threshold)[0]
