"""The destination routes' handlers (``/api/ops/destinations...``, master key only).

- ``GET /api/ops/destinations``: each enabled destination's breaker (enabled or
  disabled, deliveries and failures in 12 h);
- ``POST /api/ops/destinations/{name}/enable``: re-enable one its breaker disabled.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from shared.errors import NotFound
from shared.inbound.pipeline import Reply
from shared.inbound.request import InboundRequest
from shared.incidents.forward import Forwarder
from shared.incidents.poller import destinations


@dataclass(frozen=True)
class DestinationOps:
    """The destination routes over the incident forwarder (built on first use)."""

    forwarder: Callable[[], Forwarder]

    async def list(self, request: InboundRequest) -> Reply:
        """Each enabled destination's breaker."""
        forwarder = self.forwarder()
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
        return Reply(200, {"destinations": found})

    def enable(self, name: str) -> Callable[[InboundRequest], Awaitable[Reply]]:
        """The handler re-enabling destination ``name``."""

        async def run(request: InboundRequest) -> Reply:
            forwarder = self.forwarder()
            if name not in await destinations(forwarder):
                raise NotFound("No such destination.")
            await forwarder.enable(name, now=datetime.now(UTC))
            return Reply(200, {"name": name, "disabled": False})

        return run
