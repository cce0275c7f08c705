"""Delivering one incident version to one destination: directly, or from the retry queue.

The poller builds one envelope per (incident version, destination), with the target
``signl4:SIGNL4`` or ``webhook:<name>`` and a ``payload`` (see ``shared.incidents.sending``),
and calls :meth:`Forwarder.attempt`:

- delivered (2xx): counted, the breaker told; the caller tags the incident;
- no answer, 408, 429 or 5xx: put on the retry queue with backoff (never lost); the retry
  worker calls :meth:`Forwarder.deliver_queued` later, which tags the incident itself;
- any other answer (3xx, 4xx): a permanent failure for this delivery: dead-lettered with
  the status, not retried;
- destination disabled by its breaker: dead-lettered ("destination disabled"), except
  the periodic probe, which is delivered and re-enables the destination if it succeeds.

``attempt`` raises only when the retry queue or the dead letters refused the envelope:
then nothing durable holds it, and the poller must not move its watermark.
"""

from __future__ import annotations

import enum
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from shared.adapters.destinations import Answer
from shared.config.incidents import DEFAULT_SOURCE, IncidentSettings
from shared.delivery.backoff import backoff_delay
from shared.delivery.envelope import Envelope
from shared.delivery.policy import Outcome, TargetKind, classify
from shared.errors import (
    ConfigError,
    DestinationRefused,
    EnvelopeError,
    SecretMissing,
    UpstreamUnavailable,
)
from shared.incidents.domain import breaker as breakers
from shared.incidents.ports import IncidentApi, IncidentState, Poster
from shared.incidents.sending import destination_of, send
from shared.incidents.writeback import tag
from shared.ports import DeadLetters, RetryQueue, RowSink, SecretStore
from shared.telemetry.metrics import DEAD_LETTERED, DELIVERED, FAILED, QUEUED, Counters, utc_now
from shared.telemetry.rows import row_schema, status_row

if TYPE_CHECKING:
    from shared.incidents.search_results import AlertSearch
    from shared.retrying.deps import Deliver, RetryDeps

logger = logging.getLogger(__name__)

SOURCE = "sentinel-incidents"
_NAMESPACE = uuid.UUID("0b8e6d55-3c1f-4e0b-a1d4-6a8f2c9e7b31")


class Delivery(enum.Enum):
    """What became of one direct attempt."""

    DELIVERED = "delivered"
    QUEUED = "queued"
    DEAD_LETTERED = "dead-lettered"


def is_transient(status: int | None) -> bool:
    """The policy's answer for a destination (``shared.delivery.policy``)."""
    return classify(status, kind=TargetKind.DESTINATION) is Outcome.TRANSIENT


def envelope_for(target: str, payload: dict[str, Any], *, first_seen: datetime) -> Envelope:
    """The envelope of one delivery; its id is derived from incident, version and target."""
    key = f"{payload.get('incident')}|{payload.get('version')}|{target}"
    if payload.get("source"):  # a source of INCIDENT_SOURCES other than the default one
        key = f"{payload['source']}|{key}"
    return Envelope(
        id=str(uuid.uuid5(_NAMESPACE, key)),
        target=target,
        source=SOURCE,
        first_seen=first_seen,
        payload=payload,
    )


class BreakerCache:
    """Breakers held in memory for a few seconds, so a busy poll does not read and write
    Table storage on every delivery. A change that disables or enables a destination is
    written at once; counts at most ``SAVE_EVERY`` seconds late (another process's counts
    may be overwritten then: the 12-hour ratio tolerates it)."""

    SAVE_EVERY = 5.0

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._held: dict[str, tuple[breakers.Breaker, float, float]] = {}

    async def get(self, state: IncidentState, destination: str) -> breakers.Breaker:
        """The destination's breaker (read from storage when not held or stale)."""
        held = self._held.get(destination)
        if held is not None and self._clock() - held[1] < self.SAVE_EVERY:
            return held[0]
        breaker = await state.breaker(destination)
        self._held[destination] = (breaker, self._clock(), self._clock())
        return breaker

    async def put(
        self, state: IncidentState, destination: str, breaker: breakers.Breaker, *, force: bool
    ) -> None:
        """Hold ``breaker``; write it when forced or when the last write is old enough."""
        now = self._clock()
        saved = self._held.get(destination, (breaker, now, float("-inf")))[2]
        if force or now - saved >= self.SAVE_EVERY:
            await state.save_breaker(destination, breaker)
            saved = now
        self._held[destination] = (breaker, now, saved)

    async def flush(self, state: IncidentState) -> None:
        """Write every held breaker (end of a poll)."""
        for destination, (breaker, loaded, _) in list(self._held.items()):
            await state.save_breaker(destination, breaker)
            self._held[destination] = (breaker, loaded, self._clock())


