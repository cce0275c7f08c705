"""One Log Analytics workspace's tables, rows and functions, in memory (no HTTP here).

The ARM routes (:mod:`workspace_arm`), the ingestion emulator (DCR output) and the query
endpoint (:mod:`query`) share one instance.

Modelled (reference: Azure Monitor's "Migrate from the HTTP Data Collector API to the Logs
Ingestion API" and the Data Collector API page, "Record type and properties"):

- classic custom tables, as the Data Collector API creates them from the records posted:
  each property becomes a column named with a suffix for its detected type (string ``_s``,
  ISO 8601 string ``_t``, GUID string ``_g``, boolean ``_b``, number ``_d``), nested objects
  flattened with ``_``; ``TimeGenerated`` is added;
- ``tableSubType`` ``Classic`` until the migrate action makes it ``DataCollectionRuleBased``;
  a migrated table keeps its columns and rows and may gain columns;
- DCR output checked against the destination table's columns: a column the table lacks is
  dropped and logged, as DCRLogErrors would;
- workspace functions (saved searches with a ``functionAlias``), callable from queries.

Assumed, not confirmed: a PUT of a classic table's schema answers 400 until it is migrated;
migrating a table that is already DCR-based answers 200 and changes nothing.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from local.emulators.kql_engine import Result, Schema, connect, run_typed, timestamp_of
from local.emulators.sentinel_model import ArmError

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
CLASSIC = "Classic"
DCR_BASED = "DataCollectionRuleBased"


@dataclass
class Table:
    """One table: its columns in order, its kind, and its rows (column -> value)."""

    name: str
    columns: list[tuple[str, str]]
    sub_type: str
    rows: list[dict[str, Any]] = field(default_factory=list)

    def column_types(self) -> dict[str, str]:
        """Column name -> type."""
        return dict(self.columns)


@dataclass(frozen=True)
class DroppedValue:
    """A value the destination table had no column for (a DCRLogErrors-like entry)."""

    table: str
    column: str
    row_index: int


def data_collector_column(name: str, value: object) -> tuple[str, str] | None:
    """The column the Data Collector API makes of one property (None for a null value)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return f"{name}_b", "boolean"
    if isinstance(value, int | float):
        return f"{name}_d", "real"
    if isinstance(value, str) and _GUID.match(value):
        return f"{name}_g", "string"
    if isinstance(value, str) and _ISO_TIME.match(value):
        return f"{name}_t", "datetime"
    return f"{name}_s", "string"


