"""The workspace's own ARM resources, served beside the Sentinel incidents: tables, the
tables' migrate action, and saved searches (workspace functions).

Paths under ``/subscriptions/{sub}/resourceGroups/{rg}/providers/
Microsoft.OperationalInsights/workspaces/{ws}/``:

- ``tables/{t}`` GET and PUT (``properties.schema.columns``; a PUT adds columns);
- ``tables/{t}/migrate`` POST: a classic table becomes DCR-based (200, no body);
- ``savedSearches/{id}`` GET and PUT (``properties.functionAlias`` + ``query`` saves a
  function the query endpoint can call).

Confirmed (Azure Monitor docs): the paths, ``properties.schema.tableSubType`` (``Classic``,
``DataCollectionRuleBased``), the migrate action's name. Assumed: answer codes and the
api-versions accepted (below); the rest of ARM's front door is :mod:`sentinel_arm`'s.
"""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web

from local.emulators import sentinel_arm as arm
from local.emulators.sentinel_data import WorkspaceRef
from local.emulators.sentinel_model import ArmError
from local.emulators.workspace import LogAnalyticsWorkspace, Table

TABLE_API_VERSIONS = ("2022-10-01", "2023-09-01", "2025-02-01")
SEARCH_API_VERSIONS = ("2020-08-01", "2023-09-01", "2025-02-01")
_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers/"
    r"microsoft\.operationalinsights/workspaces/(?P<ws>[^/]+)/"
    r"(?P<kind>tables|savedsearches)/(?P<name>[^/]+)(?P<action>/migrate)?/?$",
    re.IGNORECASE,
)
_COLUMN_TYPES = {"string", "int", "long", "real", "boolean", "datetime", "dynamic", "guid"}


def handles(path: str) -> bool:
    """Whether the path is a table, its migrate action, or a saved search."""
    return _PATH.match(path) is not None


def _table_body(ref: WorkspaceRef, table: Table) -> dict[str, Any]:
    workspace_id = (
        f"/subscriptions/{ref.subscription_id}/resourceGroups/{ref.resource_group}/providers/"
        f"Microsoft.OperationalInsights/workspaces/{ref.workspace}"
    )
    return {
        "id": f"{workspace_id}/tables/{table.name}",
        "name": table.name,
        "type": "Microsoft.OperationalInsights/workspaces/tables",
        "properties": {
            "plan": "Analytics",
            "provisioningState": "Succeeded",
            "schema": {
                "name": table.name,
                "tableType": "CustomLog",
                "tableSubType": table.sub_type,
                "columns": [{"name": name, "type": kind} for name, kind in table.columns],
            },
        },
    }


def _columns(body: object) -> list[tuple[str, str]]:
    try:
        columns = body["properties"]["schema"]["columns"]  # type: ignore[index]
        parsed = [(str(c["name"]), str(c["type"]).lower()) for c in columns]
    except (KeyError, TypeError) as exc:
        raise ArmError(400, "InvalidParameter", "properties.schema.columns is required.") from exc
    for name, kind in parsed:
        if kind not in _COLUMN_TYPES:
            raise ArmError(400, "InvalidParameter", f"Column {name}: unknown type {kind}.")
    return parsed


def _check_version(request: web.Request, allowed: tuple[str, ...]) -> None:
    version = request.query.get("api-version")
    if version not in allowed:
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are "
            f"'{','.join(allowed)}'.",
        )


async def serve(
    request: web.Request, workspace: LogAnalyticsWorkspace, ref: WorkspaceRef, now: float
) -> web.Response:
    """Answer one table or saved-search request.

    Raises:
        ArmError: ARM's 400, 401 or 404.
    """
    match = _PATH.match(request.path)
    if match is None:
        raise ArmError(404, "NotFound", f"No route for {request.method} {request.path}.")
    arm.authenticate(request, now)
    arm.check_workspace(ref, (match["sub"], match["rg"], match["ws"]))
    name = match["name"]
    if match["kind"].lower() == "savedsearches":
        _check_version(request, SEARCH_API_VERSIONS)
        return await _saved_search(request, workspace, name)
    _check_version(request, TABLE_API_VERSIONS)
    if match["action"]:
        if request.method != "POST":
            raise ArmError(404, "NotFound", f"No route for {request.method} {request.path}.")
        workspace.migrate(name)
        return web.Response(status=200)
    if request.method == "GET":
        table = workspace.table(name)
        if table is None:
            raise ArmError(404, "ResourceNotFound", f"Table {name} was not found.")
        return web.json_response(_table_body(ref, table))
    if request.method == "PUT":
        table, created = workspace.put_table(name, _columns(await arm.json_body(request)))
        return web.json_response(_table_body(ref, table), status=201 if created else 200)
    raise ArmError(404, "NotFound", f"No route for {request.method} {request.path}.")


async def _saved_search(
    request: web.Request, workspace: LogAnalyticsWorkspace, name: str
) -> web.Response:
    if request.method == "PUT":
        body = await arm.json_body(request)
        try:
            properties = body["properties"]  # type: ignore[index]
            alias, query = str(properties["functionAlias"]), str(properties["query"])
        except (KeyError, TypeError) as exc:
            message = "properties.functionAlias and properties.query are required."
            raise ArmError(400, "InvalidParameter", message) from exc
        workspace.put_function(alias, query)
        return web.json_response({"name": name, "properties": properties})
    if request.method == "GET":
        return web.json_response({"name": name, "value": workspace.functions()})
    raise ArmError(404, "NotFound", f"No route for {request.method} {request.path}.")
