"""What the poller asks ARM for, and how far its watermark may move (pure).

One list per poll: ``properties/lastModifiedTimeUtc ge <since>`` ordered ascending. The
status, severity, age and label filters are applied to what comes back, not sent in the
``$filter``: the same list then also carries every change to an incident already
forwarded (closed, escalated, reassigned) whatever its status now, so an idle poll is one
ARM call and no second query is needed for updates.

``since`` is the watermark minus an overlap (10 minutes), never before the maximum age.
The watermark is the service's own ``lastModifiedTimeUtc`` (no local clock), capped by
the ``Date`` of the first page, so an incident changed while the pages were read is read
again next time; it moves only after a poll in which every page was read and every
matching incident delivered or durably queued, and not at all when the same incident
came back twice in one poll (a service paging by offset, whose pages shift under updates,
can then also have skipped one). Duplicates from the overlap are dropped by version.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from shared.config.incidents import IncidentSettings
from shared.incidents.model import Incident, format_arm_time

OVERLAP = timedelta(minutes=10)
SWEEP_EVERY = timedelta(hours=1)
ORDER_BY = "properties/lastModifiedTimeUtc asc"
PAGE_SIZE = 1000


def list_since(
    now: datetime, watermark: datetime | None, max_age: timedelta, *, sweep: bool = False
) -> datetime:
    """The earliest ``lastModifiedTimeUtc`` to list.

    A sweep (or the first poll) reads the whole maximum-age window; otherwise the
    watermark minus ``OVERLAP``, but never before the window.
    """
    earliest = now - max_age
    if sweep or watermark is None:
        return earliest
    return max(earliest, watermark - OVERLAP)


def list_filter(since: datetime) -> str:
    """The ``$filter`` for one poll."""
    return f"properties/lastModifiedTimeUtc ge {format_arm_time(since)}"


def sweep_due(now: datetime, last_sweep: datetime | None) -> bool:
    """Whether this poll should also read the whole window (hourly)."""
    return last_sweep is None or now - last_sweep >= SWEEP_EVERY


def matches(incident: Incident, settings: IncidentSettings, now: datetime) -> bool:
    """Whether a not-yet-forwarded incident should be forwarded under the settings."""
    if incident.text("status") not in settings.statuses:
        return False
    if settings.severities is not None and incident.text("severity") not in settings.severities:
        return False
    if incident.created < now - settings.max_age:
        return False
    return settings.label is None or settings.label in incident.labels


def next_watermark(
    current: datetime | None,
    seen: Iterable[datetime],
    *,
    server_time: datetime | None,
    unstable: bool,
) -> datetime | None:
    """Where the watermark goes after a complete poll.

    Args:
        current: the watermark before the poll.
        seen: ``lastModifiedTimeUtc`` of every incident listed.
        server_time: the first page's ``Date`` header, if ARM sent one.
        unstable: an incident came back twice in this poll: hold the watermark.
    """
    if unstable:
        return current
    newest = max(seen, default=None)
    if newest is None:
        return current
    if server_time is not None:
        newest = min(newest, server_time)
    return newest if current is None else max(current, newest)
