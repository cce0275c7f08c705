"""``/api/elastic/cases``: Kibana's "Webhook - Case Management" connector, on Sentinel.

- ``POST /api/elastic/cases``: create (or, repeated, find) the case's incident;
- ``GET|PUT /api/elastic/cases/{id}``: read it, or apply the case's fields to it;
- ``PUT /api/elastic/cases/{id}/comment``: add a comment to it.

Anonymous at the Functions level, like ``/api/elastic/alerts``: Kibana authenticates with
the same Basic credentials or token (``shared.cases.receive``). Every method reaches the
code, so a wrong one is a JSON 405 with ``Allow``.
"""

from __future__ import annotations

import azure.functions as func

from blueprints.http import ALL_METHODS, answer
from shared.bootstrap import root
from shared.cases.receive import Endpoint

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@blueprint.function_name("elastic_cases_create")
@blueprint.route(
    route="elastic/cases", methods=list(ALL_METHODS), auth_level=func.AuthLevel.ANONYMOUS
)
async def elastic_cases_create(req: func.HttpRequest) -> func.HttpResponse:
    """Create the Sentinel incident for a Kibana case; answers its id and title."""
    return await answer(root().case_endpoint(Endpoint.CASES), req)


@blueprint.function_name("elastic_cases_incident")
@blueprint.route(
    route="elastic/cases/{id}", methods=list(ALL_METHODS), auth_level=func.AuthLevel.ANONYMOUS
)
async def elastic_cases_incident(req: func.HttpRequest) -> func.HttpResponse:
    """GET: the incident's id and title. PUT: apply the case's fields to it."""
    incident = req.route_params.get("id", "")
    return await answer(root().case_endpoint(Endpoint.CASE, incident), req)


@blueprint.function_name("elastic_cases_comment")
@blueprint.route(
    route="elastic/cases/{id}/comment",
    methods=list(ALL_METHODS),
    auth_level=func.AuthLevel.ANONYMOUS,
)
async def elastic_cases_comment(req: func.HttpRequest) -> func.HttpResponse:
    """Add the case's comment to the incident (once, however often it is sent)."""
    incident = req.route_params.get("id", "")
    return await answer(root().case_endpoint(Endpoint.COMMENT, incident), req)
