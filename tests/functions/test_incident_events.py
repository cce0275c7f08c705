"""Signed-webhook destinations get the whole incident on every event (schema version 2):
created, updated for each kind of change, and closed, each checked against the schema in
shared/openapi.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # no stubs installed
import pytest

from local.emulators.stack import EmulatorStack
from shared.incidents.forward import Forwarder
from tests.functions.incident_support import (
    WebhookReceiver,
    receiver,
    run_poll,
    seed,
    with_webhook,
)

__all__ = ["receiver"]  # the receiver fixture
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # a test key
OPENAPI = json.loads(
    (Path(__file__).resolve().parents[2] / "shared" / "openapi.json").read_text(encoding="utf-8")
)


def check(event: dict[str, Any]) -> None:
    """The event is valid against IncidentEvent (references resolved in openapi.json)."""
    schema = {"$ref": "#/components/schemas/IncidentEvent", "components": OPENAPI["components"]}
    jsonschema.validate(event, schema)


def events(hook: WebhookReceiver) -> list[dict[str, Any]]:
    found = [json.loads(body) for _, _, body in hook.requests]
    for event in found:
        check(event)
    return found


@pytest.fixture
def hooked(forwarder: Forwarder, emulators: EmulatorStack, receiver: WebhookReceiver) -> Forwarder:
    """One signed webhook, ``hook-a`` at ``receiver`` (SIGNL4 stays on)."""
    return with_webhook(forwarder, emulators, receiver, SECRET)


def test_created_carries_the_whole_incident(
    emulators: EmulatorStack, hooked: Forwarder, receiver: WebhookReceiver
) -> None:
    """Severity, status, times, alerts, entities of every kind, and the comments so far."""
    ip = {"kind": "Ip", "properties": {"address": "203.0.113.9"}}
    file = {"kind": "File", "properties": {"fileName": "evil.exe"}}
    incident = seed(emulators, title="whole", severity="High")
    emulators.sentinel.add_alert(incident["name"], entities=[ip, file])
    run_poll(hooked)
    [created] = events(receiver)
    data = created["data"]
    assert (created["type"], data["schemaVersion"], data["severity"]) == (
        "sentinel.incident.created",
        2,
        "High",
    )
    assert data["firstActivityTimeUtc"]
    assert data["lastActivityTimeUtc"]
    assert len(data["alerts"]) == 2
    assert {"kind": "File", "name": "evil.exe"} in data["entities"]
    assert {"kind": "Ip", "name": "203.0.113.9"} in data["entities"]
    assert data["omitted"] == {"alerts": 0, "entities": 0, "comments": 0}


def test_each_kind_of_change_is_an_update_then_closed(
    emulators: EmulatorStack, hooked: Forwarder, receiver: WebhookReceiver
) -> None:
    """A new alert, a new comment, and a status change each give one updated event; the
    close gives closed; every event carries the alerts again."""
    name = seed(emulators, title="changing")["name"]
    run_poll(hooked)
    host = {"kind": "Host", "properties": {"hostName": "h1"}}
    emulators.sentinel.add_alert(name, entities=[host])
    run_poll(hooked)
    emulators.sentinel.store.incidents.comments_bump_incident = True
    emulators.sentinel.store.incidents.put_comment(
        name, "c1", {"properties": {"message": "Looked at h1."}}, {"name": "Ana"}
    )
    run_poll(hooked)
    emulators.sentinel.update_incident(name, status="Active")
    run_poll(hooked)
    emulators.sentinel.update_incident(name, status="Closed", classification="FalsePositive")
    run_poll(hooked)
    found = events(receiver)
    assert [e["type"].rsplit(".", 1)[1] for e in found] == [
        "created",
        "updated",
        "updated",
        "updated",
        "closed",
    ]
    assert {"kind": "Host", "name": "h1"} in found[1]["data"]["entities"]
    assert [c["message"] for c in found[2]["data"]["comments"]] == ["Looked at h1."]
    assert found[2]["data"]["comments"][0]["author"] == "Ana"
    assert found[3]["data"]["comments"] == []  # only the comments since the previous event
    assert found[3]["data"]["status"] == "Active"
    closed = found[4]["data"]
    assert (closed["status"], closed["classification"]) == ("Closed", "FalsePositive")
    assert all(len(e["data"]["alerts"]) >= 1 for e in found)
    assert len(found[4]["data"]["alerts"]) == 2
