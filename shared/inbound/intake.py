"""The intake service: one authenticated webhook in, its rows into Sentinel, one reply out.

The request pipeline (``shared.inbound.pipeline``) has already checked the method, the
route, the size and the sender's credentials by the time :func:`deliver` runs. Here:

1. the body (400, 415), then test deliveries (200, nothing sent) and the event-type filter;
2. Sentinel: 202 once every row was accepted by the Logs Ingestion API or durably handed
   off (retry queue, or dead letters for rows that can never be accepted as they are);
   503 + Retry-After only when neither Sentinel nor storage took them.

:class:`SourceEndpoint` is the pipeline's view of one source's URL.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from shared.errors import IngestionFailed, SecretMissing, UnknownEventType
from shared.inbound.gcpause import collector_paused
from shared.inbound.pipeline import Reply
from shared.inbound.request import InboundRequest
from shared.ports import DeadLetters, RetryQueue, RowSink, SecretStore
from shared.retrying.grouping import HandoffGroups
from shared.retrying.handoff import HandedOff, hand_off
from shared.sources.base import Parsed, Source, SourceRoute
from shared.telemetry.counting import Telemetry, record_rows, record_test

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

PARSE_INLINE_BYTES = 64 * 1024
"""Bodies up to this size are parsed on the event loop (well under a millisecond); larger
ones (Wallarm and Kibana batches, up to 16 MiB) in a worker thread."""


@dataclass(frozen=True)
class IntakeDeps:
    """What every source's intake uses: the vault, Sentinel, durable storage, counters.

    ``handoff_groups`` packs the refused rows of concurrent webhooks (one coalesced
    upload) into one retry envelope; the default groups those refused in the same turn
    of the event loop. None queues one envelope per webhook (the old behaviour, kept
    for the drain benchmark's baseline).
    """

    secrets: SecretStore
    sink: RowSink
    retry_queue: RetryQueue
    dead_letters: DeadLetters
    telemetry: Telemetry
    rng: random.Random
    max_body_bytes: int
    retry_base_seconds: float
    retry_max_seconds: float
    handoff_groups: HandoffGroups | None = field(default_factory=HandoffGroups)


@dataclass(frozen=True)
class SourceEndpoint:
    """One source's URL for the pipeline: static facts now, the source and deps on use.

    ``source`` and ``deps`` read the settings: they raise ConfigError (the whole bridge is
    misconfigured), FeatureOff (only this source is) or UnknownEventType (an
    ``/api/ingest/{name}`` that INGEST_SOURCES does not list). An endpoint serves one
    request, and asks each of them once.
    """

    route_info: SourceRoute
    route: str
    source: Callable[[], Source]
    deps: Callable[[], IntakeDeps]

    @property
    def name(self) -> str:
        """The source's name: replies and rows are counted under it."""
        return self.route_info.name

    @property
    def methods(self) -> frozenset[str]:
        """What the sender uses."""
        return self.route_info.methods

    def check_route(self) -> None:
        """404 for a route the source does not have (no setting read)."""
        self.route_info.check_route(self.route)

    @property
    def _source(self) -> Source:
        return self._once("_found_source", self.source)

    @property
    def _deps(self) -> IntakeDeps:
        return self._once("_found_deps", self.deps)

    def _once(self, key: str, look_up: Callable[[], _T]) -> _T:
        # Looked up once per request (an endpoint serves one), not once per step; kept in
        # the instance's dict (frozen blocks only setattr), cheaper than cached_property.
        found: _T | None = self.__dict__.get(key)
        if found is None:
            found = self.__dict__[key] = look_up()
        return found

    def max_body_bytes(self) -> int:
        """MAX_BODY_BYTES, or the source's batch limit when larger."""
        return max(self._deps.max_body_bytes, self._source.batch_body_bytes or 0)

    async def authenticate(self, request: InboundRequest) -> None:
        """The source's own scheme; a source whose secret is not in the vault may be off."""
        source = self._source
        try:
            await source.authenticator.authenticate(request, self._deps.secrets)
        except SecretMissing:
            if source.off_without_secret:
                raise UnknownEventType("This source is not enabled.") from None
            raise

    async def handle(self, request: InboundRequest) -> Reply:
        """Parse, filter and deliver (see :func:`deliver`)."""
        return await deliver(self._source, self.route, request, self._deps)


async def deliver(source: Source, route: str, request: InboundRequest, deps: IntakeDeps) -> Reply:
    """Parse an authenticated request and hand its rows to Sentinel or durable storage.

    A large body (a batch) is parsed in a worker thread, and the cyclic collector waits
    until its rows are delivered (``shared.inbound.gcpause``): either would otherwise stop
    the event loop, and every other sender with it, for 0.1 s or more.
    """
    if len(request.body) <= PARSE_INLINE_BYTES:
        return await _deliver(source, source.parse(route, request), deps, request)
    with collector_paused():
        parsed = await asyncio.to_thread(source.parse, route, request)
        reply = await _deliver(source, parsed, deps, request)
        del parsed  # freed before the collector resumes, so it has nothing big to walk
    return reply


async def _deliver(
    source: Source, parsed: Parsed, deps: IntakeDeps, request: InboundRequest
) -> Reply:
    try:
        return await _forward(source, parsed, deps, request)
    finally:
        if parsed.on_finished is not None:
            await parsed.on_finished()  # e.g. release a replay claim never accepted


async def _forward(
    source: Source, parsed: Parsed, deps: IntakeDeps, request: InboundRequest
) -> Reply:
    if parsed.test or parsed.test_rows:
        record_test(deps.telemetry, source.name)
    if parsed.test:
        logger.info("%s test delivery answered; nothing forwarded", source.name)
        return Reply(200, {"forwarded": False, "test": True})
    if parsed.duplicate or (parsed.claim is not None and not await parsed.claim()):
        return Reply(200, {"forwarded": False, "duplicate": True})
    enabled = source.enabled_event_types()
    rows = [row for row in parsed.rows if enabled is None or row.get("EventType") in enabled]
    skipped = len(parsed.rows) - len(rows)
    if not rows:
        logger.info("%s: %d event(s) of types not enabled; nothing forwarded", source.name, skipped)
        record_rows(
            deps.telemetry, source.name, accepted=0, queued=0, dead_lettered=0, skipped=skipped
        )
        return Reply(200, {"forwarded": False, "skipped": skipped})
    stream = source.table().stream
    handed_off = await _send(deps, source.name, stream, rows, request)
    if parsed.on_accepted is not None:
        await parsed.on_accepted()  # every row is in Sentinel or durably stored: safe to remember
    accepted = len(rows) - handed_off.queued - handed_off.dead_lettered
    record_rows(
        deps.telemetry,
        source.name,
        accepted=accepted,
        queued=handed_off.queued,
        dead_lettered=handed_off.dead_lettered,
        skipped=skipped,
    )
    event_ids = [row["EventId"] for row in rows]
    # DEBUG: at thousands of webhooks a second a line each is cost and noise; the counts
    # are in BridgeHealth_CL, refusals and queued rows are logged where they happen.
    logger.debug(
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
            **({"test": True} if parsed.test_rows else {}),
        },
    )


async def _send(
    deps: IntakeDeps,
    source: str,
    stream: str,
    rows: list[dict[str, Any]],
    request: InboundRequest,
) -> HandedOff:
    """Send to Sentinel; what it refuses goes to the retry queue or the dead letters."""
    try:
        await deps.sink.send(stream, rows)
    except IngestionFailed as failure:
        return await hand_off(
            failure,
            source=source,
            stream=stream,
            first_seen=request.received,
            queue=deps.retry_queue,
            dead_letters=deps.dead_letters,
            rng=deps.rng,
            base_seconds=deps.retry_base_seconds,
            cap_seconds=deps.retry_max_seconds,
            groups=deps.handoff_groups,
        )
    return HandedOff(queued=0, dead_lettered=0)
