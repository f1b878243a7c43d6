"""What-if: a known applicant re-scored with some application values changed (its own history kept)."""

from __future__ import annotations

from typing import Any

import pandas as pd
from fastapi.exceptions import RequestValidationError
from pydantic_core import PydanticCustomError

from api.convert import scalar
from api.features import FeatureStore
from api.new_applications import OnlineFeatures
from api.schemas.requests import check_family_rules
from api.schemas.responses import FeatureChange, WhatIf
from api.scoring import UnknownApplicants, score_of
from api.scoring_model import ScoringModel


def check_changed_family(official: pd.DataFrame, changes: dict[str, Any]) -> None:
    """The warehouse's cross-column rules hold for the changed application (changed values, else stored)."""
    merged = {}
    for name in ("CNT_FAM_MEMBERS", "CNT_CHILDREN"):
        stored = official[name.lower()].iloc[0] if name.lower() in official.columns else None
        merged[name] = changes.get(name, None if stored is None or pd.isna(stored) else float(stored))
    try:
        check_family_rules(merged)
    except PydanticCustomError as exc:
        at = (exc.context or {}).get("at") or []
        raise RequestValidationError([{"loc": ("body", *at), "msg": exc.message(), "type": "value_error"}]) from None


def feature_changes(model: ScoringModel, before: pd.DataFrame, after: pd.DataFrame) -> list[FeatureChange]:
    """The model features whose value differs between two one-row frames (missing on both: unchanged)."""
    moved = []
    for name in model.feature_types:
        old, new = before[name].iloc[0], after[name].iloc[0]
        if pd.isna(old) and pd.isna(new):
            continue
        if pd.isna(old) or pd.isna(new) or old != new:
            moved.append(FeatureChange(feature=name, label=model.label(name), before=scalar(old), after=scalar(new)))
    return moved


class WhatIfService:
    def __init__(self, features: FeatureStore, online: OnlineFeatures) -> None:
        self.features = features
        self.online = online

    def what_if(self, model: ScoringModel, sk_id: int, changes: dict[str, Any]) -> WhatIf:
        """The applicant scored as it stands and with `changes` (Kaggle names). Hypothetical scores are not
        written to the request log (monitoring reads it as the population actually scored)."""
        gen, cursor = self.features.cursor()  # one warehouse file for the stored row and the recomputation
        official = self.features.get(sk_id, gen)
        if official is None:
            raise UnknownApplicants([sk_id])
        check_changed_family(official, changes)
        scenario = self.online.what_if(gen, cursor, sk_id, {k.lower(): v for k, v in changes.items()})
        if scenario.empty:  # the warehouse was swapped in between and no longer holds the applicant
            raise UnknownApplicants([sk_id])
        p_official, p_scenario = (float(model.predict_proba(r)[0]) for r in (official, scenario))
        return WhatIf(
            sk_id_curr=int(sk_id),
            model_version=model.version,
            changes=dict(changes),
            official=score_of(model, sk_id, p_official),
            scenario=score_of(model, sk_id, p_scenario),
            feature_changes=feature_changes(model, official, scenario),
        )
