"""The Log Analytics query API for one workspace (``azure-monitor-query``'s LogsQueryClient).

The workspace is named by its ARM resource ID (``query_resource``), which the incident
settings already give, so no workspace GUID setting is needed. The client is sync, as
the identity credential is; calls run in a worker thread. A partial answer (the service
stopped at a limit) is taken as far as it goes; every failure is ``UpstreamUnavailable``
with a short reason, never the query text or rows.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import TYPE_CHECKING, Any

from azure.core.exceptions import AzureError, HttpResponseError

from shared.config.search import query_audience
from shared.errors import UpstreamUnavailable
from shared.incidents.domain.search import QueryTable

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential
    from azure.monitor.query import LogsQueryClient

CLIENT_OPTIONS: dict[str, Any] = {"connection_timeout": 5, "read_timeout": 30, "retry_total": 1}


def workspace_resource_id(subscription: str, resource_group: str, workspace: str) -> str:
    """The workspace's ARM resource ID."""
    return (
        f"/subscriptions/{subscription}/resourceGroups/{resource_group}"
        f"/providers/Microsoft.OperationalInsights/workspaces/{workspace}"
    )


def build_logs_client(endpoint: str, credential: TokenCredential) -> LogsQueryClient:
    """A client for ``endpoint``, with tokens for its audience (``query_audience``)."""
    from azure.monitor.query import LogsQueryClient

    audience = query_audience(endpoint)
    return LogsQueryClient(credential, endpoint=endpoint, audience=audience, **CLIENT_OPTIONS)


class LogAnalyticsReader:
    """``LogsReader`` over one workspace."""

    def __init__(self, client: LogsQueryClient, resource_id: str) -> None:
        self._client = client
        self._resource_id = resource_id

    async def query(self, text: str, *, start: datetime, end: datetime) -> QueryTable:
        """The answer's first table (empty when the answer has none)."""
        return await asyncio.to_thread(self._query, text, start, end)

    def _query(self, text: str, start: datetime, end: datetime) -> QueryTable:
        from azure.monitor.query import LogsQueryPartialResult

        try:
            answer = self._client.query_resource(
                self._resource_id, text, timespan=(start, end), server_timeout=30
            )
        except HttpResponseError as error:
            code = getattr(error.error, "code", None) or "error"
            raise UpstreamUnavailable(
                f"Log Analytics answered {error.status_code} ({code})",
                upstream_status=error.status_code,
            ) from None
        except AzureError as error:
            reason = f"Log Analytics unreachable: {type(error).__name__}"
            raise UpstreamUnavailable(reason) from None
        if isinstance(answer, LogsQueryPartialResult):
            tables = answer.partial_data
        else:
            tables = answer.tables
        if not tables:
            return QueryTable((), ())
        first = tables[0]
        return QueryTable(tuple(str(c) for c in first.columns), tuple(tuple(r) for r in first.rows))
