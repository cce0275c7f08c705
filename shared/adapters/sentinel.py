"""Sentinel incidents over ARM, through azure-mgmt-securityinsight 1.0.0, as raw JSON.

The 1.0.0 SDK ignores a client-level ``api_version`` and its models drop ``providerName``,
``providerIncidentId`` and ``owner.ownerType``; so every call goes through the client's
own pipeline (credential, ARM challenge handling, retries, timeouts) with
``SecurityInsights._send_request`` and an api-version pinned in the URL (``API_VERSION``),
and answers are read as JSON. The list follows ``nextLink`` as given (re-encoding its query,
which some services send unescaped) and reports ARM's remaining-reads header and the
``Date`` of each page.

Failures become ``UpstreamUnavailable`` with ``upstream_status`` (None for transport
errors); 409 is :class:`IncidentConflict` (a stale etag), 404 :class:`IncidentNotFound`.
The client is sync; calls run in a worker thread. Every call is counted (``calls``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.securityinsight import SecurityInsights

from shared.adapters.http_answers import error_code, http_date, json_object
from shared.config.incidents import IncidentSettings, arm_audience
from shared.errors import IncidentConflict, IncidentNotFound, UpstreamUnavailable
from shared.incidents.ports import Page

logger = logging.getLogger(__name__)

API_VERSION = "2025-06-01"
PERMISSIONS_API_VERSION = "2022-04-01"
CLIENT_OPTIONS: dict[str, Any] = {
    "connection_timeout": 5,
    "read_timeout": 30,
    "retry_total": 2,
    "retry_status": 0,  # a 429 surfaces: the poller holds its watermark instead of sleeping
}
REMAINING_READS = "x-ms-ratelimit-remaining-subscription-reads"
__all__ = ["IncidentConflict", "IncidentNotFound", "Page", "SentinelIncidents", "build_client"]


def build_client(settings: IncidentSettings, credential: TokenCredential) -> SecurityInsights:
    """The SDK client for the configured workspace's subscription and ARM endpoint."""
    return SecurityInsights(
        credential,
        settings.subscription_id,
        base_url=settings.arm_endpoint,
        credential_scopes=[arm_audience(settings.arm_endpoint) + "/.default"],
        **CLIENT_OPTIONS,
    )


class SentinelIncidents:
    """The incident operations the bridge uses, on one workspace."""

    def __init__(self, client: SecurityInsights, settings: IncidentSettings) -> None:
        self._client = client
        self._workspace = (
            f"/subscriptions/{settings.subscription_id}/resourceGroups/{settings.resource_group}"
            f"/providers/Microsoft.OperationalInsights/workspaces/{settings.workspace_name}"
        )
        self._base = self._workspace + "/providers/Microsoft.SecurityInsights/incidents"
        self._lock = threading.Lock()
        self.calls = 0

    async def list_page(
        self, *, filter: str | None, orderby: str | None, top: int, next_link: str | None = None
    ) -> Page:
        """The first page of a list (``filter``, ``orderby``, ``top``) or the page at
        ``next_link``."""
        if next_link is not None:
            request = HttpRequest("GET", _reencode(next_link))
        else:
            params = {"api-version": API_VERSION, "$top": str(top)}
            if filter:
                params["$filter"] = filter
            if orderby:
                params["$orderby"] = orderby
            request = HttpRequest("GET", self._base, params=params)
        response = await self._send("list", request)
        document = json_object(response, "Sentinel")
        items = document.get("value")
        link = document.get("nextLink")
        return Page(
            incidents=[i for i in items if isinstance(i, dict)] if isinstance(items, list) else [],
            next_link=link if isinstance(link, str) and link else None,
            remaining_reads=_int(response.headers.get(REMAINING_READS)),
            server_time=http_date(response.headers.get("Date")),
        )

    async def get(self, name: str) -> dict[str, Any]:
        """One incident."""
        return json_object(await self._send("get", self._request("GET", f"/{name}")), "Sentinel")

    async def put(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Replace the incident with ``body`` (which carries the etag read)."""
        return json_object(
            await self._send("put", self._request("PUT", f"/{name}", body)), "Sentinel"
        )

    async def put_comment(self, name: str, comment_id: str, message: str) -> dict[str, Any]:
        """Create or update comment ``comment_id`` (idempotent by id)."""
        body = {"properties": {"message": message}}
        request = self._request("PUT", f"/{name}/comments/{comment_id}", body)
        return json_object(await self._send("comment", request), "Sentinel")

    async def alerts(self, name: str) -> dict[str, Any]:
        """``POST .../alerts``: the incident's alerts."""
        return json_object(
            await self._send("alerts", self._request("POST", f"/{name}/alerts")), "Sentinel"
        )

    async def comments(self, name: str) -> dict[str, Any]:
        """``GET .../comments``: the incident's comments (one page: at most 100 exist)."""
        return json_object(
            await self._send("comments", self._request("GET", f"/{name}/comments")), "Sentinel"
        )

    async def entities(self, name: str) -> dict[str, Any]:
        """``POST .../entities``: the incident's entities."""
        return json_object(
            await self._send("entities", self._request("POST", f"/{name}/entities")), "Sentinel"
        )

    async def permissions(self) -> dict[str, Any]:
        """What the identity may do on the workspace (ARM permissions API)."""
        request = HttpRequest(
            "GET",
            self._workspace + "/providers/Microsoft.Authorization/permissions",
            params={"api-version": PERMISSIONS_API_VERSION},
        )
        return json_object(await self._send("permissions", request), "Sentinel")

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> HttpRequest:
        params = {"api-version": API_VERSION}
        return HttpRequest(method, self._base + path, params=params, json=body)

    async def _send(self, operation: str, request: HttpRequest) -> HttpResponse:
        with self._lock:
            self.calls += 1
        try:
            response = await asyncio.to_thread(self._client._send_request, request)
        except AzureError as error:
            logger.warning("Sentinel %s failed (%s)", operation, type(error).__name__)
            raise UpstreamUnavailable(f"Sentinel {operation}: {type(error).__name__}") from None
        if response.status_code >= 400:
            raise _failure(operation, response)
        return response


def _failure(operation: str, response: HttpResponse) -> UpstreamUnavailable:
    status = response.status_code
    code = error_code(response)
    message = f"Sentinel {operation} answered {status} {code}".strip()
    retry_after = _int(response.headers.get("Retry-After"))
    logger.warning("%s", message)
    kind = {409: IncidentConflict, 404: IncidentNotFound}.get(status, UpstreamUnavailable)
    return kind(message, upstream_status=status, retry_after=retry_after)


def _reencode(link: str) -> str:
    """``link`` with its query re-encoded (some services send it unescaped)."""
    parts = urlsplit(link)
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True), quote_via=quote, safe="$")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.strip().isdigit() else None
