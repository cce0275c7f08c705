"""The KQL the deployment builds from ``infra/tables/legacy/*.json``, in Python.

infra/app/stream.bicep and infra/app/legacy.bicep build the same texts from the same files
(tests/infra/test_legacy.py compares them), so the emulators and the KQL checker run what
Azure runs. Three modes per source (docs/migrate.md):

- ``new``: the typed table; the DCR keeps every row as sent (``source``).
- ``migrate``: the classic table, migrated in place, gains the typed columns; the DCR fills
  typed and legacy columns (:func:`transform_kql`).
- ``alongside``: the classic table stays; rows go to a new typed table, and a function named
  after the classic table without ``_CL`` unions both under the legacy names
  (:func:`union_function`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

LEGACY_DIR = Path(__file__).resolve().parents[1] / "infra" / "tables" / "legacy"
TABLES_DIR = LEGACY_DIR.parent
Mode = Literal["new", "migrate", "alongside"]
MODES: tuple[Mode, ...] = ("new", "migrate", "alongside")
ALONGSIDE_SUFFIX = "Bridge_CL"


@dataclass(frozen=True)
class LegacyColumn:
    """One Data Collector-style column and the KQL expression over the typed stream filling it."""

    name: str
    type: str
    source: str


@dataclass(frozen=True)
class Legacy:
    """A typed table's legacy columns and, for Wallarm, its per-type classic tables."""

    table: str
    columns: tuple[LegacyColumn, ...]
    per_type_tables: tuple[str, ...]
    connector_only: tuple[tuple[str, str], ...] = ()


def load_legacy(table: str, legacy_dir: Path = LEGACY_DIR) -> Legacy:
    """Read ``infra/tables/legacy/<table>.json``."""
    document: dict[str, Any] = json.loads((legacy_dir / f"{table}.json").read_text("utf-8"))
    columns = tuple(
        LegacyColumn(str(c["name"]), str(c["type"]), str(c["from"])) for c in document["columns"]
    )
    kept = tuple((str(c["name"]), str(c["type"])) for c in document.get("connectorOnlyColumns", ()))
    return Legacy(str(document["name"]), columns, tuple(document.get("perTypeTables", ())), kept)


def typed_columns(table: str, tables_dir: Path = TABLES_DIR) -> list[tuple[str, str]]:
    """The typed table's columns (name, type), from ``infra/tables/<table>.json``."""
    document: dict[str, Any] = json.loads((tables_dir / f"{table}.json").read_text("utf-8"))
    return [(str(c["name"]), str(c["type"])) for c in document["columns"]]


def classic_columns(legacy: Legacy) -> list[tuple[str, str]]:
    """What the Data Collector API made of the connector's records: TimeGenerated and the
    suffixed columns (the columns the migration step expects to find)."""
    return [
        ("TimeGenerated", "datetime"),
        *((c.name, c.type) for c in legacy.columns),
        *legacy.connector_only,
    ]


def assignments(legacy: Legacy) -> str:
    """``eventType_s = EventType, ...``: stream.bicep's ``legacyAssignments``."""
    return ", ".join(f"{c.name} = {c.source}" for c in legacy.columns)


def transform_kql(legacy: Legacy | None) -> str:
    """The DCR's transformKql: ``source`` as sent, plus the legacy columns in migrate mode."""
    if legacy is None:
        return "source"
    return f"source | extend {assignments(legacy)}"


def legacy_projection(legacy: Legacy, new_table: str, where: str = "") -> str:
    """New rows under the legacy names: TimeGenerated, EventId (to drop duplicates during a
    cutover) and the legacy columns."""
    names = ", ".join(c.name for c in legacy.columns)
    filtered = f" | where {where}" if where else ""
    return (
        f"{new_table}{filtered} | extend {assignments(legacy)} "
        f"| project TimeGenerated, EventId, {names}"
    )


def union_function(legacy: Legacy, classic_table: str, new_table: str, where: str = "") -> str:
    """The alongside function's body: the classic table's history and the new rows, both
    under the legacy names. ``isfuzzy`` keeps it working before either table has rows."""
    return f"union isfuzzy=true {classic_table}, ({legacy_projection(legacy, new_table, where)})"


def function_name(classic_table: str) -> str:
    """The function replacing a classic table in legacy queries: its name without ``_CL``."""
    return classic_table.removesuffix("_CL")


def alongside_table(table: str) -> str:
    """The new typed table beside a classic one of the same name: FigEvents_CL ->
    FigEventsBridge_CL."""
    return table.removesuffix("_CL") + ALONGSIDE_SUFFIX


def destination(table: str, mode: Mode, classic_table: str) -> str:
    """The table the DCR writes: the classic one when migrated, else the typed one (renamed
    when the classic table has its name)."""
    if mode == "migrate":
        return classic_table
    if mode == "alongside" and classic_table == table:
        return alongside_table(table)
    return table


def per_type_functions(legacy: Legacy, new_table: str) -> dict[str, str]:
    """Wallarm: one function per legacy table (``new_hits`` for ``new_hits_CL``) unioning its
    history with the new rows of that event type."""
    functions = {}
    for classic in legacy.per_type_tables:
        kind = function_name(classic)
        functions[kind] = union_function(legacy, classic, new_table, f'EventType == "{kind}"')
    return functions


def deployed_columns(
    table: str, mode: Mode, legacy: Legacy, tables_dir: Path = TABLES_DIR
) -> Sequence[tuple[str, str]]:
    """The destination table's columns after the deployment: typed, plus legacy when
    migrated."""
    typed = typed_columns(table, tables_dir)
    if mode == "migrate":
        return [*typed, *((c.name, c.type) for c in legacy.columns), *legacy.connector_only]
    return typed
