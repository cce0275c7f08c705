"""A detection over rows that went the whole way: Fig webhooks through the Fig function, the
real ingestion client and the Logs Ingestion emulator, then the rule over the stored rows.

The per-rule scenarios (test_detections_*.py) make rows with the sources' own ``parse``;
this checks that what the emulated workspace stores is what those rules were tested on.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from local.emulators.stack import EmulatorStack
from tests.azure_fixtures import FigCredentials
from tests.content.scenarios import fire
from tests.functions.app_functions import call_http, fig_request
from tests.payloads import parsed, raw

pytestmark = pytest.mark.usefixtures("app_env")
STREAM = "Custom-FigEvents"


def _post_login(credentials: FigCredentials, minutes_ago: int) -> int:
    body = parsed("fig_security_event_failed_login.json")
    moment = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    body["Timestamp"] = moment.isoformat().replace("+00:00", "Z")
    request = fig_request(
        "SecurityEvent", json.dumps(body).encode(), authorization=credentials.header
    )
    status: int = call_http("fig_webhook", request).status_code
    return status


def test_brute_force_fires_on_rows_stored_by_the_ingestion_emulator(
    emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """Six failed logins posted to the bridge raise the brute-force alert from stored rows."""
    assert [_post_login(fig_credentials, i + 1) for i in range(6)] == [202] * 6
    stored = [r.row for r in emulators.ingestion.rows(STREAM)]
    assert len(stored) == 6
    alerts = fire("FigBruteForce", {"FigEvents_CL": stored})
    assert {(a["Target"], a["Failures"]) for a in alerts} == {("address", 6), ("user", 6)}


def test_brute_force_quiet_for_fig_test_logins(
    emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """Fig's test logins are answered 200 and stored nowhere, so nothing can fire."""
    for _ in range(6):
        request = fig_request(
            "SecurityEvent",
            raw("fig_security_event_test.json"),
            authorization=fig_credentials.header,
        )
        assert call_http("fig_webhook", request).status_code == 200
    stored = [r.row for r in emulators.ingestion.rows(STREAM)]
    assert stored == []
    assert fire("FigBruteForce", {"FigEvents_CL": stored}) == []
