"""Stream declarations read from ``infra/tables/*.json``, and the service's per-row rules.

This module reads the schema files itself and never imports the app's ``shared`` code, so
the emulator is an independent check of the rows the app sends.

Per-row behaviour (reference: logs-ingestion.md sections 2 and 4; the DCRLogErrors idea
from section 5). Confirmed: values over 64 KB are truncated; a TimeGenerated more than 2 days
in the past or 1 day in the future is replaced by the receive time. Assumed: unknown columns
and values of the wrong type are dropped (the value becomes null) rather than coerced or the
row refused; a missing or unreadable TimeGenerated is replaced by the receive time.
"""

from __future__ import annotations

import json
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MAX_FIELD_BYTES = 65_536
PAST_WINDOW = timedelta(days=2)
FUTURE_WINDOW = timedelta(days=1)
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)


def stream_name(table_name: str) -> str:
    """``FigEvents_CL`` -> ``Custom-FigEvents`` (the rule in docs/architecture.md)."""
    return "Custom-" + table_name.removesuffix("_CL")


def load_streams(tables_dir: Path) -> dict[str, dict[str, str]]:
    """Read every table schema; return stream name -> {column name: lower-case type}.

    Args:
        tables_dir: The folder holding ``<Table>_CL.json`` files.

    Returns:
        The stream declarations.

    Raises:
        ValueError: A file is not a table schema.
    """
    streams: dict[str, dict[str, str]] = {}
    for schema_path in sorted(tables_dir.glob("*.json")):
        schema = json.loads(schema_path.read_text(encoding="utf-8"))
        try:
            columns = {c["name"]: c["type"].lower() for c in schema["columns"]}
            streams[stream_name(schema["name"])] = columns
        except (KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{schema_path.name} is not a table schema") from exc
    return streams


def table_names(tables_dir: Path) -> dict[str, str]:
    """Stream name -> its table's name, for every schema file."""
    names = {}
    for schema_path in sorted(tables_dir.glob("*.json")):
        name = str(json.loads(schema_path.read_text(encoding="utf-8"))["name"])
        names[stream_name(name)] = name
    return names


@dataclass(frozen=True)
class RowIssue:
    """One value the service dropped or changed, the way DCRLogErrors records it."""

    kind: str  # UnknownColumn, TypeMismatch, Truncated, TimeGeneratedReplaced
    column: str
    message: str


def parse_datetime(value: object) -> datetime | None:
    """Read an ISO-8601 string as an aware datetime (naive means UTC); None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def fits_type(value: object, column_type: str) -> bool:
    """Whether a JSON value fits a stream column type; null fits every type."""
    if value is None or column_type == "dynamic":
        return True
    if column_type == "string":
        return isinstance(value, str)
    if column_type == "boolean":
        return isinstance(value, bool)
    if column_type in ("int", "long"):
        low, high = _INT32 if column_type == "int" else _INT64
        return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if column_type == "real":
        is_number = isinstance(value, int | float) and not isinstance(value, bool)
        return is_number and math.isfinite(value)  # type: ignore[arg-type]
    if column_type == "datetime":
        return parse_datetime(value) is not None
    if column_type == "guid":
        try:
            uuid.UUID(str(value))
        except ValueError:
            return False
        return isinstance(value, str)
    return False  # An unknown declared type accepts nothing.


def _truncate_utf8(text: str, limit: int) -> str:
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def apply_row_rules(
    row: dict[str, Any], columns: dict[str, str], received_at: datetime
) -> tuple[dict[str, Any], list[RowIssue]]:
    """Shape one row the way the service would store it.

    Args:
        row: The row as sent.
        columns: The stream declaration (column -> type).
        received_at: When the request arrived (aware).

    Returns:
        The stored row (declared columns only) and what was dropped or changed.
    """
    stored: dict[str, Any] = {}
    issues: list[RowIssue] = []
    for column, value in row.items():
        column_type = columns.get(column)
        if column_type is None:
            issues.append(RowIssue("UnknownColumn", column, "Column not in the stream; dropped."))
            continue
        if not fits_type(value, column_type):
            kind = type(value).__name__
            message = f"Value of JSON type {kind} does not fit {column_type}; set to null."
            issues.append(RowIssue("TypeMismatch", column, message))
            value = None
        if isinstance(value, str) and len(value.encode("utf-8")) > MAX_FIELD_BYTES:
            issues.append(RowIssue("Truncated", column, f"Cut to {MAX_FIELD_BYTES} bytes."))
            value = _truncate_utf8(value, MAX_FIELD_BYTES)
        stored[column] = value
    if "TimeGenerated" in columns:
        _fix_time_generated(stored, received_at, issues)
    return stored, issues


def _fix_time_generated(
    stored: dict[str, Any], received_at: datetime, issues: list[RowIssue]
) -> None:
    time_generated = parse_datetime(stored.get("TimeGenerated"))
    if time_generated is None:
        reason = "missing or unreadable"
    elif time_generated < received_at - PAST_WINDOW:
        reason = "more than 2 days in the past"
    elif time_generated > received_at + FUTURE_WINDOW:
        reason = "more than 1 day in the future"
    else:
        return
    stored["TimeGenerated"] = received_at.isoformat()
    issues.append(
        RowIssue("TimeGeneratedReplaced", "TimeGenerated", f"{reason}; set to receive time.")
    )
