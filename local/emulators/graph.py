"""Microsoft Graph security incidents (``/v1.0/security/incidents``) over HTTPS.

Serves list (``$filter`` on ``lastUpdateDateTime``/``createdDateTime`` with ``ge gt le lt
eq`` and ``eq`` on ``status``, ``severity``, ``classification``, ``determination``,
``assignedTo``, joined by ``and``; ``$top``; ``$skip``; ``$expand=alerts``; paging by
``@odata.nextLink``, newest first as the docs say), get, ``PATCH`` and comments.

Auth: a bearer token for ``https://graph.microsoft.com`` (401 ``InvalidAuthenticationToken``
otherwise); reads need the application role ``SecurityIncident.Read.All`` or
``SecurityIncident.ReadWrite.All`` in the token's ``roles``, writes the latter (403
``Forbidden`` otherwise). Throttling: fault rules (``faults``) answer 429 with
``Retry-After`` in Graph's error envelope.
Assumed: the default page size (20) and the largest ``$top`` (50); ``$top`` above it is
cut to it; the 401/403 codes and wording.
"""

from __future__ import annotations

import collections
import logging
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from local.emulators.faults import ADMIN_PREFIX, FaultPlan, fault_admin_routes, fault_middleware
from local.emulators.graph_store import GraphError, GraphIncidentStore
from local.emulators.sentinel_filter import parse_utc
from local.emulators.tokens import check_bearer, decode_claims

logger = logging.getLogger(__name__)

AUDIENCE = "https://graph.microsoft.com"
READ_ROLES = ("SecurityIncident.Read.All", "SecurityIncident.ReadWrite.All")
WRITE_ROLES = ("SecurityIncident.ReadWrite.All",)
DEFAULT_TOP = 20
MAX_TOP = 50
BASE = "/v1.0/security/incidents"
_TIMES = {"lastUpdateDateTime", "createdDateTime"}
_TEXTS = {"status", "severity", "classification", "determination", "assignedTo"}
_TERM = re.compile(r"^\s*(\w+)\s+(eq|ge|gt|le|lt)\s+('(?:[^']|'')*'|\S+)\s*$")
_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: a == b,
    "ge": lambda a, b: a >= b,
    "gt": lambda a, b: a > b,
    "le": lambda a, b: a <= b,
    "lt": lambda a, b: a < b,
}


def graph_error_envelope(status: int, code: str, message: str) -> dict[str, Any]:
    """Graph's ``{"error": {"code", "message", "innerError"}}``."""
    del status
    return {"error": {"code": code, "message": message, "innerError": {}}}


def parse_filter(text: str) -> Callable[[dict[str, Any]], bool]:
    """A predicate for ``$filter`` (terms joined by ``and``).

    Raises:
        GraphError: 400 for what the emulator (and the docs) do not support.
    """
    checks: list[Callable[[dict[str, Any]], bool]] = []
    for term in re.split(r"\s+and\s+", text.strip()):
        match = _TERM.match(term)
        if match is None or match[1] not in _TIMES | _TEXTS:
            raise GraphError(400, "BadRequest", f"Invalid filter clause: {term}")
        name, op, raw = match[1], _OPS[match[2]], match[3]
        if name in _TIMES:
            try:
                value: Any = parse_utc(raw.strip("'"))
            except ValueError as error:
                raise GraphError(400, "BadRequest", f"Invalid timestamp: {raw}") from error
            checks.append(_time_check(name, op, value))
        else:
            text_value = raw[1:-1].replace("''", "'") if raw.startswith("'") else raw
            checks.append(_text_check(name, op, text_value))
    return lambda incident: all(check(incident) for check in checks)


def _time_check(
    name: str, op: Callable[[Any, Any], bool], value: Any
) -> Callable[[dict[str, Any]], bool]:
    return lambda incident: op(parse_utc(incident[name]), value)


def _text_check(
    name: str, op: Callable[[Any, Any], bool], value: str
) -> Callable[[dict[str, Any]], bool]:
    return lambda incident: op(str(incident.get(name)), value)


