"""Kaggle's column dictionary (``HomeCredit_columns_description.csv``) as ``{(table, COLUMN): text}``.

The dictionary is read from the team's shared folder when present; otherwise the wording already
committed in the generated sources YAML is reused, so regenerating never loses it.
"""

from __future__ import annotations

import csv
from pathlib import Path

from warehouse.yaml_io import load_yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DESCRIPTIONS_CSV = (REPO_ROOT / ".." / "shared" / "data" / "HomeCredit_columns_description.csv").resolve()
SOURCES_YAML = Path(__file__).resolve().parent / "models" / "staging" / "_home_credit__sources.yml"

# the dictionary's few spelling differences with the files' headers
_NAME_FIXES = {"SK_BUREAU_ID": "SK_ID_BUREAU"}


def _family_of_file(table_field: str) -> str:
    name = table_field.strip().removesuffix(".csv")
    return "application" if name.startswith("application_") else name


def load_descriptions(path: Path | None = None) -> dict[tuple[str, str], str]:
    """``{(family, RAW_COLUMN): description}``; family is ``application`` for train and test."""
    path = path or DEFAULT_DESCRIPTIONS_CSV
    if path.exists():
        out: dict[tuple[str, str], str] = {}
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                column = row["Row"].strip()
                column = _NAME_FIXES.get(column, column)
                text = " ".join(row["Description"].split())
                special = (row.get("Special") or "").strip()
                if special:
                    text = f"{text} ({special})"
                out[(_family_of_file(row["Table"]), column)] = text
        # bureau_balance's key is described under bureau in the dictionary
        out.setdefault(("bureau_balance", "SK_ID_BUREAU"), out.get(("bureau", "SK_ID_BUREAU"), ""))
        return out
    return load_committed_descriptions()


def load_committed_descriptions() -> dict[tuple[str, str], str]:
    if not SOURCES_YAML.exists():
        return {}
    data = load_yaml(SOURCES_YAML.read_text(encoding="utf-8"))
    out: dict[tuple[str, str], str] = {}
    for table in data["sources"][0]["tables"]:
        family = _family_of_file(table["name"])
        for col in table["columns"]:
            if col.get("description"):
                out[(family, col["name"])] = col["description"]
    return out
