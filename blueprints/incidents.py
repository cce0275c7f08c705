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

import logging
from datetime import UTC, datetime

import azure.functions as func

from blueprints.http import ALL_METHODS, inbound, to_response
from shared.bootstrap import get_bridge
from shared.errors import BridgeError, ConfigError
from shared.inbound.intake import Reply, error_reply
from shared.incidents.poller import destinations, poll
from shared.incidents.signl4_callback import receive_signl4
from shared.incidents.wiring import get_forwarder

logger = logging.getLogger(__name__)

blueprint = func.Blueprint()  # type: ignore[no-untyped-call]  # untyped in azure-functions
_EDGE = "destinations"


@blueprint.function_name("incident_poller")
@blueprint.timer_trigger(arg_name="timer", schedule="%INCIDENT_POLL_SCHEDULE%")
async def incident_poller(timer: func.TimerRequest) -> None:
    """List what changed in Sentinel and forward it; a settings problem is only logged."""
    try:
        forwarder = get_forwarder()
    except ConfigError as error:
        logger.error("Incident poll skipped: %s", error)
        return
    await poll(forwarder, now=datetime.now(UTC))


@blueprint.function_name("signl4_callback")
@blueprint.route(
    route="signl4/{token}", methods=list(ALL_METHODS), auth_level=func.AuthLevel.ANONYMOUS
)
async def signl4_callback(req: func.HttpRequest) -> func.HttpResponse:
    """SIGNL4's outbound webhook: acknowledge, close or annotate the incident."""
    token = req.route_params.get("token", "")
    reply = await receive_signl4(
        token,
        inbound(req),
        get_forwarder,
        max_body_bytes=lambda: get_bridge().settings.max_body_bytes,
    )
    return to_response(reply)


@blueprint.function_name("destinations_list")
@blueprint.route(route="ops/destinations", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
async def destinations_list(req: func.HttpRequest) -> func.HttpResponse:
    """Each enabled destination's breaker."""
    try:
        forwarder = get_forwarder()
        now = datetime.now(UTC)
        found = []
        for name in await destinations(forwarder):
            breaker = await forwarder.state.breaker(name)
            delivered, failed = breaker.totals(now)
            found.append(
                {
                    "name": name,
                    "disabled": breaker.disabled,
                    "disabledAt": breaker.disabled_at.isoformat() if breaker.disabled_at else None,
                    "delivered12h": delivered,
                    "failed12h": failed,
                }
            )
    except BridgeError as error:
        return to_response(error_reply(error, source=_EDGE))
    return to_response(Reply(200, {"destinations": found}))


@blueprint.function_name("destination_enable")
@blueprint.route(
    route="ops/destinations/{name}/enable", methods=["POST"], auth_level=func.AuthLevel.ADMIN
)
async def destination_enable(req: func.HttpRequest) -> func.HttpResponse:
    """Re-enable a destination its breaker disabled."""
    name = req.route_params.get("name", "")
    try:
        forwarder = get_forwarder()
        if name not in await destinations(forwarder):
            body = {"error": {"code": "NotFound", "message": "No such destination."}}
            return to_response(Reply(404, body))
        await forwarder.enable(name, now=datetime.now(UTC))
    except BridgeError as error:
        return to_response(error_reply(error, source=_EDGE))
    return to_response(Reply(200, {"name": name, "disabled": False}))
