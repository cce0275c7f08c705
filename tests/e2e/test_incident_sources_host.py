"""Microsoft Graph security incidents through the local functions host: the timer polls
Graph beside Sentinel, SIGNL4's acknowledgement comes back over HTTP and lands on Graph.

The host serves the incidents blueprint alone (``tests.e2e.test_incident_host:app``) with
``INCIDENT_SOURCES`` naming the emulated workspace and the Graph stand-in.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from local.azurite import Azurite
from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from tests.azure_fixtures import storage_env
from tests.e2e.test_incident_host import polling_incident_host, post
from tests.logscan import remember_secret
from tests.payloads import parsed
from tests.waiting import wait_for

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def sources_token(emulators: EmulatorStack) -> str:
    return remember_secret(uuid.uuid4().hex + uuid.uuid4().hex)


@pytest.fixture(scope="module")
def sources_host(
    emulators: EmulatorStack, azurite: Azurite, state_dir: Path, sources_token: str
) -> Iterator[LocalHostProcess]:
    emulators.sentinel.reset()
    emulators.signl4.reset()
    emulators.graph.reset()
    emulators.keyvault.set_secret(
        "signl4-team-secret", remember_secret(emulators.signl4.team_secret)
    )
    emulators.keyvault.set_secret("signl4-callback-token", sources_token)
    sources = [
        {
            "id": "ws-a",
            "kind": "sentinel",
            "subscriptionId": emulators.sentinel_subscription_id,
            "resourceGroup": emulators.sentinel_resource_group,
            "workspace": emulators.sentinel_workspace_name,
        },
        {"id": "defender", "kind": "graph"},
    ]
    environment = {**emulators.app_environment(), **storage_env(azurite)}
    for name in ("SENTINEL_SUBSCRIPTION_ID", "SENTINEL_RESOURCE_GROUP", "SENTINEL_WORKSPACE_NAME"):
        environment.pop(name, None)
    environment["INCIDENT_SOURCES"] = json.dumps(sources)
    log_path = state_dir / "e2e-incident-sources-host.log"
    with polling_incident_host(environment, log_path) as host:
        yield host


def test_graph_and_sentinel_incidents_reach_signl4_and_graph_takes_the_acknowledgement(
    emulators: EmulatorStack, sources_host: LocalHostProcess, sources_token: str
) -> None:
    """Both sources' incidents reach SIGNL4 with source-qualified ids; the Graph incident's
    acknowledgement makes it inProgress in Graph, assigned to the responder."""
    graph_id = emulators.graph.seed_incident(displayName="through the host")["id"]
    name = emulators.sentinel.seed_incident(title="beside it")["name"]

    def ids() -> set[str]:
        return {r.body["X-S4-ExternalID"] for r in emulators.signl4.received()}

    wait_for(lambda: {f"defender:{graph_id}", f"ws-a:{name}"} <= ids(), "both alerts", timeout=60)

    def tagged() -> bool:
        stored = {i["id"]: i for i in emulators.graph.incidents()}[graph_id]
        return bool(stored["customTags"] == ["SIGNL4"])

    wait_for(tagged, "the Graph incident to be tagged", timeout=60)
    event = parsed("signl4_outbound_signl_acknowledged.json")
    event["alert"]["externalEventId"] = f"defender:{graph_id}"
    assert post(sources_host, f"/api/signl4/{sources_token}", json.dumps(event)) == 200
    stored = {i["id"]: i for i in emulators.graph.incidents()}[graph_id]
    assert (stored["status"], stored["assignedTo"]) == ("inProgress", "rene@signl4.com")
    assert [c["comment"] for c in stored["comments"]] == ["Acknowledged in SIGNL4 by Rene."]
    assert len(emulators.signl4.received()) == 2
