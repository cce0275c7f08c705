"""``/api/fig/{event}``: Fig's webhooks.

Anonymous at the Functions level on purpose: Fig cannot send a function key and drops
``?code=`` when it builds the URL, so Fig's own secret, checked in ``shared.inbound.intake``,
is the gate.
"""

from __future__ import annotations

import azure.functions as func

from blueprints.http import ALL_METHODS, inbound, to_response
from shared.bootstrap import get_bridge
from shared.inbound.intake import receive
from shared.sources.fig import SOURCE as FIG

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions


@blueprint.function_name("fig_webhook")
@blueprint.route(
    route="fig/{event}", methods=list(ALL_METHODS), auth_level=func.AuthLevel.ANONYMOUS
)
async def fig_webhook(req: func.HttpRequest) -> func.HttpResponse:
    """Receive one Fig webhook; 202 once Sentinel accepted it."""
    reply = await receive(FIG, req.route_params.get("event", ""), inbound(req), get_bridge)
    return to_response(reply)
