"""Microsoft Sentinel incidents over ARM (HTTPS), for the real ``SecurityInsights`` client.

Serves ``/subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.OperationalInsights/
workspaces/{ws}/providers/Microsoft.SecurityInsights/incidents[...]`` and the workspace's
``providers/Microsoft.Authorization/permissions``. Paths match case-insensitively, as ARM's do.

Confirmed by the reference (sentinel-incidents.md, payloads.md section 5): the paths, list
paging with ``nextLink``/``$skipToken`` and ``$top`` at most 1000, alert and entity POSTs,
the body etag and its 409, the ``x-ms-ratelimit-remaining-subscription-reads`` header.
Assumed: POSTs count against the writes counter, the default page size 50 and the default
order ``createdTimeUtc desc``.
ARM error codes: :mod:`sentinel_arm`.
"""

from __future__ import annotations

import collections
import logging
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from local.emulators import sentinel_arm as arm
from local.emulators.faults import FaultPlan, fault_middleware
from local.emulators.sentinel_admin import sentinel_admin_routes
from local.emulators.sentinel_data import (
    ACTIONS,
    ROLE_PERMISSIONS,
    Role,
    WorkspaceRef,
    entities_body,
    role_allows,
)
from local.emulators.sentinel_filter import FilterError, parse_filter, parse_orderby
from local.emulators.sentinel_model import ArmError
from local.emulators.sentinel_paging import Pager, PagingMode
from local.emulators.sentinel_store import IncidentStore

logger = logging.getLogger(__name__)

_SORT_DEFAULT = [("createdTimeUtc", True)]


