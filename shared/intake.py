"""The intake service: one inbound webhook in, one reply out.

Every check happens here, in this order, so each bad input gets its own clear answer
and nothing unauthenticated gets past the second step that touches its content:

1. method (405) and route (404): public facts, no secrets needed;
2. settings (503 naming nothing secret), then size (413) from Content-Length before the body;
3. the sender's credentials (401; 503 when the secret store cannot be read);
4. the body (400), then test events (200, nothing sent) and the event-type filter;
5. Sentinel: 202 only once the Logs Ingestion API accepted the row, else 503 + Retry-After.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.bootstrap import Bridge
from shared.errors import (
    BridgeError,
    PayloadTooLarge,
    RequestRejected,
    Unauthorized,
    error_body,
    retry_after_seconds,
)
from shared.jsonbody import parse_json_object
from shared.sources import fig

logger = logging.getLogger(__name__)

# After a failed check, read the stored hash again (it may have been rotated), but not
# more often than this, so wrong secrets cannot make the bridge hammer Key Vault.
ROTATION_RECHECK_SECONDS = 30.0


@dataclass(frozen=True)
class InboundRequest:
    """What the edge hands the service: method, headers (lower-case names), body, time."""

    method: str
    headers: Mapping[str, str]
    body: bytes
    received: datetime


@dataclass(frozen=True)
class Reply:
    """What the edge turns into an HTTP response."""

    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class MethodNotAllowed(RequestRejected):
    """The route exists but does not take this method."""

    status = 405
    code = "MethodNotAllowed"


async def receive_fig(route: str, request: InboundRequest, bridge: Callable[[], Bridge]) -> Reply:
    """Handle ``POST /api/fig/{route}`` (see the module docstring for the order of checks)."""
    try:
        return await _receive_fig(route, request, bridge)
    except BridgeError as error:
        return error_reply(error, source="fig")


async def _receive_fig(route: str, request: InboundRequest, bridge: Callable[[], Bridge]) -> Reply:
    if request.method.upper() != "POST":
        raise MethodNotAllowed("Fig webhooks are POSTed.")
    canonical = fig.resolve_route(route)
    wired = bridge()
    check_size(request, wired.settings.max_body_bytes)
    stored_hash = await wired.secrets.get(wired.settings.fig_secret_hash_name)
    await _verify_fig_secret(wired, request.headers.get("authorization"), stored_hash)
    event = fig.normalize(canonical, parse_json_object(request.body), request.received)
    if event.is_test:
        logger.info("Fig test webhook %s answered; nothing forwarded", event.event_type)
        return Reply(200, {"forwarded": False, "test": True, "eventType": event.event_type})
    enabled = wired.settings.fig_event_types
    if enabled is not None and event.event_type not in enabled:
        logger.info("Fig %s not in FIG_EVENT_TYPES; nothing forwarded", event.event_type)
        return Reply(200, {"forwarded": False, "eventType": event.event_type})
    await wired.sink.send(fig.table().stream, [event.row])
    logger.info("Fig %s accepted by Sentinel, EventId %s", event.event_type, event.row["EventId"])
    return Reply(
        202, {"forwarded": True, "eventType": event.event_type, "eventId": event.row["EventId"]}
    )


async def _verify_fig_secret(wired: Bridge, authorization: str | None, stored_hash: str) -> None:
    verifier = wired.fig_verifier
    if verifier.remembered(authorization, stored_hash):
        return
    try:
        await asyncio.to_thread(verifier.verify, authorization, stored_hash)
    except Unauthorized:
        name = wired.settings.fig_secret_hash_name
        fresh = await wired.secrets.get(name, max_age=ROTATION_RECHECK_SECONDS)
        if fresh == stored_hash:
            raise
        logger.info("Fig secret hash changed in Key Vault; checking against the new one")
        await asyncio.to_thread(verifier.verify, authorization, fresh)


def check_size(request: InboundRequest, max_body_bytes: int) -> None:
    """Refuse a body over the limit, from its declared length first (413)."""
    declared = request.headers.get("content-length", "")
    too_large = PayloadTooLarge(f"The body is larger than {max_body_bytes} bytes.")
    if declared.isdigit() and int(declared) > max_body_bytes:
        raise too_large
    if len(request.body) > max_body_bytes:
        raise too_large


def error_reply(error: BridgeError, *, source: str) -> Reply:
    """The reply for an error: its status, the JSON error body, and Retry-After on 503."""
    headers: dict[str, str] = {}
    retry_after = retry_after_seconds(error)
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    if isinstance(error, MethodNotAllowed):
        headers["Allow"] = "POST"
    if error.status >= 500:
        logger.warning("%s webhook not accepted: %s (%s)", source, error.code, error)
    else:
        logger.info("%s webhook refused: %d %s", source, error.status, error.code)
    return Reply(error.status, error_body(error), headers)
