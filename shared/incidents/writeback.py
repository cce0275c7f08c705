"""Writing to an incident without losing anyone else's change (tags, status, owner).

Each write starts from the incident as read (or just listed), applies a
:class:`~shared.incidents.merge.Change` and PUTs it with the read etag. A 409 means
someone wrote in between: read again, re-apply, try again (``MAX_ATTEMPTS`` in all).
A change that is already true is not written. The answer (new etag and
``lastModifiedTimeUtc``) is returned, so the caller can record it as the bridge's own
write and not forward it when the next poll lists it.
"""

from __future__ import annotations

import logging

from shared.errors import IncidentConflict, UpstreamUnavailable
from shared.incidents.merge import Change, put_body
from shared.incidents.model import Incident
from shared.incidents.ports import IncidentApi, IncidentState

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3


async def write(
    api: IncidentApi, name: str, change: Change, *, current: Incident | None = None
) -> Incident | None:
    """Apply ``change`` to incident ``name``; the incident as written, or None if the
    change was already true.

    Raises:
        UpstreamUnavailable: ARM failed, or still answered 409 after ``MAX_ATTEMPTS``.
    """
    incident = current
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if incident is None:
            incident = Incident.of(await api.get(name))
        if not change.needed(incident):
            return None
        try:
            return Incident.of(await api.put(name, put_body(incident, change)))
        except IncidentConflict:
            logger.info("Incident %s changed meanwhile (409, attempt %d); merging", name, attempt)
            incident = None
    raise UpstreamUnavailable(f"incident {name} kept changing; not written", upstream_status=409)


async def tag(
    api: IncidentApi,
    state: IncidentState,
    name: str,
    labels: tuple[str, ...],
    *,
    current: Incident | None = None,
) -> Incident | None:
    """Add ``labels`` to the incident and remember the write as the bridge's own.

    Best effort: a failure is logged and None returned (the delivery it marks stands).
    """
    try:
        written = await write(api, name, Change(add_labels=labels), current=current)
    except UpstreamUnavailable as error:
        logger.warning("Incident %s not tagged %s: %s", name, ",".join(labels), error.message)
        return None
    if written is not None:
        record = await state.forwarded(name)
        if record is not None:
            await state.save_forwarded(record.with_own_write(written))
        logger.info("Incident %s tagged %s", name, ",".join(labels))
    return written
