"""The incident poller's timer run: every source polled once, or a log line while forwarding
is off."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from shared.errors import ConfigError
from shared.incidents.fleet import IncidentFleet, poll_all
from shared.incidents.poller import PollResult

logger = logging.getLogger(__name__)


async def poll_sources_if_configured(
    fleet: Callable[[], IncidentFleet], *, now: datetime
) -> dict[str, PollResult] | None:
    """Poll every incident source once (``shared.incidents.fleet``); a settings problem
    (shared, or incident forwarding's own) is only logged: the next tick tries again, and
    /api/health names the problem meanwhile."""
    try:
        built = fleet()
    except ConfigError as error:
        logger.error("Incident poll skipped: %s", error)
        return None
    return await poll_all(built, now=now)
