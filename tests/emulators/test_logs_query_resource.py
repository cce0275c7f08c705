"""The query API addressed by the workspace's ARM resource ID (``query_resource``), and
Sentinel's rule alerts as SecurityAlert rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from azure.core.exceptions import HttpResponseError
from azure.monitor.query import LogsQueryClient, LogsQueryResult

from local.emulators import EmulatorStack


def test_a_rule_alert_is_a_security_alert_row_found_by_resource_id(
    stack: EmulatorStack, logs: LogsQueryClient
) -> None:
    """add_rule_alert writes SecurityAlert with the query and window; query_resource on the
    workspace's ARM id finds it."""
    stack.workspace.reset()
    now = datetime.now(UTC).replace(microsecond=0)
    incident = stack.sentinel.seed_incident(title="rule")
    alert = stack.sentinel.add_rule_alert(
        incident["name"], query="T | take 1", start=now - timedelta(hours=1), end=now
    )
    alert_id = alert["properties"]["systemAlertId"]
    answer = logs.query_resource(
        stack.sentinel.ref.workspace_id,
        f'SecurityAlert | where SystemAlertId == "{alert_id}" | project ExtendedProperties',
        timespan=timedelta(days=1),
    )
    assert isinstance(answer, LogsQueryResult)
    [row] = answer.tables[0].rows
    properties = json.loads(row[0])
    assert properties["Query"] == "T | take 1"
    assert properties["Query End Time UTC"] == now.strftime("%Y-%m-%d %H:%M:%SZ")


def test_another_resource_is_404(stack: EmulatorStack, logs: LogsQueryClient) -> None:
    """A resource ID that is not the workspace's is not found."""
    other = stack.sentinel.ref.workspace_id.replace("/workspaces/", "/workspaces/other-")
    with pytest.raises(HttpResponseError) as caught:
        logs.query_resource(other, "print 1", timespan=timedelta(hours=1))
    assert caught.value.status_code == 404
