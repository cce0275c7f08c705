"""Fig detections fire on the bridge's own Fig rows and stay quiet otherwise.

Rows come from Fig's reference payloads sent through ``shared.sources.fig`` (test
deliveries write nothing, as in the app); each rule's query then runs on duckdb-kql.
"""

from __future__ import annotations

from datetime import timedelta

from tests.content.bridge_rows import fig_login, fig_rows, now
from tests.content.scenarios import fire, rule_query
from tests.payloads import parsed

MINUTE = timedelta(minutes=1)


def _failures(n: int, **changes: object) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        rows += fig_login(ago=(i + 1) * MINUTE, success=False, **changes)
    return rows


def _test_logins(n: int) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        body = parsed("fig_security_event_test.json")
        rows += fig_rows("SecurityEvent", body, ago=(i + 1) * MINUTE)
    return rows


def test_brute_force_fires_on_failures_from_one_address() -> None:
    """Six failed logins from one address within the window raise an alert on it."""
    alerts = fire("FigBruteForce", {"FigEvents_CL": _failures(6)})
    by_target = {a["Target"]: a for a in alerts}
    assert by_target["address"]["IpAddress"] == "203.0.113.10"
    assert by_target["address"]["Failures"] == 6
    assert by_target["user"]["UserName"] == "admin"


def test_brute_force_fires_on_failures_against_one_user_from_many_addresses() -> None:
    """Failures spread over addresses still add up against the user."""
    rows = []
    for i in range(5):
        rows += fig_login(ago=(i + 1) * MINUTE, success=False, IpAddress=f"198.51.100.{i}")
    alerts = fire("FigBruteForce", {"FigEvents_CL": rows})
    assert [(a["Target"], a["UserName"], a["Failures"]) for a in alerts] == [("user", "admin", 5)]


def test_brute_force_quiet_below_threshold_redelivered_or_test() -> None:
    """Four failures, one failure redelivered six times, and Fig's test logins: no alert."""
    redelivered = fig_login(ago=MINUTE, success=False, IpAddress="192.0.2.1", Username="carol") * 6
    assert _test_logins(6) == []  # the bridge writes nothing for a test delivery
    rows = _failures(4) + redelivered + fig_login(ago=MINUTE, success=True)
    assert fire("FigBruteForce", {"FigEvents_CL": rows}) == []


def test_brute_force_quiet_for_old_failures() -> None:
    """Failures older than the window do not count."""
    rows = []
    for i in range(6):
        rows += fig_login(ago=timedelta(minutes=20 + i), success=False)
    assert fire("FigBruteForce", {"FigEvents_CL": rows}) == []


def test_success_after_failures_fires() -> None:
    """Three failures then a success for the same user raise an alert with the count."""
    rows = _failures(3) + fig_login(ago=timedelta(seconds=10), success=True)
    alerts = fire("FigSuccessAfterFailures", {"FigEvents_CL": rows})
    assert [(a["UserName"], a["IpAddress"], a["Failures"]) for a in alerts] == [
        ("admin", "203.0.113.10", 3)
    ]


def test_success_after_failures_quiet() -> None:
    """Two failures before the success, or failures only after it: no alert."""
    before = _failures(2) + fig_login(ago=timedelta(seconds=10), success=True)
    assert fire("FigSuccessAfterFailures", {"FigEvents_CL": before}) == []
    success_first = fig_login(ago=10 * MINUTE, success=True) + _failures(5)
    assert fire("FigSuccessAfterFailures", {"FigEvents_CL": success_first}) == []


def test_client_unhealthy_fires_on_unhealthy_and_below_minimum() -> None:
    """An Unhealthy client (High) and one below its minimum run sessions (Medium)."""
    health = parsed("fig_health_status_changed.json")
    unhealthy = fig_rows("HealthStatusChanged", health, ago=MINUTE)
    below = fig_rows("MinRunSessions", parsed("fig_min_run_sessions.json"), ago=MINUTE)
    alerts = fire("FigClientUnhealthy", {"FigEvents_CL": unhealthy + below})
    found = sorted((a["EventType"], a["Activity"], a["AlertSeverity"]) for a in alerts)
    assert found == [
        ("HealthStatusChanged", "Unhealthy", "High"),
        ("MinRunSessions", "BelowMinimum", "Medium"),
    ]
    assert {a["ClientName"] for a in alerts} == {"OrderService"}


def test_client_unhealthy_quiet_for_healthy_test_and_other_events() -> None:
    """A healthy client, Fig's test health event and a disconnect raise nothing."""
    body = parsed("fig_health_status_changed.json")
    healthy = fig_rows(
        "HealthStatusChanged", body, ago=MINUTE, Status=0, HealthDetails={"Status": 0}
    )
    test = fig_rows(
        "HealthStatusChanged", parsed("fig_health_status_changed_test.json"), ago=MINUTE
    )
    assert test == []
    other = fig_rows(
        "ClientStatusChanged", parsed("fig_client_status_changed_disconnected.json"), ago=MINUTE
    )
    assert fire("FigClientUnhealthy", {"FigEvents_CL": healthy + other}) == []


def _setting_change(hours_ago: int) -> list[dict[str, object]]:
    body = parsed("fig_setting_value_changed.json")
    # SettingValueChanged carries no time of its own: TimeGenerated is when it was received.
    # Its EventId hashes the content, so each change gets its own message.
    return fig_rows(
        "SettingValueChanged", body, ago=timedelta(hours=hours_ago), ChangeMessage=f"#{hours_ago}"
    )


def test_off_hours_setting_changes_hunt() -> None:
    """Of changes made at every hour of the last day, the hunt lists exactly the off-hours ones."""
    rows = []
    for hours_ago in range(1, 25):
        rows += _setting_change(hours_ago)
    found = fire("FigSettingChangesOffHours", {"FigEvents_CL": rows})
    # The same rule in Python, over the same rows' hours and weekdays (UTC).
    expected = 0
    for hours_ago in range(1, 25):
        moment = now() - timedelta(hours=hours_ago)
        weekday = (moment.weekday() + 1) % 7  # KQL: Sunday is 0
        if moment.hour < 8 or moment.hour >= 18 or weekday in (0, 6):
            expected += 1
    assert len(found) == expected
    assert all(row["UserName"] == "alice" for row in found)
    assert "workStart = 8" in rule_query("FigSettingChangesOffHours")
