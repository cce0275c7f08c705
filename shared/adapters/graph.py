"""Microsoft Graph security incidents (``/v1.0/security/incidents``) as an ``IncidentApi``.

Plain HTTP over azure-core's pipeline (the managed identity's bearer token, retries on
transport errors, timeouts) rather than ``msgraph-sdk``: the SDK's import costs a cold
start far more (figures in docs/incidents.md) for five calls. Answers are translated
into the ARM incident shape by the pure ``shared.incidents.domain.graph``, so the poller,
the merges and the payloads are the Sentinel source's.

- list: ``GET /security/incidents?$filter=lastUpdateDateTime ge <t>&$expand=alerts&$top=n``,
  following ``@odata.nextLink``; the listed incidents (with their alerts and comments)
  are kept, so augmentation costs no further call;
- get: ``GET /security/incidents/{id}?$expand=alerts``;
- put: ``PATCH /security/incidents/{id}`` with only what changed (status, assignedTo,
  classification, determination, customTags);
- put_comment: ``POST /security/incidents/{id}/comments`` (``alertComment``), skipped when
  the incident already holds the same text (Graph comments have no id: a redelivered
  SIGNL4 event must not comment twice);
- permissions: the application roles in the token (Graph has no permissions API).

Graph throttles with 429 and ``Retry-After``: status retries are off (the poll ends and
holds its watermark), and no call is made until the ``Retry-After`` has passed.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from azure.core.exceptions import AzureError
from azure.core.rest import HttpRequest, HttpResponse

from shared.adapters.graph_http import (
    GraphClient,
    retry_after_seconds,
    token_roles,
)
from shared.adapters.http_answers import error_code, http_date, json_object
from shared.config.incidents import IncidentSettings
from shared.errors import IncidentFormatError, IncidentNotFound, UpstreamUnavailable
from shared.incidents.domain import graph
from shared.incidents.ports import Page

logger = logging.getLogger(__name__)

VERSION = "v1.0"
MAX_TOP = 50


class GraphIncidents:
    """The incident operations the bridge uses, on Microsoft Graph's security incidents."""

    def __init__(
        self,
        graph_client: GraphClient,
        settings: IncidentSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._graph = graph_client
        self._base = f"{settings.graph_endpoint.rstrip('/')}/{VERSION}/security/incidents"
        self._clock = clock
        self._lock = threading.Lock()
        self._seen: dict[str, dict[str, Any]] = {}
        self._blocked_until = 0.0
        self.calls = 0

    async def list_page(
        self, *, filter: str | None, orderby: str | None, top: int, next_link: str | None = None
    ) -> Page:
        """A page of incidents changed since the filter's time, alerts expanded; ``orderby``
        is not sent (Graph's list does not document it; the watermark needs no order)."""
        if next_link is not None:
            request = HttpRequest("GET", next_link)
        else:
            with self._lock:  # a new poll: what the last one listed is forgotten
                self._seen.clear()
            try:
                translated = graph.graph_filter(filter)
            except IncidentFormatError as error:
                raise UpstreamUnavailable(f"Graph list: {error}") from None
            params = {"$expand": "alerts", "$top": str(min(top, MAX_TOP))}
            if translated:
                params["$filter"] = translated
            request = HttpRequest("GET", self._base, params=params)
        response = await self._send("list", request)
        document = json_object(response, "Graph")
        items = [i for i in document.get("value") or [] if isinstance(i, dict)]
        incidents = []
        for item in items:
            try:
                incidents.append(graph.to_arm(item))
            except IncidentFormatError as error:
                logger.warning("Skipped a Graph incident: %s", error)
                continue
            self._remember(item)
        link = document.get("@odata.nextLink")
        return Page(
            incidents=incidents,
            next_link=link if isinstance(link, str) and link else None,
            remaining_reads=None,
            server_time=http_date(response.headers.get("Date")),
        )

    async def get(self, name: str) -> dict[str, Any]:
        """One incident, alerts expanded."""
        request = HttpRequest("GET", self._url(name), params={"$expand": "alerts"})
        item = json_object(await self._send("get", request), "Graph")
        self._remember(item)
        return _arm(item)

    async def put(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        """Write what ``body`` (an ARM PUT body) changes, as a Graph PATCH."""
        current = self._seen.get(name)
        if current is None:
            await self.get(name)
            current = self._seen[name]
        patch = graph.patch_body(_arm(current), body)
        if not patch:
            return _arm(current)
        request = HttpRequest("PATCH", self._url(name), json=patch)
        response = await self._send("put", request)
        item = json_object(response, "Graph") if response.status_code != 204 else {}
        if not item.get("id"):
            return await self.get(name)
        item.setdefault("alerts", current.get("alerts"))
        self._remember(item)
        return _arm(item)

    async def put_comment(self, name: str, comment_id: str, message: str) -> dict[str, Any]:
        """Add ``message`` unless the incident already holds it (``comment_id`` is not
        Graph's: comments there have none)."""
        current = self._seen.get(name)
        if current is None:
            await self.get(name)
            current = self._seen[name]
        existing = [c.get("comment") for c in current.get("comments") or [] if isinstance(c, dict)]
        if message in existing:
            logger.info("Incident %s already holds this comment; not added again", name)
            return {}
        body = {"@odata.type": "microsoft.graph.security.alertComment", "comment": message}
        request = HttpRequest("POST", self._url(name) + "/comments", json=body)
        document = json_object(await self._send("comment", request), "Graph")
        if isinstance(document.get("value"), list):
            self._seen[name] = current | {"comments": document["value"]}
        return document

    async def alerts(self, name: str) -> dict[str, Any]:
        """The alerts (from the listed incident when it came with them)."""
        return graph.alerts_of(await self._expanded(name))

    async def comments(self, name: str) -> dict[str, Any]:
        """The comments."""
        return graph.comments_of(await self._expanded(name))

    async def entities(self, name: str) -> dict[str, Any]:
        """The alerts' evidence as entities."""
        return graph.entities_of(await self._expanded(name))

    async def permissions(self) -> dict[str, Any]:
        """``{"roles": [...]}``: the application permissions in the identity's Graph token."""
        try:
            token = await asyncio.to_thread(self._graph.credential.get_token, self._graph.scope)
        except AzureError as error:
            raise UpstreamUnavailable(f"Graph token: {type(error).__name__}") from None
        return {"roles": token_roles(token.token)}

    async def _expanded(self, name: str) -> dict[str, Any]:
        found = self._seen.get(name)
        if found is None or not isinstance(found.get("alerts"), list):
            await self.get(name)
            found = self._seen[name]
        return found

    def _remember(self, item: dict[str, Any]) -> None:
        if isinstance(item.get("id"), str):
            with self._lock:
                self._seen[item["id"]] = item

    def _url(self, name: str) -> str:
        return f"{self._base}/{quote(name, safe='')}"

    async def _send(self, operation: str, request: HttpRequest) -> HttpResponse:
        wait = self._blocked_until - self._clock()
        if wait > 0:
            raise UpstreamUnavailable(
                f"Graph {operation}: throttled for {wait:.0f} s more",
                upstream_status=429,
                retry_after=wait,
            )
        with self._lock:
            self.calls += 1
        try:
            response = await asyncio.to_thread(self._graph.client.send_request, request)
        except AzureError as error:
            logger.warning("Graph %s failed (%s)", operation, type(error).__name__)
            raise UpstreamUnavailable(f"Graph {operation}: {type(error).__name__}") from None
        if response.status_code >= 400:
            raise self._failure(operation, response)
        return response

    def _failure(self, operation: str, response: HttpResponse) -> UpstreamUnavailable:
        status = response.status_code
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if status == 429:
            self._blocked_until = self._clock() + (retry_after or 60.0)
        code = error_code(response)
        message = f"Graph {operation} answered {status} {code}".strip()
        logger.warning("%s", message)
        kind = IncidentNotFound if status == 404 else UpstreamUnavailable
        return kind(message, upstream_status=status, retry_after=retry_after)


def _arm(item: dict[str, Any]) -> dict[str, Any]:
    try:
        return graph.to_arm(item)
    except IncidentFormatError as error:
        message = f"Graph answered an incident the bridge cannot read: {error}"
        raise UpstreamUnavailable(message) from None
