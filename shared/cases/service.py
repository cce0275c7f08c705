"""The four Kibana case calls against Sentinel's incidents, each safe to repeat.

- :func:`create`: the incident's name comes from the Kibana case id, so a create sent
  again finds the incident the first one made and applies the case's fields to it as an
  update would (nothing changes when they are the same): never a second incident.
- :func:`get`: the incident as it is.
- :func:`update`: read, apply the mapped fields over everything else (owner, labels,
  classification kept; tags only added), PUT with the read etag; a 409 (someone wrote in
  between) reads again and re-applies, ``MAX_ATTEMPTS`` in all. A change that is already
  true is not written, so a repeated update is a read.
- :func:`comment`: ``PUT .../comments/{id}`` with an id derived from the incident and the
  text, so a repeated comment rewrites the same comment.

ARM's failures come from the adapter as ``UpstreamUnavailable`` (``IncidentNotFound`` for
a 404, ``IncidentConflict`` for a 409) and are raised as they are, except a 400 on a
write: Sentinel does not take the values (or the 101st comment), which no retry changes,
so it is a ``RequestRejected``.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from shared.cases.mapping import (
    CaseFields,
    NewCase,
    comment_id,
    new_incident_body,
    update_body,
)
from shared.errors import IncidentConflict, IncidentNotFound, RequestRejected, UpstreamUnavailable
from shared.incidents.model import Incident

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
BAD_REQUEST = 400


class CaseIncidents(Protocol):
    """The part of ``shared.incidents.ports.IncidentApi`` the case calls use."""

    async def get(self, name: str) -> dict[str, Any]:
        """One incident."""
        ...

    async def put(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace an incident (409 on a stale etag)."""
        ...

    async def put_comment(self, name: str, comment_id: str, message: str) -> dict[str, Any]:
        """Create or update one comment."""
        ...


async def create(api: CaseIncidents, case: NewCase) -> Incident:
    """The case's incident, created, or (a repeated create) updated to the case's fields."""
    name = case.incident_name
    try:
        current = Incident.of(await api.get(name))
    except IncidentNotFound:
        created = Incident.of(await _put(api, name, new_incident_body(case)))
        logger.info("Kibana case %s created incident %s", case.case_id, name)
        return created
    logger.info("Kibana case %s: incident %s exists (a repeated create)", case.case_id, name)
    return await update(api, name, case.fields, current=current)


async def get(api: CaseIncidents, name: str) -> Incident:
    """Incident ``name``."""
    return Incident.of(await api.get(name))


async def update(
    api: CaseIncidents, name: str, fields: CaseFields, *, current: Incident | None = None
) -> Incident:
    """Apply ``fields`` to incident ``name``; the incident as it now is.

    Raises:
        RequestRejected: Sentinel refused the fields (ARM answered 400).
        IncidentNotFound: no such incident.
        UpstreamUnavailable: ARM failed, or still answered 409 after ``MAX_ATTEMPTS``.
    """
    incident = current
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if incident is None:
            incident = Incident.of(await api.get(name))
        body = update_body(incident, fields)
        if body is None:
            logger.info("Incident %s already matches the Kibana case; nothing written", name)
            return incident
        try:
            written = Incident.of(await _put(api, name, body))
        except IncidentConflict:
            logger.info("Incident %s changed meanwhile (409, attempt %d); merging", name, attempt)
            incident = None
            continue
        logger.info("Incident %s updated from its Kibana case", name)
        return written
    raise UpstreamUnavailable(f"incident {name} kept changing; not written", upstream_status=409)


async def _put(api: CaseIncidents, name: str, body: dict[str, Any]) -> dict[str, Any]:
    """PUT the incident; ARM's 400 (a value Sentinel does not take) is the sender's problem."""
    try:
        return await api.put(name, body)
    except UpstreamUnavailable as error:
        if error.upstream_status == BAD_REQUEST:
            raise RequestRejected(
                "Sentinel refused the incident's fields (e.g. a title or description too long)."
            ) from None
        raise


async def comment(api: CaseIncidents, name: str, text: str) -> str:
    """Add ``text`` to incident ``name`` as a comment; its id (the same on every retry).

    Raises:
        IncidentNotFound: no such incident.
        RequestRejected: Sentinel refused the comment (it holds 100 comments at most).
        UpstreamUnavailable: ARM failed.
    """
    identifier = comment_id(name, text)
    try:
        await api.put_comment(name, identifier, text)
    except UpstreamUnavailable as error:
        if error.upstream_status == BAD_REQUEST:
            raise RequestRejected(
                "Sentinel refused the comment (an incident holds at most 100 comments)."
            ) from None
        raise
    logger.info("Comment %s written on incident %s", identifier, name)
    return identifier
