"""``POST /api/signl4/{token}``: SIGNL4's status changes written back to the incident.

Order of checks, as in ``shared.intake``: method (405), settings (503), size (413), token
(401 for a wrong one; 404 while the Key Vault secret ``SIGNL4_CALLBACK_TOKEN_NAME`` does
not exist, so the route is off), body (400). Then:

- an event that asks nothing (created, escalated, duty): 200, nothing written;
- an incident the bridge never forwarded (or that is gone): 200 and a log line;
- acknowledged: status Active (only from New: a late acknowledgement never reopens a
  closed incident) and owner = the responder (email and UPN from SIGNL4's user);
- closed: status Closed with ``SIGNL4_CLOSE_CLASSIFICATION`` and a classification comment;
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

from shared.auth.common import MAX_CREDENTIAL_LENGTH, matches_any, verify_rotating
from shared.errors import BridgeError, SecretMissing, Unauthorized, UnknownEventType
from shared.incidents.callback import MAX_COMMENTS, Kind, Signl4Event, parse_event
from shared.incidents.errors import IncidentNotFound
from shared.incidents.forward import Forwarder
from shared.incidents.merge import Change
from shared.incidents.model import Incident
from shared.incidents.writeback import write
from shared.intake import MethodNotAllowed, Reply, check_size, error_reply
from shared.sources.base import InboundRequest
from shared.sources.media import check_json_media

logger = logging.getLogger(__name__)

EDGE = "signl4"
METHODS = frozenset({"POST"})


async def receive_signl4(
    token: str,
    request: InboundRequest,
    forwarder: Callable[[], Forwarder],
    *,
    max_body_bytes: Callable[[], int],
) -> Reply:
    """Handle one SIGNL4 webhook (see the module docstring)."""
    try:
        return await _receive(token, request, forwarder, max_body_bytes)
    except SecretMissing:
        return error_reply(UnknownEventType("This endpoint is not enabled."), source=EDGE)
    except BridgeError as error:
        return error_reply(error, source=EDGE)


async def _receive(
    token: str,
    request: InboundRequest,
    get_forwarder: Callable[[], Forwarder],
    max_body_bytes: Callable[[], int],
) -> Reply:
    if request.method.upper() not in METHODS:
        raise MethodNotAllowed(METHODS)
    forwarder = get_forwarder()
    check_size(request, max_body_bytes())
    if not token or len(token) > MAX_CREDENTIAL_LENGTH:
        raise Unauthorized
    await verify_rotating(
        forwarder.secrets,
        [forwarder.settings.signl4_callback_token_name],
        lambda values: matches_any(token, values),
    )
    check_json_media(request.headers)
    event = parse_event(request.body)
    if event.kind is Kind.NOTHING:
        logger.info("SIGNL4 event %s needs nothing written", event.event_id)
        return Reply(200, {"handled": False})
    record = await forwarder.state.forwarded(event.incident) if event.incident else None
    if record is None:
        logger.info(
            "SIGNL4 event %s is for an incident the bridge never forwarded; ignored",
            event.event_id,
        )
        return Reply(200, {"handled": False, "reason": "unknown incident"})
    try:
        incident = Incident.of(await forwarder.api.get(record.name))
    except IncidentNotFound:
        logger.info("SIGNL4 event %s: incident %s is gone; ignored", event.event_id, record.name)
        return Reply(200, {"handled": False, "reason": "unknown incident"})
    change = _change(event, incident, forwarder.settings.signl4_close_classification)
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


def _change(event: Signl4Event, incident: Incident, classification: str) -> Change:
    status = incident.text("status")
    if event.kind is Kind.ACKNOWLEDGE and status != "Closed":
        owner = {"email": event.user_email, "userPrincipalName": event.user_email}
        if event.user:
            owner["assignedTo"] = event.user
        new_status = "Active" if status == "New" else None
        return Change(status=new_status, owner=owner if event.user_email else None)
    if event.kind is Kind.CLOSE and status != "Closed":
        who = event.user or event.user_email or "a responder"
        return Change(
            status="Closed",
            classification=classification,
            classification_comment=f"Closed in SIGNL4 by {who}",
        )
    return Change()


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