class SentinelEmulator:
    """One Sentinel workspace's incidents behind an ARM front door.

    Args:
        subscription_id: The subscription the workspace lives in.
        resource_group: Its resource group.
        workspace: The Log Analytics workspace name.
        clock: Aware "now" for timestamps and token expiry.
        fault_clock: Clock for fault windows.
        role: What the caller may do: ``responder`` (default), ``reader`` or ``none``.
        paging: ``snapshot`` (default) or ``offset``; see :mod:`sentinel_paging`.
    """

    def __init__(
        self,
        *,
        subscription_id: str,
        resource_group: str = "rg-sentinel",
        workspace: str = "law-sentinel",
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        fault_clock: Callable[[], float] | None = None,
        role: Role = "responder",
        paging: PagingMode = "snapshot",
    ) -> None:
        self.ref = WorkspaceRef(subscription_id, resource_group, workspace)
        self.store = IncidentStore(self.ref, clock)
        self.pager = Pager(paging)
        self.faults = FaultPlan() if fault_clock is None else FaultPlan(fault_clock)
        self.role: Role = role
        self.default_page_size = 50
        # Escape nextLink values (the reference's example) or leave them raw (what Elastic
        # reports receiving: it re-encodes the query because it arrives unescaped).
        self.raw_next_link = False
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: collections.Counter[str] = collections.Counter()
        self._history: list[dict[str, Any]] = []
        self._refused = 0
        self._remaining = {"reads": 12000, "writes": 1200}

    # -- Python API ------------------------------------------------------------------------

    def seed_incident(
        self,
        *,
        incident_id: str | None = None,
        alerts: list[dict[str, Any]] | None = None,
        entities: list[dict[str, Any]] | None = None,
        **properties: Any,
    ) -> dict[str, Any]:
        """Create an incident as an analytics rule would.

        Args:
            incident_id: The incident name (a GUID by default).
            alerts: Its alerts; one SecurityAlert like the spec example by default.
            entities: Its entities; one Account entity by default.
            **properties: camelCase properties (``title``, ``severity``, ``status``,
                ``labels`` as names or ``{labelName, labelType}``, ``owner``,
                ``createdTimeUtc``, ``incidentNumber``, ``providerName``, ``tactics``...).

        Returns:
            The incident resource (``name``, ``id``, ``etag``, ``properties``).
        """
        return self.store.seed(
            properties, incident_id=incident_id, alerts=alerts, entities=entities
        )

    def update_incident(self, incident_id: str, **changes: Any) -> dict[str, Any]:
        """Change an incident as an analyst in the portal would: new etag and lastModified."""
        return self.store.analyst_update(incident_id, changes)

    def add_alert(
        self,
        incident_id: str,
        alert: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Group one more alert (like the spec example by default) and its entities into
        an incident, as an analytics rule would: a new version."""
        return self.store.add_alert(incident_id, alert, entities or [])

    def incidents(self) -> list[dict[str, Any]]:
        """Every incident as stored (copies)."""
        return self.store.all()

    def comments(self, incident_id: str) -> list[dict[str, Any]]:
        """One incident's comments, oldest first."""
        return self.store.comments(incident_id)

    def calls(self, operation: str | None = None) -> int:
        """Requests routed to an operation (list, get, put, comment, comments, alerts,
        entities, permissions), whatever their outcome; all of them without an argument."""
        with self._lock:
            return self._calls[operation] if operation else sum(self._calls.values())

    def history(self, operation: str | None = None) -> list[dict[str, Any]]:
        """Routed requests in order: ``{"operation", "method", "query"}`` (api-version...)."""
        with self._lock:
            return [dict(h) for h in self._history if operation in (None, h["operation"])]

    def set_role(self, role: Role) -> None:
        """Grant the caller the documented Responder or Reader actions, or nothing."""
        if role not in ROLE_PERMISSIONS:
            raise ValueError(f"unknown role {role!r}")
        self.role = role

    def set_ratelimit_remaining(
        self, *, reads: int | None = None, writes: int | None = None
    ) -> None:
        """Set the counters the ``x-ms-ratelimit-remaining-subscription-*`` headers show."""
        with self._lock:
            if reads is not None:
                self._remaining["reads"] = reads
            if writes is not None:
                self._remaining["writes"] = writes

    def stats(self) -> dict[str, Any]:
        """Counters for ``/_emulator/stats``."""
        with self._lock:
            return {
                "calls": dict(self._calls),
                "refused": self._refused,
                "remaining": dict(self._remaining),
                "incidents": len(self.store.all()),
                "role": self.role,
            }

    def reset(self) -> None:
        """Forget incidents, snapshots, counters and faults; role back to responder."""
        self.faults.clear()
        self.store.clear()
        self.store.comments_bump_incident = False
        self.pager.clear()
        self.pager.mode = "snapshot"
        self.role = "responder"
        self.raw_next_link = False
        self.default_page_size = 50
        with self._lock:
            self._calls.clear()
            self._history.clear()
            self._refused = 0
            self._remaining = {"reads": 12000, "writes": 1200}

    def build_app(self) -> web.Application:
        """A fresh aiohttp app over this emulator's state (one per server start)."""
        app = web.Application(middlewares=[self._arm_headers, fault_middleware(self.faults)])
        app.add_routes(
            [
                web.route("*", "/subscriptions/{tail:.*}", self._dispatch),
                *sentinel_admin_routes(self),
            ]
        )
        return app

    # -- HTTP ------------------------------------------------------------------------------

    @web.middleware
    async def _arm_headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_emulator/"):
            return await handler(request)
        kind = "reads" if request.method == "GET" else "writes"
        with self._lock:
            self._remaining[kind] = max(0, self._remaining[kind] - 1)
            remaining = self._remaining[kind]
        response = await handler(request)
        request_id = str(uuid.uuid4())
        response.headers[f"x-ms-ratelimit-remaining-subscription-{kind}"] = str(remaining)
        response.headers["x-ms-request-id"] = request_id
        response.headers["x-ms-correlation-request-id"] = request.headers.get(
            "x-ms-correlation-request-id", request_id
        )
        return response

    async def _dispatch(self, request: web.Request) -> web.Response:
        try:
            return await self._handle(request)
        except ArmError as error:
            if error.status in (401, 403):
                with self._lock:
                    self._refused += 1
            logger.info(
                "sentinel: %s %s -> %d %s", request.method, request.path, error.status, error.code
            )
            return arm.error_response(error)

    async def _handle(self, request: web.Request) -> web.Response:
        operation, args, names = arm.route(request.method, request.path)
        with self._lock:
            self._calls[operation] += 1
            self._history.append(
                {"operation": operation, "method": request.method, "query": dict(request.query)}
            )
        claims = arm.authenticate(request, self._clock().timestamp())
        arm.check_api_version(request, operation)
        arm.check_workspace(self.ref, names)
        if operation == "permissions":
            return web.json_response({"value": ROLE_PERMISSIONS[self.role]})
        if not role_allows(self.role, ACTIONS[operation]):
            raise arm.forbidden(claims, ACTIONS[operation], self.ref.sentinel_base)
        if operation == "list":
            return self._list(request)
        if operation == "get":
            return web.json_response(self.store.get(args[0]))
        if operation == "put":
            incident, created = self.store.put(args[0], await arm.json_body(request))
            return web.json_response(incident, status=201 if created else 200)
        if operation == "comment":
            author = {
                "objectId": claims.get("oid"),
                "email": None,
                "userPrincipalName": None,
                "name": claims.get("appid"),
            }
            body = await arm.json_body(request)
            comment, created = self.store.put_comment(args[0], args[1], body, author)
            return web.json_response(comment, status=201 if created else 200)
        if operation == "comments":
            return web.json_response({"value": self.store.comments(args[0])})
        if operation == "alerts":
            return web.json_response({"value": self.store.alerts(args[0])})
        return web.json_response(entities_body(self.store.entities(args[0])))

    def _list(self, request: web.Request) -> web.Response:
        query = request.query
        try:
            predicate = parse_filter(query["$filter"]) if "$filter" in query else None
            order = parse_orderby(query["$orderby"]) if "$orderby" in query else _SORT_DEFAULT
        except FilterError as exc:
            raise ArmError(400, "BadRequest", f"Invalid query: {exc}") from exc
        top = arm.parse_top(query.get("$top"), self.default_page_size)

        def evaluate() -> list[dict[str, Any]]:
            found = [i for i in self.store.all() if predicate is None or predicate(i["properties"])]
            return arm.sort_incidents(found, order)

        items, token = self.pager.page(query.get("$skipToken"), top, evaluate)
        body: dict[str, Any] = {"value": items}
        if token is not None:
            body["nextLink"] = arm.next_link(request, top, token, raw=self.raw_next_link)
        return web.json_response(body)
