"""The model card and metadata.json are read by governance and copied to the tracking store: the example
explanation they carry must not hold the example applicant's own values (income, age, family, ...)."""

from __future__ import annotations

import json
import re
from pathlib import Path

SENTENCE = re.compile(r"^(?P<label>.+?) (is not available, which )?(raises|lowers) the estimated risk of default\.$")


def test_example_reasons_in_metadata_and_card_carry_no_applicant_value(trained_artifacts: Path) -> None:
    current = trained_artifacts / "models" / "current"
    meta = json.loads((current / "metadata.json").read_text())
    reasons = meta["local_example"]["reasons"]
    assert reasons, "the model card's example has reason codes"
    for r in reasons:
        assert "value" not in r, r
        m = SENTENCE.match(r["sentence"])
        assert m and m.group("label") == r["label"], r["sentence"]
    card = (current / "model_card.md").read_text()
    section = card.split("### Local example", 1)[1].split("\n## ", 1)[0]
    bullets = [line[2:] for line in section.splitlines() if line.startswith("* ")]
    assert len(bullets) == len(reasons)
    for line in bullets:
        assert SENTENCE.match(line.rsplit(" (", 1)[0]), line


def test_without_values_keeps_label_direction_and_contribution() -> None:
    from models_ml.reasons import without_values

    reasons = [
        {"feature": "amt_income_total", "label": "Income", "value": 135000.0, "shap": 0.4,
         "direction": "increases_risk", "sentence": "Income: 135,000. This raises the estimated risk of default."},
        {"feature": "ext_source_3", "label": "External score 3", "value": None, "shap": -0.2,
         "direction": "decreases_risk",
         "sentence": "External score 3 is not available, which lowers the estimated risk of default."},
    ]
    out = without_values(reasons)
    assert out == [
        {"feature": "amt_income_total", "label": "Income", "shap": 0.4, "direction": "increases_risk",
         "sentence": "Income raises the estimated risk of default."},
        {"feature": "ext_source_3", "label": "External score 3", "shap": -0.2, "direction": "decreases_risk",
         "sentence": "External score 3 is not available, which lowers the estimated risk of default."},
    ]
    assert "135" not in json.dumps(out)
