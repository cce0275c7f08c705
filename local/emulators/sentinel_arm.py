"""ARM front-door pieces of the Sentinel emulator: routing, auth, api-version, errors.

Confirmed by the reference (sentinel-incidents.md section 2): the token audience
``https://management.azure.com/`` and ``$top`` at most 1000. Assumed (ARM behaviour as
commonly seen, not in the reference): the 401 codes ``AuthenticationFailed``,
``InvalidAuthenticationTokenAudience``, ``ExpiredAuthenticationToken`` and
``InvalidAuthenticationToken``; ``management.core.windows.net`` accepted as an audience too;
``MissingApiVersionParameter``/``InvalidApiVersionParameter`` (the reference saw ``400
UnsupportedApiVersion`` when 2020-01-01 was retired); ``SubscriptionNotFound``,
``ResourceGroupNotFound``, ``ResourceNotFound`` and ``AuthorizationFailed`` with ARM's usual
wording; ``$top`` as the page size.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from aiohttp import web

from local.emulators.faults import azure_error_envelope
from local.emulators.sentinel_data import WorkspaceRef
from local.emulators.sentinel_filter import SortKey, parse_utc
from local.emulators.sentinel_model import ArmError
from local.emulators.tokens import check_bearer, decode_claims

ARM_AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")
API_VERSIONS = ("2021-10-01", "2024-03-01", "2024-09-01", "2025-06-01")
AUTHORIZATION_API_VERSIONS = ("2015-07-01", "2018-01-01-preview", "2022-04-01")
MAX_TOP = 1000
WORKSPACE_PATH = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourcegroups/(?P<rg>[^/]+)/providers/"
    r"microsoft\.operationalinsights/workspaces/(?P<ws>[^/]+)/providers/(?P<rest>.+?)/?$",
    re.IGNORECASE,
)
_INCIDENT = r"^microsoft\.securityinsights/incidents"
_OPERATIONS: list[tuple[str, re.Pattern[str], str]] = [
    ("GET", re.compile(r"^microsoft\.authorization/permissions$", re.I), "permissions"),
    ("GET", re.compile(_INCIDENT + r"$", re.I), "list"),
    ("GET", re.compile(_INCIDENT + r"/([^/]+)$", re.I), "get"),
    ("PUT", re.compile(_INCIDENT + r"/([^/]+)$", re.I), "put"),
    ("GET", re.compile(_INCIDENT + r"/([^/]+)/comments$", re.I), "comments"),
    ("PUT", re.compile(_INCIDENT + r"/([^/]+)/comments/([^/]+)$", re.I), "comment"),
    ("POST", re.compile(_INCIDENT + r"/([^/]+)/alerts$", re.I), "alerts"),
    ("POST", re.compile(_INCIDENT + r"/([^/]+)/entities$", re.I), "entities"),
]
# tokens.check_bearer's problem codes -> ARM's 401 code and message (assumed from ARM).
_AUTH_ERRORS = {
    "MissingToken": (
        "AuthenticationFailed",
        "Authentication failed. The 'Authorization' header is missing.",
    ),
    "InvalidAudience": (
        "InvalidAuthenticationTokenAudience",
        "The access token has been obtained for wrong audience or resource. It should exactly "
        "match with one of the allowed audiences 'https://management.core.windows.net/',"
        "'https://management.core.windows.net','https://management.azure.com/',"
        "'https://management.azure.com'.",
    ),
    "ExpiredToken": (
        "ExpiredAuthenticationToken",
        "The access token expiry UTC time is earlier than current UTC time.",
    ),
}


def route(method: str, path: str) -> tuple[str, tuple[str, ...], tuple[str, str, str]]:
    """Find the operation of a request.

    Returns:
        The operation name, its path arguments, and (subscription, group, workspace).

    Raises:
        ArmError: 404 for a path or method the emulator does not serve.
    """
    match = WORKSPACE_PATH.match(path)
    if match is not None:
        for verb, pattern, operation in _OPERATIONS:
            found = pattern.match(match["rest"])
            if found is not None and verb == method:
                return operation, found.groups(), (match["sub"], match["rg"], match["ws"])
    raise ArmError(404, "NotFound", f"No route for {method} {path}.")


def authenticate(request: web.Request, now: float) -> dict[str, Any]:
    """Check the bearer token's audience and expiry; return its claims.

    Raises:
        ArmError: 401 with ARM's code for the problem.
    """
    problem = None
    for audience in ARM_AUDIENCES:
        problem = check_bearer(request, audience, now)
        if problem is None or problem.code != "InvalidAudience":
            break
    if problem is None:
        return decode_claims(request.headers["Authorization"].partition(" ")[2].strip())
    code, message = _AUTH_ERRORS.get(problem.code, ("InvalidAuthenticationToken", problem.message))
    raise ArmError(401, code, message)


def check_api_version(request: web.Request, operation: str) -> str:
    """Return the request's api-version if the operation accepts it.

    Raises:
        ArmError: 400 when it is missing or not supported.
    """
    version = request.query.get("api-version")
    if not version:
        raise ArmError(
            400,
            "MissingApiVersionParameter",
            "The api-version query parameter (?api-version=) is required for all requests.",
        )
    allowed = AUTHORIZATION_API_VERSIONS if operation == "permissions" else API_VERSIONS
    if version not in allowed:
        raise ArmError(
            400,
            "InvalidApiVersionParameter",
            f"The api-version '{version}' is invalid. The supported versions are "
            f"'{','.join(allowed)}'.",
        )
    return version


def check_workspace(ref: WorkspaceRef, names: tuple[str, str, str]) -> None:
    """Compare the path's subscription, group and workspace with the emulated one.

    Raises:
        ArmError: 404 naming the first part that does not exist.
    """
    subscription, group, workspace = names
    if subscription.lower() != ref.subscription_id.lower():
        raise ArmError(
            404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found."
        )
    if group.lower() != ref.resource_group.lower():
        raise ArmError(
            404, "ResourceGroupNotFound", f"Resource group '{group}' could not be found."
        )
    if workspace.lower() != ref.workspace.lower():
        raise ArmError(
            404,
            "ResourceNotFound",
            f"The Resource 'Microsoft.OperationalInsights/workspaces/{workspace}' under "
            f"resource group '{group}' was not found.",
        )


def forbidden(claims: dict[str, Any], action: str, scope: str) -> ArmError:
    """ARM's 403 for a principal whose role lacks ``action``."""
    return ArmError(
        403,
        "AuthorizationFailed",
        f"The client '{claims.get('appid')}' with object id '{claims.get('oid')}' does not "
        f"have authorization to perform action '{action}' over scope '{scope}' or the scope "
        "is invalid. If access was recently granted, please refresh your credentials.",
    )


