"""Fixtures of the API tests."""

from __future__ import annotations

import sys
from pathlib import Path

# tests/ is on sys.path for the root conftest, and the folder tests/api would shadow the package `api`
# (the editable install resolves packages after the path scan): put the repository first.
REPO_ROOT = Path(__file__).resolve().parents[2]
if sys.path[0] != str(REPO_ROOT):
    sys.path.insert(0, str(REPO_ROOT))
