"""Between ``func.HttpRequest``/``HttpResponse`` and the pipeline's plain request and reply."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import azure.functions as func

from shared.bootstrap import root
from shared.inbound.pipeline import Endpoint, InboundRequest, Reply, serve

ALL_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
_COMPACT = json.JSONEncoder(separators=(",", ":"))  # built once, not per reply


def inbound(req: func.HttpRequest) -> InboundRequest:
    """The request as the services see it: lower-case header names, raw body bytes."""
    return InboundRequest(
        method=req.method,
        headers=dict(req.headers.items()),  # azure.functions keeps the names lower-case
        body=req.get_body(),
        received=datetime.now(UTC),
        params=dict(req.params),
    )


def to_response(reply: Reply) -> func.HttpResponse:
    """A JSON response for ``reply``."""
    return func.HttpResponse(
        _COMPACT.encode(reply.body),
        status_code=reply.status,
        headers=reply.headers,
        mimetype="application/json",
        charset="utf-8",
    )


async def answer(endpoint: Endpoint, req: func.HttpRequest) -> func.HttpResponse:
    """Every HTTP function's body: the request through the pipeline, the reply as JSON."""
    return to_response(await serve(endpoint, inbound(req), root().telemetry))
