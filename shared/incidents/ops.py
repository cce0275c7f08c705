"""The destination routes' handlers (``/api/ops/destinations...``, master key only).

- ``GET /api/ops/destinations``: each enabled destination's breaker (enabled or
  disabled, deliveries and failures in 12 h), per incident source (``source``);
- ``POST /api/ops/destinations/{name}/enable``: re-enable one its breaker disabled;
  ``<source>:<name>`` for a source other than ``default`` (each source has its own breakers).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.config.incidents import DEFAULT_SOURCE
from shared.errors import NotFound
from shared.inbound.pipeline import Reply
from shared.inbound.request import InboundRequest
from shared.incidents.fleet import IncidentFleet
from shared.incidents.forward import Forwarder
from shared.incidents.poller import destinations


@dataclass(frozen=True)
class DestinationOps:
    """The destination routes over the incident forwarders (built on first use)."""

    forwarder: Callable[[], Forwarder]
    fleet: Callable[[], IncidentFleet] | None = None

    def _forwarders(self) -> dict[str, Forwarder]:
        if self.fleet is not None:
            forwarders = dict(self.fleet().forwarders)
            if forwarders:
                return forwarders
        return {DEFAULT_SOURCE: self.forwarder()}

    async def list(self, request: InboundRequest) -> Reply:
        """Each enabled destination's breaker, per source."""
        now = datetime.now(UTC)
        found = []
        for source_id, forwarder in self._forwarders().items():
            for name in await destinations(forwarder):
                breaker = await forwarder.state.breaker(name)
                delivered, failed = breaker.totals(now)
                disabled_at = breaker.disabled_at.isoformat() if breaker.disabled_at else None
                found.append(
                    {
                        "name": name if source_id == DEFAULT_SOURCE else f"{source_id}:{name}",
                        "source": source_id,
                        "disabled": breaker.disabled,
                        "disabledAt": disabled_at,
                        "delivered12h": delivered,
                        "failed12h": failed,
                    }
                )
        return Reply(200, {"destinations": found})

    def enable(self, name: str) -> Callable[[InboundRequest], Awaitable[Reply]]:
        """The handler re-enabling destination ``name`` (``<source>:<name>`` for a source
        other than ``default``)."""

        async def run(request: InboundRequest) -> Reply:
            source_id, colon, destination = name.rpartition(":")
            forwarder = self._forwarders().get(source_id if colon else DEFAULT_SOURCE)
            if forwarder is None or destination not in await destinations(forwarder):
                raise NotFound("No such destination.")
            await forwarder.enable(destination, now=datetime.now(UTC))
            return Reply(200, {"name": name, "disabled": False})

        return run
