"""Run KQL over rows offline: duckdb-kql (KQL translated to DuckDB SQL), MIT.

Rows are loaded as their table schemas type them, so a query sees what Log Analytics would
store: datetimes as timestamps, dynamic as JSON. Used by the workspace emulator (DCR
transformations, the query endpoint) and by tests/content.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import duckdb
import duckdb_kql

SQL_TYPES = {
    "string": "VARCHAR",
    "datetime": "TIMESTAMP",
    "dynamic": "JSON",
    "boolean": "BOOLEAN",
    "bool": "BOOLEAN",
    "long": "BIGINT",
    "int": "INTEGER",
    "real": "DOUBLE",
}
Schema = Sequence[tuple[str, str]]
"""A table's columns, in order: (name, KQL type)."""

_FRACTION = re.compile(r"(\.\d{6})\d+")


def timestamp_of(value: Any) -> datetime | None:
    """A naive UTC datetime from an ISO 8601 text or a datetime (None when empty)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(_FRACTION.sub(r"\1", str(value)).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(UTC).replace(tzinfo=None)


def _cell(kind: str, value: Any) -> Any:
    if kind == "datetime":
        return timestamp_of(value)
    if kind == "dynamic":
        return None if value is None else json.dumps(value)
    return value


def connect(
    schemas: Mapping[str, Schema], rows: Mapping[str, Sequence[Mapping[str, Any]]]
) -> duckdb.DuckDBPyConnection:
    """An in-memory database with every table of ``schemas``, filled with ``rows``."""
    unknown = set(rows) - set(schemas)
    if unknown:
        raise KeyError(f"no schema for {sorted(unknown)}")
    con = duckdb_kql.connect()
    con.execute("SET TimeZone = 'UTC'")
    for table, columns in schemas.items():
        table_rows = rows.get(table, ())
        ddl = ", ".join(f'"{name}" {SQL_TYPES[kind]}' for name, kind in columns)
        con.execute(f'CREATE TABLE "{table}" ({ddl})')
        if not table_rows:
            continue
        marks = ", ".join("?" for _ in columns)
        con.executemany(
            f'INSERT INTO "{table}" VALUES ({marks})',  # noqa: S608 - names from the schemas
            [[_cell(kind, row.get(name)) for name, kind in columns] for row in table_rows],
        )
    return con


def run(
    con: duckdb.DuckDBPyConnection, query: str, functions: Sequence[str] | None = None
) -> list[dict[str, Any]]:
    """The query's result rows, as dicts; ``functions`` are stored-function definitions
    (``function f(a:long=1) { ... }``) the query may call, for this call only."""
    relation = duckdb_kql.query(con, query, functions=list(functions) if functions else None)
    names = list(relation.columns)
    return [dict(zip(names, values, strict=True)) for values in relation.fetchall()]


@dataclass(frozen=True)
class Result:
    """A query's columns (name, KQL type) and rows (values in column order)."""

    columns: list[tuple[str, str]]
    rows: list[tuple[Any, ...]]


# DuckDB's column types -> the KQL types the query API names (anything else: dynamic).
KQL_TYPES = {
    "VARCHAR": "string",
    "TIMESTAMP": "datetime",
    "TIMESTAMP WITH TIME ZONE": "datetime",
    "BOOLEAN": "bool",
    "BIGINT": "long",
    "INTEGER": "int",
    "HUGEINT": "long",
    "DOUBLE": "real",
    "FLOAT": "real",
    "DECIMAL": "decimal",
    "JSON": "dynamic",
}


def run_typed(
    con: duckdb.DuckDBPyConnection, query: str, functions: Sequence[str] | None = None
) -> Result:
    """The query's columns with their KQL types, and its rows."""
    relation = duckdb_kql.query(con, query, functions=list(functions) if functions else None)
    columns = [
        (name, KQL_TYPES.get(str(kind).split("(")[0], "dynamic"))
        for name, kind in zip(relation.columns, relation.types, strict=True)
    ]
    return Result(columns, [tuple(values) for values in relation.fetchall()])
