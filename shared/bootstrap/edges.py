"""What the blueprints call: one object per trigger, built from the root's capabilities.

The blueprints import only this (through ``shared.bootstrap``) and the request pipeline:
they hand a request to an endpoint from here, or a timer tick or queue message to a
runner from here, and map the result. Building an endpoint reads no setting; the
pipeline's checks do, in their order (``shared.inbound.pipeline``).
"""

from __future__ import annotations

from datetime import datetime

from shared.bootstrap.root import Root
from shared.cases.receive import CaseEndpoint, Endpoint
from shared.inbound.intake import SourceEndpoint
from shared.inbound.pipeline import OpsEndpoint, Reply
from shared.inbound.request import InboundRequest
from shared.incidents.signl4_callback import Signl4Endpoint
from shared.sources import elastic_alerts, fig, ingest, wallarm
from shared.sources.base import SourceRoute

OPS = "ops"
_GET, _POST = frozenset({"GET"}), frozenset({"POST"})
_SOURCES: dict[str, SourceRoute] = {
    fig.SOURCE_NAME: fig.ROUTE,
    wallarm.SOURCE_NAME: wallarm.ROUTE,
    elastic_alerts.SOURCE_NAME: elastic_alerts.ROUTE,
}


class Edges:
    """The endpoints and trigger runners over one root."""

    def __init__(self, root: Root) -> None:
        """Take the root whose capabilities the edges use."""
        self.root = root

    # --- HTTP ---------------------------------------------------------------------------

    def source(self, name: str, route: str = "") -> SourceEndpoint:
        """A source's URL: ``fig`` (route: the event), ``wallarm``, ``elastic``, or
        ``ingest`` (route: the source name in ``/api/ingest/{source}``)."""
        route_info = ingest.route_of(route) if name == ingest.FAMILY else _SOURCES[name]
        return SourceEndpoint(
            route_info,
            route,
            lambda: self.root.sources().for_route(route_info, route),
            self.root.intake_deps,
        )

    def case(self, kind: str, incident: str = "") -> CaseEndpoint:
        """A Kibana case URL: ``cases`` (create), ``case`` (get, update) or ``comment``."""
        return CaseEndpoint(Endpoint[kind.upper()], incident, self.root.case_deps)

    def signl4(self, token: str) -> Signl4Endpoint:
        """``/api/signl4/{token}``."""
        root = self.root
        return Signl4Endpoint(token, root.incident_fleet, lambda: root.settings().max_body_bytes)

    def health(self) -> OpsEndpoint:
        """``GET /api/health``: 200 when every check passes, else 503."""
        from shared.diagnostics.health import run_health

        async def run(request: InboundRequest) -> Reply:
            report = await run_health(self.root.health_deps)
            return Reply(200 if report.healthy else 503, report.as_json())

        return OpsEndpoint("health", _GET, run)

    def dead_letters(self, action: str) -> OpsEndpoint:
        """``/api/ops/dead-letters``: ``list``, ``item`` or ``replay``."""
        from shared.retrying.ops import DeadLetterOps

        ops = DeadLetterOps(self.root.retry_storage)
        runs = {"list": (_GET, ops.list), "item": (_GET, ops.item), "replay": (_POST, ops.replay)}
        methods, run = runs[action]
        return OpsEndpoint(OPS, methods, run)

    def destinations(self, enable: str | None = None) -> OpsEndpoint:
        """``/api/ops/destinations``, or ``.../{enable}/enable`` to re-enable one."""
        from shared.incidents.ops import DestinationOps

        ops = DestinationOps(self.root.forwarder, self.root.incident_fleet)
        if enable is None:
            return OpsEndpoint(OPS, _GET, ops.list)
        return OpsEndpoint(OPS, _POST, ops.enable(enable))

    # --- timers and queues --------------------------------------------------------------

    async def poll_incidents(self, now: datetime) -> None:
        """One poll of every incident source (logged and skipped while forwarding is
        misconfigured; a source with problems is skipped alone)."""
        from shared.incidents.schedule import poll_sources_if_configured

        await poll_sources_if_configured(self.root.incident_fleet, now=now)

    async def retry_message(
        self, text: str, *, message_id: str, dequeue_count: int, now: datetime
    ) -> None:
        """One retry-queue message (raises only when storage failed under it)."""
        from shared.retrying.receive import handle_message

        root = self.root
        await handle_message(
            text,
            root.retry_deps(),
            root.telemetry(),
            now=now,
            rng=root.rng,
            message_id=message_id,
            dequeue_count=dequeue_count,
        )

    async def report_bridge_health(self, now: datetime) -> None:
        """One BridgeHealth_CL report."""
        from shared.telemetry.bridge_health import run_bridge_health

        await run_bridge_health(self.root.bridge_health(), now=now)
