"""Validate the eight Kaggle CSVs of HC_RAW_DIR and load them, typed, into a DuckDB file.

One pass over each file both checks and loads it: DuckDB reads the CSV with the explicit types of
``hc_contracts/raw_columns.json`` (read through :mod:`hc_contracts.raw_format`) and stores every unparsable value in a rejects table, which is turned into an
error naming the file, the column, an example of the bad value and the expected type.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from hc_contracts.raw_format import (
    APPLICATION_TABLES,
    RAW_COLUMNS_FILE,
    TABLES,
    TYPE_WORDS,
    columns_of,
    csv_path,
    read_csv_sql,
    read_header,
)
from warehouse.build_timings import StepMeter

MAX_EXAMPLES = 5
_CAST_VALUE = re.compile(r'Could not convert string "(?P<value>.*)" to', re.S)


@dataclass(frozen=True)
class Problem:
    file: str
    message: str
    column: str | None = None

    def __str__(self) -> str:
        where = f"{self.file}, column {self.column}" if self.column else self.file
        return f"{where}: {self.message}"


class RawDataError(ValueError):
    """HC_RAW_DIR does not hold valid Kaggle-format CSVs; ``problems`` lists every finding."""

    def __init__(self, raw_dir: Path, problems: list[Problem]) -> None:
        self.raw_dir = raw_dir
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"invalid raw data in HC_RAW_DIR={raw_dir} ({len(problems)} problem(s)); expected the eight "
            f"Kaggle CSVs with the headers and types of hc_contracts/{RAW_COLUMNS_FILE.name}:\n{lines}"
        )


def check_files_and_headers(raw_dir: Path) -> list[Problem]:
    """Every file present, readable, with exactly the expected header (names and order)."""
    problems: list[Problem] = []
    if not raw_dir.is_dir():
        return [Problem(str(raw_dir), "folder not found (set HC_RAW_DIR to the folder of the Kaggle CSVs)")]
    for table in TABLES:
        path = csv_path(raw_dir, table)
        name = path.name
        if not path.is_file():
            problems.append(Problem(name, f"file missing in {raw_dir}"))
            continue
        expected = [c for c, _ in columns_of(table)]
        try:
            header = read_header(path)
        except (OSError, UnicodeDecodeError, csv.Error) as exc:
            problems.append(Problem(name, f"cannot read the header line (line 1): {exc}"))
            continue
        if not header:
            problems.append(Problem(name, f"empty file: expected a header line of {len(expected)} columns"))
            continue
        header = [h.strip() for h in header]
        missing = [c for c in expected if c not in header]
        unexpected = [c for c in header if c not in expected]
        for col in missing:
            hint = _closest(col, unexpected)
            extra = f" (found {hint!r} instead: renamed?)" if hint else ""
            problems.append(Problem(name, f"missing column{extra}", column=col))
        for col in unexpected:
            if col not in {_closest(m, unexpected) for m in missing}:
                problems.append(Problem(name, f"unexpected column (not in hc_contracts/{RAW_COLUMNS_FILE.name})", column=col))
        if not missing and not unexpected and header != expected:
            problems.append(Problem(name, f"columns out of order: expected {', '.join(expected)}"))
        if len(set(header)) != len(header):
            dups = sorted({h for h in header if header.count(h) > 1})
            problems.append(Problem(name, f"duplicate column name(s) {', '.join(dups)}"))
    return problems


_CONTROL = frozenset(range(32)) - {9, 13}  # control bytes other than tab and carriage return


def locate_unparsable(path: Path, columns: list[str]) -> str:
    """Where a file the CSV parser rejects outright goes wrong: the first line holding bytes that are not
    UTF-8 text (or control characters such as NUL), and the column they fall in. Read only on failure."""
    with path.open("rb") as fh:
        fh.readline()  # the header was checked already
        for number, line in enumerate(fh, start=2):
            position = None
            try:
                line.decode("utf-8")
            except UnicodeDecodeError as exc:
                position, what = exc.start, f"byte 0x{line[exc.start]:02x} is not UTF-8 text"
            bad = next((i for i, b in enumerate(line.rstrip(b"\n")) if b in _CONTROL), None)
            if bad is not None and (position is None or bad < position):
                position, what = bad, f"control character 0x{line[bad]:02x}"
            if position is None:
                continue
            index = line[:position].count(b",")
            column = columns[index] if index < len(columns) else f"beyond the {len(columns)} declared columns"
            return f"line {number}, column {column}: {what} (binary data or a damaged file?)"
    return "the CSV parser rejected the file (unbalanced quotes or a damaged file?); no line could be pinned down"


def _closest(name: str, candidates: list[str]) -> str | None:
    """A candidate that looks like a renaming of ``name`` (case / separators / one-word change)."""
    norm = re.sub(r"[^a-z0-9]", "", name.lower())
    for cand in candidates:
        if re.sub(r"[^a-z0-9]", "", cand.lower()) == norm:
            return cand
    import difflib

    close = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return close[0] if close else None


def load_typed_table(raw_dir: Path, table: str, connection: duckdb.DuckDBPyConnection) -> list[Problem]:
    """Create the typed table ``table`` (its Kaggle file in ``raw_dir``) in ``connection``; return the values that
    do not parse."""
    problems: list[Problem] = []
    path = csv_path(raw_dir, table)
    rejects, scans = f"rejects_{table.lower()}", f"reject_scans_{table.lower()}"
    try:
        connection.execute(
            f'create or replace table main."{table}" as select * from '
            + read_csv_sql(table, "?", f"store_rejects = true, rejects_table = '{rejects}', "
                                       f"rejects_scan = '{scans}', rejects_limit = 1000"),
            [str(path)],
        )
    except duckdb.Error:  # the parser gave up on the file (e.g. binary data): say where, not how
        return [Problem(path.name, locate_unparsable(path, [c for c, _ in columns_of(table)]))]
    # a cast error per column and value; a structural error (missing / extra fields) once per line
    rows = connection.execute(
        f"select case when error_type = 'CAST' then column_name end as column_name, error_type, "
        f"min(line) as first_line, count(distinct line) as n, "
        f"arg_min(error_message, line) as message, arg_min(csv_line, line) as csv_line "
        f"from {rejects} group by all order by first_line limit {MAX_EXAMPLES}"
    ).fetchall()
    types = dict(columns_of(table))
    for column, error_type, line, n, message, csv_line in rows:
        more = f" ({n} bad rows)" if n > 1 else ""
        if error_type == "MISSING COLUMNS":
            found = len(next(csv.reader([csv_line or ""]), []))
            problems.append(Problem(
                path.name, f"line {line}: only {found} of {len(types)} fields (a truncated line?){more} "
                           f"-- line was {csv_line!r}"))
        elif error_type == "CAST" and column in types:
            match = _CAST_VALUE.search(message or "")
            value = match.group("value") if match else "?"
            problems.append(Problem(
                path.name,
                f"value {value!r} on line {line} is not {TYPE_WORDS.get(types[column], types[column])}{more}",
                column=column,
            ))
        else:
            problems.append(Problem(
                path.name,
                f"line {line}: {error_type.lower().replace('_', ' ')}{more}: {message} -- line was {csv_line!r}",
                column=column if column in types else None,
            ))
    connection.execute(f"drop table if exists {rejects}")
    connection.execute(f"drop table if exists {scans}")
    return problems


def load_typed_tables(raw_dir: Path, connection: duckdb.DuckDBPyConnection) -> list[Problem]:
    """Create one typed table per Kaggle file in ``connection``; return the values that do not parse."""
    return [problem for table in TABLES for problem in load_typed_table(raw_dir, table, connection)]


def check_application_ids(connection: duckdb.DuckDBPyConnection) -> list[Problem]:
    """SK_ID_CURR present and unique within each application file and not shared by train and test."""
    problems: list[Problem] = []
    for table in APPLICATION_TABLES:
        name = f"{table}.csv"
        n_null = connection.execute(f'select count(*) from main."{table}" where SK_ID_CURR is null').fetchone()[0]
        if n_null:
            problems.append(Problem(name, f"{n_null} row(s) without an id", column="SK_ID_CURR"))
        dups = connection.execute(
            f'select SK_ID_CURR, count(*) from main."{table}" where SK_ID_CURR is not null '
            f"group by 1 having count(*) > 1 order by 1 limit {MAX_EXAMPLES}"
        ).fetchall()
        for sk_id, n in dups:
            problems.append(Problem(name, f"duplicate id {sk_id} ({n} rows)", column="SK_ID_CURR"))
    both = connection.execute(
        "select SK_ID_CURR from main.application_train intersect select SK_ID_CURR from main.application_test "
        f"order by 1 limit {MAX_EXAMPLES}"
    ).fetchall()
    for (sk_id,) in both:
        problems.append(Problem("application_train.csv + application_test.csv",
                                f"id {sk_id} is in both files", column="SK_ID_CURR"))
    return problems


def table_file(folder: Path, table: str) -> Path:
    """The DuckDB file of the validated raw table ``table`` in a per-table load (`validate_and_load_tables`)."""
    return folder / f"{table}.duckdb"


def attach_table_files(connection: duckdb.DuckDBPyConnection, folder: Path, tables: Sequence[str],
                       schema: str = "main") -> None:
    """Views ``<schema>."<table>"`` in ``connection`` over the per-table files of ``folder`` (those present),
    attached read-only."""
    for table in tables:
        path = table_file(folder, table)
        if path.exists():
            alias = f'"raw_{table.lower()}"'
            quoted = str(path).replace("'", "''")
            connection.execute(f"attach '{quoted}' as {alias} (read_only)")
            connection.execute(f'create view {schema}."{table}" as select * from {alias}.main."{table}"')


def _check_headers(raw_dir: Path, meter: StepMeter, on_headers_ok: Callable[[], None] | None) -> None:
    """The first step of every load: files and headers (``RawDataError`` listing the problems), then
    ``on_headers_ok()``."""
    with meter.step("check headers"):
        problems = check_files_and_headers(raw_dir)
    if problems:
        raise RawDataError(raw_dir, problems)
    if on_headers_ok is not None:
        on_headers_ok()


# Tables loaded on one DuckDB thread whatever ``threads``: DuckDB parses application_train's 122 columns on one thread
# anyway (SCALE=1: 2.5 s wall, 2.5 CPU s with 2 threads or 1), but with 2 threads each ends with a partial row group and
# the checkpoint merges them, re-writing the whole table on one thread (+0.8 CPU s and wall before the next table
# starts); application_test is smaller than one row group.
ONE_THREAD_TABLES = frozenset(APPLICATION_TABLES)


def _load_config(threads: int, memory_limit: str, table: str | None = None) -> dict[str, object]:
    if table in ONE_THREAD_TABLES:
        threads = 1
    return {"threads": threads, "memory_limit": memory_limit, "preserve_insertion_order": False}


def validate_and_load(raw_dir: Path, raw_db: Path, *, threads: int = 2, memory_limit: str = "2GB",
                      meter: StepMeter | None = None, on_headers_ok: Callable[[], None] | None = None) -> None:
    """Check ``raw_dir`` and load it into the DuckDB file ``raw_db``; raise ``RawDataError`` listing problems.
    ``meter`` (when given) records each step: headers, load (typed, every value checked), ids.
    ``on_headers_ok`` is called once every file is present with the right header, before the load."""
    meter = meter or StepMeter()
    _check_headers(raw_dir, meter, on_headers_ok)
    config = _load_config(threads, memory_limit)
    with duckdb.connect(str(raw_db), config=config) as connection:
        with meter.step("load and check values"):
            problems = load_typed_tables(raw_dir, connection)
            connection.execute("checkpoint")
        if not problems:
            with meter.step("check ids"):
                problems = check_application_ids(connection)
    if problems:
        raise RawDataError(raw_dir, problems)


def validate_and_load_tables(raw_dir: Path, folder: Path, *, threads: int = 2, memory_limit: str = "2GB",
                             meter: StepMeter | None = None, on_headers_ok: Callable[[], None] | None = None,
                             on_table_loaded: Callable[[str], None] | None = None,
                             on_problem: Callable[[], None] | None = None) -> None:
    """Check ``raw_dir`` and load each table into its own DuckDB file ``folder/<table>.duckdb`` (in the order of
    ``TABLES``), so that a reader in another process (dbt) can use each table as soon as it is loaded: a DuckDB file
    being written cannot be opened by another process. ``on_table_loaded(table)`` is called once the table's file
    is checked and closed; ``on_problem()`` as soon as a problem is found (the load still goes on over every file,
    so that the error lists them all). Raises ``RawDataError`` as :func:`validate_and_load`."""
    meter = meter or StepMeter()
    _check_headers(raw_dir, meter, on_headers_ok)
    folder.mkdir(parents=True, exist_ok=True)
    problems: list[Problem] = []
    signalled = False
    with meter.step("load and check values"):  # the application ids are checked once both files are loaded
        for table in TABLES:
            config = _load_config(threads, memory_limit, table)
            with duckdb.connect(str(table_file(folder, table)), config=config) as connection:
                found = load_typed_table(raw_dir, table, connection)
                connection.execute("checkpoint")
            if not found and table == APPLICATION_TABLES[-1] and not problems:
                found = _check_application_ids_in(folder)
            problems += found
            if problems and not signalled and on_problem is not None:
                on_problem()
                signalled = True
            if not found and on_table_loaded is not None:
                on_table_loaded(table)
    if problems:
        raise RawDataError(raw_dir, problems)


def _check_application_ids_in(folder: Path) -> list[Problem]:
    """:func:`check_application_ids` over the application files of a per-table load."""
    with duckdb.connect() as connection:
        attach_table_files(connection, folder, APPLICATION_TABLES)
        return check_application_ids(connection)
