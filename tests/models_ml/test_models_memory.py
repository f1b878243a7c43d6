"""Memory freed between training steps goes back to the system (glibc keeps it otherwise, and the next fold's
matrices came on top of it: ~1 GiB more at the peak of a SCALE=1 `make train`)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from models_ml import cv, memory
from models_ml.cv import cross_validate, make_folds
from models_ml.families import Candidate, FitContext, default_params
from models_ml.settings import PROFILES

HEAP_PROBE = """
import os
from models_ml import memory

def rss_mib():
    with open(f"/proc/{os.getpid()}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20

blocks = [bytes(2048) for _ in range(150_000)]  # ~300 MiB of heap chunks (above pymalloc's 512 bytes)
keep = blocks[::64]                              # a few survivors pin the heap: it cannot shrink from its top
del blocks
held = rss_mib()
released = memory.release()
print(released, round(held - rss_mib()))
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or memory._malloc_trim() is None,
                    reason="malloc_trim is a glibc call")
def test_release_gives_the_freed_heap_back() -> None:
    out = subprocess.run([sys.executable, "-c", HEAP_PROBE], capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == "True"
    assert int(out[1]) > 150  # MiB given back of the ~290 freed (before the fix they stayed resident)


def test_cross_validation_releases_memory_after_each_fold(monkeypatch) -> None:
    from models_ml_synth import make_features
    from test_models_families import schema_of

    df = make_features(300, seed=1)
    schema = schema_of(df)
    X, y = schema.prepare(df), df["target"].to_numpy()
    calls: list[int] = []
    monkeypatch.setattr(cv.memory, "release", lambda: calls.append(1) or True)
    ctx = FitContext(schema, PROFILES["fast"], seed=0, n_jobs=1, undersample_ratio=0.5)
    cand = Candidate("logistic_regression", "none", default_params("logistic_regression", len(y), ctx.profile))
    res = cross_validate(cand, X, y, make_folds(y, 3, 0), ctx)
    assert len(calls) == 3 and not np.isnan(res.oof).any()