def flatten_record(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested objects flattened with ``_`` (``details.hit.type`` -> ``details_hit_type``)."""
    flat: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten_record(value, f"{name}_"))
        else:
            flat[name] = value
    return flat


class LogAnalyticsWorkspace:
    """Tables, rows and functions of one workspace; thread-safe.

    Args:
        customer_id: The workspace (customer) id the query API addresses.
    """

    def __init__(self, customer_id: str | None = None) -> None:
        self.customer_id = customer_id or str(uuid.uuid4())
        self._lock = threading.Lock()
        self._tables: dict[str, Table] = {}
        self._functions: dict[str, str] = {}
        self._dropped: list[DroppedValue] = []

    # -- tables ----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every table, row, function and dropped value."""
        with self._lock:
            self._tables.clear()
            self._functions.clear()
            self._dropped.clear()

    def table(self, name: str) -> Table | None:
        """A copy of one table (None when it does not exist)."""
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                return None
            return Table(table.name, list(table.columns), table.sub_type, list(table.rows))

    def tables(self) -> list[str]:
        """Every table name."""
        with self._lock:
            return sorted(self._tables)

    def seed_classic(
        self,
        name: str,
        records: Iterable[Mapping[str, Any]],
        time_generated_field: str = "",
        received_at: datetime | None = None,
    ) -> Table:
        """Post records the way the HTTP Data Collector API stored them (``Log-Type`` =
        ``name`` without ``_CL``): suffixed columns, created on first sight; TimeGenerated
        from the ``time-generated-field`` header's property (kept in its own column too),
        else the time received (``received_at``, now by default)."""
        received = (received_at or datetime.now(UTC)).isoformat()
        with self._lock:
            table = self._tables.setdefault(
                name, Table(name, [("TimeGenerated", "datetime")], CLASSIC)
            )
            if table.sub_type != CLASSIC:
                raise ArmError(400, "InvalidOperation", f"{name} is no longer a classic table.")
            known = dict(table.columns)
            for record in records:
                row: dict[str, Any] = {}
                for key, value in flatten_record(record).items():
                    column = data_collector_column(key, value)
                    if column is None:
                        continue
                    if column[0] not in known:
                        known[column[0]] = column[1]
                        table.columns.append(column)
                    row[column[0]] = value
                row["TimeGenerated"] = (
                    record.get(time_generated_field) if time_generated_field else received
                )
                table.rows.append(row)
            return table

    def put_table(self, name: str, columns: Sequence[tuple[str, str]]) -> tuple[Table, bool]:
        """Create or update a DCR-based table; returns (table, created).

        Raises:
            ArmError: 400 for a classic table, or a column whose type would change.
        """
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                table = Table(name, list(columns), DCR_BASED)
                self._tables[name] = table
                return table, True
            if table.sub_type == CLASSIC:
                raise ArmError(
                    400,
                    "InvalidParameter",
                    f"Table {name} is a classic custom table: migrate it before changing its "
                    "schema (tables/migrate).",
                )
            existing = table.column_types()
            for column, kind in columns:
                if column in existing and existing[column] != kind:
                    raise ArmError(
                        400,
                        "InvalidParameter",
                        f"Column {column} of {name} is {existing[column]}; it cannot become "
                        f"{kind}.",
                    )
                if column not in existing:
                    table.columns.append((column, kind))
            return table, False

    def migrate(self, name: str) -> Table:
        """The migrate action: a classic table becomes DCR-based with its columns and rows.

        Raises:
            ArmError: 404 when there is no such table.
        """
        with self._lock:
            table = self._tables.get(name)
            if table is None:
                raise ArmError(404, "ResourceNotFound", f"Table {name} was not found.")
            table.sub_type = DCR_BASED
            return table

    # -- rows ------------------------------------------------------------------------------

    def ingest(self, name: str, rows: Sequence[Mapping[str, Any]]) -> list[DroppedValue]:
        """Store DCR output rows in a table; values of columns it lacks are dropped.

        Raises:
            KeyError: The table does not exist (the DCR would refuse to deploy).
        """
        dropped: list[DroppedValue] = []
        with self._lock:
            table = self._tables[name]
            known = table.column_types()
            for index, row in enumerate(rows):
                kept = {}
                for column, value in row.items():
                    if column in known:
                        kept[column] = value
                    elif value is not None:
                        dropped.append(DroppedValue(name, column, index))
                table.rows.append(kept)
            self._dropped.extend(dropped)
        return dropped

    def dropped(self) -> list[DroppedValue]:
        """Every value dropped because its table had no such column, oldest first."""
        with self._lock:
            return list(self._dropped)

    # -- functions and queries -------------------------------------------------------------

    def put_function(self, alias: str, body: str) -> None:
        """Save a workspace function (a saved search with ``functionAlias``)."""
        with self._lock:
            self._functions[alias] = body

    def functions(self) -> dict[str, str]:
        """Function alias -> body."""
        with self._lock:
            return dict(self._functions)

    def query(
        self, kql: str, since: datetime | None = None, until: datetime | None = None
    ) -> Result:
        """Run KQL over every table (rows whose TimeGenerated is in [since, until) when
        given) with the workspace's functions.

        Raises:
            ValueError: The query does not parse or run (the text of the engine's error).
        """
        with self._lock:
            schemas: dict[str, Schema] = {n: tuple(t.columns) for n, t in self._tables.items()}
            rows = {n: _in_window(t.rows, since, until) for n, t in self._tables.items()}
            definitions = [
                f"function {alias}() {{\n{body}\n}}" for alias, body in self._functions.items()
            ]
        con = connect(schemas, rows)
        try:
            return run_typed(con, kql, definitions)
        except Exception as exc:  # duckdb-kql and DuckDB raise their own error classes
            raise ValueError(str(exc)) from exc
        finally:
            con.close()


def _in_window(
    rows: list[dict[str, Any]], since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    kept = []
    for row in rows:
        if since is not None or until is not None:
            moment = timestamp_of(row.get("TimeGenerated"))
            if moment is None:
                continue
            if since is not None and moment < timestamp_of(since):  # type: ignore[operator]
                continue
            if until is not None and moment >= timestamp_of(until):  # type: ignore[operator]
                continue
        kept.append(dict(row))
    return kept
