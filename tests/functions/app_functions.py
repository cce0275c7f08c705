"""The app's functions, indexed once (``app.get_functions()`` is not idempotent)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import cache
from typing import Any

import azure.functions as func

from tests.app_index import functions


@cache
def user_functions() -> dict[str, Callable[..., Any]]:
    """Function name -> the undecorated handler, as the host would call it."""
    return {f.get_function_name(): f.get_user_function() for f in functions()}


def call_http(name: str, request: func.HttpRequest) -> func.HttpResponse:
    """Invoke an HTTP function the way the worker does (awaiting it if async)."""
    result = user_functions()[name](request)
    if asyncio.iscoroutine(result):
        result = asyncio.run(result)
    assert isinstance(result, func.HttpResponse)
    return result


def fig_request(
    event: str,
    body: bytes,
    *,
    authorization: str | None,
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> func.HttpRequest:
    """A request as the host builds it for ``/api/fig/{event}``."""
    all_headers = {"Content-Type": "application/json; charset=utf-8", **(headers or {})}
    if authorization is not None:
        all_headers["Authorization"] = authorization
    return func.HttpRequest(
        method=method,
        url=f"http://localhost:7071/api/fig/{event}",
        headers=all_headers,
        params={},
        route_params={"event": event},
        body=body,
    )
