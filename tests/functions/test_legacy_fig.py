"""The Fig function into a workspace that already holds Fig's classic FigEvents_CL: Fig's
documented queries answer with the event the function forwarded, in migrate and alongside
mode, while the function sends the same typed row whatever the mode."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from azure.identity import ManagedIdentityCredential

from local.emulators.stack import EmulatorStack
from tests.azure_fixtures import FigCredentials
from tests.emulators.legacy_support import (
    FAILED_LOGINS,
    deploy,
    fig_connector_records,
    query,
    run_hook,
    start_with_classic,
)
from tests.functions.app_functions import call_http, fig_request
from tests.payloads import FIG_EVENTS, raw

pytestmark = pytest.mark.usefixtures("app_env")


@pytest.fixture
def credential(emulators: EmulatorStack) -> Iterator[ManagedIdentityCredential]:
    """The emulated managed identity (app_env points azure-identity at it)."""
    with ManagedIdentityCredential(client_id=emulators.client_id) as identity:
        yield identity


@pytest.mark.parametrize(
    ("mode", "source"), [("migrate", "FigEvents_CL"), ("alongside", "FigEvents")]
)
def test_figs_queries_answer_with_the_functions_rows(
    emulators: EmulatorStack,
    fig_credentials: FigCredentials,
    credential: ManagedIdentityCredential,
    tmp_path: Path,
    mode: str,
    source: str,
) -> None:
    """A failed login posted to /api/fig/SecurityEvent is a row of Fig's failed-login query
    beside the connector's, with source_s Fig and integration_s MicrosoftSentinel."""
    start_with_classic(emulators, "FigEvents_CL", fig_connector_records(), "timestamp")
    run_hook(emulators, credential, tmp_path, {"FIG_TABLE_MODE": mode})
    deploy(emulators, credential, "FigEvents_CL", mode)  # type: ignore[arg-type]

    request = fig_request(
        "SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), authorization=fig_credentials.header
    )
    response = call_http("fig_webhook", request)
    assert response.status_code == 202, response.get_body()
    [event_id] = json.loads(response.get_body())["eventIds"]

    rows = query(emulators, credential, FAILED_LOGINS.replace("FigEvents_CL", source))
    assert len(rows) == 2
    [bridge] = [row for row in rows if row["EventId"] == event_id]
    assert (bridge["source_s"], bridge["integration_s"]) == ("Fig", "MicrosoftSentinel")
    [connector] = [row for row in rows if not row["EventId"]]
    assert connector["username_s"] == "a*****n"  # the connector masked it
    [stored] = emulators.ingestion.rows("Custom-FigEvents")  # the typed stream, as always
    assert "eventType_s" not in stored.row
