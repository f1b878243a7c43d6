"""Container HEALTHCHECK: is the role this container runs alive? Exit 0 (healthy) or 1.

The entrypoint writes the role to $TMPDIR/hc-role. api: GET /health on HC_API_PORT (liveness: 200
while the process serves, even without a model; orchestrators route traffic with /ready). dashboard:
Streamlit's /_stcore/health. drift-scheduler: its heartbeat in reports/drift/scheduler.json is recent.
One-off roles (train, warehouse) are healthy while they run. Standard library only.
"""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

HEARTBEAT_MAX_AGE = 300.0  # the scheduler writes one every minute


def _get(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=4) as response:  # noqa: S310 - loopback only
            return response.status == 200
    except OSError:
        return False


def healthy(role: str, env: dict[str, str]) -> bool:
    if role == "api":
        return _get(f"http://127.0.0.1:{env.get('HC_API_PORT', '8000')}/health")
    if role == "dashboard":
        return _get(f"http://127.0.0.1:{env.get('HC_DASHBOARD_PORT', '8501')}/_stcore/health")
    if role == "drift-scheduler":
        state = Path(env.get("HC_ARTIFACTS", "artifacts")) / "reports" / "drift" / "scheduler.json"
        try:
            beat = datetime.fromisoformat(json.loads(state.read_text(encoding="utf-8"))["heartbeat"])
        except (OSError, ValueError, KeyError, TypeError):
            return False
        return (datetime.now(UTC) - beat).total_seconds() < HEARTBEAT_MAX_AGE
    return True


def main() -> int:
    try:
        role = (Path(os.environ.get("TMPDIR", "/tmp")) / "hc-role").read_text().strip()
    except OSError:
        role = "api"
    return 0 if healthy(role, dict(os.environ)) else 1


if __name__ == "__main__":
    sys.exit(main())
