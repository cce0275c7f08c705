"""The ``/_emulator/`` admin routes of the ingestion emulator, over its store.

Loopback developer tool: these routes take no authentication, like the rest of the
emulators' admin surface. Never expose an emulator beyond 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from aiohttp import web

from local.emulators.faults import ADMIN_PREFIX, FaultPlan, fault_admin_routes
from local.emulators.ingestion_store import IngestionError, IngestionStore, StoredRow


def row_to_json(row: StoredRow) -> dict[str, Any]:
    """A stored row as JSON (the receive time as ISO-8601)."""
    return {
        "stream": row.stream,
        "received_at": row.received_at.isoformat(),
        "client_request_id": row.client_request_id,
        "row": row.row,
    }


def error_to_json(error: IngestionError) -> dict[str, Any]:
    """An error-log entry as JSON."""
    entry = dataclasses.asdict(error)
    entry["time"] = error.time.isoformat()
    return entry


def ingestion_admin_routes(store: IngestionStore, faults: FaultPlan) -> list[web.RouteDef]:
    """Rows, errors, stats, faults and the role switch of one ingestion store.

    Args:
        store: The emulator's rows, errors, counters and role switch.
        faults: The emulator's planned faults.

    Returns:
        Routes for ``Application.add_routes``.
    """

    async def get_rows(request: web.Request) -> web.Response:
        rows = store.rows(request.query.get("stream"))
        return web.json_response({"rows": [row_to_json(r) for r in rows]})

    async def delete_rows(request: web.Request) -> web.Response:
        store.clear_rows(request.query.get("stream"))
        return web.Response(status=204)

    async def get_errors(request: web.Request) -> web.Response:
        return web.json_response({"errors": [error_to_json(e) for e in store.errors()]})

    async def delete_errors(request: web.Request) -> web.Response:
        store.clear_errors()
        return web.Response(status=204)

    async def get_stats(request: web.Request) -> web.Response:
        return web.json_response(store.stats())

    async def set_role(request: web.Request) -> web.Response:
        payload = await request.json()
        if not isinstance(payload, dict) or not isinstance(payload.get("assigned"), bool):
            return web.json_response({"error": 'expected {"assigned": true|false}'}, status=400)
        store.role_missing = not payload["assigned"]
        return web.json_response({"assigned": payload["assigned"]})

    return [
        web.get(ADMIN_PREFIX + "rows", get_rows),
        web.delete(ADMIN_PREFIX + "rows", delete_rows),
        web.get(ADMIN_PREFIX + "errors", get_errors),
        web.delete(ADMIN_PREFIX + "errors", delete_errors),
        web.get(ADMIN_PREFIX + "stats", get_stats),
        web.post(ADMIN_PREFIX + "role", set_role),
        *fault_admin_routes(faults),
    ]
