"""The rows behind an incident's alerts, as KQL texts and bounded results (pure).

A scheduled analytics rule's alert records the query that fired it and the window it
ran over in ``SecurityAlert.ExtendedProperties`` (``"Query"``, or ``"OriginalQuery"``
when Sentinel rewrote it, and ``"Query Start Time UTC"`` / ``"Query End Time UTC"``).
The bridge looks those up with one query over ``SecurityAlert`` and then runs each
alert's own query over its own window, as SIGNL4 and SOAR connectors do. Alerts from
other products (Defender, NRT rules without a window) have no query: they are summarized.

Everything here is bounded: a row cap appended to each query, a byte cap on what is
kept, and the caller's timeout. What does not fit is counted, never an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

LOOKUP_COLUMNS = ("SystemAlertId", "ExtendedProperties", "TimeGenerated")
LOOKUP_BACK = timedelta(days=2)
"""How far before the incident's first alert the ``SecurityAlert`` lookup reaches."""
_ALERT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_TRAILING = re.compile(r"[\s;]+$")


@dataclass(frozen=True)
class QueryTable:
    """One table of a query's answer: column names and rows (values as the API gave them)."""

    columns: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]

    def records(self) -> list[dict[str, Any]]:
        """Each row as ``{column: value}``."""
        return [dict(zip(self.columns, row, strict=False)) for row in self.rows]


@dataclass(frozen=True)
class AlertQuery:
    """An alert's own query and the window it ran over."""

    alert_id: str
    text: str
    start: datetime
    end: datetime


def lookup_query(alert_ids: Iterable[str], *, limit: int) -> str | None:
    """The ``SecurityAlert`` query that finds these alerts' queries (None: no usable id).

    Ids come from ARM; anything but a plain identifier is left out rather than quoted.
    """
    ids = sorted({i for i in alert_ids if _ALERT_ID.fullmatch(i)})
    if not ids:
        return None
    listed = ", ".join(f'"{i}"' for i in ids)
    return (
        f"SecurityAlert\n| where SystemAlertId in ({listed})\n"
        f"| project {', '.join(LOOKUP_COLUMNS)}\n| take {limit}"
    )


def alert_queries(lookup: QueryTable) -> dict[str, AlertQuery]:
    """Each alert's query and window from the lookup's rows (its newest row wins)."""
    newest: dict[str, tuple[str, Any]] = {}
    for record in lookup.records():
        alert_id = record.get("SystemAlertId")
        if not isinstance(alert_id, str):
            continue
        stamp = str(record.get("TimeGenerated") or "")
        if alert_id not in newest or stamp > newest[alert_id][0]:
            newest[alert_id] = (stamp, record.get("ExtendedProperties"))
    found: dict[str, AlertQuery] = {}
    for alert_id, (_, properties) in newest.items():
        query = _query_of(alert_id, properties)
        if query is not None:
            found[alert_id] = query
    return found


def _query_of(alert_id: str, properties: object) -> AlertQuery | None:
    if isinstance(properties, str):
        try:
            properties = json.loads(properties)
        except ValueError:
            return None
    if not isinstance(properties, Mapping):
        return None
    text = properties.get("OriginalQuery") or properties.get("Query")
    start = _moment(properties.get("Query Start Time UTC"))
    end = _moment(properties.get("Query End Time UTC"))
    if not isinstance(text, str) or not text.strip() or start is None or end is None:
        return None
    if end <= start:
        return None
    return AlertQuery(alert_id, text, start, end)


def _moment(value: object) -> datetime | None:
    """``"2022-02-02 14:00:56Z"`` (the alert's format) or ISO 8601."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def capped(text: str, rows: int) -> str:
    """``text`` with a row cap one above ``rows`` (so a cut is visible as one row too many).

    A trailing ``;`` or blank would make the appended operator a syntax error; a final
    ``//`` comment is ended by the newline.
    """
    return f"{_TRAILING.sub('', text)}\n| take {rows + 1}"


def bounded(table: QueryTable, *, rows: int, max_bytes: int) -> dict[str, Any]:
    """The rows that fit in ``rows`` and ``max_bytes`` of JSON, and how many did not."""
    kept: list[dict[str, Any]] = []
    size = 2  # the enclosing brackets
    for record in table.records()[:rows]:
        cost = len(json.dumps(record, default=str, ensure_ascii=False).encode()) + 1
        if size + cost > max_bytes:
            break
        kept.append(_plain(record))
        size += cost
    more = len(table.rows) > rows  # the cap asked for one row too many
    return {
        "columns": list(table.columns),
        "rows": kept,
        "omitted": len(table.rows) - len(kept),
        "complete": not more and len(kept) == len(table.rows),
    }


def _plain(record: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready values: datetimes as ISO text."""
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in record.items()
    }


def unavailable(reason: str) -> dict[str, Any]:
    """What an alert carries when its rows could not be read: the reason, no rows."""
    return {"rows": [], "complete": False, "unavailable": reason}


def lookup_window(alerts: Sequence[Mapping[str, Any]], now: datetime) -> tuple[datetime, datetime]:
    """From a little before the earliest alert to now (the lookup's time range)."""
    starts = [m for m in (_moment(a.get("startTime") or a.get("time")) for a in alerts) if m]
    earliest = min(starts, default=now - timedelta(days=1))
    return min(earliest, now) - LOOKUP_BACK, now