class GraphEmulator:
    """One tenant's Graph security incidents; its data is ``store``."""

    def __init__(
        self,
        *,
        tenant_id: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        fault_clock: Callable[[], float] | None = None,
    ) -> None:
        self.store = GraphIncidentStore(tenant_id, clock)
        self.faults = FaultPlan() if fault_clock is None else FaultPlan(fault_clock)
        self._clock = clock
        self._lock = threading.Lock()
        self._calls: collections.Counter[str] = collections.Counter()
        self._refused = 0

    # -- Python API ------------------------------------------------------------------------

    def seed_incident(self, **fields: Any) -> dict[str, Any]:
        """An incident as Defender XDR would create it (see ``GraphIncidentStore.seed``)."""
        return self.store.seed(**fields)

    def update_incident(self, incident_id: str, **changes: Any) -> dict[str, Any]:
        """An analyst's change in the portal (a new ``lastUpdateDateTime``)."""
        return self.store.update(incident_id, **changes)

    def incidents(self) -> list[dict[str, Any]]:
        """Every incident as stored."""
        return self.store.all()

    def calls(self, operation: str | None = None) -> int:
        """Requests routed to list, get, patch or comment; all of them without an argument."""
        with self._lock:
            return self._calls[operation] if operation else sum(self._calls.values())

    def stats(self) -> dict[str, Any]:
        """Counters for ``/_emulator/stats``."""
        with self._lock:
            return {
                "calls": dict(self._calls),
                "refused": self._refused,
                "incidents": len(self.store.all()),
            }

    def reset(self) -> None:
        """Forget incidents, counters and faults."""
        self.faults.clear()
        self.store.clear()
        with self._lock:
            self._calls.clear()
            self._refused = 0

    def build_app(self) -> web.Application:
        """A fresh aiohttp app over this emulator's state."""
        app = web.Application(middlewares=[fault_middleware(self.faults, graph_error_envelope)])
        app.add_routes(
            [
                web.get(BASE, self._list),
                web.get(BASE + "/{id}", self._get),
                web.patch(BASE + "/{id}", self._patch),
                web.post(BASE + "/{id}/comments", self._comment),
                web.get(ADMIN_PREFIX + "stats", self._stats),
                *fault_admin_routes(self.faults),
            ]
        )
        return app

    # -- HTTP ------------------------------------------------------------------------------

    def _auth(self, request: web.Request, operation: str, roles: tuple[str, ...]) -> str:
        with self._lock:
            self._calls[operation] += 1
        problem = check_bearer(request, AUDIENCE, self._clock().timestamp())
        if problem is not None:
            self._refuse()
            raise GraphError(401, "InvalidAuthenticationToken", problem.message)
        claims = decode_claims(request.headers["Authorization"].partition(" ")[2].strip())
        roles_claim = claims.get("roles")
        granted: list[Any] = roles_claim if isinstance(roles_claim, list) else []
        if not any(role in granted for role in roles):
            self._refuse()
            raise GraphError(
                403,
                "Forbidden",
                f"Missing application roles. API required roles: {', '.join(roles)}. "
                f"Application roles in the token: {', '.join(map(str, granted)) or 'none'}.",
            )
        return str(claims.get("appid") or "Automation")

    def _refuse(self) -> None:
        with self._lock:
            self._refused += 1

    async def _list(self, request: web.Request) -> web.Response:
        return await _answer(lambda: self._list_body(request))

    async def _list_body(self, request: web.Request) -> web.Response:
        self._auth(request, "list", READ_ROLES)
        query = request.query
        keep = parse_filter(query["$filter"]) if "$filter" in query else None
        top = _int(query.get("$top"), DEFAULT_TOP, "$top")
        skip = _int(query.get("$skip"), 0, "$skip")
        expand = query.get("$expand", "")
        if expand not in ("", "alerts"):
            raise GraphError(400, "BadRequest", f"Unsupported $expand: {expand}")
        found = [i for i in self.store.all() if keep is None or keep(i)]
        found.sort(key=lambda i: (parse_utc(i["createdDateTime"]), i["id"]), reverse=True)
        top = min(top, MAX_TOP)
        page = found[skip : skip + top]
        if expand != "alerts":
            for item in page:
                item.pop("alerts", None)
        body: dict[str, Any] = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#security/incidents",
            "value": page,
        }
        if skip + top < len(found):
            params = {k: v for k, v in query.items() if k != "$skip"}
            params |= {"$top": str(top), "$skip": str(skip + top)}
            body["@odata.nextLink"] = (
                f"{request.scheme}://{request.host}{request.path}?{urlencode(params)}"
            )
        return web.json_response(body)

    async def _get(self, request: web.Request) -> web.Response:
        async def run() -> web.Response:
            self._auth(request, "get", READ_ROLES)
            incident = self.store.get(request.match_info["id"])
            if request.query.get("$expand") != "alerts":
                incident.pop("alerts", None)
            return web.json_response(incident)

        return await _answer(run)

    async def _patch(self, request: web.Request) -> web.Response:
        async def run() -> web.Response:
            self._auth(request, "patch", WRITE_ROLES)
            incident = self.store.patch(request.match_info["id"], await _body(request))
            incident.pop("alerts", None)
            return web.json_response(incident)

        return await _answer(run)

    async def _comment(self, request: web.Request) -> web.Response:
        async def run() -> web.Response:
            author = self._auth(request, "comment", WRITE_ROLES)
            comments = self.store.comment(request.match_info["id"], await _body(request), author)
            return web.json_response({"value": comments})

        return await _answer(run)

    async def _stats(self, request: web.Request) -> web.Response:
        return web.json_response(self.stats())


async def _answer(run: Callable[[], Any]) -> web.Response:
    try:
        response: web.Response = await run()
    except GraphError as error:
        logger.info("graph: %d %s", error.status, error.code)
        return web.json_response(
            graph_error_envelope(error.status, error.code, error.message), status=error.status
        )
    return response


async def _body(request: web.Request) -> object:
    try:
        return await request.json()
    except ValueError as error:
        raise GraphError(400, "BadRequest", "The request body is not JSON.") from error


def _int(value: str | None, default: int, name: str) -> int:
    if value is None:
        return default
    if not value.isdigit():
        raise GraphError(400, "BadRequest", f"{name} must be a non-negative integer.")
    return int(value)
