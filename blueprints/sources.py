"""``/api/wallarm``, ``/api/elastic/alerts``, ``/api/ingest/{source}``: sources after Fig.

Anonymous at the Functions level, like Fig: each sender proves itself to its source's
authenticator in the request pipeline (a header token, Basic or a token, a Standard
Webhooks signature), and none of them can be relied on to keep a ``?code=`` key or send
``x-functions-key``.
"""

from __future__ import annotations

import azure.functions as func

from blueprints.http import ALL_METHODS, answer
from shared.bootstrap import root
from shared.sources import elastic_alerts, ingest, wallarm

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@blueprint.function_name("wallarm_webhook")
@blueprint.route(route="wallarm", methods=list(ALL_METHODS), auth_level=func.AuthLevel.ANONYMOUS)
async def wallarm_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """Receive a batch of Wallarm notifications; 202 once Sentinel accepted every row."""
    return await answer(root().source_endpoint(wallarm.ROUTE), req)


@blueprint.function_name("elastic_alerts_webhook")
@blueprint.route(
    route="elastic/alerts", methods=list(ALL_METHODS), auth_level=func.AuthLevel.ANONYMOUS
)
async def elastic_alerts_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """Receive alerts from Kibana's Webhook connector; 202 once Sentinel accepted them."""
    return await answer(root().source_endpoint(elastic_alerts.ROUTE), req)


@blueprint.function_name("ingest_webhook")
@blueprint.route(
    route="ingest/{source}", methods=list(ALL_METHODS), auth_level=func.AuthLevel.ANONYMOUS
)
async def ingest_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """Receive one Standard Webhooks message for a source listed in INGEST_SOURCES."""
    route = req.route_params.get("source", "")
    return await answer(root().source_endpoint(ingest.route_of(route), route), req)
