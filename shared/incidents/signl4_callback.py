"""``POST /api/signl4/{token}``: SIGNL4's status changes written back to the incident.

Through the request pipeline (``shared.inbound.pipeline``): method (405), settings (503),
size (413), token (401 for a wrong one; 404 while the Key Vault secret
``SIGNL4_CALLBACK_TOKEN_NAME`` does not exist, so the route is off), body (400). Then:

- an event that asks nothing (created, escalated, duty): 200, nothing written;
- an incident the bridge never forwarded (or that is gone): 200 and a log line;
- acknowledged: status Active (only from New: a late acknowledgement never reopens a
  closed incident);
- closed: status Closed with ``SIGNL4_CLOSE_CLASSIFICATION`` and a classification comment;
- on the events ``SIGNL4_OWNER_ON`` names (acknowledge and close by default), the
  responder becomes the owner (email and UPN from SIGNL4's user);
- every handled event also writes one comment whose id is derived from the event's id,
  so a redelivery rewrites the same comment; it is skipped (and logged) when the
  incident already holds Sentinel's maximum of 100 comments;
- ARM failing: 503 with ``Retry-After``.

The bridge's own writes are recorded (etag and content), so the poller does not forward
them back to SIGNL4 as news.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from shared.auth.common import MAX_CREDENTIAL_LENGTH, matches_any, verify_rotating
from shared.errors import IncidentNotFound, SecretMissing, Unauthorized, UnknownEventType
from shared.inbound.pipeline import Reply
from shared.inbound.request import InboundRequest
from shared.incidents.domain.callback import MAX_COMMENTS, Kind, Signl4Event, parse_event
from shared.incidents.domain.merge import Change
from shared.incidents.domain.model import Incident
from shared.incidents.domain.state import Forwarded
from shared.incidents.fleet import IncidentFleet
from shared.incidents.forward import Forwarder
from shared.incidents.writeback import write
from shared.sources.media import check_json_media

logger = logging.getLogger(__name__)

EDGE = "signl4"
METHODS = frozenset({"POST"})


@dataclass(frozen=True)
class Signl4Endpoint:
    """``/api/signl4/{token}`` for the request pipeline; the token in the path is the gate."""

    token: str
    fleet: Callable[[], IncidentFleet]
    body_limit: Callable[[], int]
    name: str = EDGE
    methods: frozenset[str] = METHODS

    def check_route(self) -> None:
        """Every token is a route: a wrong one is a 401, like a wrong credential."""

    def max_body_bytes(self) -> int:
        """MAX_BODY_BYTES."""
        return self.body_limit()

    async def authenticate(self, request: InboundRequest) -> None:
        """The path's token against the Key Vault secret; absent secret: the route is off."""
        if not self.token or len(self.token) > MAX_CREDENTIAL_LENGTH:
            raise Unauthorized
        fleet = self.fleet()
        try:
            await verify_rotating(
                fleet.secrets,
                [fleet.callback_token_name],
                lambda values: matches_any(self.token, values),
            )
        except SecretMissing:
            raise UnknownEventType("This endpoint is not enabled.") from None

    async def handle(self, request: InboundRequest) -> Reply:
        """Apply the event (see the module docstring)."""
        return await apply_event(self.fleet(), request)


async def apply_event(fleet: IncidentFleet | Forwarder, request: InboundRequest) -> Reply:
    """Write one authenticated SIGNL4 event back to its incident, in the source it came
    from (``X-S4-ExternalID`` = ``<source>:<name>``, or a bare name: the default source)."""
    check_json_media(request.headers)
    event = parse_event(request.body)
    if event.kind is Kind.NOTHING:
        logger.info("SIGNL4 event %s needs nothing written", event.event_id)
        return Reply(200, {"handled": False})
    found = await _resolve(fleet, event.incident) if event.incident else None
    if found is None:
        logger.info(
            "SIGNL4 event %s is for an incident the bridge never forwarded; ignored",
            event.event_id,
        )
        return Reply(200, {"handled": False, "reason": "unknown incident"})
    forwarder, record = found
    try:
        incident = Incident.of(await forwarder.api.get(record.name))
    except IncidentNotFound:
        logger.info("SIGNL4 event %s: incident %s is gone; ignored", event.event_id, record.name)
        return Reply(200, {"handled": False, "reason": "unknown incident"})
    settings = forwarder.settings
    change = _change(
        event, incident, settings.signl4_close_classification, settings.signl4_owner_on
    )
    written = await write(forwarder.api, record.name, change, current=incident)
    if written is not None:
        await forwarder.state.save_forwarded(record.with_own_write(written))
        incident = written
    commented = await _comment(forwarder, incident, event)
    logger.info(
        "SIGNL4 event %s (%s) applied to incident %s; status written %s, comment %s",
        event.event_id,
        event.kind.value,
        record.name,
        written is not None,
        commented,
    )
    return Reply(200, {"handled": True, "action": event.kind.value, "comment": commented})


def _change(
    event: Signl4Event, incident: Incident, classification: str, owner_on: frozenset[str]
) -> Change:
    """What the event writes; the responder becomes owner on the events SIGNL4_OWNER_ON names."""
    status = incident.text("status")
    owner = _owner(event) if event.kind.value in owner_on else None
    if event.kind is Kind.ACKNOWLEDGE and status != "Closed":
        new_status = "Active" if status == "New" else None
        return Change(status=new_status, owner=owner)
    if event.kind is Kind.CLOSE and status != "Closed":
        who = event.user or event.user_email or "a responder"
        return Change(
            status="Closed",
            classification=classification,
            classification_comment=f"Closed in SIGNL4 by {who}",
            owner=owner,
        )
    return Change()


def _owner(event: Signl4Event) -> dict[str, str] | None:
    """The responder as an incident owner (email and UPN), or None without an email."""
    if not event.user_email:
        return None
    owner = {"email": event.user_email, "userPrincipalName": event.user_email}
    if event.user:
        owner["assignedTo"] = event.user
    return owner


async def _comment(forwarder: Forwarder, incident: Incident, event: Signl4Event) -> bool:
    additional = incident.properties.get("additionalData") or {}
    count = additional.get("commentsCount") if isinstance(additional, dict) else None
    if isinstance(count, int) and count >= MAX_COMMENTS:
        logger.warning(
            "Incident %s holds %d comments (the maximum); SIGNL4 event %s not added",
            incident.name,
            count,
            event.event_id,
        )
        return False
    await forwarder.api.put_comment(incident.name, event.comment_id, event.comment())
    return True


async def _resolve(
    fleet: IncidentFleet | Forwarder, external_id: str
) -> tuple[Forwarder, Forwarded] | None:
    if isinstance(fleet, IncidentFleet):
        return await fleet.resolve(external_id)
    record = await fleet.state.forwarded(external_id)
    return (fleet, record) if record is not None else None
