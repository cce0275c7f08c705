"""HTTP triggers and the two admin endpoints, served with aiohttp on 127.0.0.1.

As in the real host: routes under ``routePrefix`` matched case-insensitively, most
specific template first; a path no function serves, or a method none allows (HEAD on a
GET-only route included), is an empty 404 (azure-functions-host issues #10098, #11625);
FUNCTION level takes a function key or the master key, ADMIN only the master key, from
``x-functions-key`` or ``?code=``; a missing or wrong key is 401 with an empty body; an
unhandled exception is 500 with an empty body; a body over
``FUNCTIONS_REQUEST_BODY_SIZE_LIMIT`` is refused (413, from its declared length before it
is read; see ``local.host.hardening`` for that, the read timeouts and the error replies
that never echo request bytes).

Differences: ``/admin/host/status`` answers without a key (it is the readiness probe;
in Azure the admin API needs the master key); only ``/admin/host/status`` and
``/admin/functions`` exist; a repeated query parameter reaches the function with its first
value; no per-function keys, only the host-wide ones in the keys file; no
``functionTimeout``.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import azure.functions as func
from aiohttp import web
from multidict import CIMultiDict

from local.host.config import FunctionKeys
from local.host.hardening import Limits, read_body
from local.host.invoke import invoke
from local.host.loader import LoadedFunction
from local.host.routes import RouteTable

logger = logging.getLogger(__name__)

_KEY_HEADER = "x-functions-key"


class HttpTriggers:
    """Dispatches requests to the app's HTTP-triggered functions.

    Args:
        functions: Every function of the app (non-HTTP ones are listed, not routed).
        route_prefix: host.json ``extensions.http.routePrefix`` ("" for none).
        keys: The master key and host-wide function keys.
        limits: Body size and read timeouts (defaults: ``Limits()``).
    """

    def __init__(
        self,
        functions: Sequence[LoadedFunction],
        route_prefix: str,
        keys: FunctionKeys,
        limits: Limits | None = None,
    ) -> None:
        self._functions = functions
        self._limits = limits or Limits()
        self._keys = keys
        self._route_prefix = route_prefix
        http_functions = [f for f in functions if f.trigger_type == "httpTrigger"]
        self._routes = RouteTable((self._template(f), f) for f in http_functions)

    def build_app(self) -> web.Application:
        """The aiohttp application: admin endpoints, then everything else to the functions."""
        app = web.Application(client_max_size=self._limits.body_bytes)
        app.router.add_get("/admin/host/status", self._host_status)
        app.router.add_get("/admin/functions", self._list_functions)
        app.router.add_route("*", "/{tail:.*}", self._dispatch)
        return app

    def _template(self, function: LoadedFunction) -> str:
        route = str(function.trigger.get("route") or function.name)
        return "/".join(part for part in (self._route_prefix, route.strip("/")) if part)

    async def _host_status(self, request: web.Request) -> web.Response:
        return web.json_response({"state": "Running"})

    async def _list_functions(self, request: web.Request) -> web.Response:
        if not self._authorized(request, "admin"):
            return web.Response(status=401)
        listing: list[dict[str, Any]] = []
        for function in self._functions:
            entry: dict[str, Any] = {"name": function.name, "trigger": function.trigger}
            if function.trigger_type == "httpTrigger":
                entry["invoke_url_template"] = f"{request.url.origin()}/{self._template(function)}"
            listing.append(entry)
        return web.json_response(listing)

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        candidates = self._routes.match(request.raw_path.split("?", 1)[0])
        chosen = next(
            (
                (function, params)
                for function, params in candidates
                if _allows(function, request.method)
            ),
            None,
        )
        if chosen is None:
            return web.Response(status=404)
        function, route_params = chosen
        level = str(function.trigger.get("authLevel") or "function").lower()
        if not self._authorized(request, level):
            logger.info("401 for %s: no valid key for %s level", function.name, level)
            return web.Response(status=401)
        body = await read_body(request, self._limits)
        if isinstance(body, web.Response):
            return body
        http_request = func.HttpRequest(
            method=request.method,
            url=str(request.url),
            headers=_joined_headers(request.headers.items()),
            params={key: request.query.getone(key) for key in request.query},
            route_params=route_params,
            body=body,
        )
        try:
            result = await invoke(
                function,
                http_request,
                trigger_detail=f"{request.method} {self._template(function)}",
                describe_result=_describe_response,
            )
        except Exception:  # noqa: BLE001  # logged with its traceback by invoke()
            return web.Response(status=500)
        if not isinstance(result, func.HttpResponse):
            logger.error(
                "%s returned %s, not an HttpResponse", function.name, type(result).__name__
            )
            return web.Response(status=500)
        return _to_aiohttp(result)

    def _authorized(self, request: web.Request, level: str) -> bool:
        if level == "anonymous":
            return True
        supplied = request.headers.get(_KEY_HEADER) or request.query.get("code") or ""
        if not supplied:
            return False
        accepted = [self._keys.master_key]
        if level != "admin":
            accepted.extend(self._keys.function_keys.values())
        # Compare against every key, in constant time each, so timing says nothing.
        matches = [hmac.compare_digest(supplied.encode(), key.encode()) for key in accepted]
        return any(matches)


def _allows(function: LoadedFunction, method: str) -> bool:
    methods = function.trigger.get("methods")
    return not methods or method.upper() in {str(m).upper() for m in methods}


def _joined_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    # Repeated request headers reach the function joined with ", ", as HTTP allows.
    joined: dict[str, str] = {}
    for name, value in items:
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


def _describe_response(result: Any) -> str:
    status = getattr(result, "status_code", None)
    return f"Succeeded, status {status}" if status is not None else "Succeeded"


def _to_aiohttp(response: func.HttpResponse) -> web.Response:
    headers: CIMultiDict[str] = CIMultiDict()
    for name, value in response.headers.items():
        headers.add(name, value)
    if "Content-Type" not in headers:
        # The worker's rule: text/* types carry the charset, others do not.
        mimetype = response.mimetype
        headers["Content-Type"] = (
            f"{mimetype}; charset={response.charset}" if mimetype.startswith("text/") else mimetype
        )
    return web.Response(status=response.status_code, body=response.get_body(), headers=headers)
