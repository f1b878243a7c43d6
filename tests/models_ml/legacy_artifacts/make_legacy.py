"""Writes the legacy model directories next to this file (run once, with the code of commit 8da5712).

``python tests/models_ml/legacy_artifacts/make_legacy.py`` from the repository root, with the code as it was
before model families became a package: one tiny model per family on synthetic rows (no real data), saved with
``Predictor.save``, plus ``expected.json``: the raw probabilities and SHAP values that code gave for the rows
``make_features(40, seed=11)``. ``test_models_families.py`` loads them with today's code and compares.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from models_ml_synth import make_features  # noqa: E402

from models_ml.data import FeatureSchema, FeatureSpec  # noqa: E402
from models_ml.families import Candidate, FitContext, default_params, fit_candidate  # noqa: E402
from models_ml.predictor import Predictor  # noqa: E402
from models_ml.settings import PROFILES  # noqa: E402

TYPES = {"code_gender": "categorical", "name_family_status": "categorical", "name_education_type": "categorical",
         "flag_own_car": "boolean"}
CANDIDATES = [("lightgbm", "class_weight"), ("xgboost", "undersample"), ("logistic_regression", "class_weight"),
              ("random_forest", "none"), ("dummy", "none"), ("scorecard", "none")]


def main() -> None:
    df = make_features(400, seed=3)
    schema = FeatureSchema(tuple(FeatureSpec(c, TYPES.get(c, "numeric"))  # type: ignore[arg-type]
                                 for c in df.columns if c not in ("sk_id_curr", "target")))
    X, y = schema.prepare(df), df["target"].to_numpy()
    rows = schema.prepare(make_features(40, seed=11))
    profile = dataclasses.replace(PROFILES["fast"], rf_trees=5)  # small files
    ctx = FitContext(schema, profile, seed=0, n_jobs=1, undersample_ratio=0.5)
    for family, imbalance in CANDIDATES:
        params = default_params(family, len(y), profile)
        if family == "random_forest":
            params["max_depth"] = 4
        model = fit_candidate(Candidate(family, imbalance, params), X, y, ctx)
        pred = Predictor.from_fitted(model, schema, X)
        out = HERE / family
        out.mkdir(exist_ok=True)
        pred.save(out)
        expl = pred.explain(rows)
        (out / "expected.json").write_text(json.dumps({
            "raw": pred.predict_raw(rows).tolist(), "shap": expl.values.tolist(), "base_value": expl.base_value,
            "output_scale": expl.output_scale}))


if __name__ == "__main__":
    main()
