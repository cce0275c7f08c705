"""Fig's wire format to FigEvents_CL rows: every route, enums, severity, time, ids, bad bodies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from shared.errors import MalformedPayload, UnknownEventType
from shared.sources import fig, fig_contracts
from tests.payloads import FIG_EVENTS, FIG_TESTS, parsed

RECEIVED = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)  # a few hours after the reference events

EXPECTED = {  # route -> (EventType, Activity, Severity)
    "SecurityEvent": ("SecurityEvent", "Login", "Medium"),
    "SettingValueChanged": ("SettingValueChanged", "SettingValueChanged", "Informational"),
    "NewClientRegistration": ("NewClientRegistration", "New", "Informational"),
    "UpdatedClientRegistration": ("UpdatedClientRegistration", "Updated", "Informational"),
    "ClientRegistration": ("NewClientRegistration", "New", "Informational"),
    "ClientStatusChanged": ("ClientStatusChanged", "Disconnected", "Informational"),
    "HealthStatusChanged": ("HealthStatusChanged", "Unhealthy", "High"),
    "ClientHealthChanged": ("HealthStatusChanged", "Unhealthy", "High"),
    "MinRunSessions": ("MinRunSessions", "BelowMinimum", "Medium"),
    "MemoryLeakDetected": ("MemoryLeakDetected", "MemoryLeakDetected", "Informational"),
    "ConfigurationError": ("ConfigurationError", "Error", "Informational"),
}


def normalize(route: str, body: dict[str, Any], received: datetime = RECEIVED) -> fig.FigEvent:
    return fig.normalize(fig.resolve_route(route), body, received)


@pytest.mark.parametrize("route", sorted(FIG_EVENTS))
def test_every_route_becomes_one_valid_row(route: str) -> None:
    """Each route Fig sends (and the legacy and connector names) gives the expected row."""
    event = normalize(route, parsed(FIG_EVENTS[route]))
    event_type, activity, severity = EXPECTED[route]
    assert (event.event_type, event.row["Activity"], event.row["Severity"]) == (
        event_type,
        activity,
        severity,
    )
    assert event.row["EventType"] == event_type
    assert not event.is_test
    assert fig.table().shape_row(event.row) == event.row  # the row already fits the schema
    assert set(event.row) <= fig.table().column_names


def test_routes_cover_what_fig_and_its_connector_send() -> None:
    """All nine current and legacy routes and both connector aliases are known."""
    assert set(fig_contracts.ROUTES) == set(FIG_EVENTS)


def test_route_names_match_without_case() -> None:
    """A route in other casing resolves to Fig's spelling; an unknown one is 404."""
    assert fig.resolve_route("securityevent") == "SecurityEvent"
    with pytest.raises(UnknownEventType):
        fig.resolve_route("SecurityEvents")


def test_login_columns_and_event_time() -> None:
    """A failed login keeps user, IP, host, reason and its own 7-digit time."""
    row = normalize("SecurityEvent", parsed(FIG_EVENTS["SecurityEvent"])).row
    assert row["UserName"] == "admin"
    assert row["IpAddress"] == "203.0.113.10"
    assert row["Hostname"] == "ws-01"
    assert row["Message"] == "Invalid password"
    assert row["Success"] is False
    assert row["TimeGenerated"] == row["EventTime"] == "2025-06-01T10:15:30.1234567Z"
    assert row["ReceivedTime"] == "2025-06-01T12:00:00Z"


def test_successful_login_is_informational() -> None:
    """Only a failed login is Medium."""
    row = normalize("SecurityEvent", parsed("fig_security_event_success_login.json")).row
    assert row["Severity"] == "Informational"
    assert "Message" not in row  # FailureReason was null


@pytest.mark.parametrize(
    ("status", "severity"), [(0, "Informational"), (1, "Medium"), (2, "High"), (3, "Informational")]
)
def test_health_severity_rule(status: int, severity: str) -> None:
    """Unhealthy is High, Degraded Medium, Healthy and Unknown Informational."""
    body = {**parsed(FIG_EVENTS["HealthStatusChanged"]), "Status": status}
    assert normalize("HealthStatusChanged", body).row["Severity"] == severity


