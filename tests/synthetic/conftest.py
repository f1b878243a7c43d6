"""A small synthetic data set generated once for the synthetic-generator tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

# tests/ is on sys.path for the root conftest, and the folder tests/warehouse would shadow the package
# `warehouse` (as a namespace package) unless the repository root comes first.
REPO_ROOT = Path(__file__).resolve().parents[2]
if sys.path[0] != str(REPO_ROOT):
    sys.path.insert(0, str(REPO_ROOT))
if "warehouse" in sys.modules and getattr(sys.modules["warehouse"], "__file__", None) is None:
    del sys.modules["warehouse"]

from synthetic.generator import Plan, Summary, generate  # noqa: E402

SCALE = 0.005
SEED = 11


@pytest.fixture(scope="session")
def synthetic_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Summary]:
    out = tmp_path_factory.mktemp("synthetic") / "raw"
    summary = generate(out, Plan.for_scale(SCALE, SEED))
    return out, summary


@pytest.fixture(scope="session")
def synthetic_dir(synthetic_run: tuple[Path, Summary]) -> Path:
    return synthetic_run[0]


@pytest.fixture(scope="session")
def synthetic_scale() -> float:
    return SCALE


@pytest.fixture(scope="session")
def real_leaf_sizes(real_marginals_dir: Path) -> dict[str, dict[str, list[int]]]:
    """The committed file's tree leaves' real rows (`synthetic.fit.gibbs_leaf_sizes`: the real rows routed down
    the stored trees), which the file does not write since stop 31; skips without the real rows."""
    import json

    from synthetic.fit import gibbs_leaf_sizes
    from synthetic.stats import STATS_PATH

    return gibbs_leaf_sizes(real_marginals_dir, json.loads(STATS_PATH.read_text(encoding="utf-8")))
