"""The bridge health report: every process's counters, summed per window, into BridgeHealth_CL.

Each process writes its own totals per 5-minute window to Table storage (one entity per
window and process, see ``shared.adapters.health_table``). Every 5 minutes the timer:

1. flushes its own process's counters;
2. reads the windows that ended at least ``SETTLE`` ago (so every process had time to
   flush), the most recent one always included, even when nothing happened: its
   ``bridge`` row is the heartbeat;
3. skips windows already reported with the same totals (a marker entity per window holds
   a fingerprint of what was reported), so a re-run sends nothing twice;
4. sends one row per source and destination and one ``bridge`` row per window (the
   retry queue depth, dead-letter count and oldest queued age on the newest window);
5. only then marks the windows reported, and deletes reported windows older than
   ``KEEP_REPORTED``. If the send fails, nothing is marked: the next run sends them.

Rows of one window always carry the same ``EventId``. A window whose totals changed after
it was reported (a process flushed late) is sent again, whole, with a later
``ReportedTime``: ``summarize arg_max(ReportedTime, *) by EventId`` gives each window once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from shared.config.platform import DEFAULT_BRIDGE_NAME
from shared.errors import IngestionFailed, UpstreamUnavailable
from shared.ports import RowSink
from shared.telemetry.metrics import WINDOW, window_start
from shared.telemetry.rows import Gauges, ReportMarker, StoredWindow, row_schema, window_rows

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

SCHEDULE = "30 1-59/5 * * * *"
"""NCRONTAB: 90 s after each window ends (xx:01:30, xx:06:30, ...)."""
SETTLE = timedelta(seconds=60)
"""How long after a window ends its totals are read: processes flush within 30 s."""
KEEP_REPORTED = timedelta(hours=1)
"""Reported windows are kept this long, so a late flush is summed with the rest."""
MAX_WINDOWS_PER_RUN = 48


class HealthStore(Protocol):
    """Where the processes' window totals are kept (Table storage in Azure)."""

    async def windows(self, *, before: datetime) -> list[StoredWindow]:
        """Every stored window starting before ``before``, oldest first."""
        ...

    async def mark_reported(self, start: datetime, marker: ReportMarker) -> None:
        """Record that window ``start`` was reported as ``marker`` says."""
        ...

    async def delete_window(self, window: StoredWindow) -> None:
        """Delete window ``window`` (its totals and its marker)."""
        ...


class CountsFlusher(Protocol):
    """Writes this process's pending counters to the store."""

    async def flush(self) -> int:
        """Write every pending window now; return how many were written."""
        ...


class QueueGauges(Protocol):
    """The retry queue's depth and age (``StorageRetryQueue``)."""

    async def depth(self) -> int:
        """Approximate message count."""
        ...

    async def oldest_age_seconds(self, now: datetime) -> float | None:
        """Age of the oldest visible message; None when there is none."""
        ...


class DeadLetterGauges(Protocol):
    """How many dead letters are kept (``BlobDeadLetters``)."""

    async def count(self) -> int:
        """The number of dead letters."""
        ...


@dataclass(frozen=True)
class BridgeHealthWiring:
    """What the timer writes with (built by the composition root), and the app's name."""

    sink: RowSink
    health_table: HealthStore
    flusher: CountsFlusher
    retry_queue: QueueGauges
    dead_letters: DeadLetterGauges
    bridge_name: str = DEFAULT_BRIDGE_NAME


@dataclass(frozen=True)
class RunResult:
    """What one timer run did."""

    windows: int
    rows: int
    sent: bool
    deleted: int


async def run_bridge_health(wiring: BridgeHealthWiring, *, now: datetime) -> RunResult:
    """One timer run (see the module docstring).

    Raises:
        UpstreamUnavailable: the stored windows cannot be read; the next run tries again.
    """
    try:
        await wiring.flusher.flush()
    except UpstreamUnavailable as error:  # its windows wait for the next run
        logger.warning("Bridge health: own counters not flushed (%s)", error.message)
    return await report_windows(
        wiring.health_table,
        wiring.sink,
        gauges=lambda: sample_gauges(wiring.retry_queue, wiring.dead_letters, now),
        now=now,
        bridge_name=wiring.bridge_name,
    )


