"""Wallarm and Elastic detections fire on the bridge's own rows and stay quiet otherwise.

Rows come from the reference payloads (or notifications shaped like them) sent through
``shared.sources.wallarm`` and ``shared.sources.elastic_alerts``; Wallarm's test messages
are dropped there, as in the app. Each rule's query then runs on duckdb-kql.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.content.bridge_rows import elastic_rows, wallarm_hit, wallarm_notification, wallarm_rows
from tests.content.scenarios import fire
from tests.payloads import parsed

MINUTE = timedelta(minutes=1)


def _hits(n: int, remote: str = "8.8.8.8", *, ago: timedelta = MINUTE, test: bool = False) -> Any:
    return [wallarm_hit(remote, f"req-{remote}-{i}", ago=ago, test=test) for i in range(n)]


def test_attacks_exceeded_fires_on_hit_count_and_on_wallarm_trigger() -> None:
    """21 hits from one address (threshold 20), and Wallarm's own attacks_exceeded trigger."""
    rows = wallarm_rows(_hits(21), ago=MINUTE)
    rows += wallarm_rows([wallarm_notification("attacks_exceeded")], ago=MINUTE)
    alerts = fire("WallarmAttacksExceeded", {"WallarmEvents_CL": rows})
    found = sorted((a["Reason"], a["RemoteAddr"], a["Hits"]) for a in alerts)
    assert found == [("Hit count", "8.8.8.8", 21), ("Wallarm trigger", None, None)]


def test_attacks_exceeded_quiet_at_threshold_and_for_test_messages() -> None:
    """20 hits, and 30 hits that are Wallarm test messages (dropped in a mixed batch)."""
    batch = _hits(20) + _hits(30, "9.9.9.9", test=True)
    rows = wallarm_rows(batch, ago=MINUTE)
    assert {row["RemoteAddr"] for row in rows} == {"8.8.8.8"}
    assert fire("WallarmAttacksExceeded", {"WallarmEvents_CL": rows}) == []


def _issue(risk: str) -> Any:
    issue = parsed("wallarm_security_issue.json")[0]
    issue["details"]["security_issue"]["risk"] = risk
    return issue


def test_high_risk_vulnerability_fires() -> None:
    """A new security issue of High risk raises an alert with its title and link."""
    rows = wallarm_rows([_issue("High")], ago=MINUTE)
    alerts = fire("WallarmHighRiskVulnerability", {"WallarmEvents_CL": rows})
    assert [(a["Title"], a["Risk"], a["TargetHost"]) for a in alerts] == [
        ("Test", "High", "example.com")
    ]
    assert alerts[0]["Url"] == "https://us1.my.wallarm.com/object/555"


def test_high_risk_vulnerability_quiet_for_medium_and_test() -> None:
    """A Medium issue and Wallarm's vulnerability test message raise nothing."""
    test = _issue("High")
    test["summary"] = "[Test message] " + test["summary"]
    test_rows = wallarm_rows([test], ago=MINUTE)
    assert [row["IsTest"] for row in test_rows] == [True]
    assert fire("WallarmHighRiskVulnerability", {"WallarmEvents_CL": test_rows}) == []
    rows = wallarm_rows([_issue("Medium")], ago=MINUTE)
    assert fire("WallarmHighRiskVulnerability", {"WallarmEvents_CL": rows}) == []


def test_integration_broken_fires_for_broken_and_disabled() -> None:
    """A broken and a disabled integration each raise an alert naming it."""
    rows = wallarm_rows(
        [
            wallarm_notification("integration_broken", integration={"name": "Sentinel"}),
            wallarm_notification(
                "disable_integration",
                integration={"name": "Slack"},
                user={"email": "mallory@example.com"},
            ),
        ],
        ago=MINUTE,
    )
    alerts = fire("WallarmIntegrationBroken", {"WallarmEvents_CL": rows})
    found = sorted((a["EventType"], a["Integration"], a["Actor"]) for a in alerts)
    assert found == [
        ("disable_integration", "Slack", "mallory@example.com"),
        ("integration_broken", "Sentinel", ""),
    ]


def test_integration_broken_quiet_for_other_notifications() -> None:
    """A new user and a new integration are not alerts."""
    rows = wallarm_rows(parsed("wallarm_create_user_envelope.json"), ago=MINUTE)
    rows += wallarm_rows([wallarm_notification("create_integration")], ago=MINUTE)
    assert fire("WallarmIntegrationBroken", {"WallarmEvents_CL": rows}) == []


def test_ip_blocked_after_hits_fires() -> None:
    """1.1.1.1 sent hits two hours ago and was denylisted ten minutes ago."""
    rows = wallarm_rows(_hits(3, "1.1.1.1", ago=timedelta(hours=2)), ago=timedelta(hours=2))
    rows += wallarm_rows(parsed("wallarm_ip_blocked_trigger.json"), ago=10 * MINUTE)
    alerts = fire("WallarmIpBlockedAfterHits", {"WallarmEvents_CL": rows})
    assert [(a["RemoteAddr"], a["Hits"]) for a in alerts] == [("1.1.1.1", 3)]


def test_ip_blocked_after_hits_quiet_without_hits_from_that_address() -> None:
    """A block of 1.1.1.1 while the hits came from 8.8.8.8 raises nothing."""
    rows = wallarm_rows(_hits(3, "8.8.8.8", ago=timedelta(hours=2)), ago=timedelta(hours=2))
    rows += wallarm_rows(parsed("wallarm_ip_blocked_trigger.json"), ago=10 * MINUTE)
    assert fire("WallarmIpBlockedAfterHits", {"WallarmEvents_CL": rows}) == []


def _security_alert(status: str = "active") -> Any:
    alert = parsed("kibana_security_alert_document_illustrative.json")
    alert["kibana.alert.status"] = status
    return alert


def test_elastic_alert_fires_once_per_alert_with_entities_and_details() -> None:
    """An active Elastic Security alert becomes one alert with its name, severity, entities."""
    rows = elastic_rows(_security_alert(), ago=MINUTE)
    assert len(rows) == 1
    alerts = fire("ElasticAlert", {"ElasticAlerts_CL": rows})
    assert len(alerts) == 1
    alert, row = alerts[0], rows[0]
    assert alert["RuleName"] == row["RuleName"]
    assert alert["Reason"] == row["Reason"]
    assert alert["AlertSeverity"] == (row["Severity"] or "Medium")
    assert alert["RiskScore"] == row["RiskScore"]
    assert (alert["HostName"], alert["UserName"]) == (row["HostName"], row["UserName"])
    assert alert["IpAddress"] == (row["SourceIp"] or "").split(",")[0]


def test_elastic_alert_quiet_for_recovery() -> None:
    """A recovered alert (the same alert stopping) raises no second alert."""
    rows = elastic_rows(_security_alert("recovered"), ago=MINUTE)
    assert [row["AlertStatus"] for row in rows] == ["recovered"]
    assert fire("ElasticAlert", {"ElasticAlerts_CL": rows}) == []