@dataclass(frozen=True)
class Forwarder:
    """Everything a delivery needs (built by the composition root, ``shared.bootstrap``)."""

    settings: IncidentSettings
    api: IncidentApi
    poster: Poster
    secrets: SecretStore
    state: IncidentState
    queue: RetryQueue
    dead_letters: DeadLetters
    sink: RowSink
    counters: Counters
    rng: random.Random
    base_seconds: float
    cap_seconds: float
    bridge_name: str
    breaker_cache: BreakerCache = field(default_factory=lambda: BreakerCache(), compare=False)
    search: AlertSearch | None = None
    """The rows behind each alert, for what destinations get (INCIDENT_SEARCH_RESULTS)."""

    async def attempt(self, envelope: Envelope, *, now: datetime) -> Delivery:
        """Deliver once; queue or dead-letter what did not pass (see the module docstring).

        Raises:
            UpstreamUnavailable: storage refused the envelope (nothing holds it).
        """
        destination = destination_of(envelope.target)
        gate = await self._gate(destination, now)
        if gate is breakers.Gate.CLOSED:
            return await self._dead_letter(envelope, f"destination {destination} is disabled", None)
        try:
            answer = await self._send(envelope, now)
        except (UpstreamUnavailable, SecretMissing, ConfigError) as error:
            await self._record(destination, ok=False, now=now)
            return await self._queue(envelope, type(error).__name__, None, None)
        await self._record(destination, ok=answer.ok, now=now)
        if answer.ok:
            return Delivery.DELIVERED
        reason = f"{destination} answered {answer.status}"
        if is_transient(answer.status):
            return await self._queue(envelope, reason, answer.status, answer.retry_after)
        return await self._dead_letter(envelope, f"permanent: {reason}", answer.status)

    async def deliver_queued(self, envelope: Envelope, now: datetime) -> None:
        """The retry worker's deliverer for ``signl4:`` and ``webhook:`` targets.

        Raises:
            UpstreamUnavailable: a transient failure (the worker re-queues it).
            DestinationRefused: a permanent one, or the destination is disabled.
        """
        destination = destination_of(envelope.target)
        if await self._gate(destination, now) is breakers.Gate.CLOSED:
            raise DestinationRefused(f"destination {destination} is disabled")
        try:
            answer = await self._send(envelope, now)
        except UpstreamUnavailable:
            await self._record(destination, ok=False, now=now)
            raise
        await self._record(destination, ok=answer.ok, now=now)
        if answer.ok:
            payload = envelope.payload or {}
            name, label = str(payload.get("incident", "")), str(payload.get("label", ""))
            if name and label:
                await tag(self.api, self.state, name, (label,))
            return
        message = f"{destination} answered {answer.status}"
        if is_transient(answer.status):
            raise UpstreamUnavailable(
                message, upstream_status=answer.status, retry_after=answer.retry_after
            )
        raise DestinationRefused(f"permanent: {message}")

    async def enable(self, destination: str, *, now: datetime) -> None:
        """An admin re-enables a destination (and forgets the failures that tripped it)."""
        await self.breaker_cache.put(self.state, destination, breakers.Breaker(), force=True)
        await self._status(destination, "enabled", "re-enabled by an admin", now)

    async def _send(self, envelope: Envelope, now: datetime) -> Answer:
        if envelope.payload is None:
            raise EnvelopeError("an incident delivery carries a payload")
        return await send(
            envelope.target,
            envelope.payload,
            settings=self.settings,
            secrets=self.secrets,
            poster=self.poster,
            now=now,
        )

    async def _gate(self, destination: str, now: datetime) -> breakers.Gate:
        state = await self.breaker_cache.get(self.state, destination)
        gate = state.gate(now)
        if gate is breakers.Gate.PROBE:
            logger.info("Destination %s is disabled; this delivery is its probe", destination)
        return gate

    async def _record(self, destination: str, *, ok: bool, now: datetime) -> None:
        self.counters.count(destination, DELIVERED if ok else FAILED, kind="destination")
        state, transition = (await self.breaker_cache.get(self.state, destination)).record(ok, now)
        await self.breaker_cache.put(
            self.state, destination, state, force=transition.value != "none"
        )
        if transition is breakers.Transition.DISABLED:
            delivered, failed = state.totals(now)
            message = (
                f"disabled: {failed} of {delivered + failed} deliveries failed in 12 h; "
                "re-enable with POST /api/ops/destinations/{name}/enable or wait for a probe"
            )
            logger.error("Destination %s %s", destination, message)
            await self._status(destination, "disabled", message, now)
        elif transition is breakers.Transition.ENABLED:
            logger.info("Destination %s enabled again: its probe was delivered", destination)
            await self._status(destination, "enabled", "a probe delivery succeeded", now)

    async def _status(self, destination: str, status: str, message: str, now: datetime) -> None:
        """A BridgeHealth_CL row for the change (best effort: the table keeps the state)."""
        row = status_row(
            bridge=self.bridge_name,
            kind="destination",
            name=destination,
            status=status,
            message=message,
            at=now,
        )
        try:
            await self.sink.send(row_schema().stream, [row])
        except UpstreamUnavailable as error:
            logger.warning("Status row for %s not sent: %s", destination, error.message)

    async def _queue(
        self, envelope: Envelope, reason: str, status: int | None, retry_after: float | None
    ) -> Delivery:
        failed = envelope.next_attempt(reason, status)
        delay = backoff_delay(
            0,
            base_seconds=self.base_seconds,
            cap_seconds=self.cap_seconds,
            retry_after=retry_after,
            rng=self.rng,
        )
        await self.queue.enqueue(failed, delay_seconds=delay)
        self._count(envelope, QUEUED)
        logger.info("Incident delivery %s to %s queued (%s)", envelope.id, envelope.target, reason)
        return Delivery.QUEUED

    async def _dead_letter(self, envelope: Envelope, reason: str, status: int | None) -> Delivery:
        name = await self.dead_letters.put(envelope.next_attempt(reason, status), reason=reason)
        self._count(envelope, DEAD_LETTERED)
        logger.warning("Incident delivery %s dead-lettered as %s: %s", envelope.id, name, reason)
        return Delivery.DEAD_LETTERED

    def _count(self, envelope: Envelope, counter: str) -> None:
        self.counters.count(destination_of(envelope.target), counter, kind="destination")


def retry_deliverer(get: Callable[[], Forwarder | ForwarderLookup]) -> Deliver:
    """A ``shared.retrying.worker.Deliver`` for incident targets; ``get()`` gives the Forwarder,
    or every source's (the payload's ``source`` picks one; none: the default source)."""

    async def deliver(deps: RetryDeps, name: str, envelope: Envelope) -> None:
        found = get()
        if not isinstance(found, Forwarder):
            source = (envelope.payload or {}).get("source") or DEFAULT_SOURCE
            found = found.for_source(str(source))
        await found.deliver_queued(envelope, utc_now())

    return deliver


class ForwarderLookup(Protocol):
    """Every source's forwarder by id (``shared.incidents.fleet.IncidentFleet``)."""

    def for_source(self, source_id: str) -> Forwarder:
        """The source's forwarder.

        Raises:
            DestinationRefused: no such source is configured any more.
        """
        ...
