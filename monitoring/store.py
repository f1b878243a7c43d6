"""Report folders: ``<reports>/<YYYYMMDDTHHMMSSZ>/``, the ``latest`` symlink and ``index.html``.

A report is built in a hidden temporary folder and renamed into place only when complete; ``latest``
is switched with a temporary symlink and ``os.replace``; ``index.html`` is rewritten through a
temporary file. A failed run therefore leaves the previous reports, ``latest`` and index untouched.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from monitoring.pages import index_page

LATEST = "latest"
INDEX = "index.html"
SUMMARY = "summary.json"
REPORT = "report.html"


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _free_name(root: Path, name: str) -> str:
    candidate, n = name, 1
    while (root / candidate).exists():
        n += 1
        candidate = f"{name}-{n}"
    return candidate


@contextmanager
def new_report_dir(root: Path, moment: datetime) -> Iterator[Path]:
    """Yield a temporary folder to write into; on success it becomes ``root/<stamp>`` and ``latest``."""
    root.mkdir(parents=True, exist_ok=True)
    tmp = root / f".tmp-{stamp(moment)}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        yield tmp
        final = root / _free_name(root, stamp(moment))
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    point_latest(root, final.name)
    write_index(root)


def point_latest(root: Path, name: str) -> None:
    tmp_link = root / f".latest-{uuid.uuid4().hex[:8]}"
    os.symlink(name, tmp_link)  # relative: the reports folder can move
    try:
        os.replace(tmp_link, root / LATEST)
    except BaseException:
        tmp_link.unlink(missing_ok=True)
        raise


def list_reports(root: Path) -> list[tuple[str, dict[str, Any] | None]]:
    """``(folder name, summary or None if unreadable)`` for every report folder, newest first."""
    if not root.is_dir():
        return []
    out = []
    for folder in sorted((p for p in root.iterdir()
                          if p.is_dir() and not p.is_symlink() and not p.name.startswith(".")),
                         key=lambda p: p.name, reverse=True):
        try:
            summary = json.loads((folder / SUMMARY).read_text())
        except (OSError, json.JSONDecodeError):
            summary = None
        out.append((folder.name, summary))
    return out


def write_index(root: Path) -> Path:
    latest = (root / LATEST).resolve().name if (root / LATEST).exists() else None
    html = index_page(list_reports(root), latest)
    tmp = root / f".{INDEX}.{uuid.uuid4().hex[:8]}"
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, root / INDEX)
    return root / INDEX
