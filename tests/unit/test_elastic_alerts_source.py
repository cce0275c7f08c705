"""Kibana Webhook connector bodies to ElasticAlerts_CL: one, many, summaries, any Content-Type."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.errors import MalformedPayload, UnknownEventType, UnsupportedMediaType
from shared.inbound.request import InboundRequest
from shared.sources import elastic_alerts
from shared.sources.base import Parsed
from tests.payloads import parsed, raw

RECEIVED = datetime(2025, 6, 1, 10, 20, tzinfo=UTC)
SECURITY = "kibana_security_alert_document_illustrative.json"
METRIC = "kibana_alert_document_metric.json"
SUMMARY = "kibana_webhook_rendered_body.json"

SOURCE = elastic_alerts.ElasticAlertsSource(auth_name="elastic-webhook-auth")


def parse(
    body: bytes, headers: dict[str, str] | None = None, received: datetime = RECEIVED
) -> Parsed:
    request = InboundRequest("POST", headers or {}, body, received)
    return SOURCE.parse("", request)


def flatten(document: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """The document with dotted keys, as alerts are stored in the index."""
    flat: dict[str, Any] = {}
    for key, value in document.items():
        if isinstance(value, dict):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"content-type": "application/json"},
        {"content-type": "application/json; charset=utf-8"},
        {"content-type": "application/x-www-form-urlencoded"},
        {"content-type": "text/plain;charset=UTF-8"},
    ],
    ids=["none", "json", "json-charset", "axios-0.x-form", "text"],
)
def test_single_security_alert_with_and_without_content_type(headers: dict[str, str]) -> None:
    """One alert document gives one row whatever Kibana declared."""
    [row] = parse(raw(SECURITY), headers).rows
    assert row["RuleName"] == "Multiple failed logins"
    assert row["RuleId"] == "5b8c1d2e-3f4a-4b5c-8d9e-0f1a2b3c4d5e"
    assert row["RuleType"] == "siem.queryRule"
    assert (row["Severity"], row["ElasticSeverity"], row["RiskScore"]) == ("High", "high", 73)
    assert row["Reason"].startswith("authentication event with source 203.0.113.10")
    assert (row["HostName"], row["UserName"], row["SourceIp"]) == ("ws-01", "admin", "203.0.113.10")
    assert "DestinationIp" not in row
    assert row["WorkflowStatus"] == "open"
    assert row["EventTime"] == row["TimeGenerated"] == "2025-06-01T10:15:30.123000Z"
    assert row["Alert"] == parsed(SECURITY)
    assert elastic_alerts.table().shape_row(row) == row


def test_summary_template_carries_many_alerts_and_fills_the_link() -> None:
    """The documented summary body: one row per alert, rule_url as the Kibana link."""
    summary = parsed(SUMMARY)
    summary["alerts"].append(parsed(SECURITY))
    rows = parse(json.dumps(summary).encode()).rows
    assert [r["RuleName"] for r in rows] == ["test-rule", "Multiple failed logins"]
    assert rows[0]["KibanaUrl"] == summary["rule_url"]
    assert rows[0]["EventTime"] == "2022-12-07T15:23:13.488000Z"  # kibana.alert.start
    assert "Severity" not in rows[0]  # metric rules have none


def test_an_array_of_alerts_gives_one_row_each() -> None:
    """{{{alerts.new.data.asJSON}}} renders an array: each alert is a row."""
    body = json.dumps([parsed(METRIC), parsed(SECURITY)]).encode()
    assert len(parse(body).rows) == 2


def test_comma_joined_alerts_from_context_alerts_are_accepted() -> None:
    """{{{context.alerts}}} renders several objects joined by commas, without brackets."""
    body = json.dumps(parsed(SECURITY)).encode() + b"," + json.dumps(parsed(METRIC)).encode()
    assert [r["RuleName"] for r in parse(body).rows] == ["Multiple failed logins", "test-rule"]


def test_dotted_keys_read_like_nested_ones() -> None:
    """An alert with dotted keys (as indexed) gives the same row as the nested one."""
    nested = parse(raw(SECURITY)).rows[0]
    dotted = parse(json.dumps(flatten(parsed(SECURITY))).encode()).rows[0]
    assert {k: v for k, v in dotted.items() if k != "Alert"} == {
        k: v for k, v in nested.items() if k != "Alert"
    }


def test_legacy_signal_fields_are_a_fallback() -> None:
    """Pre-8.0 signal.* fields fill the same columns."""
    legacy = {
        "@timestamp": "2025-06-01T10:16:00Z",
        "signal": {
            "id": "legacy-1",
            "original_time": "2025-06-01T10:15:00Z",
            "rule": {"id": "r-1", "name": "Old rule", "severity": "critical", "risk_score": 99},
        },
    }
    [row] = parse(json.dumps(legacy).encode()).rows
    assert (row["AlertId"], row["RuleName"], row["Severity"]) == ("legacy-1", "Old rule", "High")
    assert row["EventTime"] == "2025-06-01T10:15:00Z"


def test_ip_lists_are_joined() -> None:
    """ECS allows several IPs: they are joined with a comma."""
    alert = parsed(SECURITY)
    alert["destination"] = {"ip": ["198.51.100.1", "198.51.100.2"]}
    assert parse(json.dumps(alert).encode()).rows[0]["DestinationIp"] == (
        "198.51.100.1, 198.51.100.2"
    )


def test_event_id_follows_alert_uuid_and_status() -> None:
    """A re-sent alert keeps its EventId; its recovery gets another one."""
    alert = parsed(METRIC)
    active = parse(json.dumps(alert).encode()).rows[0]["EventId"]
    again = parse(json.dumps(alert).encode(), received=datetime(2025, 6, 2, tzinfo=UTC))
    alert["kibana"]["alert"]["status"] = "recovered"
    recovered = parse(json.dumps(alert).encode()).rows[0]["EventId"]
    assert again.rows[0]["EventId"] == active != recovered


def test_a_summary_without_alerts_has_no_rows() -> None:
    """alerts.new.count 0: nothing to forward (answered 200)."""
    assert parse(b'{"rule_name": "r", "alerts": []}').rows == []


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"", "empty"),
        (b"not json", "not valid JSON"),
        (b'{"test": false}', "Alert 1 is not a Kibana alert"),
        (b'{"alert": {"id": "Test", "name": "x"}}', "Alert 1 is not a Kibana alert"),
        (b"[1]", "Alert 1"),
        (b'{"kibana.alert.uuid": "u", "kibana.alert.risk_score": "high"}', "risk_score"),
        (b'{"kibana.alert.uuid": "u", "kibana.alert.original_time": "yesterday"}', "original_time"),
        (b'{"kibana.alert.uuid": "u", "@timestamp": 1700000000}', "@timestamp"),
        (b'{"kibana.alert.uuid": "u", "host": {"name": 7}}', "host.name"),
        (b'{"kibana.alert.uuid": "u", "source.ip": ["a", 1]}', "source.ip"),
    ],
)
def test_malformed_bodies_are_400_naming_what(body: bytes, fragment: str) -> None:
    """Not JSON, not an alert, or a field of the wrong kind: 400 with the field's path."""
    with pytest.raises(MalformedPayload, match=fragment):
        parse(body)


