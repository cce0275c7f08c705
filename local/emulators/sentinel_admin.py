"""The ``/_emulator/`` admin routes of the Sentinel emulator, over its store.

Loopback developer tool: no authentication, like every emulator's admin surface.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from local.emulators.faults import ADMIN_PREFIX, FaultPlan, azure_error_envelope, fault_admin_routes
from local.emulators.sentinel_model import ArmError
from local.emulators.sentinel_store import SentinelStore

_CONFIG_KEYS = {"role", "paging", "raw_next_link", "comments_bump_incident", "reads", "writes"}


def _bad(message: str, status: int = 400) -> web.Response:
    return web.json_response(azure_error_envelope(status, "BadRequest", message), status=status)


def apply_config(store: SentinelStore, payload: dict[str, Any]) -> None:
    """Apply ``PATCH /_emulator/config``: role, paging, nextLink escaping, counters.

    Raises:
        ValueError: An unknown key or value.
    """
    unknown = set(payload) - _CONFIG_KEYS
    if unknown:
        raise ValueError(f"unknown keys: {sorted(unknown)}")
    if "role" in payload:
        store.set_role(payload["role"])
    if "paging" in payload:
        if payload["paging"] not in ("snapshot", "offset"):
            raise ValueError("paging is snapshot or offset")
        store.pager.mode = payload["paging"]
    if "raw_next_link" in payload:
        store.raw_next_link = bool(payload["raw_next_link"])
    if "comments_bump_incident" in payload:
        store.incidents.comments_bump_incident = bool(payload["comments_bump_incident"])
    store.set_ratelimit_remaining(reads=payload.get("reads"), writes=payload.get("writes"))


def sentinel_admin_routes(store: SentinelStore, faults: FaultPlan) -> list[web.RouteDef]:
    """Incidents (list, seed, analyst edit), comments, stats, config and faults.

    Args:
        store: The emulator's incidents, switches and counters.
        faults: The emulator's planned faults.

    Returns:
        Routes for ``Application.add_routes``.
    """

    async def list_incidents(request: web.Request) -> web.Response:
        return web.json_response({"incidents": store.incidents.all()})

    async def seed(request: web.Request) -> web.Response:
        try:
            properties: dict[str, Any] = dict(await request.json())
            incident = store.incidents.seed(
                properties,
                incident_id=properties.pop("incident_id", None),
                alerts=properties.pop("alerts", None),
                entities=properties.pop("entities", None),
            )
        except (ValueError, TypeError, KeyError, ArmError) as exc:
            return _bad(str(exc))
        return web.json_response(incident, status=201)

    async def analyst_edit(request: web.Request) -> web.Response:
        try:
            changes: dict[str, Any] = dict(await request.json())
            incident = store.incidents.analyst_update(request.match_info["id"], changes)
        except ArmError as exc:
            return _bad(exc.message, exc.status)
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        return web.json_response(incident)

    async def comments(request: web.Request) -> web.Response:
        try:
            return web.json_response(
                {"comments": store.incidents.comments(request.match_info["id"])}
            )
        except ArmError as exc:
            return _bad(exc.message, exc.status)

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(store.stats())

    async def configure(request: web.Request) -> web.Response:
        try:
            payload: dict[str, Any] = dict(await request.json())
            apply_config(store, payload)
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        return web.json_response(store.stats())

    return [
        web.get(ADMIN_PREFIX + "incidents", list_incidents),
        web.post(ADMIN_PREFIX + "incidents", seed),
        web.patch(ADMIN_PREFIX + "incidents/{id}", analyst_edit),
        web.get(ADMIN_PREFIX + "incidents/{id}/comments", comments),
        web.get(ADMIN_PREFIX + "stats", stats),
        web.patch(ADMIN_PREFIX + "config", configure),
        *fault_admin_routes(faults),
    ]
