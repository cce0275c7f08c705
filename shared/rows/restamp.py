"""Re-stamping ``TimeGenerated`` on rows delivered late (retries, replays).

Log Analytics replaces a ``TimeGenerated`` more than 2 days old (or 1 day ahead) with
the time it receives the row, silently (``shared.rows.timepolicy``). A row retried for hours,
or replayed from the dead letters days later, can cross that line while it waits. Such
rows get the delivery time in ``TimeGenerated`` here, so the choice is the bridge's and
visible in the outcome; ``EventTime`` and ``ReceivedTime`` keep the original times, so
queries on the event's own time still find it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shared.rows.timepolicy import ACCEPTED_FUTURE, ACCEPTED_PAST, parse_timestamp, utc_iso


def restamp_rows(rows: Sequence[dict[str, Any]], now: datetime) -> tuple[list[dict[str, Any]], int]:
    """``rows`` with each stale ``TimeGenerated`` set to ``now``, and how many were.

    Rows are copied only when changed. A ``TimeGenerated`` that is missing or does not
    parse is left for the service to judge (it substitutes its receive time).

    Args:
        rows: the rows about to be sent.
        now: the delivery time (timezone-aware).
    """
    stamp = utc_iso(now)
    restamped: list[dict[str, Any]] = []
    late = 0
    for row in rows:
        if is_stale(row.get("TimeGenerated"), now):
            row = {**row, "TimeGenerated": stamp}
            late += 1
        restamped.append(row)
    return restamped, late


def is_stale(value: object, now: datetime) -> bool:
    """Whether ``value`` is an ISO-8601 time outside the window the service keeps."""
    if not isinstance(value, str):
        return False
    try:
        moment = parse_timestamp(value)
    except ValueError:
        return False
    return not now - ACCEPTED_PAST <= moment <= now + ACCEPTED_FUTURE
