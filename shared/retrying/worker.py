"""The retry worker: one queue message in, delivered, re-queued with backoff, or dead-lettered.

:func:`deliver_message` handles every failure it can name and returns, so the Functions
host deletes the message; the host's own redelivery has no backoff (reference:
azure-functions-and-emulation.md, section 2). In order:

1. **Unreadable** (not an envelope or pointer, or the spilled blob is gone): kept with
   ``put_unreadable``, so it is visible and never loops as poison.
2. **Stale time**: a row whose ``TimeGenerated`` is no longer inside what Log Analytics
   keeps gets the current time there (``shared.rows.restamp``); ``EventTime`` and
   ``ReceivedTime`` keep the original, and the outcome counts the row as *late*.
3. **Delivered**: done; a spilled blob is deleted.
4. **Permanent failure** (``classify`` says so, or the sink flagged the rows
   ``Refused.permanent``) or an unknown target kind: dead-lettered with a reason saying
   which. Rows the service accepted are never sent again; when some rows are refused
   for good and others for now, each part goes its own way.
5. **Throttled** (Sentinel streams): a refusal with a ``Retry-After`` short enough to
   wait out pauses the target for every message of this process
   (``shared.retrying.pace``): the refused rows are tried again in this invocation once
   it ends, and other messages for the target wait for it instead of failing too. A
   message that meets a pause too long to wait is re-queued unchanged (no attempt
   spent), visible when the pause ends.
6. **Transient failure**: only the rows the service refused for now are re-queued as
   ``envelope.next_attempt(...)``, visible after ``backoff_delay`` (at least any
   ``Retry-After``), unless the next attempt would fall past the budget (47 hours from
   ``first_seen`` by default): then it is dead-lettered as "budget exhausted".

Only when storage itself fails (re-queueing, dead-lettering, reading a spilled blob) does
it raise: the host then makes the original visible again after host.json's
``visibilityTimeout`` and moves it to ``<queue>-poison`` after ``maxDequeueCount``, the
last resort. Exceptions nobody expected (bugs) raise too, and end the same way.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from datetime import datetime, timedelta

from shared.delivery.backoff import backoff_delay
from shared.delivery.envelope import BlobPointer, Envelope, decode_message
from shared.delivery.policy import (
    budget_exhausted,
)
from shared.errors import (
    ConfigError,
    EnvelopeError,
    SecretMissing,
    Undeliverable,
    UpstreamUnavailable,
)
from shared.retrying.deps import Result, RetryDeps, RetryOutcome
from shared.retrying.pace import Pace
from shared.retrying.split import Part, split_failure
from shared.rows.restamp import restamp_rows

logger = logging.getLogger(__name__)

PACED_KIND = "sentinel:"
"""The targets a Retry-After pauses for the whole process (``shared.retrying.pace``)."""


async def deliver_message(
    text: str, deps: RetryDeps, *, now: datetime, rng: random.Random
) -> RetryOutcome:
    """Handle one retry-queue message (see the module docstring for the rules).

    Args:
        text: the message as the host hands it over (base64 already decoded).
        deps: the sink, queue, dead letters, spill and target registry.
        now: the current time (aware), for the budget and ``TimeGenerated``.
        rng: jitter for the backoff.

    Raises:
        UpstreamUnavailable: storage failed while re-queueing, dead-lettering or reading
            a spilled envelope; the host must redeliver the original.
    """
    try:
        message = decode_message(text)
    except EnvelopeError as error:
        return await _unreadable(deps, text, f"not a retry envelope: {error}")
    pointer: BlobPointer | None = None
    if isinstance(message, BlobPointer):
        pointer = message
        spilled = await deps.spill.read(pointer)  # raises when storage is down
        if spilled is None:
            reason = f"spilled envelope {pointer.envelope_id} is missing from {pointer.blob}"
            return await _unreadable(deps, text, reason)
        try:
            envelope = Envelope.decode(spilled)
        except EnvelopeError as error:
            return await _unreadable(deps, spilled, f"spilled blob is not an envelope: {error}")
    else:
        envelope = message
    outcome = await _attempt(envelope, deps, now=now, rng=rng)
    if pointer is not None:
        await _forget_spill(deps, pointer)
    return outcome


async def _attempt(
    envelope: Envelope, deps: RetryDeps, *, now: datetime, rng: random.Random
) -> RetryOutcome:
    sending, late = envelope, 0
    if envelope.rows:
        rows, late = restamp_rows(envelope.rows, now)
        sending = replace(envelope, rows=rows) if late else envelope
    kind, _, name = envelope.target.partition(":")
    deliver = deps.targets.get(kind)
    received = RetryOutcome(
        Result.DELIVERED,
        envelope_id=envelope.id,
        target=envelope.target,
        attempt=envelope.attempt,
        late_rows=late,
        source=envelope.source,
        rows=len(envelope.rows) if envelope.rows is not None else 1,
    )
    if deliver is None:
        reason = f"this bridge cannot deliver to target kind '{kind}'"
        part = Part(sending, None, None, reason, permanent=True)
        return await _handle(deps, received, [part], now, rng)
    if deps.pace is not None:
        paused = await deps.pace.wait_turn(envelope.target)
        if paused > 0:
            return await _requeue_paused(deps, received, envelope, paused)
    tries = 0
    while True:
        tries += 1
        try:
            await deliver(deps, name, sending)
        except Undeliverable as error:  # a payload where the target takes rows, a refusal
            part = Part(sending, None, None, str(error), permanent=True)
            return await _handle(deps, received, [part], now, rng)
        except (UpstreamUnavailable, ConfigError, SecretMissing) as error:
            parts = split_failure(sending, error)
            again = _throttled(deps.pace, envelope.target, parts, tries)
            # Another refusal may have lengthened the pause past what is waited out here.
            if again is None or deps.pace is None or await deps.pace.wait_turn(envelope.target):
                return await _handle(deps, received, parts, now, rng)
            sending = again
            continue
        break
    logger.info(
        "Delivered %s to %s on retry %d (%d late row(s))",
        envelope.id,
        envelope.target,
        envelope.attempt,
        late,
    )
    return received


def _throttled(pace: Pace | None, target: str, parts: list[Part], tries: int) -> Envelope | None:
    """Pause ``target`` for a refusal's Retry-After; the rows to try again after it, if any.

    Only a failure whose every row may pass, with a pause short enough to wait out, and
    tries left, is tried again here; the rest goes to :func:`_handle`. Only Sentinel
    streams are paced: incident destinations keep their breaker's rules.
    """
    if pace is None or not target.startswith(PACED_KIND):
        return None
    pauses = [p.retry_after for p in parts if not p.permanent and p.retry_after is not None]
    if pauses:
        pace.hold(target, max(pauses))
    if len(parts) != 1 or parts[0].permanent or not pauses or tries >= pace.max_tries:
        return None
    return parts[0].envelope if pace.can_wait(pauses[0]) else None


async def _requeue_paused(
    deps: RetryDeps, received: RetryOutcome, envelope: Envelope, delay: float
) -> RetryOutcome:
    """Back on the queue unchanged, visible when the target's pause ends: no attempt made."""
    await deps.queue.enqueue(envelope, delay_seconds=delay)  # raises: the host redelivers
    logger.info("%s waits %.0f s: %s is paused by Retry-After", envelope.id, delay, envelope.target)
    return replace(received, result=Result.REQUEUED, delay_seconds=delay, reason="paced")


