"""Bridge health detections fire on the bridge's own health rows and stay quiet otherwise.

BridgeHealth_CL rows come from ``shared.telemetry.rows.window_rows`` (what the health flush
writes). DCRLogErrors rows are written by Azure, not the bridge: they are built here in
the published schema (tools/kql/tables/DCRLogErrors.json).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from shared.telemetry.rows import Gauges
from tests.content.bridge_rows import health_rows, now
from tests.content.scenarios import fire

MINUTE = timedelta(minutes=1)
DCR_ID = "/subscriptions/0/resourcegroups/rg/providers/microsoft.insights/datacollectionrules/dcr"


def test_dead_letters_fire_per_source() -> None:
    """Two fig rows dead-lettered in the last hour raise an alert for fig."""
    rows = health_rows(
        {("source", "fig", "received"): 5, ("source", "fig", "dead_lettered"): 2}, ago=MINUTE
    )
    rows += health_rows({("source", "wallarm", "accepted"): 9}, ago=MINUTE)
    alerts = fire("BridgeDeadLetters", {"BridgeHealth_CL": rows})
    assert [(a["Source"], a["DeadLettered"], a["Received"]) for a in alerts] == [("fig", 2, 5)]


def test_dead_letters_quiet_when_everything_was_accepted_or_long_ago() -> None:
    """Accepted rows now, and dead letters three hours ago, raise nothing."""
    rows = health_rows({("source", "fig", "accepted"): 5}, ago=MINUTE)
    rows += health_rows({("source", "fig", "dead_lettered"): 2}, ago=timedelta(hours=3))
    assert fire("BridgeDeadLetters", {"BridgeHealth_CL": rows}) == []


def _dcr_error(stream: str) -> dict[str, Any]:
    return {
        "TimeGenerated": now() - MINUTE,
        "InputStreamId": stream,
        "OperationName": "Transformation",
        "Message": "Column 'Severity' type mismatch: value dropped",
        "_ResourceId": DCR_ID,
        "Type": "DCRLogErrors",
    }


def test_dcr_errors_fire_for_the_bridge_streams() -> None:
    """Errors on Custom-FigEvents raise one alert counting them."""
    rows = [_dcr_error("Custom-FigEvents"), _dcr_error("Custom-FigEvents")]
    alerts = fire("BridgeDcrErrors", {"DCRLogErrors": rows})
    assert [(a["InputStreamId"], a["Errors"]) for a in alerts] == [("Custom-FigEvents", 2)]


def test_dcr_errors_quiet_for_other_streams() -> None:
    """Errors on a built-in stream (not the bridge's) raise nothing."""
    rows = [_dcr_error("Microsoft-Syslog")]
    assert fire("BridgeDcrErrors", {"DCRLogErrors": rows}) == []


def _hourly(received: int, hours: range) -> list[dict[str, Any]]:
    rows = []
    for hours_ago in hours:
        rows += health_rows(
            {("source", "fig", "received"): received}, ago=timedelta(hours=hours_ago)
        )
    return rows


def test_source_silent_fires_when_a_busy_source_stops() -> None:
    """fig received 10 an hour for two days, then nothing for the last hour."""
    rows = _hourly(10, range(2, 50))
    alerts = fire("BridgeSourceSilent", {"BridgeHealth_CL": rows})
    assert [(a["Source"], a["RecentReceived"]) for a in alerts] == [("fig", 0)]
    assert alerts[0]["HourlyBaseline"] >= 1.0


def test_source_silent_quiet_while_it_sends_or_when_it_was_always_quiet() -> None:
    """The same source still sending, and a source that never sent much, raise nothing."""
    busy = _hourly(10, range(2, 50)) + health_rows(
        {("source", "fig", "received"): 3}, ago=10 * MINUTE
    )
    assert fire("BridgeSourceSilent", {"BridgeHealth_CL": busy}) == []
    rare = _hourly(1, range(2, 20))
    assert fire("BridgeSourceSilent", {"BridgeHealth_CL": rare}) == []


def test_retry_backlog_fires_when_the_oldest_message_waits_too_long() -> None:
    """The heartbeat reports the oldest queued message two hours old."""
    rows = health_rows({}, ago=MINUTE, gauges=Gauges(4, 0, 7200.0))
    alerts = fire("BridgeRetryBacklog", {"BridgeHealth_CL": rows})
    assert [(a["QueueDepth"], a["OldestQueuedHours"]) for a in alerts] == [(4, 2.0)]


def test_retry_backlog_quiet_for_a_young_or_empty_queue() -> None:
    """A one-minute-old backlog, and an empty queue, raise nothing."""
    young = health_rows({}, ago=MINUTE, gauges=Gauges(4, 0, 60.0))
    assert fire("BridgeRetryBacklog", {"BridgeHealth_CL": young}) == []
    empty = health_rows({}, ago=MINUTE, gauges=Gauges(0, 0, None))
    assert fire("BridgeRetryBacklog", {"BridgeHealth_CL": empty}) == []
