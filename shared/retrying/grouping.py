"""Grouped hand-offs: the refused rows of one coalesced upload become one queue message.

Concurrent webhooks share uploads (``shared.delivery.coalesce``), so when Sentinel refuses
an upload for now, every webhook in it learns of its own rows at the same moment. Queued
one envelope per webhook, 10,000 events of an outage become 10,000 queue messages, and
the worker drains them one small upload at a time (43 events/s on the bench). Here the
rows handed off for the same source and stream within one short window are packed into
one envelope; an envelope too large for a queue message is claim-checked to a blob by the
queue adapter (``shared.adapters.storage``), as any other.

Every webhook still waits for the enqueue that holds its rows, so none is answered 202
before its rows are durable; if storage refuses, every webhook of the group gets the
error (and answers 503). The envelope's ``first_seen`` is the earliest of its rows', so
the retry budget is never stretched, and its delay the longest any member asked for, so
a ``Retry-After`` is honoured.
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.delivery import Envelope
from shared.ports import RetryQueue

DEFAULT_MAX_ROWS = 10_000
"""A group this large is queued at once (the coalescer's largest upload)."""


@dataclass(frozen=True)
class Handoff:
    """One webhook's transient refusals, ready to queue.

    Attributes:
        source: the SaaS source.
        target: ``sentinel:<stream>``.
        rows: the refused rows.
        first_seen: when the webhook was received.
        delay_seconds: the first retry's delay this webhook would have used.
        last_error: the refusal, shortened (``short_error``).
        last_status: its HTTP status, None for a transport error.
    """

    source: str
    target: str
    rows: list[dict[str, Any]]
    first_seen: datetime
    delay_seconds: float
    last_error: str
    last_status: int | None


@dataclass
class _Group:
    queue: RetryQueue
    members: list[Handoff] = field(default_factory=list)
    waiters: list[asyncio.Future[Envelope]] = field(default_factory=list)
    rows: int = 0
    flushing: asyncio.Handle | None = None


class HandoffGroups:
    """Queues concurrent hand-offs for one source and target as one envelope.

    Args:
        window_seconds: how long the first hand-off of a group waits for company; 0 takes
            only those handed off in the same turn of the event loop, which is when the
            waiters of one coalesced upload wake.
        max_rows: a group this large is queued at once.
    """

    def __init__(self, *, window_seconds: float = 0.0, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        self._window = window_seconds
        self._max_rows = max_rows
        # Groups per event loop: the Functions worker has one, tests make many.
        self._groups: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[tuple[int, str, str], _Group]
        ] = weakref.WeakKeyDictionary()

    async def queue(self, queue: RetryQueue, handoff: Handoff) -> Envelope:
        """Queue ``handoff``'s rows with whatever else is pending; return the envelope.

        Raises:
            UpstreamUnavailable: storage did not take the group's envelope.
        """
        loop = asyncio.get_running_loop()
        groups = self._groups.setdefault(loop, {})
        key = (id(queue), handoff.source, handoff.target)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(queue)
            group.flushing = (
                loop.call_later(self._window, self._start, loop, key)
                if self._window > 0
                else loop.call_soon(self._start, loop, key)
            )
        waiter: asyncio.Future[Envelope] = loop.create_future()
        group.members.append(handoff)
        group.waiters.append(waiter)
        group.rows += len(handoff.rows)
        if group.rows >= self._max_rows:
            self._start(loop, key)
        return await waiter

    def _start(self, loop: asyncio.AbstractEventLoop, key: tuple[int, str, str]) -> None:
        group = self._groups.get(loop, {}).pop(key, None)
        if group is None:
            return
        if group.flushing is not None:
            group.flushing.cancel()
        task = loop.create_task(_flush(group))
        _RUNNING.add(task)
        task.add_done_callback(_RUNNING.discard)


_RUNNING: set[asyncio.Task[None]] = set()  # keep flush tasks referenced until they finish


def pack(members: list[Handoff]) -> tuple[Envelope, float]:
    """One envelope for ``members`` (same source and target) and the delay to queue it with."""
    first = members[0]
    worst = max(members, key=lambda m: m.delay_seconds)
    envelope = Envelope(
        id=str(uuid.uuid4()),
        target=first.target,
        source=first.source,
        first_seen=min(m.first_seen for m in members),
        rows=[row for m in members for row in m.rows],
        last_error=worst.last_error,
        last_status=worst.last_status,
    )
    return envelope, worst.delay_seconds


async def _flush(group: _Group) -> None:
    try:
        envelope, delay = pack(group.members)
        await group.queue.enqueue(envelope, delay_seconds=delay)
    except Exception as error:  # noqa: BLE001 - every waiter must learn of it
        for waiter in group.waiters:
            if not waiter.done():
                waiter.set_exception(error)
        return
    for waiter in group.waiters:
        if not waiter.done():
            waiter.set_result(envelope)
