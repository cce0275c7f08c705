"""When Sentinel does not take rows at once: hand them to durable storage, never drop them.

Rows refused for a reason that can pass (throttling, an outage, a role still
propagating) go to the retry queue as one envelope, shared with the other webhooks of
the same coalesced upload when ``groups`` is given (``shared.retrying.grouping``); rows
that can never be accepted as they are (a schema mismatch, an unknown stream, a row too
large) go to the dead letters, where they stay visible until replayed. Only when storage
refuses too does the sender get a 503 and retry; then rows that were accepted may arrive
twice, with the same EventId, which KQL can de-duplicate.
"""

from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime

from shared.delivery import Envelope, backoff_delay, short_error
from shared.errors import IngestionFailed, Refused
from shared.ports import DeadLetters, RetryQueue
from shared.retrying.grouping import Handoff, HandoffGroups, pack

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class HandedOff:
    """How many refused rows went to the queue and to the dead letters."""

    queued: int
    dead_lettered: int


async def hand_off(
    failure: IngestionFailed,
    *,
    source: str,
    stream: str,
    first_seen: datetime,
    queue: RetryQueue,
    dead_letters: DeadLetters,
    rng: random.Random,
    base_seconds: float = 5.0,
    cap_seconds: float = 900.0,
    groups: HandoffGroups | None = None,
) -> HandedOff:
    """Store every refused row durably: transient ones queued, permanent ones dead-lettered.

    Raises:
        UpstreamUnavailable: storage did not take them; the caller must answer 503.
    """
    target = f"sentinel:{stream}"
    transient = [r for r in failure.refused if not r.permanent]
    permanent = [r for r in failure.refused if r.permanent]
    queued_rows = [row for refused in transient for row in refused.rows]
    if queued_rows:
        worst = _worst(transient)
        delay = backoff_delay(
            0,
            base_seconds=base_seconds,
            cap_seconds=cap_seconds,
            retry_after=worst.retry_after,
            rng=rng,
        )
        handoff = Handoff(
            source=source,
            target=target,
            rows=queued_rows,
            first_seen=first_seen,
            delay_seconds=delay,
            last_error=short_error(worst.reason),
            last_status=worst.status,
        )
        if groups is not None:
            envelope = await groups.queue(queue, handoff)
        else:
            envelope, delay = pack([handoff])
            await queue.enqueue(envelope, delay_seconds=delay)
        logger.info(
            "%s: %d row(s) for %s queued for retry in envelope %s (%d row(s) in all)",
            source,
            len(queued_rows),
            stream,
            envelope.id,
            len(envelope.rows or ()),
        )
    dead = 0
    for refused in permanent:
        envelope = Envelope(
            id=str(uuid.uuid4()),
            target=target,
            source=source,
            first_seen=first_seen,
            rows=list(refused.rows),
            last_error=short_error(refused.reason),
            last_status=refused.status,
        )
        name = await dead_letters.put(envelope, reason=refused.reason)
        dead += len(refused.rows)
        logger.warning(
            "%s: %d row(s) for %s dead-lettered as %s: %s",
            source,
            len(refused.rows),
            stream,
            name,
            refused.reason,
        )
    return HandedOff(queued=len(queued_rows), dead_lettered=dead)


def _worst(refused: list[Refused]) -> Refused:
    """The refusal asking for the longest wait, so the first retry honours it."""
    return max(refused, key=lambda r: r.retry_after or 0)
