"""Step `promote`: point models/current at the new version (atomic symlink swap) and mirror it in MLflow, or
leave it a challenger (``promote`` off)."""

from __future__ import annotations

import logging
from pathlib import Path

from models_ml import track
from models_ml.registry import promote

log = logging.getLogger("models_ml.train")


def promote_version(path: Path, artifacts: Path, promote_it: bool, run: track.TrainingRun | None = None) -> bool:
    """Log the version to the MLflow run (alias ``challenger`` when not promoted); promote it when asked.
    Returns whether models/current now points at it."""
    if run is not None:
        run.log_version(path, alias=None if promote_it else track.CHALLENGER)  # promote() mirrors the champion
    if not promote_it:
        return False
    promote(artifacts, path.name)
    log.info("promoted %s -> %s", path.parent / "current", path.name)
    return True
