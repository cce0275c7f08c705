"""Incident deliveries when a destination fails: queued, retried by the worker, or dead-lettered.

SIGNL4 outages are its stand-in stopped (connection refused); refusals with a status come
from a signed-webhook receiver, so no fault rule ever logs SIGNL4's secret URL path.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from local.emulators.stack import EmulatorStack
from shared.adapters.retry_storage import RetryStorage
from shared.incidents.forward import Forwarder
from shared.retrying.deps import Result
from tests.fakes import FakeQueue
from tests.functions.incident_support import (
    WebhookReceiver,
    envelopes,
    labels,
    received,
    retry,
    run_poll,
    seed,
    take_queued,
    with_webhook,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_signl4_down_queues_the_delivery_and_the_worker_delivers_and_tags_it(
    emulators: EmulatorStack, forwarder: Forwarder, retry_storage: RetryStorage
) -> None:
    """No answer: queued (the watermark moves: nothing is lost); the retry lands and tags."""
    incident = seed(emulators, title="during an outage")
    emulators.stop_emulator("signl4")
    try:
        result = run_poll(forwarder)
    finally:
        emulators.start_emulator("signl4")
    assert result.complete
    assert result.deliveries == {"queued": 1}
    [text] = take_queued(retry_storage, 1)
    [queued] = envelopes([text])
    assert (queued.target, queued.last_error) == ("signl4:SIGNL4", "UpstreamUnavailable")
    outcome = retry(retry_storage, forwarder, text)
    assert outcome.result is Result.DELIVERED
    assert [b["X-S4-ExternalID"] for b in received(emulators)] == [incident["name"]]
    assert labels(emulators, incident["name"]) == ["SIGNL4"]
    assert run_poll(forwarder).actions == {"seen": 1}


def test_the_watermark_holds_while_nothing_can_keep_a_failed_delivery(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """SIGNL4 down and the queue refusing: the poll is incomplete, the watermark stays;
    once SIGNL4 is back the next poll delivers and the watermark moves."""
    incident = seed(emulators, title="held")
    down = FakeQueue()
    down.down = True
    emulators.stop_emulator("signl4")
    try:
        held = run_poll(replace(forwarder, queue=down))
    finally:
        emulators.start_emulator("signl4")
    assert (held.complete, held.watermark) == (False, None)
    released = run_poll(forwarder)
    assert released.complete
    assert released.watermark is not None
    assert [b["X-S4-ExternalID"] for b in received(emulators)] == [incident["name"]]


def test_a_4xx_from_the_destination_is_dead_lettered_with_its_status(
    emulators: EmulatorStack,
    forwarder: Forwarder,
    retry_storage: RetryStorage,
    receiver: WebhookReceiver,
) -> None:
    """A 400 is not retried: one dead letter with reason and status, nothing queued."""
    seed(emulators, title="refused")
    receiver.answers = [400]
    result = run_poll(with_webhook(forwarder, emulators, receiver, SECRET))
    assert result.deliveries == {"delivered": 1, "dead-lettered": 1}
    assert result.complete
    [summary] = asyncio.run(retry_storage.dead_letters.list())
    dead = asyncio.run(retry_storage.dead_letters.get(summary.name))
    assert dead is not None
    assert (summary.target, dead.document["last_status"]) == ("webhook:hook-a", 400)
    assert summary.reason == "permanent: hook-a answered 400"
    assert take_queued(retry_storage, 1, timeout=0.5) == []


def test_a_401_met_by_the_retry_worker_is_dead_lettered_not_retried(
    emulators: EmulatorStack,
    forwarder: Forwarder,
    retry_storage: RetryStorage,
    receiver: WebhookReceiver,
) -> None:
    """For a destination, 401/403 mean a wrong secret or URL: permanent, unlike Azure's."""
    seed(emulators, title="later refused")
    hooked = with_webhook(forwarder, emulators, receiver, SECRET)
    receiver.answers = [503, 401]
    assert run_poll(hooked).deliveries == {"delivered": 1, "queued": 1}
    [text] = take_queued(retry_storage, 1)
    outcome = retry(retry_storage, hooked, text)
    assert outcome.result is Result.DEAD_LETTERED
    assert outcome.reason is not None
    assert "hook-a answered 401" in outcome.reason
    assert len(receiver.requests) == 2
