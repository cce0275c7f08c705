"""``GET /api/health`` (function key): settings, tokens, Key Vault and streams, checked live."""

from __future__ import annotations

import os

import azure.functions as func

from blueprints.http import to_response
from shared.bootstrap import build_bridge
from shared.diagnostics.health import run_health
from shared.inbound.intake import Reply

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@blueprint.function_name("health")
@blueprint.route(route="health", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def health(req: func.HttpRequest) -> func.HttpResponse:
    """200 when every check passes, else 503 naming what fails and what to do."""
    report = await run_health(os.environ, build_bridge)
    return to_response(Reply(200 if report.healthy else 503, report.as_json()))
