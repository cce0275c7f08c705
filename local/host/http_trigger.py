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
``functionTimeout``; an invocation answered below 500 is logged at DEBUG, and at INFO only
within a per-function summary every 10 s (``local.host.summary``; the real host logs
"Executed" for each), while a 5xx, a non-HttpResponse result or an exception is still
logged once per invocation.
"""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from aiohttp import hdrs, web
from aiohttp.web_request import BaseRequest
from multidict import CIMultiDict

from local.host.config import FunctionKeys
from local.host.hardening import Limits, answer_expect, read_body
from local.host.invoke import invoke
from local.host.loader import LoadedFunction
from local.host.routes import RouteTable
from local.host.summary import InvocationSummary

logger = logging.getLogger(__name__)

_KEY_HEADER = "x-functions-key"
_ADMIN_METHODS = frozenset({"GET", "HEAD"})
_URL_CACHE_SIZE = 1024


@dataclass(frozen=True)
class _HttpFunction:
    # What dispatch needs of a function's trigger, read once rather than per request.
    function: LoadedFunction
    template: str
    methods: frozenset[str] | None
    auth_level: str

    def allows(self, method: str) -> bool:
        return self.methods is None or method.upper() in self.methods


class HttpTriggers:
    """Dispatches requests to the app's HTTP-triggered functions.

    Args:
        functions: Every function of the app (non-HTTP ones are listed, not routed).
        route_prefix: host.json ``extensions.http.routePrefix`` ("" for none).
        keys: The master key and host-wide function keys.
        limits: Body size and read timeouts (defaults: ``Limits()``).
        summary: Where invocations answered below 500 are counted (a fresh one by default).
    """

    def __init__(
        self,
        functions: Sequence[LoadedFunction],
        route_prefix: str,
        keys: FunctionKeys,
        limits: Limits | None = None,
        summary: InvocationSummary | None = None,
    ) -> None:
        self._functions = functions
        self._limits = limits or Limits()
        self._keys = keys
        self._route_prefix = route_prefix
        self.summary = summary or InvocationSummary()
        self._urls: dict[tuple[str, str, str], str] = {}
        self._admin: dict[str, Callable[[BaseRequest], Awaitable[web.Response]]] = {
            "/admin/host/status": self._host_status,
            "/admin/functions": self._list_functions,
        }
        self._routes = RouteTable(
            (self._template(f), self._http_function(f))
            for f in functions
            if f.trigger_type == "httpTrigger"
        )

    async def handle(self, request: BaseRequest) -> web.StreamResponse:
        """Every request: the admin endpoints (GET or HEAD), then the functions.

        This stands in for an aiohttp router with those two GET routes and a catch-all,
        and answers the ``Expect`` header as the router did (``answer_expect``).
        """
        if request.headers.get(hdrs.EXPECT):
            refused = await answer_expect(request)
            if refused is not None:
                return refused
        if request.method in _ADMIN_METHODS:
            admin = self._admin.get(request.rel_url.path_safe)
            if admin is not None:
                return await admin(request)
        return await self._dispatch(request)

    def _template(self, function: LoadedFunction) -> str:
        route = str(function.trigger.get("route") or function.name)
        return "/".join(part for part in (self._route_prefix, route.strip("/")) if part)

    def _http_function(self, function: LoadedFunction) -> _HttpFunction:
        methods = function.trigger.get("methods")
        return _HttpFunction(
            function,
            self._template(function),
            frozenset(str(m).upper() for m in methods) if methods else None,
            str(function.trigger.get("authLevel") or "function").lower(),
        )

    async def _host_status(self, request: BaseRequest) -> web.Response:
        return web.json_response({"state": "Running"})

    async def _list_functions(self, request: BaseRequest) -> web.Response:
        if not self._authorized(request, "admin"):
            return web.Response(status=401)
        listing: list[dict[str, Any]] = []
        for function in self._functions:
            entry: dict[str, Any] = {"name": function.name, "trigger": function.trigger}
            if function.trigger_type == "httpTrigger":
                entry["invoke_url_template"] = f"{request.url.origin()}/{self._template(function)}"
            listing.append(entry)
        return web.json_response(listing)

    async def _dispatch(self, request: BaseRequest) -> web.StreamResponse:
        method = request.method
        candidates = self._routes.match(request.raw_path.split("?", 1)[0])
        chosen = next(
            ((target, params) for target, params in candidates if target.allows(method)),
            None,
        )
        if chosen is None:
            return web.Response(status=404)
        target, route_params = chosen
        function = target.function
        if not self._authorized(request, target.auth_level):
            logger.info("401 for %s: no valid key for %s level", function.name, target.auth_level)
            return web.Response(status=401)
        body = await read_body(request, self._limits)
        if isinstance(body, web.Response):
            return body
        query = request.query
        http_request = func.HttpRequest(
            method=method,
            url=self._url(request),
            headers=_joined_headers(request.headers.items()),
            params={key: query.getone(key) for key in query} if query else {},
            route_params=route_params,
            body=body,
        )
        started = time.perf_counter()
        try:
            result = await invoke(
                function,
                http_request,
                trigger_detail=f"{method} {target.template}",
                describe_result=_describe_response,
                success_level=_success_level,
            )
        except Exception:  # noqa: BLE001  # logged with its traceback by invoke()
            self._count(function, 500, started)
            return web.Response(status=500)
        if not isinstance(result, func.HttpResponse):
            self._count(function, 500, started)
            logger.error(
                "%s returned %s, not an HttpResponse", function.name, type(result).__name__
            )
            return web.Response(status=500)
        self._count(function, result.status_code, started)
        return _to_aiohttp(result)

    def _url(self, request: BaseRequest) -> str:
        # str(request.url) is a pure function of these three, and yarl's join is not cheap.
        key = (request.scheme, request.host, request.raw_path)
        url = self._urls.get(key)
        if url is None:
            url = str(request.url)
            if len(self._urls) >= _URL_CACHE_SIZE:
                del self._urls[next(iter(self._urls))]  # bounded: forget the oldest
            self._urls[key] = url
        return url

    def _count(self, function: LoadedFunction, status: int, started: float) -> None:
        self.summary.record(function.name, status, (time.perf_counter() - started) * 1000)

    def _authorized(self, request: BaseRequest, level: str) -> bool:
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


def _joined_headers(items: Iterable[tuple[str, str]]) -> dict[str, str]:
    # Repeated request headers reach the function joined with ", ", as HTTP allows.
    joined: dict[str, str] = {}
    for name, value in items:
        joined[name] = f"{joined[name]}, {value}" if name in joined else value
    return joined


def _describe_response(result: Any) -> str:
    status = getattr(result, "status_code", None)
    return f"Succeeded, status {status}" if status is not None else "Succeeded"


def _success_level(result: Any) -> int:
    # Answers below 500 go to the summary; the rest stay one INFO line each.
    if isinstance(result, func.HttpResponse) and result.status_code < 500:
        return logging.DEBUG
    return logging.INFO


def _to_aiohttp(response: func.HttpResponse) -> web.Response:
    # The worker's rule: text/* types carry the charset, others do not.
    mimetype = response.mimetype
    charset = response.charset if mimetype.startswith("text/") else None
    if not response.headers and "charset" not in mimetype:
        # The usual case; aiohttp writes the same "type; charset=x" value (and refuses a
        # content_type that names a charset itself, hence the test).
        return web.Response(
            status=response.status_code,
            body=response.get_body(),
            content_type=mimetype,
            charset=charset,
        )
    # werkzeug Headers: a list of pairs, repeated names kept (one C call builds the copy).
    headers: CIMultiDict[str] = CIMultiDict(response.headers.items())
    if "Content-Type" not in headers:
        headers["Content-Type"] = f"{mimetype}; charset={charset}" if charset else mimetype
    return web.Response(status=response.status_code, body=response.get_body(), headers=headers)
