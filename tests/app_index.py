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


def http_routes() -> dict[str, frozenset[str]]:
    """``/api/<route>`` -> the methods its HTTP trigger binding accepts."""
    routes: dict[str, frozenset[str]] = {}
    for function in functions():
        for binding in json.loads(function.get_function_json())["bindings"]:
            if binding["type"] == "httpTrigger":
                routes["/api/" + binding["route"]] = frozenset(binding.get("methods") or ())
    return routes
