"""The incident poller's timer run: one poll, or a log line while forwarding is off."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from shared.errors import ConfigError
from shared.incidents.fleet import IncidentFleet, poll_all
from shared.incidents.forward import Forwarder
from shared.incidents.poller import PollResult, poll

logger = logging.getLogger(__name__)


async def poll_if_configured(
    forwarder: Callable[[], Forwarder], *, now: datetime
) -> PollResult | None:
    """Poll once; a settings problem (shared, or incident forwarding's own) is only logged:
    the next tick tries again, and /api/health names the problem meanwhile."""
    try:
        built = forwarder()
    except ConfigError as error:
        logger.error("Incident poll skipped: %s", error)
        return None
    return await poll(built, now=now)


async def poll_sources_if_configured(
    fleet: Callable[[], IncidentFleet], *, now: datetime
) -> dict[str, PollResult] | None:
    """Poll every incident source once (``shared.incidents.fleet``); a settings problem is
    only logged, as in :func:`poll_if_configured`."""
    try:
        built = fleet()
    except ConfigError as error:
        logger.error("Incident poll skipped: %s", error)
        return None
    return await poll_all(built, now=now)
