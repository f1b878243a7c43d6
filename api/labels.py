"""Readable labels of warehouse feature names: the modeling layer's labeler (one source of labels for
the whole platform), or the name spelled out when that package is absent."""

from __future__ import annotations

from functools import cache


@cache
def _labeler():  # noqa: ANN202 - optional dependency
    try:
        from models_ml.reasons import FeatureLabeler
    except ImportError:  # pragma: no cover - depends on the install
        return None
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
