"""Readable labels of warehouse feature names: the modeling layer's labeler (one source of labels for
the whole platform), or the name spelled out when its resource file cannot be read."""

from __future__ import annotations

from functools import cache

from models_ml.reasons import FeatureLabeler


@cache
def _labeler() -> FeatureLabeler | None:
    try:
        return FeatureLabeler.default()
    except Exception:  # pragma: no cover - a missing resource file must not break the API
        return None


@cache
def feature_label(name: str) -> str:
    labeler = _labeler()
    if labeler is not None:
        return labeler.label(name)
    text = name.replace("_", " ").strip()
    return text[:1].upper() + text[1:]
