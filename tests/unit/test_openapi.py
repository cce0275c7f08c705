"""shared/openapi.json (served at /api/openapi.json) stays accurate to the code."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from shared import errors
from shared.config.ingest import NAME
from shared.errors import MethodNotAllowed
from shared.sources import elastic_alerts, fig, fig_contracts, ingest, wallarm
from tests.app_index import http_routes

DOCUMENT: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "shared" / "openapi.json").read_text(encoding="utf-8")
)
OPERATIONS = {"get", "put", "post", "delete", "patch"}


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/fig/{event}", fig.ROUTE.methods),
        ("/api/wallarm", wallarm.ROUTE.methods),
        ("/api/elastic/alerts", elastic_alerts.ROUTE.methods),
        ("/api/ingest/{source}", ingest.route_of("x").methods),
        ("/api/health", frozenset({"GET"})),
    ],
)
def test_each_endpoint_documents_exactly_its_methods(path: str, methods: frozenset[str]) -> None:
    """The methods a source takes are the documented operations; the rest answer 405."""
    documented = {key.upper() for key in DOCUMENT["paths"][path] if key in OPERATIONS}
    assert documented == methods


def test_no_undocumented_or_stale_paths() -> None:
    """Every HTTP route the app registers (admin routes aside) is described, and only those."""
    assert set(DOCUMENT["paths"]) == set(http_routes())


def test_operation_ids_are_unique() -> None:
    """Generated clients need one id per operation."""
    ids = [
        op["operationId"]
        for item in DOCUMENT["paths"].values()
        for key, op in item.items()
        if key in OPERATIONS
    ]
    assert len(ids) == len(set(ids))


def test_fig_routes_and_ingest_names_match_the_code() -> None:
    """The Fig route enum and the ingest name pattern are the code's."""
    [event] = DOCUMENT["paths"]["/api/fig/{event}"]["parameters"]
    assert set(event["schema"]["enum"]) == set(fig_contracts.ROUTES)
    [source] = DOCUMENT["paths"]["/api/ingest/{source}"]["parameters"]
    assert source["schema"]["pattern"] == f"^{NAME.pattern}$"


def test_every_error_code_is_documented() -> None:
    """Each code an error body can carry is in the Error schema (undeliverable deliveries
    are dead-lettered by the retry path, never answered over HTTP)."""
    codes = {
        cls.code
        for cls in (*vars(errors).values(), MethodNotAllowed)
        if isinstance(cls, type)
        and issubclass(cls, errors.BridgeError)
        and not issubclass(cls, errors.Undeliverable)
        and cls is not errors.BridgeError
    }
    schema = DOCUMENT["components"]["schemas"]["Error"]["properties"]["error"]
    assert codes == set(schema["properties"]["code"]["enum"])


def test_every_reference_resolves() -> None:
    """Every $ref points at something in the document."""

    def refs(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["$ref"]] if "$ref" in node else []
            return found + [r for value in node.values() for r in refs(value)]
        if isinstance(node, list):
            return [r for value in node for r in refs(value)]
        return []

    for ref in refs(DOCUMENT):
        target: Any = DOCUMENT
        for part in ref.removeprefix("#/").split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        assert isinstance(target, dict), ref
