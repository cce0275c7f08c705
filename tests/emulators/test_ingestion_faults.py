"""Faults and outages seen through azure-monitor-ingestion's client."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from azure.core.exceptions import HttpResponseError, ServiceRequestError, ServiceResponseError
from azure.core.rest import HttpResponse
from azure.identity import ManagedIdentityCredential
from azure.monitor.ingestion import LogsIngestionClient, LogsUploadError

from local.emulators import EmulatorStack, Fault
from tests.emulators.conftest import FakeClock
from tests.emulators.test_ingestion import STREAM, fig_row


@pytest.fixture
def client(
    stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str
) -> Iterator[LogsIngestionClient]:
    """A client without retries."""
    with LogsIngestionClient(
        stack.ingestion_endpoint, credential, connection_verify=ca, retry_total=0
    ) as logs:
        yield logs


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_and_unavailability_reach_on_error(
    stack: EmulatorStack, client: LogsIngestionClient, status: int
) -> None:
    """A 429/503 fault is reported to on_error with the failed rows and its Retry-After."""
    stack.ingestion.faults.add(Fault(status=status, retry_after=7, times=1))
    failures: list[LogsUploadError] = []
    client.upload(stack.dcr_id, STREAM, [fig_row("a"), fig_row("b")], on_error=failures.append)
    (failure,) = failures
    assert [row["EventId"] for row in failure.failed_logs] == ["a", "b"]
    assert isinstance(failure.error, HttpResponseError)
    assert failure.error.status_code == status
    assert isinstance(failure.error.response, HttpResponse)
    assert failure.error.response.headers["Retry-After"] == "7"
    assert stack.ingestion.rows() == []
    client.upload(stack.dcr_id, STREAM, [fig_row("c")])
    assert len(stack.ingestion.rows()) == 1


def test_fault_window_ends_with_the_clock(
    stack: EmulatorStack, client: LogsIngestionClient, fault_clock: FakeClock
) -> None:
    """A for_seconds fault fails every upload until the fault clock passes its window."""
    stack.ingestion.faults.add(Fault(status=503, for_seconds=60))
    for _ in range(2):
        with pytest.raises(HttpResponseError):
            client.upload(stack.dcr_id, STREAM, [fig_row("a")])
    fault_clock.advance(60)
    client.upload(stack.dcr_id, STREAM, [fig_row("a")])
    assert len(stack.ingestion.rows()) == 1


def test_lost_answer_keeps_the_rows(stack: EmulatorStack, client: LogsIngestionClient) -> None:
    """With accept_then_fail the rows are stored although the client sees a 500."""
    stack.ingestion.faults.add(Fault(accept_then_fail=True, times=1))
    with pytest.raises(HttpResponseError) as raised:
        client.upload(stack.dcr_id, STREAM, [fig_row("a")])
    assert raised.value.status_code == 500
    assert [r.row["EventId"] for r in stack.ingestion.rows()] == ["a"]


def test_lost_answer_and_sdk_retry_duplicate_rows(
    stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str
) -> None:
    """The SDK retries a POST that got 500, so a lost answer stores the rows twice."""
    stack.ingestion.faults.add(Fault(accept_then_fail=True, times=1))
    with LogsIngestionClient(
        stack.ingestion_endpoint,
        credential,
        connection_verify=ca,
        retry_total=1,
        retry_backoff_factor=0.01,
    ) as retrying:
        retrying.upload(stack.dcr_id, STREAM, [fig_row("a")])
    assert [r.row["EventId"] for r in stack.ingestion.rows()] == ["a", "a"]


def test_connection_reset_is_a_response_error(
    stack: EmulatorStack, client: LogsIngestionClient
) -> None:
    """A reset_connection fault drops the connection: the SDK raises ServiceResponseError."""
    stack.ingestion.faults.add(Fault(reset_connection=True, times=1))
    with pytest.raises(ServiceResponseError):
        client.upload(stack.dcr_id, STREAM, [fig_row("a")])
    assert stack.ingestion.rows() == []


def test_latency_can_outlast_the_client_while_the_rows_still_land(
    stack: EmulatorStack, client: LogsIngestionClient
) -> None:
    """A slow answer times the client out, yet the service stores the rows afterwards."""
    stack.ingestion.faults.add(Fault(delay=0.5, times=1))
    with pytest.raises(ServiceResponseError):
        client.upload(stack.dcr_id, STREAM, [fig_row("late")], read_timeout=0.1)
    for _ in range(100):
        if stack.ingestion.rows():
            break
        time.sleep(0.05)
    assert [r.row["EventId"] for r in stack.ingestion.rows()] == ["late"]


def test_stopped_emulator_refuses_connections_and_recovers(
    stack: EmulatorStack, client: LogsIngestionClient
) -> None:
    """Stopping the emulator gives connection refused; starting it again on the port recovers."""
    client.upload(stack.dcr_id, STREAM, [fig_row("before")])
    port = stack.port("ingestion")
    stack.stop_emulator("ingestion")
    with pytest.raises(ServiceRequestError):
        client.upload(stack.dcr_id, STREAM, [fig_row("during")])
    stack.start_emulator("ingestion")
    assert stack.port("ingestion") == port
    client.upload(stack.dcr_id, STREAM, [fig_row("after")])
    assert [r.row["EventId"] for r in stack.ingestion.rows()] == ["before", "after"]
