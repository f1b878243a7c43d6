"""Helpers shared by the dashboard tests (a uniquely named module: tests/dashboard is on sys.path)."""

from __future__ import annotations

import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "app.py"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


PAGES = {
    "client": "views/client.py",
    "why": "views/why.py",
    "client_data": "views/client_data.py",
    "comparison": "views/comparison.py",
    "what_if": "views/what_if.py",
    "model": "views/model.py",
}


def page_text(at) -> str:
    """Every text the page shows (markdown, captions, alerts, metrics, tables), for assertions."""
    parts: list[str] = []
    for kind in (
        "title",
        "header",
        "subheader",
        "markdown",
        "caption",
        "info",
        "warning",
        "error",
        "success",
        "text",
    ):
        parts.extend(str(e.value) for e in getattr(at, kind))
    for m in at.metric:
        parts.append(f"{m.label}: {m.value}")
    for t in at.table:
        parts.append(t.value.to_string())
    return "\n".join(parts)
