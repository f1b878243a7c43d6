"""Protected attributes: which warehouse columns never feed a decision, and which features encode them.

A protected attribute (``HC_PROTECTED_ATTRIBUTES``, default ``CODE_GENDER``) is removed from the model
inputs together with every feature computed from it. "Computed from" is read from the warehouse's own
compiled feature SQL (``meta_feature_sql``): each ``<expression> as <alias>`` of a select list depends on
the identifiers of its expression, transitively (``days_birth`` -> ``age_years`` -> ...). One-hot style
columns (``code_gender_m``) are caught by name. The columns stay in the warehouse, only for fairness.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import duckdb

META_FEATURE_SQL = "meta_feature_sql"
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]+\"|[A-Za-z_][A-Za-z0-9_$]*|--[^\n]*|[(),]|\S")
_CLAUSES = frozenset({"select", "from", "where", "group", "order", "having", "qualify", "window", "union",
                      "join", "on", "limit", "with"})
_IDENT = re.compile(r"[a-z_][a-z0-9_$]*")
_TYPES = frozenset({"double", "float", "real", "integer", "int", "bigint", "smallint", "tinyint", "hugeint",
                    "varchar", "text", "string", "boolean", "decimal", "numeric", "date", "timestamp"})


def alias_dependencies(sql: str) -> dict[str, set[str]]:
    """For every ``<expression> as <alias>`` in a select list of ``sql``: alias -> identifiers it reads.

    A small scanner (strings, comments and nesting aware), not a SQL parser: it only has to find select
    items, which in the dbt models are always written ``expression as alias``. Names are lower-cased;
    ``cast(x as double)`` is not an alias.
    """
    deps: dict[str, set[str]] = {}
    # per nesting depth: (tokens of the current select item, every token at this depth)
    stack: list[tuple[list[str], list[str]]] = [([], [])]

    def close(item: list[str]) -> None:
        if len(item) >= 3 and item[-2] == "as" and _IDENT.fullmatch(item[-1]) and item[-1] not in _TYPES:
            deps.setdefault(item[-1], set()).update(w for w in item[:-2] if _IDENT.fullmatch(w))

    for raw in _TOKEN.findall(sql):
        if raw.startswith(("--", "'")):
            continue
        tok = raw.strip('"').lower()
        if tok == "(":
            stack.append(([], []))
        elif tok == ")":
            if len(stack) == 1:
                continue
            item, every = stack.pop()
            close(item)
            stack[-1][0].extend(["(", *every, ")"])
            stack[-1][1].extend(["(", *every, ")"])
        elif tok == "," or tok in _CLAUSES:
            close(stack[-1][0])
            stack[-1][0].clear()
            stack[-1][1].append(tok)
        else:
            stack[-1][0].append(tok)
            stack[-1][1].append(tok)
    close(stack[-1][0])
    return deps


def derived_columns(protected: Iterable[str], deps: dict[str, set[str]]) -> dict[str, set[str]]:
    """Protected column -> every alias that reads it, directly or through other aliases."""
    out: dict[str, set[str]] = {}
    for col in protected:
        found: set[str] = set()
        frontier = {col}
        while frontier:
            nxt = {alias for alias, reads in deps.items() if reads & frontier and alias not in found}
            nxt.discard(col)
            found |= nxt
            frontier = nxt
        out[col] = found
    return out


def feature_sql(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The compiled SQL of the warehouse's feature models ([] when the table is absent, e.g. a fixture)."""
    names = {r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()}
    if META_FEATURE_SQL not in names:
        return []
    return [r[0] for r in con.execute(f"select compiled_sql from {META_FEATURE_SQL} order by run_order").fetchall()]


def protected_features(columns: Iterable[str], protected: Iterable[str], sql: Iterable[str] = ()) -> dict[str, str]:
    """Columns (among ``columns``) that must not feed the model -> the protected attribute they encode."""
    protected = [p.lower() for p in protected]
    deps: dict[str, set[str]] = {}
    for text in sql:
        for alias, reads in alias_dependencies(text).items():
            deps.setdefault(alias, set()).update(reads)
    derived = derived_columns(protected, deps)
    out: dict[str, str] = {}
    for name in columns:
        low = name.lower()
        for p in protected:
            if low == p or low.startswith(p + "_") or low in derived[p]:
                out[name] = p
                break
    return out
