"""What the services count for ``BridgeHealth_CL``: one place that maps outcomes to counters.

Counting is cheap and never fails a request; ``Telemetry.poke`` asks the flusher to write
the counts out in the background (see ``shared.telemetry.flush``). The counters belong to
the composition root, so replies are counted even while the settings are broken.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from shared.retrying.deps import Result, RetryOutcome
from shared.telemetry import metrics


@dataclass(frozen=True)
class Telemetry:
    """The process's counters, and how to ask for them to be written out."""

    counters: metrics.Counters
    poke: Callable[[], None]


def record_reply(telemetry: Telemetry, source: str, status: int, error_code: str | None) -> None:
    """A request was answered: received, and rejected by reason when it was refused."""
    counts = {metrics.RECEIVED: 1}
    if status >= 400 and error_code is not None:
        counts[metrics.rejected(error_code)] = 1
    telemetry.counters.count_each(source, counts)
    telemetry.poke()


def record_test(telemetry: Telemetry, source: str) -> None:
    """A sender's test delivery was answered (counted in BridgeHealth_CL's Tests)."""
    telemetry.counters.count(source, metrics.TEST)


def record_rows(
    telemetry: Telemetry,
    source: str,
    *,
    accepted: int,
    queued: int,
    dead_lettered: int,
    skipped: int,
) -> None:
    """Where an accepted webhook's rows went."""
    telemetry.counters.count_each(
        source,
        {
            metrics.ACCEPTED: accepted,
            metrics.QUEUED: queued,
            metrics.DEAD_LETTERED: dead_lettered,
            metrics.SKIPPED: skipped,
        },
    )


def record_retry(telemetry: Telemetry, outcome: RetryOutcome) -> None:
    """What one retry-queue message came to."""
    counters = telemetry.counters
    source = outcome.source or "unknown"
    if outcome.result is Result.DELIVERED:
        counters.count(source, metrics.DELIVERED, outcome.rows)
        counters.count(source, metrics.DELIVERED_LATE, outcome.late_rows)
    elif outcome.result is Result.DEAD_LETTERED:
        counters.count(source, metrics.DEAD_LETTERED, outcome.rows)
    elif outcome.result is Result.UNREADABLE:
        counters.count("retry-queue", metrics.DEAD_LETTERED, kind="bridge")
    telemetry.poke()
