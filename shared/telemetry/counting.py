"""What the services count for ``BridgeHealth_CL``: one place that maps outcomes to counters.

Counting is cheap and never fails a request; ``Flusher.poke`` writes the counts out in
the background (see ``shared.telemetry.flush``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.telemetry import metrics

if TYPE_CHECKING:
    from shared.bootstrap import Bridge
    from shared.retrying.worker import RetryOutcome


def record_reply(bridge: Bridge, source: str, status: int, error_code: str | None) -> None:
    """A webhook was answered: received, and rejected by reason when it was refused."""
    bridge.counters.count(source, metrics.RECEIVED)
    if status >= 400 and error_code is not None:
        bridge.counters.count(source, metrics.rejected(error_code))
    _poke(bridge)


def record_rows(
    bridge: Bridge, source: str, *, accepted: int, queued: int, dead_lettered: int, skipped: int
) -> None:
    """Where an accepted webhook's rows went."""
    for counter, n in (
        (metrics.ACCEPTED, accepted),
        (metrics.QUEUED, queued),
        (metrics.DEAD_LETTERED, dead_lettered),
        (metrics.SKIPPED, skipped),
    ):
        bridge.counters.count(source, counter, n)


def record_retry(bridge: Bridge, outcome: RetryOutcome) -> None:
    """What one retry-queue message came to."""
    from shared.retrying.worker import Result

    source = outcome.source or "unknown"
    if outcome.result is Result.DELIVERED:
        bridge.counters.count(source, metrics.DELIVERED, outcome.rows)
        bridge.counters.count(source, metrics.DELIVERED_LATE, outcome.late_rows)
    elif outcome.result is Result.DEAD_LETTERED:
        bridge.counters.count(source, metrics.DEAD_LETTERED, outcome.rows)
    elif outcome.result is Result.UNREADABLE:
        bridge.counters.count("retry-queue", metrics.DEAD_LETTERED, kind="bridge")
    _poke(bridge)


def _poke(bridge: Bridge) -> None:
    if bridge.flusher is not None:
        bridge.flusher.poke()