async def _handle(
    deps: RetryDeps,
    received: RetryOutcome,
    parts: list[Part],
    now: datetime,
    rng: random.Random,
) -> RetryOutcome:
    """Dead-letter what cannot pass, then re-queue the rest or dead-letter it past budget.

    Dead letters are written first: if re-queueing then fails and the host redelivers,
    the cost is a duplicate dead letter, never a row sent twice to Sentinel.
    """
    outcome = received
    for part in parts:
        failed = part.envelope.next_attempt(part.reason, part.status)
        if part.permanent:
            outcome = await _dead_letter(deps, outcome, failed, f"permanent: {part.reason}")
            continue
        delay = backoff_delay(
            received.attempt,
            base_seconds=deps.base_seconds,
            cap_seconds=deps.cap_seconds,
            retry_after=part.retry_after,
            rng=rng,
        )
        if budget_exhausted(failed.first_seen, now + timedelta(seconds=delay), deps.budget):
            hours = deps.budget.total_seconds() / 3600
            reason = (
                f"budget exhausted: still failing {hours:g} h after first seen, "
                f"after {failed.attempt} retries (last: {part.reason})"
            )
            outcome = await _dead_letter(deps, outcome, failed, reason)
            continue
        await deps.queue.enqueue(failed, delay_seconds=delay)  # raises: the host redelivers
        logger.info(
            "Retry %d of %s for %s failed (%s); next in %.0f s",
            received.attempt,
            failed.id,
            failed.target,
            part.reason,
            delay,
        )
        outcome = replace(outcome, result=Result.REQUEUED, delay_seconds=delay)
    return outcome


async def _dead_letter(
    deps: RetryDeps, outcome: RetryOutcome, envelope: Envelope, reason: str
) -> RetryOutcome:
    name = await deps.dead_letters.put(envelope, reason=reason)
    result = Result.REQUEUED if outcome.result is Result.REQUEUED else Result.DEAD_LETTERED
    return replace(
        outcome,
        result=result,
        reason=reason if outcome.reason is None else f"{outcome.reason}; {reason}",
        dead_letters=(*outcome.dead_letters, name),
    )


async def _unreadable(deps: RetryDeps, text: str, reason: str) -> RetryOutcome:
    name = await deps.dead_letters.put_unreadable(text, reason=reason)
    return RetryOutcome(Result.UNREADABLE, reason=reason, dead_letters=(name,))


async def _forget_spill(deps: RetryDeps, pointer: BlobPointer) -> None:
    """Delete a handled spill blob; if that fails the blob only costs storage."""
    try:
        await deps.spill.delete(pointer)
    except UpstreamUnavailable:
        logger.warning("Spill blob for %s left behind: %s", pointer.envelope_id, pointer.blob)
