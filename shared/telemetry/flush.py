"""When a process writes its counters: lazily, off the request path, at most every 30 s.

:meth:`Flusher.poke` is called on the request path after counting; it never blocks and
never raises, and it starts at most one background task. That task writes the pending
windows at once when a new window started (so the previous one is stored whole soon
after it ends), otherwise ``interval`` seconds after the last write, and keeps writing
every ``interval`` seconds until nothing is pending. The bridge health timer calls
:meth:`Flusher.flush` directly before it reads the table.

Totals are absolute per window, so a write can be repeated and a failed one is simply
made again later. A window that could not be written for ``MAX_FLUSH_AGE`` is dropped
with a warning rather than written after it may have been reported and cleaned up.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Protocol

from shared.errors import UpstreamUnavailable
from shared.telemetry.metrics import Counters, WindowCounts, utc_now

logger = logging.getLogger(__name__)

FLUSH_INTERVAL_SECONDS = 30.0
MAX_FLUSH_AGE = timedelta(minutes=45)
"""Totals of a window older than this are dropped, not written: it may be reported."""


def _window_name(start: datetime) -> str:
    return start.strftime("%Y-%m-%dT%H:%M:%SZ")


class CountsWriter(Protocol):
    """Stores one process's totals for one window."""

    async def write(self, instance_id: str, window: WindowCounts) -> None:
        """Replace the stored totals (raises ``UpstreamUnavailable``)."""
        ...


class Flusher:
    """Writes a process's pending windows: lazily, at most every ``interval`` seconds.

    Args:
        counters: this process's counters.
        writer: the table (``HealthTable``).
        interval: seconds between writes while counts keep coming.
        monotonic: seconds clock for the interval.
        sleep: how to wait (``asyncio.sleep``).
        clock: aware "now", to find windows too old to write.
    """

    def __init__(
        self,
        counters: Counters,
        writer: CountsWriter,
        *,
        interval: float = FLUSH_INTERVAL_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.counters = counters
        self._writer = writer
        self._interval = interval
        self._monotonic = monotonic
        self._sleep = sleep
        self._clock = clock
        self._last_flush: float | None = None
        self._last_window: datetime | None = None
        self._task: asyncio.Task[None] | None = None
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def poke(self) -> None:
        """After counting: make sure a background write is due (never blocks or raises)."""
        if self._task is not None and not self._task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not in a coroutine: the next poke or the timer writes it
            return
        delay = 0.0
        if self._last_flush is not None and self._last_window == self.counters.current_window():
            delay = max(0.0, self._last_flush + self._interval - self._monotonic())
        self._task = loop.create_task(self._run(delay))

    async def flush(self) -> int:
        """Write every pending window now; return how many were written.

        Windows older than ``MAX_FLUSH_AGE`` are dropped with a warning instead.

        Raises:
            UpstreamUnavailable: storage did not accept one; it and later ones stay pending.
        """
        async with self._flush_lock():
            self._last_flush = self._monotonic()
            self._last_window = self.counters.current_window()
            written = 0
            oldest = self._clock() - MAX_FLUSH_AGE
            for window in self.counters.pending():
                if window.end < oldest:
                    logger.warning(
                        "Health counts of window %s dropped: not stored in time",
                        _window_name(window.start),
                    )
                    self.counters.drop(window.start)
                    continue
                await self._writer.write(self.counters.instance_id, window)
                self.counters.mark_flushed(window)
                written += 1
            return written

    async def wait(self) -> None:
        """Wait for the background write, if one is running (tests, shutdown)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def close(self) -> None:
        """Stop the background write, if one is running."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self, delay: float) -> None:
        if delay > 0:
            await self._sleep(delay)
        while True:
            try:
                await self.flush()
            except UpstreamUnavailable as error:  # logged; retried after the interval
                logger.warning("Health counts not stored yet (%s)", error.message)
            except Exception:  # a background task must not die silently
                logger.exception("Health counts flush failed")
                return
            if not self.counters.pending():
                return
            await self._sleep(self._interval)

    def _flush_lock(self) -> asyncio.Lock:
        # One flush at a time, or an older snapshot could overwrite a newer one.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]
