"""``GET /api/health`` (function key): settings, tokens, Key Vault and streams, checked live."""

from __future__ import annotations

import azure.functions as func

from blueprints.http import answer
from shared.bootstrap import root

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@blueprint.function_name("health")
@blueprint.route(route="health", methods=["GET"], auth_level=func.AuthLevel.FUNCTION)
async def health(req: func.HttpRequest) -> func.HttpResponse:
    """200 when every check passes, else 503 naming what fails and what to do."""
    return await answer(root().health_endpoint(), req)
