"""A destination's breaker: opens at 60% failures over 12 h, reports it, and closes again."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from local.emulators.stack import EmulatorStack
from shared.incidents.forward import Delivery, Forwarder, envelope_for
from tests.functions.incident_support import (
    WebhookReceiver,
    with_webhook,
)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def attempt(forwarder: Forwarder, number: int, now: datetime) -> Delivery:
    """One delivery of incident ``number`` to hook-a."""
    payload = {
        "incident": f"inc-{number}",
        "version": "2026-11-23T10:00:00Z",
        "label": "hook-a",
        "webhookId": f"msg_{number}",
        "body": {"type": "sentinel.incident.created", "data": {"n": number}},
    }
    envelope = envelope_for("webhook:hook-a", payload, first_seen=now)
    return asyncio.run(forwarder.attempt(envelope, now=now))


def statuses(emulators: EmulatorStack) -> list[tuple[str, str]]:
    """The status rows BridgeHealth_CL received: (Name, Status)."""
    rows = [r.row for r in emulators.ingestion.rows("Custom-BridgeHealth")]
    return [(r["Name"], r["Status"]) for r in rows if r.get("Status")]


def test_the_breaker_opens_at_sixty_percent_and_a_probe_closes_it(
    emulators: EmulatorStack, forwarder: Forwarder, receiver: WebhookReceiver
) -> None:
    """4 delivered, 6 failed: disabled (row sent); then dead letters; a probe re-enables."""
    hooked = with_webhook(forwarder, emulators, receiver, SECRET)
    now = datetime.now(UTC)
    receiver.answers = [200, 200, 200, 200, 503, 503, 503, 503, 503]
    outcomes = [attempt(hooked, n, now) for n in range(9)]
    assert outcomes.count(Delivery.QUEUED) == 5
    assert statuses(emulators) == []
    receiver.answers = [503]
    assert attempt(hooked, 9, now) is Delivery.QUEUED
    assert statuses(emulators) == [("hook-a", "disabled")]
    sent = len(receiver.requests)
    assert attempt(hooked, 10, now + timedelta(minutes=5)) is Delivery.DEAD_LETTERED
    assert len(receiver.requests) == sent
    assert attempt(hooked, 11, now + timedelta(minutes=31)) is Delivery.DELIVERED
    assert statuses(emulators) == [("hook-a", "disabled"), ("hook-a", "enabled")]
    assert attempt(hooked, 12, now + timedelta(minutes=32)) is Delivery.DELIVERED


def test_an_admin_enables_a_disabled_destination(
    emulators: EmulatorStack, forwarder: Forwarder, receiver: WebhookReceiver
) -> None:
    """After enable() deliveries go through at once, without waiting for a probe."""
    hooked = with_webhook(forwarder, emulators, receiver, SECRET)
    now = datetime.now(UTC)
    receiver.answers = [503] * 10
    for number in range(10):
        attempt(hooked, number, now)
    assert attempt(hooked, 10, now) is Delivery.DEAD_LETTERED
    asyncio.run(hooked.enable("hook-a", now=now))
    assert attempt(hooked, 11, now) is Delivery.DELIVERED
