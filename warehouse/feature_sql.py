"""The compiled SQL of the feature models, in run order, taken from dbt's ``manifest.json``.

Stored in the warehouse as ``meta_feature_sql(run_order, model_name, compiled_sql)`` so that online
scoring (``warehouse.online``) replays the very SQL that built ``applicant_features``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

FEATURE_MART = "applicant_features"
META_FEATURE_SQL = "meta_feature_sql"
META_BUILD_INFO = "meta_build_info"
META_FEATURE_DEPENDENCIES = "meta_feature_dependencies"


@dataclass(frozen=True)
class CompiledModel:
    run_order: int
    model_name: str
    compiled_sql: str
    depends_on: tuple[str, ...] = ()  # upstream model names and raw (Kaggle) table names


def feature_models(manifest: dict, mart: str = FEATURE_MART) -> list[CompiledModel]:
    """``mart`` and every model upstream of it, topologically sorted (ties broken by name)."""
    nodes = manifest["nodes"]
    target = next((uid for uid, n in nodes.items() if n["resource_type"] == "model" and n["name"] == mart), None)
    if target is None:
        raise KeyError(f"model {mart!r} not found in the dbt manifest")
    needed: set[str] = set()
    stack = [target]
    while stack:
        uid = stack.pop()
        if uid in needed:
            continue
        needed.add(uid)
        stack.extend(p for p in nodes[uid]["depends_on"]["nodes"] if p.startswith("model."))
    ordered: list[str] = []
    done: set[str] = set()
    remaining = set(needed)
    while remaining:
        ready = sorted(
            (uid for uid in remaining
             if all(p in done for p in nodes[uid]["depends_on"]["nodes"] if p.startswith("model."))),
            key=lambda uid: nodes[uid]["name"],
        )
        if not ready:
            raise ValueError("cycle in the dbt model graph")
        for uid in ready:
            ordered.append(uid)
            done.add(uid)
            remaining.discard(uid)
    sources = manifest.get("sources", {})
    out = []
    for i, uid in enumerate(ordered, start=1):
        code = nodes[uid].get("compiled_code")
        if not code:
            raise ValueError(f"model {nodes[uid]['name']} has no compiled SQL in the manifest (was it built?)")
        parents = tuple(
            nodes[p]["name"] if p in nodes else sources[p]["identifier"]
            for p in nodes[uid]["depends_on"]["nodes"] if p.startswith(("model.", "source."))
        )
        out.append(CompiledModel(i, nodes[uid]["name"], code, parents))
    return out


def write_meta_tables(connection: duckdb.DuckDBPyConnection, models: list[CompiledModel],
                      build_info: dict[str, str]) -> None:
    connection.execute(f"drop table if exists {META_FEATURE_SQL}")
    connection.execute(
        f"create table {META_FEATURE_SQL} (run_order integer primary key, model_name varchar not null unique, "
        "compiled_sql varchar not null)"
    )
    connection.executemany(f"insert into {META_FEATURE_SQL} values (?, ?, ?)",
                           [(m.run_order, m.model_name, m.compiled_sql) for m in models])
    connection.execute(f"drop table if exists {META_FEATURE_DEPENDENCIES}")
    connection.execute(f"create table {META_FEATURE_DEPENDENCIES} (model_name varchar not null, "
                       "depends_on varchar not null, primary key (model_name, depends_on))")
    connection.executemany(f"insert into {META_FEATURE_DEPENDENCIES} values (?, ?)",
                           [(m.model_name, p) for m in models for p in m.depends_on])
    connection.execute(f"drop table if exists {META_BUILD_INFO}")
    connection.execute(f"create table {META_BUILD_INFO} (key varchar primary key, value varchar)")
    connection.executemany(f"insert into {META_BUILD_INFO} values (?, ?)", sorted(build_info.items()))
