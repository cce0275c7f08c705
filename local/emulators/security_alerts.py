"""Sentinel's alerts as rows of the workspace's ``SecurityAlert`` table.

A scheduled analytics rule's alert lands both in ARM (the incident's alerts) and in
``SecurityAlert``, whose ``ExtendedProperties`` (JSON text) records the rule's query and
the window it ran over: ``Query``, ``Query Start Time UTC``, ``Query End Time UTC`` (in
the ``2022-02-02 14:00:56Z`` form), with ``Query Period`` and the rule's ids beside them.
The bridge's search results read them back through the query API.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from local.emulators.workspace import LogAnalyticsWorkspace

TABLE = "SecurityAlert"
_SCHEMA = Path(__file__).resolve().parents[2] / "tools" / "kql" / "tables" / "SecurityAlert.json"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def record_rule_alert(
    workspace: LogAnalyticsWorkspace,
    alert: dict[str, Any],
    *,
    query: str,
    start: datetime,
    end: datetime,
    rule_id: str,
) -> None:
    """Write ``alert`` (an ARM SecurityAlert entity) to ``SecurityAlert``, with the rule's
    query and window in its ExtendedProperties."""
    if workspace.table(TABLE) is None:
        columns = json.loads(_SCHEMA.read_text(encoding="utf-8"))["columns"]
        workspace.put_table(TABLE, [(c["name"], c["type"]) for c in columns])
    props = alert["properties"]
    extended = {
        "Query": query,
        "Query Period": f"{int((end - start).total_seconds() // 60)} minutes",
        "Query Start Time UTC": _stamp(start),
        "Query End Time UTC": _stamp(end),
        "Analytic Rule Ids": json.dumps([rule_id.rsplit("/", 1)[-1]]),
        "Data Sources": "[]",
    }
    workspace.ingest(
        TABLE,
        [
            {
                "TimeGenerated": props.get("timeGenerated"),
                "SystemAlertId": props["systemAlertId"],
                "AlertName": props.get("alertDisplayName"),
                "DisplayName": props.get("alertDisplayName"),
                "AlertSeverity": props.get("severity"),
                "ProductName": props.get("productName"),
                "StartTime": props.get("startTimeUtc"),
                "EndTime": props.get("endTimeUtc"),
                "ExtendedProperties": json.dumps(extended),
            }
        ],
    )