async def report_windows(
    store: HealthStore,
    sink: RowSink,
    *,
    gauges: Callable[[], Awaitable[Gauges]],
    now: datetime,
    bridge_name: str,
) -> RunResult:
    """Report the settled windows not yet reported with their current totals."""
    cutoff = window_start(now - SETTLE)
    newest = cutoff - WINDOW
    stored = {window.start: window for window in await store.windows(before=cutoff)}
    stored.setdefault(newest, StoredWindow(newest, {}))
    due = [w for _, w in sorted(stored.items()) if not w.reported][:MAX_WINDOWS_PER_RUN]
    markers: dict[datetime, ReportMarker] = {}
    rows: list[dict[str, Any]] = []
    for window in due:
        if window.marker is not None:
            sampled = window.marker.gauges
        else:
            sampled = await gauges() if window.start == newest else Gauges()
        markers[window.start] = ReportMarker(window.fingerprint, now, sampled)
        rows += window_rows(window, bridge=bridge_name, gauges=sampled, reported_at=now)
    schema = row_schema()
    if rows:
        try:
            await sink.send(schema.stream, rows)
        except IngestionFailed as error:
            logger.warning(
                "Bridge health: %d row(s) for %d window(s) not sent (status %s); next run retries",
                len(rows),
                len(due),
                error.status,
            )
            return RunResult(windows=len(due), rows=len(rows), sent=False, deleted=0)
    for start, marker in markers.items():
        await store.mark_reported(start, marker)
        stored[start] = StoredWindow(start, stored[start].writers, marker)
    deleted = await _delete_old(store, stored.values(), now)
    logger.info("Bridge health: %d row(s) for %d window(s) sent", len(rows), len(due))
    return RunResult(windows=len(due), rows=len(rows), sent=bool(rows), deleted=deleted)


async def _delete_old(store: HealthStore, windows: Iterable[StoredWindow], now: datetime) -> int:
    deleted = 0
    for window in windows:
        if window.reported and window.start + WINDOW < now - KEEP_REPORTED:
            try:
                await store.delete_window(window)
            except UpstreamUnavailable as error:
                logger.warning("Bridge health: old window not deleted (%s)", error.message)
                continue
            deleted += 1
    return deleted


async def sample_gauges(
    queue: QueueGauges, dead_letters: DeadLetterGauges, now: datetime
) -> Gauges:
    """Read the queue depth, dead-letter count and oldest queued age; None where unreadable."""
    depth, age, dead = await asyncio.gather(
        _read("retry queue depth", queue.depth()),
        _read("oldest queued age", queue.oldest_age_seconds(now)),
        _read("dead-letter count", dead_letters.count()),
    )
    return Gauges(queue_depth=depth, dead_letter_count=dead, oldest_queued_age_seconds=age)


async def _read(what: str, pending: Awaitable[_T]) -> _T | None:
    try:
        return await pending
    except UpstreamUnavailable as error:
        logger.warning("Bridge health: %s not read (%s)", what, error.message)
        return None


async def health_summary(
    queue: QueueGauges, dead_letters: DeadLetterGauges, *, now: datetime
) -> dict[str, Any]:
    """For ``GET /api/health``: the retry queue's depth and age, and the dead-letter count.

    A value that cannot be read is ``null``; the log says why.
    """
    gauges = await sample_gauges(queue, dead_letters, now)
    return {
        "retryQueue": {
            "depth": gauges.queue_depth,
            "oldestQueuedAgeSeconds": gauges.oldest_queued_age_seconds,
        },
        "deadLetters": {"count": gauges.dead_letter_count},
    }
