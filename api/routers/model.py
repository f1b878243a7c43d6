"""The model being served."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter

from api.deps import KEY_REQUIRED, ModelDep
from api.schemas.responses import ModelInfo

router = APIRouter(prefix="/v1", tags=["model"], dependencies=KEY_REQUIRED)


@lru_cache(maxsize=8)
def card_summary(path: Path, max_chars: int = 4000) -> str | None:
    """The model card up to its second level-2 heading (title and summary), markdown."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return None
    headings = [m.start() for m in re.finditer(r"^## ", text, flags=re.MULTILINE)]
    end = headings[1] if len(headings) > 1 else len(text)
    return text[:end].strip()[:max_chars] or None


@router.get("/model", response_model=ModelInfo, summary="Version, threshold, costs, metrics, features, importance")
def model_info(model: ModelDep) -> ModelInfo:
    meta = model.metadata
    return ModelInfo(
        version=model.version,
        model_family=meta.model_family,
        imbalance=meta.imbalance,
        threshold=float(model.threshold),
        cost_fn=meta.cost_fn,
        cost_fp=meta.cost_fp,
        metrics=meta.metrics.model_dump(mode="json", exclude_unset=True),
        features=[f.model_dump(mode="json") for f in meta.features],
        global_importance=[g.model_dump(mode="json") for g in meta.global_importance],
        risk_bands=[b.model_dump(mode="json", exclude_unset=True) for b in meta.risk_bands],
        model_card_summary=card_summary(Path(model.path) / "model_card.md"),
    )