def test_enums_become_names_also_inside_health_details() -> None:
    """Nested health statuses are names too, and the rest of the event is kept."""
    details = normalize("HealthStatusChanged", parsed(FIG_EVENTS["HealthStatusChanged"])).row[
        "Details"
    ]
    assert details["HealthDetails"]["Status"] == "Unhealthy"
    assert [c["Status"] for c in details["HealthDetails"]["Components"]] == ["Unhealthy", "Healthy"]
    assert details["FigVersion"] == "2.3.0"


def test_unknown_enum_value_is_kept_not_refused() -> None:
    """A newer Fig's enum value is recorded as Unknown(n), not rejected."""
    body = {**parsed(FIG_EVENTS["ClientStatusChanged"]), "ConnectionEvent": 7}
    assert normalize("ClientStatusChanged", body).row["Activity"] == "Unknown(7)"


def test_registration_alias_follows_registration_type() -> None:
    """The connector's ClientRegistration route becomes New or Updated by its type."""
    body = parsed("fig_updated_client_registration.json")
    assert normalize("ClientRegistration", body).event_type == "UpdatedClientRegistration"


@pytest.mark.parametrize("name", sorted(set(FIG_TESTS.values())))
def test_test_events_are_flagged(name: str) -> None:
    """IsTest true marks the event as a test."""
    route = next(r for r, f in FIG_TESTS.items() if f == name)
    assert normalize(route, parsed(name)).is_test


def test_event_id_is_stable_and_content_sensitive() -> None:
    """The same event gets the same id whenever it arrives; any change gives another."""
    body = parsed(FIG_EVENTS["SecurityEvent"])
    first = normalize("SecurityEvent", body).row["EventId"]
    later = normalize("SecurityEvent", json.loads(json.dumps(body)), RECEIVED + timedelta(hours=1))
    changed = normalize("SecurityEvent", {**body, "Username": "admin2"})
    assert later.row["EventId"] == first
    assert changed.row["EventId"] != first
    assert len(first) == 32


@pytest.mark.parametrize("offset", [timedelta(days=3), timedelta(days=-2)])
def test_event_time_outside_the_service_window_is_kept_aside(offset: timedelta) -> None:
    """Too old or too far ahead: TimeGenerated is the receive time, EventTime the original."""
    body = parsed(FIG_EVENTS["SecurityEvent"])
    row = normalize("SecurityEvent", body, RECEIVED + offset).row
    assert row["EventTime"] == body["Timestamp"]
    assert row["TimeGenerated"] == row["ReceivedTime"]


def test_events_without_a_time_use_the_receive_time() -> None:
    """A status change carries no event time: TimeGenerated is when it arrived."""
    row = normalize("MinRunSessions", parsed(FIG_EVENTS["MinRunSessions"])).row
    assert row["TimeGenerated"] == "2025-06-01T12:00:00Z"
    assert "EventTime" not in row


@pytest.mark.parametrize(
    ("route", "field", "value"),
    [
        ("SecurityEvent", "Success", "false"),
        ("SecurityEvent", "Timestamp", "yesterday"),
        ("SecurityEvent", "Timestamp", "2025-06-01T10:15:30"),  # no offset: ambiguous
        ("SecurityEvent", "Username", 42),
        ("ClientStatusChanged", "ConnectionEvent", "Disconnected"),
        ("ClientStatusChanged", "ConnectionEvent", True),
        ("SettingValueChanged", "UpdatedSettings", ["a", 1]),
        ("HealthStatusChanged", "HealthDetails", []),
        ("MemoryLeakDetected", "TrendLineSlope", "1.0"),
        ("SecurityEvent", "IsTest", "true"),
    ],
)
def test_wrong_field_types_are_refused(route: str, field: str, value: Any) -> None:
    """A field of the wrong JSON kind is a 400 that names the field, not its value."""
    body = {**parsed(FIG_EVENTS[route]), field: value}
    with pytest.raises(MalformedPayload) as refused:
        normalize(route, body)
    assert field in refused.value.message
    assert str(value) not in refused.value.message or field == str(value)


def test_nulls_and_missing_fields_are_accepted() -> None:
    """Fig writes nulls, and older servers omit fields: neither is an error."""
    row = normalize("SecurityEvent", {"EventType": "Login", "Success": None}).row
    assert row["Activity"] == "Login"
    assert row["Severity"] == "Informational"
