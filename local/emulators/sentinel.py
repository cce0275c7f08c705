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

import logging
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from local.emulators import sentinel_arm as arm
from local.emulators import workspace_arm
from local.emulators.faults import FaultPlan, fault_middleware
from local.emulators.security_alerts import record_rule_alert
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
from local.emulators.sentinel_store import RateKind, SentinelStore
from local.emulators.workspace import LogAnalyticsWorkspace

logger = logging.getLogger(__name__)

_SORT_DEFAULT = [("createdTimeUtc", True)]


class SentinelEmulator:
    """One Sentinel workspace's incidents behind an ARM front door; its data is ``store``.

    Args:
        subscription_id: The subscription the workspace lives in.
        resource_group: Its resource group.
        workspace: The Log Analytics workspace name.
        clock: Aware "now" for timestamps and token expiry.
        fault_clock: Clock for fault windows.
        role: What the caller may do: ``responder`` (default), ``reader`` or ``none``.
        paging: ``snapshot`` (default) or ``offset``; see :mod:`sentinel_paging`.
        workspace_tables: The workspace's tables and functions (:mod:`workspace_arm` serves them);
            a private one by default.
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
        workspace_tables: LogAnalyticsWorkspace | None = None,
    ) -> None:
        self.workspace_tables = workspace_tables or LogAnalyticsWorkspace()
        self.ref = WorkspaceRef(subscription_id, resource_group, workspace)
        self.store = SentinelStore(self.ref, clock, role=role, paging=paging)
        self.faults = FaultPlan() if fault_clock is None else FaultPlan(fault_clock)
        self._clock = clock
        self._role, self._paging = role, paging
        self._extra: dict[tuple[str, str, str], SentinelStore] = {}
        self._tenants: dict[str, str] = {}
        self._delegations: dict[str, set[str]] = {}

    # -- the store's switches, for tests ---------------------------------------------------

    @property
    def pager(self) -> Pager:
        """The list pager (``pager.mode``: ``snapshot`` or ``offset``)."""
        return self.store.pager

    @property
    def role(self) -> Role:
        """What the caller may do."""
        return self.store.role

    @property
    def raw_next_link(self) -> bool:
        """Whether nextLink values are left unescaped."""
        return self.store.raw_next_link

    @raw_next_link.setter
    def raw_next_link(self, raw: bool) -> None:
        self.store.raw_next_link = raw

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
        return self.store.incidents.seed(
            properties, incident_id=incident_id, alerts=alerts, entities=entities
        )

    def update_incident(self, incident_id: str, **changes: Any) -> dict[str, Any]:
        """Change an incident as an analyst in the portal would: new etag and lastModified."""
        return self.store.incidents.analyst_update(incident_id, changes)

    def add_alert(
        self,
        incident_id: str,
        alert: dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
    ) -> dict[str, Any]:
        """Group one more alert (like the spec example by default) and its entities into
        an incident, as an analytics rule would: a new version."""
        return self.store.incidents.add_alert(incident_id, alert, entities or [])

    def add_rule_alert(
        self, incident_id: str, *, query: str, start: datetime, end: datetime
    ) -> dict[str, Any]:
        """Group a scheduled rule's alert into an incident (``add_alert``) and write it to
        the workspace's ``SecurityAlert`` table with the rule's query and window, as
        Sentinel does. Returns the ARM alert."""
        self.add_alert(incident_id)
        alert: dict[str, Any] = self.store.incidents.alerts(incident_id)[-1]
        record_rule_alert(
            self.workspace_tables,
            alert,
            query=query,
            start=start,
            end=end,
            rule_id=self.ref.alert_rule_id(),
        )
        return alert

    def incidents(self) -> list[dict[str, Any]]:
        """Every incident as stored (copies)."""
        return self.store.incidents.all()

    def comments(self, incident_id: str) -> list[dict[str, Any]]:
        """One incident's comments, oldest first."""
        return self.store.incidents.comments(incident_id)

    def calls(self, operation: str | None = None) -> int:
        """Requests routed to an operation (list, get, put, comment, comments, alerts,
        entities, permissions), whatever their outcome; all of them without an argument."""
        return self.store.calls(operation)

    def history(self, operation: str | None = None) -> list[dict[str, Any]]:
        """Routed requests in order: ``{"operation", "method", "query"}`` (api-version...)."""
        return self.store.history(operation)

    def set_role(self, role: Role) -> None:
        """Grant the caller the documented Responder or Reader actions, or nothing."""
        self.store.set_role(role)

    def set_ratelimit_remaining(
        self, *, reads: int | None = None, writes: int | None = None
    ) -> None:
        """Set the counters the ``x-ms-ratelimit-remaining-subscription-*`` headers show."""
        self.store.set_ratelimit_remaining(reads=reads, writes=writes)

    def stats(self) -> dict[str, Any]:
        """Counters for ``/_emulator/stats``."""
        return self.store.stats()

    def add_workspace(
        self,
        subscription_id: str,
        resource_group: str,
        workspace: str,
        *,
        tenant_id: str | None = None,
        delegated_to: tuple[str, ...] = (),
    ) -> SentinelStore:
        """Serve one more workspace (many-workspace deployments); its store.

        Workspaces of one subscription share its read and write budget, as ARM's quotas
        are per subscription. ``tenant_id`` makes the subscription another tenant's: a
        token of any other tenant is refused (401 ``InvalidAuthenticationTokenTenant``)
        unless that tenant is in ``delegated_to`` (an Azure Lighthouse delegation: the
        provider's identity works on the customer's workspace with its own token).
        """
        ref = WorkspaceRef(subscription_id, resource_group, workspace)
        store = SentinelStore(ref, self._clock, role=self._role, paging=self._paging)
        sibling = next(
            (s for s in [self.store, *self._extra.values()] if _same_sub(s.ref, ref)), None
        )
        if sibling is not None:
            store.share_budget(sibling)
        self._extra[_key(ref)] = store
        if tenant_id is not None:
            self._tenants[subscription_id.lower()] = tenant_id
            self._delegations[subscription_id.lower()] = set(delegated_to)
        return store

    def workspaces(self) -> list[SentinelStore]:
        """Every workspace's store, the first one first."""
        return [self.store, *self._extra.values()]

    def reset(self) -> None:
        """Forget incidents, snapshots, counters and faults; role back to responder; the
        workspaces added with :meth:`add_workspace` are dropped."""
        self.faults.clear()
        self.store.reset()
        self._extra.clear()
        self._tenants.clear()
        self._delegations.clear()

    def build_app(self) -> web.Application:
        """A fresh aiohttp app over this emulator's state (one per server start)."""
        app = web.Application(middlewares=[self._arm_headers, fault_middleware(self.faults)])
        app.add_routes(
            [
                web.route("*", "/subscriptions/{tail:.*}", self._dispatch),
                *sentinel_admin_routes(self.store, self.faults),
            ]
        )
        return app

    # -- HTTP ------------------------------------------------------------------------------

    @web.middleware
    async def _arm_headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/_emulator/"):
            return await handler(request)
        kind: RateKind = "reads" if request.method == "GET" else "writes"
        remaining = self._store_of_path(request.path).spend(kind)
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
                self.store.count_refusal()
            logger.info(
                "sentinel: %s %s -> %d %s", request.method, request.path, error.status, error.code
            )
            return arm.error_response(error)

    async def _handle(self, request: web.Request) -> web.Response:
        if workspace_arm.handles(request.path):
            now = self._clock().timestamp()
            return await workspace_arm.serve(request, self.workspace_tables, self.ref, now)
        operation, args, names = arm.route(request.method, request.path)
        store = self._extra.get((names[0].lower(), names[1].lower(), names[2].lower()))
        store = store or self.store
        store.record_call(operation, request.method, request.query)
        claims = arm.authenticate(request, self._clock().timestamp())
        self._check_tenant(names[0], claims)
        arm.check_api_version(request, operation)
        arm.check_workspace(store.ref, names)
        role = store.role
        if operation == "permissions":
            return web.json_response({"value": ROLE_PERMISSIONS[role]})
        if not role_allows(role, ACTIONS[operation]):
            raise arm.forbidden(claims, ACTIONS[operation], self.ref.sentinel_base)
        if operation == "list":
            return self._list(request, store)
        if operation == "get":
            return web.json_response(store.incidents.get(args[0]))
        if operation == "put":
            incident, created = store.incidents.put(args[0], await arm.json_body(request))
            return web.json_response(incident, status=201 if created else 200)
        if operation == "comment":
            author = {
                "objectId": claims.get("oid"),
                "email": None,
                "userPrincipalName": None,
                "name": claims.get("appid"),
            }
            body = await arm.json_body(request)
            comment, created = store.incidents.put_comment(args[0], args[1], body, author)
            return web.json_response(comment, status=201 if created else 200)
        if operation == "comments":
            return web.json_response({"value": store.incidents.comments(args[0])})
        if operation == "alerts":
            return web.json_response({"value": store.incidents.alerts(args[0])})
        return web.json_response(entities_body(store.incidents.entities(args[0])))

    def _list(self, request: web.Request, store: SentinelStore) -> web.Response:
        query = request.query
        try:
            predicate = parse_filter(query["$filter"]) if "$filter" in query else None
            order = parse_orderby(query["$orderby"]) if "$orderby" in query else _SORT_DEFAULT
        except FilterError as exc:
            raise ArmError(400, "BadRequest", f"Invalid query: {exc}") from exc
        top = arm.parse_top(query.get("$top"), store.default_page_size)

        def evaluate() -> list[dict[str, Any]]:
            found = [
                i for i in store.incidents.all() if predicate is None or predicate(i["properties"])
            ]
            return arm.sort_incidents(found, order)

        items, token = store.pager.page(query.get("$skipToken"), top, evaluate)
        body: dict[str, Any] = {"value": items}
        if token is not None:
            body["nextLink"] = arm.next_link(request, top, token, raw=store.raw_next_link)
        return web.json_response(body)

    def _store_of_path(self, path: str) -> SentinelStore:
        match = arm.WORKSPACE_PATH.match(path)
        if match is None:
            return self.store
        key = (match["sub"].lower(), match["rg"].lower(), match["ws"].lower())
        return self._extra.get(key, self.store)

    def _check_tenant(self, subscription: str, claims: dict[str, Any]) -> None:
        """A subscription of another tenant takes only its own tenant's tokens and those
        of the tenants it delegated to (Lighthouse); 401 otherwise (assumed wording)."""
        owner = self._tenants.get(subscription.lower())
        token_tenant = str(claims.get("tid", ""))
        if owner is None or token_tenant == owner:
            return
        if token_tenant in self._delegations.get(subscription.lower(), set()):
            return
        raise ArmError(
            401,
            "InvalidAuthenticationTokenTenant",
            f"The access token is from the wrong issuer 'https://sts.windows.net/{token_tenant}/'."
            f" It must match the tenant 'https://sts.windows.net/{owner}/' associated with "
            "this subscription.",
        )


def _key(ref: WorkspaceRef) -> tuple[str, str, str]:
    return (ref.subscription_id.lower(), ref.resource_group.lower(), ref.workspace.lower())


def _same_sub(a: WorkspaceRef, b: WorkspaceRef) -> bool:
    return a.subscription_id.lower() == b.subscription_id.lower()
