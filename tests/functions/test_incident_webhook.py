"""Signed webhooks: Standard Webhooks signatures, rotation, ids stable per incident version."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from local.emulators.stack import EmulatorStack
from shared.adapters.retry_storage import RetryStorage
from shared.auth.standard_webhooks import verify
from shared.incidents.forward import Forwarder
from tests.functions.incident_support import (
    WebhookReceiver,
    retry,
    run_poll,
    seed,
    take_queued,
    with_webhook,
)

NEW = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD = "whsec_c2VjcmV0LWJlZm9yZS10aGUtcm90YXRpb24="


def test_the_webhook_is_signed_with_every_current_secret_and_verifies(
    emulators: EmulatorStack, forwarder: Forwarder, receiver: WebhookReceiver
) -> None:
    """A receiver holding only the old or only the new secret verifies the same message."""
    incident = seed(emulators, title="signed", severity="High")
    run_poll(with_webhook(forwarder, emulators, receiver, NEW, OLD))
    [(path, headers, body)] = receiver.requests
    assert path == "/hooks/a"
    now = datetime.now(UTC)
    assert verify(headers, body, [NEW], now) == headers["webhook-id"]
    assert verify(headers, body, [OLD], now) == headers["webhook-id"]
    document = json.loads(body)
    assert document["type"] == "sentinel.incident.created"
    assert document["data"]["id"] == incident["name"]
    assert document["data"]["link"] == incident["properties"]["incidentUrl"]
    assert document["data"]["accounts"] == ["domain\\administrator"]
    assert document["timestamp"] == incident["properties"]["lastModifiedTimeUtc"]


def test_the_webhook_id_is_stable_per_version_and_changes_with_it(
    emulators: EmulatorStack,
    forwarder: Forwarder,
    receiver: WebhookReceiver,
    retry_storage: RetryStorage,
) -> None:
    """A retried delivery repeats its id; an update to the incident gets a new one."""
    incident = seed(emulators, title="versioned")
    hooked = with_webhook(forwarder, emulators, receiver, NEW)
    receiver.answers = [503]
    run_poll(hooked)
    [text] = take_queued(retry_storage, 1)
    retry(retry_storage, hooked, text)
    emulators.sentinel.update_incident(
        incident["name"], status="Closed", classification="Undetermined"
    )
    run_poll(hooked)
    ids = [headers["webhook-id"] for _, headers, _ in receiver.requests]
    types = [json.loads(body)["type"] for _, _, body in receiver.requests]
    assert types == [
        "sentinel.incident.created",
        "sentinel.incident.created",
        "sentinel.incident.closed",
    ]
    assert ids[0] == ids[1] != ids[2]
