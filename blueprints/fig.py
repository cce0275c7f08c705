"""``/api/fig/{event}``: Fig's webhooks.

Anonymous at the Functions level on purpose: Fig cannot send a function key and drops
``?code=`` when it builds the URL, so Fig's own secret, checked by the source's
authenticator in the request pipeline, is the gate.
"""

from __future__ import annotations

import azure.functions as func

from blueprints.http import ALL_METHODS, answer
from shared.bootstrap import root
from shared.sources import fig

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@blueprint.function_name("fig_webhook")
@blueprint.route(
    route="fig/{event}", methods=list(ALL_METHODS), auth_level=func.AuthLevel.ANONYMOUS
)
async def fig_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """Receive one Fig webhook; 202 once Sentinel accepted it."""
    event = req.route_params.get("event", "")
    return await answer(root().source_endpoint(fig.ROUTE, event), req)
