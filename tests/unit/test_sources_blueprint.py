"""The new routes at the edge: real func.HttpRequest objects, answers that need no Azure."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from typing import Any

import azure.functions as func
import pytest

from blueprints.sources import blueprint

Handler = Callable[[func.HttpRequest], Coroutine[Any, Any, func.HttpResponse]]


def functions() -> dict[str, tuple[Any, Handler]]:
    """Function name -> (its HTTP trigger binding, its handler), as the host indexes them."""
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
    app.register_functions(blueprint)
    found: dict[str, tuple[Any, Handler]] = {}
    for function in app.get_functions():
        [trigger] = [b for b in function.get_bindings() if b.type == "httpTrigger"]
        found[str(function.get_function_name())] = (trigger, function.get_user_function())
    return found


def call(name: str, method: str, route_params: dict[str, str] | None = None) -> func.HttpResponse:
    trigger, handler = functions()[name]
    request = func.HttpRequest(
        method, f"https://app/api/{trigger.route}", body=b"{}", route_params=route_params or {}
    )
    return asyncio.run(handler(request))


def test_routes_are_anonymous_and_take_every_method() -> None:
    """Each sender authenticates itself; the Functions host routes all methods to intake."""
    triggers = {name: trigger for name, (trigger, _) in functions().items()}
    assert {name: t.route for name, t in triggers.items()} == {
        "wallarm_webhook": "wallarm",
        "elastic_alerts_webhook": "elastic/alerts",
        "ingest_webhook": "ingest/{source}",
    }
    for trigger in triggers.values():
        assert trigger.auth_level == func.AuthLevel.ANONYMOUS
        assert len(trigger.methods) == 5


@pytest.mark.parametrize(
    ("name", "allowed"),
    [("wallarm_webhook", "POST, PUT"), ("elastic_alerts_webhook", "POST, PUT")],
)
def test_wrong_method_is_405_with_allow(name: str, allowed: str) -> None:
    """GET is answered 405 with Allow and a JSON error, before any setting is read."""
    response = call(name, "GET")
    assert (response.status_code, response.headers["Allow"]) == (405, allowed)
    assert json.loads(response.get_body())["error"]["code"] == "MethodNotAllowed"


def test_malformed_ingest_source_name_is_404() -> None:
    """A name that cannot be a source is 404 before any setting is read."""
    response = call("ingest_webhook", "POST", {"source": "Not A Name"})
    assert response.status_code == 404