@pytest.mark.parametrize("content_type", ["application/xml", "image/png", "multipart/form-data"])
def test_plainly_wrong_content_types_are_415(content_type: str) -> None:
    """A type that cannot be JSON text is refused."""
    with pytest.raises(UnsupportedMediaType):
        parse(raw(SECURITY), {"content-type": content_type})


def test_only_the_bare_route_exists() -> None:
    """/api/elastic/alerts has no sub-routes."""
    with pytest.raises(UnknownEventType):
        elastic_alerts.ROUTE.check_route("cases")


@pytest.mark.parametrize(
    "body",
    [
        b'{"alert":{"id":"Test"}}',  # the Test tab in Elastic's Sentinel guide
        b'{"test": true}',
        b'{"message": "This is a test"}',
    ],
)
def test_a_body_with_only_a_test_marker_is_a_test(body: bytes) -> None:
    """Kibana's connector test: answered as a test, no row."""
    result = parse(body)
    assert (result.test, list(result.rows)) == (True, [])


def test_an_alert_named_test_is_still_an_alert() -> None:
    """A real alert is never taken for a test, whatever it is called."""
    body = b'{"kibana.alert.uuid": "u", "kibana.alert.rule.name": "Test"}'
    result = parse(body)
    assert not result.test
    assert result.rows[0]["RuleName"] == "Test"
