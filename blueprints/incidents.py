"""Incident forwarding's triggers: the poller timer, SIGNL4's callback, destination admin.

- ``incident_poller``: timer on ``%INCIDENT_POLL_SCHEDULE%`` (the host resolves the app
  setting itself, so it must exist; default ``0 */5 * * * *``): one poll.
- ``signl4_callback``: ``POST /api/signl4/{token}``, anonymous at the Functions level (SIGNL4
  cannot send a function key); the token in Key Vault is the gate.
- ``destinations_list``: ``GET /api/ops/destinations`` (master key): each destination's
  breaker (enabled or disabled, failures in 12 h).
- ``destination_enable``: ``POST /api/ops/destinations/{name}/enable`` (master key).
"""

from __future__ import annotations

from datetime import UTC, datetime

import azure.functions as func

from blueprints.http import ALL_METHODS, answer
from shared.bootstrap import root
from shared.incidents.schedule import poll_if_configured

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions

OPS = "ops"


@blueprint.function_name("incident_poller")
@blueprint.timer_trigger(arg_name="timer", schedule="%INCIDENT_POLL_SCHEDULE%")
async def incident_poller(timer: func.TimerRequest) -> None:
    """List what changed in Sentinel and forward it; a settings problem is only logged."""
    await poll_if_configured(root().forwarder, now=datetime.now(UTC))


@blueprint.function_name("signl4_callback")
@blueprint.route(
    route="signl4/{token}", methods=list(ALL_METHODS), auth_level=func.AuthLevel.ANONYMOUS
)
async def signl4_callback(req: func.HttpRequest) -> func.HttpResponse:
    """SIGNL4's outbound webhook: acknowledge, close or annotate the incident."""
    return await answer(root().signl4_endpoint(req.route_params.get("token", "")), req)


@blueprint.function_name("destinations_list")
@blueprint.route(route="ops/destinations", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
async def destinations_list(req: func.HttpRequest) -> func.HttpResponse:
    """Each enabled destination's breaker."""
    ops = root().destination_ops()
    return await answer(root().ops_endpoint(OPS, frozenset({"GET"}), ops.list), req)


@blueprint.function_name("destination_enable")
@blueprint.route(
    route="ops/destinations/{name}/enable", methods=["POST"], auth_level=func.AuthLevel.ADMIN
)
async def destination_enable(req: func.HttpRequest) -> func.HttpResponse:
    """Re-enable a destination its breaker disabled."""
    enable = root().destination_ops().enable(req.route_params.get("name", ""))
    return await answer(root().ops_endpoint(OPS, frozenset({"POST"}), enable), req)
