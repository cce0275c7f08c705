"""The app's functions, indexed once per test process (``get_functions()`` is not idempotent)."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import function_app


@cache
def functions() -> tuple[Any, ...]:
    """The FunctionBuilder-made functions, as the host indexes them."""
    return tuple(function_app.app.get_functions())


def http_routes(*, include_admin: bool = False) -> dict[str, frozenset[str]]:
    """``/api/<route>`` -> the methods its HTTP trigger binding accepts.

    Admin-level routes (operators' tools, master key only) are left out unless asked for.
    """
    routes: dict[str, frozenset[str]] = {}
    for function in functions():
        for binding in json.loads(function.get_function_json())["bindings"]:
            if binding["type"] != "httpTrigger":
                continue
            if binding.get("authLevel") == "ADMIN" and not include_admin:
                continue
            routes["/api/" + binding["route"]] = frozenset(binding.get("methods") or ())
    return routes
