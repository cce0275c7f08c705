"""The Log Analytics query endpoint through the real LogsQueryClient (azure-monitor-query)."""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from azure.core.exceptions import ClientAuthenticationError, HttpResponseError
from azure.identity import ManagedIdentityCredential
from azure.monitor.ingestion import LogsIngestionClient
from azure.monitor.query import LogsQueryClient, LogsQueryResult, LogsQueryStatus

from local.emulators import EmulatorStack
from local.emulators.query import parse_duration, parse_timespan


def _upload(stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str) -> None:
    now = datetime.now(UTC)
    rows: list[MutableMapping[str, Any]] = [
        {
            "TimeGenerated": (now - timedelta(minutes=minutes)).isoformat(),
            "EventId": f"e{minutes}",
            "EventType": "SecurityEvent",
            "Success": minutes % 2 == 0,
            "Details": {"n": minutes},
        }
        for minutes in (1, 2, 90)
    ]
    with LogsIngestionClient(
        stack.ingestion_endpoint, credential, connection_verify=ca, retry_total=0
    ) as ingestion:
        ingestion.upload(stack.dcr_id, "Custom-FigEvents", rows)


def test_ingested_rows_are_answered_typed(
    stack: EmulatorStack,
    credential: ManagedIdentityCredential,
    ca: str,
    logs: LogsQueryClient,
) -> None:
    """Rows the DCR wrote come back with their columns' types: datetimes as datetimes,
    booleans, dynamic as JSON text; the timespan filters on TimeGenerated."""
    _upload(stack, credential, ca)
    query = "FigEvents_CL | project TimeGenerated, EventId, Success, Details | order by EventId asc"
    result = logs.query_workspace(stack.workspace.customer_id, query, timespan=timedelta(hours=1))
    assert result.status == LogsQueryStatus.SUCCESS
    assert isinstance(result, LogsQueryResult)
    [table] = result.tables
    assert table.columns == ["TimeGenerated", "EventId", "Success", "Details"]
    assert table.columns_types == ["datetime", "string", "bool", "dynamic"]
    assert [row["EventId"] for row in table.rows] == ["e1", "e2"]  # e90 is outside the hour
    assert isinstance(table.rows[0]["TimeGenerated"], datetime)
    assert table.rows[0]["Success"] is False
    assert table.rows[1]["Details"] == '{"n":2}' or table.rows[1]["Details"] == '{"n": 2}'
    everything = logs.query_workspace(stack.workspace.customer_id, "FigEvents_CL", timespan=None)
    assert isinstance(everything, LogsQueryResult)
    assert len(everything.tables[0].rows) == 3


def test_workspace_functions_are_callable(
    stack: EmulatorStack,
    credential: ManagedIdentityCredential,
    ca: str,
    logs: LogsQueryClient,
) -> None:
    """A saved function is expanded in the query, as Log Analytics does."""
    _upload(stack, credential, ca)
    stack.workspace.put_function("FailedFig", "FigEvents_CL | where Success == false")
    result = logs.query_workspace(
        stack.workspace.customer_id, "FailedFig | count", timespan=timedelta(days=1)
    )
    assert isinstance(result, LogsQueryResult)
    assert result.tables[0].rows[0][0] == 1  # e1 only


def test_a_bad_query_is_a_400_with_the_reason(stack: EmulatorStack, logs: LogsQueryClient) -> None:
    """A query that does not run answers BadArgumentError; the client raises it."""
    with pytest.raises(HttpResponseError) as caught:
        logs.query_workspace(stack.workspace.customer_id, "NoSuchTable_CL | take 1", timespan=None)
    assert caught.value.status_code == 400
    assert "BadArgumentError" in str(caught.value)


def test_unknown_workspace_is_404(logs: LogsQueryClient) -> None:
    """Another workspace id is not found."""
    with pytest.raises(HttpResponseError) as caught:
        logs.query_workspace("00000000-0000-0000-0000-000000000000", "print 1", timespan=None)
    assert caught.value.status_code == 404


def test_a_token_for_another_audience_is_401(
    stack: EmulatorStack, credential: ManagedIdentityCredential, ca: str
) -> None:
    """A token minted for ARM does not open the query API."""
    with (
        LogsQueryClient(
            credential,
            endpoint=stack.logs_query_endpoint,
            audience="https://management.azure.com",
            connection_verify=ca,
            retry_total=0,
        ) as wrong,
        pytest.raises((HttpResponseError, ClientAuthenticationError)) as caught,
    ):
        wrong.query_workspace(stack.workspace.customer_id, "print 1", timespan=None)
    assert caught.value.status_code == 401


def test_timespans_the_client_sends_are_read() -> None:
    """Durations as the client writes them, start/end and start/duration."""
    now = datetime(2026, 1, 2, tzinfo=UTC)
    assert parse_duration("PT3600.0S") == timedelta(hours=1)
    assert parse_duration("P1DT2H") == timedelta(days=1, hours=2)
    assert parse_timespan("PT60.0S", now) == (now - timedelta(minutes=1), now)
    start = "2026-01-01T00:00:00.000Z"
    assert parse_timespan(f"{start}/2026-01-01T06:00:00Z", now)[1] == datetime(
        2026, 1, 1, 6, tzinfo=UTC
    )
    assert parse_timespan(f"{start}/PT1H", now)[1] == datetime(2026, 1, 1, 1, tzinfo=UTC)
    assert parse_timespan(None, now) == (None, None)
