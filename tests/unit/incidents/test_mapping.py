"""Entity extraction, the SIGNL4 and webhook payloads, PUT bodies, SIGNL4 events, roles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.config.incidents import parse_webhook_destinations
from shared.errors import MalformedPayload
from shared.incidents import permissions
from shared.incidents.augment import augmentation
from shared.incidents.callback import MAX_COMMENT_CHARS, Kind, fit_comment, parse_event
from shared.incidents.merge import Change, put_body
from shared.incidents.model import Incident, parse_arm_time
from shared.incidents.payloads import signl4_body, webhook_body, webhook_id
from tests.payloads import parsed, raw

INCIDENT = Incident.of(parsed("sentinel_incident_get_active_with_labels.json"))


def test_entities_become_plain_fields() -> None:
    """Accounts, hosts, IPs and URLs by kind; alerts summarised; unknown kinds skipped."""
    entities = parsed("sentinel_incident_entities.json")
    entities["entities"] += [
        {"kind": "Host", "properties": {"hostName": "ws-01", "dnsDomain": "corp.local"}},
        {"kind": "Ip", "properties": {"address": "203.0.113.10"}},
        {"kind": "Url", "properties": {"url": "https://evil.example/x"}},
        {"kind": "Mailbox", "properties": {"mailboxPrimaryAddress": "a@b"}},
        "not an entity",
    ]
    extra = augmentation(parsed("sentinel_incident_alerts.json"), entities)
    assert extra.accounts == ("domain\\administrator",)
    assert extra.hosts == ("ws-01.corp.local",)
    assert extra.ips == ("203.0.113.10",)
    assert extra.urls == ("https://evil.example/x",)
    assert extra.alerts[0]["name"] == "myAlert"


def test_the_signl4_body_carries_the_control_fields() -> None:
    """Title, message, severity, link, external id = incident name, service, source."""
    body = signl4_body(INCIDENT, None)
    assert body["Title"] == "[Sentinel] Incident 3177: My incident"
    assert body["X-S4-ExternalID"] == "73e01a99-5cd7-4139-a149-9f2736ff2ab5"
    assert body["X-S4-Status"] == "new"
    assert (body["X-S4-Service"], body["X-S4-SourceSystem"]) == ("Security", "MicrosoftSentinel")
    assert body["Link"].startswith("https://portal.azure.com/")
    assert body["Severity"] == "High"
    closed = Incident.of(parsed("sentinel_incident_get.json"))
    assert signl4_body(closed, None)["X-S4-Status"] == "resolved"


def test_the_webhook_body_and_id() -> None:
    """{type, timestamp, data}; the id is stable for a version and differs across versions."""
    body = webhook_body(INCIDENT, None, first=True)
    assert set(body) == {"type", "timestamp", "data"}
    assert body["type"] == "sentinel.incident.created"
    assert body["data"]["providerName"] == "Azure Sentinel"
    assert webhook_id(INCIDENT) == webhook_id(Incident.of(json.loads(json.dumps(INCIDENT.raw))))
    changed = json.loads(json.dumps(INCIDENT.raw))
    changed["properties"]["lastModifiedTimeUtc"] = "2019-01-01T13:16:00Z"
    assert webhook_id(Incident.of(changed)) != webhook_id(INCIDENT)


def test_put_bodies_resend_owner_and_labels_and_carry_the_etag() -> None:
    """Nothing is wiped: owner and every label go back, plus the new label, with the etag."""
    body = put_body(INCIDENT, Change(add_labels=("SIGNL4", "Fig")))
    props = body["properties"]
    assert body["etag"] == INCIDENT.etag
    assert [label["labelName"] for label in props["labels"]] == ["Fig", "Brute force", "SIGNL4"]
    assert props["owner"]["objectId"] == "2046feea-040d-4a46-9e2b-91c2941bfa70"
    assert "ownerType" not in props["owner"]
    assert (props["title"], props["severity"], props["status"]) == ("My incident", "High", "Active")


def test_a_change_already_true_is_not_needed() -> None:
    """Adding a present label or setting the current status writes nothing."""
    assert not Change(add_labels=("Fig",), status="Active").needed(INCIDENT)
    assert Change(add_labels=("SIGNL4",)).needed(INCIDENT)
    closing = Change(status="Closed", classification="Undetermined", classification_comment="x")
    props = put_body(INCIDENT, closing)["properties"]
    assert (props["status"], props["classification"]) == ("Closed", "Undetermined")


@pytest.mark.parametrize(
    ("sample", "kind"),
    [
        ("signl4_outbound_signl_acknowledged.json", Kind.ACKNOWLEDGE),
        ("signl4_outbound_signl_closed.json", Kind.CLOSE),
        ("signl4_outbound_signl_annotated.json", Kind.ANNOTATE),
        ("signl4_outbound_signl_created.json", Kind.NOTHING),
        ("signl4_outbound_signl_escalated.json", Kind.NOTHING),
        ("signl4_outbound_duty_period_started.json", Kind.NOTHING),
    ],
)
def test_signl4_events_are_read(sample: str, kind: Kind) -> None:
    """Each reference event maps to what it asks of Sentinel."""
    assert parse_event(raw(sample)).kind is kind


def test_comment_ids_are_stable_per_event_and_differ_by_kind() -> None:
    """Redelivery: the same id; ack and close sharing SIGNL4's id still differ."""
    ack = parse_event(raw("signl4_outbound_signl_acknowledged.json"))
    close = parse_event(raw("signl4_outbound_signl_closed.json"))
    assert ack.comment_id == parse_event(raw("signl4_outbound_signl_acknowledged.json")).comment_id
    assert ack.comment_id != close.comment_id


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{",
        b"[]",
        b'{"eventType": 201}',
        b'{"eventType": true, "id": "x"}',
        b'{"eventType": 203, "id": "x"}',
    ],
)
def test_malformed_events_are_refused(body: bytes) -> None:
    """Not an event: MalformedPayload (400)."""
    with pytest.raises(MalformedPayload):
        parse_event(body)


