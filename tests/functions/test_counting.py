"""The health counters behind BridgeHealth_CL count what the functions did."""

from __future__ import annotations

import pytest

from local.emulators.faults import Fault
from local.emulators.stack import EmulatorStack
from shared.bootstrap import root
from shared.telemetry import metrics
from tests.azure_fixtures import FigCredentials
from tests.functions.app_functions import call_http, fig_request
from tests.payloads import FIG_EVENTS, FIG_TESTS, raw

pytestmark = pytest.mark.usefixtures("app_env")


def counts() -> dict[str, int]:
    counters = root().counters
    totals = counters.totals(counters.current_window())
    return {counter: n for (kind, name, counter), n in totals.items() if name == "fig"}


def post(event: str, body: bytes, header: str | None) -> int:
    response = call_http("fig_webhook", fig_request(event, body, authorization=header))
    status: int = response.status_code
    return status


def test_each_answer_is_counted_by_outcome(
    emulators: EmulatorStack, fig_credentials: FigCredentials
) -> None:
    """Accepted, queued, refused by reason and test deliveries each land in their counter."""
    assert post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), fig_credentials.header) == 202
    emulators.ingestion.faults.add(Fault(status=503, times=1))
    assert post("MinRunSessions", raw(FIG_EVENTS["MinRunSessions"]), fig_credentials.header) == 202
    assert post("SecurityEvent", raw(FIG_EVENTS["SecurityEvent"]), "Secret wrong") == 401
    assert post("SecurityEvent", b"{", fig_credentials.header) == 400
    assert post("SecurityEvent", raw(FIG_TESTS["SecurityEvent"]), fig_credentials.header) == 200
    assert counts() == {
        metrics.RECEIVED: 5,
        metrics.ACCEPTED: 1,
        metrics.QUEUED: 1,
        metrics.rejected("Unauthorized"): 1,
        metrics.rejected("MalformedPayload"): 1,
        metrics.TEST: 1,
    }
