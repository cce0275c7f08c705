"""What the retry worker depends on and what it reports (``shared.retrying.worker``).

The ports it reads spilled envelopes and keeps unreadable messages through, the target
kinds it can deliver to, its dependencies (:class:`RetryDeps`, built by the composition
root) and its account of one message (:class:`RetryOutcome`).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from shared.delivery.envelope import BlobPointer, Envelope
from shared.delivery.policy import (
    DEFAULT_RETRY_BUDGET,
)
from shared.errors import (
    EnvelopeError,
)
from shared.ports import DeadLetters, RetryQueue, RowSink
from shared.retrying.pace import Pace


class SpillReader(Protocol):
    """Reads and removes envelopes kept in blobs (``shared.adapters.storage.BlobSpill``)."""

    async def read(self, pointer: BlobPointer) -> str | None:
        """The envelope text, or None when the blob is gone."""
        ...

    async def delete(self, pointer: BlobPointer) -> None:
        """Remove the blob; one already gone is fine."""
        ...


class UnreadableStore(DeadLetters, Protocol):
    """Dead letters that also keep messages which do not decode."""

    async def put_unreadable(self, text: str, *, reason: str) -> str:
        """Keep ``text`` with ``reason``; return the dead letter's name."""
        ...


Deliver = Callable[["RetryDeps", str, Envelope], Awaitable[None]]
"""Delivers an envelope to ``<kind>:<name>``; gets the deps, the name and the envelope.

Raises ``UpstreamUnavailable`` (``IngestionFailed`` for rows) for a failed attempt.
"""


async def deliver_to_sentinel(deps: RetryDeps, stream: str, envelope: Envelope) -> None:
    """``sentinel:<stream>``: send the envelope's rows to the stream."""
    if envelope.rows is None:
        raise EnvelopeError("a sentinel envelope carries rows")
    await deps.sink.send(stream, envelope.rows)


def default_targets() -> dict[str, Deliver]:
    """The target kinds the worker can deliver to (incident forwarding will add more)."""
    return {"sentinel": deliver_to_sentinel}


@dataclass(frozen=True)
class RetryDeps:
    """What the worker needs; the blueprint gets it from the composition root."""

    sink: RowSink
    queue: RetryQueue
    dead_letters: UnreadableStore
    spill: SpillReader
    budget: timedelta = DEFAULT_RETRY_BUDGET
    base_seconds: float = 5.0
    cap_seconds: float = 900.0
    targets: Mapping[str, Deliver] = field(default_factory=default_targets)
    pace: Pace | None = field(default_factory=Pace)


class Result(enum.Enum):
    """What became of one queue message."""

    DELIVERED = "delivered"
    REQUEUED = "requeued"
    DEAD_LETTERED = "dead-lettered"
    UNREADABLE = "unreadable"


@dataclass(frozen=True)
class RetryOutcome:
    """The worker's account of one message, for logs, tests and health counters.

    Attributes:
        result: what happened.
        envelope_id: the delivery's id (None when the message was unreadable).
        target: where it was going.
        attempt: the envelope's attempt count as received.
        delay_seconds: the backoff chosen, when re-queued.
        reason: why (part of) it was dead-lettered, or why it was unreadable.
        dead_letters: the names of the dead letters written: two when the service took
            some rows, refused some for good and some for now (those are re-queued,
            and the result is REQUEUED).
        late_rows: rows whose ``TimeGenerated`` had to be set to now.
        source: the SaaS source the delivery came from (for the health counters).
        rows: how many rows (or 1 for a payload) the delivery carried.
    """

    result: Result
    envelope_id: str | None = None
    target: str | None = None
    attempt: int = 0
    delay_seconds: float | None = None
    reason: str | None = None
    dead_letters: tuple[str, ...] = ()
    late_rows: int = 0
    source: str | None = None
    rows: int = 0
