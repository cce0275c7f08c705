"""What the bridge remembers about forwarded incidents, and what to do with a listed one (pure).

A :class:`Forwarded` record per incident the bridge has sent somewhere: the version last
handled (``lastModifiedTimeUtc`` as written by the service), the fingerprint of what
destinations were last told, the destinations it went to, and the etags of the bridge's
own writes (tags, write-back from SIGNL4). :func:`decide` turns a listed incident and its
record into an :class:`Action`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.config.incidents import IncidentSettings
from shared.incidents.model import Incident, parse_arm_time
from shared.incidents.query import matches

MAX_OWN_ETAGS = 8
KEEP_CLOSED = timedelta(days=30)
"""How long a closed incident's record is kept (SIGNL4 may still report on its alert)."""


@dataclass(frozen=True)
class Forwarded:
    """One forwarded incident, as stored."""

    name: str
    version: str
    fingerprint: str
    status: str
    destinations: tuple[str, ...] = ()
    own_etags: tuple[str, ...] = ()
    sent: bool = True
    """False while the first forward is under way: stored before it is sent, so a SIGNL4
    answer that arrives before the forward is recorded still finds its incident."""

    def handled(self, incident: Incident) -> Forwarded:
        """This record once ``incident``'s version was handled (delivered, queued or echo)."""
        return replace(
            self,
            version=incident.last_modified_text,
            fingerprint=incident.fingerprint(),
            status=incident.text("status"),
            sent=True,
        )

    def with_own_write(self, incident: Incident) -> Forwarded:
        """After the bridge itself wrote ``incident`` (its answer): remember the etag, and
        treat what it now says as known, so the write does not come back as news."""
        etags = self.own_etags
        if incident.etag is not None and incident.etag not in etags:
            etags = (*etags, incident.etag)[-MAX_OWN_ETAGS:]
        return replace(self.handled(incident), own_etags=etags)

    def with_destinations(self, names: tuple[str, ...]) -> Forwarded:
        """Add destinations the incident has now gone to."""
        merged = tuple(dict.fromkeys((*self.destinations, *names)))
        return replace(self, destinations=merged)


class Action(enum.Enum):
    """What the poller does with one listed incident."""

    SEEN = "seen"
    """This version (or a later one) was handled already."""
    ECHO = "echo"
    """A version the bridge wrote itself, or a change destinations do not see: note it."""
    IGNORE = "ignore"
    """Never forwarded and not matching the filters."""
    CREATE = "create"
    """Forward to every enabled destination."""
    UPDATE = "update"
    """Tell the destinations it went to what changed."""


def decide(
    incident: Incident, record: Forwarded | None, settings: IncidentSettings, now: datetime
) -> Action:
    """What to do with ``incident``, given what the bridge remembers of it."""
    if record is None or not record.sent:  # a first forward that never finished is redone
        return Action.CREATE if matches(incident, settings, now) else Action.IGNORE
    if incident.last_modified <= parse_arm_time(record.version):
        return Action.SEEN
    if incident.etag in record.own_etags or incident.fingerprint() == record.fingerprint:
        return Action.ECHO
    return Action.UPDATE


def first_record(incident: Incident) -> Forwarded:
    """The record of an incident about to be forwarded for the first time."""
    return Forwarded(
        name=incident.name,
        version=incident.last_modified_text,
        fingerprint=incident.fingerprint(),
        status=incident.text("status"),
    )


def pending_record(incident: Incident, destinations: tuple[str, ...]) -> Forwarded:
    """The record stored just before a first forward: known, but not yet handled."""
    return replace(first_record(incident), destinations=destinations, sent=False)


def expired(record: Forwarded, now: datetime) -> bool:
    """Whether a record can be forgotten: closed, and untouched for ``KEEP_CLOSED``."""
    return record.status == "Closed" and parse_arm_time(record.version) < now - KEEP_CLOSED
