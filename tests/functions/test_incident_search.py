"""Search results: the rows behind each alert, read through the real LogsQueryClient from
the workspace emulator (SecurityAlert and the rule's table), reach both destinations."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from local.emulators.stack import EmulatorStack
from shared.bootstrap import root
from shared.incidents.forward import Forwarder
from shared.incidents.search_results import NO_QUERY
from tests.azure_fixtures import use_settings
from tests.functions.incident_support import (
    WebhookReceiver,
    received,
    receiver,
    run_poll,
    seed,
    with_webhook,
)
from tests.functions.test_incident_events import check

__all__ = ["receiver"]
SECRET = "whsec_" + "c2VhcmNoLXJlc3VsdHMtdGVzdC1rZXktMDAwMDAw"  # a test key
RULE = 'SearchHits_CL\n| where Outcome == "failure"\n// the rule\'s own comment'


@pytest.fixture
def searching(
    incident_env: dict[str, str], emulators: EmulatorStack, receiver: WebhookReceiver
) -> Forwarder:
    """Search results on (3 rows per alert), a webhook destination beside SIGNL4, and a
    table with rows the rule's query finds."""
    emulators.workspace.reset()
    use_settings(INCIDENT_SEARCH_RESULTS="true", INCIDENT_SEARCH_MAX_ROWS="3")
    now = datetime.now(UTC)
    emulators.workspace.put_table(
        "SearchHits_CL",
        [("TimeGenerated", "datetime"), ("UserName", "string"), ("Outcome", "string")],
    )
    emulators.workspace.ingest(
        "SearchHits_CL",
        [
            {
                "TimeGenerated": (now - timedelta(minutes=m)).isoformat(),
                "UserName": f"user{m}",
                "Outcome": "failure" if m < 50 else "success",
            }
            for m in range(1, 60, 5)  # failures at 1..46 min, successes after
        ],
    )
    forwarder = root().incidents().forwarder
    return with_webhook(replace(forwarder), emulators, receiver, SECRET)


def _events(hook: WebhookReceiver) -> list[dict[str, Any]]:
    found = [json.loads(body) for _, _, body in hook.requests]
    for event in found:
        check(event)  # searchResults is part of the published event schema
    return found


def test_a_rule_alert_carries_its_rows_and_another_says_why_not(
    emulators: EmulatorStack, searching: Forwarder, receiver: WebhookReceiver
) -> None:
    """The rule's alert gets 3 of its failures (more exist); the seeded Defender-style
    alert has no query; SIGNL4's body has the one-line summary."""
    now = datetime.now(UTC)
    incident = seed(emulators, title="brute force")
    emulators.sentinel.add_rule_alert(
        incident["name"], query=RULE, start=now - timedelta(minutes=30), end=now
    )
    run_poll(searching)
    [event] = _events(receiver)
    by_id = {alert["id"]: alert for alert in event["data"]["alerts"]}
    found = [a["searchResults"] for a in by_id.values() if a["searchResults"]["rows"]]
    [rows] = found
    assert len(rows["rows"]) == 3
    assert rows["complete"] is False
    assert all(row["Outcome"] == "failure" for row in rows["rows"])
    # Only rows inside the alert's 30-minute window: minutes 1..26.
    assert {row["UserName"] for row in rows["rows"]} <= {f"user{m}" for m in range(1, 30, 5)}
    [other] = [a["searchResults"] for a in by_id.values() if not a["searchResults"]["rows"]]
    assert other["unavailable"] == NO_QUERY
    [signl4] = received(emulators)
    assert "3 rows (more not shown)" in signl4["SearchResults"]


def test_a_query_the_service_refuses_is_summarized_and_the_incident_still_goes(
    emulators: EmulatorStack, searching: Forwarder, receiver: WebhookReceiver
) -> None:
    """A rule query over a table that does not exist: the alert says 400, the event is sent."""
    now = datetime.now(UTC)
    incident = seed(emulators, title="broken rule")
    emulators.sentinel.add_rule_alert(
        incident["name"], query="NoSuchTable_CL | take 1", start=now - timedelta(hours=1), end=now
    )
    run_poll(searching)
    [event] = _events(receiver)
    reasons = [a["searchResults"].get("unavailable", "") for a in event["data"]["alerts"]]
    assert any("400" in reason for reason in reasons)
    assert len(received(emulators)) == 1


def test_off_by_default_no_query_is_made(
    incident_env: dict[str, str], emulators: EmulatorStack, receiver: WebhookReceiver
) -> None:
    """Without INCIDENT_SEARCH_RESULTS the alerts carry no searchResults."""
    forwarder = with_webhook(root().incidents().forwarder, emulators, receiver, SECRET)
    assert forwarder.search is None
    seed(emulators, title="plain")
    run_poll(forwarder)
    [event] = _events(receiver)
    assert all("searchResults" not in a for a in event["data"]["alerts"])
