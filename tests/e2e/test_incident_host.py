"""Incident forwarding in the local functions host: the timer polls, SIGNL4 answers over HTTP.

The host serves ``app`` below (the incidents blueprint alone), on the session's emulators
and Azurite, with the poll schedule every second.
"""

from __future__ import annotations

import http.client
import json
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import azure.functions as func
import pytest

from blueprints.incidents import blueprint
from local.azurite import Azurite
from local.emulators.stack import EmulatorStack
from local.host.process import LocalHostProcess
from tests.azure_fixtures import storage_env
from tests.logscan import remember_log_file, remember_secret
from tests.payloads import parsed
from tests.waiting import wait_for

app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
app.register_functions(blueprint)

pytestmark = pytest.mark.e2e
JSON = {"Content-Type": "application/json"}


def post(host: LocalHostProcess, path: str, body: str) -> int:
    """POST with http.client: requests' urllib3 would log the token in the path at DEBUG."""
    parts = urlsplit(host.url(path))
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=60)
    try:
        connection.request("POST", parts.path, body=body.encode(), headers=JSON)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@contextmanager
def polling_incident_host(
    environment: Mapping[str, str], log_path: Path
) -> Iterator[LocalHostProcess]:
    """This module's incidents app on a local host whose poller fires every second; its
    keys and its log are handed to the secret scan."""
    remember_log_file(log_path)
    host = LocalHostProcess(
        "tests.e2e.test_incident_host:app",
        env={
            **environment,
            "INCIDENT_POLL_SCHEDULE": "*/1 * * * * *",
            "LOCAL_HOST_MAX_POLLING_INTERVAL_SECONDS": "0.5",
        },
        log_path=log_path,
    )
    with host:
        remember_secret(host.master_key)
        remember_secret(host.function_key)
        yield host


def wait_until_forwarded(emulators: EmulatorStack, name: str) -> None:
    """Until Sentinel incident ``name`` carries the label the forward adds (the forward is
    recorded just after SIGNL4 got it)."""

    def labelled() -> bool:
        stored = next(i for i in emulators.sentinel.incidents() if i["name"] == name)
        return bool(stored["properties"]["labels"])

    wait_for(labelled, "the forward to be recorded", timeout=60)


@pytest.fixture(scope="module")
def callback_token(emulators: EmulatorStack) -> str:
    return remember_secret(uuid.uuid4().hex + uuid.uuid4().hex)


@pytest.fixture(scope="module")
def incident_host(
    emulators: EmulatorStack, azurite: Azurite, state_dir: Path, callback_token: str
) -> Iterator[LocalHostProcess]:
    emulators.sentinel.reset()
    emulators.signl4.reset()
    team = remember_secret(emulators.signl4.team_secret)
    emulators.keyvault.set_secret("signl4-team-secret", team)
    emulators.keyvault.set_secret("signl4-callback-token", callback_token)
    environment = {**emulators.app_environment(), **storage_env(azurite)}
    with polling_incident_host(environment, state_dir / "e2e-incident-host.log") as host:
        yield host


def test_the_timer_forwards_and_signl4s_acknowledgement_comes_back_once(
    emulators: EmulatorStack, incident_host: LocalHostProcess, callback_token: str
) -> None:
    """Seeded → SIGNL4 alert (tagged); acknowledged over HTTP → Active with owner; later
    polls send nothing more."""
    incident = emulators.sentinel.seed_incident(title="through the host", severity="High")
    name = incident["name"]
    wait_for(lambda: emulators.signl4.received(), "the SIGNL4 alert", timeout=60)
    # The forward is complete (recorded and tagged) just after SIGNL4 got it; a responder
    # cannot acknowledge within those milliseconds, so neither does this test.
    wait_until_forwarded(emulators, name)
    event = parsed("signl4_outbound_signl_acknowledged.json")
    event["alert"]["externalEventId"] = name
    assert post(incident_host, f"/api/signl4/{callback_token}", json.dumps(event)) == 200
    stored = next(i for i in emulators.sentinel.incidents() if i["name"] == name)
    assert stored["properties"]["status"] == "Active"
    assert [label["labelName"] for label in stored["properties"]["labels"]] == ["SIGNL4"]
    lists = emulators.sentinel.calls("list")
    wait_for(lambda: emulators.sentinel.calls("list") >= lists + 2, "two more polls", timeout=60)
    assert len(emulators.signl4.received()) == 1
    assert len(emulators.sentinel.comments(name)) == 1
    assert post(incident_host, "/api/signl4/wrong", "{}") == 401
