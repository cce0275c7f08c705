"""What decides correctness is shared by every instance: two roots (two instances) on one
storage account see each other's watermark, forwarded incidents and breakers (Tables)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from local.emulators.stack import EmulatorStack
from shared.bootstrap import root
from shared.incidents.forward import Delivery, Forwarder
from tests.azure_fixtures import fresh_root
from tests.functions.incident_support import (
    WebhookReceiver,
    received,
    run_poll,
    seed,
    with_webhook,
)
from tests.functions.test_incident_breaker import SECRET, attempt


def test_a_second_instance_polls_from_the_first_ones_watermark(
    emulators: EmulatorStack, forwarder: Forwarder
) -> None:
    """Instance A forwards an incident; instance B (its own clients, no memory) reads the
    same watermark and record, and forwards nothing again."""
    seeded = seed(emulators, title="seen by both", severity="High")
    run_poll(forwarder)
    assert len(received(emulators)) == 1
    marks = asyncio.run(forwarder.state.marks())
    assert marks.watermark is not None
    fresh_root()
    other = root().forwarder()
    assert other.state is not forwarder.state
    assert asyncio.run(other.state.marks()) == marks
    record = asyncio.run(other.state.forwarded(seeded["name"]))
    assert record is not None
    assert record.sent
    run_poll(other)
    assert len(received(emulators)) == 1


def test_a_breaker_opened_by_one_instance_holds_on_another(
    emulators: EmulatorStack, forwarder: Forwarder, receiver: WebhookReceiver
) -> None:
    """A disables hook-a after 60% failures; B dead-letters without sending, and B's
    probe half an hour later closes it for A too."""
    hooked = with_webhook(forwarder, emulators, receiver, SECRET)
    now = datetime.now(UTC)
    receiver.answers = [200, 200, 200, 200, 503, 503, 503, 503, 503, 503]
    for number in range(10):
        attempt(hooked, number, now)
    fresh_root()
    other = with_webhook(root().forwarder(), emulators, receiver, SECRET)
    assert other.state is not forwarder.state
    sent = len(receiver.requests)
    assert attempt(other, 10, now + timedelta(minutes=5)) is Delivery.DEAD_LETTERED
    assert len(receiver.requests) == sent
    assert attempt(other, 11, now + timedelta(minutes=31)) is Delivery.DELIVERED
    breaker = asyncio.run(forwarder.state.breaker("hook-a"))
    assert breaker.disabled_at is None
