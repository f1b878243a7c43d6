"""``python -m models_ml.summary``: a short human summary of the promoted model (last step of ``make demo``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hc_contracts.layout import METADATA_FILE, ArtifactLayout
from hc_contracts.metadata import MetadataError, read_metadata
from models_ml.errors import ModelingError
from models_ml.settings import ModelSettings


def render_summary(artifacts: Path) -> str:
    layout = ArtifactLayout(Path(artifacts))  # (no heavy imports: this runs at the end of make demo)
    link = layout.current_model
    if not (link / METADATA_FILE).is_file():
        raise ModelingError(f"no promoted model at {link}; run `make train` first")
    try:
        meta = read_metadata(link).to_dict()
    except MetadataError as exc:
        raise ModelingError(str(exc)) from exc
    m, d = meta["metrics"], meta["data"]
    trivial = meta["trivial_policies"]
    best_name = min(trivial, key=lambda k: trivial[k])
    version_dir = link.resolve()
    lines = [
        f"Promoted model {meta['version']} ({version_dir})",
        f"  data        {d['rows']:,} applicants, {d['features']} features, {d['defaults']:,} defaulters "
        f"({100 * d['default_rate']:.2f} %)",
        f"  model       {meta['model_family']}, imbalance: {meta['imbalance']}, "
        f"calibration: {meta['calibration']['method']}",
        f"  CV ROC AUC  {m['roc_auc']:.4f} (+/- {m.get('roc_auc_std', 0):.4f} over {meta['n_folds']} folds)",
        f"  threshold   {meta['threshold']:.4f} (refuse when P(default) >= threshold; approval rate "
        f"{100 * m['approval_rate']:.1f} %)",
        f"  cost        {m['business_cost']:.4f} per applicant (c_FN={meta['cost_fn']:g}, c_FP={meta['cost_fp']:g}) "
        f"vs {trivial[best_name]:.4f} for the best trivial policy ({best_name.replace('_', ' ')}): "
        f"{100 * (1 - m['cost_vs_best_trivial']):.1f} % saved",
        f"  model card  {version_dir / 'model_card.md'} (+ model_card.html)",
    ]
    sub = layout.submission
    lines.append(f"  submission  {sub}" if sub.is_file() else "  submission  not written yet (make submission)")
    drift = layout.drift_latest
    if layout.drift_summary.is_file():
        lines.append(f"  drift       {drift.resolve() / 'report.html'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models_ml.summary", description=__doc__)
    parser.add_argument("--artifacts", type=Path, help="artifacts folder (HC_ARTIFACTS)")
    args = parser.parse_args(argv)
    settings = ModelSettings(**({"artifacts": args.artifacts} if args.artifacts else {}))
    try:
        print(render_summary(settings.artifacts))
    except ModelingError as exc:
        print(f"error: {exc}")
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
