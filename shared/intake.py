"""The intake service: one inbound webhook in, one reply out, the same for every source.

Every check happens here, in this order, so each bad input gets its own clear answer and
nothing unauthenticated reaches the code that reads its content:

1. method (405) and route (404): public facts, no secrets needed;
2. settings (503, details only in the log), then size (413), declared length first;
3. the sender's credentials (401; 503 when the secret store cannot be read);
4. the body (400), then test deliveries (200, nothing sent) and the event-type filter;
5. Sentinel: 202 once every row was accepted by the Logs Ingestion API or durably handed
   off (retry queue, or dead letters for rows that can never be accepted as they are);
   503 + Retry-After only when neither Sentinel nor storage took them.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from shared.bootstrap import Bridge
from shared.counting import record_reply, record_rows
from shared.errors import (
    BridgeError,
    IngestionFailed,
    PayloadTooLarge,
    RequestRejected,
    SecretMissing,
    UnknownEventType,
    error_body,
    retry_after_seconds,
)
from shared.handoff import HandedOff, hand_off
from shared.sources.base import InboundRequest, Parsed, Source

logger = logging.getLogger(__name__)


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

    def __init__(self, allowed: frozenset[str]) -> None:
        super().__init__(f"This endpoint takes {', '.join(sorted(allowed))}.")
        self.allowed = allowed


async def receive(
    source: Source, route: str, request: InboundRequest, bridge: Callable[[], Bridge]
) -> Reply:
    """Handle one webhook for ``source`` (see the module docstring for the order of checks)."""
    built: list[Bridge] = []  # the bridge, once settings allowed building it

    def wired() -> Bridge:
        if not built:
            built.append(bridge())
        return built[0]

    code: str | None = None
    try:
        reply = await _receive(source, route, request, wired)
    except SecretMissing as error:
        refusal = UnknownEventType("This source is not enabled.")
        failure: BridgeError = refusal if source.off_without_secret else error
        reply, code = error_reply(failure, source=source.name), failure.code
    except BridgeError as error:
        reply, code = error_reply(error, source=source.name), error.code
    with contextlib.suppress(BridgeError):  # broken settings: nothing to count with
        record_reply(wired(), source.name, reply.status, code)
    return reply


async def _receive(
    source: Source, route: str, request: InboundRequest, bridge: Callable[[], Bridge]
) -> Reply:
    if request.method.upper() not in source.methods:
        raise MethodNotAllowed(source.methods)
    source.check_route(route)
    wired = bridge()
    check_size(request, max(wired.settings.max_body_bytes, source.batch_body_bytes or 0))
    await source.authenticator.authenticate(request, wired.secrets, wired.settings)
    parsed = source.parse(route, request)
    try:
        return await _forward(source, request, parsed, wired)
    finally:
        if parsed.on_finished is not None:
            parsed.on_finished()  # e.g. release a replay reservation never accepted


async def _forward(source: Source, request: InboundRequest, parsed: Parsed, wired: Bridge) -> Reply:
    if parsed.test:
        logger.info("%s test delivery answered; nothing forwarded", source.name)
        return Reply(200, {"forwarded": False, "test": True})
    if parsed.duplicate:
        return Reply(200, {"forwarded": False, "duplicate": True})
    enabled = source.enabled_event_types(wired.settings)
    rows = [row for row in parsed.rows if enabled is None or row.get("EventType") in enabled]
    skipped = len(parsed.rows) - len(rows)
    if not rows:
        logger.info("%s: %d event(s) of types not enabled; nothing forwarded", source.name, skipped)
        record_rows(wired, source.name, accepted=0, queued=0, dead_lettered=0, skipped=skipped)
        return Reply(200, {"forwarded": False, "skipped": skipped})
    stream = source.table().stream
    handed_off = HandedOff(queued=0, dead_lettered=0)
    try:
        await wired.sink.send(stream, rows)
    except IngestionFailed as failure:
        handed_off = await hand_off(
            failure,
            source=source.name,
            stream=stream,
            first_seen=request.received,
            queue=wired.retry_queue,
            dead_letters=wired.dead_letters,
            rng=wired.rng,
            base_seconds=wired.settings.retry_base_seconds,
            cap_seconds=wired.settings.retry_max_seconds,
        )
    if parsed.on_accepted is not None:
        parsed.on_accepted()  # every row is in Sentinel or durably stored: safe to remember
    record_rows(
        wired,
        source.name,
        accepted=len(rows) - handed_off.queued - handed_off.dead_lettered,
        queued=handed_off.queued,
        dead_lettered=handed_off.dead_lettered,
        skipped=skipped,
    )
    event_ids = [row["EventId"] for row in rows]
    accepted = len(rows) - handed_off.queued - handed_off.dead_lettered
    logger.info(
        "%s: %d row(s) accepted by Sentinel, %d queued, %d dead-lettered; first EventId %s",
        source.name,
        accepted,
        handed_off.queued,
        handed_off.dead_lettered,
        event_ids[0],
    )
    return Reply(
        202,
        {
            "forwarded": True,
            "accepted": accepted,
            "queued": handed_off.queued > 0,
            "queuedRows": handed_off.queued,
            "deadLettered": handed_off.dead_lettered,
            "skipped": skipped,
            "eventIds": event_ids,
        },
    )


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
        headers["Allow"] = ", ".join(sorted(error.allowed))
    if error.status >= 500:
        logger.warning("%s webhook not accepted: %s (%s)", source, error.code, error)
    else:
        logger.info("%s webhook refused: %d %s", source, error.status, error.code)
    return Reply(error.status, error_body(error), headers)
