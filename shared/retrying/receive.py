"""The retry queue trigger's run: one message delivered, counted and logged."""

from __future__ import annotations

import logging
import random
from datetime import datetime

from shared.retrying.deps import RetryDeps, RetryOutcome
from shared.retrying.worker import deliver_message
from shared.telemetry.counting import Telemetry, record_retry

logger = logging.getLogger(__name__)


async def handle_message(
    text: str,
    deps: RetryDeps,
    telemetry: Telemetry,
    *,
    now: datetime,
    rng: random.Random,
    message_id: str,
    dequeue_count: int,
) -> RetryOutcome:
    """Deliver one retry envelope and count what became of it.

    Raises:
        UpstreamUnavailable: storage failed under it; the host redelivers the message.
    """
    outcome = await deliver_message(text, deps, now=now, rng=rng)
    record_retry(telemetry, outcome)
    logger.info(
        "Retry message %s (dequeue %s): %s", message_id, dequeue_count, outcome.result.value
    )
    return outcome
