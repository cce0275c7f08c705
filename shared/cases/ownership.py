"""Which incidents the Kibana cases credential may touch: only those its cases created.

The Elastic credential is a webhook secret kept in Kibana; it must not become a key to
every incident in the workspace (OWASP API1:2023, broken object-level authorization).
So the bridge records each incident it creates from a Kibana case, *before* creating it
(a create that then fails leaves a record of a name only that case can ever produce),
and every get, update and comment checks the record first. An incident without one is
answered exactly like an incident that does not exist: 404 ``No such incident.``.
"""

from __future__ import annotations

from typing import Protocol

from shared.errors import UnknownEventType


class CaseRecords(Protocol):
    """Where the incidents created from Kibana cases are recorded (Table storage)."""

    async def save_case(self, name: str, case_id: str) -> None:
        """Record that incident ``name`` belongs to Kibana case ``case_id``."""
        ...

    async def case_of(self, name: str) -> str | None:
        """The Kibana case id incident ``name`` was created for, or None."""
        ...


def not_found() -> UnknownEventType:
    """The one answer for an incident that is missing or not the credential's to touch."""
    return UnknownEventType("No such incident.")


async def check_owned(records: CaseRecords, name: str) -> None:
    """Raise the 404 of a missing incident unless ``name`` was created from a Kibana case.

    Raises:
        UnknownEventType: no record for ``name``.
        UpstreamUnavailable: the record cannot be read (503; never taken as "not owned").
    """
    if await records.case_of(name) is None:
        raise not_found()
