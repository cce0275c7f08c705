"""Which time a row carries in ``TimeGenerated``.

Log Analytics replaces a ``TimeGenerated`` more than 2 days in the past or 1 day in the
future with the time it received the row, silently. So the bridge uses the event's own
time only inside that window (with a margin for the time a row spends in flight), and
otherwise the receive time, keeping the event's time in ``EventTime`` either way.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# The service's window, narrowed so a row sent now is still inside it when it lands.
ACCEPTED_PAST = timedelta(days=2) - timedelta(hours=1)
ACCEPTED_FUTURE = timedelta(days=1) - timedelta(minutes=10)


def parse_timestamp(text: str) -> datetime:
    """Parse an ISO-8601 timestamp with an offset (Fig sends up to 7 fractional digits).

    Raises:
        ValueError: not ISO-8601, or no offset (a time without a zone is ambiguous).
    """
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ValueError("timestamp has no UTC offset")
    return parsed.astimezone(UTC)


def timestamp_or_none(value: object) -> datetime | None:
    """``value`` as an aware time when it is ISO-8601 text with an offset, else None."""
    if not isinstance(value, str):
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        return None


def time_generated(event_time: datetime | None, received: datetime) -> datetime:
    """The ``TimeGenerated`` for an event: its own time when the service would keep it."""
    if event_time is None:
        return received
    if received - ACCEPTED_PAST <= event_time <= received + ACCEPTED_FUTURE:
        return event_time
    return received


def utc_iso(moment: datetime) -> str:
    """ISO-8601 with a ``Z``, as the ingestion API and KQL expect."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
