"""Table schemas from ``infra/tables/*.json``, and the check every row passes before it is sent.

The JSON files are the only place a table's columns are written; the Bicep reads them
with ``loadJsonContent`` and the ingestion emulator reads them too. Here they decide
whether a row is sendable: values are coerced where that is lossless (an int for a
``real`` column, a datetime for a ``datetime`` column), and anything else is refused with
a clear error instead of being dropped silently by the service.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, cached_property
from pathlib import Path
from typing import Any

from shared.errors import SchemaError

TABLES_DIR = Path(__file__).resolve().parents[2] / "infra" / "tables"

COLUMN_TYPES = frozenset({"string", "int", "long", "real", "boolean", "datetime", "dynamic"})
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Column:
    """One column of a table: its name and its DCR stream type."""

    name: str
    type: str


@dataclass(frozen=True)
class TableSchema:
    """A custom table, its stream, and its columns."""

    table: str
    columns: tuple[Column, ...]

    @property
    def stream(self) -> str:
        """The DCR input stream: ``Custom-`` and the table name without ``_CL``."""
        return "Custom-" + self.table.removesuffix("_CL")

    @cached_property
    def column_names(self) -> frozenset[str]:
        """The names of every column (computed once: every row checks against it)."""
        return frozenset(column.name for column in self.columns)

    @cached_property
    def _coercers(self) -> tuple[tuple[str, str, Callable[[Any], Any]], ...]:
        # Each column's check chosen once: every row of every webhook runs them.
        return tuple((c.name, c.type, _COERCERS[c.type]) for c in self.columns)

    def shape_row(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``values`` as a row the stream accepts, or raise SchemaError.

        Args:
            values: column name to value; None means "no value" and is left out.

        Returns:
            A JSON-ready dict: datetimes as ISO-8601 UTC strings, numbers as numbers.

        Raises:
            SchemaError: an unknown column, or a value that cannot be made to fit its type.
        """
        if not self.column_names.issuperset(values):
            unknown = sorted(set(values) - self.column_names)
            raise SchemaError(f"{self.table} has no column(s) {', '.join(unknown)}")
        row: dict[str, Any] = {}
        problems: list[str] = []
        for name, column_type, coerce in self._coercers:
            value = values.get(name)
            if value is None:
                continue
            try:
                row[name] = coerce(value)
            except (TypeError, ValueError):
                problems.append(f"{name} is not a valid {column_type}")
        if problems:
            raise SchemaError(f"{self.table}: " + "; ".join(problems))
        return row


_STRICT_JSON = json.JSONEncoder(
    allow_nan=False
)  # built once: json.dumps(allow_nan=...) builds one a call


def _dynamic(value: Any) -> Any:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError("dynamic")
    elif isinstance(value, dict | list):
        if value:
            _STRICT_JSON.encode(value)  # TypeError/ValueError if not JSON-able
    elif not isinstance(value, str | int):  # bool is an int
        _STRICT_JSON.encode(value)  # a TypeError for anything else
    return value


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    raise TypeError("string")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raise TypeError("boolean")


def _integer(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and low <= value <= high:
            return value
        raise TypeError("int")

    return check


def _real(value: Any) -> Any:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if not math.isfinite(value):
            raise ValueError("real")
        return value
    raise TypeError("real")


def _iso_datetime(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("datetime without offset")
        return value
    raise TypeError("datetime")


_COERCERS: dict[str, Callable[[Any], Any]] = {
    "dynamic": _dynamic,
    "string": _string,
    "boolean": _boolean,
    "int": _integer(*_INT32),
    "long": _integer(*_INT64),
    "real": _real,
    "datetime": _iso_datetime,
}


def schema_from_json(document: Mapping[str, Any]) -> TableSchema:
    """Build a TableSchema from the parsed JSON of a table file, checking its shape."""
    table = document.get("name")
    columns = document.get("columns")
    if not isinstance(table, str) or not table.endswith("_CL"):
        raise ValueError("a table file needs a name ending in _CL")
    if not isinstance(columns, list) or not columns:
        raise ValueError(f"{table}: columns must be a non-empty list")
    parsed: list[Column] = []
    for entry in columns:
        name, column_type = entry.get("name"), entry.get("type")
        if not isinstance(name, str) or column_type not in COLUMN_TYPES:
            raise ValueError(f"{table}: bad column {entry!r}")
        parsed.append(Column(name, column_type))
    if "TimeGenerated" not in {c.name for c in parsed}:
        raise ValueError(f"{table}: every table needs TimeGenerated")
    return TableSchema(table=table, columns=tuple(parsed))


@cache
def load_table(table: str, tables_dir: Path = TABLES_DIR) -> TableSchema:
    """Read ``<tables_dir>/<table>.json`` once per process."""
    path = tables_dir / f"{table}.json"
    return schema_from_json(json.loads(path.read_text(encoding="utf-8")))
