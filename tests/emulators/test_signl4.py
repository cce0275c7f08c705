"""The SIGNL4 inbound-webhook stand-in, over HTTPS with the throwaway CA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from local.emulators import EmulatorStack, Fault

PAYLOADS = Path("/work/shared/reference/payloads")
TRIGGER = {
    "Title": "[Sentinel] Incident 3177: Suspicious sign-in",
    "Message": "Severity High - assigned to john doe",
    "X-S4-Service": "Security",
    "X-S4-AlertingScenario": "single_ack",
    "X-S4-ExternalID": "73e01a99-5cd7-4139-a149-9f2736ff2ab5",
    "X-S4-Status": "new",
}


def webhook_url(stack: EmulatorStack, secret: str | None = None) -> str:
    """The webhook URL for a team secret (the known one by default)."""
    return stack.signl4_webhook_base + (secret or stack.signl4.team_secret)


def test_json_alert_is_recorded_and_answered_with_an_event_id(stack: EmulatorStack) -> None:
    """A JSON POST verified through REQUESTS_CA_BUNDLE gets 200 {"eventId"} and is kept."""
    response = requests.post(
        webhook_url(stack), json=TRIGGER, verify=str(stack.ca_bundle_path), timeout=5
    )
    assert response.status_code == 200
    event_id = response.json()["eventId"]
    [received] = stack.signl4.received()
    assert received.event_id == event_id
    assert received.body == TRIGGER
    assert received.fields["X-S4-ExternalID"] == TRIGGER["X-S4-ExternalID"]
    assert received.content_type == "application/json"


def test_x_s4_headers_and_form_bodies_are_recorded(stack: EmulatorStack, ca: str) -> None:
    """Form fields and X-S4-* headers both land in fields; the body wins on a clash."""
    requests.post(
        webhook_url(stack) + "?ExtIdParam=id",
        data={"Title": "t", "X-S4-Status": "resolved"},
        headers={"X-S4-ExternalID": "inc-1", "X-S4-Status": "new"},
        verify=ca,
        timeout=5,
    )
    [received] = stack.signl4.received()
    assert received.body == {"Title": "t", "X-S4-Status": "resolved"}
    assert received.headers == {"X-S4-ExternalID": "inc-1", "X-S4-Status": "new"}
    assert received.fields == {"X-S4-ExternalID": "inc-1", "X-S4-Status": "resolved"}
    assert received.query == {"ExtIdParam": "id"}


@pytest.mark.skipif(not PAYLOADS.exists(), reason="reference payloads not mounted")
def test_reference_payloads_are_accepted(stack: EmulatorStack, ca: str) -> None:
    """The reference's inbound payloads (trigger, acknowledge, resolve) are each accepted."""
    for name in ("trigger", "acknowledge", "resolve", "docs_sample"):
        body = json.loads((PAYLOADS / f"signl4_inbound_{name}.json").read_text(encoding="utf-8"))
        response = requests.post(webhook_url(stack), json=body, verify=ca, timeout=5)
        assert response.status_code == 200
    assert [r.fields.get("X-S4-ExternalID") for r in stack.signl4.received()][:3] == [
        "73e01a99-5cd7-4139-a149-9f2736ff2ab5"
    ] * 3


def test_unknown_team_secret_is_404_and_not_recorded(stack: EmulatorStack, ca: str) -> None:
    """A secret that names no team answers 404 (assumed) and nothing is kept."""
    response = requests.post(webhook_url(stack, "wrong"), json=TRIGGER, verify=ca, timeout=5)
    assert response.status_code == 404
    assert stack.signl4.received() == []
    assert stack.signl4.stats() == {"received": 0, "refused": 1}


def test_malformed_json_is_400(stack: EmulatorStack, ca: str) -> None:
    """A body labelled JSON that is not JSON is refused."""
    response = requests.post(
        webhook_url(stack),
        data="{nope",
        headers={"Content-Type": "application/json"},
        verify=ca,
        timeout=5,
    )
    assert response.status_code == 400


def test_faults_apply_and_lost_answers_still_record(stack: EmulatorStack, ca: str) -> None:
    """A 503 fault refuses; accept_then_fail keeps the alert but loses the answer."""
    stack.signl4.faults.add(Fault(status=503, retry_after=2, times=1))
    refused = requests.post(webhook_url(stack), json=TRIGGER, verify=ca, timeout=5)
    assert (refused.status_code, refused.headers["Retry-After"]) == (503, "2")
    assert stack.signl4.received() == []
    stack.signl4.faults.add(Fault(accept_then_fail=True, times=1))
    lost = requests.post(webhook_url(stack), json=TRIGGER, verify=ca, timeout=5)
    assert lost.status_code == 500
    assert len(stack.signl4.received()) == 1


def test_admin_route_lists_and_clears_received(stack: EmulatorStack, ca: str) -> None:
    """GET /_emulator/received shows what arrived; DELETE forgets it."""
    requests.post(webhook_url(stack), json=TRIGGER, verify=ca, timeout=5)
    admin = stack.signl4_webhook_base.replace("/webhook/", "/_emulator/received")
    received = requests.get(admin, verify=ca, timeout=5).json()["received"]
    assert [r["body"]["Title"] for r in received] == [TRIGGER["Title"]]
    assert requests.delete(admin, verify=ca, timeout=5).status_code == 204
    assert stack.signl4.received() == []


def test_stack_environment_names_sentinel_and_signl4(stack: EmulatorStack) -> None:
    """app_environment carries the ARM endpoint, workspace names and the SIGNL4 base."""
    env = stack.app_environment()
    assert env["ARM_ENDPOINT"] == stack.arm_endpoint
    assert env["SENTINEL_SUBSCRIPTION_ID"] == stack.sentinel_subscription_id
    assert env["SENTINEL_RESOURCE_GROUP"] == stack.sentinel_resource_group
    assert env["SENTINEL_WORKSPACE_NAME"] == stack.sentinel_workspace_name
    assert env["SIGNL4_WEBHOOK_BASE"].endswith("/webhook/")
    assert env["SIGNL4_WEBHOOK_BASE"].startswith("https://127.0.0.1:")