@given(st.text(max_size=40_000))
def test_comments_fit_sentinels_limit(text: str) -> None:
    """Any text fits 30,000 characters; short text is kept as is."""
    fitted = fit_comment(text)
    assert len(fitted) <= MAX_COMMENT_CHARS
    assert fitted == text or len(text) > MAX_COMMENT_CHARS


def test_roles_from_the_permissions_api() -> None:
    """Responder's wildcard grants the writes; Reader's does not."""
    responder: dict[str, Any] = {
        "value": [
            {
                "actions": ["Microsoft.SecurityInsights/incidents/*"],
                "notActions": ["Microsoft.SecurityInsights/incidents/*/Delete"],
            }
        ]
    }
    reader = {"value": [{"actions": ["Microsoft.SecurityInsights/*/read"], "notActions": []}]}
    needed = [permissions.WRITE, permissions.COMMENT]
    assert permissions.missing(responder, needed) == []
    assert permissions.missing(reader, needed) == needed
    assert permissions.allowed(reader, permissions.READ)
    assert not permissions.allowed({"value": "nonsense"}, permissions.READ)


def test_arm_times_with_seven_digits_and_offsets() -> None:
    """.NET's 7 fractional digits and +02:00 both read as UTC."""
    assert parse_arm_time("2026-11-23T10:00:00.1234567Z").microsecond == 123456
    assert parse_arm_time("2026-11-23T12:00:00+02:00").hour == 10


def test_webhook_destinations_are_checked_one_by_one() -> None:
    """Good entries are kept, each bad one is named."""
    problems: list[str] = []
    text = json.dumps(
        [
            {"name": "tines", "url": "https://hooks.example/x", "secretName": "tines-secret"},
            {"name": "plain", "url": "http://hooks.example/x", "secretName": "s"},
            {"name": "SIGNL4", "url": "https://a.example", "secretName": "s"},
            {"name": "tines", "url": "https://b.example", "secretName": "s"},
            {"name": "extra", "url": "https://c.example", "secretName": "s", "x": 1},
        ]
    )
    found = parse_webhook_destinations(text, problems)
    assert [d.name for d in found] == ["tines"]
    assert len(problems) == 4
