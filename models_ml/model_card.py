"""Model card / methodology note (Markdown + self-contained HTML) generated from a run's metadata."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import markdown

from models_ml.families import RF_ROWS_PER_TREE
from models_ml.reasons import FeatureLabeler

FAMILY_NAMES = {"dummy": "Dummy baseline (class prior)", "logistic_regression": "Logistic regression",
                "random_forest": "Random forest", "lightgbm": "LightGBM", "xgboost": "XGBoost",
                "scorecard": "Points scorecard (WoE logistic regression)"}
IMBALANCE_NAMES = {"none": "none", "class_weight": "class weights",
                   "undersample": "random undersampling of non-defaulters"}


def _f(v: Any, digits: int = 4) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _pct(v: Any) -> str:
    return "n/a" if v is None else f"{100 * float(v):.1f} %"


def _table(headers: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def render_markdown(meta: dict[str, Any], labeler: FeatureLabeler) -> str:
    m = meta["metrics"]
    d = meta["data"]
    cal = meta["calibration"]
    fam = FAMILY_NAMES.get(meta["model_family"], meta["model_family"])
    imb = IMBALANCE_NAMES.get(meta["imbalance"], meta["imbalance"])
    trivial = meta["trivial_policies"]
    best_trivial = min(trivial, key=lambda k: trivial[k])
    cost_word = ("c_FN x FN + c_FP x FP with c_FN = {fn:g} (a granted client who defaults) and c_FP = {fp:g} "
                 "(a refused client who would have repaid)").format(fn=meta["cost_fn"], fp=meta["cost_fp"])
    if meta.get("cost_mode") == "money":
        mc = meta["money_costs"]
        cost_word = (f"money-based: a missed defaulter costs {mc['loss_given_default']:.0%} of the credit amount "
                     f"(loss given default), a refused good client {mc['lost_margin_rate']:.0%} of it (lost "
                     "margin)")
    lines: list[str] = []
    add = lines.append
    add(f"# Model card -- credit default risk, version `{meta['version']}`\n")
    add(f"Created {meta['created_at']} by `make train` (profile `{meta['train_profile']}`, seed {meta['seed']}). "
        f"Selected model: **{fam}**, class imbalance handled by **{imb}**, calibration "
        f"**{cal['method']}**{' after prior correction' if cal['prior_correction_beta'] else ''}, "
        f"decision threshold **{meta['threshold']:.4f}** on the probability of default.\n")
    add("## Summary\n")
    add(_table(["quantity", "value"], [
        ["training applicants", f"{d['rows']:,} ({d['defaults']:,} defaulters, {_pct(d['default_rate'])})"],
        ["features", f"{d['features']}"],
        ["cross-validated ROC AUC", f"{m['roc_auc']:.4f} (fold spread +/- {m['roc_auc_std']:.4f})"],
        ["business cost per applicant", f"{m['business_cost']:.4f} (threshold re-chosen on other folds: "
                                        f"{m['business_cost_cv_threshold']:.4f})"],
        [f"best trivial policy ({best_trivial.replace('_', ' ')})", f"{trivial[best_trivial]:.4f}"],
        ["cost relative to the best trivial policy", _pct(m["cost_vs_best_trivial"])],
        ["approval rate at the threshold", _pct(m["approval_rate"])],
        ["recall of defaulters / precision of refusals", f"{_pct(m['recall'])} / {_pct(m['precision'])}"],
        ["Brier score / ECE (calibrated)", f"{m['brier']:.4f} / {m['ece']:.4f}"],
    ]))
    add("\n## Intended use\n")
    add("Scores a consumer-credit application with the probability that the client will have payment "
        "difficulties, and recommends *grant* or *refuse* for a relationship officer who makes the final "
        "decision and explains it to the client. Not for automated refusal without human review, nor for "
        "populations or products unlike the training data.\n")
    add("## Data\n")
    add(f"The warehouse table `training_set` ({d['warehouse']}): one row per applicant, {d['rows']:,} rows, "
        f"{d['features']} features built by the dbt models (application columns and per-table aggregates of "
        f"the credit bureau, previous applications, instalments, POS/cash and credit-card histories). "
        f"Target: 1 when the client had payment difficulties. Data fingerprint `{meta['data_fingerprint'][:23]}...`."
        + (f" Columns not used (not numeric, text or boolean): {', '.join(meta['excluded_columns'])}."
           if meta["excluded_columns"] else "") + "\n")
    add("## Training method\n")
    add(f"* **Validation**: stratified {meta['n_folds']}-fold cross-validation (shuffled, seed {meta['seed']}); "
        "every candidate sees exactly the same folds, every figure below is computed on out-of-fold "
        "predictions (no applicant is scored by a model that saw it).")
    add("* **Candidates**: a dummy baseline (predicts the class prior), logistic regression, random forest, "
        "LightGBM and XGBoost, each with three ways of handling the ~8 % default rate: none, class weights, and "
        "random undersampling of non-defaulters (imbalanced-learn, applied inside the training folds only).")
    add("* **Preprocessing**: scikit-learn pipelines for the linear and forest models (median imputation with "
        "missing-value indicators, standardisation, one-hot encoding of categories, unseen levels ignored); "
        "native categorical and missing-value handling for LightGBM and XGBoost.")
    add("* **Optimisation**: gradient boosting minimises the log loss. The number of boosting rounds is chosen "
        "without looking at the test folds: each training fold holds out a stratified 15 % split, the "
        "validation ROC AUC curves of the folds are averaged and smoothed, and its maximum (after a minimum "
        "number of rounds) gives one round count for every fold; on small data (< 30,000 rows) each fold is "
        "then refit on all its training rows with proportionally more rounds. The final model is refit on "
        f"all rows with 1.1 x that round count ({meta.get('boosting_rounds') or 'n/a'}). Logistic regression: "
        "L2-penalised maximum likelihood (L-BFGS); random forest: each tree grown on a bootstrap sample of half "
        f"the rows, at most {RF_ROWS_PER_TREE:,}, Gini splits.")
    add(f"* **Selection**: {meta['selection_rule']}.")
    if meta.get("tuning") and len(meta["tuning"]) > 1:
        add(f"* **Tuning**: {len(meta['tuning']) - 1} random-search trial(s) of the selected family under the same "
            "cost and folds, bounded by a time budget.")
    for note in meta.get("notes", []):
        add(f"* Note: {note}.")
    add("\n### Comparison (out-of-fold, identical folds)\n")
    rows = sorted(meta["comparison"], key=lambda r: r["business_cost"])
    add(_table(["family", "imbalance", "ROC AUC", "PR AUC", "cost / applicant", "cost, cross-fitted threshold",
                "vs best trivial", "fit time (s)"],
               [[FAMILY_NAMES.get(r["model_family"], r["model_family"]), IMBALANCE_NAMES.get(r["imbalance"]),
                 _f(r["roc_auc"]), _f(r["pr_auc"]), _f(r["business_cost"]), _f(r["business_cost_cv_threshold"]),
                 _pct(r["cost_vs_best_trivial"]), _f(r["fit_seconds"], 1)] for r in rows]))
    add("\n![comparison](comparison.png)\n")
    add("## Cost function and decision threshold\n")
    add(f"Business cost = {cost_word}, reported per applicant. The trivial policies cost "
        f"{trivial['grant_all']:.4f} (grant everyone) and {trivial['refuse_all']:.4f} (refuse everyone) per "
        f"applicant. The threshold minimises the total cost over the calibrated out-of-fold probabilities "
        f"(exact search over every distinct split): **{meta['threshold']:.4f}**"
        + (f"; with perfectly calibrated probabilities theory gives c_FP/(c_FP+c_FN) = "
           f"{meta['threshold_bayes']:.4f}." if meta.get("threshold_bayes") is not None else ".")
        + " Because the threshold is chosen on the same predictions it is evaluated on, the cost is also "
        f"reported with the threshold re-chosen on the other folds ({m['business_cost_cv_threshold']:.4f}).\n")
    add("![cost vs threshold](cost_vs_threshold.png)\n")
    add("Risk bands shown to officers (probability of default):\n")
    add(_table(["band", "from", "to", "decision"],
               [[b["name"], _f(b["lower"]), _f(b["upper"]), b.get("decision", "")] for b in meta["risk_bands"]]))
    add("\n## Evaluation metrics\n")
    add("ROC AUC (ranking quality, the primary statistical metric), PR AUC (ranking of the rare class), Brier "
        "score and log loss (probability quality), KS, expected calibration error (ECE, 10 equal-frequency "
        "bins), and at the threshold: recall, precision, approval rate and the business cost, which drives "
        "selection.\n")
    add(_table(["metric", "value"], [[k, _f(m[k])] for k in
               ("roc_auc", "pr_auc", "brier", "log_loss", "ks", "ece", "recall", "precision", "approval_rate",
                "false_negative_rate", "false_positive_rate", "business_cost")]))
    add(f"\nPer fold ROC AUC: {', '.join(_f(v) for v in m['roc_auc_folds'])} (mean {m['roc_auc_mean']:.4f}, "
        f"sd {m['roc_auc_std']:.4f}); per fold cost: {', '.join(_f(v) for v in m['business_cost_folds'])} "
        f"(sd {m['business_cost_std']:.4f}).\n")
    add("## Calibration\n")
    add("Class weights and undersampling inflate predicted probabilities; the prior correction "
        "p = b p_s / (b p_s - p_s + 1), with b the rate at which non-defaulters were kept or weighted, "
        "restores the true base rate. Sigmoid (Platt) and isotonic maps fitted on out-of-fold predictions are "
        "then compared by cross-fitted Brier score (each fold mapped by a calibrator fitted on the other "
        "folds); a more complex map must win by 0.5 %.\n")
    add(_table(["method", "Brier", "ECE"],
               [["raw out-of-fold", _f(cal["before"]["brier"]), _f(cal["before"]["ece"])]]
               + [[c["method"] + (" (after prior correction)" if c["prior_correction"] else ""), _f(c["brier"]),
                   _f(c["ece"])] for c in cal["candidates"]]))
    add(f"\nChosen: **{cal['method']}** (Brier {cal['after']['brier']:.4f}, ECE {cal['after']['ece']:.4f}).\n")
    add("![reliability](reliability.png)\n")
    mono = meta.get("monotone")
    if mono:
        feats = mono.get("features", {})
        add("## Monotone constraints\n")
        add(f"`HC_MONOTONE=auto`: the boosted trees are constrained to the direction of the default rate for the "
            f"{len(feats)} features with a clear trend on the training rows (decile bins, rank correlation >= 0.9, "
            "IV >= 0.02); the rest are free. Cost on the same folds, against the same candidate without "
            f"constraints: ROC AUC {mono['constrained']['roc_auc']:.4f} vs {mono['unconstrained']['roc_auc']:.4f} "
            f"({mono['auc_change']:+.4f}), business cost per applicant {mono['constrained']['business_cost']:.4f} "
            f"vs {mono['unconstrained']['business_cost']:.4f} ({mono['cost_change']:+.4f}).\n")
        if feats:
            add(_table(["feature", "risk with the value"], [[f"`{f}`", d] for f, d in sorted(feats.items())[:40]]))
            add("")
    if meta.get("strongest_characteristics"):
        add("## Strongest characteristics\n")
        add("Information value of each feature alone on decile bins (missing values in a bin of their own); "
            "IV < 0.02 useless, < 0.1 weak, < 0.3 medium, < 0.5 strong, above: suspicious (check for leakage). "
            "`make feature-report` screens every feature with optimal binning, trends and stability.\n")
        add(_table(["rank", "feature", "label", "IV", "verdict"],
                   [[i + 1, f"`{c['feature']}`", labeler.label(c["feature"]), _f(c["iv"], 3), c["verdict"]]
                    for i, c in enumerate(meta["strongest_characteristics"])]))
        add("")
    if meta.get("scorecard"):
        lines.extend(scorecard_section(meta["scorecard"], labeler))
    add("## Interpretability\n")
    points = meta["explanation_output_scale"] == "points"
    if points:
        add("The scorecard explains itself: each characteristic's contribution is the points it earned "
            "(exactly additive to the score); reason codes are the characteristics with the largest shortfall "
            "from their best bin. Importance below: the mean absolute deviation of a characteristic's points "
            "from their average.\n")
    else:
        add(f"SHAP values (exact tree SHAP for boosted trees, linear SHAP for logistic regression) on the "
            f"{meta['explanation_output_scale'].replace('_', '-')} scale; one-hot columns are summed back to their "
            "feature. The API explains one applicant in milliseconds with the same method.\n")
    add("### Global importance (mean |points - average|)\n" if points else "### Global importance (mean |SHAP|)\n")
    add(_table(["rank", "feature", "label", "mean abs deviation (points)" if points else "mean abs SHAP"],
               [[i + 1, f"`{g['feature']}`", labeler.label(g["feature"]), _f(g["mean_abs_shap"])]
                for i, g in enumerate(meta["global_importance"][:15])]))
    add("\n![SHAP beeswarm](shap_beeswarm.png)\n")
    loc = meta["local_example"]
    add("### Local example\n")
    add(f"A training applicant with calibrated probability {loc['probability']:.3f} -> **{loc['decision']}**. "
        "Reason codes as read to the client:\n")
    for r in loc["reasons"]:
        add(f"* {r['sentence']}" + ("" if "shortfall" in r else f" (SHAP {r['shap']:+.3f})"))
    add("\n![local explanation](local_explanation.png)\n")
    add("## Protected attributes and fairness\n")
    prot = meta.get("protected_attributes") or {"attributes": [], "features_left_out": {}}
    if prot["attributes"]:
        left = prot["features_left_out"]
        add(f"Protected attributes (`HC_PROTECTED_ATTRIBUTES`): {', '.join(f'`{a}`' for a in prot['attributes'])}. "
            "They and every feature the warehouse computes from them are left out of the model inputs "
            f"({', '.join(f'`{f}`' for f in left) or 'none found'}); they are read only to measure the "
            "figures below. No score, explanation or reason code can use them.\n")
    else:
        add("No protected attribute is configured (`HC_PROTECTED_ATTRIBUTES` is empty): every warehouse "
            "feature may feed the model.\n")
    add("Out-of-fold decisions at the threshold per group, computed with fairlearn's `MetricFrame` (refusal "
        "is the positive prediction). Differences are descriptive and must be reviewed by risk governance.\n")
    summary = meta.get("fairness_summary") or {}
    if summary:
        add(_table(["attribute", "groups", "demographic parity difference (approval rate)",
                    "equalized odds difference", "FNR difference", "FPR difference", "default rate difference"],
                   [[a, v["groups"], _f(v["demographic_parity_difference"]), _f(v["equalized_odds_difference"]),
                     _f(v["false_negative_rate_difference"]), _f(v["false_positive_rate_difference"]),
                     _f(v["default_rate_difference"])] for a, v in summary.items()]))
        add("")
    add(_table(["attribute", "group", "n", "default rate", "approval rate", "false negative rate",
                "false positive rate"],
               [[s["attribute"], s["group"], s["n"], _pct(s["default_rate"]), _pct(s["approval_rate"]),
                 _pct(s["false_negative_rate"]), _pct(s["false_positive_rate"])] for s in meta["fairness"]]))
    add("\n## Limits and possible improvements\n")
    add("* The cost weights (c_FN, c_FP) are business assumptions; the threshold must be revisited when they "
        "change (it is a setting, and the cost curve shows the sensitivity).")
    add("* Out-of-fold estimates assume future applicants resemble the training population; monitor drift "
        "(weekly Evidently report) and recalibrate or retrain when it appears.")
    add("* The target is observed only for granted loans (reject inference is not addressed).")
    add("* Attributes outside the protected list (by default age and family status) may still feed the model, "
        "as may proxies of protected ones; the group error rates above are the check (see docs/modeling.md).")
    add("* Improvements: richer temporal features from the payment histories, longer tuning (Bayesian "
        "optimisation), monotonic constraints for interpretability, an ensemble of the boosted families.")
    add("\n## Reproducibility\n")
    add("Same warehouse (fingerprint) and seed give the same metrics. Packages: "
        + ", ".join(f"{k} {v}" for k, v in meta["package_versions"].items()) + ".")
    return "\n".join(lines) + "\n"


def scorecard_section(sc: dict[str, Any], labeler: FeatureLabeler) -> list[str]:
    """The scorecard's scaling, characteristics, bins and points, and the points -> probability map."""
    served = sc.get("served", True)
    out = ["## Scorecard\n" if served else "## Scorecard (challenger, not served)\n",
           ("" if served else "The points scorecard was compared with the other families (see the comparison) "
            "but not selected; it is fitted on every row and shown here for model-risk review.\n"),
           f"Points scaled so that {sc['base_score']:g} points mean good:bad odds of {sc['base_odds']:g}:1 and "
           f"every {sc['pdo']:g} points double the odds: score = {sc['offset']:.2f} + {sc['factor']:.4f} x "
           "ln(odds), points rounded to integers. A client's score is the sum of the points of the bins their "
           "values fall in; scores range from "
           f"{sc['score_min']:g} to {sc['score_max']:g}. Bins by optbinning (optimal binning under a monotonic "
           f"trend, each bin at least {100 * sc['info'].get('min_bin_share', 0):.0f} % of the rows; special "
           "values and missing values in bins of their own); characteristics screened by information value "
           f"({sc['info'].get('screened', 'n/a')} binned, WoE correlation at most "
           f"{sc['info'].get('max_correlation', 'n/a')}"
           + (f"; dropped for a coefficient of the wrong sign: {', '.join(sc['info']['dropped_wrong_sign'])}"
              if sc["info"].get("dropped_wrong_sign") else "") + ").\n",
           _table(["characteristic", "label", "IV", "trend", "bins"],
                  [[f"`{c['name']}`", labeler.label(c["name"]), _f(c["iv"], 3), c["trend"] or "by event rate",
                    c["bins"]] for c in sc["characteristics"]]),
           "\n### Scorecard table\n",
           _table(["characteristic", "bin", "count", "event rate", "WoE", "points"],
                  [[r["characteristic"], r["bin"].replace("|", "/"), r["count"], _pct(r["event_rate"]),
                    _f(r["woe"], 3), f"{r['points']:g}"] for r in sc["table"]]),
           "\n### Points to probability\n",
           "The scorecard's own probability of default for a score"
           + (", and the calibrated probability the decision uses:\n" if served else ":\n"),
           _table(["score", "probability (scorecard)", "probability (calibrated)"] if served
                  else ["score", "probability (scorecard)"],
                  [[f"{r['score']:g}", _pct(r["probability_raw"])] + ([_pct(r["probability"])] if served else [])
                   for r in sc["score_to_probability"]]),
           ""]
    return out


def _inline_images(html: str, directory: Path) -> str:
    def repl(match: re.Match[str]) -> str:
        src = match.group(1)
        path = directory / src
        if not path.is_file():
            return match.group(0)
        data = base64.b64encode(path.read_bytes()).decode()
        return f'src="data:image/png;base64,{data}"'

    return re.sub(r'src="([^":]+\.png)"', repl, html)


def write_model_card(directory: Path, meta: dict[str, Any], curve_points: int = 0,
                     labeler: FeatureLabeler | None = None) -> None:
    labeler = labeler or FeatureLabeler.default()
    md = render_markdown(meta, labeler)
    (directory / "model_card.md").write_text(md, encoding="utf-8")
    body = markdown.markdown(md, extensions=["tables"])
    html = ("<!doctype html><html><head><meta charset='utf-8'><title>Model card "
            f"{meta['version']}</title><style>body{{font-family:sans-serif;max-width:60em;margin:2em auto;"
            "line-height:1.45}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;"
            "font-size:90%}img{max-width:100%}</style></head><body>" + _inline_images(body, directory)
            + "</body></html>\n")
    (directory / "model_card.html").write_text(html, encoding="utf-8")