def parse_top(value: str | None, default: int) -> int:
    """Read ``$top`` (the page size), 1 to 1000.

    Raises:
        ArmError: 400 outside that range.
    """
    if value is None:
        return default
    if not value.isdigit() or not 1 <= int(value) <= MAX_TOP:
        raise ArmError(400, "BadRequest", f"$top must be an integer from 1 to {MAX_TOP}.")
    return int(value)


def sort_incidents(items: list[dict[str, Any]], order: list[SortKey]) -> list[dict[str, Any]]:
    """Order incidents by ``$orderby`` keys; ties by name, so pages are deterministic."""

    def key_of(name: str) -> Callable[[dict[str, Any]], Any]:
        if name == "incidentNumber":
            return lambda item: item["properties"]["incidentNumber"]
        return lambda item: parse_utc(item["properties"][name])

    result = sorted(items, key=lambda item: str(item["name"]))
    for name, descending in reversed(order):
        result.sort(key=key_of(name), reverse=descending)
    return result


def next_link(request: web.Request, top: int, token: str, *, raw: bool) -> str:
    """The list's ``nextLink``: same path, api-version, filter and order, new skip token.

    Keys keep a literal ``$`` so azure-core, which merges the SDK's own query parameters
    into a nextLink by exact key, lets the link's values win.
    """

    def encode(value: str) -> str:
        return value if raw else quote(value, safe="")

    params = [("api-version", request.query["api-version"])]
    params += [(k, request.query[k]) for k in ("$filter", "$orderby") if k in request.query]
    params += [("$top", str(top)), ("$skipToken", token)]
    query = "&".join(f"{key}={encode(value)}" for key, value in params)
    return f"{request.scheme}://{request.host}{request.path}?{query}"


async def json_body(request: web.Request) -> object:
    """The request's JSON body.

    Raises:
        ArmError: 400 ``InvalidRequestContent`` when it is not JSON.
    """
    try:
        return await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArmError(
            400, "InvalidRequestContent", "The request content is not valid JSON."
        ) from exc


def error_response(error: ArmError) -> web.Response:
    """ARM's ``{"error": {"code", "message"}}`` answer, with a bearer challenge on 401."""
    headers = {}
    if error.status == 401:
        headers["WWW-Authenticate"] = (
            'Bearer authorization_uri="https://login.windows.net/", error="invalid_token"'
        )
    return web.json_response(
        azure_error_envelope(error.status, error.code, error.message),
        status=error.status,
        headers=headers,
    )
