"""The case routes at the edge: bindings, documentation, and answers that need no Azure."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import azure.functions as func
import pytest

from blueprints.elastic_cases import blueprint
from shared.cases.receive import Endpoint

DOCUMENT: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "shared" / "openapi.json").read_text(encoding="utf-8")
)
ROUTES = {
    "elastic_cases_create": ("elastic/cases", Endpoint.CASES),
    "elastic_cases_incident": ("elastic/cases/{id}", Endpoint.CASE),
    "elastic_cases_comment": ("elastic/cases/{id}/comment", Endpoint.COMMENT),
}


def functions() -> dict[str, tuple[Any, Any]]:
    """Function name -> (its HTTP trigger binding, its handler)."""
    app = func.FunctionApp(http_auth_level=func.AuthLevel.FUNCTION)
    app.register_functions(blueprint)
    found: dict[str, tuple[Any, Any]] = {}
    for function in app.get_functions():
        [trigger] = [b for b in function.get_bindings() if b.type == "httpTrigger"]
        found[str(function.get_function_name())] = (trigger, function.get_user_function())
    return found


def test_routes_are_anonymous_and_take_every_method() -> None:
    """Kibana authenticates itself; every method reaches the code (a wrong one is a JSON 405)."""
    triggers = {name: trigger for name, (trigger, _) in functions().items()}
    assert {name: t.route for name, t in triggers.items()} == {
        name: route for name, (route, _) in ROUTES.items()
    }
    for trigger in triggers.values():
        assert trigger.auth_level == func.AuthLevel.ANONYMOUS
        assert len(trigger.methods) == 5


@pytest.mark.parametrize(("route", "endpoint"), ROUTES.values())
def test_openapi_documents_exactly_each_routes_methods(route: str, endpoint: Endpoint) -> None:
    """shared/openapi.json has the route, with the methods it takes and no others."""
    item = DOCUMENT["paths"]["/api/" + route]
    documented = {key.upper() for key in item if key in {"get", "put", "post", "delete", "patch"}}
    assert documented == endpoint.methods


@pytest.mark.parametrize(
    ("name", "method", "allow"),
    [
        ("elastic_cases_create", "DELETE", "GET, PATCH, POST, PUT"),
        ("elastic_cases_incident", "DELETE", "GET, PATCH, POST, PUT"),
        ("elastic_cases_comment", "GET", "PATCH, POST, PUT"),
    ],
)
def test_a_wrong_method_is_a_json_405_before_anything_is_read(
    name: str, method: str, allow: str
) -> None:
    """No settings, no vault: the method alone decides, with Allow and a JSON error."""
    trigger, handler = functions()[name]
    request = func.HttpRequest(
        method,
        "https://app/api/" + trigger.route,
        body=b"{}",
        route_params={"id": "73e01a99-5cd7-4139-a149-9f2736ff2ab5"},
    )
    response = asyncio.run(handler(request))
    assert (response.status_code, response.headers["Allow"]) == (405, allow)
    assert response.mimetype == "application/json"
    assert json.loads(response.get_body())["error"]["code"] == "MethodNotAllowed"
